"""Background transfers: iOS background URLSession (rows 71-78) and Android user-initiated
data transfer jobs (rows 79-81), rule by rule on hand-built device state."""

from __future__ import annotations

import numpy as np
import pytest

from bgenv.core import layout as L
from bgenv.core.scheduler import launch_rate, submit_refusal
from bgenv.core.transfer import (
    TX_SLOT,
    transfer_event,
    transfer_force_quit,
    transfer_net,
    transfer_next,
    transfer_open,
    transfer_relaunched,
    transfer_submit,
)
from bgenv.core.workload import free_units, workable

T = 86400.0 + 10 * 3600.0


def _uploads(d, units: float) -> None:
    d.items[0, L.IT_ACTIVE] = 1.0
    d.items[0, L.IT_KIND] = L.KIND_UPLOAD
    d.items[0, L.IT_REM] = units
    d.items[0, L.IT_SIZE] = units
    d.items[0, L.IT_ARRIVE] = T - 600.0
    d.items[0, L.IT_DEADLINE] = T + 86400.0
    d.si[L.I_NITEMS] = 1
    d.si[L.I_ITEMS_HI] = 1


def _opt(d, label: str) -> int:
    from bgenv.core.params import compile_params

    return compile_params(d.sc).option_labels.index(label)


def _submit(d, label: str, delay: float = 0.0) -> None:
    transfer_submit(d.pf, d.sf, d.si, d.items, d.ev, _opt(d, label), delay)


@pytest.fixture
def ios(device):
    d = device("ios_commuter")
    _uploads(d, 30.0)
    return d


def test_a_transfer_takes_the_pending_uploads_out_of_the_chunks_reach(ios):
    d = ios
    d.sf[L.S_LAST_CLOSE] = T  # the user just left: created "in the foreground"
    _submit(d, "transfer")
    assert d.si[L.I_TX_ACTIVE] == 1 and d.si[L.I_TX_DISC] == 0
    assert d.sf[L.S_TX_UNITS] == 30.0
    assert d.sf[L.S_TX_WORK_S] == 2.0 + 30.0 * 1.5  # overhead + units x s/unit on Wi-Fi
    assert d.sf[L.S_TX_START] == T
    assert d.sf[L.S_TX_TIMEOUT] == T + 7 * 86400.0  # row 77
    # the units stay pending (work is conserved) but no chunk may take them
    assert free_units(d.sf, d.si, d.items, L.KIND_UPLOAD) == 0.0
    assert not workable(d.pf, d.sf, d.si, d.items, L.KIND_UPLOAD, True)
    # uploads that arrive later are free again, and a second request adds them
    d.items[0, L.IT_REM] = 40.0
    assert free_units(d.sf, d.si, d.items, L.KIND_UPLOAD) == 10.0
    _submit(d, "transfer+discretionary")
    assert d.sf[L.S_TX_UNITS] == 40.0 and d.si[L.I_TX_DISC] == 0  # one session: the flags stay


@pytest.mark.parametrize(
    ("label", "net", "charging", "runs_on"),
    [
        ("transfer", L.NET_WIFI, 0, L.NET_WIFI),
        ("transfer", L.NET_CELL, 0, L.NET_CELL),  # allowsExpensiveNetworkAccess by default
        ("transfer+wifi", L.NET_CELL, 0, L.NET_NONE),  # row 78
        ("transfer+wifi", L.NET_WIFI, 0, L.NET_WIFI),
        ("transfer+discretionary", L.NET_WIFI, 0, L.NET_NONE),  # row 74: waits for power
        ("transfer+discretionary", L.NET_CELL, 1, L.NET_NONE),  # ... and Wi-Fi
        ("transfer+discretionary", L.NET_WIFI, 1, L.NET_WIFI),
    ],
)
def test_network_and_power_rules(ios, label, net, charging, runs_on):
    d = ios
    d.sf[L.S_LAST_CLOSE] = T
    d.si[L.I_NET_BASE] = net
    d.si[L.I_CHARGING] = charging
    _submit(d, label)
    assert transfer_net(d.pf, d.sf, d.si) == runs_on


def test_background_transfers_are_discretionary_and_rate_limited(ios):
    d = ios  # the user left 50 min ago: a task created now is a background task
    d.sf[L.S_TX_DELAY] = 120.0
    _submit(d, "transfer", delay=60.0)
    assert d.si[L.I_TX_DISC] == 1  # row 74: always discretionary
    assert d.sf[L.S_TX_START] == T + 60.0 + 120.0  # earliest begin + the limiter's delay (row 75)
    d.si[L.I_CHARGING] = 1
    assert transfer_net(d.pf, d.sf, d.si) == L.NET_NONE  # not before its start
    assert transfer_next(d.pf, d.sf, d.si) == T + 180.0
    d.sf[L.S_T] = T + 180.0
    assert transfer_net(d.pf, d.sf, d.si) == L.NET_WIFI
    d.si[L.I_LOWPOWER] = 1
    assert transfer_net(d.pf, d.sf, d.si) == L.NET_NONE  # row 47: Low Power Mode pauses it


def test_resume_rate_limiter_doubles_per_relaunch_and_resets_at_foreground(ios):
    d = ios
    seen = []
    for _ in range(4):
        transfer_relaunched(d.pf, d.sf)
        seen.append(d.sf[L.S_TX_DELAY])
    assert seen == [60.0, 120.0, 240.0, 480.0]  # row 75
    transfer_open(d.sf)
    assert d.sf[L.S_TX_DELAY] == 0.0


def test_done_completes_the_units_pays_them_and_relaunches_the_app(ios):
    d = ios
    d.sf[L.S_LAST_CLOSE] = T
    _submit(d, "transfer")
    d.si[L.I_TX_NET] = L.NET_WIFI
    d.sf[L.S_TX_DONE_S] = d.sf[L.S_TX_WORK_S]
    transfer_event(d.pf, d.sf, d.si, d.items, d.reqs, d.rng, d.ev, d.tts)
    assert d.si[L.I_TX_ACTIVE] == 0 and d.sf[L.S_TX_UNITS] == 0.0
    assert d.items[0, L.IT_ACTIVE] == 0.0 and d.sf[L.M_COMPLETED_BG] == 30.0
    assert d.sf[L.S_REWARD] == pytest.approx(30.0 * 0.5)  # upload value per unit (defaults.yaml)
    assert d.sf[L.M_TX_DONE] == 1.0 and d.sf[L.M_TX_UNITS] == 30.0
    r = d.reqs[TX_SLOT]
    assert r[L.RQ_ACTIVE] == 1.0 and r[L.RQ_TYPE] == L.WT_TRANSFER and r[L.RQ_EARLIEST] == T  # row 72
    # the relaunch carries the units and the transfer's energy into the window (history)
    d.sf[L.S_TX_ENERGY] = 0.001
    transfer_relaunched(d.pf, d.sf)
    assert d.sf[L.S_WIN_UNITS] == 30.0 and d.sf[L.S_WIN_ENERGY] == 0.001


def test_an_app_on_screen_gets_the_completion_without_a_launch(ios):
    d = ios
    d.sf[L.S_LAST_CLOSE] = T
    _submit(d, "transfer")
    d.si[L.I_APP_FG] = 1
    d.si[L.I_TX_NET] = L.NET_WIFI
    d.sf[L.S_TX_DONE_S] = d.sf[L.S_TX_WORK_S]
    transfer_event(d.pf, d.sf, d.si, d.items, d.reqs, d.rng, d.ev, d.tts)
    assert d.sf[L.M_TX_DONE] == 1.0 and d.reqs[TX_SLOT, L.RQ_ACTIVE] == 0.0


def test_timeout_returns_the_units_and_relaunches(ios):
    d = ios
    d.sf[L.S_LAST_CLOSE] = T
    _submit(d, "transfer+wifi")
    d.si[L.I_NET_BASE] = L.NET_CELL  # never on Wi-Fi: it waits ...
    d.sf[L.S_T] = d.sf[L.S_TX_TIMEOUT]  # ... for 7 days (row 77)
    transfer_event(d.pf, d.sf, d.si, d.items, d.reqs, d.rng, d.ev, d.tts)
    assert d.si[L.I_TX_ACTIVE] == 0 and d.sf[L.M_TX_CANCELLED] == 1.0
    assert d.items[0, L.IT_REM] == 30.0 and free_units(d.sf, d.si, d.items, L.KIND_UPLOAD) == 30.0
    assert d.reqs[TX_SLOT, L.RQ_ACTIVE] == 1.0


def test_force_quit_cancels_with_no_relaunch(ios):
    d = ios
    _submit(d, "transfer")
    transfer_force_quit(d.sf, d.si, d.ev)  # row 73
    assert d.si[L.I_TX_ACTIVE] == 0 and d.sf[L.M_TX_CANCELLED] == 1.0
    assert d.reqs[TX_SLOT, L.RQ_ACTIVE] == 0.0
    assert free_units(d.sf, d.si, d.items, L.KIND_UPLOAD) == 30.0


# ---------------------------------------------------------------------------
# Android user-initiated data transfer jobs (rows 79-81)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("since_close", "delay", "permission", "reason"),
    [
        (0.0, 0.0, 1.0, L.REFUSE_NONE),  # scheduled as the user leaves: accepted
        (3000.0, 0.0, 1.0, L.REFUSE_BACKGROUND),  # row 79: RESULT_FAILURE outside the foreground
        (0.0, 60.0, 1.0, L.REFUSE_INVALID),  # "A user-initiated job cannot have a time delay"
        (0.0, 0.0, 0.0, L.REFUSE_PERMISSION),  # SecurityException without RUN_USER_INITIATED_JOBS
    ],
)
def test_uidt_submission_rules(device, since_close, delay, permission, reason):
    d = device("android_commuter")
    d.sf[L.S_LAST_CLOSE] = T - since_close
    d.pf[L.P_UIDT_PERMISSION] = permission
    assert submit_refusal(d.pf, d.sf, d.si, L.WT_UIDT, delay, 0.0) == reason


def test_uidt_runs_outside_quotas_and_doze(device):
    """Row 79: no quota or standby limits; JobStatus.canRunInDoze() for user-initiated jobs."""
    d = device("android_commuter")
    d.si[L.I_BUCKET] = L.BK_RESTRICTED  # out of quota, restricted, in deep Doze, Battery Saver on
    d.execution(T - 3000.0, T - 100.0, L.JK_JOB)
    d.si[L.I_DOZE] = L.DZ_DEEP_IDLE
    d.si[L.I_LOWPOWER] = 1
    d.request(TX_SLOT, L.WT_UIDT, net=True)
    rate, _, throttled = launch_rate(d.pf, d.ph, d.sf, d.si, d.reqs, d.jobs, TX_SLOT, d.hour)
    assert rate == pytest.approx(1.0) and not throttled  # 3600 per hour
    d.request(0, L.WT_JOB, net=True)
    assert launch_rate(d.pf, d.ph, d.sf, d.si, d.reqs, d.jobs, 0, d.hour)[0] == 0.0  # a job is held
    assert d.pf[L.P_WT_BUDGET + L.WT_UIDT] == 6 * 3600.0  # row 81


def test_reserved_units_are_exact_with_many_items(ios):
    d = ios
    _uploads(d, 0.0)
    d.items[:5, L.IT_ACTIVE] = 1.0
    d.items[:5, L.IT_KIND] = L.KIND_UPLOAD
    d.items[:5, L.IT_REM] = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    d.si[L.I_ITEMS_HI] = 5
    _submit(d, "transfer")
    assert d.sf[L.S_TX_UNITS] == 15.0
    d.items[5, :] = d.items[4, :]
    d.si[L.I_ITEMS_HI] = 6
    assert free_units(d.sf, d.si, d.items, L.KIND_UPLOAD) == 5.0
