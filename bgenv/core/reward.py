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
    KIND_REFRESH,
    M_CONTENT_REPLACED,
    M_CONTENT_SHOWN,
    M_REWARD,
    P_K_VALUE,
    P_W_BATTERY,
    P_W_CHARGER,
    P_W_DEADLINE,
    P_W_EXPIRE,
    P_W_FRESH,
    P_W_INVALID,
    P_W_KILL,
    P_W_NOTIFY,
    P_W_STALE,
    P_W_THROTTLE,
    P_W_VALUE,
    P_W_WAKE,
    S_CONTENT_ITEM,
    S_CONTENT_UNSEEN,
    S_REWARD,
)


@kjit(inline="always")
def _add(sf, r: float) -> None:
    sf[S_REWARD] += r
    sf[M_REWARD] += r


@kjit(inline="always")
def _value(pf, kind: int, units: float) -> float:
    return pf[P_W_VALUE] * pf[P_K_VALUE + kind] * units


@kjit
def reward_work(pf, sf, kind: int, units: float) -> None:
    """Work units of ``kind`` (sync, upload, heavy) saved in a background window: paid
    at once, the work has reached the server or is done on the device."""
    _add(sf, _value(pf, kind, units))


@kjit
def content_fetched(pf, sf, units: float, item: float, shown: bool) -> None:
    """``units`` of content of the refresh item that arrived at ``item`` (s, its
    identity) fetched in a background window. Shown at once when the user is in the app
    (``shown``); otherwise kept, unpaid, until the next app open. Unseen content of an
    older item is replaced by this fetch and is never paid."""
    if shown:
        sf[M_CONTENT_SHOWN] += units
        _add(sf, _value(pf, KIND_REFRESH, units))
        return
    if sf[S_CONTENT_ITEM] != item:
        sf[M_CONTENT_REPLACED] += sf[S_CONTENT_UNSEEN]
        sf[S_CONTENT_UNSEEN] = 0.0
        sf[S_CONTENT_ITEM] = item
    sf[S_CONTENT_UNSEEN] += units


@kjit
def reward_open(pf, sf, fresh: bool) -> None:
    """An app open: the content fetched in the background since the last open is shown
    and paid; a bonus (penalty) when the data found is fresh (stale)."""
    units = sf[S_CONTENT_UNSEEN]
    sf[M_CONTENT_SHOWN] += units
    sf[S_CONTENT_UNSEEN] = 0.0
    sf[S_CONTENT_ITEM] = -1.0
    _add(sf, _value(pf, KIND_REFRESH, units) + (pf[P_W_FRESH] if fresh else -pf[P_W_STALE]))


@kjit
def reward_energy(pf, sf, battery_fraction: float, charging: bool) -> None:
    """Background energy, in fraction of a full battery: drawn from the battery, or
    on the charger (priced at ``reward.battery_per_pct_on_charger``)."""
    w = pf[P_W_CHARGER] if charging else pf[P_W_BATTERY]
    _add(sf, -w * 100.0 * battery_fraction)


@kjit
def reward_wake(pf, sf) -> None:
    """The app was launched into a background window (an alarm or a push delivered too)."""
    _add(sf, -pf[P_W_WAKE])


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
