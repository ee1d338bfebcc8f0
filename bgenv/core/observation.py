"""What the app can see: device conditions it can really read, its backlog and its own
recent history. The OS's hidden score, the window budget and the user's future are
never observed. ``FEATURES`` is the single source for names, meanings and ranges (the
reference docs are generated from it)."""

from __future__ import annotations

import math

import numpy as np

from bgenv.core.history import R_COMPLETES, R_EXPIRATIONS, R_FAILED, R_KILLS, R_WINDOWS, recent_value
from bgenv.core.jit import kjit
from bgenv.core.layout import (
    BK_RESTRICTED,
    END_COMPLETE,
    END_KILL_MEMORY,
    I_APP_FG,
    I_BACKOFF_N,
    I_BAR_OFF,
    I_BUCKET,
    I_CHARGING,
    I_ITEMS_HI,
    I_LAST_CHUNK_OK,
    I_LAST_END,
    I_LAST_REFUSED,
    I_LOWPOWER,
    I_NITEMS,
    I_PHASE,
    I_TEMP_EXEMPT,
    I_THERMAL,
    I_TX_ACTIVE,
    I_TX_NET,
    I_WIN_ACTIVE,
    I_WIN_TYPE,
    IT_ACTIVE,
    IT_ARRIVE,
    IT_KIND,
    IT_OVERDUE,
    IT_REM,
    KIND_HEAVY,
    KIND_NAMES,
    KIND_REFRESH,
    KIND_SYNC,
    KIND_UPLOAD,
    MAXI,
    NET_CELL,
    NET_NONE,
    NET_WIFI,
    P_PLATFORM,
    PH_BACKGROUND,
    PH_CHUNK,
    PH_WINDOW,
    PLATFORM_ANDROID,
    RQ_ACTIVE,
    S_BATT,
    S_LAST_OPEN,
    S_LAST_REFRESH,
    S_LAST_WINDOW_END,
    S_T,
    S_TX_UNITS,
    S_WIN_START,
    S_WIN_UNITS,
    THERMAL_CRITICAL,
    WT_ALARM,
    WT_EXPEDITED,
    WT_FGS,
    WT_HEALTH,
    WT_NAMES,
    WT_PROCESSING,
    WT_PUSH,
    WT_PUSH_NORMAL,
    WT_TRANSFER,
    WT_UIDT,
    first_of_run,
)
from bgenv.core.scheduler import effective_net, window_exempt

# Scales of the observation (the "unit" column of FEATURES); bgenv.envs.spaces decodes
# observations back into raw quantities with them.
AGE_FULL_H = 24.0 * 14.0  # ages and times since: log1p(hours) / log1p(AGE_FULL_H), two weeks
BACKLOG_FULL_UNITS = 1000.0  # backlog_*: log1p(units) / log1p(BACKLOG_FULL_UNITS)
WINDOW_ELAPSED_FULL_S = 600.0  # window_elapsed: s / WINDOW_ELAPSED_FULL_S, clipped
WINDOW_UNITS_FULL = 100.0  # window_units: units / WINDOW_UNITS_FULL, clipped
RUN_ATTEMPT_FULL = 10.0  # run_attempt: n / RUN_ATTEMPT_FULL, clipped
_LOG_2W = np.log1p(AGE_FULL_H)
_LOG_1K = np.log1p(BACKLOG_FULL_UNITS)

# (name, meaning, unit of the raw quantity, low, high)
FEATURES: tuple[tuple[str, str, str, float, float], ...] = (
    ("hour_sin", "time of day, sine", "sin(2π·h/24)", -1.0, 1.0),
    ("hour_cos", "time of day, cosine", "cos(2π·h/24)", -1.0, 1.0),
    ("battery", "battery level", "fraction of full", 0.0, 1.0),
    ("charging", "on external power", "0/1", 0.0, 1.0),
    ("low_power", "Low Power Mode (iOS) / Battery Saver (Android) on", "0/1", 0.0, 1.0),
    ("thermal", "thermal state: nominal 0, fair 1/3, serious 2/3, critical 1", "level/3", 0.0, 1.0),
    ("net_none", "no network usable by the app now", "0/1", 0.0, 1.0),
    ("net_cellular", "cellular network", "0/1", 0.0, 1.0),
    ("net_wifi", "Wi-Fi network", "0/1", 0.0, 1.0),
    ("standby_bucket", "Android standby bucket: active 0 ... restricted 1 (0 on iOS)", "bucket/4", 0.0, 1.0),
    ("refresh_disabled", "iOS Background App Refresh switched off", "0/1", 0.0, 1.0),
    ("foreground", "the app is on screen", "0/1", 0.0, 1.0),
    ("phase_background", "decision: the app has just gone to the background", "0/1", 0.0, 1.0),
    ("phase_window", "decision: a background window has just started", "0/1", 0.0, 1.0),
    ("phase_chunk", "decision: a chunk inside the window has just ended", "0/1", 0.0, 1.0),
    ("window_refresh", "running window is an iOS app refresh", "0/1", 0.0, 1.0),
    ("window_processing", "running window is an iOS processing (or health research) task", "0/1", 0.0, 1.0),
    ("window_job", "running window is an Android regular job", "0/1", 0.0, 1.0),
    ("window_expedited", "running window is an Android expedited job", "0/1", 0.0, 1.0),
    ("window_elapsed", "time since the window started", "s/600, clipped", 0.0, 1.0),
    ("window_units", "work units saved in this window", "units/100, clipped", 0.0, 1.0),
    ("last_chunk_saved", "the last chunk was saved (0: its network failed)", "0/1", 0.0, 1.0),
    ("backlog_sync", "pending sync-mutation work", "log1p(units)/log1p(1000)", 0.0, 1.0),
    ("backlog_upload", "pending upload work", "log1p(units)/log1p(1000)", 0.0, 1.0),
    ("backlog_refresh", "pending content-refresh work", "log1p(units)/log1p(1000)", 0.0, 1.0),
    ("backlog_heavy", "pending heavy-processing work", "log1p(units)/log1p(1000)", 0.0, 1.0),
    ("backlog_items", "pending items", "items/64", 0.0, 1.0),
    ("oldest_age", "age of the oldest pending item", "log1p(hours)/log1p(336)", 0.0, 1.0),
    ("staleness", "time since content was last fetched", "log1p(hours)/log1p(336)", 0.0, 1.0),
    ("overdue_share", "share of pending items past their soft deadline", "fraction", 0.0, 1.0),
    ("recent_windows", "windows granted, decayed per day", "x/(x+5)", 0.0, 1.0),
    ("recent_completions", "windows completed, decayed per day", "x/(x+5)", 0.0, 1.0),
    ("recent_expirations", "windows expired, decayed per day", "x/(x+5)", 0.0, 1.0),
    ("recent_kills", "kills, decayed per day", "x/(x+5)", 0.0, 1.0),
    ("recent_failed_chunks", "chunks lost, decayed per day", "x/(x+5)", 0.0, 1.0),
    ("since_window", "time since the last window ended", "log1p(hours)/log1p(336)", 0.0, 1.0),
    ("since_open", "time since the user last opened the app", "log1p(hours)/log1p(336)", 0.0, 1.0),
    ("pending_slot0", "a request is pending in slot 0 (iOS refresh / Android job)", "0/1", 0.0, 1.0),
    ("pending_slot1", "a request is pending in slot 1 (iOS processing / Android expedited)", "0/1", 0.0, 1.0),
    ("pending_slot2", "a request is pending in slot 2", "0/1", 0.0, 1.0),
    ("pending_slot3", "a request is pending in slot 3", "0/1", 0.0, 1.0),
    ("request_refused", "the last submission was refused", "0/1", 0.0, 1.0),
    ("last_expired", "the last window ended by expiration", "0/1", 0.0, 1.0),
    ("last_killed", "the last window ended in a kill", "0/1", 0.0, 1.0),
    (
        "run_attempt",
        "Android: retry attempt of the running job (WorkManager runAttemptCount)",
        "n/10, clipped",
        0.0,
        1.0,
    ),
    ("window_push", "running window handles a push (silent, high or normal priority)", "0/1", 0.0, 1.0),
    ("window_alarm", "running window is an Android alarm (exact or inexact)", "0/1", 0.0, 1.0),
    ("window_fgs", "running window is an Android foreground service", "0/1", 0.0, 1.0),
    ("pending_slot4", "a request is pending in slot 4 (Android alarm)", "0/1", 0.0, 1.0),
    (
        "pending_slot5",
        "a request is pending in slot 5 (Android foreground service or user-initiated job; iOS relaunch after a transfer)",
        "0/1",
        0.0,
        1.0,
    ),
    # background transfers (iOS background URLSession, Android user-initiated jobs; rows 71-81)
    (
        "window_transfer",
        "running window is an iOS relaunch to handle a background transfer's completion",
        "0/1",
        0.0,
        1.0,
    ),
    ("window_uidt", "running window is an Android user-initiated data transfer job", "0/1", 0.0, 1.0),
    (
        "transfer_units",
        "iOS: upload work handed to a background transfer in flight (0 on Android)",
        "log1p(units)/log1p(1000)",
        0.0,
        1.0,
    ),
    ("transfer_running", "iOS: a background transfer in flight is running now (not waiting)", "0/1", 0.0, 1.0),
)
NOBS = len(FEATURES)
FEATURE_NAMES: tuple[str, ...] = tuple(f[0] for f in FEATURES)


def _slot(name: str) -> int:
    """Position of feature ``name`` in ``FEATURES``."""
    return FEATURE_NAMES.index(name)


def _run(*names: str) -> int:
    """Position of the first of ``names``, consecutive in ``FEATURES`` (``write_obs`` fills them in a loop)."""
    return first_of_run(FEATURE_NAMES, names, "observation features in FEATURES")


# Observation slots, read off FEATURES (plain ints: numba freezes them as constants)
O_HOUR_SIN = _slot("hour_sin")
O_HOUR_COS = _slot("hour_cos")
O_BATTERY = _slot("battery")
O_CHARGING = _slot("charging")
O_LOW_POWER = _slot("low_power")
O_THERMAL = _slot("thermal")
O_NET_NONE = _slot("net_none")
O_NET_CELLULAR = _slot("net_cellular")
O_NET_WIFI = _slot("net_wifi")
O_STANDBY_BUCKET = _slot("standby_bucket")
O_REFRESH_DISABLED = _slot("refresh_disabled")
O_FOREGROUND = _slot("foreground")
O_PHASE_BACKGROUND = _slot("phase_background")
O_PHASE_WINDOW = _slot("phase_window")
O_PHASE_CHUNK = _slot("phase_chunk")
# one slot per window type from WT_REFRESH (code 0) to WT_EXPEDITED (code 3)
O_WINDOW_TYPE = _run(*(f"window_{WT_NAMES[wt]}" for wt in range(WT_EXPEDITED + 1)))
O_WINDOW_ELAPSED = _slot("window_elapsed")
O_WINDOW_UNITS = _slot("window_units")
O_LAST_CHUNK_SAVED = _slot("last_chunk_saved")
O_BACKLOG = _run(*(f"backlog_{k}" for k in KIND_NAMES))  # one slot per work kind, in KIND_* order
O_BACKLOG_ITEMS = _slot("backlog_items")
O_OLDEST_AGE = _slot("oldest_age")
O_STALENESS = _slot("staleness")
O_OVERDUE_SHARE = _slot("overdue_share")
O_RECENT_WINDOWS = _slot("recent_windows")
O_RECENT_COMPLETIONS = _slot("recent_completions")
O_RECENT_EXPIRATIONS = _slot("recent_expirations")
O_RECENT_KILLS = _slot("recent_kills")
O_RECENT_FAILED_CHUNKS = _slot("recent_failed_chunks")
O_SINCE_WINDOW = _slot("since_window")
O_SINCE_OPEN = _slot("since_open")
O_PENDING_SLOT0 = _run("pending_slot0", "pending_slot1", "pending_slot2", "pending_slot3")  # slots 0-3
O_REQUEST_REFUSED = _slot("request_refused")
O_LAST_EXPIRED = _slot("last_expired")
O_LAST_KILLED = _slot("last_killed")
O_RUN_ATTEMPT = _slot("run_attempt")
O_WINDOW_PUSH = _slot("window_push")
O_WINDOW_ALARM = _slot("window_alarm")
O_WINDOW_FGS = _slot("window_fgs")
O_PENDING_SLOT4 = _slot("pending_slot4")
O_PENDING_SLOT5 = _slot("pending_slot5")
O_WINDOW_TRANSFER = _slot("window_transfer")
O_WINDOW_UIDT = _slot("window_uidt")
O_TRANSFER_UNITS = _slot("transfer_units")
O_TRANSFER_RUNNING = _slot("transfer_running")


@kjit(inline="always")
def _hours(x: float) -> float:
    return min(1.0, math.log1p(max(0.0, x) / 3600.0) / _LOG_2W)


@kjit(inline="always")
def _sat(x: float) -> float:
    return x / (x + 5.0)


@kjit
def write_obs(pf, sf, si, items, reqs, obs) -> None:
    """Fill one observation row ``obs`` (float32, len NOBS) from the state."""
    t = sf[S_T]
    ang = 2.0 * np.pi * ((t / 3600.0) % 24.0) / 24.0
    obs[O_HOUR_SIN] = math.sin(ang)
    obs[O_HOUR_COS] = math.cos(ang)
    obs[O_BATTERY] = sf[S_BATT]
    obs[O_CHARGING] = si[I_CHARGING]
    obs[O_LOW_POWER] = si[I_LOWPOWER]
    obs[O_THERMAL] = si[I_THERMAL] / THERMAL_CRITICAL
    # the network the app may use now: inside a window exempt from Doze (or under a
    # push's temporary exemption, row 27) the one its chunks get
    win = si[I_WIN_ACTIVE] != 0
    net = effective_net(pf, si, window_exempt(pf, si) if win else si[I_TEMP_EXEMPT] != 0)
    obs[O_NET_NONE] = net == NET_NONE
    obs[O_NET_CELLULAR] = net == NET_CELL
    obs[O_NET_WIFI] = net == NET_WIFI
    obs[O_STANDBY_BUCKET] = si[I_BUCKET] / BK_RESTRICTED if pf[P_PLATFORM] == PLATFORM_ANDROID else 0.0
    obs[O_REFRESH_DISABLED] = si[I_BAR_OFF]
    obs[O_FOREGROUND] = si[I_APP_FG]
    phase = si[I_PHASE]
    obs[O_PHASE_BACKGROUND] = phase == PH_BACKGROUND
    obs[O_PHASE_WINDOW] = phase == PH_WINDOW
    obs[O_PHASE_CHUNK] = phase == PH_CHUNK
    wt = si[I_WIN_TYPE]
    if wt == WT_HEALTH:
        wt = WT_PROCESSING  # health research is a processing task with elevated priority
    for k in range(WT_EXPEDITED + 1):
        obs[O_WINDOW_TYPE + k] = 1.0 if (win and wt == k) else 0.0
    obs[O_WINDOW_ELAPSED] = min(1.0, (t - sf[S_WIN_START]) / WINDOW_ELAPSED_FULL_S) if win else 0.0
    obs[O_WINDOW_UNITS] = min(1.0, sf[S_WIN_UNITS] / WINDOW_UNITS_FULL) if win else 0.0
    obs[O_LAST_CHUNK_SAVED] = si[I_LAST_CHUNK_OK]
    # one pass over the backlog: units per kind (summed in row order, as
    # workload.pending_units does), the oldest arrival and the overdue count
    u0 = 0.0
    u1 = 0.0
    u2 = 0.0
    u3 = 0.0
    age = 0.0
    over = 0
    for r in range(si[I_ITEMS_HI]):
        if items[r, IT_ACTIVE] == 0.0:
            continue
        k = items[r, IT_KIND]
        if k == KIND_SYNC:
            u0 += items[r, IT_REM]
        elif k == KIND_UPLOAD:
            u1 += items[r, IT_REM]
        elif k == KIND_REFRESH:
            u2 += items[r, IT_REM]
        else:
            u3 += items[r, IT_REM]
        if t - items[r, IT_ARRIVE] > age:
            age = t - items[r, IT_ARRIVE]
        if items[r, IT_OVERDUE] != 0.0:
            over += 1
    obs[O_BACKLOG + KIND_SYNC] = min(1.0, math.log1p(u0) / _LOG_1K)
    obs[O_BACKLOG + KIND_UPLOAD] = min(1.0, math.log1p(u1) / _LOG_1K)
    obs[O_BACKLOG + KIND_REFRESH] = min(1.0, math.log1p(u2) / _LOG_1K)
    obs[O_BACKLOG + KIND_HEAVY] = min(1.0, math.log1p(u3) / _LOG_1K)
    ni = si[I_NITEMS]
    obs[O_BACKLOG_ITEMS] = ni / MAXI
    obs[O_OLDEST_AGE] = _hours(age)
    obs[O_STALENESS] = _hours(t - sf[S_LAST_REFRESH])
    obs[O_OVERDUE_SHARE] = over / ni if ni > 0 else 0.0
    obs[O_RECENT_WINDOWS] = _sat(recent_value(sf, R_WINDOWS))
    obs[O_RECENT_COMPLETIONS] = _sat(recent_value(sf, R_COMPLETES))
    obs[O_RECENT_EXPIRATIONS] = _sat(recent_value(sf, R_EXPIRATIONS))
    obs[O_RECENT_KILLS] = _sat(recent_value(sf, R_KILLS))
    obs[O_RECENT_FAILED_CHUNKS] = _sat(recent_value(sf, R_FAILED))
    obs[O_SINCE_WINDOW] = _hours(t - sf[S_LAST_WINDOW_END])
    obs[O_SINCE_OPEN] = _hours(t - sf[S_LAST_OPEN])
    for k in range(4):
        obs[O_PENDING_SLOT0 + k] = reqs[k, RQ_ACTIVE]
    obs[O_REQUEST_REFUSED] = si[I_LAST_REFUSED]
    last = si[I_LAST_END]
    obs[O_LAST_EXPIRED] = 1.0 if (last != END_COMPLETE and last < END_KILL_MEMORY) else 0.0
    obs[O_LAST_KILLED] = 1.0 if last >= END_KILL_MEMORY else 0.0
    obs[O_RUN_ATTEMPT] = min(1.0, si[I_BACKOFF_N] / RUN_ATTEMPT_FULL) if win else 0.0
    obs[O_WINDOW_PUSH] = 1.0 if (win and (wt == WT_PUSH or wt == WT_PUSH_NORMAL)) else 0.0
    obs[O_WINDOW_ALARM] = 1.0 if (win and wt == WT_ALARM) else 0.0
    obs[O_WINDOW_FGS] = 1.0 if (win and wt == WT_FGS) else 0.0
    obs[O_PENDING_SLOT4] = reqs[4, RQ_ACTIVE]
    obs[O_PENDING_SLOT5] = reqs[5, RQ_ACTIVE]
    obs[O_WINDOW_TRANSFER] = 1.0 if (win and wt == WT_TRANSFER) else 0.0
    obs[O_WINDOW_UIDT] = 1.0 if (win and wt == WT_UIDT) else 0.0
    obs[O_TRANSFER_UNITS] = min(1.0, math.log1p(sf[S_TX_UNITS]) / _LOG_1K) if si[I_TX_ACTIVE] != 0 else 0.0
    obs[O_TRANSFER_RUNNING] = 1.0 if si[I_TX_NET] != NET_NONE else 0.0
