"""The phone and its user (``bgenv/core/device.py``) on hand-built state: charging
sessions and what the event log says of them (U15, U16)."""

from __future__ import annotations

from bgenv.core import layout as L
from bgenv.core.device import bedtime, start_charging


def logged(d) -> list[tuple[str, tuple[float, ...]]]:
    """The event records the device logged, as (kind name, payload)."""
    n = int(d.si[L.I_EV_N])
    return [(L.EVENT_SCHEMA[int(r[1])][0], tuple(float(x) for x in r[2:])) for r in d.ev[:n]]


def test_a_top_up_still_plugged_in_at_bedtime_becomes_the_overnight_charge(device):
    d = device("android_commuter")
    d.si[L.I_EV_ON] = 1
    d.sf[L.S_U_OVERNIGHT_P] = 1.0  # this user charges every night
    start_charging(d.pf, d.sf, d.si, d.ev, d.t + 7200.0, False)  # a 2-h top-up at 10:00
    assert logged(d) == [("charge_start", (0.5, 0.0, 7200.0, 0.0))]
    d.sf[L.S_T] = d.t + 3600.0  # bedtime comes while it charges (the hour is immaterial here)
    bedtime(d.pf, d.sf, d.si, d.rng, d.ev)
    assert d.si[L.I_CHARGING] == 1 and d.si[L.I_OVERNIGHT] == 1
    plan = d.sf[L.S_CHARGE_PLAN_STOP]
    assert plan > d.t + 7200.0  # now planned until the wake-up hour
    assert d.sf[L.S_EV + L.EV_CHARGE_STOP] == plan
    # the log says so: a charge_start, overnight, continued (no new plug-in)
    assert logged(d)[1:] == [("charge_start", (0.5, 1.0, plan - (d.t + 3600.0), 1.0))]
    bedtime(d.pf, d.sf, d.si, d.rng, d.ev)  # an overnight charge is not logged twice
    assert len(logged(d)) == 2
