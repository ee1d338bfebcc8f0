"""Replay of a recorded trace: the rules that let recorded channels drive a device.

The host (``bgenv.world``) writes one episode's window of a :class:`bgenv.traces.Trace`
into the device's trace buffer ``tr`` (float64 ``[n, NTRF]``: time in s since midnight of
day 0, channel code ``TR_*``, value; sorted by time) and sets ``I_TRACE``, ``I_TR_N`` and
``I_TR_FORCE`` before the reset. Without a trace (``I_TRACE`` 0, the default) nothing here
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
  (``I_TR_FORCE``).

Doze is not replayed (the OS model keeps its own).
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
    EV_NET,
    EV_PLUGIN,
    EV_SCREEN_OFF,
    EV_SCREEN_ON,
    EV_THERMAL,
    EV_TOPUP,
    I_TR_N,
    I_TR_ON,
    NHZ,
    P_REPLAY_NIGHT_H,
    P_TH_REPLAY_C,
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
def blocks(si, k: int) -> bool:
    """Event clock ``k`` is a synthetic driver of a channel the trace drives now."""
    on = si[I_TR_ON]
    if on == 0:
        return False
    screen = (on >> TR_SCREEN) & 1 != 0
    app = (on >> TR_APP) & 1 != 0
    if k == EV_SCREEN_ON or k == EV_SCREEN_OFF:
        return screen
    if k == EV_APP_OPEN:
        return screen or app
    if k == EV_APP_CLOSE:
        return app
    if k == EV_BEDTIME or k == EV_TOPUP or k == EV_CHARGE_STOP or k == EV_PLUGIN:
        return (on >> TR_PLUGGED) & 1 != 0
    if k == EV_NET:
        return (on >> TR_NETWORK) & 1 != 0
    if k == EV_THERMAL:
        return (on >> TR_TEMPERATURE) & 1 != 0
    return False


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
