"""The reward's terms called on hand-built state (``conftest.device``): content is paid
when the user sees it, not when it is fetched; energy on the charger and wake-ups have a
price; only windows that saved work earn the OS's trust (``bgenv/core/reward.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from bgenv.core import layout as L
from bgenv.core.battery import spend
from bgenv.core.device import app_open
from bgenv.core.metrics import METRIC_NAMES, NMETRICS, write_metrics
from bgenv.core.windows import chunk_end, complete_window, grant_window, start_chunk
from bgenv.core.workload import add_item


def value_of(d, kind: str, units: float) -> float:
    """What ``units`` of work of ``kind`` are worth, from the config."""
    return d.sc.reward.work_value * getattr(d.sc.workload.kinds, kind).value_per_unit * units


def fetch(d, kind: int, units: float) -> float:
    """Run one saved chunk of ``units`` of ``kind`` in a window; returns the reward it paid."""
    before = d.sf[L.S_REWARD]
    assert start_chunk(d.pf, d.sf, d.si, d.items, d.reqs, d.rng, d.ev, units, kind)
    d.sf[L.S_T] = d.sf[L.S_EV + L.EV_CHUNK_END]
    assert chunk_end(d.pf, d.sf, d.si, d.items, d.reqs, d.jobs, d.rng, d.ev, d.tts) == L.PH_CHUNK
    return d.sf[L.S_REWARD] - before


def open_app(d) -> float:
    """The user opens the app; returns the reward the open paid."""
    before = d.sf[L.S_REWARD]
    app_open(d.pf, d.sf, d.si, d.items, d.rng, d.ev, d.tts)
    return d.sf[L.S_REWARD] - before


def metrics(d) -> dict[str, float]:
    out = np.full(NMETRICS, np.nan)
    write_metrics(d.sf, d.si, d.items, d.tts, np.empty(L.TTS_BUF), out)
    return dict(zip(METRIC_NAMES, out.tolist()))


@pytest.fixture
def job_window(device):
    """Android, in a job window with network, 5 units of new content to fetch."""
    d = device("android_commuter")
    d.window(L.WT_JOB, net=True)
    add_item(d.pf, d.sf, d.si, d.items, d.ev, L.KIND_REFRESH, 5.0)
    return d


def test_content_is_paid_at_the_next_open_not_at_the_fetch(job_window):
    d = job_window
    assert fetch(d, L.KIND_REFRESH, 5.0) == 0.0  # fetched in the background: nothing yet
    assert d.sf[L.S_CONTENT_UNSEEN] == 5.0
    # the user opens the app and sees it: its value, plus the fresh-data bonus
    assert open_app(d) == value_of(d, "refresh", 5.0) + d.sc.reward.fresh_open
    assert d.sf[L.S_CONTENT_UNSEEN] == 0.0
    assert open_app(d) == d.sc.reward.fresh_open  # shown once: a second open pays no content
    m = metrics(d)
    assert (m["content_shown_units"], m["content_unseen_units"]) == (5.0, 0.0)


def test_content_nobody_sees_is_worth_nothing(job_window):
    d = job_window
    fetch(d, L.KIND_REFRESH, 5.0)
    m = metrics(d)  # the episode ends here, with no open after the fetch
    assert m["episode_reward"] == 0.0
    assert (m["content_shown_units"], m["content_unseen_units"]) == (0.0, 5.0)


def test_a_fetch_replaced_by_a_later_one_before_anyone_saw_it_is_worth_nothing(job_window):
    d = job_window
    fetch(d, L.KIND_REFRESH, 2.0)  # part of the first content ...
    fetch(d, L.KIND_REFRESH, 3.0)  # ... and the rest: one fetch in two chunks
    d.sf[L.S_T] += 600.0
    add_item(d.pf, d.sf, d.si, d.items, d.ev, L.KIND_REFRESH, 5.0)  # newer content is published
    fetch(d, L.KIND_REFRESH, 5.0)  # the app fetches it: the first, unseen, is replaced
    assert open_app(d) == value_of(d, "refresh", 5.0) + d.sc.reward.fresh_open
    m = metrics(d)
    assert (m["content_shown_units"], m["content_unseen_units"]) == (5.0, 5.0)


def test_content_fetched_while_the_user_is_in_the_app_is_shown_at_once(job_window):
    d = job_window
    d.si[L.I_APP_FG] = 1  # Android jobs also run while the app is on screen
    assert fetch(d, L.KIND_REFRESH, 5.0) == value_of(d, "refresh", 5.0)
    assert d.sf[L.S_CONTENT_UNSEEN] == 0.0


def test_sync_work_is_paid_when_it_is_saved(job_window):
    d = job_window
    add_item(d.pf, d.sf, d.si, d.items, d.ev, L.KIND_SYNC, 2.0)
    assert fetch(d, L.KIND_SYNC, 2.0) == value_of(d, "sync", 2.0)  # it reached the server


def test_energy_on_the_charger_is_priced_lower_but_not_free(device):
    d = device("android_commuter")
    r = d.sc.reward
    assert 0.0 < r.battery_per_pct_on_charger < r.battery_per_pct
    d.si[L.I_CHARGING] = 1
    spend(d.pf, d.sf, d.si, 0.01)
    assert d.sf[L.S_REWARD] == -r.battery_per_pct_on_charger * 100.0 * 0.01
    assert (d.sf[L.M_BATTERY_COST], d.sf[L.S_COST], d.sf[L.M_ENERGY]) == (0.0, 0.0, 0.01)
    assert metrics(d)["energy_on_charger"] == 0.01


@pytest.mark.parametrize("charging", [0, 1])
def test_every_wake_up_has_a_price(device, charging):
    d = device("android_commuter")
    d.si[L.I_CHARGING] = charging
    d.request(0, L.WT_JOB)
    assert grant_window(d.pf, d.sf, d.si, d.reqs, d.jobs, d.rng, d.ev, 0) == L.PH_WINDOW
    # the launch's fixed price plus its wake energy (battery.window_wake_pct), priced on the
    # charger at the charger's rate
    r = d.sc.reward
    per_pct = r.battery_per_pct_on_charger if charging else r.battery_per_pct
    assert d.sf[L.S_REWARD] == pytest.approx(-(r.wake_up + per_pct * d.sc.battery.window_wake_pct), abs=1e-12)
    assert d.sf[L.S_REWARD] < -r.wake_up


@pytest.mark.parametrize(("units", "trust"), [(0.0, "falls"), (5.0, "rises")])
def test_ios_trust_rises_only_with_windows_that_saved_work(device, units, trust):
    d = device("ios_commuter")
    d.sf[L.S_HIST_B] = 0.5
    d.window(L.WT_PUSH)
    d.sf[L.S_WIN_UNITS] = units
    d.sf[L.S_WIN_ENERGY] = 1e-4  # the launch
    complete_window(d.pf, d.sf, d.si, d.jobs, d.ev, 0.0)
    h = d.sc.profile.history
    if trust == "rises":  # completion gain, then the energy
        b = 0.5 + h.completion_gain * 0.5
        assert d.sf[L.S_HIST_B] == b - h.energy_loss_per_battery * 1e-4 * b
    else:  # an empty window: the energy only
        assert d.sf[L.S_HIST_B] == 0.5 - h.energy_loss_per_battery * 1e-4 * 0.5
