"""What the app can see: device conditions it can really read, its backlog and its own
recent history. The OS's hidden score, the window budget and the user's future are
never observed. ``FEATURES`` is the single source for names, meanings and ranges (the
reference docs are generated from it)."""

from __future__ import annotations

import numpy as np

from bgenv.core.history import R_COMPLETES, R_EXPIRATIONS, R_FAILED, R_KILLS, R_WINDOWS, recent_value
from bgenv.core.jit import kjit
from bgenv.core.layout import (
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
    I_THERMAL,
    I_WIN_ACTIVE,
    I_WIN_TYPE,
    IT_ACTIVE,
    IT_ARRIVE,
    IT_KIND,
    IT_OVERDUE,
    IT_REM,
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
    S_WIN_START,
    S_WIN_UNITS,
    WT_ALARM,
    WT_FGS,
    WT_HEALTH,
    WT_PROCESSING,
    WT_PUSH,
    WT_PUSH_NORMAL,
)
from bgenv.core.scheduler import effective_net

_LOG_2W = np.log1p(24.0 * 14.0)  # hour-valued ages are log-scaled up to two weeks
_LOG_1K = np.log1p(1000.0)

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
    ("window_alarm", "running window is an Android exact alarm", "0/1", 0.0, 1.0),
    ("window_fgs", "running window is an Android foreground service", "0/1", 0.0, 1.0),
    ("pending_slot4", "a request is pending in slot 4 (Android alarm)", "0/1", 0.0, 1.0),
    ("pending_slot5", "a request is pending in slot 5 (Android foreground service)", "0/1", 0.0, 1.0),
)
NOBS = len(FEATURES)


@kjit(inline="always")
def _hours(x: float) -> float:
    return min(1.0, np.log1p(max(0.0, x) / 3600.0) / _LOG_2W)


@kjit(inline="always")
def _sat(x: float) -> float:
    return x / (x + 5.0)


@kjit
def write_obs(pf, sf, si, items, reqs, obs) -> None:
    """Fill one observation row ``obs`` (float32, len NOBS) from the state."""
    t = sf[S_T]
    ang = 2.0 * np.pi * ((t / 3600.0) % 24.0) / 24.0
    obs[0] = np.sin(ang)
    obs[1] = np.cos(ang)
    obs[2] = sf[S_BATT]
    obs[3] = si[I_CHARGING]
    obs[4] = si[I_LOWPOWER]
    obs[5] = si[I_THERMAL] / 3.0
    net = effective_net(pf, si, False)
    obs[6] = net == NET_NONE
    obs[7] = net == NET_CELL
    obs[8] = net == NET_WIFI
    obs[9] = si[I_BUCKET] / 4.0 if pf[P_PLATFORM] == PLATFORM_ANDROID else 0.0
    obs[10] = si[I_BAR_OFF]
    obs[11] = si[I_APP_FG]
    phase = si[I_PHASE]
    obs[12] = phase == PH_BACKGROUND
    obs[13] = phase == PH_WINDOW
    obs[14] = phase == PH_CHUNK
    win = si[I_WIN_ACTIVE] != 0
    wt = si[I_WIN_TYPE]
    if wt == WT_HEALTH:
        wt = WT_PROCESSING  # health research is a processing task with elevated priority
    for k in range(4):
        obs[15 + k] = 1.0 if (win and wt == k) else 0.0
    obs[19] = min(1.0, (t - sf[S_WIN_START]) / 600.0) if win else 0.0
    obs[20] = min(1.0, sf[S_WIN_UNITS] / 100.0) if win else 0.0
    obs[21] = si[I_LAST_CHUNK_OK]
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
        if k == 0.0:
            u0 += items[r, IT_REM]
        elif k == 1.0:
            u1 += items[r, IT_REM]
        elif k == 2.0:
            u2 += items[r, IT_REM]
        else:
            u3 += items[r, IT_REM]
        if t - items[r, IT_ARRIVE] > age:
            age = t - items[r, IT_ARRIVE]
        if items[r, IT_OVERDUE] != 0.0:
            over += 1
    obs[22] = min(1.0, np.log1p(u0) / _LOG_1K)
    obs[23] = min(1.0, np.log1p(u1) / _LOG_1K)
    obs[24] = min(1.0, np.log1p(u2) / _LOG_1K)
    obs[25] = min(1.0, np.log1p(u3) / _LOG_1K)
    ni = si[I_NITEMS]
    obs[26] = ni / MAXI
    obs[27] = _hours(age)
    obs[28] = _hours(t - sf[S_LAST_REFRESH])
    obs[29] = over / ni if ni > 0 else 0.0
    obs[30] = _sat(recent_value(sf, R_WINDOWS))
    obs[31] = _sat(recent_value(sf, R_COMPLETES))
    obs[32] = _sat(recent_value(sf, R_EXPIRATIONS))
    obs[33] = _sat(recent_value(sf, R_KILLS))
    obs[34] = _sat(recent_value(sf, R_FAILED))
    obs[35] = _hours(t - sf[S_LAST_WINDOW_END])
    obs[36] = _hours(t - sf[S_LAST_OPEN])
    for k in range(4):
        obs[37 + k] = reqs[k, RQ_ACTIVE]
    obs[41] = si[I_LAST_REFUSED]
    last = si[I_LAST_END]
    obs[42] = 1.0 if (last != END_COMPLETE and last < END_KILL_MEMORY) else 0.0
    obs[43] = 1.0 if last >= END_KILL_MEMORY else 0.0
    obs[44] = min(1.0, si[I_BACKOFF_N] / 10.0) if win else 0.0
    obs[45] = 1.0 if (win and (wt == WT_PUSH or wt == WT_PUSH_NORMAL)) else 0.0
    obs[46] = 1.0 if (win and wt == WT_ALARM) else 0.0
    obs[47] = 1.0 if (win and wt == WT_FGS) else 0.0
    obs[48] = reqs[4, RQ_ACTIVE]
    obs[49] = reqs[5, RQ_ACTIVE]
