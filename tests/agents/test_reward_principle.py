"""The reward pays only for what users get (issue "bgenv v1", section 1).

Each test pits a concrete strategy against a reference on the same seeds (paired: every
policy meets the same user weeks) and checks that activity which produces nothing a user
gets does not pay:

* (a) with nobody ever opening the app, polling for content earns less than never asking;
* (b) iOS: empty silent pushes earn no trust (no more refresh windows, no fewer early
  expiries for a refresh-only app that adds them);
* (c) Android: ``guidelines`` plus an alarm re-armed every 60 s or 300 s earns less than
  ``guidelines`` (the alarm is inexact without SCHEDULE_EXACT_ALARM, row 51, and every
  wake-up has a price);
* (d) Android: ``guidelines`` plus a flood of job windows on the charger earns less than
  ``guidelines`` (energy on the charger and wake-ups are priced);
* (e) background transfers: iOS ``guidelines`` plus a background transfer every minute
  (mostly empty, each relaunching the app) and Android ``guidelines`` plus a user-initiated
  job at every app close (each with a notification) earn less than ``guidelines``.

The strategies live in ``agents/audit.py`` (``bgenv audit`` measures them on 64 weeks);
they are written with the public API only: observation names, action labels
(``ActionTable``) and the action masks.
"""

from __future__ import annotations

import numpy as np
import pytest

from agents.audit import (
    NO_OPENS,
    AlarmChain,
    ChargerFlood,
    EmptyPushes,
    Never,
    Poller,
    TransferEveryMinute,
    UidtEveryClose,
    WithoutRequests,
)
from agents.audit import action_table as _table
from agents.audit import paired as _paired
from agents.evaluate import mean_ci
from agents.policies import GuidelinesPolicy


# --- (a) content nobody sees is worth nothing -----------------------------------------
@pytest.mark.parametrize(("scenario", "days"), [("android_commuter", 2.0), ("ios_commuter", 7.0)])
def test_polling_for_content_nobody_reads_earns_less_than_never_asking(scenario, days):
    table = _table(scenario, **NO_OPENS)
    d, _, poll, _ = _paired(Poller(table), Never(table), scenario, 16, days, **NO_OPENS)
    assert poll.values("windows_granted").sum() > 0  # it did fetch content ...
    assert poll.values("content_unseen_units").sum() > 0
    assert poll.values("content_shown_units").sum() == 0  # ... that nobody saw
    mean, half = mean_ci(d)
    assert mean + half < 0.0, f"polling {mean:+.1f} ± {half:.1f} a run against never asking"
    assert np.all(d <= 1e-9)  # and on every seed


# --- (b) iOS: empty silent pushes earn no trust ---------------------------------------
def test_ios_empty_silent_pushes_earn_no_refresh_windows_or_fewer_early_expiries():
    table = _table("ios_commuter")
    refresh_only = WithoutRequests(
        GuidelinesPolicy(table), table, ("push", "processing+power", "transfer+wifi"), "refresh-only"
    )
    with_pushes = EmptyPushes(refresh_only, table)
    d, base, pushed, plain = _paired(with_pushes, refresh_only, "ios_commuter", 64, 7.0, "windows_refresh")
    assert pushed.values("windows_push").mean() > 100  # many empty pushes a week ...
    # ... and no more refresh windows for them (before v1 they doubled: 18 -> 38 a week)
    mean, half = mean_ci(d)
    assert mean - half <= 0.0 and mean <= 0.1 * base.mean(), f"refresh windows {mean:+.2f} ± {half:.2f} a week"
    # nor fewer expiries (before v1: 3.9 -> 1.8 a week, 22 % -> 5 % of refresh windows)
    mean, half = mean_ci(pushed.values("expirations") - plain.values("expirations"))
    assert mean + half >= 0.0, f"expirations {mean:+.2f} ± {half:.2f} a week"
    # and the pushes cost what they spend
    r_mean, r_half = mean_ci(pushed.values("episode_reward") - plain.values("episode_reward"))
    assert r_mean + r_half < 0.0


# --- (c) Android: alarm chains lose to guidelines --------------------------------------
@pytest.mark.parametrize("period_s", [60.0, 300.0])
def test_android_alarm_chains_lose_to_guidelines(period_s):
    table = _table("android_commuter")
    d, _, chain, _ = _paired(AlarmChain(table, period_s), "guidelines", "android_commuter", 8, 2.0)
    assert chain.values("windows_alarm").mean() > 100  # the chain did run
    mean, half = mean_ci(d)
    assert mean + half < 0.0, f"alarm every {period_s:g} s: {mean:+.1f} ± {half:.1f} a run against guidelines"


# --- (d) Android: a job flood on the charger loses to guidelines ------------------------
def test_android_job_flood_on_the_charger_loses_to_guidelines():
    table = _table("android_commuter")
    d, _, flood, base = _paired(ChargerFlood(table), "guidelines", "android_commuter", 32, 7.0)
    extra = flood.values("windows_job") - base.values("windows_job")
    assert extra.mean() > 300  # hundreds of extra job windows a week, nearly all on the charger
    # off the charger the flood spends about what guidelines spends (the seeds' user worlds
    # drift apart once the flood shifts the OS's random draws, so compare the means)
    assert abs(flood.values("battery_cost").mean() - base.values("battery_cost").mean()) < 0.005
    mean, half = mean_ci(d)
    assert mean + half < 0.0, f"charger flood {mean:+.1f} ± {half:.1f} a week against guidelines"
    assert np.median(d) < 0.0


# --- (e) background transfers that send nothing lose to guidelines ---------------------
def test_ios_transfer_every_minute_loses_to_guidelines():
    table = _table("ios_commuter")
    d, _, chain, base = _paired(TransferEveryMinute(table), "guidelines", "ios_commuter", 64, 7.0)
    extra = chain.values("windows_transfer") - base.values("windows_transfer")
    assert extra.mean() > 20  # dozens of extra relaunches a week (the resume rate limiter slows the chain)
    mean, half = mean_ci(d)
    assert mean + half < 0.0, f"transfer every minute {mean:+.1f} ± {half:.1f} a week against guidelines"


def test_android_uidt_at_every_close_loses_to_guidelines():
    table = _table("android_commuter")
    d, _, spam, base = _paired(UidtEveryClose(table), "guidelines", "android_commuter", 16, 7.0)
    assert (spam.values("windows_uidt") - base.values("windows_uidt")).mean() > 30
    mean, half = mean_ci(d)
    assert mean + half < 0.0, f"uidt at every close {mean:+.1f} ± {half:.1f} a week against guidelines"


def test_bgenv_audit_prints_every_strategy_against_its_reference(capsys):
    from agents.cli import main

    assert main(["audit", "--episodes", "4", "--days", "1"]) == 0
    out = capsys.readouterr().out
    for name in (
        "poller",
        "refresh-only+empty-pushes",
        "guidelines+alarm-60s",
        "guidelines+charger-flood",
        "never",
        "greedy",
        "guidelines+transfer-every-minute",
        "guidelines+cellular-transfers",
        "guidelines+uidt-every-close",
        "guidelines-without-transfers",
    ):
        assert name in out
    # 2 pollers, empty pushes, 4 alarm chains, the flood, never + 4 naive policies on each
    # platform, the three background-transfer strategies and iOS guidelines without transfers
    assert out.count("episode_reward") == 8 + 2 * 5 + 3 + 1
