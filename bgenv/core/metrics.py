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
    M_CONTENT_REPLACED,
    M_CONTENT_SHOWN,
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
    M_TX_CANCELLED,
    M_TX_DONE,
    M_TX_UNITS,
    M_UNITS_LOST,
    M_WIFI_S,
    M_WINDOW_S,
    M_WINDOWS,
    M_WINDOWS_BY_TYPE,
    NWT,
    S_CONTENT_UNSEEN,
    S_T,
    S_T0,
    TTS_BUF,
    WT_NAMES,
    first_of_run,
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
    "energy_on_charger": "... of which drawn on the charger (energy_total − battery_cost)",
    "windows_granted": "background windows the OS granted",
    "windows_refresh": "... of which iOS app refresh",
    "windows_processing": "... iOS processing",
    "windows_job": "... Android regular jobs",
    "windows_expedited": "... Android expedited jobs",
    "windows_health": "... iOS health research tasks",
    "windows_push": "... pushes handled (iOS silent, Android high priority)",
    "windows_push_normal": "... Android pushes delivered at normal priority",
    "windows_alarm": "... Android alarms (exact with SCHEDULE_EXACT_ALARM, else inexact)",
    "windows_fgs": "... Android foreground services",
    "windows_transfer": "... iOS relaunches to handle a background transfer's completion",
    "windows_uidt": "... Android user-initiated data transfer jobs",
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
    "content_shown_units": "content units fetched in the background and shown to the user (at an app open)",
    "content_unseen_units": "content units fetched in the background and never shown (replaced by a later fetch, or still unseen at the end)",
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
    "transfers_done": "iOS background transfers done (each relaunches the app)",
    "transfer_units": "upload units those transfers delivered (in work_completed_background too)",
    "transfers_failed": "iOS background transfers cancelled by a force-quit or timed out",
}
METRIC_NAMES: tuple[str, ...] = tuple(METRICS)
NMETRICS = len(METRIC_NAMES)


def _col(name: str) -> int:
    """Column of metric ``name`` in ``METRICS``."""
    return METRIC_NAMES.index(name)


def _run(*names: str) -> int:
    """Column of the first of ``names``, consecutive in ``METRICS`` (``write_metrics`` fills them in a loop)."""
    return first_of_run(METRIC_NAMES, names, "metrics in METRICS")


# Metric columns, read off METRICS (plain ints: numba freezes them as constants)
MT_COMPLETION_RATE = _col("completion_rate")
MT_WORK_ARRIVED = _col("work_arrived")
MT_WORK_COMPLETED = _col("work_completed")
MT_WORK_PENDING = _col("work_pending")
MT_WORK_COMPLETED_BACKGROUND = _col("work_completed_background")
MT_ITEMS_ARRIVED = _col("items_arrived")
MT_ITEMS_COMPLETED = _col("items_completed")
MT_BATTERY_COST = _col("battery_cost")
MT_ENERGY_TOTAL = _col("energy_total")
MT_ENERGY_ON_CHARGER = _col("energy_on_charger")
MT_WINDOWS_GRANTED = _col("windows_granted")
MT_WINDOWS_BY_TYPE = _run(*(f"windows_{name}" for name in WT_NAMES))  # one column per window type
MT_MEAN_WINDOW_S = _col("mean_window_s")
MT_COMPLETIONS_REPORTED = _col("completions_reported")
MT_EXPIRATIONS = _col("expirations")
MT_KILLS = _col("kills")
MT_KILLS_MEMORY = _col("kills_memory")
MT_REQUESTS = _col("requests")
MT_REQUESTS_REFUSED = _col("requests_refused")
MT_THROTTLED_REQUESTS = _col("throttled_requests")
MT_RETRIES_PER_TASK = _col("retries_per_task")
MT_TIME_TO_SUCCESS_S = _col("time_to_success_s")
MT_FRESHNESS_AT_OPEN = _col("freshness_at_open")
MT_CONTENT_SHOWN_UNITS = _col("content_shown_units")
MT_CONTENT_UNSEEN_UNITS = _col("content_unseen_units")
MT_APP_OPENS = _col("app_opens")
MT_DEADLINES_MISSED = _col("deadlines_missed")
MT_CHUNKS = _col("chunks")
MT_CHUNKS_LOST = _col("chunks_lost")
MT_UNITS_LOST = _col("units_lost")
MT_INVALID_ACTIONS = _col("invalid_actions")
MT_EPISODE_REWARD = _col("episode_reward")
MT_TRANSFERS_DONE = _col("transfers_done")
MT_TRANSFER_UNITS = _col("transfer_units")
MT_TRANSFERS_FAILED = _col("transfers_failed")
MT_SIMULATED_DAYS = _col("simulated_days")
MT_SCREEN_H_PER_DAY = _col("screen_h_per_day")
MT_CHARGING_SHARE = _col("charging_share")
MT_WIFI_SHARE = _col("wifi_share")
MT_CELLULAR_SHARE = _col("cellular_share")
MT_LOW_POWER_SHARE = _col("low_power_share")
MT_DEEP_DOZE_SHARE = _col("deep_doze_share")
MT_BATTERY_MIN = _col("battery_min")


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
    out[MT_COMPLETION_RATE] = min(1.0, completed / arrived) if arrived > 0.0 else 1.0  # float sums can pass 1 by an ulp
    out[MT_WORK_ARRIVED] = arrived
    out[MT_WORK_COMPLETED] = completed
    out[MT_WORK_PENDING] = pending_units(si, items, -1)
    out[MT_WORK_COMPLETED_BACKGROUND] = sf[M_COMPLETED_BG]
    out[MT_ITEMS_ARRIVED] = sf[M_ITEMS_ARRIVED]
    out[MT_ITEMS_COMPLETED] = done_items
    out[MT_BATTERY_COST] = sf[M_BATTERY_COST]
    out[MT_ENERGY_TOTAL] = sf[M_ENERGY]
    out[MT_ENERGY_ON_CHARGER] = sf[M_ENERGY] - sf[M_BATTERY_COST]
    out[MT_WINDOWS_GRANTED] = windows
    for k in range(NWT):
        out[MT_WINDOWS_BY_TYPE + k] = sf[M_WINDOWS_BY_TYPE + k]
    out[MT_MEAN_WINDOW_S] = sf[M_WINDOW_S] / windows if windows != 0.0 else 0.0
    out[MT_COMPLETIONS_REPORTED] = sf[M_COMPLETES]
    out[MT_EXPIRATIONS] = sf[M_EXPIRATIONS]
    out[MT_KILLS] = sf[M_KILLS]
    out[MT_KILLS_MEMORY] = sf[M_KILLS_MEMORY]
    out[MT_REQUESTS] = sf[M_REQUESTS]
    out[MT_REQUESTS_REFUSED] = sf[M_REFUSED]
    out[MT_THROTTLED_REQUESTS] = sf[M_THROTTLED] + sf[M_REFUSED]
    out[MT_RETRIES_PER_TASK] = sf[M_RETRIES] / done_items if done_items != 0.0 else 0.0
    out[MT_TIME_TO_SUCCESS_S] = median_of(tts, min(si[I_TTS_N], TTS_BUF), scratch)
    out[MT_FRESHNESS_AT_OPEN] = sf[M_FRESH_OPENS] / opens if opens != 0.0 else np.nan
    out[MT_CONTENT_SHOWN_UNITS] = sf[M_CONTENT_SHOWN]
    out[MT_CONTENT_UNSEEN_UNITS] = sf[M_CONTENT_REPLACED] + sf[S_CONTENT_UNSEEN]
    out[MT_APP_OPENS] = opens
    out[MT_DEADLINES_MISSED] = sf[M_DEADLINES_MISSED]
    out[MT_CHUNKS] = sf[M_CHUNKS]
    out[MT_CHUNKS_LOST] = sf[M_CHUNKS_LOST]
    out[MT_UNITS_LOST] = sf[M_UNITS_LOST]
    out[MT_INVALID_ACTIONS] = sf[M_INVALID]
    out[MT_EPISODE_REWARD] = sf[M_REWARD]
    out[MT_SIMULATED_DAYS] = days
    out[MT_SCREEN_H_PER_DAY] = sf[M_SCREEN_S] / 3600.0 / days
    out[MT_CHARGING_SHARE] = sf[M_CHARGING_S] / elapsed
    out[MT_WIFI_SHARE] = sf[M_WIFI_S] / elapsed
    out[MT_CELLULAR_SHARE] = sf[M_CELL_S] / elapsed
    out[MT_LOW_POWER_SHARE] = sf[M_LOWPOWER_S] / elapsed
    out[MT_DEEP_DOZE_SHARE] = sf[M_DEEP_DOZE_S] / elapsed
    out[MT_BATTERY_MIN] = sf[M_BATT_MIN]
    out[MT_TRANSFERS_DONE] = sf[M_TX_DONE]
    out[MT_TRANSFER_UNITS] = sf[M_TX_UNITS]
    out[MT_TRANSFERS_FAILED] = sf[M_TX_CANCELLED]


@kjit
def metrics_batch(idx, sf, si, items, tts, scratch, out) -> None:
    """``write_metrics`` for the devices in ``idx``: row ``j`` of ``out`` for ``idx[j]``."""
    for j in range(idx.shape[0]):
        i = idx[j]
        write_metrics(sf[i], si[i], items[i], tts[i], scratch, out[j])
