"""Requests and background windows, the app's side: submission, the window the OS
opens, checkpointed chunks, completion and how a window ends (expiration with its
grace period, kills, Android's rescheduling with backoff).

A window is granted for a *budget* the app is never told (row 38: refresh windows of
~30 s that sometimes expire after 2-5 s). Inside it the app works in chunks; a chunk
is saved when it ends, so an expiration loses only the chunk in flight. The
expiration handler must wind down within the grace period or the app is killed.

What the OS decides (refusals, budgets, quota records, why a window stops, which
chunks are killed) is in ``scheduler.py``; this file applies it to the app's state.
"""

from __future__ import annotations

import numpy as np

from bgenv.core.battery import wake_energy
from bgenv.core.eventlog import log_event
from bgenv.core.history import R_COMPLETES, R_EXPIRATIONS, R_FAILED, R_KILLS, R_WINDOWS, recent_add
from bgenv.core.jit import kjit
from bgenv.core.layout import (
    END_COMPLETE,
    END_KILL_GRACE,
    END_KILL_MEMORY,
    EV_CHUNK_END,
    EV_LAUNCH,
    EV_WIN_END,
    EVK_CHUNK,
    EVK_COMPLETE,
    EVK_EXPIRE,
    EVK_GRANT,
    EVK_KILL,
    EVK_REFUSED,
    EVK_REQUEST,
    EVK_RETRY,
    I_APP_FG,
    I_BACKOFF_N,
    I_BUCKET,
    I_CHUNK_ACTIVE,
    I_CHUNK_FATE,
    I_CHUNK_KIND,
    I_CHUNK_NET,
    I_LAST_CHUNK_OK,
    I_LAST_END,
    I_LAST_REFUSED,
    I_THERMAL,
    I_WIN_ACTIVE,
    I_WIN_ID,
    I_WIN_NET,
    I_WIN_POWER,
    I_WIN_SLOT,
    I_WIN_TYPE,
    KIND_REFRESH,
    M_CHUNKS,
    M_CHUNKS_LOST,
    M_COMPLETES,
    M_EXPIRATIONS,
    M_INVALID,
    M_KILLS,
    M_KILLS_MEMORY,
    M_REFUSED,
    M_REQUESTS,
    M_UNITS_LOST,
    M_WINDOW_S,
    M_WINDOWS,
    M_WINDOWS_BY_TYPE,
    NET_CELL,
    NET_NONE,
    P_BASE_MEM_MB,
    P_CANCEL_PER_UNIT_S,
    P_CANCEL_S,
    P_CELL_SLOWDOWN,
    P_CHUNK_OVERHEAD_S,
    P_DELAY_BINS,
    P_GRACE_S,
    P_K_MEM,
    P_K_NET,
    P_K_SEC,
    P_NDELAY,
    P_OPT_NET,
    P_OPT_NOTIFY,
    P_OPT_PERIODIC,
    P_OPT_POWER,
    P_OPT_SLOT,
    P_OPT_TYPE,
    P_PLATFORM,
    P_RESCHEDULE_ON_STOP,
    P_TH_SPEED_CRITICAL,
    P_TH_SPEED_SERIOUS,
    PH_CHUNK,
    PH_NONE,
    PH_WINDOW,
    PLATFORM_ANDROID,
    REFUSE_DROPPED,
    REFUSE_NONE,
    RQ_ACTIVE,
    RQ_ATTEMPT,
    RQ_EARLIEST,
    RQ_FLEX,
    RQ_NET,
    RQ_NOTIFY,
    RQ_PERIOD,
    RQ_POWER,
    RQ_SUBMIT,
    RQ_THROTTLED,
    RQ_TYPE,
    S_CHUNK_MEM,
    S_CHUNK_START,
    S_CHUNK_UNITS,
    S_CPU_UNPLUGGED,
    S_EV,
    S_HZ_REM,
    S_LAST_WINDOW_END,
    S_T,
    S_WIN_BUDGET,
    S_WIN_ENERGY,
    S_WIN_START,
    S_WIN_UNITS,
    THERMAL_CRITICAL,
    THERMAL_SERIOUS,
    WT_FGS,
    WT_TRANSFER,
    WT_UIDT,
)
from bgenv.core.reward import (
    content_fetched,
    reward_expire,
    reward_invalid,
    reward_kill,
    reward_notify,
    reward_throttle,
    reward_wake,
    reward_work,
)
from bgenv.core.rng import SYS, expo
from bgenv.core.scheduler import (
    HIST_COMPLETE,
    HIST_ENERGY,
    HIST_EXPIRE,
    HIST_KILL,
    alarm_deferral,
    backoff_delay,
    chunk_fate,
    effective_net,
    effective_type,
    grant_budget,
    grant_exemption,
    history_event,
    periodic_interval,
    push_dropped,
    record_grant,
    record_job_end,
    submit_refusal,
    window_exempt,
)
from bgenv.core.transfer import transfer_relaunched, transfer_submit
from bgenv.core.workload import auto_kind, complete_units, free_units, mark_attempt, oldest_arrival, workable

INF = np.inf


@kjit
def submit_request(pf, sf, si, items, reqs, rng, ev, opt: int, delay: float) -> None:
    """The app submits request option ``opt`` with an earliest-begin delay in s.
    Resubmitting a slot replaces its pending request and resets its timer (row 42).
    An iOS background transfer hands the pending uploads to the system instead
    (``transfer.transfer_submit``)."""
    slot = int(pf[P_OPT_SLOT + opt])
    wt = int(pf[P_OPT_TYPE + opt])
    net = pf[P_OPT_NET + opt]
    power = pf[P_OPT_POWER + opt]
    sf[M_REQUESTS] += 1.0
    t = sf[S_T]
    reason = submit_refusal(pf, sf, si, wt, delay, power)
    if reason != REFUSE_NONE:
        sf[M_REFUSED] += 1.0
        si[I_LAST_REFUSED] = 1
        reward_throttle(pf, sf)
        log_event(sf, si, ev, EVK_REFUSED, wt, reason, 0.0, 0.0)
        return
    si[I_LAST_REFUSED] = 0
    if wt == WT_TRANSFER:
        log_event(sf, si, ev, EVK_REQUEST, wt, t + delay, 1.0, 0.0)
        transfer_submit(pf, sf, si, items, ev, opt, delay)
        return
    period = 0.0
    flex = 0.0
    earliest = t + delay + alarm_deferral(pf, si, rng, wt, delay)
    if pf[P_OPT_PERIODIC + opt] != 0.0:  # runs once in the last ``flex`` of each interval
        period, flex = periodic_interval(pf, delay)
        earliest = t + period - flex
    reqs[slot, RQ_ACTIVE] = 1.0
    reqs[slot, RQ_TYPE] = wt
    reqs[slot, RQ_SUBMIT] = t
    reqs[slot, RQ_EARLIEST] = earliest
    reqs[slot, RQ_PERIOD] = period
    reqs[slot, RQ_FLEX] = flex
    reqs[slot, RQ_NOTIFY] = pf[P_OPT_NOTIFY + opt]
    reqs[slot, RQ_NET] = net
    reqs[slot, RQ_POWER] = power
    reqs[slot, RQ_ATTEMPT] = 0.0
    reqs[slot, RQ_THROTTLED] = 0.0
    sf[S_HZ_REM + EV_LAUNCH + slot] = expo(si, rng, SYS, 1.0)
    log_event(sf, si, ev, EVK_REQUEST, wt, earliest, net, power)


@kjit
def resubmit_senseless(pf, sf, reqs, opt: int) -> bool:
    """Whether submitting request option ``opt`` now could only replace the same pending
    request and reset its timer (``write_masks`` advises against it; ``submit_request``
    still accepts and prices it).

    True when the option's slot holds a pending request (``RQ_ACTIVE``: one pending
    request per identifier, which a resubmission replaces and whose timer it resets, iOS
    row 42; the simulator's slots do the same on Android, as ``JobScheduler.schedule``
    with a pending job's ID and an alarm set again do) that is this very option (same type, constraints, periodicity and notification: another
    option of the slot changes what is asked for, which can make sense), that is not an
    OS retry with backoff (``RQ_ATTEMPT`` > 0: replacing it resets the backoff, row 17),
    and whose earliest-begin date has already passed or is no later than the earliest
    any delay choice could give a resubmission (the smallest delay bin, or for a periodic
    job the smallest interval minus its flex, row 19; an inexact alarm's deferral counted
    as 0): a resubmission cannot move it earlier, only later, and redraws its launch
    clock. A background transfer (rows 71-78) replaces nothing and is never flagged."""
    wt = int(pf[P_OPT_TYPE + opt])
    if wt == WT_TRANSFER:
        return False
    slot = int(pf[P_OPT_SLOT + opt])
    if reqs[slot, RQ_ACTIVE] == 0.0 or reqs[slot, RQ_ATTEMPT] != 0.0:
        return False
    if (
        int(reqs[slot, RQ_TYPE]) != wt
        or reqs[slot, RQ_NET] != pf[P_OPT_NET + opt]
        or reqs[slot, RQ_POWER] != pf[P_OPT_POWER + opt]
        or reqs[slot, RQ_NOTIFY] != pf[P_OPT_NOTIFY + opt]
        or (reqs[slot, RQ_PERIOD] > 0.0) != (pf[P_OPT_PERIODIC + opt] != 0.0)
    ):
        return False
    t = sf[S_T]
    soonest = INF
    for d in range(int(pf[P_NDELAY])):
        delay = pf[P_DELAY_BINS + d]
        if pf[P_OPT_PERIODIC + opt] != 0.0:
            period, flex = periodic_interval(pf, delay)
            soonest = min(soonest, t + period - flex)
        else:
            soonest = min(soonest, t + delay)
    return reqs[slot, RQ_EARLIEST] <= soonest


@kjit
def grant_window(pf, sf, si, reqs, jobs, rng, ev, slot: int) -> int:
    """The OS launches the request in ``slot``: open a window for the budget the
    scheduler grants (``scheduler.grant_budget``), recorded against the quotas
    (``scheduler.record_grant``); launching the app costs its wake energy
    (``battery.wake_energy``). Returns the phase: PH_NONE when a silent push was lost,
    which never launches the app (no window, no wake energy)."""
    t = sf[S_T]
    notify = reqs[slot, RQ_NOTIFY] != 0.0
    wt = effective_type(pf, sf, si, jobs, int(reqs[slot, RQ_TYPE]), t, notify)
    if push_dropped(pf, si, rng, wt):
        reqs[slot, RQ_ACTIVE] = 0.0
        sf[S_EV + EV_LAUNCH + slot] = INF
        sf[M_REFUSED] += 1.0
        log_event(sf, si, ev, EVK_REFUSED, wt, REFUSE_DROPPED, 0.0, 0.0)
        return PH_NONE
    budget = grant_budget(pf, sf, si, jobs, rng, wt, t)
    grant_exemption(pf, sf, si, wt, t)
    record_grant(pf, si, jobs, wt, t, notify)
    reward_wake(pf, sf)
    if notify or wt == WT_FGS or wt == WT_UIDT:  # row 80: a user-initiated job shows a notification
        reward_notify(pf, sf)
    si[I_BACKOFF_N] = int(reqs[slot, RQ_ATTEMPT])
    si[I_WIN_NET] = int(reqs[slot, RQ_NET])
    si[I_WIN_POWER] = int(reqs[slot, RQ_POWER])
    period = reqs[slot, RQ_PERIOD]
    if period > 0.0:
        # a periodic request stays pending: next eligible in the last flex of the next interval
        k = np.floor((t - reqs[slot, RQ_SUBMIT]) / period)
        reqs[slot, RQ_EARLIEST] = reqs[slot, RQ_SUBMIT] + (k + 2.0) * period - reqs[slot, RQ_FLEX]
        sf[S_HZ_REM + EV_LAUNCH + slot] = expo(si, rng, SYS, 1.0)
    else:
        reqs[slot, RQ_ACTIVE] = 0.0
    sf[S_EV + EV_LAUNCH + slot] = INF
    si[I_WIN_ACTIVE] = 1
    si[I_WIN_SLOT] = slot
    si[I_WIN_TYPE] = wt
    si[I_WIN_ID] += 1
    si[I_CHUNK_ACTIVE] = 0
    sf[S_WIN_START] = t
    sf[S_WIN_BUDGET] = budget
    sf[S_WIN_UNITS] = 0.0
    sf[S_CPU_UNPLUGGED] = 0.0
    sf[S_EV + EV_WIN_END] = t + budget
    sf[S_WIN_ENERGY] = 0.0
    sf[M_WINDOWS] += 1.0
    sf[M_WINDOWS_BY_TYPE + wt] += 1.0
    recent_add(sf, R_WINDOWS)
    bucket = si[I_BUCKET] if pf[P_PLATFORM] == PLATFORM_ANDROID else -1
    if wt == WT_TRANSFER:
        transfer_relaunched(pf, sf)  # rows 72, 75
    log_event(sf, si, ev, EVK_GRANT, wt, budget, bucket, si[I_BACKOFF_N])
    wake_energy(pf, sf, si, rng, ev)
    return PH_WINDOW


@kjit
def start_chunk(pf, sf, si, items, reqs, rng, ev, size: float, kind: int) -> bool:
    """Start a chunk of up to ``size`` work units of ``kind`` (-1 = auto). Returns False
    when there is nothing workable (the caller treats that as an invalid action)."""
    win_net = effective_net(pf, si, window_exempt(pf, si))
    has_net = win_net != NET_NONE
    if kind < 0:
        kind = auto_kind(pf, sf, si, items, has_net)
        if kind < 0:
            return False
    elif not workable(pf, sf, si, items, kind, has_net):
        return False
    t = sf[S_T]
    units = min(size, free_units(sf, si, items, kind))
    net = 0
    sec = pf[P_K_SEC + kind]
    if pf[P_K_NET + kind] != 0.0:
        net = win_net
        if net == NET_CELL:
            sec *= pf[P_CELL_SLOWDOWN]
    speed = 1.0
    if si[I_THERMAL] >= THERMAL_CRITICAL:
        speed = pf[P_TH_SPEED_CRITICAL]
    elif si[I_THERMAL] >= THERMAL_SERIOUS:
        speed = pf[P_TH_SPEED_SERIOUS]
    dur = pf[P_CHUNK_OVERHEAD_S] + units * sec / speed
    mem = pf[P_BASE_MEM_MB] + pf[P_K_MEM + kind] * units
    fate, end = chunk_fate(pf, sf, si, kind, mem, t, dur)
    mark_attempt(si, items, kind, units)
    si[I_CHUNK_ACTIVE] = 1
    si[I_CHUNK_KIND] = kind
    si[I_CHUNK_NET] = net
    si[I_CHUNK_FATE] = fate
    sf[S_CHUNK_START] = t
    sf[S_CHUNK_UNITS] = units
    sf[S_CHUNK_MEM] = mem
    sf[S_EV + EV_CHUNK_END] = end
    sf[M_CHUNKS] += 1.0
    return True


@kjit
def chunk_end(pf, sf, si, items, reqs, jobs, rng, ev, tts) -> int:
    """The chunk in flight reached its end: saved, or killed part-way. Returns the phase."""
    sf[S_EV + EV_CHUNK_END] = INF
    fate = si[I_CHUNK_FATE]
    if fate != END_COMPLETE:
        end_window(pf, sf, si, reqs, jobs, rng, ev, fate)
        return PH_NONE
    kind = si[I_CHUNK_KIND]
    units = sf[S_CHUNK_UNITS]
    item = oldest_arrival(si, items, kind)
    done = complete_units(sf, si, items, rng, tts, kind, units, True)
    if kind == KIND_REFRESH:  # content is worth something when the user sees it
        content_fetched(pf, sf, done, item, si[I_APP_FG] != 0)
    else:
        reward_work(pf, sf, kind, done)
    sf[S_WIN_UNITS] += done
    si[I_CHUNK_ACTIVE] = 0
    si[I_LAST_CHUNK_OK] = 1
    log_event(sf, si, ev, EVK_CHUNK, kind, done, 1.0, sf[S_T] - sf[S_CHUNK_START])
    return PH_CHUNK


@kjit(inline="always")
def _count_lost_chunk(sf, units: float) -> None:
    """Count a chunk of ``units`` lost in flight (failed, or cut off with its window)."""
    sf[M_CHUNKS_LOST] += 1.0
    sf[M_UNITS_LOST] += units
    recent_add(sf, R_FAILED)


@kjit
def chunk_fail(pf, sf, si, ev) -> int:
    """The chunk in flight failed (its network went away) but the window goes on."""
    sf[S_EV + EV_CHUNK_END] = INF
    units = sf[S_CHUNK_UNITS]
    _count_lost_chunk(sf, units)
    si[I_CHUNK_ACTIVE] = 0
    si[I_LAST_CHUNK_OK] = 0
    log_event(sf, si, ev, EVK_CHUNK, si[I_CHUNK_KIND], units, 0.0, sf[S_T] - sf[S_CHUNK_START])
    return PH_CHUNK


@kjit
def _close(pf, sf, si, jobs, reason: int) -> float:
    t = sf[S_T]
    lost = 0.0
    if si[I_CHUNK_ACTIVE] != 0:
        lost = sf[S_CHUNK_UNITS]
        if reason != END_COMPLETE:
            _count_lost_chunk(sf, lost)
    si[I_CHUNK_ACTIVE] = 0
    si[I_WIN_ACTIVE] = 0
    si[I_LAST_END] = reason
    sf[S_EV + EV_CHUNK_END] = INF
    sf[S_EV + EV_WIN_END] = INF
    sf[S_LAST_WINDOW_END] = t
    sf[M_WINDOW_S] += t - sf[S_WIN_START]
    record_job_end(si, jobs, t)
    return lost


@kjit
def complete_window(pf, sf, si, jobs, ev, backlog: float) -> None:
    """The app reports completion (setTaskCompleted / jobFinished); ``backlog`` (units
    still pending) is recorded in the event log."""
    wt = si[I_WIN_TYPE]
    _close(pf, sf, si, jobs, END_COMPLETE)
    sf[M_COMPLETES] += 1.0
    recent_add(sf, R_COMPLETES)
    # a window that saved no work is energy spent for nothing, not a success (iOS rows 45, 67)
    useful = sf[S_WIN_UNITS] > 0.0
    history_event(pf, sf, HIST_COMPLETE if useful else HIST_ENERGY, sf[S_WIN_ENERGY])
    log_event(sf, si, ev, EVK_COMPLETE, wt, sf[S_WIN_UNITS], sf[S_T] - sf[S_WIN_START], backlog)


@kjit
def end_window(pf, sf, si, reqs, jobs, rng, ev, reason: int) -> None:
    """The OS ends the window: expiration (budget, user, constraint) or a kill."""
    wt = si[I_WIN_TYPE]
    slot = si[I_WIN_SLOT]
    units_in_flight = sf[S_CHUNK_UNITS] if si[I_CHUNK_ACTIVE] != 0 else 0.0
    win_s = sf[S_T] - sf[S_WIN_START]
    lost = _close(pf, sf, si, jobs, reason)
    killed = reason >= END_KILL_MEMORY
    if not killed:
        # the expiration handler fires; winding down must fit in the grace period
        sf[M_EXPIRATIONS] += 1.0
        recent_add(sf, R_EXPIRATIONS)
        reward_expire(pf, sf)
        history_event(pf, sf, HIST_EXPIRE, sf[S_WIN_ENERGY])
        log_event(sf, si, ev, EVK_EXPIRE, wt, reason, lost, win_s)
        wind_down = pf[P_CANCEL_S] + pf[P_CANCEL_PER_UNIT_S] * units_in_flight
        if wind_down > pf[P_GRACE_S]:
            reason = END_KILL_GRACE
            killed = True
    if killed:
        sf[M_KILLS] += 1.0
        if reason == END_KILL_MEMORY:
            sf[M_KILLS_MEMORY] += 1.0
        recent_add(sf, R_KILLS)
        reward_kill(pf, sf)
        history_event(pf, sf, HIST_KILL, 0.0 if reason == END_KILL_GRACE else sf[S_WIN_ENERGY])
        log_event(sf, si, ev, EVK_KILL, wt, reason, lost, win_s)
    si[I_LAST_END] = reason
    # Android reschedules a stopped job with backoff unless the app replaced it (row 17);
    # the OS's own request is logged as a ``retry``
    if pf[P_RESCHEDULE_ON_STOP] != 0.0 and reqs[slot, RQ_ACTIVE] == 0.0:
        attempt = si[I_BACKOFF_N] + 1
        earliest = sf[S_T] + backoff_delay(pf, attempt)
        reqs[slot, RQ_ACTIVE] = 1.0
        reqs[slot, RQ_TYPE] = wt
        reqs[slot, RQ_SUBMIT] = sf[S_T]
        reqs[slot, RQ_EARLIEST] = earliest
        reqs[slot, RQ_ATTEMPT] = attempt
        reqs[slot, RQ_THROTTLED] = 0.0
        sf[S_HZ_REM + EV_LAUNCH + slot] = expo(si, rng, SYS, 1.0)
        log_event(sf, si, ev, EVK_RETRY, wt, earliest, attempt, 0.0)


@kjit
def invalid_action(pf, sf) -> None:
    """An action that makes no sense now: handled as a no-op, counted and penalised."""
    sf[M_INVALID] += 1.0
    reward_invalid(pf, sf)
