"""Push messages, alarms and foreground services (PLATFORM_FACTS rows 27-29, 33, 34, 37,
45, 51, 55, 57), checked through the public event log."""

from __future__ import annotations

import pytest
from helpers import ZERO_24, always, make_env

from bgenv.envs.actions import ActionTable
from bgenv.eventlog import of_kind
from bgenv.fidelity.analysis import max_rolling_count
from bgenv.fidelity.scenarios import NO_CHARGING
from bgenv.rollout import rollout

# A user who never touches the phone: no opens, no screen, no motion, no charging.
ABSENT = {
    "app_opens_per_hour": ZERO_24,
    "screen_sessions_per_hour": ZERO_24,
    "motion_per_hour": ZERO_24,
    **NO_CHARGING,
    "force_quit_prob": 0.0,
}


def test_ios_silent_pushes_are_throttled_and_sometimes_lost():
    # row 45: "not more than two or three per hour", no delivery guarantee
    # a commuter: a lost push ends the chain until the user next leaves the app
    env = make_env("ios", horizon_days=3, user={"force_quit_prob": 0.0})
    rollout(env, always(env, "push"), 3)
    grants = [e["t"] for e in of_kind(env.events, "grant") if e["type"] == "push"]
    dropped = [e for e in of_kind(env.events, "refused") if e["reason"] == "push_dropped"]
    assert len(grants) >= 30
    assert max_rolling_count(grants, 3600.0) == 3
    assert 3 <= len(dropped) <= len(grants) // 3  # about 1 in 10 is lost (drop probability 0.1)
    assert all(e["budget_s"] == 30.0 for e in of_kind(env.events, "grant"))  # 30 s to handle it


def test_a_lost_silent_push_never_wakes_the_app_and_costs_no_energy():
    # row 45: a push that is not delivered never launches the app: no window, no wake energy
    env = make_env(
        "ios", horizon_days=2, user={"force_quit_prob": 0.0}, profile={"ios": {"silent_push_drop_prob": 1.0}}
    )
    m = rollout(env, always(env, "push"), 0).metrics
    dropped = [e for e in of_kind(env.events, "refused") if e["reason"] == "push_dropped"]
    assert len(dropped) >= 5 and m["windows_granted"] == 0
    assert m["energy_total"] == 0.0 and m["battery_cost"] == 0.0  # was 0.005 % of a battery per lost push


def test_android_high_priority_pushes_over_the_rare_cap_go_normal_priority():
    # row 33: Rare bucket 5 high-priority pushes per day; over that, normal priority
    env = make_env("android", horizon_days=2, user={**ABSENT, "last_open_ago_s": 3 * 86400.0})
    rollout(env, always(env, "push+notification"), 0)
    buckets = {e["bucket"] for e in of_kind(env.events, "grant")}
    assert buckets == {"rare"}
    high = [e["t"] for e in of_kind(env.events, "grant") if e["type"] == "push"]
    normal = [e["t"] for e in of_kind(env.events, "grant") if e["type"] == "push_normal"]
    assert max_rolling_count(high, 86400.0) == 5
    assert len(normal) > 20


def test_android_pushes_without_notifications_are_downgraded():
    # row 34: data messages that never show a notification drop to normal priority
    env = make_env("android", horizon_days=1, user={**ABSENT, "last_open_ago_s": 600.0})
    rollout(env, always(env, "push"), 0)
    types = [e["type"] for e in of_kind(env.events, "grant")]
    assert types[:5] == ["push"] * 5  # bucket active: no daily cap
    assert set(types[5:]) == {"push_normal"}
    assert len(types) > 10


def test_high_priority_push_opens_a_temporary_doze_exemption_for_jobs():
    # row 27: up to 5 min of exemption; a job scheduled from the push runs in deep Doze
    env = make_env("android", horizon_days=1, user={**ABSENT, "last_open_ago_s": 600.0})
    acts = ActionTable.from_env(env)

    def policy(env, obs, info):
        if info["phase"] == "background":  # at t0: a push in 4 h, deep in Doze by then
            return acts.action("push+notification", delay_s=14400.0)
        if obs[env.observation_names.index("window_push")] > 0.5:
            return acts.action("job+network")  # schedule work, report completion
        return acts.action()

    rollout(env, policy, 1)
    log = of_kind(env.events, "grant", "doze")
    push = next(e for e in log if e["kind"] == "grant" and e["type"] == "push")
    state = next(e for e in reversed(log) if e["kind"] == "doze" and e["t"] <= push["t"])["state"]
    assert state == "deep_idle"
    job = next(e for e in log if e["kind"] == "grant" and e["type"] == "job")
    assert 0.0 < job["t"] - push["t"] < 300.0
    state_at_job = next(e for e in reversed(log) if e["kind"] == "doze" and e["t"] <= job["t"])["state"]
    assert state_at_job == "deep_idle"  # it ran inside deep Doze, thanks to the exemption


def test_alarms_follow_their_bucket_limits():
    # row 28: Active 720 per hour, Rare 1 per hour (inexact alarms: no SCHEDULE_EXACT_ALARM, rows 51, 57)
    rare = make_env("android", horizon_days=1, user={**ABSENT, "last_open_ago_s": 3 * 86400.0})
    rollout(rare, always(rare, "alarm"), 0)
    t_rare = [e["t"] for e in of_kind(rare.events, "grant") if e["type"] == "alarm"]
    assert max_rolling_count(t_rare, 3600.0) == 1
    assert len(t_rare) >= 20

    active = make_env("android", horizon_days=0.25, user={**ABSENT, "last_open_ago_s": 60.0})
    rollout(active, always(active, "alarm"), 0)
    t_active = [e["t"] for e in of_kind(active.events, "grant") if e["type"] == "alarm"]
    assert max_rolling_count(t_active, 3600.0) > 72  # far above Rare, and unlike Doze's 72/h


@pytest.mark.parametrize(("permission", "per_hour"), [(True, 72), (False, 7)])
def test_alarms_in_doze_are_limited_per_hour(permission, per_hour):
    # rows 29, 55: exact allow-while-idle alarms (SCHEDULE_EXACT_ALARM granted) 72 per hour while
    # the device is idle; without the permission they are inexact, 7 per hour. Exact alarms are
    # exempt from the bucket's limit (row 57) and deliveries outside idle count in the rolling hour
    # too, so the exact ones here come ~2 s apart rather than as fast as possible.
    prof: dict = {"android": {"exact_alarm_permission": permission}}
    if permission:
        prof["windows"] = {"alarm": {"launch_rate_per_h": 1800.0}}
    env = make_env("android", horizon_days=0.5, user={**ABSENT, "last_open_ago_s": 60.0}, profile=prof)
    rollout(env, always(env, "alarm"), 0)  # a request at every decision
    # alarms are not JobScheduler calls: never refused by the 250 schedule() calls a minute (row 22)
    assert not of_kind(env.events, "refused")
    if not permission:  # hundreds of alarm requests a minute while awake
        assert max_rolling_count([e["t"] for e in of_kind(env.events, "request") if e["type"] == "alarm"], 60.0) > 250
    log = of_kind(env.events, "grant", "doze")
    idle_alarms = []
    state = "active"
    for e in log:
        if e["kind"] == "doze":
            state = e["state"]
        elif e["type"] == "alarm" and state in ("light_idle", "deep_idle"):
            idle_alarms.append(e["t"])
    assert len(idle_alarms) > per_hour
    assert max_rolling_count(idle_alarms, 3600.0) == per_hour


def test_foreground_service_starts_only_when_just_left_and_times_out_after_6_h():
    # row 37: cannot start from the background (12+); dataSync 6 h per 24 h, then onTimeout
    env = make_env("android", horizon_days=1, user={**ABSENT, "last_open_ago_s": 60.0})
    acts = ActionTable.from_env(env)

    def policy(env, obs, info):
        if info["phase"] == "background":
            return acts.action("job")  # t0: not a fresh app close
        return acts.action("fgs")  # from a job window: the app is in the background

    rollout(env, policy, 0)
    refused = [e for e in of_kind(env.events, "refused") if e["type"] == "fgs"]
    assert refused and {e["reason"] for e in refused} == {"background_start"}
    assert not [e for e in of_kind(env.events, "grant") if e["type"] == "fgs"]

    commuter = make_env("android", horizon_days=2)
    acts = ActionTable.from_env(commuter)

    def start_fgs_on_leaving(env, obs, info):
        if info["phase"] == "background" and info["t"] > 25200.0:
            return acts.action("fgs")
        return acts.action(chunk=50)  # inside a window: keep working in 50-unit chunks

    rollout(commuter, start_fgs_on_leaving, 2)
    fgs = [e for e in of_kind(commuter.events, "grant") if e["type"] == "fgs"]
    assert fgs and all(e["budget_s"] <= 21600.0 for e in fgs)
    assert fgs[0]["budget_s"] == 21600.0
