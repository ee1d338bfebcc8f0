"""Compile a validated :class:`bgenv.config.Scenario` into the kernel's frozen arrays.

Unit conversions happen here, once: %/h becomes fraction per second, hours become
seconds, named levels become integers (the codes of ``layout.py``, whose names the
configuration validates against). The kernel only ever sees SI-like units.

The core sits below the configuration: it receives a validated scenario object and
reads its fields, but never imports ``bgenv.config``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bgenv.core import layout as L
from bgenv.core.layout import DEFAULT_SLOT, PERIODIC_SLOT, PLATFORMS, THERMAL_LEVELS, WINDOW_TYPES

if TYPE_CHECKING:
    from bgenv.config import RequestOption, Scenario

PCT_PER_H = 1.0 / (100.0 * 3600.0)  # %/h -> fraction per s


@dataclass(frozen=True)
class CompiledParams:
    """The kernel's read-only inputs plus what the adapters need to build spaces."""

    pf: np.ndarray
    ph: np.ndarray
    platform: str
    n_options: int
    n_delays: int
    n_chunks: int
    option_labels: tuple[str, ...]
    delay_bins_s: tuple[float, ...]
    chunk_bins_units: tuple[float, ...]
    scenario: Scenario

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled tables stay read-only: the kernel is compiled for read-only ``pf``/``ph``
        and a writeable copy would make numba compile it a second time (minutes)."""
        for a in (state["pf"], state["ph"]):
            a.flags.writeable = False
        self.__dict__.update(state)

    @property
    def nvec(self) -> np.ndarray:
        """MultiDiscrete sizes: request option, delay bin, chunk bin, work kind."""
        return np.array([self.n_options, self.n_delays, self.n_chunks, L.NKIND + 1], dtype=np.int64)


def _option_label(o: RequestOption) -> str:
    """The action table's label of a request option, e.g. ``periodic+job+network``."""
    parts = [o.type]
    if o.requires_network:
        parts.append("network")
    if o.requires_power:
        parts.append("power")
    if o.periodic:
        parts.insert(0, "periodic")
    if o.notification:
        parts.append("notification")
    if o.discretionary:
        parts.append("discretionary")
    if not o.allows_cellular:
        parts.append("wifi")
    return "+".join(parts)


def _waking_hours(wake_h: float, bed_h: float, margin_h: float = 1.0) -> np.ndarray:
    """Rate per second of one event a day spread evenly over the hours of day whose middle
    lies between ``margin_h`` after waking and ``margin_h`` before bedtime (daytime plug-ins,
    U15); zeros if no hour does."""
    awake = np.zeros(24)
    for h in range(24):
        since_wake = (h + 0.5 - wake_h) % 24.0
        to_bed = (bed_h - (h + 0.5)) % 24.0
        day_len = (bed_h - wake_h) % 24.0
        awake[h] = float(since_wake >= margin_h and to_bed >= margin_h and since_wake <= day_len)
    n = awake.sum()
    return awake / (n * 3600.0) if n > 0 else awake


def compile_params(sc: Scenario) -> CompiledParams:
    """The kernel's parameter vector ``pf`` (float64 ``[NP]``) and hour-of-day tables
    ``ph`` (float64 ``[NH, 24]``) for scenario ``sc``, both read-only, with the action
    tables the adapters build their spaces from."""
    pf = np.zeros(L.NP, dtype=np.float64)
    ph = np.zeros((L.NH, 24), dtype=np.float64)
    u, b, th, w, pr, het = sc.user, sc.battery, sc.thermal, sc.workload, sc.profile, sc.heterogeneity

    pf[L.P_PLATFORM] = PLATFORMS[pr.platform]
    pf[L.P_HORIZON_S] = sc.horizon_days * 86400.0
    pf[L.P_START_HOUR] = sc.start_hour
    pf[L.P_BATT_INIT_LO], pf[L.P_BATT_INIT_HI] = sc.initial_battery

    pf[L.P_APP_SESSION_MEAN_S] = u.app_session_mean_s
    pf[L.P_SCREEN_SESSION_MEAN_S] = u.screen_session_mean_s * u.screen_time_scale  # U11 preset
    pf[L.P_SESSION_MIN_S] = u.session_min_s
    pf[L.P_NET_DWELL_S] = u.network_dwell_s
    pf[L.P_DROPS_PER_S] = u.drops_per_hour / 3600.0
    pf[L.P_DROP_MEAN_S] = u.drop_mean_s
    pf[L.P_BEDTIME_H] = u.bedtime_hour
    pf[L.P_WAKE_H] = u.wake_hour
    pf[L.P_CHARGE_JITTER_S] = u.charge_jitter_s
    pf[L.P_OVERNIGHT_PROB] = u.overnight_charge_prob
    pf[L.P_PLUG_P10] = u.plug_at_10_share
    pf[L.P_PLUG_P20] = u.plug_at_20_share
    pf[L.P_PLUG_L10] = u.plug_at_10_level
    pf[L.P_PLUG_L20] = u.plug_at_20_level
    pf[L.P_PLUG_HI_LO], pf[L.P_PLUG_HI_HI] = u.plug_worry_range
    pf[L.P_TOPUP_DELAY_S] = u.topup_delay_s
    pf[L.P_PLUG_NOW_LEVEL] = u.plug_now_level
    pf[L.P_TOPUP_DURATION_S] = u.topup_duration_s
    pf[L.P_LPM_ACCEPT] = u.low_power_accept_prob
    pf[L.P_FORCE_QUIT_PROB] = u.force_quit_prob
    pf[L.P_BAR_OFF_PROB] = u.background_refresh_off_prob if pr.platform == "ios" else 0.0
    pf[L.P_MUTATIONS_PER_OPEN] = u.mutations_per_open
    pf[L.P_INIT_ENGAGEMENT] = u.engagement_per_day
    pf[L.P_INIT_LAST_OPEN_AGO_S] = u.last_open_ago_s
    pf[L.P_SCREEN_GLANCE_P] = u.screen_glance_share
    pf[L.P_SCREEN_GLANCE_MIN_S], pf[L.P_SCREEN_GLANCE_MEAN_S] = u.screen_glance_s
    pf[L.P_SESSION_TAIL_A] = u.session_tail_index
    pf[L.P_SESSION_MAX_S] = u.session_max_s
    pf[L.P_GAP_SHAPE] = u.screen_gap_shape
    pf[L.P_APP_GLANCE_P] = u.app_glance_share
    pf[L.P_APP_GLANCE_MIN_S], pf[L.P_APP_GLANCE_MEAN_S] = u.app_glance_s
    pf[L.P_APP_SESSION_MIN_S] = u.app_session_min_s
    pf[L.P_APP_TAIL_A] = u.app_session_tail_index
    pf[L.P_APP_SESSION_MAX_S] = u.app_session_max_s
    pf[L.P_PLUGINS_PER_DAY] = u.daytime_plugins_per_day
    pf[L.P_WIFI_MEAN] = float(np.mean(u.wifi_share))
    pf[L.P_WIFI_CAP_MEAN] = float(np.mean(1.0 - np.array(u.no_network_share)))
    ph[L.H_PLUGIN_PER_S] = _waking_hours(u.wake_hour, u.bedtime_hour)
    scr, app = np.array(u.screen_sessions_per_hour), np.array(u.app_opens_per_hour)
    if scr.sum() > 0.0:
        pf[L.P_SCREEN_SQ] = float((scr * scr).sum() / (3600.0 * scr.sum()))
        pf[L.P_SCREEN_APP] = float((scr * app).sum() / (3600.0 * scr.sum()))

    pf[L.P_HET] = float(het.enabled)
    pf[L.P_SIG_SCREEN] = het.screen_sessions_sigma
    pf[L.P_SIG_APP] = het.app_opens_sigma
    pf[L.P_SIG_SESSION] = het.session_mean_sigma
    pf[L.P_GAP_SPREAD] = het.gap_shape_spread
    pf[L.P_SLEEP_SD_H] = het.sleep_offset_sd_h
    pf[L.P_SLEEP_MAX_H] = het.sleep_offset_max_h
    pf[L.P_APP_GLANCE_SD] = het.app_glance_sd
    pf[L.P_SIG_DRAIN_OFF] = het.drain_screen_off_sigma
    pf[L.P_SIG_DRAIN_ON] = het.drain_screen_on_sigma
    pf[L.P_DRAIN_RHO] = het.drain_correlation
    pf[L.P_SIG_CHARGE] = het.charge_sigma
    pf[L.P_CHARGE_ON_LO], pf[L.P_CHARGE_ON_HI] = het.charge_screen_on_ratio
    pf[L.P_CLIP_SD] = het.clip_sd
    pf[L.P_PLUG_LOW_MIN] = min(het.plug_low_min, u.plug_at_10_level)
    pf[L.P_PLUG_JITTER] = het.plug_jitter_sigma
    pf[L.P_OVN_MISS] = het.overnight_miss
    pf[L.P_OVN_OCC] = het.overnight_occasional
    pf[L.P_PLUGIN_HABIT] = het.daytime_plugin_habit_share
    pf[L.P_PLUGIN_HABIT_LO], pf[L.P_PLUGIN_HABIT_HI] = het.daytime_plugin_habit_range
    pf[L.P_PLUGIN_OTHER] = het.daytime_plugin_other
    pf[L.P_OPT_SHARE] = het.optimised_charging_share
    pf[L.P_LPM_ALWAYS] = het.low_power_always_share
    pf[L.P_LPM_ACCEPT_SD] = het.low_power_accept_sd
    pf[L.P_WIFI_SD] = het.wifi_share_sd
    pf[L.P_FQ_HABIT] = het.force_quit_habit_share
    pf[L.P_FQ_HABIT_MULT] = het.force_quit_habit_mult
    ph[L.H_APP_OPENS] = u.app_opens_per_hour
    ph[L.H_SCREEN] = u.screen_sessions_per_hour
    ph[L.H_WIFI] = u.wifi_share
    ph[L.H_NONE] = u.no_network_share
    ph[L.H_MOTION] = u.motion_per_hour

    pf[L.P_DRAIN_OFF] = b.drain_screen_off_pct_per_h * PCT_PER_H
    pf[L.P_DRAIN_ON] = b.drain_screen_on_pct_per_h * PCT_PER_H
    pf[L.P_CHARGE_OFF] = b.charge_screen_off_pct_per_h * PCT_PER_H
    pf[L.P_CHARGE_ON] = b.charge_screen_on_pct_per_h * PCT_PER_H
    pf[L.P_CPU_DRAIN] = b.background_cpu_pct_per_h * PCT_PER_H
    pf[L.P_RADIO_CELL] = b.radio_cellular_pct_per_h * PCT_PER_H
    pf[L.P_RADIO_WIFI] = b.radio_wifi_pct_per_h * PCT_PER_H
    pf[L.P_WAKE_ENERGY] = b.window_wake_pct / 100.0
    pf[L.P_OPT_CHARGING] = float(b.optimised_charging)
    pf[L.P_OPT_HOLD] = b.optimised_hold_level
    pf[L.P_OPT_FINISH_S] = b.optimised_finish_before_s
    pf[L.P_LPM_ON_LO], pf[L.P_LPM_ON_HI] = b.low_power_drain_screen_on
    pf[L.P_LPM_OFF_LO], pf[L.P_LPM_OFF_HI] = b.low_power_drain_screen_off

    pf[L.P_TH_UP] = th.step_up_per_h / 3600.0
    pf[L.P_TH_DOWN] = th.step_down_per_h / 3600.0
    pf[L.P_TH_CHARGE_MULT] = th.charging_mult
    pf[L.P_TH_SCREEN_MULT] = th.screen_mult
    pf[L.P_TH_WORK_MULT] = th.work_mult
    pf[L.P_TH_SPEED_SERIOUS] = th.speed_serious
    pf[L.P_TH_SPEED_CRITICAL] = th.speed_critical
    pf[L.P_TH_REPLAY_C : L.P_TH_REPLAY_C + 3] = th.replay_from_c
    pf[L.P_REPLAY_NIGHT_H] = b.replay_overnight_hour

    for k, name in enumerate(L.KIND_NAMES):
        kc = getattr(w.kinds, name)
        pf[L.P_K_SIZE + k] = kc.size_units
        pf[L.P_K_VALUE + k] = kc.value_per_unit
        pf[L.P_K_NET + k] = float(kc.needs_network)
        pf[L.P_K_DEADLINE + k] = kc.deadline_s
        pf[L.P_K_CPU + k] = kc.cpu_fraction
        pf[L.P_K_MEM + k] = kc.memory_mb_per_unit
        pf[L.P_K_SEC + k] = kc.seconds_per_unit
        pf[L.P_K_PRIORITY + k] = kc.priority
    ph[L.H_UPLOAD] = w.uploads_per_hour
    ph[L.H_PUBLISH] = w.content_published_per_hour
    pf[L.P_HEAVY_PER_S] = w.heavy_per_day / 86400.0
    pf[L.P_CELL_SLOWDOWN] = w.cellular_slowdown
    pf[L.P_MIN_ITEM_UNITS] = w.min_item_units
    pf[L.P_CHUNK_OVERHEAD_S] = w.chunk_overhead_s
    pf[L.P_BASE_MEM_MB] = w.base_memory_mb
    pf[L.P_CANCEL_S] = w.cancel_s
    pf[L.P_CANCEL_PER_UNIT_S] = w.cancel_per_unit_s
    pf[L.P_REFRESH_FOREGROUND] = float(w.refresh_in_foreground)

    # action tables: option 0 is "no request", chunk bin 0 is "stop and report completion"
    opts = pr.request_options
    pf[L.P_NOPTS] = len(opts) + 1
    for j, o in enumerate(opts, start=1):
        default_slot = PERIODIC_SLOT if o.periodic else DEFAULT_SLOT[o.type]
        pf[L.P_OPT_SLOT + j] = o.slot if o.slot is not None else default_slot
        pf[L.P_OPT_PERIODIC + j] = float(o.periodic)
        pf[L.P_OPT_NOTIFY + j] = float(o.notification)
        pf[L.P_OPT_TYPE + j] = WINDOW_TYPES[o.type]
        pf[L.P_OPT_NET + j] = float(o.requires_network)
        pf[L.P_OPT_POWER + j] = float(o.requires_power)
        pf[L.P_OPT_DISC + j] = float(o.discretionary)
        pf[L.P_OPT_CELL + j] = float(o.allows_cellular)
    delays = sc.actions.delay_bins_s
    pf[L.P_NDELAY] = len(delays)
    pf[L.P_DELAY_BINS : L.P_DELAY_BINS + len(delays)] = delays
    chunks = [0.0, *sc.actions.chunk_bins_units]
    pf[L.P_NCHUNK] = len(chunks)
    pf[L.P_CHUNK_BINS : L.P_CHUNK_BINS + len(chunks)] = chunks
    pf[L.P_MASK_RESUBMIT] = 1.0

    pf[L.P_MEM_LIMIT_MB] = pr.memory_limit_mb
    pf[L.P_GRACE_S] = pr.grace_s
    pf[L.P_LOW_BATT] = pr.low_battery_level
    pf[L.P_LOW_BATT_GATE] = float(pr.low_battery_gate)
    pf[L.P_LPM_ON_THR] = pr.low_power_on_level
    pf[L.P_LPM_OFF_THR] = pr.low_power_off_level
    pf[L.P_LPM_ON_THR2] = pr.low_power_second_prompt_level if pr.low_power_second_prompt_level > 0.0 else -1.0
    pf[L.P_FORCE_QUIT_STOPS] = float(pr.force_quit_stops_work)
    pf[L.P_IDLE_SCREEN_OFF_S] = pr.idle_after_screen_off_s
    pf[L.P_IDLE_STATIONARY_S] = pr.idle_stationary_s
    for name, wt in WINDOW_TYPES.items():
        wc = pr.windows.get(name)
        if wc is None:
            pf[L.P_WT_THERMAL_MAX + wt] = -1.0  # type not offered by this platform
            continue
        pf[L.P_WT_BUDGET + wt] = wc.budget_s
        pf[L.P_WT_RATE + wt] = wc.launch_rate_per_h / 3600.0
        pf[L.P_WT_NEEDS_IDLE + wt] = float(wc.needs_idle)
        pf[L.P_WT_NEEDS_BG + wt] = float(wc.needs_background)
        pf[L.P_WT_EARLY_P + wt] = wc.early_expiry_prob
        pf[L.P_WT_EARLY_LO + wt], pf[L.P_WT_EARLY_HI + wt] = wc.early_expiry_range_s
        pf[L.P_WT_THERMAL_MAX + wt] = THERMAL_LEVELS[wc.thermal_max]
        pf[L.P_WT_LPM_BLOCKS + wt] = float(wc.blocked_by_low_power)
        pf[L.P_WT_UNPLUGGED_MULT + wt] = wc.unplugged_rate_mult
        pf[L.P_WT_USAGE_DRIVEN + wt] = float(wc.usage_driven)
        pf[L.P_WT_DOZE_EXEMPT + wt] = float(wc.doze_exempt)
        pf[L.P_WT_QUOTA + wt] = float(wc.counts_against_quota)

    h = pr.history
    pf[L.P_HB_INIT] = h.initial_score
    pf[L.P_HB_COMPLETE] = h.completion_gain
    pf[L.P_HB_EXPIRE] = h.expiration_loss
    pf[L.P_HB_KILL] = h.kill_loss
    pf[L.P_HB_ENERGY] = h.energy_loss_per_battery
    pf[L.P_HB_TAU_S] = h.relax_days * 86400.0
    pf[L.P_HB_GAMMA] = h.rate_exponent
    pf[L.P_HB_DURATION] = h.duration_weight
    pf[L.P_HE_TAU_S] = h.engagement_days * 86400.0
    pf[L.P_HE_HALF] = h.engagement_half_per_day
    pf[L.P_USAGE_TAU_S] = h.usage_memory_days * 86400.0
    pf[L.P_USAGE_FLOOR] = h.usage_floor
    pf[L.P_USAGE_NOW_WEIGHT] = h.usage_current_hour_weight
    pf[L.P_USAGE_MAX_FACTOR] = h.usage_max_factor

    if pr.ios is not None:
        pf[L.P_CPU_KILL_S] = pr.ios.cpu_kill_s
        pf[L.P_CPU_KILL_FRAC] = pr.ios.cpu_kill_fraction
        pf[L.P_RECENT_USE_S] = pr.ios.processing_recent_use_days * 86400.0
        pf[L.P_PUSH_PER_H] = pr.ios.silent_push_per_hour
        pf[L.P_PUSH_DROP] = pr.ios.silent_push_drop_prob
        pf[L.P_TX_OVERHEAD_S] = pr.ios.transfer_overhead_s
        pf[L.P_TX_FG_GRACE_S] = pr.ios.transfer_foreground_grace_s
        pf[L.P_TX_DELAY0_S] = pr.ios.transfer_resume_delay_s
        pf[L.P_TX_DELAY_MAX_S] = pr.ios.transfer_resume_delay_max_s
        pf[L.P_TX_TIMEOUT_S] = pr.ios.transfer_timeout_s
        pf[L.P_TX_DISC_POWER] = float(pr.ios.discretionary_needs_power)
    else:
        pf[L.P_CPU_KILL_FRAC] = 2.0  # never reached: no CPU monitor
        pf[L.P_RECENT_USE_S] = np.inf
    a = pr.android
    if a is not None:
        pf[L.P_BUCKET_THR_S : L.P_BUCKET_THR_S + L.NBUCKET - 1] = np.array(a.bucket_after_h) * 3600.0
        pf[L.P_QUOTA_S : L.P_QUOTA_S + L.NBUCKET] = a.quota_s
        pf[L.P_COUNT_FG_JOBS] = float(a.count_foreground_jobs)
        pf[L.P_EJ_REFILL_SCREEN] = a.expedited_refill_per_screen_s
        pf[L.P_EJ_REFILL_OPEN] = a.expedited_refill_per_open_s
        pf[L.P_OEM_KILLER] = float(a.oem_killer)
        pf[L.P_OEM_RECENT_S] = a.oem_recent_open_s
        pf[L.P_PERIODIC_MIN_S] = a.periodic_min_interval_s
        pf[L.P_FLEX_MIN_S] = a.flex_min_s
        pf[L.P_FLEX_MIN_FRAC] = a.flex_min_fraction
        pf[L.P_SCHEDULE_PER_MIN] = a.schedule_per_minute
        pf[L.P_PUSH_CAP : L.P_PUSH_CAP + L.NBUCKET] = a.push_caps_per_day
        pf[L.P_PUSH_DOWNGRADE] = a.push_downgrade_after
        pf[L.P_PUSH_EXEMPT_S] = a.push_doze_exemption_s
        pf[L.P_ALARM_COUNT : L.P_ALARM_COUNT + L.NBUCKET] = a.alarms_per_window
        pf[L.P_ALARM_WIN_S : L.P_ALARM_WIN_S + L.NBUCKET] = np.array(a.alarm_window_h) * 3600.0
        pf[L.P_ALARM_DOZE_PER_H] = a.alarms_per_hour_in_doze
        pf[L.P_EXACT_ALARM] = float(a.exact_alarm_permission)
        pf[L.P_ALARM_COMPAT_PER_H] = a.inexact_alarms_per_hour_in_doze
        pf[L.P_ALARM_WINDOW_FRAC] = a.inexact_alarm_window_fraction
        pf[L.P_ALARM_WINDOW_MAX_S] = a.inexact_alarm_window_max_s
        pf[L.P_ALARM_MIN_FUTURITY_S] = a.inexact_alarm_min_futurity_s
        pf[L.P_FGS_QUOTA_S] = a.fgs_quota_s
        pf[L.P_FGS_WIN_S] = a.fgs_window_h * 3600.0
        pf[L.P_FGS_START_GRACE_S] = a.fgs_start_grace_s
        pf[L.P_UIDT_PERMISSION] = float(a.uidt_permission)
        pf[L.P_QUOTA_WIN_S : L.P_QUOTA_WIN_S + L.NBUCKET] = np.array(a.quota_window_h) * 3600.0
        pf[L.P_JOB_COUNT : L.P_JOB_COUNT + L.NBUCKET] = a.job_count
        pf[L.P_SESSION_COUNT : L.P_SESSION_COUNT + L.NBUCKET] = a.session_count
        pf[L.P_SESSION_GAP_S] = a.session_gap_s
        pf[L.P_RATE_PER_MIN] = a.rate_per_minute
        pf[L.P_QUOTA_BUFFER_S] = a.quota_buffer_s
        pf[L.P_QUOTA_CHARGING_WAIVED] = float(a.charging_waives_quota)
        pf[L.P_TOTAL_CAP_S] = a.total_cap_s
        pf[L.P_TOTAL_CAP_WIN_S] = a.total_cap_window_h * 3600.0
        pf[L.P_EJ_QUOTA_S : L.P_EJ_QUOTA_S + L.NBUCKET] = a.expedited_quota_s
        pf[L.P_EJ_WIN_S] = a.expedited_window_h * 3600.0
        pf[L.P_EJ_MIN_S] = a.expedited_min_s
        pf[L.P_RUN_LIMIT_WAIVED_S] = a.run_limit_waived_s
        bo = a.backoff
        pf[L.P_BACKOFF_INIT_S] = min(max(bo.initial_s, bo.min_s), bo.max_s)  # row 17: clamped
        pf[L.P_BACKOFF_MAX_S] = bo.max_s
        pf[L.P_BACKOFF_EXP] = float(bo.policy == "exponential")
        pf[L.P_RESCHEDULE_ON_STOP] = float(a.reschedule_on_stop)
        d = a.doze
        pf[L.P_DOZE_ON] = float(d.enabled)
        pf[L.P_LIGHT_AFTER_S] = d.light_after_s
        pf[L.P_LIGHT_IDLE_S : L.P_LIGHT_IDLE_S + L.NLIGHT_IDLE] = d.light_idle_s
        pf[L.P_LIGHT_MAINT_MIN_S], pf[L.P_LIGHT_MAINT_MAX_S] = d.light_maintenance_s
        pf[L.P_DEEP_AFTER_S] = d.deep_after_s
        pf[L.P_DEEP_IDLE_S : L.P_DEEP_IDLE_S + L.NDEEP_IDLE] = d.deep_idle_s
        pf[L.P_DEEP_MAINT_S : L.P_DEEP_MAINT_S + L.NDEEP_MAINT] = d.deep_maintenance_s
        pf[L.P_SAVER_DOZE_AFTER_S] = d.battery_saver_light_after_s
        pf[L.P_RARE_NET_BLOCK] = float(a.rare_bucket_blocks_network)
    else:
        pf[L.P_BUCKET_THR_S : L.P_BUCKET_THR_S + L.NBUCKET - 1] = np.inf
        pf[L.P_TOTAL_CAP_S] = np.inf
        pf[L.P_TOTAL_CAP_WIN_S] = 86400.0
        pf[L.P_BACKOFF_MAX_S] = np.inf
        pf[L.P_SCHEDULE_PER_MIN] = np.inf
        pf[L.P_PERIODIC_MIN_S] = 0.0

    r = sc.reward
    pf[L.P_W_VALUE] = r.work_value
    pf[L.P_W_FRESH] = r.fresh_open
    pf[L.P_W_STALE] = r.stale_open
    pf[L.P_W_BATTERY] = r.battery_per_pct
    pf[L.P_W_CHARGER] = r.battery_per_pct_on_charger
    pf[L.P_W_WAKE] = r.wake_up
    pf[L.P_W_EXPIRE] = r.expiration
    pf[L.P_W_KILL] = r.kill
    pf[L.P_W_DEADLINE] = r.deadline_missed
    pf[L.P_W_THROTTLE] = r.throttled
    pf[L.P_W_INVALID] = r.invalid_action
    pf[L.P_W_NOTIFY] = r.notification

    # derived rates (the same IEEE divisions the event loop made per event before)
    pf[L.P_NET_CHANGE_PER_S] = 1.0 / pf[L.P_NET_DWELL_S]
    for h_per_s, h in (
        (L.H_APP_OPENS_PER_S, L.H_APP_OPENS),
        (L.H_SCREEN_PER_S, L.H_SCREEN),
        (L.H_MOTION_PER_S, L.H_MOTION),
        (L.H_UPLOAD_PER_S, L.H_UPLOAD),
        (L.H_PUBLISH_PER_S, L.H_PUBLISH),
    ):
        ph[h_per_s] = ph[h] / 3600.0
    pf.flags.writeable = False
    ph.flags.writeable = False
    labels = ("none", *(_option_label(o) for o in opts))
    return CompiledParams(
        pf=pf,
        ph=ph,
        platform=pr.platform,
        n_options=len(opts) + 1,
        n_delays=len(delays),
        n_chunks=len(chunks),
        option_labels=labels,
        delay_bins_s=tuple(delays),
        chunk_bins_units=tuple(chunks),
        scenario=sc,
    )
