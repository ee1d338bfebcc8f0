"""The event loop: one compiled implementation of the dynamics for one device or a
batch of them.

A *step* applies the agent's action at a decision point and then jumps from event to
event (never through idle seconds) until the next decision point: the app goes to
the background, the OS grants a window, or a chunk inside a window ends. Random
draws come from the device's own streams, stepped in the kernel (``rng.py``). When
the event log is on, the loop pauses (status 1) as the device's log buffer runs low;
the host collects it and calls again, and the device carries on exactly where it
stopped, so results never depend on buffer sizes or batch composition.

The file reads from the top: the entry points the host calls on a batch, one device's
step (``advance``), one event (``_handle``), the rates re-derived after every change
(``recompute``), a new episode (``reset_device``) and the action masks. The rules the
events apply live in their own files: ``battery.py``, ``device.py``, ``workload.py``,
``scheduler.py`` (the OS's decisions) and ``windows.py`` (the app's windows).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from bgenv.core.battery import (
    EPS,
    background_power,
    battery_rate,
    integrate,
    next_battery_event,
    set_low_power,
    spend,
    threshold_crossed,
    topup_if_below,
    transfer_power,
)
from bgenv.core.device import (
    app_close,
    app_open,
    app_session,
    bedtime,
    daytime_plugin,
    draw_device,
    gap_hazard,
    gap_hazard_after,
    motion,
    network_change,
    network_drop,
    network_drop_end,
    next_daily,
    screen_off,
    screen_on,
    screen_session,
    start_charging,
    stop_charging,
    thermal_rates,
    thermal_step,
    topup,
    user_hour,
    work_arrival,
)
from bgenv.core.eventlog import log_event
from bgenv.core.jit import kjit
from bgenv.core.layout import (
    DZ_DEEP_IDLE,
    DZ_DEEP_MAINT,
    END_EXPIRED,
    END_NONE,
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
    EV_PLUGIN,
    EV_SCREEN_OFF,
    EV_SCREEN_ON,
    EV_THERMAL,
    EV_TOPUP,
    EV_TRACE,
    EV_TRANSFER,
    EV_WAKE,
    EV_WIN_END,
    EVK_DEADLINE,
    EVK_LEVEL,
    EVK_NETWORK,
    EVK_POWER,
    EVK_RESET,
    EVK_THERMAL,
    H_APP_OPENS,
    H_APP_OPENS_PER_S,
    H_MOTION_PER_S,
    H_PLUGIN_PER_S,
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
    I_HOUR,
    I_ITEMS_DIRTY,
    I_ITEMS_HI,
    I_LOWPOWER,
    I_LPM_ALWAYS,
    I_NET_BASE,
    I_OFF,
    I_PHASE,
    I_RESUME,
    I_RNG_DRAWS,
    I_SCREEN,
    I_STATUS,
    I_STEPS,
    I_TEMP_EXEMPT,
    I_THERMAL,
    I_TR_BLOCK,
    I_TR_FORCE,
    I_TR_LN,
    I_TR_LPOS,
    I_TR_N,
    I_TR_OFF,
    I_TR_ON,
    I_TR_POS,
    I_TR_SCREEN,
    I_TR_SEEN,
    I_TRACE,
    I_U_SHIFT,
    I_WIN_ACTIVE,
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
    LEVEL_ANCHORED,
    LEVEL_COMPARED,
    M_BATT_MIN,
    M_BATTERY_COST,
    M_CELL_S,
    M_CHARGING_S,
    M_DEADLINES_MISSED,
    M_DEEP_DOZE_S,
    M_LOWPOWER_S,
    M_OFF_S,
    M_SCREEN_S,
    M_THROTTLED,
    M_TR_GAP2,
    M_TR_GAPN,
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
    P_CHARGE_JITTER_S,
    P_CHUNK_BINS,
    P_CPU_KILL_FRAC,
    P_DELAY_BINS,
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
    P_MASK_RESUBMIT,
    P_NCHUNK,
    P_NDELAY,
    P_NET_CHANGE_PER_S,
    P_NOPTS,
    P_OEM_KILLER,
    P_OPT_TYPE,
    P_PLATFORM,
    P_START_HOUR,
    P_TOPUP_DURATION_S,
    P_USAGE_TAU_S,
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
    S_CHARGE_OFF,
    S_CHARGE_PLAN_STOP,
    S_COST,
    S_CPU_UNPLUGGED,
    S_EV,
    S_HIST_B,
    S_HIST_E,
    S_HIST_T,
    S_HZ_GAP,
    S_HZ_RATE,
    S_HZ_REM,
    S_LAST_CLOSE,
    S_LAST_MOTION,
    S_LAST_OPEN,
    S_LAST_REFRESH,
    S_LAST_WINDOW_END,
    S_RATE_APP,
    S_RATE_MOTION,
    S_RATE_SCREEN,
    S_RECENT_T,
    S_REWARD,
    S_SCREEN_OFF_SINCE,
    S_T,
    S_T0,
    S_TEMP_EXEMPT_UNTIL,
    S_TR_LNEXT,
    S_TR_REPAID,
    S_U_APP_SCALE,
    S_U_BEDTIME_H,
    S_U_OVERNIGHT_P,
    S_U_PLUGINS_PER_DAY,
    S_U_SCREEN_SCALE,
    S_U_WAKE_H,
    S_UNPLUG_T,
    S_USAGE,
    S_USAGE_TOT,
    TR_APP,
    TR_DOZE,
    TR_LEVEL,
    TR_LOW_POWER,
    TR_NETWORK,
    TR_PLUGGED,
    TR_SCREEN,
    TR_TEMPERATURE,
    WT_FGS,
    WT_PROCESSING,
    WT_UIDT,
)
from bgenv.core.observation import write_obs
from bgenv.core.replay import (
    app_share,
    bit,
    block_mask,
    doze_replays,
    first_after,
    initial_value,
    next_change,
    overnight,
    replayed,
    silence,
    thermal_of,
)
from bgenv.core.reward import reward_deadline, reward_throttle
from bgenv.core.rng import SYS, USER, expo, uniform
from bgenv.core.scheduler import (
    app_visible,
    doze_consider,
    doze_follow,
    doze_release,
    doze_timer,
    doze_wake,
    ej_earn,
    history_open,
    launch_rate,
    oem_strikes_at,
    stop_reason,
    update_bucket,
    window_has_net,
)
from bgenv.core.transfer import (
    transfer_event,
    transfer_force_quit,
    transfer_next,
    transfer_open,
    transfer_progress,
    transfer_update,
)
from bgenv.core.windows import (
    chunk_end,
    chunk_fail,
    complete_window,
    end_window,
    grant_window,
    invalid_action,
    resubmit_senseless,
    start_chunk,
    submit_request,
)
from bgenv.core.workload import next_deadline, pending_units, workable

INF = np.inf
STATUS_OK = 0
STATUS_NEED_FLUSH = 1
STATUS_DONE = 2
STATUS_STUCK = 3  # events stopped advancing time (a simulator bug); the host raises
STUCK_MESSAGE = "bgenv kernel: events stopped advancing time (a simulator bug)"
MAX_SAME_TIME_EVENTS = 100_000  # livelock guard: no real state needs this many events at one instant
_TR_SCREEN_BIT = 1 << TR_SCREEN  # I_TR_ON bits (replay.py)
_TR_APP_DRIVERS = (1 << TR_SCREEN) | (1 << TR_APP)  # the app opens follow a replayed screen or app
_TR_NET_BIT = 1 << TR_NETWORK
_TR_PLUGGED_BIT = 1 << TR_PLUGGED
_TR_TEMP_BIT = 1 << TR_TEMPERATURE


# ---------------------------------------------------------------------------
# Entry points the host calls: a batch of devices (``idx`` picks them)
# ---------------------------------------------------------------------------
@kjit
def _advance_device(i, pidx, pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, obs, acts, tr) -> None:
    """``advance`` for device ``i`` of the batch arrays: its scenario row ``pidx[i]`` of
    ``pf``/``ph``, its rows of the state arrays, and the trace records from its own row
    ``si[i, I_TR_OFF]`` of the shared pool on."""
    r = pidx[i]
    advance(
        pf[r],
        ph[r],
        sf[i],
        si[i],
        items[i],
        reqs[i],
        jobs[i],
        rng[i],
        ev[i],
        tts[i],
        obs[i],
        acts[i],
        tr[si[i, I_TR_OFF] :],
    )


@kjit
def advance_batch(idx, pidx, pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, obs, acts, tr) -> int:
    """``advance`` for the devices listed in ``idx``; returns how many of them stopped
    short of a decision and need the host (0 in the common case: nothing to check).

    ``pf`` ``[R, NP]`` and ``ph`` ``[R, NH, 24]`` are tables of compiled scenarios and
    device ``i`` runs with row ``pidx[i]`` (one row shared by a batch of one scenario; a
    fleet gives each device its own scenario this way). ``tr`` is the pool of trace
    records the devices share (:func:`_advance_device`)."""
    waiting = 0
    for j in range(idx.shape[0]):
        _advance_device(idx[j], pidx, pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, obs, acts, tr)
        waiting += _needs_host(si[idx[j], I_STATUS])
    return waiting


@kjit(parallel=True)
def advance_batch_parallel(idx, pidx, pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, obs, acts, tr) -> int:
    """``advance_batch`` with the devices spread over numba's threads (for large
    batches: the devices are independent, so results do not depend on the threads)."""
    for j in prange(idx.shape[0]):
        _advance_device(idx[j], pidx, pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, obs, acts, tr)
    waiting = 0  # counted after the loop: a reduction inside it would need numba's allocator
    for j in range(idx.shape[0]):
        waiting += _needs_host(si[idx[j], I_STATUS])
    return waiting


@kjit(inline="always")
def _needs_host(status: int) -> int:
    """1 when a device stopped short of a decision (event-log flush, or stuck), else 0."""
    return 1 if (status == STATUS_NEED_FLUSH or status == STATUS_STUCK) else 0


@kjit
def reset_batch(idx, pidx, pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, obs, tr) -> None:
    """``reset_device`` for the devices in ``idx`` (scenario row ``pidx[i]`` of the
    tables ``pf``, ``ph``), writing their first observation."""
    for j in range(idx.shape[0]):
        i = idx[j]
        r = pidx[i]
        reset_device(
            pf[r], ph[r], sf[i], si[i], items[i], reqs[i], jobs[i], rng[i], ev[i], tts[i], tr[si[i, I_TR_OFF] :]
        )
        write_obs(pf[r], sf[i], si[i], items[i], reqs[i], obs[i])


@kjit
def write_masks_batch(idx, pidx, pf, sf, si, items, reqs, mask) -> None:
    """``write_masks`` for the devices in ``idx``: row ``j`` of ``mask`` (bool
    ``[len(idx), sum(nvec)]``) for device ``idx[j]``, with its scenario row ``pidx[i]``."""
    for j in range(idx.shape[0]):
        i = idx[j]
        write_masks(pf[pidx[i]], sf[i], si[i], items[i], reqs[i], mask[j])


@kjit
def first_action_out_of_range(acts, nvec) -> int:
    """Index of the first row of int64 actions ``acts`` ``[N, parts]`` with a part outside
    ``0..nvec-1``; -1 when every action is in the space."""
    for i in range(acts.shape[0]):
        for k in range(acts.shape[1]):
            if acts[i, k] < 0 or acts[i, k] >= nvec[k]:
                return i
    return -1


# ---------------------------------------------------------------------------
# One device's step: apply the action, then run from event to event to the next decision
# ---------------------------------------------------------------------------
@kjit
def advance(pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, obs, acts, tr) -> None:
    """Apply ``acts`` (unless resuming) and run to the next decision point or the horizon.
    Sets ``si[I_STATUS]``; on STATUS_OK the observation row ``obs`` is written."""
    if si[I_DONE] != 0:
        si[I_STATUS] = STATUS_DONE
        return
    # ``recompute`` has one call site (it inlines the launch gates: one copy compiles
    # faster): it runs after the action and after every event, before the phase check
    dirty = False
    phase = PH_NONE
    if si[I_RESUME] == 0:
        sf[S_REWARD] = 0.0
        sf[S_COST] = 0.0
        _apply_action(pf, sf, si, items, reqs, jobs, rng, ev, acts)
        dirty = True
        si[I_RESUME] = 1
    stuck = 0
    while True:
        if dirty:
            transfer_update(pf, sf, si, ev)
            recompute(pf, ph, sf, si, items, reqs, jobs)
            dirty = False
            if phase != PH_NONE:
                si[I_PHASE] = phase
                break
        if si[I_EV_ON] != 0 and EV_BUF - si[I_EV_N] < EV_MARGIN:
            si[I_STATUS] = STATUS_NEED_FLUSH
            return
        k = 0
        tk = sf[S_EV]
        for j in range(1, NEV):
            if sf[S_EV + j] < tk:
                tk = sf[S_EV + j]
                k = j
        if tk <= sf[S_T]:
            stuck += 1
            if stuck > MAX_SAME_TIME_EVENTS:
                si[I_STATUS] = STATUS_STUCK  # no raise here: the batch loop may run in threads
                return
        else:
            stuck = 0
        if si[I_TR_LN] != 0:  # recorded level samples to compare (the same answer a device's whole step)
            _trace_levels(sf, si, tr, tk)
        _advance_time(pf, sf, si, tk)
        si[I_EVENTS] += 1
        was_off = si[I_OFF]
        phase = _handle(pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, tr, k)
        if was_off != 0 and si[I_OFF] == 0:
            _boot(pf, ph, sf, si, rng, ev)  # plugged in (or a forced recorded level above 0)
        if sf[S_BATT] <= EPS and si[I_CHARGING] == 0 and si[I_OFF] == 0:
            _shutdown(pf, sf, si, items, rng, ev)  # the battery ran empty: nobody is left to decide
            phase = PH_NONE
        if si[I_DONE] != 0:
            si[I_PHASE] = PH_NONE
            break
        p2 = _check_window(pf, sf, si, reqs, jobs, rng, ev)
        if p2 != PH_NONE and phase == PH_NONE:
            phase = p2
        if phase == PH_CHUNK and si[I_WIN_ACTIVE] == 0:
            phase = PH_NONE  # the window ended with the chunk: nothing to decide
        dirty = True
    si[I_RESUME] = 0
    si[I_STATUS] = STATUS_OK
    si[I_STEPS] += 1
    write_obs(pf, sf, si, items, reqs, obs)


@kjit
def _apply_action(pf, sf, si, items, reqs, jobs, rng, ev, acts) -> None:
    """Apply one action ``acts`` (request option, delay bin, chunk bin, work kind): submit
    the request, if any; inside a window between chunks, report completion (chunk bin 0)
    or start a chunk of that size of that kind (0 = auto). A chunk or kind chosen
    outside a window is an invalid action."""
    opt, delay_bin, chunk_bin, kind_choice = acts[0], acts[1], acts[2], acts[3]
    between = _between_chunks(si)
    if opt > 0:
        submit_request(pf, sf, si, items, reqs, rng, ev, opt, pf[P_DELAY_BINS + delay_bin])
    if between:
        if chunk_bin == 0:
            complete_window(pf, sf, si, jobs, ev, pending_units(si, items, -1))
        elif not start_chunk(pf, sf, si, items, reqs, rng, ev, pf[P_CHUNK_BINS + chunk_bin], kind_choice - 1):
            invalid_action(pf, sf)  # nothing workable: the app reports completion instead
            complete_window(pf, sf, si, jobs, ev, pending_units(si, items, -1))
    elif chunk_bin != 0 or kind_choice != 0:
        invalid_action(pf, sf)


@kjit(inline="always")
def _between_chunks(si) -> bool:
    """The agent decides inside a running window with no chunk in flight: it may start a
    chunk or report completion (``_apply_action``, ``write_masks``)."""
    phase = si[I_PHASE]
    return (phase == PH_WINDOW or phase == PH_CHUNK) and si[I_WIN_ACTIVE] != 0 and si[I_CHUNK_ACTIVE] == 0


# ---------------------------------------------------------------------------
# One event: move the clock, handle the event, check the running window
# ---------------------------------------------------------------------------
@kjit(inline="always")
def _advance_time(pf, sf, si, t_new: float) -> None:
    """Move the clock to ``t_new`` (s): consume the hazard clocks, move the battery and
    spend the chunk's energy, and add the elapsed time to the episode's time shares."""
    t = sf[S_T]
    dt = t_new - t
    if dt <= 0.0:
        return
    for k in range(NHZ):
        sf[S_HZ_REM + k] -= sf[S_HZ_RATE + k] * dt
    integrate(sf, dt)
    if si[I_CHUNK_ACTIVE] != 0:
        spend(pf, sf, si, background_power(pf, si) * dt)
        if si[I_WIN_TYPE] == WT_PROCESSING and pf[P_K_CPU + si[I_CHUNK_KIND]] >= pf[P_CPU_KILL_FRAC]:
            sf[S_CPU_UNPLUGGED] += dt
    if si[I_SCREEN] != 0:
        sf[M_SCREEN_S] += dt
    if si[I_CHARGING] != 0:
        sf[M_CHARGING_S] += dt
        if si[I_TR_FORCE] == LEVEL_ANCHORED:  # the charger also recharges what the app drew off it
            sf[S_TR_REPAID] = min(sf[M_BATTERY_COST], sf[S_TR_REPAID] + sf[S_CHARGE_OFF] * dt)
    net = NET_NONE if si[I_DROP] != 0 else si[I_NET_BASE]
    if net == NET_WIFI:
        sf[M_WIFI_S] += dt
    elif net == NET_CELL:
        sf[M_CELL_S] += dt
    if si[I_LOWPOWER] != 0:
        sf[M_LOWPOWER_S] += dt
    if si[I_OFF] != 0:
        sf[M_OFF_S] += dt
    if si[I_DOZE] == DZ_DEEP_IDLE or si[I_DOZE] == DZ_DEEP_MAINT:
        sf[M_DEEP_DOZE_S] += dt
    transfer_progress(pf, sf, si, dt)
    sf[S_T] = t_new


@kjit(inline="always")
def _handle(pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, tr, k: int) -> int:
    """Handle event clock ``k`` at the current time; returns a decision phase or 0."""
    android = pf[P_PLATFORM] == PLATFORM_ANDROID
    if (si[I_TR_BLOCK] >> k) & 1 != 0:  # a synthetic driver of a channel the trace drives (replay.block_mask)
        silence(sf, k)
        return PH_NONE
    if k == EV_SCREEN_ON:
        _draw_gap(sf, si, rng)  # U2: Weibull gaps
    elif k < NHZ:
        sf[S_HZ_REM + k] = expo(si, rng, clock_stream(k), 1.0)
    if k == EV_HOUR:
        si[I_HOUR] = (si[I_HOUR] + 1) % 24
        sf[S_EV + EV_HOUR] += 3600.0
        _hourly_rates(ph, sf, si)
        _log_level(sf, si, items, ev)
    elif k == EV_HORIZON:
        si[I_DONE] = 1
        sf[S_EV + EV_HORIZON] = INF
    elif k == EV_APP_OPEN:
        _open_app(pf, sf, si, items, rng, ev, tts)
    elif k == EV_APP_CLOSE:
        return _close_app(pf, sf, si, items, rng, ev, si[I_TR_SCREEN] == 1 and replayed(si, TR_SCREEN))
    elif k == EV_SCREEN_ON:
        screen_on(pf, sf, si, rng, ev)
        doze_wake(pf, sf, si, ev)
    elif k == EV_SCREEN_OFF:
        screen_off(sf, si, ev)
        doze_consider(pf, sf, si, ev)
    elif k == EV_NET:
        network_change(pf, ph, sf, si, rng, ev, user_hour(si))
    elif k == EV_DROP:
        network_drop(pf, sf, si, rng, ev)
    elif k == EV_DROP_END:
        network_drop_end(sf, si, ev)
    elif k == EV_MOTION:
        motion(sf)
        if android:
            if si[I_DOZE] == DZ_DEEP_IDLE or si[I_DOZE] == DZ_DEEP_MAINT:
                doze_wake(pf, sf, si, ev)
            else:
                doze_consider(pf, sf, si, ev)
    elif k == EV_THERMAL:
        cpu = pf[P_K_CPU + si[I_CHUNK_KIND]] if si[I_CHUNK_ACTIVE] != 0 else 0.0
        thermal_step(pf, sf, si, rng, ev, cpu)
    elif k == EV_ARR_UPLOAD:
        work_arrival(pf, sf, si, items, rng, ev, KIND_UPLOAD)
    elif k == EV_ARR_REFRESH:
        work_arrival(pf, sf, si, items, rng, ev, KIND_REFRESH)
    elif k == EV_ARR_HEAVY:
        work_arrival(pf, sf, si, items, rng, ev, KIND_HEAVY)
    elif k >= EV_LAUNCH and k < EV_LAUNCH + NSLOT:
        return grant_window(pf, sf, si, reqs, jobs, rng, ev, k - EV_LAUNCH)
    elif k == EV_BEDTIME:
        was = si[I_CHARGING]
        bedtime(pf, sf, si, rng, ev)
        if si[I_CHARGING] != was:
            doze_wake(pf, sf, si, ev)
    elif k == EV_TOPUP:
        topup(pf, sf, si, rng, ev)
        doze_wake(pf, sf, si, ev)
    elif k == EV_PLUGIN:
        _set_hazard(sf, EV_PLUGIN, sf[S_HZ_RATE + EV_PLUGIN])  # its remaining hazard was redrawn
        if daytime_plugin(pf, sf, si, rng, ev):
            doze_wake(pf, sf, si, ev)
    elif k == EV_CHARGE_STOP:
        stop_charging(pf, sf, si, rng, ev)
        doze_consider(pf, sf, si, ev)
    elif k == EV_BATT:  # a threshold crossed, or the end of a charging hold (rate 0: nothing to do)
        threshold_crossed(pf, sf, si, rng, ev, sf[S_BATT_RATE])
    elif k == EV_DOZE:
        pending = False
        for j in range(NSLOT):
            if reqs[j, RQ_ACTIVE] != 0.0:
                pending = True
        doze_timer(pf, sf, si, ev, pending)
    elif k == EV_BUCKET:
        update_bucket(pf, sf, si, ev)
    elif k == EV_WIN_END:
        end_window(pf, sf, si, reqs, jobs, rng, ev, END_EXPIRED)
    elif k == EV_CHUNK_END:
        return chunk_end(pf, sf, si, items, reqs, jobs, rng, ev, tts)
    elif k == EV_DEADLINE:
        _deadlines(pf, sf, si, items, ev)
    elif k == EV_WAKE:
        sf[S_EV + EV_WAKE] = INF
    elif k == EV_TRANSFER:
        sf[S_EV + EV_TRANSFER] = INF
        transfer_event(pf, sf, si, items, reqs, rng, ev, tts)
    elif k == EV_TRACE:
        return _trace_event(pf, ph, sf, si, items, rng, ev, tts, tr)
    return PH_NONE


@kjit(inline="always")
def _open_app(pf, sf, si, items, rng, ev, tts) -> None:
    """The user opens the app (``EV_APP_OPEN``, or a replayed trace's open)."""
    if si[I_SCREEN] == 1:
        sf[S_EV + EV_SCREEN_OFF] = INF
    ej_earn(pf, sf, pf[P_EJ_REFILL_OPEN])
    app_open(pf, sf, si, items, rng, ev, tts)
    transfer_open(sf)
    history_open(pf, sf, si[I_HOUR])
    update_bucket(pf, sf, si, ev)
    doze_wake(pf, sf, si, ev)


@kjit(inline="always")
def _close_app(pf, sf, si, items, rng, ev, keep_screen: bool) -> int:
    """The user leaves the app (``EV_APP_CLOSE``, or a replayed trace's close or screen-off;
    ``keep_screen``: the recorded screen stays on); returns the decision phase."""
    ej_earn(pf, sf, pf[P_EJ_REFILL_SCREEN] * (sf[S_T] - sf[S_LAST_OPEN]))  # row 12: the app's own time on top
    sf[S_LAST_CLOSE] = sf[S_T]
    fq = app_close(pf, sf, si, items, rng, ev, keep_screen)
    if fq and pf[P_FORCE_QUIT_STOPS] != 0.0:
        transfer_force_quit(sf, si, ev)  # row 73 (iOS); Android's swipe is no force-stop
    if not keep_screen:
        doze_consider(pf, sf, si, ev)
    if not (fq and pf[P_FORCE_QUIT_STOPS] != 0.0):
        return PH_BACKGROUND
    return PH_NONE


@kjit(inline="always")
def _shutdown(pf, sf, si, items, rng, ev) -> None:
    """The battery ran empty unplugged: the phone shuts down until it is plugged in
    (``device.start_charging`` starts it again, then ``_boot``). The app in front closes
    without a decision (nobody is there to take one) and the screen goes off; meanwhile
    ``stop_reason`` ends the running window, ``recompute`` holds the user's screen and
    app clocks, the phone's own sensing (motion, the synthetic network's changes and
    drops), the uploads its user makes (content published elsewhere still arrives) and the
    OS's launches, ``battery_rate`` the drain, ``transfer_net`` the transfer, and a
    replayed trace's screen and app records are not applied. Only a replayed
    charger can leave the level to run out: the synthetic user plugs in at
    ``plug_now_level`` (U14). With the recorded level forced (``I_TR_FORCE``), a recorded
    level above 0 starts it again too."""
    si[I_OFF] = 1
    log_event(sf, si, ev, EVK_POWER, 0.0, sf[S_BATT], 0.0, 0.0)
    if si[I_APP_FG] != 0:
        _close_app(pf, sf, si, items, rng, ev, False)
    if si[I_SCREEN] != 0:
        screen_off(sf, si, ev)


@kjit(inline="always")
def _boot(pf, ph, sf, si, rng, ev) -> None:
    """A shut-down phone starts again (``_shutdown``): its idle timers restart from now
    (no motion was sensed while it was off), and, unless a trace drives the network, it
    joins the network of the hour: ``network_change`` draws a state that does not depend
    on the one before, so one draw now stands for the changes held while it was off."""
    log_event(sf, si, ev, EVK_POWER, 1.0, sf[S_BATT], 0.0, 0.0)
    sf[S_LAST_MOTION] = sf[S_T]
    if si[I_TR_ON] & _TR_NET_BIT == 0:
        network_change(pf, ph, sf, si, rng, ev, user_hour(si))


# ---------------------------------------------------------------------------
# Replay: one record of the device's trace (see ``replay.py``)
# ---------------------------------------------------------------------------
@kjit(inline="always")
def _trace_event(pf, ph, sf, si, items, rng, ev, tts, tr) -> int:
    """Apply the trace record at the cursor (the ``EV_TRACE`` clock) through the same
    handlers the user model uses, move the cursor and the clock to the next record;
    returns a decision phase (the app left) or 0.

    Inlined (with ``_trace_apply``) into the event loop like the user model's own
    handlers: as calls, every replayed record paid for passing a dozen arrays twice, and
    a trace that drives the screen, the app and the network replayed about 10 % slower a
    step (``bgenv bench --sections replay``, the replayed synthetic weeks)."""
    pos = si[I_TR_POS]
    n = si[I_TR_N]
    if pos >= n:
        sf[S_EV + EV_TRACE] = INF
        return PH_NONE
    ch = int(tr[pos, 1])
    v = tr[pos, 2]
    si[I_TR_POS] = pos + 1
    sf[S_EV + EV_TRACE] = tr[pos + 1, 0] if pos + 1 < n else INF
    return _trace_apply(pf, ph, sf, si, items, rng, ev, tts, tr, ch, v)


@kjit(inline="always")
def _trace_levels(sf, si, tr, t_new: float) -> None:
    """Compare the recorded battery level samples up to ``t_new`` (s) with the simulated
    level at their times (it moves linearly at ``S_BATT_RATE`` until the next event, as
    ``battery.integrate`` moves it; a running chunk's energy is spent at the event, so it
    shows from then on). The samples are the buffer's second segment (records
    ``I_TR_N`` .. ``I_TR_N + I_TR_LN``), so they cost no event of their own; ``S_TR_LNEXT``
    holds the next one's time (inf when none is left).

    Runs before every event of a device with samples, without branching on whether one is
    due (about one event in six has one, at no pattern a branch predictor could learn):
    the next sample's term is computed either way and added only when due (a select; an
    added 0.0 leaves the non-negative sums as they are, so they are the same bit for bit);
    a second sample due before the same event takes the loop."""
    end = si[I_TR_N] + si[I_TR_LN]
    r = si[I_TR_LPOS]
    tn = sf[S_TR_LNEXT]
    t = sf[S_T]
    due = tn <= t_new
    last = end - 1
    rr = r if r < last else last
    v = tr[rr, 2]
    d = min(1.0, max(0.0, sf[S_BATT] + sf[S_BATT_RATE] * (tn - t))) - v
    use = due & (v == v)
    sf[M_TR_GAP2] += d * d if use else 0.0
    sf[M_TR_GAPN] += 1.0 if use else 0.0
    r += 1 if due else 0
    rn = r if r < last else last
    nxt = tr[rn, 0] if r < end else INF
    tn = nxt if due else tn
    while tn <= t_new:  # rare: two samples before one event
        v = tr[r, 2]
        if v == v:
            d = min(1.0, max(0.0, sf[S_BATT] + sf[S_BATT_RATE] * (tn - t))) - v
            sf[M_TR_GAP2] += d * d
            sf[M_TR_GAPN] += 1.0
        r += 1
        tn = tr[r, 0] if r < end else INF
    si[I_TR_LPOS] = r
    sf[S_TR_LNEXT] = tn


@kjit(inline="always")
def _trace_apply(pf, ph, sf, si, items, rng, ev, tts, tr, ch: int, v: float) -> int:
    """Channel ``ch`` is recorded as ``v`` from now on (NaN: not recorded: the channel
    goes back to the user model)."""
    t = sf[S_T]
    if ch == TR_LEVEL:
        if v == v:
            si[I_TR_SEEN] |= bit(TR_LEVEL)
            d = sf[S_BATT] - v
            sf[M_TR_GAP2] += d * d
            sf[M_TR_GAPN] += 1.0
            if si[I_TR_FORCE] != LEVEL_COMPARED:  # set: to the sample, less the app's unrecharged energy when anchored
                owed = sf[M_BATTERY_COST] - sf[S_TR_REPAID] if si[I_TR_FORCE] == LEVEL_ANCHORED else 0.0
                sf[S_BATT] = min(1.0, max(0.0, v - owed))
                if sf[S_BATT] < sf[M_BATT_MIN]:
                    sf[M_BATT_MIN] = sf[S_BATT]
                if sf[S_BATT] > EPS:
                    si[I_OFF] = 0  # the recorded phone has charge: a shut-down one starts again
        return PH_NONE
    if ch == TR_DOZE and not doze_replays(pf):
        return PH_NONE  # iOS, or Doze off in the scenario: the channel is ignored
    if v != v:  # not recorded from here on: the user model takes the channel back
        if replayed(si, ch):
            si[I_TR_ON] &= ~bit(ch)
            si[I_TR_BLOCK] = block_mask(si[I_TR_ON])
            _trace_release(pf, ph, sf, si, ev, rng, ch)
        return PH_NONE
    if not replayed(si, ch):
        si[I_TR_ON] |= bit(ch)
        si[I_TR_BLOCK] = block_mask(si[I_TR_ON])
    si[I_TR_SEEN] |= bit(ch)
    on = v >= 0.5
    if ch == TR_SCREEN:
        si[I_TR_SCREEN] = 1 if on else 0
        sf[S_EV + EV_SCREEN_OFF] = INF
        if on and si[I_SCREEN] == 0 and si[I_OFF] == 0:  # a phone shut down stays dark
            if not replayed(si, TR_APP) and uniform(si, rng, USER) < app_share(sf):
                _open_app(pf, sf, si, items, rng, ev, tts)  # its session ends when drawn or with the screen
            else:
                screen_on(pf, sf, si, rng, ev)
                sf[S_EV + EV_SCREEN_OFF] = INF
                doze_wake(pf, sf, si, ev)
        elif not on and si[I_SCREEN] != 0:
            if si[I_APP_FG] != 0:
                return _close_app(pf, sf, si, items, rng, ev, False)
            screen_off(sf, si, ev)
            doze_consider(pf, sf, si, ev)
    elif ch == TR_APP:
        if on and si[I_APP_FG] == 0 and si[I_OFF] == 0:
            _open_app(pf, sf, si, items, rng, ev, tts)
            sf[S_EV + EV_APP_CLOSE] = INF
        elif not on and si[I_APP_FG] != 0:
            return _close_app(pf, sf, si, items, rng, ev, si[I_TR_SCREEN] == 1 and replayed(si, TR_SCREEN))
    elif ch == TR_PLUGGED:
        if on and si[I_CHARGING] == 0:
            until = next_change(si, tr, si[I_TR_POS], TR_PLUGGED, 1.0)
            if until == INF:
                until = sf[S_EV + EV_HORIZON]
            start_charging(pf, sf, si, ev, until, overnight(pf, t, until))
            sf[S_EV + EV_CHARGE_STOP] = INF
            doze_wake(pf, sf, si, ev)
        elif not on and si[I_CHARGING] != 0:
            stop_charging(pf, sf, si, rng, ev)
            doze_consider(pf, sf, si, ev)
        sf[S_EV + EV_TOPUP] = INF
        sf[S_EV + EV_BEDTIME] = INF
    elif ch == TR_NETWORK:
        net = int(v)
        if net != si[I_NET_BASE] and net >= NET_NONE and net <= NET_WIFI:
            si[I_NET_BASE] = net
            log_event(sf, si, ev, EVK_NETWORK, net, 0.0, 0.0, 0.0)
    elif ch == TR_LOW_POWER:
        set_low_power(sf, si, ev, on)
    elif ch == TR_TEMPERATURE:
        level = thermal_of(pf, v)
        if level != si[I_THERMAL]:
            si[I_THERMAL] = level
            log_event(sf, si, ev, EVK_THERMAL, level, 0.0, 0.0, 0.0)
    elif ch == TR_DOZE:
        doze_follow(pf, sf, si, ev, int(v))
    return PH_NONE


@kjit
def _trace_release(pf, ph, sf, si, ev, rng, ch: int) -> None:
    """The trace stops recording channel ``ch``: restart the user model's drivers of it
    from the current state."""
    t = sf[S_T]
    if ch == TR_SCREEN:
        if si[I_SCREEN] == 1:
            sf[S_EV + EV_SCREEN_OFF] = t + screen_session(pf, sf, si, rng)
        _draw_gap(sf, si, rng)
    elif ch == TR_APP:
        if si[I_APP_FG] != 0:
            sf[S_EV + EV_APP_CLOSE] = t + app_session(pf, sf, si, rng)
    elif ch == TR_PLUGGED:
        jit = pf[P_CHARGE_JITTER_S]
        sf[S_EV + EV_BEDTIME] = next_daily(t, sf[S_U_BEDTIME_H], si, rng, jit)
        if si[I_CHARGING] != 0:
            sf[S_CHARGE_PLAN_STOP] = t + expo(si, rng, SYS, pf[P_TOPUP_DURATION_S])
            sf[S_EV + EV_CHARGE_STOP] = sf[S_CHARGE_PLAN_STOP]
        else:
            topup_if_below(pf, sf, si, rng)
        _hourly_rates(ph, sf, si)
    elif ch == TR_DOZE:
        doze_release(pf, sf, si, ev)


@kjit(inline="always")
def _check_window(pf, sf, si, reqs, jobs, rng, ev) -> int:
    """End the running window when the OS stops it (``scheduler.stop_reason``), or fail
    the chunk in flight when its network went away; returns a decision phase or 0."""
    if si[I_WIN_ACTIVE] == 0:
        return PH_NONE
    reason = stop_reason(pf, sf, si)
    if reason != END_NONE:
        end_window(pf, sf, si, reqs, jobs, rng, ev, reason)
        return PH_NONE
    if si[I_CHUNK_ACTIVE] != 0 and pf[P_K_NET + si[I_CHUNK_KIND]] != 0.0:
        if not window_has_net(pf, si):
            return chunk_fail(pf, sf, si, ev)
    return PH_NONE


@kjit(inline="always")
def _deadlines(pf, sf, si, items, ev) -> None:
    """Mark the items whose soft deadline has passed (each counted and penalised once)."""
    t = sf[S_T]
    for r in range(si[I_ITEMS_HI]):
        if items[r, IT_ACTIVE] != 0.0 and items[r, IT_OVERDUE] == 0.0 and items[r, IT_DEADLINE] <= t + 1e-9:
            items[r, IT_OVERDUE] = 1.0
            si[I_ITEMS_DIRTY] = 1
            sf[M_DEADLINES_MISSED] += 1.0
            reward_deadline(pf, sf)
            log_event(sf, si, ev, EVK_DEADLINE, items[r, IT_KIND], items[r, IT_REM], t - items[r, IT_ARRIVE], 0.0)


# ---------------------------------------------------------------------------
# After every change: re-derive the rates of the hazard clocks and the next wake-ups
# ---------------------------------------------------------------------------
@kjit(inline="always")
def recompute(pf, ph, sf, si, items, reqs, jobs) -> None:
    """Re-derive every rate and deterministic wake-up from the current state."""
    t = sf[S_T]
    h = si[I_HOUR]
    tron = si[I_TR_ON]  # channels a replayed trace drives: their synthetic clocks stay off (replay.py)
    off = si[I_OFF] != 0  # shut down (_shutdown): no use, no launches, no drain until plugged in
    _set_hazard(sf, EV_APP_OPEN, 0.0 if si[I_APP_FG] != 0 or tron & _TR_APP_DRIVERS != 0 or off else sf[S_RATE_APP])
    _set_hazard(sf, EV_SCREEN_ON, 0.0 if si[I_SCREEN] != 0 or tron & _TR_SCREEN_BIT != 0 or off else sf[S_RATE_SCREEN])
    net_held = tron & _TR_NET_BIT != 0 or off  # the trace drives the network, or the phone is off
    _set_hazard(sf, EV_NET, 0.0 if net_held else pf[P_NET_CHANGE_PER_S])
    drop_rate = 0.0 if (si[I_DROP] != 0 or si[I_NET_BASE] == NET_NONE or net_held) else pf[P_DROPS_PER_S]
    _set_hazard(sf, EV_DROP, drop_rate)
    _set_hazard(sf, EV_MOTION, 0.0 if off else sf[S_RATE_MOTION])
    # (the daytime plug-in clock's rate changes only with the hour: set in _hourly_rates)
    cpu = pf[P_K_CPU + si[I_CHUNK_KIND]] if si[I_CHUNK_ACTIVE] != 0 else 0.0
    up, down = thermal_rates(pf, si, cpu)
    _set_hazard(sf, EV_THERMAL, 0.0 if tron & _TR_TEMP_BIT != 0 else up + down)
    _set_hazard(sf, EV_ARR_UPLOAD, 0.0 if off else ph[H_UPLOAD_PER_S, h])
    _set_hazard(sf, EV_ARR_REFRESH, ph[H_PUBLISH_PER_S, h])
    _set_hazard(sf, EV_ARR_HEAVY, pf[P_HEAVY_PER_S])
    wake = INF
    for j in range(NSLOT):
        if reqs[j, RQ_ACTIVE] == 0.0 or off:
            _set_hazard(sf, EV_LAUNCH + j, 0.0)
            continue
        rate, w, throttled = launch_rate(pf, ph, sf, si, reqs, jobs, j, h)
        if throttled and reqs[j, RQ_THROTTLED] == 0.0:
            reqs[j, RQ_THROTTLED] = 1.0
            sf[M_THROTTLED] += 1.0
            reward_throttle(pf, sf)
        _set_hazard(sf, EV_LAUNCH + j, rate)
        if w < wake:
            wake = w
    if si[I_TEMP_EXEMPT] != 0:
        if t >= sf[S_TEMP_EXEMPT_UNTIL]:
            si[I_TEMP_EXEMPT] = 0
        else:
            wake = min(wake, sf[S_TEMP_EXEMPT_UNTIL])
    if si[I_WIN_ACTIVE] != 0 and pf[P_OEM_KILLER] != 0.0 and si[I_CHARGING] == 0:
        wake = min(wake, oem_strikes_at(pf, sf))  # the OEM killer stops the window
    sf[S_EV + EV_WAKE] = max(wake, t + 1e-3) if wake < INF else INF
    rate = battery_rate(pf, sf, si, background_power(pf, si) + transfer_power(pf, si))
    sf[S_BATT_RATE] = rate
    sf[S_EV + EV_TRANSFER] = transfer_next(pf, sf, si)
    sf[S_EV + EV_BATT] = next_battery_event(pf, sf, si, rate)
    if si[I_ITEMS_DIRTY] != 0:  # the backlog only changes on arrivals, completions and deadlines
        sf[S_EV + EV_DEADLINE] = next_deadline(si, items)
        si[I_ITEMS_DIRTY] = 0


@kjit(inline="always")
def _hourly_rates(ph, sf, si) -> None:
    """This hour's rates of the user's hazard clocks, from the archetype's tables at the
    device's own hour (its day shifted, U7) and its own factors (U1, U9-U10, U15); the
    daytime plug-in clock, whose rate changes only here, is set here too."""
    hu = user_hour(si)
    sf[S_RATE_APP] = ph[H_APP_OPENS_PER_S, hu] * sf[S_U_APP_SCALE]
    sf[S_RATE_SCREEN] = ph[H_SCREEN_PER_S, hu] * sf[S_U_SCREEN_SCALE]
    sf[S_RATE_MOTION] = ph[H_MOTION_PER_S, hu]
    if si[I_TR_ON] & _TR_PLUGGED_BIT != 0:
        _set_hazard(sf, EV_PLUGIN, 0.0)  # a replayed trace plugs in
    else:
        _set_hazard(sf, EV_PLUGIN, ph[H_PLUGIN_PER_S, hu] * sf[S_U_PLUGINS_PER_DAY])


@kjit(inline="always")
def _set_hazard(sf, k: int, rate: float) -> None:
    """Set hazard clock ``k``'s rate (1/s) and the time its remaining hazard runs out."""
    sf[S_HZ_RATE + k] = rate
    if rate > 0.0:
        sf[S_EV + k] = sf[S_T] + max(0.0, sf[S_HZ_REM + k]) / rate
    else:
        sf[S_EV + k] = INF


@kjit(inline="always")
def clock_stream(k: int) -> int:
    """Hazard clocks the agent cannot influence draw from the USER stream."""
    if k == EV_THERMAL or k >= EV_LAUNCH:
        return SYS
    return USER


@kjit(inline="always")
def _draw_gap(sf, si, rng) -> None:
    """Draw the screen-on clock's next gap (U2) and keep it as drawn (``S_HZ_GAP``), so
    that ``forget_device`` knows how much of it has passed."""
    g = gap_hazard(sf, si, rng)
    sf[S_HZ_GAP] = g
    sf[S_HZ_REM + EV_SCREEN_ON] = g


@kjit
def forget_device(sf, si, rng) -> None:
    """Forget when the hazard clocks will fire: re-draw each one's remaining hazard from
    its distribution given only what has happened so far, from the device's own streams.

    The exponential clocks (app opens, networks, drops, motion, thermal, work arrivals,
    daytime plug-ins, the OS's launch of each pending request) are memoryless: a fresh
    unit exponential is the remaining hazard's exact distribution however long the clock
    has run. The screen-on clock's gap is Weibull (U2, shape below 1): it is drawn again
    from the Weibull's tail beyond the hazard consumed since the screen went off
    (``device.gap_hazard_after``). A running clock
    (finite next time) gets its next time anew at its current rate; clocks a replayed
    trace blocks are left alone. Deterministic times (the end of the current screen or app
    session, of a network drop, tonight's bedtime, the end of a charge) stay as they were
    drawn when the session, drop, day or charge began. Used by planners that must not
    know the future (``agents.planning``)."""
    t = sf[S_T]
    block = si[I_TR_BLOCK]
    for k in range(NHZ):
        if (block >> k) & 1 != 0:
            continue
        if k == EV_SCREEN_ON:
            c = max(0.0, sf[S_HZ_GAP] - sf[S_HZ_REM + k])  # hazard consumed since the screen went off
            g = gap_hazard_after(sf, si, rng, c)
            sf[S_HZ_GAP] = g
            sf[S_HZ_REM + k] = g - c
        else:
            sf[S_HZ_REM + k] = expo(si, rng, clock_stream(k), 1.0)
        rate = sf[S_HZ_RATE + k]
        if rate > 0.0 and sf[S_EV + k] < INF:
            sf[S_EV + k] = t + sf[S_HZ_REM + k] / rate


@kjit
def forget_batch(idx, sf, si, rng) -> None:
    """``forget_device`` for each device of ``idx``."""
    for i in idx:
        forget_device(sf[i], si[i], rng[i])


# ---------------------------------------------------------------------------
# A new episode
# ---------------------------------------------------------------------------
@kjit
def reset_device(pf, ph, sf, si, items, reqs, jobs, rng, ev, tts, tr) -> None:
    """Start a new episode for one device (the random streams and event log go on). With
    a trace (``I_TRACE``), its records up to the start give the starting state and the
    rest drive the channels they record (``replay.py``)."""
    draws_user = si[I_RNG_DRAWS]
    draws_sys = si[I_RNG_DRAWS + 1]
    evn = si[I_EV_N]
    evon = si[I_EV_ON]
    trace = si[I_TRACE]
    tr_off = si[I_TR_OFF]
    tr_n = si[I_TR_N]
    tr_force = si[I_TR_FORCE]
    tr_ln = si[I_TR_LN]
    sf[:] = 0.0
    si[:] = 0
    items[:, :] = 0.0
    reqs[:, :] = 0.0
    jobs[:, :] = INF
    si[I_RNG_DRAWS] = draws_user
    si[I_RNG_DRAWS + 1] = draws_sys
    si[I_EV_N] = evn
    si[I_EV_ON] = evon
    si[I_TRACE] = trace
    si[I_TR_OFF] = tr_off
    si[I_TR_N] = tr_n
    si[I_TR_FORCE] = tr_force
    si[I_TR_LN] = tr_ln
    si[I_TR_SCREEN] = -1
    t0 = pf[P_START_HOUR] * 3600.0
    sf[S_T] = t0
    sf[S_T0] = t0
    sf[S_HIST_T] = t0
    sf[S_RECENT_T] = t0
    lo = pf[P_BATT_INIT_LO]
    sf[S_BATT] = lo + (pf[P_BATT_INIT_HI] - lo) * uniform(si, rng, USER)
    sf[M_BATT_MIN] = sf[S_BATT]
    draw_device(pf, sf, si, rng)  # this device's own user and battery
    for k in range(NEV):
        sf[S_EV + k] = INF
    for k in range(NHZ):
        if k == EV_SCREEN_ON:
            _draw_gap(sf, si, rng)
        else:
            sf[S_HZ_REM + k] = expo(si, rng, clock_stream(k), 1.0)
    si[I_HOUR] = int(t0 // 3600.0) % 24
    _hourly_rates(ph, sf, si)
    sf[S_EV + EV_HOUR] = (np.floor(t0 / 3600.0) + 1.0) * 3600.0
    sf[S_EV + EV_HORIZON] = t0 + pf[P_HORIZON_S]
    jit = pf[P_CHARGE_JITTER_S]
    bed = sf[S_U_BEDTIME_H]
    wake = sf[S_U_WAKE_H]
    sf[S_EV + EV_BEDTIME] = next_daily(t0, bed, si, rng, jit)
    sf[S_SCREEN_OFF_SINCE] = t0
    sf[S_LAST_MOTION] = t0
    sf[S_UNPLUG_T] = t0
    sf[S_LAST_WINDOW_END] = -1e9
    si[I_BAR_OFF] = 1 if uniform(si, rng, USER) < pf[P_BAR_OFF_PROB] else 0
    # asleep at the start hour: most users are on the charger (U15)
    h0 = pf[P_START_HOUR]
    asleep = (h0 < wake) if bed < wake else (h0 >= bed or h0 < wake)
    plugged = asleep and uniform(si, rng, USER) < sf[S_U_OVERNIGHT_P]
    charge_until = next_daily(t0, wake, si, rng, jit) if plugged else 0.0
    charge_night = True
    low_power = net0 = 0.0
    doze0 = np.nan
    sf[S_TR_LNEXT] = INF
    if trace != 0:
        end = first_after(si, tr, t0)
        si[I_TR_POS] = end
        sf[S_EV + EV_TRACE] = tr[end, 0] if end < tr_n else INF
        for ch in range(TR_TEMPERATURE + 1):
            if ch == TR_LEVEL or (ch == TR_DOZE and not doze_replays(pf)):
                continue
            v0 = initial_value(tr, end, ch)
            if v0 == v0:
                si[I_TR_ON] |= bit(ch)
                if ch == TR_DOZE:
                    doze0 = v0
        si[I_TR_BLOCK] = block_mask(si[I_TR_ON])
        si[I_TR_SEEN] = si[I_TR_ON]
        level = initial_value(tr, end, TR_LEVEL)
        if tr_ln != 0:  # the level samples are the buffer's second segment (_trace_levels)
            r = tr_n
            while r < tr_n + tr_ln and tr[r, 0] <= t0:
                level = tr[r, 2]
                r += 1
            si[I_TR_LPOS] = r
            sf[S_TR_LNEXT] = tr[r, 0] if r < tr_n + tr_ln else INF
            si[I_TR_SEEN] |= bit(TR_LEVEL)
        if level == level:
            sf[S_BATT] = min(1.0, max(0.0, level))  # the recorded level at the start
            sf[M_BATT_MIN] = sf[S_BATT]
            si[I_TR_SEEN] |= bit(TR_LEVEL)
        if replayed(si, TR_SCREEN):
            si[I_TR_SCREEN] = 1 if initial_value(tr, end, TR_SCREEN) >= 0.5 else 0
            si[I_SCREEN] = si[I_TR_SCREEN]
        if replayed(si, TR_APP) and initial_value(tr, end, TR_APP) >= 0.5:
            si[I_SCREEN] = 1  # every episode starts with the app in the background
        low_power = initial_value(tr, end, TR_LOW_POWER)
        if replayed(si, TR_TEMPERATURE):
            si[I_THERMAL] = thermal_of(pf, initial_value(tr, end, TR_TEMPERATURE))
        net0 = initial_value(tr, end, TR_NETWORK)
        if replayed(si, TR_PLUGGED):
            plugged = initial_value(tr, end, TR_PLUGGED) >= 0.5
            sf[S_EV + EV_BEDTIME] = INF
            if plugged:
                charge_until = next_change(si, tr, si[I_TR_POS], TR_PLUGGED, 1.0)
                if charge_until == INF:
                    charge_until = sf[S_EV + EV_HORIZON]
                charge_night = overnight(pf, t0, charge_until)
    if si[I_LPM_ALWAYS] != 0 and not plugged:
        si[I_LOWPOWER] = 1  # U17: this user keeps Low Power Mode on
    if trace != 0 and replayed(si, TR_LOW_POWER):
        si[I_LOWPOWER] = 1 if low_power >= 0.5 else 0
    # the state the reset drew, the episode's first record (then the charger, the network
    # and the battery level at t0)
    log_event(
        sf, si, ev, EVK_RESET, float(si[I_SCREEN]), float(si[I_THERMAL]), float(si[I_LOWPOWER]), 1.0 if plugged else 0.0
    )
    if plugged:
        start_charging(pf, sf, si, ev, charge_until, charge_night)
    if trace != 0 and replayed(si, TR_PLUGGED):
        sf[S_EV + EV_CHARGE_STOP] = INF
    else:
        topup_if_below(pf, sf, si, rng)
    si[I_NET_BASE] = -1
    network_change(pf, ph, sf, si, rng, ev, user_hour(si))
    if trace != 0 and replayed(si, TR_NETWORK) and int(net0) != si[I_NET_BASE]:
        si[I_NET_BASE] = int(net0)
        log_event(sf, si, ev, EVK_NETWORK, si[I_NET_BASE], 0.0, 0.0, 0.0)
    _log_level(sf, si, items, ev)
    sf[S_LAST_OPEN] = t0 - pf[P_INIT_LAST_OPEN_AGO_S]
    sf[S_LAST_REFRESH] = sf[S_LAST_OPEN]
    sf[S_HIST_B] = pf[P_HB_INIT]
    # the OS has learned this device's use of the app: its opens a day and their hours
    e = pf[P_INIT_ENGAGEMENT] * sf[S_U_APP_SCALE]
    sf[S_HIST_E] = e
    tot = 0.0
    for h in range(24):
        tot += ph[H_APP_OPENS, h]
    if tot > 0.0 and e > 0.0:
        for h in range(24):
            w = ph[H_APP_OPENS, (h - si[I_U_SHIFT]) % 24]
            sf[S_USAGE + h] = w / tot * e * pf[P_USAGE_TAU_S] / 86400.0
            sf[S_USAGE_TOT] += sf[S_USAGE + h]
    update_bucket(pf, sf, si, ev)
    doze_consider(pf, sf, si, ev)
    if doze0 == doze0:  # a replayed trace records Doze at the start
        doze_follow(pf, sf, si, ev, int(doze0))
    # every episode opens with a decision: the app is in the background at t0 and may
    # submit its first request
    si[I_PHASE] = PH_BACKGROUND
    si[I_RESUME] = 0


@kjit(inline="always")
def _log_level(sf, si, items, ev) -> None:
    """Log the battery level and the backlog (the timeline draws its lines through them)."""
    if si[I_EV_ON] != 0:
        log_event(sf, si, ev, EVK_LEVEL, sf[S_BATT], pending_units(si, items, -1), float(si[I_CHARGING]), 0.0)


# ---------------------------------------------------------------------------
# Action masks
# ---------------------------------------------------------------------------
@kjit
def write_masks(pf, sf, si, items, reqs, mask) -> None:
    """Action masks for one device, concatenated per action dimension (MaskablePPO's
    MultiDiscrete layout): request option, delay bin, chunk bin, work kind.

    A mask is advice to the learner: the env accepts every action in the space and
    prices it as before. A request option is masked out when Background App Refresh is
    off (iOS), when it needs the app visible and it is not (Android foreground service,
    user-initiated job: rows 37, 79), and when submitting it would only replace the same
    pending request and reset its timer (``windows.resubmit_senseless``: same slot *and*
    same option, already eligible, not an OS retry). The platforms keep one pending
    request per identifier and a resubmission replaces it and resets its timer (iOS
    row 42; the simulator's slots replace the same way on Android, where a periodic job's
    interval restarts too, row 19): the anti-pattern the iOS sources warn about
    ([BackgroundTasks] in docs/sources/README.md: schedule "only ... when no pending
    request exists", since resubmitting "resets the scheduling timer"), which can push a
    request back indefinitely. A resubmission that can make sense stays
    allowed: another option of the same slot (other constraints, e.g. dropping
    requires-power), a pending request whose earliest date is still ahead (a shorter
    delay moves it earlier), an OS retry with backoff (replacing it resets the backoff),
    a background transfer (it replaces nothing). The bit is back as soon as the request
    is granted (a one-off request leaves its slot) or replaced by another option."""
    nopt = int(pf[P_NOPTS])
    from_delay = nopt
    ndelay = int(pf[P_NDELAY])
    from_chunk = from_delay + ndelay
    nchunk = int(pf[P_NCHUNK])
    from_kind = from_chunk + nchunk
    mask[:] = False
    bar_off = pf[P_PLATFORM] == PLATFORM_IOS and si[I_BAR_OFF] != 0
    mask[0] = True
    android = pf[P_PLATFORM] == PLATFORM_ANDROID
    for opt in range(1, nopt):
        mask[opt] = not bar_off
        wt = int(pf[P_OPT_TYPE + opt])
        if android and (wt == WT_UIDT or wt == WT_FGS) and not app_visible(pf, sf, si):
            mask[opt] = False  # rows 37, 79: only while the app is visible
        if pf[P_MASK_RESUBMIT] != 0.0 and resubmit_senseless(pf, sf, reqs, opt):
            mask[opt] = False  # row 42: would only replace itself and reset its timer
    for d in range(ndelay):
        mask[from_delay + d] = True
    mask[from_chunk] = True
    mask[from_kind] = True
    if _between_chunks(si):
        has_net = window_has_net(pf, si)
        anyk = False
        for k in range(NKIND):
            w = workable(pf, sf, si, items, k, has_net)
            mask[from_kind + 1 + k] = w
            anyk = anyk or w
        if anyk:
            for c in range(1, nchunk):
                mask[from_chunk + c] = True
