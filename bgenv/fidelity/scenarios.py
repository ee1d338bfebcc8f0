"""The phones the fidelity experiments run: env builders and the config overrides they use.

Every experiment starts from a profile's commuter scenario (:data:`COMMUTER`), with
every device the archetype's centre (:data:`HOMOGENEOUS`: the experiments measure the
OS's rules, and how devices differ would only blur them), and overrides what would get in
the way of the fact under test: a user who never touches
the phone (:data:`ABSENT`), a battery that barely drains (:data:`STEADY_BATTERY`), a
thermal state that stays nominal (:data:`COOL`), endless heavy work
(:data:`ENDLESS_HEAVY`) and so on. Envs are made with ``gym.make`` and the event log on;
the builders return the unwrapped env.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gymnasium as gym

import bgenv  # noqa: F401  (importing the package registers the environment ids)
from bgenv.eventlog import H
from bgenv.registration import DEFAULT_SCENARIO, env_id_for

if TYPE_CHECKING:
    from bgenv.envs.single import BackgroundSchedulingEnv

# The commuter scenario of each profile the experiments use.
COMMUTER: dict[str, str] = {
    **DEFAULT_SCENARIO,
    "android-16": "android16_commuter",
    "android-aggressive-oem": "android_oem_commuter",
}
ZERO_24 = [0.0] * 24
ONE_24 = [1.0] * 24

# Every device the archetype's centre: no per-device draws at reset (configuration
# ``heterogeneity``).
HOMOGENEOUS: dict[str, Any] = {"enabled": False}
# A user who never touches the phone (no opens, no screen, no motion, no charging), on
# Wi-Fi all the time and never accepting Low Power Mode / Battery Saver.
ABSENT: dict[str, Any] = {
    "app_opens_per_hour": ZERO_24,
    "screen_sessions_per_hour": ZERO_24,
    "motion_per_hour": ZERO_24,
    "overnight_charge_prob": 0.0,
    "daytime_plugins_per_day": 0.0,
    "force_quit_prob": 0.0,
    "low_power_accept_prob": 0.0,
    "plug_at_10_share": 1.0,
    "plug_at_20_share": 0.0,
    "wifi_share": ONE_24,
    "no_network_share": ZERO_24,
    "drops_per_hour": 0.0,
    "mutations_per_open": 0.0,
}
# A battery that barely drains: the phone stays unplugged for days without a top-up.
STEADY_BATTERY: dict[str, float] = {
    "drain_screen_off_pct_per_h": 0.05,
    "drain_screen_on_pct_per_h": 0.05,
    "background_cpu_pct_per_h": 0.0,
    "radio_cellular_pct_per_h": 0.0,
    "radio_wifi_pct_per_h": 0.0,
    "window_wake_pct": 0.0,
}
COOL: dict[str, float] = {"step_up_per_h": 0.0}  # the thermal state stays nominal
ENDLESS_HEAVY: dict[str, Any] = {"heavy_per_day": 2000.0}  # ~7 units/s of heavy work (a window does 1/s)
# Hours since the last app open that put an Android app in each bucket at t0 (row 31)
BUCKET_AGO_H: dict[str, float] = {
    "active": 0.0,
    "working_set": 13.0,
    "frequent": 25.0,
    "rare": 49.0,
    "restricted": 193.0,
}
# Horizons that keep the app in its bucket from t0 to the end (BUCKET_AGO_H, row 31)
BUCKET_HOURS: dict[str, float] = {"active": 6.0, "working_set": 10.0, "frequent": 22.0, "rare": 72.0, "restricted": 7.0}
# Charging all night from t0 = 00:00 to 07:00 (overnight charging, no jitter)
CHARGING_NIGHT: dict[str, float] = {
    "overnight_charge_prob": 1.0,
    "charge_jitter_s": 0.0,
    "bedtime_hour": 23.0,
    "wake_hour": 7.0,
}
FAST_JOBS: dict[str, Any] = {"job": {"launch_rate_per_h": 36000.0}}  # a ready job starts within ~0.1 s
PACED_ALARMS: dict[str, Any] = {"alarm": {"launch_rate_per_h": 1800.0}}  # ~2 s apart: under 250 schedule()/min
IOS_FAST_PROCESSING: dict[str, Any] = {"launch_rate_per_h": 60.0, "usage_driven": False}  # enough windows to see
# A refresh launch clock 60x the calibrated rate (O1): many windows, so the gates decide when they start
FAST_REFRESH: dict[str, Any] = {"windows": {"refresh": {"launch_rate_per_h": 30.0}}}
PLUG_AT_10: dict[str, float] = {"plug_at_10_share": 1.0, "plug_at_20_share": 0.0}  # top-ups at 10 %, never at 20 %
# No charging but the top-ups a low battery calls for: no overnight charge, no daytime plug-in
NO_CHARGING: dict[str, float] = {"overnight_charge_prob": 0.0, "daytime_plugins_per_day": 0.0}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on top, nested dicts merged key by key."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def make_env(which: str, **overrides: Any) -> BackgroundSchedulingEnv:
    """``gym.make`` the environment of profile ``which`` (a key of :data:`COMMUTER`, whose
    commuter scenario it starts from) with the event log on and every device the
    archetype's centre (:data:`HOMOGENEOUS`, unless ``heterogeneity`` says otherwise);
    returns the unwrapped env."""
    scenario = COMMUTER[which]
    overrides["heterogeneity"] = merge(HOMOGENEOUS, overrides.get("heterogeneity", {}))
    env = gym.make(env_id_for(scenario), scenario=scenario, record_events=True, **overrides)
    return env.unwrapped


def quiet_android(
    profile: str = "android",
    *,
    bucket: str = "active",
    hours: float = 24.0,
    doze: bool = False,
    user: dict[str, Any] | None = None,
    android: dict[str, Any] | None = None,
    windows: dict[str, Any] | None = None,
    thermal: dict[str, Any] | None = None,
    **overrides: Any,
) -> BackgroundSchedulingEnv:
    """An Android phone lying unplugged and untouched, in ``bucket`` for the whole run,
    with endless heavy work, a battery that barely drains, a nominal thermal state and
    (unless ``doze``) Doze off, so the quota under test is the only thing in the way."""
    prof: dict[str, Any] = {"android": merge({"doze": {"enabled": doze}}, android or {})}
    if windows:
        prof["windows"] = windows
    return make_env(
        profile,
        horizon_days=hours / 24.0,
        initial_battery=[1.0, 1.0],
        user={**ABSENT, "last_open_ago_s": BUCKET_AGO_H[bucket] * H, **(user or {})},
        battery=STEADY_BATTERY,
        thermal=thermal or COOL,
        workload=merge(ENDLESS_HEAVY, overrides.pop("workload", {})),
        profile=prof,
        **overrides,
    )


def ios_env(
    days: float,
    *,
    user: dict[str, Any] | None = None,
    processing: dict[str, Any] | None = None,
    profile: dict[str, Any] | None = None,
    **kw: Any,
) -> BackgroundSchedulingEnv:
    """iOS, the commuter (never force-quitting), with plenty of heavy work; ``processing``
    overrides the processing window type, ``profile`` other profile keys."""
    prof: dict[str, Any] = dict(profile or {})
    if processing is not None:
        prof["windows"] = {"processing": processing}
    return make_env(
        "ios",
        horizon_days=days,
        user={"force_quit_prob": 0.0, **(user or {})},
        workload={"heavy_per_day": 48.0, "kinds": {"heavy": {"size_units": 500.0}}},
        profile=prof,
        **kw,
    )


def ios_upload_env() -> BackgroundSchedulingEnv:
    """iOS for one day, always on Wi-Fi, plenty of upload work, refresh windows of a fixed
    120 s (the jetsam experiments of row 49, shared with the tests)."""
    return make_env(
        "ios",
        horizon_days=1.0,
        user={"drops_per_hour": 0.0, "wifi_share": ONE_24, "no_network_share": ZERO_24, "force_quit_prob": 0.0},
        workload={"uploads_per_hour": [4.0] * 24, "kinds": {"upload": {"size_units": 100.0}}},
        profile={
            "windows": {"refresh": {"early_expiry_prob": 0.0, "budget_s": 120.0}},
            "history": {"duration_weight": 0.0},
        },
    )
