"""The fidelity registry: every numbered fact of PLATFORM_FACTS.md, how bgenv models it,
the test that checks it and the experiment that measures it.

Each entry of :data:`FACTS` (one per fact row, in the file's numbering) and of
:data:`OBSERVED` (the "observed behaviour developers complain about" list, rows
``O1``-``O9``) is a :class:`Fact`: the config keys or code that model the fact, the test
in ``tests/fidelity/test_fidelity.py`` and an *experiment*, a function of one of the topic
modules of :mod:`bgenv.fidelity` that runs a few small seeded episodes through the
public API and returns a :class:`~bgenv.fidelity.measurement.Measurement`. Facts that
bgenv does not model carry the reason instead. The row number is data here: the
experiments are named for what they measure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from bgenv.config import CONFIG_DIR
from bgenv.fidelity import (
    android_conditions,
    android_doze,
    android_job_rules,
    android_push_alarms,
    android_quotas,
    ios_gates,
    ios_processing,
    ios_refresh,
    observed,
    transfers,
)
from bgenv.fidelity.measurement import NOT_MODELLED, NOT_YET, Measurement

TEST_FILE = "tests/fidelity/test_fidelity.py"
MISSING_ROWS = (16, 18, 20, 21, 30)  # PLATFORM_FACTS.md has no such rows
MOVED_IN_ROWS = (
    51,
    55,
    57,
    59,
    65,
    *range(71, 82),
    85,
    86,
)  # rows past 50 moved in from docs/sources/candidate_rows_v1.md, numbers kept


@dataclass(frozen=True)
class Fact:
    """One row of the fidelity table."""

    row: int | str
    fact: str
    documented: str
    model: str  # config keys in configs/profiles/*.yaml or the code that models it
    test: str = ""  # test function in tests/fidelity/test_fidelity.py
    experiment: Callable[[], Measurement] | None = None
    reason: str = ""  # why the fact is not modelled (no experiment)
    needs_types: tuple[str, ...] = ()  # request types that must exist in some profile

    @property
    def node_id(self) -> str:
        """The pytest node id of the row's test."""
        return f"{TEST_FILE}::{self.test}" if self.test else ""

    def evaluate(self) -> Measurement:
        """Run the experiment (its runs are cached per process), or say why there is none."""
        missing = [t for t in self.needs_types if t not in profile_request_types()]
        if missing:
            return Measurement(
                f"no request option of type {', '.join(missing)} in configs/profiles/*.yaml", status=NOT_YET
            )
        if self.experiment is None:
            return Measurement(self.reason, status=NOT_MODELLED)
        return self.experiment()


@functools.cache
def profile_request_types() -> frozenset[str]:
    """Request types offered by any profile in ``configs/profiles`` (their ``request_options``)."""
    types: set[str] = set()
    for path in sorted((CONFIG_DIR / "profiles").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for o in data.get("request_options") or []:
            if isinstance(o, dict) and "type" in o:
                types.add(str(o["type"]))
    return frozenset(types)


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------
FACTS: tuple[Fact, ...] = (
    Fact(1, "Job time quota per standby bucket",
         "10 min per rolling window: Active unlimited, Working 2 h, Frequent 8 h, Rare 24 h, Restricted 24 h",
         "`android.quota_s`, `android.quota_window_h` (scheduler.quota_gate)",
         "test_row_01_rare_bucket_on_battery_holds_10_min_and_3_sessions_per_24h",
         android_quotas.job_time_quota_per_bucket),
    Fact(2, "Android 16 quota changes",
         "Active 20 min per 60 min; Working window 4 h; Frequent 12 h; Rare/Restricted unchanged",
         "profile `android-16`: `android.quota_s`, `android.quota_window_h`",
         "test_row_02_android_16_quota_windows", android_quotas.android16_quota_windows),
    Fact(3, "Jobs started on screen / with a foreground service",
         "not counted against quota before 16; counted from 16",
         "`android.count_foreground_jobs` (windows.grant_window)",
         "test_row_03_on_screen_jobs_count_from_android_16", android_quotas.on_screen_job_time),
    Fact(4, "Total job time cap, all buckets", "4 h per 24 h",
         "`android.total_cap_s`, `android.total_cap_window_h`",
         "test_row_04_total_cap_4_h_per_24_h", android_quotas.total_job_time_cap),
    Fact(5, "Job count per window", "Active 75, Working 120, Frequent 200, Rare 48, Restricted 10",
         "`android.job_count` (one window at a time, no concurrent jobs)",
         "test_row_05_job_counts_per_window", android_quotas.job_count_per_window),
    Fact(6, "Session count per window (jobs < 5 s apart merge)",
         "Active 75, Working 10, Frequent 8, Rare 3, Restricted 1",
         "`android.session_count`, `android.session_gap_s`",
         "test_row_06_session_counts_per_window", android_quotas.session_count_per_window),
    Fact(7, "Rate limit, every bucket", "20 jobs and 20 sessions per minute", "`android.rate_per_minute`",
         "test_row_07_rate_limit_20_jobs_per_minute", android_quotas.jobs_per_minute),
    Fact(8, "Back-in-quota buffer", "≥ 30 s of quota needed before jobs resume", "`android.quota_buffer_s`",
         "test_row_08_jobs_resume_with_30_s_of_quota", android_quotas.quota_left_when_jobs_resume),
    Fact(9, "Quota waived", "while charging", "`android.charging_waives_quota`, `android.run_limit_waived_s`",
         "test_row_09_10_charging_lifts_the_quota_but_not_restricted_rules", android_quotas.job_time_on_the_charger),
    Fact(10, "Restricted bucket out of quota",
         "job needs charging + idle + battery-not-low (+ network if requested)",
         "scheduler.launch_rate restricted rule: charging, `idle_after_screen_off_s`, `low_battery_level`",
         "test_row_09_10_charging_lifts_the_quota_but_not_restricted_rules", android_quotas.restricted_bucket_jobs),
    Fact(11, "Expedited-job quota per 24 h", "Active 30 min, Working 30 (16: 15), Frequent 10, Rare 10, Restricted 5",
         "`android.expedited_quota_s`, `android.expedited_window_h`",
         "test_row_11_expedited_quota_per_bucket", android_quotas.expedited_quota_per_bucket),
    Fact(12, "Expedited quota refill", "+10 s per 30 s on screen; +15 s per interaction",
         "`android.expedited_refill_per_screen_s`, `android.expedited_refill_per_open_s` (scheduler.ej_earn)",
         "test_row_12_expedited_quota_refill", android_quotas.expedited_quota_refill),
    Fact(13, "Expedited job out of quota", "runs as a regular job, or schedule() fails",
         "scheduler.effective_type (`android.expedited_min_s`)",
         "test_row_13_14_expedited_rules_and_fallback", android_quotas.expedited_past_quota),
    Fact(14, "Expedited job rules",
         "network/storage constraints only; no delay, not periodic; guaranteed ≥ 3 min",
         "windows.submit_request (refused `invalid`), config: periodic only for `job`; `android.expedited_min_s`",
         "test_row_13_14_expedited_rules_and_fallback", android_quotas.expedited_request_rules),
    Fact(15, "Per-job run time",
         "10 min; 12+: regular 10 min, high-priority 5 min, expedited 3 min; up to 30 min when quota waived",
         "`windows.job.budget_s`, `android.run_limit_waived_s`, `android.expedited_min_s`",
         "test_row_15_per_job_run_time", android_quotas.per_job_run_time),
    Fact(17, "Backoff",
         "exponential 30 s default; min 10 s; max 5 h; linear init·n, exponential init·2^(n−1); clamped",
         "`android.backoff`, `android.reschedule_on_stop`",
         "test_row_17_backoff_delays", android_job_rules.backoff_delays),
    Fact(19, "Periodic minimum and flex",
         "interval ≥ 15 min; flex ≥ max(5 min, 5 %); raised silently; runs once in the last flex of each interval",
         "`android.periodic_min_interval_s`, `android.flex_min_s`, `android.flex_min_fraction`; option `periodic`",
         "test_row_19_one_minute_periodic_runs_every_15_minutes", android_job_rules.periodic_interval_and_flex),
    Fact(22, "Hard limits", "150 pending jobs; 250 schedule() calls per minute, then an exception",
         "`android.schedule_per_minute` (refused `rate_limited`); one pending request per slot",
         "test_row_22_schedule_rate_limit", android_job_rules.schedule_calls_per_minute),
    Fact(23, "Light Doze", "~60 s after screen-off (+3 min pre-idle); idle 5 → 10 → 15 min; maintenance 1–5 min",
         "`android.doze.light_after_s`, `light_idle_s`, `light_maintenance_s`",
         "test_row_23_24_25_doze_schedule_of_a_still_phone", android_doze.light_doze_schedule),
    Fact(24, "Deep Doze entry", "stationary, unplugged, screen off ≈ 65 min", "`android.doze.deep_after_s`",
         "test_row_23_24_25_doze_schedule_of_a_still_phone", android_doze.deep_doze_entry),
    Fact(25, "Deep Doze schedule", "idle 1 h → 2 h → 4 h → 6 h, then every 6 h; maintenance 5 → 10 min",
         "`android.doze.deep_idle_s`, `android.doze.deep_maintenance_s`",
         "test_row_23_24_25_doze_schedule_of_a_still_phone", android_doze.deep_doze_schedule),
    Fact(26, "Doze effects", "network off, wakelocks ignored, jobs and alarms held until a maintenance window",
         "scheduler.launch_rate / effective_net; `windows.*.doze_exempt`",
         "test_row_26_jobs_wait_for_maintenance_windows", android_doze.jobs_by_doze_state),
    Fact(27, "Temporary Doze exemption", "high-priority push: up to 5 min", "`android.push_doze_exemption_s`",
         "test_row_27_push_opens_a_5_minute_doze_exemption",
         android_push_alarms.push_doze_exemption, needs_types=("push",)),
    Fact(28, "Alarms per hour by bucket", "Active 720, Working 10, Frequent 2, Rare 1; Restricted 1 per 24 h",
         "`android.alarms_per_window`, `android.alarm_window_h` (inexact alarms only, row 57)",
         "test_row_28_29_alarm_limits", android_push_alarms.alarms_per_hour_by_bucket, needs_types=("alarm",)),
    Fact(29, "Alarms during Doze", "72 per hour (targets 12+)",
         "`android.alarms_per_hour_in_doze` (exact alarms: `android.exact_alarm_permission`, row 51)",
         "test_row_28_29_alarm_limits", android_push_alarms.alarms_per_hour_in_doze, needs_types=("alarm",)),
    Fact(31, "Bucket decay with no usage",
         "Active → Working 12 h → Frequent 24 h → Rare 48 h → Restricted 8 days; an interaction = Active for 1 h",
         "`android.bucket_after_h` (hours since the last app open)",
         "test_row_31_bucket_decay", android_conditions.bucket_decay_without_use),
    Fact(32, "Network in Rare and below", "background network may be blocked",
         "`android.rare_bucket_blocks_network` (off on stock, on in `android-aggressive-oem`)",
         "test_row_32_rare_bucket_network_block", android_conditions.rare_bucket_network_block),
    Fact(33, "High-priority push caps", "Frequent 10/day, Rare 5/day, Restricted 5/day; over → normal priority",
         "`android.push_caps_per_day`", "test_row_33_34_push_caps_and_downgrade",
         android_push_alarms.high_priority_push_caps, needs_types=("push",)),
    Fact(34, "High-priority push downgrade", "no notification shown → normal priority (7-day history)",
         "`android.push_downgrade_after`", "test_row_33_34_push_caps_and_downgrade",
         android_push_alarms.push_downgrade_without_notification, needs_types=("push",)),
    Fact(35, "Thermal limits on jobs",
         "LIGHT blocks low-priority jobs; MODERATE only expedited and running high-priority; SEVERE+ no jobs",
         "`windows.job.thermal_max: fair`, `windows.expedited.thermal_max: serious`; `thermal.*`",
         "test_row_35_thermal_limits_on_jobs", android_conditions.thermal_limits_on_jobs),
    Fact(36, "Battery Saver",
         "background apps treated as Restricted; background network blocked; Doze ~60 s after screen-off",
         "`low_power_on_level`, `android.doze.battery_saver_light_after_s`; restricted rule, effective_net",
         "test_row_36_battery_saver", android_conditions.battery_saver_effects),
    Fact(37, "Foreground services", "can't start from background (12+); dataSync 6 h per 24 h (15+), then onTimeout",
         "`android.fgs_quota_s`, `android.fgs_window_h`, `android.fgs_start_grace_s`",
         "test_row_37_foreground_service",
         android_push_alarms.foreground_service_start_and_timeout, needs_types=("fgs",)),
    Fact(38, "BGAppRefreshTask run time", "up to ~30 s; production reports of expiry after 2–5 s",
         "`windows.refresh.budget_s`, `early_expiry_prob`, `early_expiry_range_s`; `history.duration_weight`",
         "test_row_38_42_refresh_floor_and_run_time", ios_refresh.refresh_run_time),
    Fact(39, "BGProcessingTask",
         "minutes, only while idle; stopped when the user starts using the device; needs use in the past week",
         "`windows.processing.needs_idle`, `budget_s`; `idle_after_screen_off_s`; `ios.processing_recent_use_days`",
         "test_row_39_processing_only_while_idle", ios_processing.processing_only_while_idle),
    Fact(40, "requiresExternalPower / requiresNetworkConnectivity",
         "default NO; power = YES: only on external power, no CPU monitor; NO: the system may still wait for power",
         "request options `requires_power`/`requires_network`; `windows.processing.unplugged_rate_mult`",
         "test_row_40_41_external_power_and_cpu_monitor", ios_processing.processing_on_external_power),
    Fact(41, "CPU monitor", "processing without external power killed at 80 % CPU over 60 s",
         "`ios.cpu_kill_s`, `ios.cpu_kill_fraction`",
         "test_row_40_41_external_power_and_cpu_monitor", ios_processing.processing_cpu_monitor),
    Fact(42, "earliestBeginDate, pending requests",
         "a floor, never a target; ≤ 1 refresh + 10 processing pending; resubmitting replaces and resets the timer",
         "windows.submit_request; one pending request per slot (config.DEFAULT_SLOT)",
         "test_row_38_42_refresh_floor_and_run_time", ios_refresh.refresh_earliest_begin_floor),
    Fact(43, "setTaskCompleted not called",
         "the system may kill the app; task marked unsuccessful; future scheduling degraded",
         "`history.expiration_loss`, `kill_loss`, `rate_exponent`, `duration_weight`; `grace_s`",
         "test_row_43_not_completing_degrades_scheduling", ios_refresh.not_completing_degrades_refresh),
    Fact(44, "Scheduling errors, newer types",
         "`unavailable` when BAR is off; BGHealthResearchTask = processing with elevated priority; "
         "BGContinuedProcessingTask starts at once",
         "user `background_refresh_off_prob` (refused `unavailable`); `windows.health`",
         "test_row_44_background_app_refresh_off_and_health", ios_gates.refresh_switch_off_and_health),
    Fact(45, "Silent push",
         "low priority, no delivery guarantee, 2–3 per hour; 30 s to handle; heavy energy use → fewer wakes",
         "`ios.silent_push_per_hour`, `ios.silent_push_drop_prob`, `windows.push.budget_s`",
         "test_row_45_silent_push", ios_refresh.silent_push_rate, needs_types=("push",)),
    Fact(46, "What gates background runs",
         "battery < 20 %, Low Power Mode, usage, force-quit, BAR switch, energy and data budgets, rate limiting",
         "`low_battery_level`, `low_battery_gate` (and rows 43, 44, 47, 50)",
         "test_row_46_low_battery_gate", ios_gates.low_battery_gate),
    Fact(47, "Low Power Mode", "pauses discretionary work incl. networking and app refresh; off at ~80 %",
         "`windows.*.blocked_by_low_power`, `low_power_off_level`",
         "test_row_47_no_refresh_in_low_power_mode", ios_gates.low_power_mode_pauses_refresh),
    Fact(48, "Thermal states", "fair: non-urgent background work stops; serious: reduced; critical: minimum",
         "`windows.*.thermal_max: nominal`; `thermal.speed_serious`, `thermal.speed_critical`",
         "test_row_48_ios_thermal_state", ios_gates.ios_thermal_gate),
    Fact(49, "Memory", "no per-task limit; jetsam the most common kill; aim < 50 MB; no expiration callback",
         "`memory_limit_mb`; workload `base_memory_mb`, `memory_mb_per_unit`",
         "test_row_49_jetsam", ios_gates.jetsam_memory_kills),
    Fact(50, "Force-quit", "swiping the app away stops its background tasks", "`force_quit_stops_work`",
         "test_row_50_force_quit", ios_gates.force_quit_stops_tasks),
    Fact(51, "Exact-alarm permission",
         "exact alarms need SCHEDULE_EXACT_ALARM (or USE_EXACT_ALARM); from 14 it is denied by default for new "
         "installs targeting 33+",
         "`android.exact_alarm_permission` (false on every Android profile; a scenario may grant it): without it "
         "the `alarm` option is `setAndAllowWhileIdle` (rows 55, 57, 59), the app's fallback instead of the "
         "SecurityException; USE_EXACT_ALARM (row 52, alarm-clock and calendar apps) not modelled",
         "test_row_51_55_57_59_alarms_without_the_exact_alarm_permission",
         android_push_alarms.exact_alarm_permission, needs_types=("alarm",)),
    Fact(55, "Allow-while-idle quotas (Doze)",
         "exact + allow-while-idle with the permission: 72 per rolling hour; all other allow-while-idle alarms: "
         "7 per rolling hour",
         "`android.alarms_per_hour_in_doze` (exact), `android.inexact_alarms_per_hour_in_doze` (scheduler.alarm_gate)",
         "test_row_51_55_57_59_alarms_without_the_exact_alarm_permission",
         android_push_alarms.allow_while_idle_quotas, needs_types=("alarm",)),
    Fact(57, "Standby-bucket exemption for alarms",
         "exempt from the bucket's alarm quota (row 28): alarm clocks and exact allow-while-idle alarms; "
         "`setAndAllowWhileIdle` and other inexact alarms are not",
         "scheduler.alarm_gate: `android.alarms_per_window` counts inexact alarms only",
         "test_row_51_55_57_59_alarms_without_the_exact_alarm_permission",
         android_push_alarms.alarm_bucket_exemption, needs_types=("alarm",)),
    Fact(59, "Inexact window and batching",
         "window = 75 % of the delay, at most 1 h; delays < 10 s not deferred; setWindow minimum 10 min; "
         "overlapping windows delivered together",
         "`android.inexact_alarm_window_fraction`, `inexact_alarm_window_max_s`, `inexact_alarm_min_futurity_s`: "
         "delivery uniform in the window (scheduler.alarm_deferral)",
         "test_row_51_55_57_59_alarms_without_the_exact_alarm_permission",
         android_push_alarms.inexact_alarm_window, needs_types=("alarm",)),
    Fact(65, "APNs store-and-forward while offline",
         "stored while the phone is offline (up to 30 days) and delivered when it is back; one per app, "
         "in most cases the latest",
         "scheduler.launch_rate: no silent push while the phone has no network; one pending push per "
         "request slot, a resubmission replaces it",
         "test_row_65_silent_push_held_while_offline", ios_refresh.silent_push_held_offline,
         needs_types=("push",)),
    # background transfers: iOS background URLSession (71-78), Android UIDT (79-81), long-running workers (85, 86)
    Fact(71, "Background URLSession: out of process",
         "the system performs the upload and download tasks in a separate process",
         "request option `transfer` (core/transfer.py: the units go to the system; radio energy only)",
         "test_row_71_72_transfers_out_of_process_relaunch_the_app", transfers.out_of_process,
         needs_types=("transfer",)),
    Fact(72, "Relaunch on completion", "the app is woken or launched in the background when the tasks finish",
         "`windows.transfer` (the relaunch window; transfer.transfer_relaunched)",
         "test_row_71_72_transfers_out_of_process_relaunch_the_app", transfers.relaunch_on_completion,
         needs_types=("transfer",)),
    Fact(73, "Force-quit cancels background transfers",
         "canceled because the user force-quit the application (also: updates disabled, resources)",
         "transfer.transfer_force_quit (on `force_quit_stops_work`)",
         "test_row_73_force_quit_cancels_transfers", transfers.force_quit_cancels, needs_types=("transfer",)),
    Fact(74, "isDiscretionary", "may wait for Wi-Fi and power; tasks created in the background are discretionary",
         "option `discretionary`, `ios.discretionary_needs_power`, `ios.transfer_foreground_grace_s`",
         "test_row_74_discretionary_transfers_wait_for_wifi_and_power", transfers.discretionary_waits,
         needs_types=("transfer",)),
    Fact(75, "Resume rate limiter", "background-created tasks wait a delay: 60 s, doubled per relaunch, 0 at foreground",
         "`ios.transfer_resume_delay_s`, `ios.transfer_resume_delay_max_s`",
         "test_row_75_76_resume_rate_limiter_and_earliest_begin", transfers.resume_rate_limiter,
         needs_types=("transfer",)),
    Fact(76, "earliestBeginDate of a transfer", "a floor, never a target",
         "the action's delay bin (transfer.transfer_submit)",
         "test_row_75_76_resume_rate_limiter_and_earliest_begin", transfers.resume_rate_limiter,
         needs_types=("transfer",)),
    Fact(77, "timeoutIntervalForResource", "7 days by default; request timeouts are retried",
         "`ios.transfer_timeout_s`", "test_row_77_78_timeout_and_cellular", transfers.resource_timeout,
         needs_types=("transfer",)),
    Fact(78, "allowsExpensiveNetworkAccess", "cellular and hotspots are expensive; Low Data Mode constrains",
         "option `allows_cellular`", "test_row_77_78_timeout_and_cellular", transfers.cellular_flag,
         needs_types=("transfer",)),
    Fact(79, "User-initiated data transfer jobs",
         "only scheduled from the foreground; RUN_USER_INITIATED_JOBS; no quotas; a network type; no delay",
         "request option `uidt`, `windows.uidt`, `android.uidt_permission`, `android.fgs_start_grace_s`",
         "test_row_79_81_user_initiated_jobs", transfers.uidt_rules, needs_types=("uidt",)),
    Fact(80, "UIDT notification", "a notification within 10 s; a user stop is final",
         "`reward.notification` per job (windows.grant_window)", "test_row_79_81_user_initiated_jobs",
         transfers.uidt_notification, needs_types=("uidt",)),
    Fact(81, "UIDT run time", "at least 6 h before a system stop; 12 h hard limit",
         "`windows.uidt.budget_s`", "test_row_79_81_user_initiated_jobs", transfers.uidt_runtime,
         needs_types=("uidt",)),
    Fact(85, "WorkManager long-running workers",
         "a Worker gets 10 min; setForeground runs longer, as a foreground service, started only when visible",
         "request option `fgs` (a dataSync foreground service, row 37)", "test_row_85_86_long_running_workers",
         android_push_alarms.foreground_service_start_and_timeout, needs_types=("fgs",)),
    Fact(86, "dataSync foreground-service time limit", "6 h per 24 h, reset by a foreground visit",
         "`android.fgs_quota_s`, `android.fgs_window_h` (scheduler.fgs_remaining)",
         "test_row_85_86_long_running_workers", android_push_alarms.foreground_service_start_and_timeout,
         needs_types=("fgs",)),
)  # fmt: skip

OBSERVED: tuple[Fact, ...] = (
    Fact("O1", "iOS tasks fire rarely in production", "1–2 a day, sometimes none; warms up over days of use",
         "`windows.refresh.launch_rate_per_h`, `usage_driven`; `history.*`", "test_observed_ios_refresh_rate",
         observed.ios_refresh_windows_per_day),
    Fact("O2", "iOS processing only while charging", "even with requiresExternalPower = NO",
         "`windows.processing.unplugged_rate_mult`", "test_row_40_41_external_power_and_cpu_monitor",
         observed.processing_mostly_on_the_charger),
    Fact("O3", "Processing CPU-killed, refresh expiring early", "after about a minute; after 2–5 s",
         "rows 41, 38", "test_row_40_41_external_power_and_cpu_monitor", observed.cpu_kills_and_early_expiry),
    Fact("O4", "Memory kills and force-quit", "killed at tens of MB; force-quit ends scheduling", "rows 49, 50",
         "test_row_49_jetsam", observed.memory_kills_and_force_quit),
    Fact("O5", "Android periodic work stalls overnight", "gaps of 1, 2, 4 h (the Doze schedule)", "rows 19, 25",
         "test_observed_periodic_work_stalls_in_doze", observed.periodic_gaps_in_doze),
    Fact("O6", "OEM battery killers stop WorkManager", "even with battery optimisation disabled",
         "profile `android-aggressive-oem`: `android.oem_killer`, `android.oem_recent_open_s`",
         "test_observed_oem_killer", observed.oem_killer_stops_jobs),
    Fact("O7", "Hard job timeouts", "10-minute job timeouts; expedited syncs cut at about 5 minutes", "row 15",
         "test_row_15_per_job_run_time", observed.hard_job_timeouts),
    Fact("O8", "Short periodic intervals raised", "a 10-second periodic request silently becomes 15 minutes",
         "row 19", "test_row_19_one_minute_periodic_runs_every_15_minutes", observed.short_periodic_interval_raised),
    Fact("O9", "High-priority push downgraded", "silently, when no notification is shown", "row 34",
         "test_row_33_34_push_caps_and_downgrade", observed.push_downgraded_silently, needs_types=("push",)),
)  # fmt: skip

ALL_FACTS: tuple[Fact, ...] = FACTS + OBSERVED


def fact(row: int | str) -> Fact:
    """The entry of ``row`` (an int, or ``"O1"``...)."""
    return next(f for f in ALL_FACTS if f.row == row)
