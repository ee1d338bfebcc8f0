"""Reward terms. Weights come from the scenario's ``reward`` section (configs/defaults.yaml).

reward = value of work saved in background windows
       + freshness bonus at each app open that finds fresh data − penalty when stale
       − battery weight × % of a full battery drawn by background work (not on the charger)
       − penalties for expirations, kills, missed soft deadlines, throttled or refused
         requests, and actions that make no sense in the current state.
Each term is added to ``sf[S_REWARD]`` as it happens; the env returns the sum since
the previous step.
"""

from __future__ import annotations

from bgenv.core.jit import kjit
from bgenv.core.layout import (
    M_REWARD,
    P_K_VALUE,
    P_W_BATTERY,
    P_W_DEADLINE,
    P_W_EXPIRE,
    P_W_FRESH,
    P_W_INVALID,
    P_W_KILL,
    P_W_NOTIFY,
    P_W_STALE,
    P_W_THROTTLE,
    P_W_VALUE,
    S_REWARD,
)


@kjit(inline="always")
def _add(sf, r: float) -> None:
    sf[S_REWARD] += r
    sf[M_REWARD] += r


@kjit
def reward_work(pf, sf, kind: int, units: float) -> None:
    """Work units of ``kind`` saved in a background window."""
    _add(sf, pf[P_W_VALUE] * pf[P_K_VALUE + kind] * units)


@kjit
def reward_open(pf, sf, fresh: bool) -> None:
    """An app open that found fresh (or stale) data."""
    _add(sf, pf[P_W_FRESH] if fresh else -pf[P_W_STALE])


@kjit
def reward_energy(pf, sf, battery_fraction: float) -> None:
    """Battery drawn by background work, in fraction of a full battery."""
    _add(sf, -pf[P_W_BATTERY] * 100.0 * battery_fraction)


@kjit
def reward_expire(pf, sf) -> None:
    """A window expired."""
    _add(sf, -pf[P_W_EXPIRE])


@kjit
def reward_kill(pf, sf) -> None:
    """The app was killed."""
    _add(sf, -pf[P_W_KILL])


@kjit
def reward_deadline(pf, sf) -> None:
    """An item passed its soft deadline."""
    _add(sf, -pf[P_W_DEADLINE])


@kjit
def reward_throttle(pf, sf) -> None:
    """A request was refused or held back by a quota or rate limit."""
    _add(sf, -pf[P_W_THROTTLE])


@kjit
def reward_invalid(pf, sf) -> None:
    """An action that made no sense in its state."""
    _add(sf, -pf[P_W_INVALID])


@kjit
def reward_notify(pf, sf) -> None:
    """A notification shown to the user for background work (push, foreground service)."""
    _add(sf, -pf[P_W_NOTIFY])
