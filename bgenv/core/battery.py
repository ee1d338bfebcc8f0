"""Battery model: level in fraction of a full battery, rates in fraction per second.

Between events the level moves linearly at a rate set by the screen, the charger and
the background work in flight (USER_FACTS U12, U13; background CPU and radio power
are documented assumptions in ``configs/defaults.yaml``). Threshold crossings that
change behaviour (top-up plug-in, Low Power Mode prompt and switch-off, the 20 %
gate, optimised-charging hold, full) are scheduled as events, never polled.
"""

from __future__ import annotations

import numpy as np

from bgenv.core.jit import kjit
from bgenv.core.layout import (
    I_CHARGING,
    I_CHUNK_ACTIVE,
    I_CHUNK_KIND,
    I_CHUNK_NET,
    I_OVERNIGHT,
    I_SCREEN,
    NET_CELL,
    P_CHARGE_OFF,
    P_CHARGE_ON,
    P_CPU_DRAIN,
    P_DRAIN_OFF,
    P_DRAIN_ON,
    P_K_CPU,
    P_LOW_BATT,
    P_LPM_OFF_THR,
    P_LPM_ON_THR,
    P_OPT_CHARGING,
    P_OPT_FINISH_S,
    P_OPT_HOLD,
    P_PLUG_NOW_LEVEL,
    P_RADIO_CELL,
    P_RADIO_WIFI,
    S_BATT,
    S_CHARGE_PLAN_STOP,
    S_PLUG_THR,
    S_T,
)

EPS = 1e-9


@kjit(inline="always")
def background_power(pf, si) -> float:
    """Battery fraction per second drawn by the chunk in flight (0 when none)."""
    if si[I_CHUNK_ACTIVE] == 0:
        return 0.0
    k = si[I_CHUNK_KIND]
    p = pf[P_CPU_DRAIN] * pf[P_K_CPU + k]
    net = si[I_CHUNK_NET]
    if net == NET_CELL:
        p += pf[P_RADIO_CELL]
    elif net > 0:
        p += pf[P_RADIO_WIFI]
    return p


@kjit(inline="always")
def holding(pf, sf, si) -> bool:
    """True while optimised overnight charging holds the level (U16)."""
    if pf[P_OPT_CHARGING] == 0.0 or si[I_OVERNIGHT] == 0:
        return False
    return sf[S_T] < sf[S_CHARGE_PLAN_STOP] - pf[P_OPT_FINISH_S] and sf[S_BATT] >= pf[P_OPT_HOLD] - EPS


@kjit(inline="always")
def battery_rate(pf, sf, si, bg_power: float) -> float:
    """Signed level change, fraction per second."""
    screen = si[I_SCREEN] > 0
    if si[I_CHARGING]:
        if sf[S_BATT] >= 1.0 - EPS or holding(pf, sf, si):
            return 0.0
        r = pf[P_CHARGE_ON] if screen else pf[P_CHARGE_OFF]
        return r - bg_power
    r = pf[P_DRAIN_ON] if screen else pf[P_DRAIN_OFF]
    return -(r + bg_power)


@kjit(inline="always")
def _toward(x: float, lvl: float, down: bool, near: float) -> float:
    """``near`` updated with threshold ``x``: the largest ``x - lvl`` below the level
    (going down) or the smallest above it (going up), beyond ``EPS``."""
    if down:
        if x < lvl - EPS and x - lvl > near:
            return x - lvl
    elif x > lvl + EPS and x - lvl < near:
        return x - lvl
    return near


@kjit(inline="always")
def next_crossing(pf, sf, rate: float) -> float:
    """Time of the next behaviour threshold the level will cross (inf if none)."""
    if rate == 0.0:
        return np.inf
    lvl = sf[S_BATT]
    down = rate < 0.0
    # The nearest threshold on the way, then one division: a correctly rounded x/rate
    # is monotone in x, so this is bit for bit the least of the per-threshold times.
    near = -np.inf if down else np.inf
    near = _toward(pf[P_PLUG_NOW_LEVEL], lvl, down, near)
    near = _toward(sf[S_PLUG_THR], lvl, down, near)
    near = _toward(pf[P_LOW_BATT], lvl, down, near)
    near = _toward(pf[P_LPM_ON_THR], lvl, down, near)
    near = _toward(pf[P_LPM_OFF_THR], lvl, down, near)
    near = _toward(pf[P_OPT_HOLD], lvl, down, near)
    near = _toward(1.0, lvl, down, near)
    if near == np.inf or near == -np.inf:
        return np.inf
    return sf[S_T] + near / rate
