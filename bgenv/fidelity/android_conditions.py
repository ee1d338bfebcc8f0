"""Android device conditions (PLATFORM_FACTS rows 31, 32, 35, 36): standby-bucket decay,
the Rare bucket's network block, thermal limits on jobs and Battery Saver.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from bgenv.config import load_scenario
from bgenv.envs.actions import ActionTable
from bgenv.eventlog import H, changes, end_time, of_kind, seconds_in, seconds_when, value_at, windows
from bgenv.fidelity.measurement import DIFFERS, MODELLED, PARTIAL, Measurement, agrees
from bgenv.fidelity.policies import backlog, feature, idle, keeper
from bgenv.fidelity.scenarios import ABSENT, COOL, ENDLESS_HEAVY, ONE_24, make_env, quiet_android
from bgenv.rollout import rollout

THERMAL_LEVELS = ("nominal", "fair", "serious", "critical")


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
@functools.cache
def bucket_run() -> tuple[tuple[str, float], ...]:
    """(bucket, hours since the last open) of every bucket change of an app last opened
    1 h before t0 and never again, over 9 days."""
    env = quiet_android(hours=9 * 24.0, doze=True, user={"last_open_ago_s": H})
    rollout(env, idle, 0)
    last_open = 7 * H - H
    return tuple((b, round((t - last_open) / H, 6)) for t, b in changes(env.events, "bucket"))


@functools.cache
def rare_network_runs() -> dict[str, int]:
    """Windows of a Rare app that keeps job+network pending for 24 h (each run completes
    at once), with and without ``rare_bucket_blocks_network``."""
    out = {}
    for flag in (False, True):
        env = quiet_android(bucket="rare", hours=24.0, android={"rare_bucket_blocks_network": flag})
        rollout(env, keeper(env, "job+network"), 0)
        out[f"blocks_network={flag}"] = len(windows(env.events, end_time(env)))
    return out


@functools.cache
def thermal_run() -> dict[str, dict[str, int]]:
    """Job and expedited requests kept pending on a phone whose thermal state climbs
    often; grants counted by thermal state, and seconds spent at each state."""
    env = quiet_android(hours=12.0, thermal={"step_up_per_h": 3.0, "step_down_per_h": 2.0})
    table = ActionTable.from_env(env)
    ej, job = table.option("expedited"), table.option("job")
    ej_slot = env.observation_names.index(f"pending_slot{table.slot(ej)}")
    job_slot = env.observation_names.index(f"pending_slot{table.slot(job)}")

    def both(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        """Keep both requests pending: one is resubmitted at a window's start, the other
        after its one short chunk (1 unit of heavy work), then the window completes."""
        req = ej if obs[ej_slot] == 0.0 else job if obs[job_slot] == 0.0 else 0
        if info["phase"] == "window_start" and backlog(env, obs, "heavy") >= 2.0:
            return [req, 0, table.chunk(1.0), table.kind("heavy")]
        return [req, 0, 0, 0]

    rollout(env, both, 0)
    evs, t_end = env.events, end_time(env)
    out: dict[str, dict[str, int]] = {"job": {}, "expedited": {}}
    for w in windows(evs, t_end):
        lvl = w.state.thermal
        out[w.type][lvl] = out[w.type].get(lvl, 0) + 1
    hot_s = seconds_in(evs, "thermal", 7 * H, t_end)
    out["seconds_at"] = {k: int(hot_s.get(k, 0.0)) for k in THERMAL_LEVELS}
    return out


@functools.cache
def saver_run() -> dict[str, Any]:
    """Battery Saver on from ~20 % (the user accepts the prompt), other apps on screen
    ~4 times an hour, this app opened ~once an hour for ~10 min; a job request kept
    pending (resubmitted at every decision)."""
    env = make_env(
        "android",
        horizon_days=5.0 / 24.0,
        initial_battery=[0.205, 0.205],
        user={
            **ABSENT,
            "low_power_accept_prob": 1.0,
            "screen_sessions_per_hour": [4.0] * 24,
            "app_opens_per_hour": ONE_24,
            "app_session_mean_s": 900.0,
            "last_open_ago_s": 600.0,
        },
        thermal=COOL,
        workload=ENDLESS_HEAVY,
    )
    pol = keeper(env, "job")
    seen: list[float] = []  # net_none read at background decisions with Battery Saver on

    def policy(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        if info["phase"] == "background" and feature(env, obs, "low_power") == 1.0:
            seen.append(feature(env, obs, "net_none"))
        return pol(env, obs, info)

    rollout(env, policy, 0)
    evs, t_end = env.events, end_time(env)
    pre = [e for e in of_kind(evs, "doze") if e["state"] == "light_pre"]
    saver_at = {e["t"]: value_at(evs, "low_power", e["t"]) == "on" for e in pre}
    ws = windows(evs, t_end)
    return {
        "light_doze_after_s_saver_on": sorted({e["duration_s"] for e in pre if saver_at[e["t"]]}),
        "light_doze_after_s_saver_off": sorted({e["duration_s"] for e in pre if not saver_at[e["t"]]}),
        "jobs_saver_on_background": sum(
            1 for w in ws if w.state.low_power and not w.state.foreground and not w.state.charging
        ),
        "jobs_saver_on_foreground": sum(
            1 for w in ws if w.state.low_power and w.state.foreground and not w.state.charging
        ),
        "jobs_saver_off": sum(1 for w in ws if not w.state.low_power),
        "background_decisions_saver_on": len(seen),
        "net_none_share_saver_on": float(np.mean(seen)) if seen else math.nan,
        # the app on screen, unplugged, Battery Saver on (a job request pending all the time)
        "on_screen_s_saver_on_job_pending": seconds_when(
            evs, 0.0, t_end, lambda s: s.foreground and s.low_power and not s.charging
        ),
    }


# ---------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------
def bucket_decay_without_use() -> Measurement:
    """Row 31: hours after the last open at which an unused app moves to each standby
    bucket, and how long an open keeps it Active (h)."""
    got = bucket_run()
    d = {"transitions": list(got), "active_after_open_h": got[0][1] if got else math.nan}
    decay = list(got) == [("working_set", 12.0), ("frequent", 24.0), ("rare", 48.0), ("restricted", 192.0)]
    value = (
        f"{', '.join(f'{b} at {h:g} h' for b, h in got)} after the last open. An open keeps the app Active "
        f"for {d['active_after_open_h']:g} h, as AOSP's elapsed-time thresholds do when no usage prediction "
        "sets the bucket (AppStandbyControllerTests.testBuckets: Active until 12 h after an interaction); the "
        "documented 1 h is the strong-usage timeout, a minimum that matters only when a prediction (Adaptive "
        "Battery, not modelled) would demote the app sooner. Not modelled either: the screen-on-time "
        "thresholds (Frequent, Rare and Restricted also need 1 h, 2 h, 6 h of screen time since the last use)"
    )
    return Measurement(value, d, PARTIAL if decay and d["active_after_open_h"] == 12.0 else DIFFERS)


def rare_bucket_network_block() -> Measurement:
    """Row 32: job+network runs (count) of a Rare app in 24 h with and without the
    network block, and which profiles block."""
    d: dict[str, Any] = dict(rare_network_runs())
    d["oem_profile_blocks"] = load_scenario("android_oem_commuter").profile.android.rare_bucket_blocks_network
    d["stock_profile_blocks"] = load_scenario("android_commuter").profile.android.rare_bucket_blocks_network
    ok = d["blocks_network=True"] == 0 and d["blocks_network=False"] > 0
    value = (
        f"rare bucket, job+network kept pending for 24 h: {d['blocks_network=False']} runs (stock profile), "
        f"{d['blocks_network=True']} with rare_bucket_blocks_network (android-aggressive-oem)"
    )
    return Measurement(value, d, agrees(ok))


def thermal_limits_on_jobs() -> Measurement:
    """Row 35: the thermal states at which regular and expedited jobs started (grants
    per state) and the seconds spent at each state."""
    d = thermal_run()
    ok = set(d["job"]) == {"nominal", "fair"} and set(d["expedited"]) == {"nominal", "fair", "serious"}
    ok &= d["seconds_at"]["critical"] > 0
    value = (
        f"regular jobs started at {'/'.join(k for k in THERMAL_LEVELS if k in d['job'])}, expedited at "
        f"{'/'.join(k for k in THERMAL_LEVELS if k in d['expedited'])}, none at critical "
        "(bgenv's 4 levels: fair ≈ LIGHT, serious ≈ MODERATE, critical ≈ SEVERE+; no job priorities)"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


def battery_saver_effects() -> Measurement:
    """Row 36: with Battery Saver on: light Doze's delay after screen-off (s), jobs in
    the background and on screen (count), the background network (share of decisions
    seeing none) and the time on screen with a job pending (s)."""
    d = saver_run()
    ok = d["light_doze_after_s_saver_on"] == [60.0] and d["light_doze_after_s_saver_off"] == [240.0]
    ok &= d["jobs_saver_on_background"] == 0 and d["net_none_share_saver_on"] == 1.0
    fg_blocked = d["jobs_saver_on_foreground"] == 0 and d["on_screen_s_saver_on_job_pending"] > 600.0
    value = (
        f"light Doze {d['light_doze_after_s_saver_on'][0]:g} s after screen-off (240 s without); background "
        "network none; no jobs on battery in the background; "
        + (
            f"none while the app is on screen either ({d['on_screen_s_saver_on_job_pending'] / 60:.0f} min)"
            if fg_blocked
            else f"{d['jobs_saver_on_foreground']} while the app was on screen"
        )
    )
    return Measurement(value, d, DIFFERS if fg_blocked or not ok else MODELLED)
