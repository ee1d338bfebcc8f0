"""Push messages, exact alarms and foreground services (PLATFORM_FACTS rows 27-29,
33, 34, 37, 45), checked through the public event log."""

from __future__ import annotations

import numpy as np
from helpers import ANDROID_OPT, IOS_OPT, ZERO_24, delay, events, make_env, run_episode

# A user who never touches the phone: no opens, no screen, no motion, no charging.
ABSENT = {
    "app_opens_per_hour": ZERO_24,
    "screen_sessions_per_hour": ZERO_24,
    "motion_per_hour": ZERO_24,
    "overnight_charge_prob": 0.0,
    "force_quit_prob": 0.0,
}


def _max_in_window(times: list[float], window: float) -> int:
    """Largest number of ``times`` inside any window of ``window`` seconds."""
    t = np.sort(np.asarray(times))
    best = 0
    for i in range(len(t)):
        best = max(best, int(np.searchsorted(t, t[i] + window, side="left") - i))
    return best


def _always(option: int, wait: float = 0.0):
    """Submit ``option`` at every decision and stop at once inside windows."""

    def policy(env, obs, info):
        return [option, delay(wait), 0, 0]

    return policy


def test_ios_silent_pushes_are_throttled_and_sometimes_lost():
    # row 45: "not more than two or three per hour", no delivery guarantee
    # a commuter: a lost push ends the chain until the user next leaves the app
    env = make_env("ios", horizon_days=3, user={"force_quit_prob": 0.0})
    run_episode(env, 3, _always(IOS_OPT["push"]))
    grants = [e["t"] for e in events(env, "grant") if e["type"] == "push"]
    dropped = [e for e in events(env, "refused") if e["reason"] == "push_dropped"]
    assert len(grants) >= 30
    assert _max_in_window(grants, 3600.0) == 3
    assert 3 <= len(dropped) <= len(grants) // 3  # about 1 in 10 is lost (drop probability 0.1)
    assert all(e["budget_s"] == 30.0 for e in events(env, "grant"))  # 30 s to handle it


def test_android_high_priority_pushes_over_the_rare_cap_go_normal_priority():
    # row 33: Rare bucket 5 high-priority pushes per day; over that, normal priority
    env = make_env("android", horizon_days=2, user={**ABSENT, "last_open_ago_s": 3 * 86400.0})
    run_episode(env, 0, _always(ANDROID_OPT["push+notification"]))
    buckets = {e["bucket"] for e in events(env, "grant")}
    assert buckets == {"rare"}
    high = [e["t"] for e in events(env, "grant") if e["type"] == "push"]
    normal = [e["t"] for e in events(env, "grant") if e["type"] == "push_normal"]
    assert _max_in_window(high, 86400.0) == 5
    assert len(normal) > 20


def test_android_pushes_without_notifications_are_downgraded():
    # row 34: data messages that never show a notification drop to normal priority
    env = make_env("android", horizon_days=1, user={**ABSENT, "last_open_ago_s": 600.0})
    run_episode(env, 0, _always(ANDROID_OPT["push"]))
    types = [e["type"] for e in events(env, "grant")]
    assert types[:5] == ["push"] * 5  # bucket active: no daily cap
    assert set(types[5:]) == {"push_normal"}
    assert len(types) > 10


def test_high_priority_push_opens_a_temporary_doze_exemption_for_jobs():
    # row 27: up to 5 min of exemption; a job scheduled from the push runs in deep Doze
    env = make_env("android", horizon_days=1, user={**ABSENT, "last_open_ago_s": 600.0})

    def policy(env, obs, info):
        if info["phase"] == "background":  # at t0: a push in 4 h, deep in Doze by then
            return [ANDROID_OPT["push+notification"], delay(14400.0), 0, 0]
        if obs[env.observation_names.index("window_push")] > 0.5:
            return [ANDROID_OPT["job+network"], 0, 0, 0]  # schedule work, report completion
        return [0, 0, 0, 0]

    run_episode(env, 1, policy)
    log = events(env, "grant", "doze")
    push = next(e for e in log if e["kind"] == "grant" and e["type"] == "push")
    state = next(e for e in reversed(log) if e["kind"] == "doze" and e["t"] <= push["t"])["state"]
    assert state == "deep_idle"
    job = next(e for e in log if e["kind"] == "grant" and e["type"] == "job")
    assert 0.0 < job["t"] - push["t"] < 300.0
    state_at_job = next(e for e in reversed(log) if e["kind"] == "doze" and e["t"] <= job["t"])["state"]
    assert state_at_job == "deep_idle"  # it ran inside deep Doze, thanks to the exemption


def test_alarms_follow_their_bucket_limits():
    # row 28: Active 720 per hour, Rare 1 per hour
    rare = make_env("android", horizon_days=1, user={**ABSENT, "last_open_ago_s": 3 * 86400.0})
    run_episode(rare, 0, _always(ANDROID_OPT["alarm"]))
    t_rare = [e["t"] for e in events(rare, "grant") if e["type"] == "alarm"]
    assert _max_in_window(t_rare, 3600.0) == 1
    assert len(t_rare) >= 20

    active = make_env("android", horizon_days=0.25, user={**ABSENT, "last_open_ago_s": 60.0})
    run_episode(active, 0, _always(ANDROID_OPT["alarm"]))
    t_active = [e["t"] for e in events(active, "grant") if e["type"] == "alarm"]
    assert _max_in_window(t_active, 3600.0) > 72  # far above Rare, and unlike Doze's 72/h


def test_alarms_in_doze_are_limited_to_72_an_hour():
    # row 29: allow-while-idle alarms, 72 per hour while the device is idle
    env = make_env("android", horizon_days=0.5, user={**ABSENT, "last_open_ago_s": 60.0})
    run_episode(env, 0, _always(ANDROID_OPT["alarm"]))  # hundreds of alarm requests a minute while awake
    # alarms are not JobScheduler calls: never refused by the 250 schedule() calls a minute (row 22)
    assert not events(env, "refused")
    assert _max_in_window([e["t"] for e in events(env, "request") if e["type"] == "alarm"], 60.0) > 250
    log = events(env, "grant", "doze")
    idle_alarms = []
    state = "active"
    for e in log:
        if e["kind"] == "doze":
            state = e["state"]
        elif e["type"] == "alarm" and state in ("light_idle", "deep_idle"):
            idle_alarms.append(e["t"])
    assert len(idle_alarms) > 72
    assert _max_in_window(idle_alarms, 3600.0) <= 72


def test_foreground_service_starts_only_when_just_left_and_times_out_after_6_h():
    # row 37: cannot start from the background (12+); dataSync 6 h per 24 h, then onTimeout
    env = make_env("android", horizon_days=1, user={**ABSENT, "last_open_ago_s": 60.0})

    def policy(env, obs, info):
        if info["phase"] == "background":
            return [ANDROID_OPT["job"], 0, 0, 0]  # t0: not a fresh app close
        return [ANDROID_OPT["fgs"], 0, 0, 0]  # from a job window: the app is in the background

    run_episode(env, 0, policy)
    refused = [e for e in events(env, "refused") if e["type"] == "fgs"]
    assert refused and {e["reason"] for e in refused} == {"background_start"}
    assert not [e for e in events(env, "grant") if e["type"] == "fgs"]

    commuter = make_env("android", horizon_days=2)

    def start_fgs_on_leaving(env, obs, info):
        if info["phase"] == "background" and info["t"] > 25200.0:
            return [ANDROID_OPT["fgs"], 0, 0, 0]
        return [0, 0, 6, 0]  # inside a window: keep working in 50-unit chunks

    run_episode(commuter, 2, start_fgs_on_leaving)
    fgs = [e for e in events(commuter, "grant") if e["type"] == "fgs"]
    assert fgs and all(e["budget_s"] <= 21600.0 for e in fgs)
    assert fgs[0]["budget_s"] == 21600.0
