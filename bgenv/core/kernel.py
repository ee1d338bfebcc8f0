"""The event loop: one compiled implementation of the dynamics for one device or a
batch of them.

A *step* applies the agent's action at a decision point and then jumps from event to
event (never through idle seconds) until the next decision point: the app goes to
the background, the OS grants a window, or a chunk inside a window ends. Random
draws come from the device's own streams, stepped in the kernel (``rng.py``). When
the event log is on, the loop pauses (status 1) as the device's log buffer runs low;
the host collects it and calls again, and the device carries on exactly where it
stopped, so results never depend on buffer sizes or batch composition.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from bgenv.core.battery import background_power, battery_rate, next_crossing
from bgenv.core.device import (
    app_close,
    app_open,
    battery_threshold,
    bedtime,
    draw_plug_threshold,
    motion,
    network_change,
    network_drop,
    network_drop_end,
    next_daily,
    screen_off,
    screen_on,
    start_charging,
    stop_charging,
    thermal_rates,
    thermal_step,
    topup,
    work_arrival,
)
from bgenv.core.eventlog import log_event
from bgenv.core.jit import kjit
from bgenv.core.layout import (
    DZ_DEEP_IDLE,
    DZ_DEEP_MAINT,
    END_CONSTRAINT,
    END_EXPIRED,
    END_KILL_FORCE_QUIT,
    END_KILL_OEM,
    END_USER,
    EV_APP_CLOSE,
    EV_APP_OPEN,
    EV_ARR_HEAVY,
    EV_ARR_REFRESH,
    EV_ARR_UPLOAD,
    EV_BATT,
    EV_BEDTIME,
    EV_BUCKET,
    EV_BUF,
    EV_CHARGE_STOP,
    EV_CHUNK_END,
    EV_DEADLINE,
    EV_DOZE,
    EV_DROP,
    EV_DROP_END,
    EV_HORIZON,
    EV_HOUR,
    EV_LAUNCH,
    EV_MARGIN,
    EV_MOTION,
    EV_NET,
    EV_SCREEN_OFF,
    EV_SCREEN_ON,
    EV_THERMAL,
    EV_TOPUP,
    EV_WAKE,
    EV_WIN_END,
    EVK_DEADLINE,
    EVK_LEVEL,
    H_APP_OPENS,
    H_APP_OPENS_PER_S,
    H_MOTION_PER_S,
    H_PUBLISH_PER_S,
    H_SCREEN_PER_S,
    H_UPLOAD_PER_S,
    I_APP_FG,
    I_BAR_OFF,
    I_CHARGING,
    I_CHUNK_ACTIVE,
    I_CHUNK_KIND,
    I_DONE,
    I_DOZE,
    I_DROP,
    I_EV_N,
    I_EV_ON,
    I_EVENTS,
    I_FORCE_QUIT,
    I_HOUR,
    I_ITEMS_DIRTY,
    I_ITEMS_HI,
    I_LOWPOWER,
    I_NET_BASE,
    I_PHASE,
    I_RESUME,
    I_RNG_DRAWS,
    I_SCREEN,
    I_STATUS,
    I_STEPS,
    I_TEMP_EXEMPT,
    I_THERMAL,
    I_WIN_ACTIVE,
    I_WIN_NET,
    I_WIN_POWER,
    I_WIN_TYPE,
    IT_ACTIVE,
    IT_ARRIVE,
    IT_DEADLINE,
    IT_KIND,
    IT_OVERDUE,
    IT_REM,
    KIND_HEAVY,
    KIND_REFRESH,
    KIND_UPLOAD,
    M_BATT_MIN,
    M_BATTERY_COST,
    M_CELL_S,
    M_CHARGING_S,
    M_DEADLINES_MISSED,
    M_DEEP_DOZE_S,
    M_ENERGY,
    M_LOWPOWER_S,
    M_SCREEN_S,
    M_THROTTLED,
    M_WIFI_S,
    NET_CELL,
    NET_NONE,
    NET_WIFI,
    NEV,
    NHZ,
    NKIND,
    NSLOT,
    P_BAR_OFF_PROB,
    P_BATT_INIT_HI,
    P_BATT_INIT_LO,
    P_BEDTIME_H,
    P_CHARGE_JITTER_S,
    P_CHUNK_BINS,
    P_CPU_KILL_FRAC,
    P_DELAY_BINS,
    P_DOZE_ON,
    P_DROPS_PER_S,
    P_EJ_REFILL_OPEN,
    P_EJ_REFILL_SCREEN,
    P_FORCE_QUIT_STOPS,
    P_HB_INIT,
    P_HEAVY_PER_S,
    P_HORIZON_S,
    P_INIT_ENGAGEMENT,
    P_INIT_LAST_OPEN_AGO_S,
    P_K_CPU,
    P_K_NET,
    P_LOW_BATT,
    P_LPM_ON_THR,
    P_NCHUNK,
    P_NDELAY,
    P_NET_CHANGE_PER_S,
    P_NOPTS,
    P_OEM_KILLER,
    P_OEM_RECENT_S,
    P_OVERNIGHT_PROB,
    P_PLATFORM,
    P_PLUG_NOW_LEVEL,
    P_START_HOUR,
    P_USAGE_TAU_S,
    P_WAKE_ENERGY,
    P_WAKE_H,
    P_WT_LPM_BLOCKS,
    P_WT_NEEDS_IDLE,
    P_WT_THERMAL_MAX,
    PH_BACKGROUND,
    PH_CHUNK,
    PH_NONE,
    PH_WINDOW,
    PLATFORM_ANDROID,
    PLATFORM_IOS,
    RQ_ACTIVE,
    RQ_THROTTLED,
    S_BATT,
    S_BATT_RATE,
    S_COST,
    S_CPU_UNPLUGGED,
    S_EV,
    S_HIST_B,
    S_HIST_E,
    S_HIST_T,
    S_HZ_RATE,
    S_HZ_REM,
    S_LAST_CLOSE,
    S_LAST_MOTION,
    S_LAST_OPEN,
    S_LAST_REFRESH,
    S_LAST_WINDOW_END,
    S_PLUG_THR,
    S_RECENT_T,
    S_REWARD,
    S_SCREEN_OFF_SINCE,
    S_T,
    S_T0,
    S_TEMP_EXEMPT_UNTIL,
    S_UNPLUG_T,
    S_USAGE,
    S_USAGE_TOT,
    S_WIN_ENERGY,
    WT_PROCESSING,
)
from bgenv.core.observation import write_obs
from bgenv.core.reward import reward_deadline, reward_energy, reward_throttle
from bgenv.core.rng import SYS, USER, expo, uniform
from bgenv.core.scheduler import (
    doze_consider,
    doze_idle,
    doze_timer,
    doze_wake,
    effective_net,
    ej_earn,
    history_open,
    launch_rate,
    oem_blocks,
    update_bucket,
)
from bgenv.core.windows import (
    chunk_end,
    chunk_fail,
    complete_window,
    end_window,
    grant_window,
    invalid_action,
    start_chunk,
    submit_request,
    window_exempt,
)
from bgenv.core.workload import next_deadline, pending_units, workable

INF = np.inf
STATUS_OK = 0
STATUS_NEED_FLUSH = 1
STATUS_DONE = 2
STATUS_STUCK = 3  # events stopped advancing time (a simulator bug); the host raises
STUCK_MESSAGE = "bgenv kernel: events stopped advancing time (a simulator bug)"
MAX_SAME_TIME_EVENTS = 100_000  # livelock guard: no real state needs this many events at one instant


@kjit(inline="always")
def clock_stream(k: int) -> int:
    """Hazard clocks the agent cannot influence draw from the USER stream."""
    if k == EV_THERMAL or k >= EV_LAUNCH:
        return SYS
    return USER


@kjit(inline="always")
def _log_level(s, n, it, ev) -> None:
    """Log the battery level and the backlog (the timeline draws its lines through them)."""
    if n[I_EV_ON] != 0:
        log_event(s, n, ev, EVK_LEVEL, s[S_BATT], pending_units(n, it, -1), float(n[I_CHARGING]), 0.0)


@kjit
def reset_device(pf, ph, s, n, it, rq, jb, rg, ev, tt) -> None:
    """Start a new episode for one device (the random streams and event log go on)."""
    draws_user = n[I_RNG_DRAWS]
    draws_sys = n[I_RNG_DRAWS + 1]
    evn = n[I_EV_N]
    evon = n[I_EV_ON]
    s[:] = 0.0
    n[:] = 0
    it[:, :] = 0.0
    rq[:, :] = 0.0
    jb[:, :] = INF
    n[I_RNG_DRAWS] = draws_user
    n[I_RNG_DRAWS + 1] = draws_sys
    n[I_EV_N] = evn
    n[I_EV_ON] = evon
    t0 = pf[P_START_HOUR] * 3600.0
    s[S_T] = t0
    s[S_T0] = t0
    s[S_HIST_T] = t0
    s[S_RECENT_T] = t0
    lo = pf[P_BATT_INIT_LO]
    s[S_BATT] = lo + (pf[P_BATT_INIT_HI] - lo) * uniform(n, rg, USER)
    s[M_BATT_MIN] = s[S_BATT]
    for k in range(NEV):
        s[S_EV + k] = INF
    for k in range(NHZ):
        s[S_HZ_REM + k] = expo(n, rg, clock_stream(k), 1.0)
    n[I_HOUR] = int(t0 // 3600.0) % 24
    s[S_EV + EV_HOUR] = (np.floor(t0 / 3600.0) + 1.0) * 3600.0
    s[S_EV + EV_HORIZON] = t0 + pf[P_HORIZON_S]
    jit = pf[P_CHARGE_JITTER_S]
    s[S_EV + EV_BEDTIME] = next_daily(t0, pf[P_BEDTIME_H], n, rg, jit)
    s[S_SCREEN_OFF_SINCE] = t0
    s[S_LAST_MOTION] = t0
    s[S_UNPLUG_T] = t0
    s[S_LAST_WINDOW_END] = -1e9
    s[S_PLUG_THR] = draw_plug_threshold(pf, n, rg)
    n[I_BAR_OFF] = 1 if uniform(n, rg, USER) < pf[P_BAR_OFF_PROB] else 0
    n[I_NET_BASE] = -1
    network_change(pf, ph, s, n, rg, ev, n[I_HOUR])
    _log_level(s, n, it, ev)
    s[S_LAST_OPEN] = t0 - pf[P_INIT_LAST_OPEN_AGO_S]
    s[S_LAST_REFRESH] = s[S_LAST_OPEN]
    s[S_HIST_B] = pf[P_HB_INIT]
    e = pf[P_INIT_ENGAGEMENT]
    s[S_HIST_E] = e
    tot = 0.0
    for h in range(24):
        tot += ph[H_APP_OPENS, h]
    if tot > 0.0 and e > 0.0:
        for h in range(24):
            s[S_USAGE + h] = ph[H_APP_OPENS, h] / tot * e * pf[P_USAGE_TAU_S] / 86400.0
            s[S_USAGE_TOT] += s[S_USAGE + h]
    # asleep at the start hour: most users are on the charger (U15)
    wake = pf[P_WAKE_H]
    bed = pf[P_BEDTIME_H]
    h0 = pf[P_START_HOUR]
    asleep = (h0 < wake) if bed < wake else (h0 >= bed or h0 < wake)
    if asleep and uniform(n, rg, USER) < pf[P_OVERNIGHT_PROB]:
        start_charging(pf, s, n, ev, next_daily(t0, wake, n, rg, jit), True)
    update_bucket(pf, s, n, ev)
    doze_consider(pf, s, n, ev)
    # every episode opens with a decision: the app is in the background at t0 and may
    # submit its first request
    n[I_PHASE] = PH_BACKGROUND
    n[I_RESUME] = 0


@kjit(inline="always")
def _advance_time(pf, s, n, t_new: float) -> None:
    t = s[S_T]
    dt = t_new - t
    if dt <= 0.0:
        return
    for k in range(NHZ):
        s[S_HZ_REM + k] -= s[S_HZ_RATE + k] * dt
    s[S_BATT] = min(1.0, max(0.0, s[S_BATT] + s[S_BATT_RATE] * dt))
    if s[S_BATT] < s[M_BATT_MIN]:
        s[M_BATT_MIN] = s[S_BATT]
    if n[I_CHUNK_ACTIVE] != 0:
        _spend(pf, s, n, background_power(pf, n) * dt)
        if n[I_WIN_TYPE] == WT_PROCESSING and pf[P_K_CPU + n[I_CHUNK_KIND]] >= pf[P_CPU_KILL_FRAC]:
            s[S_CPU_UNPLUGGED] += dt
    if n[I_SCREEN] != 0:
        s[M_SCREEN_S] += dt
    if n[I_CHARGING] != 0:
        s[M_CHARGING_S] += dt
    net = NET_NONE if n[I_DROP] != 0 else n[I_NET_BASE]
    if net == NET_WIFI:
        s[M_WIFI_S] += dt
    elif net == NET_CELL:
        s[M_CELL_S] += dt
    if n[I_LOWPOWER] != 0:
        s[M_LOWPOWER_S] += dt
    if n[I_DOZE] == DZ_DEEP_IDLE or n[I_DOZE] == DZ_DEEP_MAINT:
        s[M_DEEP_DOZE_S] += dt
    s[S_T] = t_new


@kjit(inline="always")
def _spend(pf, s, n, e: float) -> None:
    """Account ``e`` (fraction of a full battery) of background energy: always in the
    window's total and the episode's energy; off the charger also as battery cost."""
    s[M_ENERGY] += e
    s[S_WIN_ENERGY] += e
    if n[I_CHARGING] == 0:
        s[M_BATTERY_COST] += e
        s[S_COST] += e
        reward_energy(pf, s, e)


@kjit
def _wake_energy(pf, s, n, rg, ev) -> None:
    """Launching the app for a window costs a burst of energy. The level drops at once,
    so every behaviour threshold it passes is handled as if crossed on the way down."""
    e = pf[P_WAKE_ENERGY]
    _spend(pf, s, n, e)
    if n[I_CHARGING] != 0 or e <= 0.0:
        return
    old = s[S_BATT]
    new = max(0.0, old - e)
    for x in (pf[P_PLUG_NOW_LEVEL], s[S_PLUG_THR], pf[P_LOW_BATT], pf[P_LPM_ON_THR]):
        if new < x <= old:
            s[S_BATT] = x
            battery_threshold(pf, s, n, rg, ev, -1.0)
    s[S_BATT] = new


@kjit(inline="always")
def _set_hazard(s, k: int, rate: float) -> None:
    s[S_HZ_RATE + k] = rate
    if rate > 0.0:
        s[S_EV + k] = s[S_T] + max(0.0, s[S_HZ_REM + k]) / rate
    else:
        s[S_EV + k] = INF


@kjit(inline="always")
def recompute(pf, ph, s, n, it, rq, jb) -> None:
    """Re-derive every rate and deterministic wake-up from the current state."""
    t = s[S_T]
    h = n[I_HOUR]
    _set_hazard(s, EV_APP_OPEN, 0.0 if n[I_APP_FG] != 0 else ph[H_APP_OPENS_PER_S, h])
    _set_hazard(s, EV_SCREEN_ON, 0.0 if n[I_SCREEN] != 0 else ph[H_SCREEN_PER_S, h])
    _set_hazard(s, EV_NET, pf[P_NET_CHANGE_PER_S])
    drop_rate = 0.0 if (n[I_DROP] != 0 or n[I_NET_BASE] == NET_NONE) else pf[P_DROPS_PER_S]
    _set_hazard(s, EV_DROP, drop_rate)
    _set_hazard(s, EV_MOTION, ph[H_MOTION_PER_S, h])
    cpu = pf[P_K_CPU + n[I_CHUNK_KIND]] if n[I_CHUNK_ACTIVE] != 0 else 0.0
    up, down = thermal_rates(pf, n, cpu)
    _set_hazard(s, EV_THERMAL, up + down)
    _set_hazard(s, EV_ARR_UPLOAD, ph[H_UPLOAD_PER_S, h])
    _set_hazard(s, EV_ARR_REFRESH, ph[H_PUBLISH_PER_S, h])
    _set_hazard(s, EV_ARR_HEAVY, pf[P_HEAVY_PER_S])
    wake = INF
    for j in range(NSLOT):
        if rq[j, RQ_ACTIVE] == 0.0:
            _set_hazard(s, EV_LAUNCH + j, 0.0)
            continue
        rate, w, throttled = launch_rate(pf, ph, s, n, rq, jb, j, h)
        if throttled and rq[j, RQ_THROTTLED] == 0.0:
            rq[j, RQ_THROTTLED] = 1.0
            s[M_THROTTLED] += 1.0
            reward_throttle(pf, s)
        _set_hazard(s, EV_LAUNCH + j, rate)
        if w < wake:
            wake = w
    if n[I_TEMP_EXEMPT] != 0:
        if t >= s[S_TEMP_EXEMPT_UNTIL]:
            n[I_TEMP_EXEMPT] = 0
        else:
            wake = min(wake, s[S_TEMP_EXEMPT_UNTIL])
    if n[I_WIN_ACTIVE] != 0 and pf[P_OEM_KILLER] != 0.0 and n[I_CHARGING] == 0:
        wake = min(wake, s[S_LAST_OPEN] + pf[P_OEM_RECENT_S] + 1e-6)  # the OEM killer strikes
    s[S_EV + EV_WAKE] = max(wake, t + 1e-3) if wake < INF else INF
    rate = battery_rate(pf, s, n, background_power(pf, n))
    s[S_BATT_RATE] = rate
    s[S_EV + EV_BATT] = next_crossing(pf, s, rate)
    if n[I_ITEMS_DIRTY] != 0:  # the backlog only changes on arrivals, completions and deadlines
        s[S_EV + EV_DEADLINE] = next_deadline(n, it)
        n[I_ITEMS_DIRTY] = 0


@kjit(inline="always")
def _deadlines(pf, s, n, it, ev) -> None:
    t = s[S_T]
    for r in range(n[I_ITEMS_HI]):
        if it[r, IT_ACTIVE] != 0.0 and it[r, IT_OVERDUE] == 0.0 and it[r, IT_DEADLINE] <= t + 1e-9:
            it[r, IT_OVERDUE] = 1.0
            n[I_ITEMS_DIRTY] = 1
            s[M_DEADLINES_MISSED] += 1.0
            reward_deadline(pf, s)
            log_event(s, n, ev, EVK_DEADLINE, it[r, IT_KIND], it[r, IT_REM], t - it[r, IT_ARRIVE], 0.0)


@kjit(inline="always")
def _check_window(pf, s, n, rq, jb, rg, ev) -> int:
    """End or interrupt the running window when its conditions no longer hold."""
    if n[I_WIN_ACTIVE] == 0:
        return PH_NONE
    wt = n[I_WIN_TYPE]
    reason = -1
    android = pf[P_PLATFORM] == PLATFORM_ANDROID
    exempt = window_exempt(pf, n)
    if n[I_FORCE_QUIT] != 0 and pf[P_FORCE_QUIT_STOPS] != 0.0:
        reason = END_KILL_FORCE_QUIT
    elif android and oem_blocks(pf, s, n):
        reason = END_KILL_OEM
    elif pf[P_WT_NEEDS_IDLE + wt] != 0.0 and n[I_SCREEN] != 0:
        reason = END_USER  # iOS processing stops when the user picks up the phone (row 39)
    elif n[I_WIN_POWER] != 0 and n[I_CHARGING] == 0:
        reason = END_CONSTRAINT
    elif n[I_THERMAL] > pf[P_WT_THERMAL_MAX + wt]:
        reason = END_CONSTRAINT
    elif pf[P_WT_LPM_BLOCKS + wt] != 0.0 and n[I_LOWPOWER] != 0:
        reason = END_CONSTRAINT
    elif android and pf[P_DOZE_ON] != 0.0 and doze_idle(n) and not exempt:
        reason = END_CONSTRAINT
    elif android and n[I_WIN_NET] != 0 and effective_net(pf, n, exempt) == NET_NONE:
        reason = END_CONSTRAINT  # JobScheduler stops a job whose network constraint is lost
    if reason >= 0:
        end_window(pf, s, n, rq, jb, rg, ev, reason)
        return PH_NONE
    if n[I_CHUNK_ACTIVE] != 0 and pf[P_K_NET + n[I_CHUNK_KIND]] != 0.0:
        if effective_net(pf, n, exempt) == NET_NONE:
            return chunk_fail(pf, s, n, ev)
    return PH_NONE


@kjit(inline="always")
def _handle(pf, ph, s, n, it, rq, jb, rg, ev, tt, k: int) -> int:
    """Handle event clock ``k`` at the current time; returns a decision phase or 0."""
    android = pf[P_PLATFORM] == PLATFORM_ANDROID
    if k < NHZ:
        s[S_HZ_REM + k] = expo(n, rg, clock_stream(k), 1.0)
    if k == EV_HOUR:
        n[I_HOUR] = (n[I_HOUR] + 1) % 24
        s[S_EV + EV_HOUR] += 3600.0
        _log_level(s, n, it, ev)
    elif k == EV_HORIZON:
        n[I_DONE] = 1
        s[S_EV + EV_HORIZON] = INF
    elif k == EV_APP_OPEN:
        if n[I_SCREEN] == 1:
            s[S_EV + EV_SCREEN_OFF] = INF
        ej_earn(pf, s, pf[P_EJ_REFILL_OPEN])
        app_open(pf, s, n, it, rg, ev, tt)
        history_open(pf, s, n[I_HOUR])
        update_bucket(pf, s, n, ev)
        doze_wake(pf, s, n, ev)
    elif k == EV_APP_CLOSE:
        ej_earn(pf, s, pf[P_EJ_REFILL_SCREEN] * (s[S_T] - s[S_LAST_OPEN]))  # row 12: the app's own time on top
        s[S_LAST_CLOSE] = s[S_T]
        fq = app_close(pf, s, n, it, rg, ev)
        doze_consider(pf, s, n, ev)
        if not (fq and pf[P_FORCE_QUIT_STOPS] != 0.0):
            return PH_BACKGROUND
    elif k == EV_SCREEN_ON:
        screen_on(pf, s, n, rg, ev)
        doze_wake(pf, s, n, ev)
    elif k == EV_SCREEN_OFF:
        screen_off(s, n, ev)
        doze_consider(pf, s, n, ev)
    elif k == EV_NET:
        network_change(pf, ph, s, n, rg, ev, n[I_HOUR])
    elif k == EV_DROP:
        network_drop(pf, s, n, rg, ev)
    elif k == EV_DROP_END:
        network_drop_end(s, n, ev)
    elif k == EV_MOTION:
        motion(s)
        if android:
            if n[I_DOZE] == DZ_DEEP_IDLE or n[I_DOZE] == DZ_DEEP_MAINT:
                doze_wake(pf, s, n, ev)
            else:
                doze_consider(pf, s, n, ev)
    elif k == EV_THERMAL:
        cpu = pf[P_K_CPU + n[I_CHUNK_KIND]] if n[I_CHUNK_ACTIVE] != 0 else 0.0
        thermal_step(pf, s, n, rg, ev, cpu)
    elif k == EV_ARR_UPLOAD:
        work_arrival(pf, s, n, it, rg, ev, KIND_UPLOAD)
    elif k == EV_ARR_REFRESH:
        work_arrival(pf, s, n, it, rg, ev, KIND_REFRESH)
    elif k == EV_ARR_HEAVY:
        work_arrival(pf, s, n, it, rg, ev, KIND_HEAVY)
    elif k >= EV_LAUNCH and k < EV_LAUNCH + NSLOT:
        phase = grant_window(pf, s, n, rq, jb, rg, ev, k - EV_LAUNCH)
        _wake_energy(pf, s, n, rg, ev)
        return phase
    elif k == EV_BEDTIME:
        was = n[I_CHARGING]
        bedtime(pf, s, n, rg, ev)
        if n[I_CHARGING] != was:
            doze_wake(pf, s, n, ev)
    elif k == EV_TOPUP:
        topup(pf, s, n, rg, ev)
        doze_wake(pf, s, n, ev)
    elif k == EV_CHARGE_STOP:
        stop_charging(pf, s, n, ev)
        doze_consider(pf, s, n, ev)
    elif k == EV_BATT:
        battery_threshold(pf, s, n, rg, ev, s[S_BATT_RATE])
    elif k == EV_DOZE:
        pending = False
        for j in range(NSLOT):
            if rq[j, RQ_ACTIVE] != 0.0:
                pending = True
        doze_timer(pf, s, n, ev, pending)
    elif k == EV_BUCKET:
        update_bucket(pf, s, n, ev)
    elif k == EV_WIN_END:
        end_window(pf, s, n, rq, jb, rg, ev, END_EXPIRED)
    elif k == EV_CHUNK_END:
        return chunk_end(pf, s, n, it, rq, jb, rg, ev, tt)
    elif k == EV_DEADLINE:
        _deadlines(pf, s, n, it, ev)
    elif k == EV_WAKE:
        s[S_EV + EV_WAKE] = INF
    return PH_NONE


@kjit
def _apply_action(pf, s, n, it, rq, jb, rg, ev, act) -> None:
    opt = act[0]
    phase = n[I_PHASE]
    if opt > 0:
        submit_request(pf, s, n, rq, rg, ev, opt, pf[P_DELAY_BINS + act[1]])
    in_window = (phase == PH_WINDOW or phase == PH_CHUNK) and n[I_WIN_ACTIVE] != 0 and n[I_CHUNK_ACTIVE] == 0
    if in_window:
        if act[2] == 0:
            complete_window(pf, s, n, jb, ev, pending_units(n, it, -1))
        elif not start_chunk(pf, s, n, it, rq, rg, ev, pf[P_CHUNK_BINS + act[2]], act[3] - 1):
            invalid_action(pf, s)  # nothing workable: the app reports completion instead
            complete_window(pf, s, n, jb, ev, pending_units(n, it, -1))
    elif act[2] != 0 or act[3] != 0:
        invalid_action(pf, s)


@kjit
def advance(pf, ph, s, n, it, rq, jb, rg, ev, tt, o, act) -> None:
    """Apply ``act`` (unless resuming) and run to the next decision point or the horizon.
    Sets ``n[I_STATUS]``; on STATUS_OK the observation row ``o`` is written."""
    if n[I_DONE] != 0:
        n[I_STATUS] = STATUS_DONE
        return
    # ``recompute`` has one call site (it inlines the launch gates: one copy compiles
    # faster): it runs after the action and after every event, before the phase check
    dirty = False
    phase = PH_NONE
    if n[I_RESUME] == 0:
        s[S_REWARD] = 0.0
        s[S_COST] = 0.0
        _apply_action(pf, s, n, it, rq, jb, rg, ev, act)
        dirty = True
        n[I_RESUME] = 1
    stuck = 0
    while True:
        if dirty:
            recompute(pf, ph, s, n, it, rq, jb)
            dirty = False
            if phase != PH_NONE:
                n[I_PHASE] = phase
                break
        if n[I_EV_ON] != 0 and EV_BUF - n[I_EV_N] < EV_MARGIN:
            n[I_STATUS] = STATUS_NEED_FLUSH
            return
        k = 0
        tk = s[S_EV]
        for j in range(1, NEV):
            if s[S_EV + j] < tk:
                tk = s[S_EV + j]
                k = j
        if tk <= s[S_T]:
            stuck += 1
            if stuck > MAX_SAME_TIME_EVENTS:
                n[I_STATUS] = STATUS_STUCK  # no raise here: the batch loop may run in threads
                return
        else:
            stuck = 0
        _advance_time(pf, s, n, tk)
        n[I_EVENTS] += 1
        phase = _handle(pf, ph, s, n, it, rq, jb, rg, ev, tt, k)
        if n[I_DONE] != 0:
            n[I_PHASE] = PH_NONE
            break
        p2 = _check_window(pf, s, n, rq, jb, rg, ev)
        if p2 != PH_NONE and phase == PH_NONE:
            phase = p2
        if phase == PH_CHUNK and n[I_WIN_ACTIVE] == 0:
            phase = PH_NONE  # the window ended with the chunk: nothing to decide
        dirty = True
    n[I_RESUME] = 0
    n[I_STATUS] = STATUS_OK
    n[I_STEPS] += 1
    write_obs(pf, s, n, it, rq, o)


@kjit(inline="always")
def _needs_host(status: int) -> int:
    """1 when a device stopped short of a decision (event-log flush, or stuck), else 0."""
    return 1 if (status == STATUS_NEED_FLUSH or status == STATUS_STUCK) else 0


@kjit
def advance_batch(idx, pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, obs, acts) -> int:
    """``advance`` for the devices listed in ``idx``; returns how many of them stopped
    short of a decision and need the host (0 in the common case: nothing to check)."""
    waiting = 0
    for j in range(idx.shape[0]):
        i = idx[j]
        advance(pf, ph, sf[i], si[i], items[i], reqs[i], jobs[i], rng[i], ev[i], tts[i], obs[i], acts[i])
        waiting += _needs_host(si[i, I_STATUS])
    return waiting


@kjit(parallel=True)
def advance_batch_parallel(idx, pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, obs, acts) -> int:
    """``advance_batch`` with the devices spread over numba's threads (for large
    batches: the devices are independent, so results do not depend on the threads)."""
    for j in prange(idx.shape[0]):
        i = idx[j]
        advance(pf, ph, sf[i], si[i], items[i], reqs[i], jobs[i], rng[i], ev[i], tts[i], obs[i], acts[i])
    waiting = 0  # counted after the loop: a reduction inside it would need numba's allocator
    for j in range(idx.shape[0]):
        waiting += _needs_host(si[idx[j], I_STATUS])
    return waiting


@kjit
def first_action_out_of_range(a, nvec) -> int:
    """Index of the first row of int64 actions ``a`` ``[N, parts]`` with a part outside
    ``0..nvec-1``; -1 when every action is in the space."""
    for i in range(a.shape[0]):
        for k in range(a.shape[1]):
            if a[i, k] < 0 or a[i, k] >= nvec[k]:
                return i
    return -1


@kjit
def reset_batch(idx, pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, obs) -> None:
    """``reset_device`` for the devices in ``idx``, writing their first observation."""
    for j in range(idx.shape[0]):
        i = idx[j]
        reset_device(pf, ph, sf[i], si[i], items[i], reqs[i], jobs[i], rng[i], ev[i], tts[i])
        write_obs(pf, sf[i], si[i], items[i], reqs[i], obs[i])


@kjit
def write_masks(pf, s, n, it, m) -> None:
    """Action masks for one device, concatenated per action dimension (MaskablePPO's
    MultiDiscrete layout): request option, delay bin, chunk bin, work kind."""
    nopt = int(pf[P_NOPTS])
    from_delay = nopt
    ndelay = int(pf[P_NDELAY])
    from_chunk = from_delay + ndelay
    nchunk = int(pf[P_NCHUNK])
    from_kind = from_chunk + nchunk
    m[:] = False
    bar_off = pf[P_PLATFORM] == PLATFORM_IOS and n[I_BAR_OFF] != 0
    m[0] = True
    for o in range(1, nopt):
        m[o] = not bar_off
    for d in range(ndelay):
        m[from_delay + d] = True
    m[from_chunk] = True
    m[from_kind] = True
    phase = n[I_PHASE]
    if (phase == PH_WINDOW or phase == PH_CHUNK) and n[I_WIN_ACTIVE] != 0 and n[I_CHUNK_ACTIVE] == 0:
        has_net = effective_net(pf, n, window_exempt(pf, n)) != NET_NONE
        anyk = False
        for k in range(NKIND):
            w = workable(pf, n, it, k, has_net)
            m[from_kind + 1 + k] = w
            anyk = anyk or w
        if anyk:
            for c in range(1, nchunk):
                m[from_chunk + c] = True


@kjit
def write_masks_batch(pf, sf, si, items, out) -> None:
    """``write_masks`` for every device: ``out`` is bool ``[N, sum(nvec)]``."""
    for i in range(out.shape[0]):
        write_masks(pf, sf[i], si[i], items[i], out[i])
