"""Per-episode metrics, the ones practitioners track, computed in the compiled core.

``METRICS`` is the single list of names and meanings, in row order; ``write_metrics`` fills one
row of values for a device and ``metrics_batch`` a row per device of a batch (one call
per step of a batched env, however many episodes ended in it). Metrics are valid at any
time and final at the horizon. Units: work in work units, energy and battery in
fractions of a full battery, times in seconds unless the name says hours or days,
shares in fractions of the elapsed time.
"""

from __future__ import annotations

import numpy as np

from bgenv.core.jit import kjit
from bgenv.core.layout import (
    I_TTS_N,
    M_ARRIVED,
    M_BATT_MIN,
    M_BATTERY_COST,
    M_CELL_S,
    M_CHARGING_S,
    M_CHUNKS,
    M_CHUNKS_LOST,
    M_COMPLETED,
    M_COMPLETED_BG,
    M_COMPLETES,
    M_DEADLINES_MISSED,
    M_DEEP_DOZE_S,
    M_ENERGY,
    M_EXPIRATIONS,
    M_FRESH_OPENS,
    M_INVALID,
    M_ITEMS_ARRIVED,
    M_ITEMS_DONE,
    M_KILLS,
    M_KILLS_MEMORY,
    M_LOWPOWER_S,
    M_OPENS,
    M_REFUSED,
    M_REQUESTS,
    M_RETRIES,
    M_REWARD,
    M_SCREEN_S,
    M_THROTTLED,
    M_UNITS_LOST,
    M_WIFI_S,
    M_WINDOW_S,
    M_WINDOWS,
    M_WINDOWS_BY_TYPE,
    NWT,
    S_T,
    S_T0,
    TTS_BUF,
)
from bgenv.core.workload import pending_units

# name -> meaning and unit (the reference docs are generated from it), in row order
METRICS: dict[str, str] = {
    "completion_rate": "work_completed / work_arrived (work units)",
    "work_arrived": "work units that arrived in the episode",
    "work_completed": "work units completed (background windows and foreground refresh)",
    "work_pending": "work units still in the backlog (arrived = completed + pending)",
    "work_completed_background": "work units completed in background windows",
    "items_arrived": "backlog items that arrived",
    "items_completed": "backlog items completed",
    "battery_cost": "fraction of a full battery drawn by background work off the charger",
    "energy_total": "fraction of a full battery used by background work, on the charger too",
    "windows_granted": "background windows the OS granted",
    "windows_refresh": "... of which iOS app refresh",
    "windows_processing": "... iOS processing",
    "windows_job": "... Android regular jobs",
    "windows_expedited": "... Android expedited jobs",
    "windows_health": "... iOS health research tasks",
    "windows_push": "... pushes handled (iOS silent, Android high priority)",
    "windows_push_normal": "... Android pushes delivered at normal priority",
    "windows_alarm": "... Android exact alarms",
    "windows_fgs": "... Android foreground services",
    "mean_window_s": "mean window length, s",
    "completions_reported": "windows the app ended by reporting completion",
    "expirations": "windows that expired (budget, user activity, lost constraint)",
    "kills": "kills: memory (jetsam), wind-down past the grace period, CPU monitor, force-quit",
    "kills_memory": "... of which memory kills (no expiration callback)",
    "requests": "requests submitted",
    "requests_refused": "requests refused at submission",
    "throttled_requests": "requests refused or held back by a quota or rate limit",
    "retries_per_task": "extra windows per completed item (windows that worked on it − 1)",
    "time_to_success_s": "median s from an item's arrival to its completion",
    "freshness_at_open": "share of app opens that found no unfetched content",
    "app_opens": "app opens",
    "deadlines_missed": "items that passed their soft deadline",
    "chunks": "chunks started",
    "chunks_lost": "chunks lost (expired, killed or network failure)",
    "units_lost": "work units lost with those chunks (redone later)",
    "invalid_actions": "actions that made no sense in their state (handled as no-ops)",
    "episode_reward": "sum of rewards",
    "simulated_days": "episode length, days",
    "screen_h_per_day": "screen-on hours per day (calibration, U3/U5/U11)",
    "charging_share": "share of time on the charger",
    "wifi_share": "share of time on Wi-Fi (U19, U20)",
    "cellular_share": "share of time on cellular",
    "low_power_share": "share of time in Low Power Mode / Battery Saver (U17)",
    "deep_doze_share": "share of time in deep Doze (Android)",
    "battery_min": "lowest battery level in the episode",
}
METRIC_NAMES: tuple[str, ...] = tuple(METRICS)
NMETRICS = len(METRIC_NAMES)


@kjit
def median_of(a, k: int, scratch) -> float:
    """Median of ``a[:k]`` exactly as ``numpy.median`` gives it (the mean of the two
    middle values for even ``k``; nan for ``k == 0``), by selection in ``scratch``."""
    if k == 0:
        return np.nan
    for i in range(k):
        scratch[i] = a[i]
    mid = k // 2
    lo = 0
    hi = k - 1
    while lo < hi:  # Wirth's selection: afterwards scratch[:mid] <= scratch[mid] <= scratch[mid+1:]
        x = scratch[mid]
        i = lo
        j = hi
        while True:
            while scratch[i] < x:
                i += 1
            while x < scratch[j]:
                j -= 1
            if i <= j:
                scratch[i], scratch[j] = scratch[j], scratch[i]
                i += 1
                j -= 1
            if i > j:
                break
        if j < mid:
            lo = i
        if mid < i:
            hi = j
    upper = scratch[mid]
    if k % 2 == 1:
        return upper
    lower = scratch[0]
    for i in range(1, mid):
        if scratch[i] > lower:
            lower = scratch[i]
    return (lower + upper) / 2.0


@kjit
def write_metrics(sf, si, items, tts, scratch, out) -> None:
    """Fill ``out[:NMETRICS]`` with the episode metrics of one device, in
    ``METRIC_NAMES`` order; ``scratch`` is float64 ``[TTS_BUF]`` work space."""
    arrived = sf[M_ARRIVED]
    completed = sf[M_COMPLETED]
    opens = sf[M_OPENS]
    done_items = sf[M_ITEMS_DONE]
    elapsed = max(sf[S_T] - sf[S_T0], 1e-9)
    days = elapsed / 86400.0
    windows = sf[M_WINDOWS]
    out[0] = min(1.0, completed / arrived) if arrived > 0.0 else 1.0  # float sums can pass 1 by an ulp
    out[1] = arrived
    out[2] = completed
    out[3] = pending_units(si, items, -1)
    out[4] = sf[M_COMPLETED_BG]
    out[5] = sf[M_ITEMS_ARRIVED]
    out[6] = done_items
    out[7] = sf[M_BATTERY_COST]
    out[8] = sf[M_ENERGY]
    out[9] = windows
    for k in range(NWT):
        out[10 + k] = sf[M_WINDOWS_BY_TYPE + k]
    j = 10 + NWT
    out[j] = sf[M_WINDOW_S] / windows if windows != 0.0 else 0.0
    out[j + 1] = sf[M_COMPLETES]
    out[j + 2] = sf[M_EXPIRATIONS]
    out[j + 3] = sf[M_KILLS]
    out[j + 4] = sf[M_KILLS_MEMORY]
    out[j + 5] = sf[M_REQUESTS]
    out[j + 6] = sf[M_REFUSED]
    out[j + 7] = sf[M_THROTTLED] + sf[M_REFUSED]
    out[j + 8] = sf[M_RETRIES] / done_items if done_items != 0.0 else 0.0
    out[j + 9] = median_of(tts, min(si[I_TTS_N], TTS_BUF), scratch)
    out[j + 10] = sf[M_FRESH_OPENS] / opens if opens != 0.0 else np.nan
    out[j + 11] = opens
    out[j + 12] = sf[M_DEADLINES_MISSED]
    out[j + 13] = sf[M_CHUNKS]
    out[j + 14] = sf[M_CHUNKS_LOST]
    out[j + 15] = sf[M_UNITS_LOST]
    out[j + 16] = sf[M_INVALID]
    out[j + 17] = sf[M_REWARD]
    out[j + 18] = days
    out[j + 19] = sf[M_SCREEN_S] / 3600.0 / days
    out[j + 20] = sf[M_CHARGING_S] / elapsed
    out[j + 21] = sf[M_WIFI_S] / elapsed
    out[j + 22] = sf[M_CELL_S] / elapsed
    out[j + 23] = sf[M_LOWPOWER_S] / elapsed
    out[j + 24] = sf[M_DEEP_DOZE_S] / elapsed
    out[j + 25] = sf[M_BATT_MIN]


@kjit
def metrics_batch(idx, sf, si, items, tts, scratch, out) -> None:
    """``write_metrics`` for the devices in ``idx``: row ``j`` of ``out`` for ``idx[j]``."""
    for j in range(idx.shape[0]):
        i = idx[j]
        write_metrics(sf[i], si[i], items[i], tts[i], scratch, out[j])
