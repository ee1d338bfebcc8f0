"""The OS scheduler: every decision the OS takes about the app's background work.

* submission: which requests it refuses outright, how it raises periodic intervals;
* launching: the gates a pending request must pass and its launch rate (``launch_rate``);
* a launch: what the OS actually runs (``effective_type``), the window's budget, the
  Doze exemption of a push and the quota record (``grant_budget``, ``grant_exemption``,
  ``record_grant``);
* stopping: why a running window stops (``stop_reason``) and which chunks are killed
  part-way (``chunk_fate``);
* the state those decisions read: the hidden history score, Android's rolling quotas,
  standby buckets and Doze.

Every number is a parameter (``pf``) from the platform profile in
``configs/profiles/*.yaml``, which cites its PLATFORM_FACTS.md row. ``windows.py``
applies these decisions to the app's requests, windows and chunks.

Launch timing uses hazard rates: a pending request whose gates all pass is launched
at rate ``launch_rate`` (1/s); a request that is not eligible has rate 0 and the time
at which it may become eligible (earliest-begin floor, quota refill, device idle) is
returned as a wake-up, so the event loop never polls.
"""

from __future__ import annotations

import math

import numpy as np

from bgenv.core.eventlog import log_event
from bgenv.core.jit import kjit
from bgenv.core.layout import (
    BK_ACTIVE,
    BK_RARE,
    BK_RESTRICTED,
    DZ_ACTIVE,
    DZ_DEEP_IDLE,
    DZ_DEEP_MAINT,
    DZ_LIGHT_IDLE,
    DZ_LIGHT_MAINT,
    DZ_LIGHT_PRE,
    END_COMPLETE,
    END_CONSTRAINT,
    END_KILL_CPU,
    END_KILL_FORCE_QUIT,
    END_KILL_MEMORY,
    END_KILL_OEM,
    END_NONE,
    END_USER,
    EV_BUCKET,
    EV_DOZE,
    EVK_BUCKET,
    EVK_DOZE,
    I_APP_FG,
    I_BAR_OFF,
    I_BUCKET,
    I_CHARGING,
    I_DOZE,
    I_DOZE_STEP,
    I_DROP,
    I_FORCE_QUIT,
    I_JOB_HEAD,
    I_LOWPOWER,
    I_NET_BASE,
    I_OFF,
    I_SCHED_N,
    I_SCREEN,
    I_TEMP_EXEMPT,
    I_THERMAL,
    I_TR_ON,
    I_WIN_ACTIVE,
    I_WIN_NET,
    I_WIN_POWER,
    I_WIN_TYPE,
    JB_END,
    JB_KIND,
    JB_START,
    JK_ALARM,
    JK_EJ,
    JK_FGS,
    JK_FIRST_COUNTED,
    JK_JOB,
    JK_NONE,
    JK_OTHER,
    JK_PUSH,
    JK_PUSH_SILENT,
    NBUCKET,
    NCNT,
    NDEEP_IDLE,
    NDEEP_MAINT,
    NET_NONE,
    NJOB,
    NLIGHT_IDLE,
    P_ALARM_COMPAT_PER_H,
    P_ALARM_COUNT,
    P_ALARM_DOZE_PER_H,
    P_ALARM_MIN_FUTURITY_S,
    P_ALARM_WIN_S,
    P_ALARM_WINDOW_FRAC,
    P_ALARM_WINDOW_MAX_S,
    P_BACKOFF_EXP,
    P_BACKOFF_INIT_S,
    P_BACKOFF_MAX_S,
    P_BASE_MEM_MB,
    P_BUCKET_THR_S,
    P_COUNT_FG_JOBS,
    P_CPU_KILL_FRAC,
    P_CPU_KILL_S,
    P_DEEP_AFTER_S,
    P_DEEP_IDLE_S,
    P_DEEP_MAINT_S,
    P_DOZE_ON,
    P_EJ_MIN_S,
    P_EJ_QUOTA_S,
    P_EJ_WIN_S,
    P_EXACT_ALARM,
    P_FGS_QUOTA_S,
    P_FGS_START_GRACE_S,
    P_FGS_WIN_S,
    P_FLEX_MIN_FRAC,
    P_FLEX_MIN_S,
    P_FORCE_QUIT_STOPS,
    P_HB_COMPLETE,
    P_HB_DURATION,
    P_HB_ENERGY,
    P_HB_EXPIRE,
    P_HB_GAMMA,
    P_HB_INIT,
    P_HB_KILL,
    P_HB_TAU_S,
    P_HE_HALF,
    P_HE_TAU_S,
    P_IDLE_SCREEN_OFF_S,
    P_IDLE_STATIONARY_S,
    P_JOB_COUNT,
    P_K_CPU,
    P_LIGHT_AFTER_S,
    P_LIGHT_IDLE_S,
    P_LIGHT_MAINT_MAX_S,
    P_LIGHT_MAINT_MIN_S,
    P_LOW_BATT,
    P_LOW_BATT_GATE,
    P_MEM_LIMIT_MB,
    P_OEM_KILLER,
    P_OEM_RECENT_S,
    P_PERIODIC_MIN_S,
    P_PLATFORM,
    P_PUSH_CAP,
    P_PUSH_DOWNGRADE,
    P_PUSH_DROP,
    P_PUSH_EXEMPT_S,
    P_PUSH_PER_H,
    P_QUOTA_BUFFER_S,
    P_QUOTA_CHARGING_WAIVED,
    P_QUOTA_S,
    P_QUOTA_WIN_S,
    P_RARE_NET_BLOCK,
    P_RATE_PER_MIN,
    P_RECENT_USE_S,
    P_RUN_LIMIT_WAIVED_S,
    P_SAVER_DOZE_AFTER_S,
    P_SCHEDULE_PER_MIN,
    P_SESSION_COUNT,
    P_SESSION_GAP_S,
    P_TOTAL_CAP_S,
    P_TOTAL_CAP_WIN_S,
    P_UIDT_PERMISSION,
    P_USAGE_FLOOR,
    P_USAGE_MAX_FACTOR,
    P_USAGE_NOW_WEIGHT,
    P_USAGE_TAU_S,
    P_WT_BUDGET,
    P_WT_DOZE_EXEMPT,
    P_WT_EARLY_HI,
    P_WT_EARLY_LO,
    P_WT_EARLY_P,
    P_WT_LPM_BLOCKS,
    P_WT_NEEDS_BG,
    P_WT_NEEDS_IDLE,
    P_WT_QUOTA,
    P_WT_RATE,
    P_WT_THERMAL_MAX,
    P_WT_UNPLUGGED_MULT,
    P_WT_USAGE_DRIVEN,
    PLATFORM_ANDROID,
    PLATFORM_IOS,
    REFUSE_BACKGROUND,
    REFUSE_INVALID,
    REFUSE_NONE,
    REFUSE_PERMISSION,
    REFUSE_RATE,
    REFUSE_UNAVAILABLE,
    RING_COUNTED,
    RING_JOBS,
    RQ_EARLIEST,
    RQ_NET,
    RQ_NOTIFY,
    RQ_POWER,
    RQ_TYPE,
    S_BATT,
    S_BUCKET_T,
    S_CPU_UNPLUGGED,
    S_DEEP_AT,
    S_DOZE_NEXT,
    S_DOZE_T,
    S_EJ_BONUS,
    S_EJ_BONUS_T,
    S_EV,
    S_HIST_B,
    S_HIST_E,
    S_HIST_T,
    S_LAST_CLOSE,
    S_LAST_MOTION,
    S_LAST_OPEN,
    S_SCHED_WIN_T,
    S_SCREEN_OFF_SINCE,
    S_T,
    S_T0,
    S_TEMP_EXEMPT_UNTIL,
    S_UNPLUG_T,
    S_USAGE,
    S_USAGE_TOT,
    TR_DOZE,
    WT_ALARM,
    WT_EXPEDITED,
    WT_FGS,
    WT_HEALTH,
    WT_JOB,
    WT_JOB_KIND,
    WT_PROCESSING,
    WT_PUSH,
    WT_PUSH_NORMAL,
    WT_UIDT,
)
from bgenv.core.rng import SYS, uniform

INF = np.inf


# ---------------------------------------------------------------------------
# Hidden history score (never observed by the agent)
# ---------------------------------------------------------------------------
@kjit(inline="always")
def decay_history(pf, sf) -> None:
    """Relax the behaviour score toward its initial value and decay the engagement
    estimate up to the current time (lazy: called before every read or update)."""
    t = sf[S_T]
    dt = t - sf[S_HIST_T]
    if dt <= 0.0:
        return
    b0 = pf[P_HB_INIT]
    sf[S_HIST_B] = b0 + (sf[S_HIST_B] - b0) * math.exp(-dt / pf[P_HB_TAU_S])
    sf[S_HIST_E] *= math.exp(-dt / pf[P_HE_TAU_S])
    sf[S_HIST_T] = t


# What a window's end tells the history score (``history_event``)
HIST_COMPLETE = 0  # the app reported completion of a window that saved work
HIST_EXPIRE = 1  # the window expired
HIST_KILL = 2  # the app was killed
HIST_ENERGY = 3  # energy only: e.g. a completion that saved no work (an empty push or refresh)


@kjit
def history_event(pf, sf, what: int, energy: float) -> None:
    """Update the behaviour score after a window (``what``: a HIST_* code) that used
    ``energy`` (fraction of a full battery). Only a completion that saved work earns
    trust; every window's energy costs some."""
    decay_history(pf, sf)
    b = sf[S_HIST_B]
    if what == HIST_COMPLETE:
        b += pf[P_HB_COMPLETE] * (1.0 - b)
    elif what == HIST_EXPIRE:
        b -= pf[P_HB_EXPIRE] * b
    elif what == HIST_KILL:
        b -= pf[P_HB_KILL] * b
    b -= pf[P_HB_ENERGY] * energy * b
    sf[S_HIST_B] = min(1.0, max(0.0, b))


@kjit
def history_open(pf, sf, hour: int) -> None:
    """The user opened the app: raise engagement (opens/day) and learn the hour."""
    decay_history(pf, sf)
    sf[S_HIST_E] += 86400.0 / pf[P_HE_TAU_S]
    # Only ratios of the histogram are read, so instead of decaying every hour's count
    # the new open weighs exp(t / tau): the same forgetting at one update per open.
    w = math.exp((sf[S_T] - sf[S_T0]) / pf[P_USAGE_TAU_S])
    sf[S_USAGE + hour] += w
    sf[S_USAGE_TOT] += w


@kjit(inline="always")
def usage_timing(pf, sf, hour: int) -> float:
    """Launch-rate factor from the OS's usage prediction: high in the hour before the
    hours the user usually opens the app, ``usage_floor`` where it never does."""
    tot = sf[S_USAGE_TOT]
    floor = pf[P_USAGE_FLOOR]
    if tot <= 0.0:
        return floor
    w = pf[P_USAGE_NOW_WEIGHT]  # the rest of this hour counts too, with this weight
    nxt = sf[S_USAGE + (hour + 1) % 24] + w * sf[S_USAGE + hour]
    return floor + (1.0 - floor) * min(pf[P_USAGE_MAX_FACTOR], 24.0 * nxt / ((1.0 + w) * tot))


# ---------------------------------------------------------------------------
# Device conditions the scheduler reads
# ---------------------------------------------------------------------------
@kjit(inline="always")
def device_idle_at(pf, sf, si) -> float:
    """Time from which the device counts as idle (screen off and stationary long
    enough); inf while the screen is on."""
    if si[I_SCREEN] != 0:
        return INF
    return max(sf[S_SCREEN_OFF_SINCE] + pf[P_IDLE_SCREEN_OFF_S], sf[S_LAST_MOTION] + pf[P_IDLE_STATIONARY_S])


@kjit(inline="always")
def doze_idle(si) -> bool:
    """Doze holds the device idle now (light or deep idle, not a maintenance window)."""
    d = si[I_DOZE]
    return d == DZ_LIGHT_IDLE or d == DZ_DEEP_IDLE


@kjit(inline="always")
def effective_net(pf, si, exempt: bool) -> int:
    """The network the app sees in the background: none during a drop, in Doze idle
    (row 26), under Battery Saver (row 36) or in the Rare bucket and below (row 32)."""
    if si[I_DROP] != 0:
        return NET_NONE
    net = si[I_NET_BASE]
    if pf[P_PLATFORM] == PLATFORM_ANDROID and si[I_APP_FG] == 0 and not exempt:
        if doze_idle(si):
            return NET_NONE
        if si[I_LOWPOWER] != 0:
            return NET_NONE
        if pf[P_RARE_NET_BLOCK] != 0.0 and si[I_BUCKET] >= BK_RARE:
            return NET_NONE
    return net


@kjit(inline="always")
def doze_exempt(pf, si, wt: int) -> bool:
    """Work of type ``wt`` may use the network and run in Doze: the type is exempt, or a
    high-priority push exempted the app for a while (row 27)."""
    return pf[P_WT_DOZE_EXEMPT + wt] != 0.0 or si[I_TEMP_EXEMPT] != 0


@kjit(inline="always")
def window_exempt(pf, si) -> bool:
    """The running window is exempt from Doze (``doze_exempt`` for its type)."""
    return doze_exempt(pf, si, si[I_WIN_TYPE])


@kjit
def window_has_net(pf, si) -> bool:
    """The running window has a network it may use."""
    return effective_net(pf, si, window_exempt(pf, si)) != NET_NONE


# ---------------------------------------------------------------------------
# Android rolling-window quotas (rows 1, 4-11)
# ---------------------------------------------------------------------------
@kjit(inline="always")
def _ring(ring: int):
    """(first row, size) of a ring in ``jobs``."""
    if ring == RING_JOBS:
        return 0, NJOB
    return NJOB, NCNT


@kjit
def used_time(si, jobs, t: float, since: float, kind_lo: int, kind_hi: int) -> float:
    """Seconds of execution of kinds ``kind_lo..kind_hi`` (JK_*) inside ``[since, t]``.
    The ring holds windows in time order (one window at a time), so the scan runs from
    the newest back and stops at the first execution that ended before ``since``."""
    tot = 0.0
    h = si[I_JOB_HEAD + RING_JOBS]
    for k in range(NJOB):
        r = (h - 1 - k) % NJOB
        st = jobs[r, JB_START]
        if st >= INF:
            break  # never filled: nothing older
        en = min(jobs[r, JB_END], t)
        if en <= since:
            break
        kd = jobs[r, JB_KIND]
        if kd < kind_lo or kd > kind_hi:
            continue
        a = max(st, since)
        if en > a:
            tot += en - a
    return tot


@kjit
def _counts(pf, si, jobs, t: float, window: float, kind_lo: int, kind_hi: int):
    """(executions started, sessions, earliest start counted) in ``[t - window, t]`` for
    kinds ``kind_lo..kind_hi``; executions less than ``session_gap`` apart merge into
    one session (row 6)."""
    ring = RING_COUNTED if kind_lo >= JK_FIRST_COUNTED else RING_JOBS
    base, size = _ring(ring)
    lo = t - window
    started = 0
    sess = 0
    first = INF
    newer_start = INF
    h = si[I_JOB_HEAD + ring]
    for k in range(size):
        r = base + (h - 1 - k) % size
        st = jobs[r, JB_START]
        if st >= INF or st < lo:
            break
        kd = jobs[r, JB_KIND]
        if kd < kind_lo or kd > kind_hi:
            continue
        started += 1
        first = st
        if newer_start == INF or newer_start - min(jobs[r, JB_END], t) >= pf[P_SESSION_GAP_S]:
            sess += 1
        newer_start = st
    return started, sess, first


@kjit
def quota_window(pf, si) -> float:
    """Rolling quota window for the current bucket, s (0 = no quota: Active)."""
    return pf[P_QUOTA_WIN_S + si[I_BUCKET]]


@kjit
def quota_remaining(pf, si, jobs, t: float) -> float:
    """Seconds of regular-job time left now (inf when not limited)."""
    rem = INF
    w = quota_window(pf, si)
    # a quota as long as its window is no limit: AOSP lets Active jobs run to the run-time limit
    if w > 0.0 and pf[P_QUOTA_S + si[I_BUCKET]] < w - 1.0:
        rem = pf[P_QUOTA_S + si[I_BUCKET]] - used_time(si, jobs, t, t - w, JK_JOB, JK_JOB)
    cap = pf[P_TOTAL_CAP_S] - used_time(si, jobs, t, t - pf[P_TOTAL_CAP_WIN_S], JK_JOB, JK_EJ)
    return min(rem, cap)


@kjit
def ej_bonus(pf, sf) -> float:
    """Expedited quota earned by screen time and interactions (row 12), s; it fades
    over the quota window so it behaves like a rolling credit."""
    return sf[S_EJ_BONUS] * math.exp(-(sf[S_T] - sf[S_EJ_BONUS_T]) / pf[P_EJ_WIN_S])


@kjit
def ej_earn(pf, sf, seconds: float) -> None:
    """Add ``seconds`` (s) of expedited-job quota earned by screen time or interactions (row 12)."""
    if seconds <= 0.0 or pf[P_EJ_WIN_S] <= 0.0:
        return
    sf[S_EJ_BONUS] = ej_bonus(pf, sf) + seconds
    sf[S_EJ_BONUS_T] = sf[S_T]


@kjit
def ej_remaining(pf, sf, si, jobs, t: float) -> float:
    """Seconds of expedited-job quota left in the rolling 24 h (rows 11, 12)."""
    used = used_time(si, jobs, t, t - pf[P_EJ_WIN_S], JK_EJ, JK_EJ)
    return pf[P_EJ_QUOTA_S + si[I_BUCKET]] + ej_bonus(pf, sf) - used


@kjit
def fgs_remaining(pf, sf, si, jobs, t: float) -> float:
    """dataSync foreground-service time left (row 37: 6 h per 24 h, reset by an app open)."""
    since = max(t - pf[P_FGS_WIN_S], sf[S_LAST_OPEN])
    return pf[P_FGS_QUOTA_S] - used_time(si, jobs, t, since, JK_FGS, JK_FGS)


@kjit(inline="always")
def restricted(si) -> bool:
    """The app is treated as Restricted: its bucket (row 10), or Battery Saver while it
    is in the background (row 36)."""
    return si[I_BUCKET] == BK_RESTRICTED or (si[I_LOWPOWER] != 0 and si[I_APP_FG] == 0)


@kjit(inline="always")
def quota_waived(pf, si) -> bool:
    """Job quotas are waived while charging (row 9), except for a restricted app (row 10)."""
    return si[I_CHARGING] != 0 and pf[P_QUOTA_CHARGING_WAIVED] != 0.0 and not restricted(si)


@kjit(inline="always")
def oem_blocks(pf, sf, si) -> bool:
    """An aggressive phone maker's battery killer: no background work unless charging
    or the app was opened recently (PLATFORM_FACTS 'observed' list)."""
    if pf[P_OEM_KILLER] == 0.0 or si[I_CHARGING] != 0 or si[I_APP_FG] != 0:
        return False
    return sf[S_T] - sf[S_LAST_OPEN] > pf[P_OEM_RECENT_S]


@kjit(inline="always")
def oem_strikes_at(pf, sf) -> float:
    """When ``oem_blocks`` turns on, s: just after the recent-open grace ends (it
    compares with a strict >). A wake-up for a pending launch or a running window."""
    return sf[S_LAST_OPEN] + pf[P_OEM_RECENT_S] + 1e-6


@kjit
def _quota_back_at(pf, si, jobs, t: float, need: float) -> float:
    """Earliest time at which ``need`` seconds of quota are available again, assuming
    no new jobs run meanwhile (used time only falls; found by bisection)."""
    w = quota_window(pf, si)
    lo = t
    hi = t + max(w, pf[P_TOTAL_CAP_WIN_S]) + 1.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if quota_remaining(pf, si, jobs, mid) >= need:
            hi = mid
        else:
            lo = mid
    return hi


@kjit
def rate_gate(pf, si, jobs, t: float):
    """(allowed, wake) under the per-minute job and session rate limit, every bucket (row 7)."""
    started, sess, first = _counts(pf, si, jobs, t, 60.0, JK_JOB, JK_EJ)
    if started >= pf[P_RATE_PER_MIN] or sess >= pf[P_RATE_PER_MIN]:
        return False, first + 60.0 + 1e-6
    return True, INF


@kjit
def quota_gate(pf, si, jobs, t: float):
    """(allowed, wake) for a regular job under the bucket's quotas (rows 1, 4-6, 8)."""
    w = quota_window(pf, si)
    buf = pf[P_QUOTA_BUFFER_S]
    if quota_remaining(pf, si, jobs, t) < buf:
        return False, _quota_back_at(pf, si, jobs, t, buf)
    if w > 0.0:
        started, sess, first = _counts(pf, si, jobs, t, w, JK_JOB, JK_JOB)
        b = si[I_BUCKET]
        if started >= pf[P_JOB_COUNT + b] or sess >= pf[P_SESSION_COUNT + b]:
            return False, first + w + 1e-6
    return True, INF


@kjit
def alarm_gate(pf, si, jobs, t: float):
    """(allowed, wake) for an allow-while-idle alarm. Without SCHEDULE_EXACT_ALARM
    (row 51) it is inexact: it counts against the bucket's alarm limit (rows 28, 57)
    and, in Doze, against the compat quota of 7 per hour (row 55). With the permission
    it is exact: exempt from the bucket's limit (row 57), 72 per hour in Doze (rows 29, 55)."""
    exact = pf[P_EXACT_ALARM] != 0.0
    if not exact:
        b = si[I_BUCKET]
        w = pf[P_ALARM_WIN_S + b]
        alarms, _, first = _counts(pf, si, jobs, t, w, JK_ALARM, JK_ALARM)
        if alarms >= pf[P_ALARM_COUNT + b]:
            return False, first + w + 1e-6
    if doze_idle(si):
        per_h = pf[P_ALARM_DOZE_PER_H] if exact else pf[P_ALARM_COMPAT_PER_H]
        alarms, _, first = _counts(pf, si, jobs, t, 3600.0, JK_ALARM, JK_ALARM)
        if alarms >= per_h:
            return False, first + 3600.0 + 1e-6
    return True, INF


@kjit(inline="always")
def alarm_deferral(pf, si, rng, wt: int, delay: float) -> float:
    """Extra delay, s, of an inexact alarm set ``delay`` s ahead: its delivery falls
    anywhere in a window of 75 % of the delay after the trigger time, at most 1 h long,
    and none for delays under 10 s (row 59). 0 for an exact alarm or another type."""
    if wt != WT_ALARM or pf[P_EXACT_ALARM] != 0.0 or delay < pf[P_ALARM_MIN_FUTURITY_S]:
        return 0.0
    window = min(pf[P_ALARM_WINDOW_FRAC] * delay, pf[P_ALARM_WINDOW_MAX_S])
    return window * uniform(si, rng, SYS)


@kjit
def record_job_start(si, jobs, t: float, kind: int) -> None:
    """Record the start of an execution (or a delivery) of ``kind`` at ``t``."""
    if kind == JK_NONE:
        return
    if kind >= JK_FIRST_COUNTED:
        h = si[I_JOB_HEAD + RING_COUNTED]
        r = NJOB + h
        jobs[r, JB_START] = t
        jobs[r, JB_END] = t
        jobs[r, JB_KIND] = kind
        si[I_JOB_HEAD + RING_COUNTED] = (h + 1) % NCNT
        return
    h = si[I_JOB_HEAD + RING_JOBS]
    if jobs[h, JB_START] < INF:
        # the ring is full: fold the oldest execution into the next one of the same kind
        # so the time it used is never forgotten (quota accounting stays conservative)
        for k in range(1, NJOB):
            q = (h + k) % NJOB
            if jobs[q, JB_KIND] == jobs[h, JB_KIND]:
                jobs[q, JB_START] -= jobs[h, JB_END] - jobs[h, JB_START]
                break
    jobs[h, JB_START] = t
    jobs[h, JB_END] = INF
    jobs[h, JB_KIND] = kind
    si[I_JOB_HEAD + RING_JOBS] = (h + 1) % NJOB


@kjit
def record_job_end(si, jobs, t: float) -> None:
    """Record the end, at ``t`` (s), of the execution in flight."""
    h = (si[I_JOB_HEAD + RING_JOBS] - 1) % NJOB
    if jobs[h, JB_END] >= INF:
        jobs[h, JB_END] = t


@kjit
def backoff_delay(pf, attempt: int) -> float:
    """Delay before retry ``attempt`` (1-based), s: linear init·n or exponential
    init·2^(n−1), clamped to the maximum (row 17; init already clamped on load)."""
    init = pf[P_BACKOFF_INIT_S]
    if pf[P_BACKOFF_EXP] != 0.0:
        d = init * 2.0 ** min(attempt - 1, 40)
    else:
        d = init * attempt
    return min(d, pf[P_BACKOFF_MAX_S])


# ---------------------------------------------------------------------------
# Submission: requests the OS refuses outright, periodic intervals it raises
# ---------------------------------------------------------------------------
@kjit(inline="always")
def submit_refusal(pf, sf, si, wt: int, delay: float, power: float) -> int:
    """Why the OS refuses a request of type ``wt`` submitted now with an earliest-begin
    ``delay`` (s) and ``power`` (1.0 = requires external power): a REFUSE_* code, or
    REFUSE_NONE when it is accepted. Counts JobScheduler.schedule() calls per minute."""
    t = sf[S_T]
    if t - sf[S_SCHED_WIN_T] >= 60.0:
        sf[S_SCHED_WIN_T] = t
        si[I_SCHED_N] = 0
    if wt == WT_JOB or wt == WT_EXPEDITED:  # JobScheduler.schedule() calls (row 22)
        si[I_SCHED_N] += 1
    if pf[P_PLATFORM] == PLATFORM_IOS and si[I_BAR_OFF] != 0:
        return REFUSE_UNAVAILABLE  # BGTaskScheduler.Error.unavailable (row 44)
    if wt == WT_EXPEDITED and (delay > 0.0 or power != 0.0):
        return REFUSE_INVALID  # expedited: no delay, network/storage only (row 14)
    if si[I_SCHED_N] > pf[P_SCHEDULE_PER_MIN]:
        return REFUSE_RATE  # too many schedule() calls in a minute (row 22)
    if wt == WT_FGS and delay > 0.0:
        return REFUSE_INVALID  # a foreground service starts now or not at all
    if wt == WT_FGS and not app_visible(pf, sf, si):
        return REFUSE_BACKGROUND  # row 37: cannot start from the background (12+)
    if wt == WT_UIDT:  # row 79: a user-initiated data transfer job
        if pf[P_UIDT_PERMISSION] == 0.0:
            return REFUSE_PERMISSION  # SecurityException without RUN_USER_INITIATED_JOBS
        if delay > 0.0 or power != 0.0:
            return REFUSE_INVALID  # JobInfo: "A user-initiated job cannot have a time delay"
        if not app_visible(pf, sf, si):
            return REFUSE_BACKGROUND  # RESULT_FAILURE outside the foreground
    return REFUSE_NONE


@kjit(inline="always")
def app_visible(pf, sf, si) -> bool:
    """Android: the app may start a foreground service or schedule a user-initiated job
    now (rows 37, 79): it is on screen, or the user left it at most
    ``fgs_start_grace_s`` ago (the decision taken as the app goes to the background)."""
    return si[I_APP_FG] != 0 or sf[S_T] - sf[S_LAST_CLOSE] <= pf[P_FGS_START_GRACE_S]


@kjit(inline="always")
def periodic_interval(pf, delay: float):
    """(interval, flex) in s of a periodic job asked to repeat every ``delay`` s: both
    are silently raised to their minimums, and the job runs once in the last ``flex``
    of each interval (row 19)."""
    period = max(delay, pf[P_PERIODIC_MIN_S])
    flex = max(pf[P_FLEX_MIN_S], pf[P_FLEX_MIN_FRAC] * period)
    return period, flex


# ---------------------------------------------------------------------------
# The launch rate of one pending request
# ---------------------------------------------------------------------------
@kjit(inline="always")
def effective_type(pf, sf, si, jobs, wtype: int, t: float, notify: bool) -> int:
    """What the OS will actually run: an expedited job out of expedited quota runs as a
    regular job (row 13); an Android high-priority push over its bucket's daily cap
    (row 33), or from an app whose high-priority pushes show no notification (row 34),
    is delivered at normal priority."""
    if wtype == WT_EXPEDITED and ej_remaining(pf, sf, si, jobs, t) < pf[P_EJ_MIN_S]:
        return WT_JOB
    if wtype == WT_PUSH and pf[P_PLATFORM] == PLATFORM_ANDROID:
        pushes, _, _ = _counts(pf, si, jobs, t, 86400.0, JK_PUSH, JK_PUSH_SILENT)
        if pushes >= pf[P_PUSH_CAP + si[I_BUCKET]]:
            return WT_PUSH_NORMAL
        silent, _, _ = _counts(pf, si, jobs, t, 7.0 * 86400.0, JK_PUSH_SILENT, JK_PUSH_SILENT)  # row 34: 7-day history
        if not notify and silent >= pf[P_PUSH_DOWNGRADE]:
            return WT_PUSH_NORMAL
    return wtype


@kjit(inline="always")
def launch_rate(pf, ph, sf, si, reqs, jobs, slot: int, hour: int):
    """(rate 1/s, wake time, throttled) for the pending request in ``slot``.

    rate is 0 when a gate blocks the launch; wake is the next time a gate may open by
    the clock alone; throttled is True when only a quota or rate limit blocks it."""
    t = sf[S_T]
    if si[I_WIN_ACTIVE] != 0:
        return 0.0, INF, False
    earliest = reqs[slot, RQ_EARLIEST]
    if t < earliest:
        return 0.0, earliest, False
    wt = effective_type(pf, sf, si, jobs, int(reqs[slot, RQ_TYPE]), t, reqs[slot, RQ_NOTIFY] != 0.0)
    ios = pf[P_PLATFORM] == PLATFORM_IOS
    if si[I_FORCE_QUIT] != 0 and pf[P_FORCE_QUIT_STOPS] != 0.0:
        return 0.0, INF, False
    if pf[P_WT_NEEDS_BG + wt] != 0.0 and si[I_APP_FG] != 0:
        return 0.0, INF, False
    if ios and si[I_BAR_OFF] != 0:
        return 0.0, INF, False
    charging = si[I_CHARGING] != 0
    if pf[P_LOW_BATT_GATE] != 0.0 and sf[S_BATT] <= pf[P_LOW_BATT] + 1e-9 and not charging:
        return 0.0, INF, False
    if pf[P_WT_LPM_BLOCKS + wt] != 0.0 and si[I_LOWPOWER] != 0:
        return 0.0, INF, False
    if si[I_THERMAL] > pf[P_WT_THERMAL_MAX + wt]:
        return 0.0, INF, False
    if reqs[slot, RQ_POWER] != 0.0 and not charging:
        return 0.0, INF, False
    exempt = doze_exempt(pf, si, wt)
    if reqs[slot, RQ_NET] != 0.0 and effective_net(pf, si, exempt) == NET_NONE:
        return 0.0, INF, False
    wake = INF
    idle_at = device_idle_at(pf, sf, si)
    if pf[P_WT_NEEDS_IDLE + wt] != 0.0 and t < idle_at:
        return 0.0, idle_at, False
    if ios and (wt == WT_PROCESSING or wt == WT_HEALTH) and t - sf[S_LAST_OPEN] > pf[P_RECENT_USE_S]:
        return 0.0, INF, False  # processing: only apps used in the past week (row 39)
    throttled = False
    if ios and wt == WT_PUSH:
        if effective_net(pf, si, True) == NET_NONE:
            # row 65: a push cannot reach a phone with no network; APNs stores it (one per
            # app: a newer push replaces it, as a resubmission replaces the pending request)
            # and delivers it when the phone is back online
            return 0.0, INF, False
        pushes, _, first = _counts(pf, si, jobs, t, 3600.0, JK_PUSH, JK_PUSH_SILENT)
        if pushes >= pf[P_PUSH_PER_H]:  # row 45: "not more than two or three per hour"
            return 0.0, first + 3600.0 + 1e-6, True
    if not ios:
        if oem_blocks(pf, sf, si):
            return 0.0, INF, False
        if pf[P_OEM_KILLER] != 0.0 and not charging and si[I_APP_FG] == 0:
            wake = min(wake, oem_strikes_at(pf, sf))
        if wt == WT_ALARM:
            ok, awake = alarm_gate(pf, si, jobs, t)
            if not ok:
                return 0.0, awake, True
        if wt == WT_FGS and fgs_remaining(pf, sf, si, jobs, t) <= 0.0:
            return 0.0, INF, True
        if pf[P_DOZE_ON] != 0.0 and doze_idle(si) and not exempt:
            return 0.0, INF, False  # held until a maintenance window (row 26)
        if restricted(si) and wt == WT_JOB:
            # row 10 / row 36: charging + idle + battery not low
            if not charging or sf[S_BATT] < pf[P_LOW_BATT]:
                return 0.0, INF, False
            if t < idle_at:
                return 0.0, idle_at, False
        if wt == WT_JOB or wt == WT_EXPEDITED:
            ok, rwake = rate_gate(pf, si, jobs, t)
            if not ok:
                return 0.0, rwake, True
        if pf[P_WT_QUOTA + wt] != 0.0:
            if not quota_waived(pf, si):
                ok, qwake = quota_gate(pf, si, jobs, t)
                if not ok:
                    return 0.0, qwake, True
    rate = pf[P_WT_RATE + wt]
    if pf[P_WT_USAGE_DRIVEN + wt] != 0.0:
        decay_history(pf, sf)
        e = sf[S_HIST_E]
        rate *= sf[S_HIST_B] ** pf[P_HB_GAMMA] * e / (e + pf[P_HE_HALF]) * usage_timing(pf, sf, hour)
    if not charging:
        rate *= pf[P_WT_UNPLUGGED_MULT + wt]
    return rate, wake, throttled


# ---------------------------------------------------------------------------
# The window: what a launch gets, and why the OS stops a running window
# ---------------------------------------------------------------------------
@kjit(inline="always")
def push_dropped(pf, si, rng, wt: int) -> bool:
    """iOS: a silent push has no delivery guarantee; True when this one is lost (row 45)."""
    return wt == WT_PUSH and pf[P_PLATFORM] == PLATFORM_IOS and uniform(si, rng, SYS) < pf[P_PUSH_DROP]


@kjit(inline="always")
def grant_budget(pf, sf, si, jobs, rng, wt: int, t: float) -> float:
    """The window length the OS grants a launch of type ``wt`` at ``t``, s (the app is
    never told, row 38): the type's budget, shrunk by a poor history score for
    discretionary windows, sometimes cut to an early expiry (more often with a poor
    score); on Android capped by the quota left (expedited rows 11-13, foreground
    service row 37, regular jobs row 8) or raised on the charger (row 15)."""
    decay_history(pf, sf)
    b = sf[S_HIST_B]
    budget = pf[P_WT_BUDGET + wt]
    if pf[P_WT_USAGE_DRIVEN + wt] != 0.0:  # discretionary windows shrink with a poor history
        budget *= 1.0 - pf[P_HB_DURATION] * (1.0 - b)
    p_early = pf[P_WT_EARLY_P + wt] * (1.0 - b)
    if p_early > 0.0 and uniform(si, rng, SYS) < p_early:
        lo = pf[P_WT_EARLY_LO + wt]
        budget = lo + (pf[P_WT_EARLY_HI + wt] - lo) * uniform(si, rng, SYS)
    if pf[P_PLATFORM] == PLATFORM_ANDROID:
        if wt == WT_EXPEDITED:
            budget = max(pf[P_EJ_MIN_S], min(budget, ej_remaining(pf, sf, si, jobs, t)))
        elif wt == WT_FGS:
            budget = min(budget, fgs_remaining(pf, sf, si, jobs, t))  # then onTimeout (row 37)
        elif wt == WT_JOB:
            if quota_waived(pf, si):
                budget = max(budget, pf[P_RUN_LIMIT_WAIVED_S])  # row 15
            elif pf[P_WT_QUOTA + wt] != 0.0:
                budget = min(budget, quota_remaining(pf, si, jobs, t))
    return budget


@kjit(inline="always")
def grant_exemption(pf, sf, si, wt: int, t: float) -> None:
    """Android: a high-priority push exempts the app from Doze until ``t`` plus
    ``push_doze_exemption_s`` (row 27)."""
    if wt == WT_PUSH and pf[P_PLATFORM] == PLATFORM_ANDROID:
        sf[S_TEMP_EXEMPT_UNTIL] = t + pf[P_PUSH_EXEMPT_S]
        si[I_TEMP_EXEMPT] = 1


@kjit(inline="always")
def record_grant(pf, si, jobs, wt: int, t: float, notify: bool) -> None:
    """Record a launch of type ``wt`` at ``t`` in the rings the quotas, caps and rate
    limits count: a push by whether it shows a notification (row 34); job time on the
    charger against no quota (row 9); jobs of an app on screen only where the profile
    counts them (row 3, Android 16)."""
    kind = WT_JOB_KIND[wt]
    if kind == JK_PUSH and not notify:
        kind = JK_PUSH_SILENT
    if (kind == JK_JOB or kind == JK_EJ) and pf[P_PLATFORM] == PLATFORM_ANDROID and quota_waived(pf, si):
        kind = JK_OTHER  # row 9: job time on the charger is not tracked against any quota
    counted = kind != JK_JOB and kind != JK_EJ
    if counted or si[I_APP_FG] == 0 or pf[P_COUNT_FG_JOBS] != 0.0:  # row 3: on-screen jobs count from 16
        record_job_start(si, jobs, t, kind)


@kjit(inline="always")
def stop_reason(pf, sf, si) -> int:
    """Why the OS stops the running window now: an END_* code, or END_NONE while its
    conditions hold. Checked after every event."""
    if si[I_OFF] != 0:
        return END_CONSTRAINT  # the phone shut down, its battery empty (kernel._shutdown)
    wt = si[I_WIN_TYPE]
    android = pf[P_PLATFORM] == PLATFORM_ANDROID
    exempt = window_exempt(pf, si)
    if si[I_FORCE_QUIT] != 0 and pf[P_FORCE_QUIT_STOPS] != 0.0:
        return END_KILL_FORCE_QUIT
    if android and oem_blocks(pf, sf, si):
        return END_KILL_OEM
    if pf[P_WT_NEEDS_IDLE + wt] != 0.0 and si[I_SCREEN] != 0:
        return END_USER  # iOS processing stops when the user picks up the phone (row 39)
    if si[I_WIN_POWER] != 0 and si[I_CHARGING] == 0:
        return END_CONSTRAINT
    if si[I_THERMAL] > pf[P_WT_THERMAL_MAX + wt]:
        return END_CONSTRAINT
    if pf[P_WT_LPM_BLOCKS + wt] != 0.0 and si[I_LOWPOWER] != 0:
        return END_CONSTRAINT
    if android and pf[P_DOZE_ON] != 0.0 and doze_idle(si) and not exempt:
        return END_CONSTRAINT
    if android and si[I_WIN_NET] != 0 and effective_net(pf, si, exempt) == NET_NONE:
        return END_CONSTRAINT  # JobScheduler stops a job whose network constraint is lost
    return END_NONE


@kjit(inline="always")
def chunk_fate(pf, sf, si, kind: int, mem: float, t: float, dur: float):
    """(fate, end time in s) of a chunk of work ``kind`` starting at ``t`` that would
    take ``dur`` s and peak at ``mem`` MB: END_COMPLETE at ``t + dur``, or killed
    part-way, by jetsam when its memory crosses the background limit with no expiration
    (END_KILL_MEMORY, row 49), or by the iOS CPU monitor when processing at high CPU
    without external power runs too long (END_KILL_CPU, rows 40, 41)."""
    fate = END_COMPLETE
    end = t + dur
    limit = pf[P_MEM_LIMIT_MB]
    if mem > limit:  # memory grows through the chunk and crosses the limit part-way
        frac = max(0.0, (limit - pf[P_BASE_MEM_MB]) / (mem - pf[P_BASE_MEM_MB]))
        fate = END_KILL_MEMORY
        end = t + dur * frac
    wt = si[I_WIN_TYPE]
    if wt == WT_PROCESSING and pf[P_PLATFORM] == PLATFORM_IOS and pf[P_K_CPU + kind] >= pf[P_CPU_KILL_FRAC]:
        if si[I_WIN_POWER] == 0:  # requiresExternalPower = NO keeps the monitor on (row 40)
            left = pf[P_CPU_KILL_S] - sf[S_CPU_UNPLUGGED]
            if t + left < end:  # row 41: CPU monitor without external power
                fate = END_KILL_CPU
                end = t + max(0.0, left)
    return fate, end


# ---------------------------------------------------------------------------
# Android standby buckets (row 31) and Doze (rows 23-25, 36)
# ---------------------------------------------------------------------------
@kjit
def update_bucket(pf, sf, si, ev) -> None:
    """Set the bucket from the time since the last app open; schedule the next decay."""
    if pf[P_PLATFORM] != PLATFORM_ANDROID:
        sf[S_EV + EV_BUCKET] = INF
        return
    t = sf[S_T]
    b = BK_ACTIVE
    nxt = INF
    for k in range(NBUCKET - 1):
        at = sf[S_LAST_OPEN] + pf[P_BUCKET_THR_S + k]  # same expression as the event time
        if t >= at:
            b = k + 1
        else:
            nxt = at
            break
    sf[S_EV + EV_BUCKET] = nxt
    if b != si[I_BUCKET]:
        si[I_BUCKET] = b
        sf[S_BUCKET_T] = t
        log_event(sf, si, ev, EVK_BUCKET, b, 0.0, 0.0, 0.0)


@kjit(inline="always")
def _doze_event(sf, si) -> None:
    d = si[I_DOZE]
    if d == DZ_ACTIVE:
        sf[S_EV + EV_DOZE] = INF
    elif d < DZ_DEEP_IDLE:
        sf[S_EV + EV_DOZE] = min(sf[S_DOZE_NEXT], sf[S_DEEP_AT])
    else:
        sf[S_EV + EV_DOZE] = sf[S_DOZE_NEXT]


@kjit(inline="always")
def _set_doze(sf, si, ev, state: int, until: float) -> None:
    t = sf[S_T]
    if state != si[I_DOZE]:
        si[I_DOZE] = state
        sf[S_DOZE_T] = t
        log_event(sf, si, ev, EVK_DOZE, state, until - t, 0.0, 0.0)
    sf[S_DOZE_NEXT] = until
    _doze_event(sf, si)


@kjit(inline="always")
def doze_replayed(si) -> bool:
    """A replayed trace records Doze now (``replay.py``): the OS model's own entry and exit
    (``doze_wake``, ``doze_consider``, the deep-Doze timer) are off and ``doze_follow``
    moves the state instead."""
    return (si[I_TR_ON] >> TR_DOZE) & 1 != 0


@kjit(inline="always")
def doze_wake(pf, sf, si, ev) -> None:
    """Screen on, charger plugged in or motion in deep Doze: the device is active."""
    if pf[P_DOZE_ON] == 0.0 or pf[P_PLATFORM] != PLATFORM_ANDROID or doze_replayed(si):
        return
    si[I_DOZE_STEP] = 0
    _set_doze(sf, si, ev, DZ_ACTIVE, INF)
    doze_consider(pf, sf, si, ev)


@kjit(inline="always")
def doze_consider(pf, sf, si, ev) -> None:
    """Screen off and unplugged: schedule light Doze and the deep-Doze entry time
    (rows 23, 24; Battery Saver shortens the light-Doze delay, row 36).

    An active device becomes inactive now (the screen went off, the charger was
    unplugged, or motion ended deep Doze), so the light-Doze delay counts from now, as
    AOSP's DeviceIdleController schedules it when the device becomes inactive; deep
    Doze counts from the latest of screen-off, unplug and motion."""
    if pf[P_DOZE_ON] == 0.0 or pf[P_PLATFORM] != PLATFORM_ANDROID or doze_replayed(si):
        return
    if si[I_SCREEN] != 0 or si[I_CHARGING] != 0:
        return
    sf[S_DEEP_AT] = max(sf[S_SCREEN_OFF_SINCE], sf[S_LAST_MOTION], sf[S_UNPLUG_T]) + pf[P_DEEP_AFTER_S]
    if si[I_DOZE] == DZ_ACTIVE:
        after = pf[P_SAVER_DOZE_AFTER_S] if si[I_LOWPOWER] != 0 else pf[P_LIGHT_AFTER_S]
        si[I_DOZE_STEP] = 0
        _set_doze(sf, si, ev, DZ_LIGHT_PRE, sf[S_T] + after)
    _doze_event(sf, si)


@kjit
def doze_timer(pf, sf, si, ev, jobs_pending: bool) -> None:
    """The Doze timer fired: step the light/deep idle and maintenance schedule
    (light idle 5, 10, 15 min with 1-5 min maintenance, row 23; deep idle 1, 2, 4, 6 h
    with 5-10 min maintenance, row 25)."""
    t = sf[S_T]
    d = si[I_DOZE]
    if d < DZ_DEEP_IDLE and t >= sf[S_DEEP_AT] - 1e-9:
        si[I_DOZE_STEP] = 0
        _set_doze(sf, si, ev, DZ_DEEP_IDLE, t + pf[P_DEEP_IDLE_S])
        return
    if t < sf[S_DOZE_NEXT] - 1e-9:
        _doze_event(sf, si)
        return
    k = si[I_DOZE_STEP]
    if d == DZ_LIGHT_PRE:
        _set_doze(sf, si, ev, DZ_LIGHT_IDLE, t + pf[P_LIGHT_IDLE_S])
    elif d == DZ_LIGHT_MAINT:
        k += 1
        si[I_DOZE_STEP] = k
        _set_doze(sf, si, ev, DZ_LIGHT_IDLE, t + pf[P_LIGHT_IDLE_S + min(k, NLIGHT_IDLE - 1)])
    elif d == DZ_LIGHT_IDLE:
        m = pf[P_LIGHT_MAINT_MAX_S] if jobs_pending else pf[P_LIGHT_MAINT_MIN_S]
        _set_doze(sf, si, ev, DZ_LIGHT_MAINT, t + m)
    elif d == DZ_DEEP_IDLE:
        _set_doze(sf, si, ev, DZ_DEEP_MAINT, t + pf[P_DEEP_MAINT_S + min(k, NDEEP_MAINT - 1)])
    elif d == DZ_DEEP_MAINT:
        k += 1
        si[I_DOZE_STEP] = k
        _set_doze(sf, si, ev, DZ_DEEP_IDLE, t + pf[P_DEEP_IDLE_S + min(k, NDEEP_IDLE - 1)])


@kjit
def doze_follow(pf, sf, si, ev, level: int) -> None:
    """A replayed trace records Doze ``level`` (0 none, 1 light, 2 deep) from now on: the
    device enters light or deep idle, or leaves Doze, now (through ``_set_doze``, as the
    OS model's own transitions). Inside Doze, ``doze_timer`` goes on stepping the idle
    and maintenance periods from the entry (rows 23, 25); the deep-Doze entry timer is
    off (``S_DEEP_AT`` inf) while the record lasts. Nothing on iOS or with Doze off."""
    if pf[P_DOZE_ON] == 0.0 or pf[P_PLATFORM] != PLATFORM_ANDROID:
        return
    sf[S_DEEP_AT] = INF
    d = si[I_DOZE]
    t = sf[S_T]
    if level <= 0:
        si[I_DOZE_STEP] = 0
        _set_doze(sf, si, ev, DZ_ACTIVE, INF)
    elif level == 1:
        if d == DZ_LIGHT_IDLE or d == DZ_LIGHT_MAINT:
            _doze_event(sf, si)
        else:
            si[I_DOZE_STEP] = 0
            _set_doze(sf, si, ev, DZ_LIGHT_IDLE, t + pf[P_LIGHT_IDLE_S])
    elif d == DZ_DEEP_IDLE or d == DZ_DEEP_MAINT:
        _doze_event(sf, si)
    else:
        si[I_DOZE_STEP] = 0
        _set_doze(sf, si, ev, DZ_DEEP_IDLE, t + pf[P_DEEP_IDLE_S])


@kjit
def doze_release(pf, sf, si, ev) -> None:
    """The trace stops recording Doze (a NaN record; ``doze_replayed`` is already off): the
    OS model takes it back from the current state (awake with the screen on or the
    charger in; from active, light Doze is considered; inside Doze, the deep-Doze timer
    restarts from the latest of screen-off, unplug and motion)."""
    if pf[P_DOZE_ON] == 0.0 or pf[P_PLATFORM] != PLATFORM_ANDROID:
        return
    if si[I_SCREEN] != 0 or si[I_CHARGING] != 0:
        doze_wake(pf, sf, si, ev)
    elif si[I_DOZE] == DZ_ACTIVE:
        doze_consider(pf, sf, si, ev)
    else:
        sf[S_DEEP_AT] = max(sf[S_SCREEN_OFF_SINCE], sf[S_LAST_MOTION], sf[S_UNPLUG_T]) + pf[P_DEEP_AFTER_S]
        _doze_event(sf, si)
