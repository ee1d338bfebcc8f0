"""Scenario configuration: YAML files validated into typed objects.

A scenario file (``configs/scenarios/NAME.yaml``) names a platform *profile*
(``configs/profiles/``) and a user *archetype* (``configs/users/``) and may override
any key. Loading deep-merges, in order: ``configs/defaults.yaml``, the profile, the
archetype, the scenario, then keyword overrides (``gym.make(..., horizon_days=2)``).
Every number's unit is in its field description; its source row is cited in the YAML.

Bad input fails with :class:`ConfigError`, naming the file, the key and what is allowed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bgenv.core.layout import BUCKET_NAMES, PLATFORM_NAMES, THERMAL_NAMES, WINDOW_TYPES, WT_NAMES
from bgenv.core.layout import DEFAULT_SLOT as DEFAULT_SLOT  # re-exported
from bgenv.core.layout import PERIODIC_SLOT as PERIODIC_SLOT  # re-exported
from bgenv.core.layout import THERMAL_LEVELS as THERMAL_LEVELS  # re-exported

# ---------------------------------------------------------------------------
# Where configs live: inside an installed wheel (bgenv/_configs) or the source tree.
# ---------------------------------------------------------------------------
_PKG = Path(__file__).resolve().parent
CONFIG_DIR = _PKG / "_configs" if (_PKG / "_configs").is_dir() else _PKG.parent / "configs"


class ConfigError(ValueError):
    """A scenario, profile or archetype could not be loaded; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True, strict=True)


Frac = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Pos = Annotated[float, Field(gt=0.0)]
Hourly = Annotated[list[NonNeg], Field(min_length=24, max_length=24, description="24 values, hour 0..23")]
HourlyFrac = Annotated[list[Frac], Field(min_length=24, max_length=24, description="24 shares, hour 0..23")]
Range = Annotated[list[Frac], Field(min_length=2, max_length=2)]
Pair = Annotated[list[NonNeg], Field(min_length=2, max_length=2)]
TailIndex = Annotated[float, Field(gt=1.0, le=10.0)]
# The allowed names are the simulator core's (``bgenv.core.layout``), which owns the
# codes they compile to; re-exported here for the code that reads them from the config.
ThermalName = Literal[THERMAL_NAMES]  # type: ignore[valid-type]
WindowTypeName = Literal[WT_NAMES]  # type: ignore[valid-type]
PlatformName = Literal[PLATFORM_NAMES]  # type: ignore[valid-type]
BUCKETS = BUCKET_NAMES


def _ordered(v: list[float], what: str) -> list[float]:
    if v[0] > v[1]:
        raise ValueError(f"{what} must be [low, high] with low <= high")
    return v


# ---------------------------------------------------------------------------
# User archetype
# ---------------------------------------------------------------------------
class UserConfig(_Model):
    """A user archetype: how often they open this app, use the phone, charge, move."""

    archetype: str = Field(description="name of the archetype")
    description: str = Field("", description="free text")
    app_opens_per_hour: Hourly = Field(description="opens of this app per hour of day")
    screen_sessions_per_hour: Hourly = Field(description="other screen-on sessions per hour of day")
    wifi_share: HourlyFrac = Field(description="share of time on Wi-Fi, per hour of day")
    no_network_share: HourlyFrac = Field(description="share of time with no network, per hour of day")
    motion_per_hour: Hourly = Field(description="motion events (device picked up / moved) per hour of day")
    app_session_mean_s: Pos = Field(
        description="mean app session length, s (a device's own mean is drawn around it: heterogeneity)"
    )
    screen_session_mean_s: Pos = Field(
        description="mean other screen session length, s (a device's own mean is drawn around it: heterogeneity)"
    )
    screen_time_scale: Pos = Field(
        1.0,
        description="multiplies the length of other screen sessions (not glances): 2.0 gives a population with "
        "twice the 2014-16 screen time, as the 2021-22 panels report (U11)",
    )
    screen_glance_share: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        description="share of other screen sessions that are glances (a look at the lock screen)"
    )
    screen_glance_s: Pair = Field(description="[shortest, mean] length of a glance, s")
    session_min_s: NonNeg = Field(
        description="shortest other screen session that is not a glance (the screen timeout), s: the start of "
        "its shifted-Pareto tail"
    )
    session_tail_index: TailIndex = Field(description="Pareto tail index of other screen sessions (not glances)")
    session_max_s: Pos = Field(description="longest other screen session, s")
    screen_gap_shape: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        description="Weibull shape of the gaps between screen sessions, in the hourly rate's own time "
        "(1 = exponential; below 1 the longer the phone lies unused, the less likely it is picked up)"
    )
    app_glance_share: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        description="share of app sessions that are glances (a device's own share is drawn around it)"
    )
    app_glance_s: Pair = Field(description="[shortest, mean] length of an app glance, s")
    app_session_min_s: NonNeg = Field(description="shortest app session that is not a glance, s")
    app_session_tail_index: TailIndex = Field(description="Pareto tail index of app sessions (not glances)")
    app_session_max_s: Pos = Field(description="longest app session, s")
    network_dwell_s: Pos = Field(description="mean time between network changes, s")
    drops_per_hour: NonNeg = Field(description="short connectivity drops per hour while connected")
    drop_mean_s: Pos = Field(description="mean drop length, s")
    bedtime_hour: Annotated[float, Field(ge=0.0, lt=24.0)] = Field(description="hour the user goes to bed")
    wake_hour: Annotated[float, Field(ge=0.0, lt=24.0)] = Field(description="hour the user wakes")
    charge_jitter_s: NonNeg = Field(description="bed/wake times vary uniformly by +- this, s")
    overnight_charge_prob: Frac = Field(
        description="share of users who charge overnight as a habit (without heterogeneity: the probability of "
        "charging on a given night)"
    )
    daytime_plugins_per_day: NonNeg = Field(
        description="plug-ins per day in waking hours that do not wait for a low battery (desk, car, sofa), "
        "mean over devices"
    )
    plug_at_10_share: Frac = Field(description="share of users whose top-up threshold is at most `plug_at_10_level`")
    plug_at_20_share: Frac = Field(
        description="share of users whose top-up threshold is above `plug_at_10_level`, at most `plug_at_20_level`"
    )
    plug_at_10_level: Frac = Field(description="highest top-up threshold of the `plug_at_10_share` group")
    plug_at_20_level: Frac = Field(description="highest top-up threshold of the `plug_at_20_share` group")
    plug_worry_range: Range = Field(description="[low, high] top-up threshold of the others (uniform)")
    topup_delay_s: Pos = Field(description="mean delay from the threshold to plugging in, s")
    plug_now_level: Frac = Field(description="level at which the user plugs in at once (the phone is about to die)")
    topup_duration_s: Pos = Field(description="mean length of a daytime top-up, s")
    low_power_accept_prob: Frac = Field(
        description="probability the user accepts the Low Power Mode prompt (mean over devices)"
    )
    force_quit_prob: Frac = Field(
        description="probability the user swipes the app away when leaving it (mean over devices)"
    )
    background_refresh_off_prob: Frac = Field(description="probability Background App Refresh is off (iOS)")
    mutations_per_open: NonNeg = Field(description="mean edits per app session queued for sync")
    engagement_per_day: NonNeg = Field(description="app opens per day the OS has learned at t0 (0 = fresh install)")
    last_open_ago_s: NonNeg = Field(description="time since the last app open at t0, s")

    @field_validator("plug_worry_range")
    @classmethod
    def _range(cls, v: list[float]) -> list[float]:
        return _ordered(v, "plug_worry_range")

    @model_validator(mode="after")
    def _shares(self) -> UserConfig:
        for h in range(24):
            if self.wifi_share[h] + self.no_network_share[h] > 1.0 + 1e-9:
                raise ValueError(f"wifi_share + no_network_share exceeds 1 at hour {h}")
        if self.plug_at_10_share + self.plug_at_20_share > 1.0 + 1e-9:
            raise ValueError("plug_at_10_share + plug_at_20_share exceeds 1")
        if not self.plug_at_10_level <= self.plug_at_20_level <= self.plug_worry_range[0]:
            raise ValueError("need plug_at_10_level <= plug_at_20_level <= plug_worry_range[0]")
        for name in ("screen_glance_s", "app_glance_s"):
            lo, mean = getattr(self, name)
            if lo > mean:
                raise ValueError(f"{name} must be [shortest, mean] with shortest <= mean")
        if self.session_min_s >= self.session_max_s:
            raise ValueError("need session_min_s < session_max_s")
        if self.app_session_min_s >= self.app_session_max_s:
            raise ValueError("need app_session_min_s < app_session_max_s")
        return self


# ---------------------------------------------------------------------------
# Device
# ---------------------------------------------------------------------------
class BatteryConfig(_Model):
    drain_screen_off_pct_per_h: Pos = Field(description="battery drain with the screen off, %/h")
    drain_screen_on_pct_per_h: Pos = Field(description="battery drain with the screen on, %/h")
    charge_screen_off_pct_per_h: Pos = Field(description="charging speed with the screen off, %/h")
    charge_screen_on_pct_per_h: Pos = Field(description="charging speed with the screen on, %/h")
    background_cpu_pct_per_h: NonNeg = Field(description="extra drain at full background CPU, %/h")
    radio_cellular_pct_per_h: NonNeg = Field(description="extra drain while transferring on cellular, %/h")
    radio_wifi_pct_per_h: NonNeg = Field(description="extra drain while transferring on Wi-Fi, %/h")
    window_wake_pct: NonNeg = Field(description="energy to launch the app for a window, % of a full battery")
    optimised_charging: bool = Field(
        description="overnight charging holds at optimised_hold_level, then fills before unplugging"
    )
    optimised_hold_level: Frac = Field(description="level held during optimised overnight charging, fraction")
    optimised_finish_before_s: NonNeg = Field(description="how long before the planned unplug the hold ends, s")
    replay_overnight_hour: Annotated[float, Field(ge=0.0, lt=24.0)] = Field(
        description="replayed trace: a recorded charge that spans this hour of day is an overnight charge, h"
    )
    low_power_drain_screen_on: Annotated[
        list[Annotated[float, Field(gt=0.0, le=1.0)]], Field(min_length=2, max_length=2)
    ] = Field(
        description="[low, high] factor on the screen-on drain in Low Power Mode / Battery Saver (a device's own "
        "factor is uniform in it; without heterogeneity the middle)"
    )
    low_power_drain_screen_off: Annotated[
        list[Annotated[float, Field(gt=0.0, le=1.0)]], Field(min_length=2, max_length=2)
    ] = Field(description="[low, high] factor on the screen-off drain in Low Power Mode / Battery Saver")

    @field_validator("low_power_drain_screen_on", "low_power_drain_screen_off")
    @classmethod
    def _factor_range(cls, v: list[float]) -> list[float]:
        return _ordered(v, "a low-power drain factor range")


class HeterogeneityConfig(_Model):
    """How devices of one archetype differ: each device draws its own values at reset,
    around the archetype's (the user) and the battery model's, from the user's random
    stream (the same on iOS and Android for one seed). Off: every device is the centre."""

    enabled: bool = Field(description="draw per-device values (off: every device gets the centres)")
    screen_sessions_sigma: NonNeg = Field(description="log-normal sigma of a device's screen sessions per day")
    app_opens_sigma: NonNeg = Field(description="log-normal sigma of a device's opens of this app per day")
    session_mean_sigma: NonNeg = Field(
        description="log-normal sigma of a device's mean session length (screen and app sessions alike)"
    )
    gap_shape_spread: NonNeg = Field(description="a device's gap shape is uniform in the archetype's +- this")
    sleep_offset_sd_h: NonNeg = Field(description="sd of a device's shift of its day (sleep, use, charging), h")
    sleep_offset_max_h: NonNeg = Field(description="... clipped to +- this, h")
    app_glance_sd: NonNeg = Field(description="sd of a device's share of app glances (uniform around the archetype's)")
    drain_screen_off_sigma: NonNeg = Field(description="log-normal sigma of a device's screen-off drain")
    drain_screen_on_sigma: NonNeg = Field(description="log-normal sigma of a device's screen-on drain")
    drain_correlation: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(
        description="correlation of the two drains' log-normal draws"
    )
    charge_sigma: NonNeg = Field(description="log-normal sigma of a device's screen-off charging speed")
    charge_screen_on_ratio: Range = Field(
        description="[low, high] screen-on charging speed as a share of the screen-off one (uniform)"
    )
    clip_sd: Pos = Field(description="every normal draw is clipped to +- this many sd")
    plug_low_min: Frac = Field(
        description="lowest top-up threshold of the `plug_at_10_share` group (thresholds are uniform between)"
    )
    plug_jitter_sigma: NonNeg = Field(
        description="log-normal sigma of the top-up threshold's change from one charge to the next"
    )
    overnight_miss: Frac = Field(
        description="a habitual overnight charger skips a share (1 - p) x this of nights (p: overnight_charge_prob)"
    )
    overnight_occasional: Frac = Field(
        description="the others charge overnight on a share p x this of nights (p: overnight_charge_prob)"
    )
    daytime_plugin_habit_share: Frac = Field(description="share of devices that plug in by day out of habit")
    daytime_plugin_habit_range: Pair = Field(
        description="[low, high] daytime plug-ins per day of a habitual device as a multiple of the archetype's "
        "rate (uniform), before scaling to the archetype's mean"
    )
    daytime_plugin_other: NonNeg = Field(
        description="daytime plug-ins per day of the other devices, multiple of the archetype's rate (before scaling)"
    )
    optimised_charging_share: Frac = Field(description="share of devices with optimised charging on")
    low_power_always_share: Frac = Field(
        description="share of devices that keep Low Power Mode / Battery Saver on: on again at every unplug"
    )
    low_power_accept_sd: NonNeg = Field(
        description="sd of a device's probability of accepting the prompt (uniform around the archetype's)"
    )
    wifi_share_sd: NonNeg = Field(
        description="sd of a device's daily share of time on Wi-Fi (uniform around the archetype's)"
    )
    force_quit_habit_share: Frac = Field(description="share of devices whose user force-quits out of habit")
    force_quit_habit_mult: Annotated[float, Field(ge=1.0)] = Field(
        description="their force-quit probability as a multiple of the archetype's (the others' is lowered so "
        "that the mean stays the archetype's)"
    )

    @field_validator("daytime_plugin_habit_range", "charge_screen_on_ratio")
    @classmethod
    def _range(cls, v: list[float]) -> list[float]:
        return _ordered(v, "a range")

    @model_validator(mode="after")
    def _habits(self) -> HeterogeneityConfig:
        if self.force_quit_habit_share * self.force_quit_habit_mult > 1.0 + 1e-9:
            raise ValueError("force_quit_habit_share x force_quit_habit_mult must not exceed 1")
        return self


class ThermalConfig(_Model):
    step_up_per_h: NonNeg = Field(description="base rate of a step up in thermal state, 1/h")
    step_down_per_h: NonNeg = Field(description="rate of a step down, 1/h")
    charging_mult: NonNeg = Field(description="added to the thermal step-up multiplier while charging")
    screen_mult: NonNeg = Field(description="added to the thermal step-up multiplier while the screen is on")
    work_mult: NonNeg = Field(description="added to the step-up multiplier per unit of background CPU")
    speed_serious: Annotated[float, Field(gt=0.0, le=1.0)] = Field(description="work speed factor at serious")
    speed_critical: Annotated[float, Field(gt=0.0, le=1.0)] = Field(description="work speed factor at critical")
    replay_from_c: Annotated[list[float], Field(min_length=3, max_length=3)] = Field(
        description="replayed trace: battery temperatures from which the thermal state is fair, serious, critical, °C"
    )

    @field_validator("replay_from_c")
    @classmethod
    def _increasing(cls, v: list[float]) -> list[float]:
        if not v[0] < v[1] < v[2]:
            raise ValueError(f"replay_from_c must increase; got {v}")
        return v


# ---------------------------------------------------------------------------
# Workload
# ---------------------------------------------------------------------------
class WorkKindConfig(_Model):
    size_units: Pos = Field(description="mean size of an item, work units (refresh: fixed size)")
    value_per_unit: NonNeg = Field(description="reward per work unit saved in the background")
    needs_network: bool = Field(description="a chunk of this kind needs a usable network")
    deadline_s: Pos = Field(description="soft deadline after arrival, s")
    cpu_fraction: Frac = Field(description="CPU load while working on it")
    memory_mb_per_unit: NonNeg = Field(description="memory per work unit in one chunk, MB")
    seconds_per_unit: Pos = Field(description="time per work unit at nominal speed on Wi-Fi, s")
    priority: int = Field(ge=0, le=9, description="order in which 'auto' takes kinds (lower first)")


class WorkKinds(_Model):
    sync: WorkKindConfig = Field(description="user edits to sync (must never be lost)")
    upload: WorkKindConfig = Field(description="logs, telemetry, media")
    refresh: WorkKindConfig = Field(description="content to fetch before the next app open")
    heavy: WorkKindConfig = Field(description="heavy processing (ML update, migration, indexing)")


class WorkloadConfig(_Model):
    kinds: WorkKinds = Field(description="the four work kinds: sync, upload, refresh, heavy")
    uploads_per_hour: Hourly = Field(description="upload items generated per hour of day")
    content_published_per_hour: Hourly = Field(description="new server content per hour of day")
    heavy_per_day: NonNeg = Field(description="heavy-processing items per day")
    chunk_overhead_s: NonNeg = Field(description="time to save a checkpoint after a chunk, s")
    base_memory_mb: NonNeg = Field(description="the app's background footprint before any chunk, MB")
    cancel_s: NonNeg = Field(description="time for the expiration handler to wind down, s")
    cancel_per_unit_s: NonNeg = Field(description="extra wind-down time per unit of the chunk in flight, s")
    cellular_slowdown: Annotated[float, Field(ge=1.0)] = Field(
        description="network work takes this much longer on cellular"
    )
    min_item_units: Pos = Field(description="smallest size of a new item, work units")
    refresh_in_foreground: bool = Field(description="an app open fetches stale content in the foreground")


class ActionsConfig(_Model):
    delay_bins_s: Annotated[list[NonNeg], Field(min_length=1, max_length=12)] = Field(
        description="earliest-begin delays the agent can choose, s"
    )
    chunk_bins_units: Annotated[list[Pos], Field(min_length=1, max_length=11)] = Field(
        description="chunk sizes the agent can choose, work units (choice 0 = stop and report completion)"
    )


# ---------------------------------------------------------------------------
# Platform profile
# ---------------------------------------------------------------------------
class RequestOption(_Model):
    type: WindowTypeName = Field(description="request type")
    requires_network: bool = Field(False, description="constraint: only runs with a usable network")
    requires_power: bool = Field(False, description="constraint: only runs on external power")
    periodic: bool = Field(False, description="Android periodic job: the delay choice is its interval (row 19)")
    notification: bool = Field(False, description="push: the message shows a notification (user-visible)")
    slot: int | None = Field(default=None, ge=0, le=3, description="task identifier slot (default by type)")
    # iOS background transfer (a background URLSession upload task, rows 71-78)
    discretionary: bool = Field(False, description="transfer: isDiscretionary, waits for Wi-Fi and power (row 74)")
    allows_cellular: bool = Field(
        True, description="transfer: allowsExpensiveNetworkAccess; false = Wi-Fi only (row 78)"
    )

    @model_validator(mode="after")
    def _periodic(self) -> RequestOption:
        if self.periodic and self.type != "job":
            raise ValueError("only 'job' requests can be periodic")
        if self.notification and self.type != "push":
            raise ValueError("only 'push' requests can show a notification")
        if self.type == "push_normal":
            raise ValueError("'push_normal' is how the OS delivers a downgraded push; request 'push'")
        if self.type != "transfer" and (self.discretionary or not self.allows_cellular):
            raise ValueError("only 'transfer' requests have discretionary / allows_cellular")
        if self.type == "transfer" and (self.requires_network or self.requires_power):
            raise ValueError("a 'transfer' needs no constraints: it always needs the network (use discretionary)")
        if self.type == "uidt" and not self.requires_network:
            raise ValueError("a 'uidt' request must require the network (row 79: a valid network type)")
        return self


class WindowTypeConfig(_Model):
    budget_s: Pos = Field(description="window length granted at a perfect history score, s")
    launch_rate_per_h: NonNeg = Field(description="launch rate once every gate passes, 1/h")
    needs_idle: bool = Field(False, description="only runs while the device is idle (screen off and still)")
    needs_background: bool = Field(True, description="only runs while the app is not on screen")
    early_expiry_prob: Frac = Field(
        0.0, description="probability of an early expiry at score 0 (scales with 1 - score)"
    )
    early_expiry_range_s: list[NonNeg] = Field(
        [0.0, 0.0], min_length=2, max_length=2, description="[low, high] length of an early expiry, s"
    )
    thermal_max: ThermalName = Field(description="highest thermal state at which it may run")
    blocked_by_low_power: bool = Field(False, description="Low Power Mode / Battery Saver holds it")
    unplugged_rate_mult: NonNeg = Field(1.0, description="launch-rate factor while unplugged")
    usage_driven: bool = Field(
        False,
        description="launch rate follows the history score, engagement and usage prediction; budget shrinks with a poor score",
    )
    doze_exempt: bool = Field(False, description="runs, with network, while the device is in Doze")
    counts_against_quota: bool = Field(False, description="counted against the bucket's job-time quota")


class HistoryConfig(_Model):
    initial_score: Frac = Field(description="hidden history score of a new episode, 0..1")
    completion_gain: Frac = Field(description="score gain per reported completion (fraction of the way to 1)")
    expiration_loss: Frac = Field(description="score loss per expiration (fraction of the score)")
    kill_loss: Frac = Field(description="score loss per kill (fraction of the score)")
    energy_loss_per_battery: NonNeg = Field(description="score loss per full battery of background energy")
    relax_days: Pos = Field(description="time constant with which the score returns to its initial value, days")
    rate_exponent: NonNeg = Field(description="launch rate scales with score^exponent")
    duration_weight: Frac = Field(description="how much a poor score shortens windows")
    engagement_days: Pos = Field(description="time constant of the OS's opens-per-day estimate, days")
    engagement_half_per_day: Pos = Field(description="opens per day that give half the maximum launch rate")
    usage_memory_days: Pos = Field(description="time constant of the OS's hour-of-day usage prediction, days")
    usage_floor: Frac = Field(description="launch-rate factor in hours with no predicted use")
    usage_current_hour_weight: Frac = Field(
        description="weight of the current hour next to the next one in the usage prediction"
    )
    usage_max_factor: Annotated[float, Field(ge=1.0)] = Field(
        description="cap on the usage-prediction launch-rate factor"
    )


class BackoffConfig(_Model):
    policy: Literal["exponential", "linear"] = Field(description="backoff policy")
    initial_s: Pos = Field(description="initial backoff, s (clamped to [min_s, max_s])")
    min_s: Pos = Field(description="smallest initial backoff, s")
    max_s: Pos = Field(description="largest backoff, s")


class DozeConfig(_Model):
    enabled: bool = Field(description="Doze is modelled")
    light_after_s: NonNeg = Field(description="light Doze begins this long after screen-off (unplugged), s")
    light_idle_s: Annotated[
        list[Pos], Field(min_length=3, max_length=3, description="light-idle periods, s (the last repeats)")
    ]
    light_maintenance_s: Annotated[
        list[Pos],
        Field(min_length=2, max_length=2, description="[without, with] pending work: light maintenance window, s"),
    ]
    deep_after_s: Pos = Field(description="deep Doze begins after this long stationary, unplugged and screen off, s")
    deep_idle_s: Annotated[
        list[Pos], Field(min_length=4, max_length=4, description="deep-idle periods, s (the last repeats)")
    ]
    deep_maintenance_s: Annotated[
        list[Pos], Field(min_length=2, max_length=2, description="deep maintenance windows, s (the last repeats)")
    ]
    battery_saver_light_after_s: NonNeg = Field(description="light Doze delay under Battery Saver, s")


PerBucket = Annotated[
    list[NonNeg], Field(min_length=len(BUCKET_NAMES), max_length=len(BUCKET_NAMES), description=", ".join(BUCKET_NAMES))
]


class AndroidConfig(_Model):
    bucket_after_h: Annotated[list[Pos], Field(min_length=4, max_length=4)] = Field(
        description="hours since the last open at which the bucket drops to working_set, frequent, rare, restricted"
    )
    quota_s: PerBucket = Field(description="job time per rolling window per bucket, s")
    quota_window_h: PerBucket = Field(description="rolling quota window per bucket, h (0 = unlimited)")
    job_count: PerBucket = Field(description="jobs started per quota window, per bucket")
    session_count: PerBucket = Field(description="job sessions per quota window, per bucket")
    session_gap_s: NonNeg = Field(description="jobs closer than this merge into one session, s")
    rate_per_minute: Pos = Field(description="jobs (and sessions) per minute, every bucket")
    quota_buffer_s: NonNeg = Field(description="quota needed before jobs resume, s")
    charging_waives_quota: bool = Field(description="quotas do not apply while charging (except a restricted app)")
    total_cap_s: Pos = Field(description="job time across buckets per total_cap_window_h, s")
    total_cap_window_h: Pos = Field(description="window of the total cap, h")
    expedited_quota_s: PerBucket = Field(description="expedited-job time per expedited_window_h, per bucket, s")
    expedited_window_h: Pos = Field(description="expedited quota window, h")
    expedited_min_s: Pos = Field(description="run time an expedited job is guaranteed, s")
    run_limit_waived_s: Pos = Field(description="job run time while the quota is waived (charging), s")
    backoff: BackoffConfig = Field(description="retry delays of a stopped job")
    reschedule_on_stop: bool = Field(description="a stopped job is retried with backoff")
    doze: DozeConfig = Field(description="light and deep Doze schedule")
    rare_bucket_blocks_network: bool = Field(description="background network blocked in the Rare bucket and below")
    count_foreground_jobs: bool = Field(description="jobs started while the app is on screen count against quota")
    expedited_refill_per_screen_s: NonNeg = Field(description="s of expedited quota earned per s on screen")
    expedited_refill_per_open_s: NonNeg = Field(description="s of expedited quota earned per interaction")
    periodic_min_interval_s: Pos = Field(description="shortest periodic interval; shorter ones are raised, s")
    flex_min_s: NonNeg = Field(description="shortest periodic flex, s")
    flex_min_fraction: Frac = Field(description="shortest periodic flex as a share of the interval")
    schedule_per_minute: Pos = Field(description="schedule() calls per minute before requests are refused")
    oem_killer: bool = Field(description="a phone maker's battery killer stops background work")
    oem_recent_open_s: NonNeg = Field(description="... unless charging or the app was opened this recently, s")
    push_caps_per_day: PerBucket = Field(description="high-priority pushes per day per bucket before normal priority")
    push_downgrade_after: Pos = Field(
        description="high-priority pushes without a notification (7-day decayed) before downgrade"
    )
    push_doze_exemption_s: NonNeg = Field(description="temporary Doze exemption after a high-priority push, s")
    exact_alarm_permission: bool = Field(
        description="the app holds SCHEDULE_EXACT_ALARM: 'alarm' requests are exact "
        "(setExactAndAllowWhileIdle); without it they are inexact (setAndAllowWhileIdle)"
    )
    alarms_per_window: PerBucket = Field(
        description="inexact alarms per window per bucket (exact allow-while-idle alarms are exempt)"
    )
    alarm_window_h: PerBucket = Field(description="alarm counting window per bucket, h")
    alarms_per_hour_in_doze: Pos = Field(description="exact allow-while-idle alarms per hour in Doze")
    inexact_alarms_per_hour_in_doze: Pos = Field(description="inexact allow-while-idle alarms per hour in Doze")
    inexact_alarm_window_fraction: Frac = Field(
        description="an inexact alarm is delivered within this share of its delay after the trigger time"
    )
    inexact_alarm_window_max_s: NonNeg = Field(description="... a window of at most this long, s")
    inexact_alarm_min_futurity_s: NonNeg = Field(description="... and none for delays shorter than this, s")
    fgs_quota_s: Pos = Field(description="dataSync foreground service time per window, s")
    fgs_window_h: Pos = Field(description="... window, h (reset when the user opens the app)")
    fgs_start_grace_s: NonNeg = Field(
        description="a foreground service (or a user-initiated job) may start this long after leaving the app, s"
    )
    uidt_permission: bool = Field(
        description="the app holds RUN_USER_INITIATED_JOBS: 'uidt' requests are accepted (row 79)"
    )


class IOSConfig(_Model):
    cpu_kill_s: Pos = Field(description="processing without external power is killed after this long at high CPU, s")
    cpu_kill_fraction: Frac = Field(description="CPU load that counts as high for the CPU monitor")
    processing_recent_use_days: Pos = Field(description="processing runs only for apps opened within this many days")
    silent_push_per_hour: Pos = Field(description="silent pushes delivered per rolling hour")
    silent_push_drop_prob: Frac = Field(description="probability a silent push is not delivered at all")
    transfer_overhead_s: NonNeg = Field(description="background transfer: time per transfer on top of its units, s")
    transfer_foreground_grace_s: NonNeg = Field(
        description="a transfer created this soon after the user left the app counts as created in the foreground, s"
    )
    transfer_resume_delay_s: NonNeg = Field(description="resume rate limiter: the first delay, s (row 75)")
    transfer_resume_delay_max_s: NonNeg = Field(description="... its doubling stops here, s")
    transfer_timeout_s: Pos = Field(description="timeoutIntervalForResource: a transfer fails after this, s (row 77)")
    discretionary_needs_power: bool = Field(
        description="a discretionary transfer waits for external power as well as Wi-Fi (row 74)"
    )


class ProfileConfig(_Model):
    name: str = Field(description="profile name")
    platform: PlatformName = Field(description=" or ".join(PLATFORM_NAMES))
    version: str = Field("", description="OS versions the profile describes")
    description: str = Field("", description="free text")
    request_options: Annotated[list[RequestOption], Field(min_length=1, max_length=13)]
    windows: dict[WindowTypeName, WindowTypeConfig] = Field(
        description="per window type: budget, launch rate and gates"
    )
    memory_limit_mb: Pos = Field(
        description="background memory limit: a chunk above it is killed with no expiration, MB"
    )
    grace_s: NonNeg = Field(description="time the expiration handler has to wind down before a kill, s")
    low_battery_level: Frac = Field(
        description="battery level below which low_battery_gate holds background work, fraction"
    )
    low_battery_gate: bool = Field(description="hold background work below low_battery_level when unplugged")
    low_power_on_level: Frac = Field(
        description="level at which the user is prompted to turn on Low Power Mode / Battery Saver"
    )
    low_power_off_level: Frac = Field(description="level at which it turns off while charging")
    low_power_second_prompt_level: Frac = Field(description="level of a second prompt after a refused one (0: none)")
    force_quit_stops_work: bool = Field(description="a force-quit stops background work until the next app open")
    idle_after_screen_off_s: NonNeg = Field(description="the device is idle this long after screen-off (and still), s")
    idle_stationary_s: NonNeg = Field(description="... and this long after the last motion, s")
    history: HistoryConfig = Field(description="the OS's hidden view of the app")
    android: AndroidConfig | None = None
    ios: IOSConfig | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ProfileConfig:
        for o in self.request_options:
            if o.type not in self.windows:
                raise ValueError(f"request option of type '{o.type}' has no entry under windows")
        if any(o.type == "push" for o in self.request_options) and self.platform == "android":
            if "push_normal" not in self.windows:
                raise ValueError("android push requests need a 'push_normal' entry under windows (downgraded delivery)")
        for o in self.request_options:
            if o.type == "transfer" and self.platform != "ios":
                raise ValueError("'transfer' (background URLSession) requests are iOS only")
            if o.type == "uidt" and self.platform != "android":
                raise ValueError("'uidt' (user-initiated data transfer job) requests are Android only")
        if self.platform == "android" and self.android is None:
            raise ValueError("an android profile needs an 'android' section")
        if self.platform == "ios" and self.ios is None:
            raise ValueError("an ios profile needs an 'ios' section")
        return self


class RewardConfig(_Model):
    work_value: NonNeg = Field(description="multiplier on each kind's value_per_unit")
    fresh_open: NonNeg = Field(description="bonus when an app open finds fresh data")
    stale_open: NonNeg = Field(description="penalty when it finds stale data")
    battery_per_pct: NonNeg = Field(
        description="penalty per % of a full battery drawn by background work off the charger"
    )
    battery_per_pct_on_charger: NonNeg = Field(
        description="penalty per % of a full battery of background energy drawn on the charger"
    )
    wake_up: NonNeg = Field(
        description="penalty per launch of the app into a background window (alarm and push deliveries too)"
    )
    expiration: NonNeg = Field(description="penalty per expiration")
    kill: NonNeg = Field(description="penalty per kill")
    deadline_missed: NonNeg = Field(description="penalty per item past its soft deadline")
    throttled: NonNeg = Field(description="penalty per refused or quota-throttled request")
    invalid_action: NonNeg = Field(description="penalty per action that makes no sense in its state")
    notification: NonNeg = Field(description="penalty per notification shown for background work")


class Scenario(_Model):
    """A complete, validated scenario: what the simulator is compiled from."""

    name: str = Field(description="profile name")
    description: str = Field("", description="free text")
    horizon_days: Annotated[float, Field(gt=0.0, le=365.0, description="episode length, simulated days")]
    start_hour: Annotated[float, Field(ge=0.0, lt=24.0, description="hour of day at which episodes start")]
    initial_battery: Range = Field(description="[low, high] battery level at the start, fraction")
    profile: ProfileConfig = Field(description="platform profile (configs/profiles)")
    user: UserConfig = Field(description="user archetype (configs/users)")
    battery: BatteryConfig = Field(description="battery model")
    heterogeneity: HeterogeneityConfig = Field(description="how devices of one archetype differ (drawn at reset)")
    thermal: ThermalConfig = Field(description="thermal model")
    workload: WorkloadConfig = Field(description="the app's work")
    actions: ActionsConfig = Field(description="action-space bins")
    reward: RewardConfig = Field(description="reward weights")

    @field_validator("initial_battery")
    @classmethod
    def _range(cls, v: list[float]) -> list[float]:
        return _ordered(v, "initial_battery")

    @property
    def platform(self) -> str:
        return self.profile.platform


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------
def available(kind: str) -> list[str]:
    """Names of the YAML files in ``configs/<kind>`` (scenarios, profiles, users)."""
    return sorted(p.stem for p in (CONFIG_DIR / kind).glob("*.yaml"))


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    return data


def _merge(base: dict, over: dict, origin: dict, source: str, prefix: tuple = ()) -> dict:
    """Deep-merge ``over`` into ``base`` (in place), recording which file set each key."""
    for k, v in over.items():
        path = (*prefix, k)
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v, origin, source, path)
        else:
            base[k] = copy.deepcopy(v)
            origin[path] = source
    return base


def _record(d: dict, origin: dict, source: str, prefix: tuple = ()) -> None:
    for k, v in d.items():
        origin[(*prefix, k)] = source
        if isinstance(v, dict):
            _record(v, origin, source, (*prefix, k))


def _named(kind: str, name: str) -> Path:
    p = CONFIG_DIR / kind / f"{name}.yaml"
    if not p.is_file():
        raise ConfigError(f"unknown {kind[:-1]} '{name}'; available: {', '.join(available(kind))}")
    return p


def _resolve_part(data: dict, key: str, kind: str, origin: dict, source: str) -> None:
    """Replace ``data[key]`` (a name, or a mapping with ``base: name`` plus overrides)
    by the named file's content merged with the overrides."""
    ref = data.get(key)
    if ref is None:
        raise ConfigError(f"{source}: missing key '{key}' (a {kind[:-1]} name: {', '.join(available(kind))})")
    overrides: dict = {}
    if isinstance(ref, dict):
        overrides = {k: v for k, v in ref.items() if k != "base"}
        ref = ref.get("base")
        if ref is None:
            data[key] = overrides
            return
    if not isinstance(ref, str):
        raise ConfigError(f"{source}: key '{key}' must be a {kind[:-1]} name or a mapping with 'base', got {ref!r}")
    part, sub = _read_part(kind, ref)
    merged = _merge(part, overrides, sub, source)
    for p, src in sub.items():
        origin[(key, *p)] = src
    data[key] = merged


def _read_part(kind: str, name: str, seen: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """A profile or archetype file, with ``extends: other`` resolved (the named file's
    keys first, this file's over them). Returns the data and each key's source file."""
    if name in seen:
        raise ConfigError(f"{kind[:-1]} '{name}' extends itself (through {' -> '.join(seen)})")
    path = _named(kind, name)
    part = _read(path)
    origin: dict = {}
    parent = part.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str):
            raise ConfigError(f"{path}: key 'extends' must name a {kind[:-1]}, got {parent!r}")
        base, origin = _read_part(kind, parent, (*seen, name))
        _merge(base, part, origin, str(path))
        return base, origin
    _record(part, origin, str(path))
    return part, origin


def config_path(kind: str, name_or_path: str | Path) -> Path:
    """Path of a ``configs/<kind>`` file given its name (``ios_commuter``) or a YAML file
    path; a ConfigError listing the available names otherwise. ``kind``: ``scenarios``,
    ``fleets``..."""
    what = kind[:-1]
    s = str(name_or_path)
    if s.endswith((".yaml", ".yml")) or Path(s).is_file():
        p = Path(s)
        if not p.is_file():
            raise ConfigError(f"{p}: {what} file not found")
        return p
    p = CONFIG_DIR / kind / f"{s}.yaml"
    if not p.is_file():
        raise ConfigError(f"unknown {what} '{s}'; available: {', '.join(available(kind))} (or pass a .yaml path)")
    return p


def scenario_path(name_or_path: str | Path) -> Path:
    """Path of a scenario given its name (``ios_commuter``) or a YAML file path."""
    return config_path("scenarios", name_or_path)


def load_scenario(name_or_path: str | Path, **overrides: Any) -> Scenario:
    """Load, merge and validate a scenario. ``overrides`` are deep-merged last (for
    example ``horizon_days=2`` or ``user={"force_quit_prob": 0.1}``)."""
    path = scenario_path(name_or_path)
    origin: dict[tuple, str] = {}
    defaults_path = CONFIG_DIR / "defaults.yaml"
    data = _read(defaults_path)
    _record(data, origin, str(defaults_path))
    scen = _read(path)
    scen.setdefault("name", path.stem)
    late: dict[str, dict] = {}
    for key in ("profile", "user"):
        if key in overrides:
            ov = overrides.pop(key)
            if isinstance(ov, dict) and "base" not in ov:
                late[key] = ov  # keys merged over the scenario's choice, blamed on the overrides
            else:
                scen[key] = ov  # a different profile or archetype altogether
    src = str(path)
    _resolve_part(scen, "profile", "profiles", origin, src)
    _resolve_part(scen, "user", "users", origin, src)
    for key, ov in late.items():
        sub: dict = {}
        _merge(scen[key], ov, sub, "keyword overrides")
        for p, s in sub.items():
            origin[(key, *p)] = s
    rest = {k: v for k, v in scen.items() if k not in ("profile", "user")}
    _merge(data, rest, origin, src)
    data["profile"] = scen["profile"]
    data["user"] = scen["user"]
    if overrides:
        _merge(data, overrides, origin, "keyword overrides")
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_explain(e, origin, src)) from None


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class that owns the last key of ``loc`` (for 'allowed keys')."""
    model: Any = Scenario
    for part in loc[:-1]:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        f = model.model_fields.get(part) if isinstance(part, str) else None
        if f is None:
            if isinstance(model, type) and issubclass(model, BaseModel) and part in WINDOW_TYPES:
                continue
            return None
        ann = f.annotation
        nxt = None
        for cand in (ann, *getattr(ann, "__args__", ())):
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                nxt = cand
                break
            for c2 in getattr(cand, "__args__", ()):
                if isinstance(c2, type) and issubclass(c2, BaseModel):
                    nxt = c2
        if nxt is None:
            return None
        model = nxt
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _explain(e: ValidationError, origin: dict, default_src: str) -> str:
    lines = []
    for err in e.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in ("function-after",)))
        key = ".".join(str(p) for p in loc) or "(top level)"
        src = default_src
        for n in range(len(loc), 0, -1):
            if loc[:n] in origin:
                src = origin[loc[:n]]
                break
        if err["type"] == "extra_forbidden":
            model = _model_at(loc)
            allowed = ", ".join(model.model_fields) if model else "see docs/reference.md"
            lines.append(f"{src}: unknown key '{key}'; allowed keys here: {allowed}")
        elif err["type"] == "missing":
            lines.append(f"{src}: missing key '{key}'")
        else:
            got = err.get("input")
            got_s = f" (got {got!r})" if not isinstance(got, (dict, list)) else ""
            lines.append(f"{src}: key '{key}': {err['msg']}{got_s}")
    return "invalid scenario:\n  " + "\n  ".join(lines)
