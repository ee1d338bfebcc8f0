"""Reward audit: wasteful strategies, each paired against a reference on the same seeds.

The principle of bgenv's reward (``bgenv/core/reward.py``): no strategy may profit from
activity that gives a user nothing. This module holds the laziest, most wasteful
strategies we know, written with the public API only (observation names, action labels
through ``ActionTable``, the action masks), and ``bgenv audit`` measures each against its
reference on held-out seeds (paired: both meet the same user weeks), with 95 % CIs:

* polling for content with nobody ever opening the app, against never asking;
* iOS: a refresh-only app plus silent pushes that do no work, against refresh-only
  (do the pushes buy refresh windows or fewer early expiries?);
* Android: ``guidelines`` plus an alarm re-armed every 60 s / 300 s, against ``guidelines``
  (with and without the exact-alarm permission);
* Android: ``guidelines`` plus a flood of job windows on the charger, against ``guidelines``;
* the laziest strategy (never ask for anything) and the naive hand-written policies
  (``random``, ``fixed-interval``, ``charging-only``, ``greedy``), against ``guidelines``;
* background transfers (env v1, rows 71-81): iOS ``guidelines`` plus a background transfer
  asked for every minute whether or not there is anything to send, and ``guidelines`` with
  its transfers allowed on cellular (not waiting for Wi-Fi); Android ``guidelines`` plus a
  user-initiated job at every app close whether or not there is anything to upload; and
  iOS ``guidelines`` without background transfers (its uploads only in its own windows).

A strategy that loses (paired difference below zero, CI included) is priced; one that wins
is a hole in the reward. ``tests/agents/test_reward_principle.py`` asserts the same on
fewer seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.evaluate import EpisodeResults, evaluate, mean_ci
from agents.policies import F, GuidelinesPolicy
from bgenv.envs.actions import ActionTable
from bgenv.envs.vector import BackgroundSchedulingVectorEnv

SEED = 10_000  # held-out seeds, as in bgenv eval
LAZY = ("random", "fixed-interval", "charging-only", "greedy")  # hand-written naive policies
NO_OPENS = {"user": {"app_opens_per_hour": [0.0] * 24}}  # nobody ever opens the app


def action_table(scenario: str, **overrides) -> ActionTable:
    platform = "ios" if scenario.startswith("ios") else "android"
    env = BackgroundSchedulingVectorEnv(1, platform=platform, scenario=scenario, record_events=False, **overrides)
    table = ActionTable.from_env(env)
    env.close()
    return table


def paired(a, b, scenario: str, episodes: int, days: float, metric: str = "episode_reward", **overrides):
    """``metric`` of policy ``a`` minus that of ``b`` per seed (seeds SEED...), and b's values."""
    ra = evaluate(a, scenario, episodes, SEED, horizon_days=days, **overrides)
    rb = evaluate(b, scenario, episodes, SEED, horizon_days=days, **overrides)
    return ra.values(metric) - rb.values(metric), rb.values(metric), ra, rb


class Wrapper:
    """A policy built on another: ``edit`` changes its batch of actions ``[N, 4]``."""

    def __init__(self, base, name: str) -> None:
        self.base = base
        self.name = name

    def act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        a = np.asarray(self.base.act(obs, mask))
        single = a.ndim == 1
        out = self.edit(np.atleast_2d(np.asarray(obs)), np.atleast_2d(a).copy())
        return out[0] if single else out

    def edit(self, obs: np.ndarray, a: np.ndarray) -> np.ndarray:
        return a


class Never(Wrapper):
    """Never asks for anything; reports completion at once in any window."""

    def __init__(self, table: ActionTable) -> None:
        super().__init__(GuidelinesPolicy(table), "never")

    def edit(self, obs, a):
        return np.zeros_like(a)


class Poller:
    """Keeps the content request (iOS app refresh, Android job with network) pending at the
    shortest delay and fetches content in every window that has some; nothing else."""

    name = "poller"

    def __init__(self, table: ActionTable) -> None:
        self.table = table
        self.opt = table.option("refresh" if table.platform == "ios" else "job+network")
        self.pending = F[f"pending_slot{table.slot(self.opt)}"]
        self.kind = table.kind("refresh")
        self.kind_col = int(sum(table.nvec[:3])) + self.kind  # the work-kind choice in the mask
        self.chunk = table.chunk(5.0)

    def act(self, obs, mask=None):
        obs = np.atleast_2d(obs)
        mask = np.atleast_2d(mask)
        out = np.zeros((len(obs), 4), dtype=np.int64)
        out[obs[:, self.pending] < 0.5, 0] = self.opt  # delay bin 0: the shortest
        fetch = mask[:, self.kind_col]  # content is workable now (inside a window only)
        out[fetch, 2] = self.chunk
        out[fetch, 3] = self.kind
        return out


class WithoutRequests(Wrapper):
    """``base`` with the requests of some option labels dropped."""

    def __init__(self, base, table: ActionTable, labels: tuple[str, ...], name: str) -> None:
        super().__init__(base, name)
        self.drop = [table.option(x) for x in labels]

    def edit(self, obs, a):
        a[np.isin(a[:, 0], self.drop), :2] = 0
        return a


class EmptyPushes(Wrapper):
    """``base`` plus a silent push kept coming (re-requested whenever none is pending and
    ``base`` asks nothing) whose windows do no work: completion is reported at once."""

    def __init__(self, base, table: ActionTable) -> None:
        super().__init__(base, base.name + "+empty-pushes")
        self.push = table.option("push")

    def edit(self, obs, a):
        in_push = obs[:, F["window_push"]] > 0.5
        a[in_push, 2:] = 0
        ask = (obs[:, F["pending_slot3"]] < 0.5) & (a[:, 0] == 0)
        a[ask, 0] = self.push
        a[ask, 1] = 0
        return a


class AlarmChain(Wrapper):
    """``guidelines`` plus an alarm re-armed ``period_s`` out whenever none is pending and
    ``guidelines`` asks nothing (it works in the alarm's windows as in any other)."""

    def __init__(self, table: ActionTable, period_s: float) -> None:
        super().__init__(GuidelinesPolicy(table), f"guidelines+alarm-{period_s:g}s")
        self.alarm = table.option("alarm")
        self.delay = table.delay(period_s)

    def edit(self, obs, a):
        arm = (obs[:, F["pending_slot4"]] < 0.5) & (a[:, 0] == 0)
        a[arm, 0] = self.alarm
        a[arm, 1] = self.delay
        return a


class ChargerFlood(Wrapper):
    """``guidelines`` plus, on the charger, a job that requires power resubmitted 60 s out at
    every decision (in place of guidelines' hourly catch-up job): hundreds of extra job
    windows a night, which find little or nothing to do. Android only: iOS keeps one pending
    request per task identifier and a resubmission only resets its timer, so no flood can be
    built from processing requests there (measured: no extra windows); iOS pushes are
    covered by ``EmptyPushes``."""

    def __init__(self, table: ActionTable) -> None:
        super().__init__(GuidelinesPolicy(table), "guidelines+charger-flood")
        self.job = table.option("job+power")
        self.delay = table.delay(60.0)

    def edit(self, obs, a):
        flood = (obs[:, F["charging"]] > 0.5) & ((a[:, 0] == 0) | (a[:, 0] == self.job))
        a[flood, 0] = self.job
        a[flood, 1] = self.delay
        return a


class TransferEveryMinute(Wrapper):
    """iOS: ``guidelines`` plus a background transfer asked for at every decision where
    ``guidelines`` asks nothing, 60 s out, with or without uploads to send: each one, even
    empty, relaunches the app when done (row 72)."""

    def __init__(self, table: ActionTable) -> None:
        super().__init__(GuidelinesPolicy(table), "guidelines+transfer-every-minute")
        self.transfer = table.option("transfer")
        self.delay = table.delay(60.0)

    def edit(self, obs, a):
        ask = a[:, 0] == 0
        a[ask, 0] = self.transfer
        a[ask, 1] = self.delay
        return a


class CellularTransfers(GuidelinesPolicy):
    """iOS: ``guidelines`` whose background transfers may use cellular (allowsExpensiveNetworkAccess
    = YES) instead of waiting for Wi-Fi."""

    name = "guidelines+cellular-transfers"
    TRANSFER_OPTION = "transfer"


class WithoutTransfers(GuidelinesPolicy):
    """``guidelines`` as it was before background transfers: uploads only in chunks of its
    own windows (the reference the transfer rules of ``guidelines`` were kept against)."""

    name = "guidelines-without-transfers"
    USE_TRANSFERS = False


class UidtEveryClose(Wrapper):
    """Android: ``guidelines`` plus a user-initiated data transfer job at every app close,
    whether or not there is anything to upload (each shows a notification, row 80)."""

    def __init__(self, table: ActionTable) -> None:
        super().__init__(GuidelinesPolicy(table), "guidelines+uidt-every-close")
        self.uidt = table.option("uidt+network")

    def edit(self, obs, a):
        leaving = obs[:, F["phase_background"]] > 0.5
        a[leaving, 0] = self.uidt
        a[leaving, 1] = 0
        return a


@dataclass
class Finding:
    """One strategy against its reference: paired difference of a metric, 95 % CI."""

    strategy: str
    reference: str
    scenario: str
    metric: str
    mean: float
    half: float
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.metric != "episode_reward":
            return ""
        return (
            "loses" if self.mean + self.half < 0.0 else ("wins: a hole" if self.mean - self.half > 0.0 else "unclear")
        )


def _finding(
    a: EpisodeResults, b: EpisodeResults, scenario: str, metric: str = "episode_reward", note: str = ""
) -> Finding:
    m, h = mean_ci(a.values(metric) - b.values(metric))
    return Finding(a.policy, b.policy, scenario, metric, m, h, note)


def audit(episodes: int = 64, seed: int = SEED, days: float = 7.0) -> list[Finding]:
    """Run every strategy against its reference on ``episodes`` seeds from ``seed``."""
    out: list[Finding] = []
    run = lambda p, sc, **ov: evaluate(p, sc, episodes, seed, horizon_days=days, **ov)  # noqa: E731
    for sc in ("android_commuter", "ios_commuter"):
        t = action_table(sc, **NO_OPENS)
        poll, never = run(Poller(t), sc, **NO_OPENS), run(Never(t), sc, **NO_OPENS)
        unseen = float(np.mean(poll.values("content_unseen_units")))
        out.append(_finding(poll, never, sc, note=f"nobody opens the app; {unseen:.0f} units fetched, never shown"))
    t = action_table("ios_commuter")
    refresh_only = WithoutRequests(
        GuidelinesPolicy(t), t, ("push", "processing+power", "transfer+wifi"), "refresh-only"
    )
    a, b = run(EmptyPushes(refresh_only, t), "ios_commuter"), run(refresh_only, "ios_commuter")
    out.append(_finding(a, b, "ios_commuter"))
    out.append(_finding(a, b, "ios_commuter", "windows_refresh", "trust: refresh windows a week"))
    out.append(_finding(a, b, "ios_commuter", "expirations", "trust: early expiries a week"))
    for grant in (False, True):
        ov = {"profile": {"android": {"exact_alarm_permission": True}}} if grant else {}
        t = action_table("android_commuter", **ov)
        g = run("guidelines", "android_commuter", **ov)
        for period in (60.0, 300.0):
            chain = run(AlarmChain(t, period), "android_commuter", **ov)
            alarms = float(np.mean(chain.values("windows_alarm")))
            perm = "exact-alarm permission granted" if grant else "no exact-alarm permission (default)"
            out.append(_finding(chain, g, "android_commuter", note=f"{perm}; {alarms:.0f} alarms a run"))
    for sc in ("android_commuter", "ios_commuter"):
        t = action_table(sc)
        g = run("guidelines", sc)
        if t.platform == "android":
            flood = run(ChargerFlood(t), sc)
            extra = float(np.mean(flood.values("windows_job") - g.values("windows_job")))
            out.append(_finding(flood, g, sc, note=f"{extra:.0f} extra job windows a run"))
        # the laziest strategies and the naive hand-written ones
        for lazy in (Never(t), *LAZY):
            out.append(_finding(run(lazy, sc), g, sc, note="lazy or naive"))
        # background transfers (rows 71-81): guidelines without them (iOS; Android's
        # guidelines uses none), then the wasteful ones
        if t.platform == "ios":
            old = run(WithoutTransfers(t), sc)
            out.append(_finding(old, g, sc, note="uploads only in the app's own windows (guidelines before transfers)"))
            chain = run(TransferEveryMinute(t), sc)
            extra = float(np.mean(chain.values("windows_transfer") - g.values("windows_transfer")))
            out.append(_finding(chain, g, sc, note=f"{extra:.0f} extra relaunches a run"))
            cell = run(CellularTransfers(t), sc)
            more = 100.0 * float(np.mean(cell.values("battery_cost") - g.values("battery_cost")))
            out.append(_finding(cell, g, sc, note=f"uploads on cellular, not waiting for Wi-Fi; {more:+.2f} % battery"))
        else:
            spam = run(UidtEveryClose(t), sc)
            extra = float(np.mean(spam.values("windows_uidt") - g.values("windows_uidt")))
            out.append(_finding(spam, g, sc, note=f"{extra:.0f} extra user-initiated jobs a run"))
    return out


def report(findings: list[Finding]) -> str:
    """The findings as a text table."""
    rows = [("strategy", "reference", "scenario", "metric", "paired difference", "verdict", "note")]
    for f in findings:
        rows.append((f.strategy, f.reference, f.scenario, f.metric, f"{f.mean:+.1f} ± {f.half:.1f}", f.verdict, f.note))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
