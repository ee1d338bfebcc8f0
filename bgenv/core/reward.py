"""Reward terms. Weights come from the scenario's ``reward`` section (configs/defaults.yaml,
where each weight's reason is given); their unit is the price of 1 % of a full battery.

The reward pays only for what the app's user gets, and prices everything background
activity costs them, so no strategy profits from activity that produces nothing a user gets:

reward = work_value × value_per_unit × units of sync, upload and heavy work saved in a background window
       + work_value × value_per_unit × units of content (refresh) shown to the user
       + fresh_open at each app open that finds the latest content, − stale_open when it does not
       − battery_per_pct × % of a full battery drawn by background work off the charger
       − battery_per_pct_on_charger × % of a full battery of background energy drawn on the charger
       − wake_up × launches of the app into a background window (alarm and push deliveries too)
       − penalties for expirations, kills, missed soft deadlines, throttled or refused requests,
         notifications shown for background work, and actions that make no sense in their state.

Why each term:

* Sync, upload and heavy work pay when a chunk is saved (``reward_work``): the user's edits and
  the uploads have reached the server, the heavy work is done on the device, whether or not
  anyone opens the app.
* Content pays when the user sees it (``content_fetched``, ``reward_open``). Units fetched in a
  background window wait, unpaid, in ``S_CONTENT_UNSEEN`` and are paid at the next app open;
  content fetched while the app is on screen is shown, and paid, at once. A fetch of newer
  content replaces unseen content of an older one, which is then worth nothing, and so is
  content still unseen when the episode ends (metrics ``content_shown_units``,
  ``content_unseen_units``). The same content is never fetched twice: a refresh item gathers
  everything published until it is fetched. The foreground refresh at an app open earns no
  background value.
* Freshness at an open: the user reads the latest content without waiting for it.
* Battery off the charger, 1 per %: battery the user loses (``info["cost"]`` and the
  ``battery_cost`` metric count it, and only it).
* Energy on the charger, a tenth of that: no battery is lost, but the work heats the phone,
  slows its charging and wears a battery held at high charge. The platforms steer deferrable
  work to the charger (Android waives job quotas there, PLATFORM_FACTS row 9; iOS processing
  tasks may require external power, row 40), so it must be far cheaper there, but not free
  (metric ``energy_on_charger``).
* Every wake-up: a launch spends ``battery.window_wake_pct`` of energy, priced as above, plus
  ``wake_up`` on and off the charger for what the energy model does not book (the radio's tail
  after a transfer, the process start, the device held out of idle) and because the platforms
  count wake-ups against an app (Android vitals' excessive wake-ups; iOS launch budgets, rows
  45, 46). A dropped push launches nothing and pays no ``wake_up``.
* Penalties: an expiration loses the chunk in flight and degrades scheduling (row 43); a kill
  is worse (rows 43, 49); a missed soft deadline is work the user got late; a throttled or
  refused request asks for what the platform will not give; a notification interrupts the user;
  a senseless action is a no-op (shaping only).

Not a reward term but part of the same principle: the OS's hidden trust in the app
(``scheduler.history_event``) rises only with windows that saved work.

Each term is added to ``sf[S_REWARD]`` as it happens; the env returns the sum since the
previous step.
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
