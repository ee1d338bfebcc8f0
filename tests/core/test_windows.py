"""The app's side of requests and windows (``bgenv/core/windows.py``) on hand-built
state: what a launch costs and what the event log says of it."""

from __future__ import annotations

import pytest

from bgenv.core import layout as L
from bgenv.core.windows import end_window, grant_window

PUSH_SLOT = L.DEFAULT_SLOT["push"]
WAKE = 0.005 / 100.0  # window_wake_pct 0.005 % of a full battery (configs/defaults.yaml)


def logged(d) -> list[tuple[str, tuple[float, ...]]]:
    """The event records the device logged, as (kind name, payload)."""
    n = int(d.si[L.I_EV_N])
    return [(L.EVENT_SCHEMA[int(r[1])][0], tuple(float(x) for x in r[2:])) for r in d.ev[:n]]


@pytest.mark.parametrize("dropped", [False, True])
def test_a_launch_costs_the_wake_energy_a_lost_push_costs_nothing(device, dropped):
    d = device("ios_commuter")
    d.si[L.I_EV_ON] = 1
    d.pf[L.P_PUSH_DROP] = 1.0 if dropped else 0.0  # #45: no delivery guarantee
    d.request(PUSH_SLOT, L.WT_PUSH)
    phase = grant_window(d.pf, d.sf, d.si, d.reqs, d.jobs, d.rng, d.ev, PUSH_SLOT)
    assert d.reqs[PUSH_SLOT, L.RQ_ACTIVE] == 0.0
    if dropped:  # never delivered: the app is not launched
        assert phase == L.PH_NONE and d.si[L.I_WIN_ACTIVE] == 0
        assert d.sf[L.M_ENERGY] == 0.0 and d.sf[L.S_BATT] == 0.5
        assert logged(d) == [("refused", (float(L.WT_PUSH), float(L.REFUSE_DROPPED), 0.0, 0.0))]
    else:
        assert phase == L.PH_WINDOW and d.si[L.I_WIN_ACTIVE] == 1
        assert d.sf[L.M_ENERGY] == pytest.approx(WAKE) and d.sf[L.S_BATT] == pytest.approx(0.5 - WAKE)
        assert [k for k, _ in logged(d)] == ["grant"]


def test_android_retry_of_a_stopped_job_is_logged_as_the_oss_request(device):
    d = device("android_commuter")
    d.si[L.I_EV_ON] = 1
    d.window(L.WT_JOB, net=True)  # granted a minute ago from slot 0, second attempt (#17)
    d.si[L.I_WIN_SLOT] = 0
    d.si[L.I_BACKOFF_N] = 1
    end_window(d.pf, d.sf, d.si, d.reqs, d.jobs, d.rng, d.ev, L.END_EXPIRED)
    # rescheduled with backoff: attempt 2, exponential from 30 s: 60 s after the stop
    assert d.reqs[0, L.RQ_ACTIVE] == 1.0 and d.reqs[0, L.RQ_ATTEMPT] == 2.0
    assert d.reqs[0, L.RQ_EARLIEST] == d.t + 60.0
    assert logged(d) == [
        ("expire", (float(L.WT_JOB), float(L.END_EXPIRED), 0.0, 60.0)),
        ("retry", (float(L.WT_JOB), d.t + 60.0, 2.0, 0.0)),
    ]
    d.si[L.I_EV_N] = 0
    d.window(L.WT_JOB)  # the app had already replaced the job: no retry
    end_window(d.pf, d.sf, d.si, d.reqs, d.jobs, d.rng, d.ev, L.END_EXPIRED)
    assert [k for k, _ in logged(d)] == ["expire"]
