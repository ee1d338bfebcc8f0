"""The phone and its user: app sessions, other screen use, charging habits, network,
motion, thermal state and force-quit (Low Power Mode / Battery Saver follows the
battery level: ``battery.py``).

Rates come from the user archetype's hour-of-day tables (``ph``) and parameters
(``pf``), calibrated to USER_FACTS.md (rows cited in ``configs/users/*.yaml``).
Each handler changes device state and logs it; the kernel then re-evaluates the
scheduler's gates and any running window.
"""

from __future__ import annotations

import numpy as np

from bgenv.core.eventlog import log_event
from bgenv.core.jit import kjit
from bgenv.core.layout import (
    EV_APP_CLOSE,
    EV_BEDTIME,
    EV_CHARGE_STOP,
    EV_DROP_END,
    EV_SCREEN_OFF,
    EV_TOPUP,
    EVK_APP_CLOSE,
    EVK_APP_OPEN,
    EVK_CHARGE_START,
    EVK_CHARGE_STOP,
    EVK_DROP,
    EVK_FORCE_QUIT,
    EVK_NETWORK,
    EVK_SCREEN,
    EVK_THERMAL,
    H_NONE,
    H_WIFI,
    I_APP_FG,
    I_CHARGING,
    I_DROP,
    I_FORCE_QUIT,
    I_NET_BASE,
    I_OVERNIGHT,
    I_SCREEN,
    I_THERMAL,
    KIND_REFRESH,
    KIND_SYNC,
    M_FRESH_OPENS,
    M_OPENS,
    NET_CELL,
    NET_NONE,
    NET_WIFI,
    P_APP_SESSION_MEAN_S,
    P_BEDTIME_H,
    P_CHARGE_JITTER_S,
    P_DROP_MEAN_S,
    P_FORCE_QUIT_PROB,
    P_K_SIZE,
    P_MIN_ITEM_UNITS,
    P_MUTATIONS_PER_OPEN,
    P_OVERNIGHT_PROB,
    P_PLUG_HI_HI,
    P_PLUG_HI_LO,
    P_PLUG_L10,
    P_PLUG_L20,
    P_PLUG_P10,
    P_PLUG_P20,
    P_REFRESH_FOREGROUND,
    P_SCREEN_SESSION_MEAN_S,
    P_SESSION_MIN_S,
    P_TH_CHARGE_MULT,
    P_TH_DOWN,
    P_TH_SCREEN_MULT,
    P_TH_UP,
    P_TH_WORK_MULT,
    P_TOPUP_DURATION_S,
    P_WAKE_H,
    S_APP_SESSION_LEN,
    S_BATT,
    S_CHARGE_PLAN_STOP,
    S_DROP_START,
    S_EV,
    S_LAST_MOTION,
    S_LAST_OPEN,
    S_SCREEN_OFF_SINCE,
    S_T,
    S_UNPLUG_T,
    THERMAL_CRITICAL,
)
from bgenv.core.reward import reward_open
from bgenv.core.rng import SYS, USER, expo, poisson, uniform
from bgenv.core.workload import DONE_EPS, add_item, complete_units, pending_units

INF = np.inf


@kjit(inline="always")
def session_length(pf, si, rng, mean: float) -> float:
    """Session length, s: a minimum (screen timeout) plus an exponential tail (U2, U6)."""
    lo = pf[P_SESSION_MIN_S]
    return lo + expo(si, rng, USER, max(mean - lo, 1.0))


@kjit
def draw_plug_threshold(pf, si, rng) -> float:
    """The level at which this user tops up (U14: 13 % wait until <= 10 %, 34 % until
    20 %, the rest start worrying between the configured bounds)."""
    u = uniform(si, rng, USER)
    if u < pf[P_PLUG_P10]:
        return pf[P_PLUG_L10]
    if u < pf[P_PLUG_P10] + pf[P_PLUG_P20]:
        return pf[P_PLUG_L20]
    return pf[P_PLUG_HI_LO] + (pf[P_PLUG_HI_HI] - pf[P_PLUG_HI_LO]) * uniform(si, rng, USER)


@kjit
def next_daily(t: float, hour: float, si, rng, jitter: float) -> float:
    """Next occurrence after ``t`` of an hour of day, with uniform +-jitter s."""
    day = np.floor(t / 86400.0)
    x = day * 86400.0 + hour * 3600.0 + jitter * (2.0 * uniform(si, rng, USER) - 1.0)
    while x <= t:
        x += 86400.0
    return x


# --- app and screen -------------------------------------------------------
@kjit
def app_open(pf, sf, si, items, rng, ev, tts) -> bool:
    """The user opens this app. Returns whether the data shown was fresh."""
    t = sf[S_T]
    fresh = pending_units(si, items, KIND_REFRESH) <= DONE_EPS
    sf[M_OPENS] += 1.0
    if fresh:
        sf[M_FRESH_OPENS] += 1.0
    reward_open(pf, sf, fresh)
    if pf[P_REFRESH_FOREGROUND] != 0.0 and si[I_NET_BASE] != NET_NONE and si[I_DROP] == 0:
        # the first screen loads content in the foreground; it earns no background value
        complete_units(sf, si, items, rng, tts, KIND_REFRESH, pending_units(si, items, KIND_REFRESH), False)
    was_on = si[I_SCREEN] != 0
    si[I_SCREEN] = 2
    si[I_APP_FG] = 1
    si[I_FORCE_QUIT] = 0
    sf[S_EV + EV_SCREEN_OFF] = INF
    length = session_length(pf, si, rng, pf[P_APP_SESSION_MEAN_S])
    sf[S_APP_SESSION_LEN] = length
    sf[S_EV + EV_APP_CLOSE] = t + length
    sf[S_LAST_OPEN] = t
    log_event(sf, si, ev, EVK_APP_OPEN, 1.0 if fresh else 0.0, pending_units(si, items, -1), sf[S_BATT], length)
    if not was_on:
        log_event(sf, si, ev, EVK_SCREEN, 1.0, 1.0, sf[S_BATT], 0.0)
    return fresh


@kjit
def app_close(pf, sf, si, items, rng, ev) -> bool:
    """The user leaves the app; edits made in the session queue up as sync mutations.
    Returns True when the app was force-quit (it then gets no chance to schedule)."""
    t = sf[S_T]
    sf[S_EV + EV_APP_CLOSE] = INF
    si[I_APP_FG] = 0
    si[I_SCREEN] = 0
    sf[S_SCREEN_OFF_SINCE] = t
    m = poisson(si, rng, USER, pf[P_MUTATIONS_PER_OPEN])
    for _ in range(m):
        add_item(pf, sf, si, items, ev, KIND_SYNC, item_units(pf, si, rng, KIND_SYNC))
    fq = uniform(si, rng, USER) < pf[P_FORCE_QUIT_PROB]
    log_event(sf, si, ev, EVK_APP_CLOSE, m, pending_units(si, items, -1), sf[S_BATT], 1.0 if fq else 0.0)
    log_event(sf, si, ev, EVK_SCREEN, 0.0, 1.0, sf[S_BATT], 0.0)
    if fq:
        si[I_FORCE_QUIT] = 1
        log_event(sf, si, ev, EVK_FORCE_QUIT, 0.0, 0.0, 0.0, 0.0)
    return fq


@kjit(inline="always")
def screen_on(pf, sf, si, rng, ev) -> None:
    """Other phone use (not this app) turns the screen on."""
    si[I_SCREEN] = 1
    sf[S_EV + EV_SCREEN_OFF] = sf[S_T] + session_length(pf, si, rng, pf[P_SCREEN_SESSION_MEAN_S])
    log_event(sf, si, ev, EVK_SCREEN, 1.0, 0.0, sf[S_BATT], 0.0)


@kjit(inline="always")
def screen_off(sf, si, ev) -> None:
    """The screen turns off (other use ends)."""
    sf[S_EV + EV_SCREEN_OFF] = INF
    si[I_SCREEN] = 0
    sf[S_SCREEN_OFF_SINCE] = sf[S_T]
    log_event(sf, si, ev, EVK_SCREEN, 0.0, 0.0, sf[S_BATT], 0.0)


@kjit(inline="always")
def motion(sf) -> None:
    """The device moved: idle timers restart from now."""
    sf[S_LAST_MOTION] = sf[S_T]


# --- network ----------------------------------------------------------------
@kjit(inline="always")
def network_change(pf, ph, sf, si, rng, ev, hour: int) -> None:
    """The underlying network changes: a new state from this hour's shares (U19, U20)."""
    u = uniform(si, rng, USER)
    none = ph[H_NONE, hour]
    if u < none:
        net = NET_NONE
    elif u < none + ph[H_WIFI, hour]:
        net = NET_WIFI
    else:
        net = NET_CELL
    if net != si[I_NET_BASE]:
        si[I_NET_BASE] = net
        log_event(sf, si, ev, EVK_NETWORK, net, 0.0, 0.0, 0.0)


@kjit(inline="always")
def network_drop(pf, sf, si, rng, ev) -> None:
    """A short connectivity drop begins (the underlying network stays as it is); its
    length is exponential around ``drop_mean_s``."""
    si[I_DROP] = 1
    length = expo(si, rng, USER, pf[P_DROP_MEAN_S])
    sf[S_DROP_START] = sf[S_T]
    sf[S_EV + EV_DROP_END] = sf[S_T] + length
    log_event(sf, si, ev, EVK_DROP, 1.0, si[I_NET_BASE], length, 0.0)


@kjit(inline="always")
def network_drop_end(sf, si, ev) -> None:
    """The connectivity drop ends: the underlying network is back."""
    si[I_DROP] = 0
    sf[S_EV + EV_DROP_END] = INF
    log_event(sf, si, ev, EVK_DROP, 0.0, si[I_NET_BASE], sf[S_T] - sf[S_DROP_START], 0.0)


# --- thermal -----------------------------------------------------------------
@kjit(inline="always")
def thermal_rates(pf, si, work_cpu: float):
    """(rate up, rate down) in 1/s for the four-level thermal state."""
    lvl = si[I_THERMAL]
    up = 0.0
    if lvl < THERMAL_CRITICAL:
        mult = 1.0 + pf[P_TH_CHARGE_MULT] * si[I_CHARGING] + pf[P_TH_SCREEN_MULT] * (si[I_SCREEN] > 0)
        mult += pf[P_TH_WORK_MULT] * work_cpu
        up = pf[P_TH_UP] * mult
    down = pf[P_TH_DOWN] if lvl > 0 else 0.0
    return up, down


@kjit
def thermal_step(pf, sf, si, rng, ev, work_cpu: float) -> None:
    """The thermal state moves one level up or down (odds by the two rates, ``work_cpu`` the
    CPU fraction of the chunk in flight)."""
    up, down = thermal_rates(pf, si, work_cpu)
    if up + down <= 0.0:
        return
    if uniform(si, rng, SYS) * (up + down) < up:
        si[I_THERMAL] += 1
    else:
        si[I_THERMAL] -= 1
    log_event(sf, si, ev, EVK_THERMAL, si[I_THERMAL], 0.0, 0.0, 0.0)


# --- charging ------------------------------------------------------------------
@kjit
def start_charging(pf, sf, si, ev, until: float, overnight: bool) -> None:
    """The user plugs in until time ``until`` (s); an overnight session keeps the later of
    the planned unplug times. A top-up charge still plugged in at bedtime becomes the
    overnight charge: logged as a ``charge_start`` with ``continued`` set (no new plug-in)."""
    if si[I_CHARGING] == 0:
        si[I_CHARGING] = 1
        log_event(sf, si, ev, EVK_CHARGE_START, sf[S_BATT], 1.0 if overnight else 0.0, until - sf[S_T], 0.0)
    elif overnight and si[I_OVERNIGHT] == 0:
        plan = max(until, sf[S_CHARGE_PLAN_STOP])
        log_event(sf, si, ev, EVK_CHARGE_START, sf[S_BATT], 1.0, plan - sf[S_T], 1.0)
    if overnight:
        si[I_OVERNIGHT] = 1
    sf[S_CHARGE_PLAN_STOP] = max(until, sf[S_CHARGE_PLAN_STOP]) if overnight else until
    sf[S_EV + EV_CHARGE_STOP] = sf[S_CHARGE_PLAN_STOP]
    sf[S_EV + EV_TOPUP] = INF


@kjit
def bedtime(pf, sf, si, rng, ev) -> None:
    """Daily bedtime: most users charge overnight (U15) until about their wake time."""
    t = sf[S_T]
    jit = pf[P_CHARGE_JITTER_S]
    sf[S_EV + EV_BEDTIME] = next_daily(t + 3600.0, pf[P_BEDTIME_H], si, rng, jit)
    if uniform(si, rng, USER) < pf[P_OVERNIGHT_PROB]:
        start_charging(pf, sf, si, ev, next_daily(t, pf[P_WAKE_H], si, rng, jit), True)


@kjit
def topup(pf, sf, si, rng, ev) -> None:
    """The user plugs in during the day after the battery fell below their threshold."""
    start_charging(pf, sf, si, ev, sf[S_T] + expo(si, rng, SYS, pf[P_TOPUP_DURATION_S]), False)


@kjit
def stop_charging(pf, sf, si, ev) -> None:
    """The user unplugs."""
    sf[S_EV + EV_CHARGE_STOP] = INF
    if si[I_CHARGING] == 0:
        return
    si[I_CHARGING] = 0
    si[I_OVERNIGHT] = 0
    sf[S_UNPLUG_T] = sf[S_T]
    log_event(sf, si, ev, EVK_CHARGE_STOP, sf[S_BATT], 0.0, 0.0, 0.0)


@kjit(inline="always")
def work_arrival(pf, sf, si, items, rng, ev, kind: int) -> None:
    """A background work item of ``kind`` arrives (uploads, new content, heavy jobs)."""
    if kind == KIND_REFRESH:
        units = pf[P_K_SIZE + kind]  # a fetch costs the same whatever was published
    else:
        units = item_units(pf, si, rng, kind)
    add_item(pf, sf, si, items, ev, kind, units)


@kjit(inline="always")
def item_units(pf, si, rng, kind: int) -> float:
    """Size of a new item, work units: exponential around the kind's mean, at least
    ``workload.min_item_units``."""
    return max(pf[P_MIN_ITEM_UNITS], expo(si, rng, USER, pf[P_K_SIZE + kind]))
