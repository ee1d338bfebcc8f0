"""Battery model: level in fraction of a full battery, rates in fraction per second.

Everything about the level lives here:

* rates (``battery_rate``, ``background_power``): between events the level moves
  linearly at a rate set by the screen, the charger, Low Power Mode and the background
  work in flight (USER_FACTS U12, U13, U18: each device's own drain and charging speeds
  and Low Power Mode factors, drawn at reset by ``device.draw_device``; background CPU
  and radio power are documented assumptions in ``configs/defaults.yaml``); optimised
  overnight charging, where the device has it on, holds it (``holding``, U16);
* integration (``integrate``) from one event to the next, and the energy of background
  work (``spend``, ``wake_energy``), which is also the agent's battery cost;
* the behaviour thresholds, listed once in ``thresholds``: their crossings are
  scheduled as events (``next_crossing``), never polled, and handled by
  ``threshold_crossed`` (top-up plug-in, Low Power Mode prompt and switch-off); the
  end of an optimised-charging hold is an event too (``next_battery_event``).

The scheduler reads the level against its own gate (``low_battery_level``, the iOS
20 % rule) in ``scheduler.launch_rate``.
"""

from __future__ import annotations

import numpy as np

from bgenv.core.eventlog import log_event
from bgenv.core.jit import kjit
from bgenv.core.layout import (
    EV_TOPUP,
    EVK_LOW_POWER,
    I_CHARGING,
    I_CHUNK_ACTIVE,
    I_CHUNK_KIND,
    I_CHUNK_NET,
    I_LOWPOWER,
    I_OFF,
    I_OPT_CHARGING,
    I_OVERNIGHT,
    I_SCREEN,
    I_TR_FORCE,
    I_TR_ON,
    I_TX_NET,
    LEVEL_ANCHORED,
    M_BATT_MIN,
    M_BATTERY_COST,
    M_ENERGY,
    NET_CELL,
    P_CPU_DRAIN,
    P_K_CPU,
    P_LOW_BATT,
    P_LPM_OFF_THR,
    P_LPM_ON_THR,
    P_LPM_ON_THR2,
    P_OPT_FINISH_S,
    P_OPT_HOLD,
    P_PLUG_NOW_LEVEL,
    P_RADIO_CELL,
    P_RADIO_WIFI,
    P_TOPUP_DELAY_S,
    P_WAKE_ENERGY,
    S_BATT,
    S_BATT_RATE,
    S_CHARGE_OFF,
    S_CHARGE_ON,
    S_CHARGE_PLAN_STOP,
    S_COST,
    S_DRAIN_OFF,
    S_DRAIN_ON,
    S_EV,
    S_LPM_F_OFF,
    S_LPM_F_ON,
    S_PLUG_THR,
    S_T,
    S_TX_ENERGY,
    S_U_LPM_ACCEPT,
    S_WIN_ENERGY,
    TR_LOW_POWER,
)
from bgenv.core.reward import reward_energy
from bgenv.core.rng import SYS, expo, uniform

EPS = 1e-9  # levels closer than this count as equal (fraction)
AT_THRESHOLD = 1e-7  # a level this close to a threshold is at it (fraction)
FULL = 1.0


# ---------------------------------------------------------------------------
# Rates
# ---------------------------------------------------------------------------
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
def transfer_power(pf, si) -> float:
    """Battery fraction per second drawn by an iOS background transfer: the radio of the
    network it runs on, no CPU (the system's process does the work, row 71); 0 while it waits."""
    net = si[I_TX_NET]
    if net == NET_CELL:
        return pf[P_RADIO_CELL]
    if net > 0:
        return pf[P_RADIO_WIFI]
    return 0.0


@kjit(inline="always")
def holding(pf, sf, si) -> bool:
    """True while optimised overnight charging holds the level (U16)."""
    if si[I_OPT_CHARGING] == 0 or si[I_OVERNIGHT] == 0:
        return False
    return sf[S_T] < sf[S_CHARGE_PLAN_STOP] - pf[P_OPT_FINISH_S] and sf[S_BATT] >= pf[P_OPT_HOLD] - EPS


@kjit(inline="always")
def battery_rate(pf, sf, si, bg_power: float) -> float:
    """Signed level change, fraction per second, given the background power
    ``bg_power`` (fraction per second): the device's own charging speed or drain (U12,
    U13), the drain lowered in Low Power Mode (U18; the work it blocks is the
    scheduler's); none while the phone is shut down, its battery empty
    (``kernel._shutdown``). A replayed trace's anchored level (``LEVEL_ANCHORED``,
    ``replay.py``) is the recorded level less the app's energy: between samples only the
    app's background power moves it off the charger, and nothing on it (the samples bring
    the charge and what the charger has put back)."""
    if si[I_TR_FORCE] == LEVEL_ANCHORED:
        return 0.0 if si[I_CHARGING] != 0 or si[I_OFF] != 0 else -bg_power
    screen = si[I_SCREEN] > 0
    if si[I_CHARGING]:
        if sf[S_BATT] >= FULL - EPS or holding(pf, sf, si):
            return 0.0
        r = sf[S_CHARGE_ON] if screen else sf[S_CHARGE_OFF]
        return r - bg_power
    if si[I_OFF] != 0:
        return 0.0
    if screen:
        r = sf[S_DRAIN_ON] * (sf[S_LPM_F_ON] if si[I_LOWPOWER] != 0 else 1.0)
    else:
        r = sf[S_DRAIN_OFF] * (sf[S_LPM_F_OFF] if si[I_LOWPOWER] != 0 else 1.0)
    return -(r + bg_power)


# ---------------------------------------------------------------------------
# Integration and the energy of background work
# ---------------------------------------------------------------------------
@kjit(inline="always")
def integrate(sf, dt: float) -> None:
    """Move the level ``dt`` s at the current rate (clipped to 0..1) and keep the
    episode's lowest level."""
    sf[S_BATT] = min(1.0, max(0.0, sf[S_BATT] + sf[S_BATT_RATE] * dt))
    if sf[S_BATT] < sf[M_BATT_MIN]:
        sf[M_BATT_MIN] = sf[S_BATT]


@kjit(inline="always")
def _book(pf, sf, si, e: float) -> None:
    """Book ``e`` (fraction of a full battery) of background energy: the episode's energy
    and the reward (on the charger at its own, lower price); off the charger also as
    battery cost."""
    sf[M_ENERGY] += e
    charging = si[I_CHARGING] != 0
    if not charging:
        sf[M_BATTERY_COST] += e
        sf[S_COST] += e
    reward_energy(pf, sf, e, charging)


@kjit(inline="always")
def spend(pf, sf, si, e: float) -> None:
    """Account ``e`` (fraction of a full battery) of background energy to the running
    window (its total) and to the episode (``_book``)."""
    sf[S_WIN_ENERGY] += e
    _book(pf, sf, si, e)


@kjit(inline="always")
def spend_transfer(pf, sf, si, e: float) -> None:
    """Account ``e`` (fraction of a full battery) of a background transfer's energy, priced
    as all background energy (``_book``) but booked to the transfer, not to a window: the
    app's history sees it at the relaunch that follows (``S_TX_ENERGY``)."""
    sf[S_TX_ENERGY] += e
    _book(pf, sf, si, e)


@kjit
def wake_energy(pf, sf, si, rng, ev) -> None:
    """Launching the app for a window costs a burst of energy. The level drops at once,
    so every behaviour threshold it passes is handled as if crossed on the way down."""
    e = pf[P_WAKE_ENERGY]
    spend(pf, sf, si, e)
    if si[I_CHARGING] != 0 or e <= 0.0:
        return
    old = sf[S_BATT]
    new = max(0.0, old - e)
    plug_now, plug_thr, low_battery, lpm_on, lpm_on2, _, _, _ = thresholds(pf, sf)
    for x in (plug_now, plug_thr, low_battery, lpm_on, lpm_on2):
        if new < x <= old:
            sf[S_BATT] = x
            threshold_crossed(pf, sf, si, rng, ev, -1.0)
    sf[S_BATT] = new


# ---------------------------------------------------------------------------
# Behaviour thresholds
# ---------------------------------------------------------------------------
@kjit(inline="always")
def thresholds(pf, sf):
    """The levels at which behaviour changes, fraction of a full battery:

    * ``plug_now``: the user plugs in at once, the phone is about to die (falling);
    * ``plug_thr``: this episode's top-up threshold, U14 (falling);
    * ``low_battery``: the scheduler's low-battery gate, e.g. iOS 20 % (falling);
    * ``lpm_on``: the Low Power Mode / Battery Saver prompt, U17 (falling);
    * ``lpm_on2``: the second prompt (iOS at 10 %, U18; -1: none) (falling);
    * ``lpm_off``: Low Power Mode switches off while charging, U18 (rising);
    * ``opt_hold``: optimised overnight charging holds here, U16 (rising);
    * ``full``.

    The first five act when crossed downwards (``wake_energy`` handles a sudden drop
    past them), the last three upwards; ``next_crossing`` schedules all eight either way.
    """
    return (
        pf[P_PLUG_NOW_LEVEL],
        sf[S_PLUG_THR],
        pf[P_LOW_BATT],
        pf[P_LPM_ON_THR],
        pf[P_LPM_ON_THR2],
        pf[P_LPM_OFF_THR],
        pf[P_OPT_HOLD],
        FULL,
    )


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
    """Time (s) at which the level, moving at ``rate`` (fraction per s), crosses the
    next behaviour threshold (inf if none)."""
    if rate == 0.0:
        return np.inf
    lvl = sf[S_BATT]
    down = rate < 0.0
    # The nearest threshold on the way, then one division: a correctly rounded x/rate
    # is monotone in x, so this is bit for bit the least of the per-threshold times.
    plug_now, plug_thr, low_battery, lpm_on, lpm_on2, lpm_off, opt_hold, full = thresholds(pf, sf)
    near = -np.inf if down else np.inf
    near = _toward(plug_now, lvl, down, near)
    near = _toward(plug_thr, lvl, down, near)
    near = _toward(low_battery, lvl, down, near)
    near = _toward(lpm_on, lvl, down, near)
    if lpm_on2 > 0.0:
        near = _toward(lpm_on2, lvl, down, near)
    near = _toward(lpm_off, lvl, down, near)
    near = _toward(opt_hold, lvl, down, near)
    near = _toward(full, lvl, down, near)
    if down:
        near = _toward(0.0, lvl, down, near)  # empty: the phone shuts down (kernel._shutdown)
    if near == np.inf or near == -np.inf:
        return np.inf
    return sf[S_T] + near / rate


@kjit(inline="always")
def next_battery_event(pf, sf, si, rate: float) -> float:
    """Time (s) of the battery's next event at ``rate`` (fraction per s): the next
    behaviour threshold it crosses (``next_crossing``) or, while optimised overnight
    charging holds the level, the end of the hold, ``optimised_finish_before_s`` before
    the planned unplug, so that the battery is full when the user unplugs (U16)."""
    if rate == 0.0 and si[I_CHARGING] != 0 and sf[S_BATT] < FULL - EPS and holding(pf, sf, si):
        return sf[S_CHARGE_PLAN_STOP] - pf[P_OPT_FINISH_S]
    return next_crossing(pf, sf, rate)


@kjit
def topup_if_below(pf, sf, si, rng) -> None:
    """Unplugged at or below the top-up threshold (at reset, or unplugged early, or the
    threshold moved above the level): the level will not cross it, so the user plugs in
    after the usual delay as if it had (U14)."""
    if si[I_CHARGING] == 0 and sf[S_BATT] <= sf[S_PLUG_THR] and sf[S_EV + EV_TOPUP] == np.inf:
        sf[S_EV + EV_TOPUP] = sf[S_T] + expo(si, rng, SYS, pf[P_TOPUP_DELAY_S])


@kjit
def set_low_power(sf, si, ev, on: bool) -> None:
    """Switch Low Power Mode / Battery Saver on or off (logged when it changes)."""
    v = 1 if on else 0
    if si[I_LOWPOWER] != v:
        si[I_LOWPOWER] = v
        log_event(sf, si, ev, EVK_LOW_POWER, float(v), sf[S_BATT], 0.0, 0.0)


@kjit
def threshold_crossed(pf, sf, si, rng, ev, rate: float) -> None:
    """The level reached a behaviour threshold moving at ``rate`` (fraction per s; see
    ``thresholds``): going down unplugged the user plugs in now or soon, or is prompted
    to turn Low Power Mode on; going up on the charger Low Power Mode switches off."""
    plug_now, plug_thr, _, lpm_on, lpm_on2, lpm_off, _, _ = thresholds(pf, sf)
    lvl = sf[S_BATT]
    charging = si[I_CHARGING] != 0
    if rate < 0.0 and not charging:
        if lvl <= plug_now + EPS:
            sf[S_EV + EV_TOPUP] = sf[S_T]  # about to die: plug in now
        elif abs(lvl - plug_thr) < AT_THRESHOLD and sf[S_EV + EV_TOPUP] == np.inf:
            sf[S_EV + EV_TOPUP] = sf[S_T] + expo(si, rng, SYS, pf[P_TOPUP_DELAY_S])
        prompt = abs(lvl - lpm_on) < AT_THRESHOLD or abs(lvl - lpm_on2) < AT_THRESHOLD
        if prompt and si[I_LOWPOWER] == 0 and (si[I_TR_ON] >> TR_LOW_POWER) & 1 == 0:
            if uniform(si, rng, SYS) < sf[S_U_LPM_ACCEPT]:  # U17, U18: prompt at the threshold
                set_low_power(sf, si, ev, True)
    elif rate > 0.0:
        if abs(lvl - lpm_off) < AT_THRESHOLD and si[I_LOWPOWER] != 0 and (si[I_TR_ON] >> TR_LOW_POWER) & 1 == 0:
            set_low_power(sf, si, ev, False)  # U18: switches off at 80 % (iOS) / 90 % (Android)
