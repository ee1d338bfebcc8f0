"""Replay of a recorded trace: the rules that let recorded channels drive a device.

The host (``bgenv.world``) points the device at one episode's window of a
:class:`bgenv.traces.Trace` in the trace pool ``tr`` (float64 rows: time in s since
midnight of day 0, channel code ``TR_*``, value; sorted by time) by setting ``I_TRACE``,
``I_TR_OFF``, ``I_TR_N``, ``I_TR_LN`` and ``I_TR_FORCE`` before the reset. Without a trace (``I_TRACE`` 0, the default) nothing here
runs and the synthetic world is untouched.

At reset (``initial_state``) the records up to the episode's start give the starting
state; the rest are applied one at a time by the ``EV_TRACE`` event (``kernel._trace_event``),
whose clock is the next record's time. A channel is *replayed* from a recorded value on
and synthetic again from a NaN record (not recorded from then on): bit ``TR_*`` of
``I_TR_ON``. While a channel is replayed the user model's drivers of it are off
(``blocks``; their hazard rates are zeroed in ``kernel.recompute``/``_hourly_rates``):

* ``screen_on``: the screen-on clock and the end of screen sessions. The app's opens,
  unless recorded, are conditioned on it: each recorded screen-on is an app open with the
  share the archetype's hour gives app opens among screen sessions (``app_share``).
* ``app_open``: the app-open clock and the app sessions' drawn ends.
* ``plugged``: bedtime charging, top-ups, daytime plug-ins and the planned unplug.
* ``network``: the network-change clock (short drops stay synthetic).
* ``low_power``: the Low Power Mode prompt and the always-on habit.
* ``temperature_c``: the thermal clock; the thermal state follows the recorded battery
  temperature (``thermal_of``).
* ``battery_level``: the first known level is the starting level; later samples are
  compared with the simulated level (``M_TR_GAP2``, ``M_TR_GAPN``), or set it
  (``I_TR_FORCE`` ``LEVEL_SET``), or set it less the app's background energy drawn off
  the charger that the charger has not put back yet (``LEVEL_ANCHORED``: ``M_BATTERY_COST``
  less ``S_TR_REPAID``, which grows at the phone's screen-off charge rate while it is
  plugged in, ``kernel._advance_time``; between samples only the app's background power
  moves the level, ``battery.battery_rate``: the recorded phone's own use is the record's).

* ``doze`` (Android with Doze on; ignored on iOS): the OS model's Doze follows the
  record through ``scheduler.doze_follow`` (light or deep idle entered, or Doze left, at
  the recorded change); ``doze_wake``/``doze_consider`` and the deep-Doze entry timer are
  off meanwhile, while ``doze_timer`` keeps scheduling the maintenance windows inside
  the recorded light or deep Doze. A NaN hands it back (``scheduler.doze_release``).

A phone whose simulated level runs empty unplugged (a recorded charger comes when the
recorded phone needed it, not when the simulated one does) shuts down until it is plugged
in (``kernel._shutdown``): no screen or app (recorded ones are not applied), no launches
or transfers, no drain, no decisions, no motion or synthetic network changes sensed and no
uploads made; at the plug-in it starts again (``kernel._boot``: idle timers from then, the
network of the hour).

The records live in one pool ``tr`` shared by the devices (a device reads its window from
row ``I_TR_OFF`` on: the batch entry points pass it that view), so a reset copies nothing.
The level samples cost no event: ``S_TR_LNEXT`` holds the next one's time and the event
loop compares the samples due before each event (``kernel._trace_levels``, without a
branch on whether one is due); the synthetic clocks a replayed channel blocks are one bit
each in ``I_TR_BLOCK`` (``block_mask``), tested once per event.
"""

from __future__ import annotations

import math

import numpy as np

from bgenv.core.jit import kjit
from bgenv.core.layout import (
    EV_APP_CLOSE,
    EV_APP_OPEN,
    EV_BEDTIME,
    EV_CHARGE_STOP,
    EV_DROP,
    EV_NET,
    EV_PLUGIN,
    EV_SCREEN_OFF,
    EV_SCREEN_ON,
    EV_THERMAL,
    EV_TOPUP,
    I_TR_N,
    I_TR_ON,
    NHZ,
    P_DOZE_ON,
    P_PLATFORM,
    P_REPLAY_NIGHT_H,
    P_TH_REPLAY_C,
    PLATFORM_ANDROID,
    S_EV,
    S_HZ_RATE,
    S_HZ_REM,
    S_RATE_APP,
    S_RATE_SCREEN,
    TR_APP,
    TR_NETWORK,
    TR_PLUGGED,
    TR_SCREEN,
    TR_TEMPERATURE,
)

INF = np.inf


@kjit(inline="always")
def replayed(si, ch: int) -> bool:
    """Channel ``ch`` (a ``TR_*`` code) is driven by the trace now."""
    return (si[I_TR_ON] >> ch) & 1 != 0


@kjit(inline="always")
def block_mask(on: int) -> int:
    """The event clocks (bit ``k`` for clock ``k``) that are synthetic drivers of the
    channels replayed now (``on``: the ``I_TR_ON`` bits); kept in ``I_TR_BLOCK`` whenever
    ``I_TR_ON`` changes, so the event loop tests one bit per event."""
    m = 0
    if on == 0:
        return m
    if (on >> TR_SCREEN) & 1 != 0:
        m |= (1 << EV_SCREEN_ON) | (1 << EV_SCREEN_OFF) | (1 << EV_APP_OPEN)
    if (on >> TR_APP) & 1 != 0:
        m |= (1 << EV_APP_OPEN) | (1 << EV_APP_CLOSE)
    if (on >> TR_PLUGGED) & 1 != 0:
        m |= (1 << EV_BEDTIME) | (1 << EV_TOPUP) | (1 << EV_CHARGE_STOP) | (1 << EV_PLUGIN)
    if (on >> TR_NETWORK) & 1 != 0:  # the record has the outages too: no synthetic drops on top
        m |= (1 << EV_NET) | (1 << EV_DROP)
    if (on >> TR_TEMPERATURE) & 1 != 0:
        m |= 1 << EV_THERMAL
    return m


@kjit(inline="always")
def doze_replays(pf) -> bool:
    """A recorded ``doze`` channel drives the device: Android with Doze on (on iOS, or
    with Doze off in the scenario, the channel is ignored)."""
    return pf[P_PLATFORM] == PLATFORM_ANDROID and pf[P_DOZE_ON] != 0.0


@kjit(inline="always")
def silence(sf, k: int) -> None:
    """Switch off event clock ``k`` (a blocked synthetic driver): a hazard clock gets rate
    0 and a fresh unit hazard for when its channel is synthetic again."""
    if k < NHZ:
        sf[S_HZ_RATE + k] = 0.0
        sf[S_HZ_REM + k] = 1.0
    sf[S_EV + k] = INF


@kjit(inline="always")
def app_share(sf) -> float:
    """Probability that a recorded screen-on is an open of this app: the archetype's app
    opens among all screen sessions at this hour (device's own rates; assumption: the
    user's mix of app and other use holds whatever the trace's number of sessions)."""
    a = sf[S_RATE_APP]
    s = sf[S_RATE_SCREEN]
    return a / (a + s) if a + s > 0.0 else 0.0


@kjit(inline="always")
def thermal_of(pf, temp_c: float) -> int:
    """The thermal state (``THERMAL_*`` code) of a battery temperature, °C (the scenario's
    ``thermal.replay_from_c``)."""
    level = 0
    for j in range(3):
        if temp_c >= pf[P_TH_REPLAY_C + j]:
            level += 1
    return level


@kjit
def next_change(si, tr, pos: int, ch: int, value: float) -> float:
    """Time of the first record of channel ``ch`` from ``pos`` on whose value is not
    ``value`` (NaN counts as a change); inf when none."""
    for r in range(pos, si[I_TR_N]):
        if int(tr[r, 1]) == ch and not (tr[r, 2] == value):
            return tr[r, 0]
    return INF


@kjit
def overnight(pf, t_start: float, t_end: float) -> bool:
    """A charge from ``t_start`` to ``t_end`` (s since midnight of day 0) spans the night
    (the scenario's ``battery.replay_overnight_hour``)."""
    x = math.floor(t_start / 86400.0) * 86400.0 + pf[P_REPLAY_NIGHT_H] * 3600.0
    if x <= t_start:
        x += 86400.0
    return x < t_end


@kjit
def first_after(si, tr, t0: float) -> int:
    """Index of the first record after ``t0`` (those up to ``t0`` give the starting state)."""
    n = si[I_TR_N]
    r = 0
    while r < n and tr[r, 0] <= t0:
        r += 1
    return r


@kjit
def initial_value(tr, end: int, ch: int) -> float:
    """The last value of channel ``ch`` among the first ``end`` records (NaN when none or
    not recorded)."""
    v = np.nan
    for r in range(end):
        if int(tr[r, 1]) == ch:
            v = tr[r, 2]
    return v


@kjit(inline="always")
def bit(ch: int) -> int:
    """The ``I_TR_ON`` bit of channel ``ch``."""
    return 1 << ch
