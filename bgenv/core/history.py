"""The app's *own* recent history, which it can observe (unlike the OS's hidden score):
counts of windows, completions, expirations, kills and failed chunks, decayed with a
one-day time constant so they read as "per recent day"."""

from __future__ import annotations

import math

from bgenv.core.jit import kjit
from bgenv.core.layout import S_RECENT, S_RECENT_T, S_T

R_WINDOWS = 0
R_COMPLETES = 1
R_EXPIRATIONS = 2
R_KILLS = 3
R_FAILED = 4
NRECENT = 5
RECENT_TAU_S = 86400.0  # one day: a presentation choice for the observation, not a platform number


@kjit
def _decay(sf) -> None:
    dt = sf[S_T] - sf[S_RECENT_T]
    if dt > 0.0:
        f = math.exp(-dt / RECENT_TAU_S)
        for k in range(NRECENT):
            sf[S_RECENT + k] *= f
        sf[S_RECENT_T] = sf[S_T]


@kjit
def recent_add(sf, k: int) -> None:
    """Count one event of kind ``k`` (R_*) now."""
    _decay(sf)
    sf[S_RECENT + k] += 1.0


@kjit
def recent_value(sf, k: int) -> float:
    """Decayed count of kind ``k`` (R_*): events per recent day."""
    _decay(sf)
    return sf[S_RECENT + k]
