"""The app's side of requests and windows (``bgenv/core/windows.py``) on hand-built
state: what a launch costs and what the event log says of it."""

from __future__ import annotations

import pytest

from bgenv.core import layout as L
from bgenv.core.windows import grant_window

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
