"""The OS's rules, one at a time: the scheduler's gates, launch rates, grants and window
stops called on hand-built state (``conftest.device``), with the values the platform
profiles give (PLATFORM_FACTS rows cited as #NN)."""

from __future__ import annotations

import numpy as np
import pytest

from bgenv.core import layout as L
from bgenv.core.rng import SYS
from bgenv.core.scheduler import (
    alarm_deferral,
    alarm_gate,
    chunk_fate,
    doze_consider,
    doze_wake,
    grant_budget,
    grant_exemption,
    launch_rate,
    quota_remaining,
    record_grant,
    record_job_start,
    stop_reason,
    submit_refusal,
)

REFRESH_SLOT = 0
PROCESSING_SLOT = 1


def rate_of(d, slot: int):
    """(rate 1/s, wake s, throttled) of the request pending in ``slot``."""
    rate, wake, throttled = launch_rate(d.pf, d.ph, d.sf, d.si, d.reqs, d.jobs, slot, d.hour)
    return float(rate), float(wake), bool(throttled)


def usage_driven_rate(d, wt_name: str, score: float, opens_per_day: float, usage: float, unplugged: bool) -> float:
    """The profile's launch rate of a usage-driven window type, 1/s, as the config
    describes it: rate · score^rate_exponent · e / (e + engagement_half) · usage factor."""
    w = d.sc.profile.windows[wt_name]
    h = d.sc.profile.history
    e = opens_per_day
    rate = w.launch_rate_per_h / 3600.0
    rate *= score**h.rate_exponent * e / (e + h.engagement_half_per_day) * usage
    if unplugged:
        rate *= w.unplugged_rate_mult
    return rate


# ---------------------------------------------------------------------------
# iOS launch rates and gates
# ---------------------------------------------------------------------------
def test_ios_refresh_rate_follows_score_engagement_and_usage_floor(device):
    d = device("ios_commuter")
    d.request(REFRESH_SLOT, L.WT_REFRESH)
    rate, wake, throttled = rate_of(d, REFRESH_SLOT)
    floor = d.sc.profile.history.usage_floor
    assert rate == pytest.approx(usage_driven_rate(d, "refresh", 1.0, 3.0, floor, True), rel=1e-12)
    assert rate == pytest.approx(0.4 / 3600.0 * 0.5 * 0.1, rel=1e-12)  # 0.4/h, 3 opens/day of half 3, floor 0.1
    assert (wake, throttled) == (np.inf, False)


def test_ios_refresh_rate_scales_with_the_history_score_to_its_exponent(device):
    d = device("ios_commuter")
    d.request(REFRESH_SLOT, L.WT_REFRESH)
    full, _, _ = rate_of(d, REFRESH_SLOT)
    d.sf[L.S_HIST_B] = 0.25
    quarter, _, _ = rate_of(d, REFRESH_SLOT)
    assert d.sc.profile.history.rate_exponent == 1.5
    assert quarter / full == pytest.approx(0.25**1.5, rel=1e-12)


def test_ios_refresh_rate_peaks_in_the_hour_before_the_usual_open(device):
    d = device("ios_commuter")
    d.request(REFRESH_SLOT, L.WT_REFRESH)
    empty, _, _ = rate_of(d, REFRESH_SLOT)
    d.sf[L.S_USAGE + d.hour + 1] = 10.0  # every learned open falls in the next hour
    d.sf[L.S_USAGE_TOT] = 10.0
    peak, _, _ = rate_of(d, REFRESH_SLOT)
    # floor + (1 - floor) · min(max factor 4, 24 · share / (1 + current-hour weight 0.5))
    assert peak / empty == pytest.approx((0.1 + 0.9 * 4.0) / 0.1, rel=1e-12)


@pytest.mark.parametrize("delta", [-0.01, 0.01])
def test_ios_processing_is_held_below_the_low_battery_level_unplugged(device, delta):
    d = device("ios_commuter")
    low = d.sc.profile.low_battery_level
    assert low == 0.2  # #46: below 20 % only essential work runs
    d.request(PROCESSING_SLOT, L.WT_PROCESSING)
    d.sf[L.S_BATT] = low + delta
    rate, wake, throttled = rate_of(d, PROCESSING_SLOT)
    if delta < 0:
        assert (rate, wake, throttled) == (0.0, np.inf, False)
    else:
        assert rate == pytest.approx(usage_driven_rate(d, "processing", 1.0, 3.0, 0.1, True), rel=1e-12)


def test_ios_processing_below_the_low_battery_level_runs_on_the_charger(device):
    d = device("ios_commuter")
    d.request(PROCESSING_SLOT, L.WT_PROCESSING)
    d.sf[L.S_BATT] = 0.1
    d.si[L.I_CHARGING] = 1
    rate, _, _ = rate_of(d, PROCESSING_SLOT)
    assert rate == pytest.approx(1.0 / 3600.0 * 0.5 * 0.1, rel=1e-12)  # no unplugged factor 0.02


def test_ios_processing_waits_for_the_device_to_be_idle(device):
    d = device("ios_commuter")
    d.request(PROCESSING_SLOT, L.WT_PROCESSING)
    d.sf[L.S_SCREEN_OFF_SINCE] = d.t - 100.0  # screen off 100 s ago: idle 600 s after screen-off
    rate, wake, throttled = rate_of(d, PROCESSING_SLOT)
    assert (rate, throttled) == (0.0, False)
    assert wake == d.t - 100.0 + 600.0


def test_ios_refresh_stops_at_fair_thermal_state_a_push_does_not(device):
    d = device("ios_commuter")
    d.request(REFRESH_SLOT, L.WT_REFRESH)
    d.request(3, L.WT_PUSH)
    d.si[L.I_THERMAL] = L.THERMAL_FAIR  # refresh: thermal_max nominal (#48); push: fair
    assert rate_of(d, REFRESH_SLOT) == (0.0, np.inf, False)
    assert rate_of(d, 3)[0] == pytest.approx(720.0 / 3600.0, rel=1e-12)


def test_ios_silent_push_is_held_while_the_phone_has_no_network(device):
    d = device("ios_commuter")  # on Wi-Fi
    d.request(3, L.WT_PUSH)
    delivered = (pytest.approx(720.0 / 3600.0, rel=1e-12), np.inf, False)  # within seconds (push launch rate)
    assert rate_of(d, 3) == delivered
    d.si[L.I_DROP] = 1  # a connectivity drop: APNs stores the push until the phone is back (#65)
    assert rate_of(d, 3) == (0.0, np.inf, False)
    d.si[L.I_DROP] = 0
    d.si[L.I_NET_BASE] = L.NET_NONE  # no network at all: held too
    assert rate_of(d, 3) == (0.0, np.inf, False)
    d.si[L.I_NET_BASE] = L.NET_CELL  # back online: delivered
    assert rate_of(d, 3) == delivered


def test_ios_background_app_refresh_off_holds_every_request(device):
    d = device("ios_commuter")
    d.request(REFRESH_SLOT, L.WT_REFRESH)
    d.si[L.I_BAR_OFF] = 1
    assert rate_of(d, REFRESH_SLOT) == (0.0, np.inf, False)


def test_no_launch_before_the_earliest_begin_date(device):
    d = device("ios_commuter")
    d.request(REFRESH_SLOT, L.WT_REFRESH, earliest=d.t + 900.0)
    assert rate_of(d, REFRESH_SLOT) == (0.0, d.t + 900.0, False)


# ---------------------------------------------------------------------------
# Android gates: Doze, quotas, counts
# ---------------------------------------------------------------------------
def test_android_job_is_held_in_deep_doze_an_expedited_job_is_not(device):
    d = device("android_commuter")
    d.request(0, L.WT_JOB)
    d.request(1, L.WT_EXPEDITED)
    d.si[L.I_DOZE] = L.DZ_DEEP_IDLE
    assert rate_of(d, 0) == (0.0, np.inf, False)  # #26: held until a maintenance window
    assert rate_of(d, 1)[0] == pytest.approx(360.0 / 3600.0, rel=1e-12)  # doze_exempt


def test_android_push_exemption_lets_a_job_through_doze(device):
    d = device("android_commuter")
    d.request(0, L.WT_JOB)
    d.si[L.I_DOZE] = L.DZ_DEEP_IDLE
    d.si[L.I_TEMP_EXEMPT] = 1  # #27
    assert rate_of(d, 0)[0] == pytest.approx(60.0 / 3600.0, rel=1e-12)


def test_android_quota_remaining_is_the_bucket_quota_less_the_time_used(device):
    d = device("android_commuter")
    d.si[L.I_BUCKET] = L.BK_RARE  # 600 s per 24 h (#1)
    d.execution(d.t - 3000.0, d.t - 2420.0, L.JK_JOB)
    assert float(quota_remaining(d.pf, d.si, d.jobs, d.t)) == 600.0 - 580.0


def test_android_job_out_of_quota_is_throttled_until_the_time_falls_out_of_the_window(device):
    d = device("android_commuter")
    d.request(0, L.WT_JOB)
    d.si[L.I_BUCKET] = L.BK_RARE
    d.execution(d.t - 3000.0, d.t - 2420.0, L.JK_JOB)  # 20 s left < quota_buffer_s 30 (#8)
    rate, wake, throttled = rate_of(d, 0)
    assert (rate, throttled) == (0.0, True)
    # 30 s are back once the first 10 s of that execution left the 24 h window
    assert wake == pytest.approx(d.t - 3000.0 + 10.0 + 86400.0, abs=1e-3)


def test_android_session_count_throttles_a_rare_app(device):
    d = device("android_commuter")
    d.request(0, L.WT_JOB)
    d.si[L.I_BUCKET] = L.BK_RARE  # 3 sessions per 24 h (#6)
    for start in (d.t - 3000.0, d.t - 2000.0, d.t - 1000.0):
        d.execution(start, start + 10.0, L.JK_JOB)
    rate, wake, throttled = rate_of(d, 0)
    assert (rate, throttled) == (0.0, True)
    assert wake == d.t - 3000.0 + 86400.0 + 1e-6


def test_android_quota_is_waived_on_the_charger(device):
    d = device("android_commuter")
    d.request(0, L.WT_JOB)
    d.si[L.I_BUCKET] = L.BK_RARE
    d.execution(d.t - 3000.0, d.t - 2420.0, L.JK_JOB)
    d.si[L.I_CHARGING] = 1  # #9
    assert rate_of(d, 0) == (pytest.approx(60.0 / 3600.0, rel=1e-12), np.inf, False)


def _alarms(d, *ago_s: float) -> None:
    """Alarms delivered ``ago_s`` seconds before now."""
    for a in sorted(ago_s, reverse=True):
        record_job_start(d.si, d.jobs, d.t - a, L.JK_ALARM)


def test_android_only_an_inexact_alarm_counts_against_the_buckets_alarm_limit(device):
    d = device("android_commuter")
    assert d.sc.profile.android.exact_alarm_permission is False  # #51: denied by default on 14+
    d.si[L.I_BUCKET] = L.BK_WORKING
    _alarms(d, *(300.0 * k for k in range(1, 11)))  # 10 in the last hour: Working set's limit (#28)
    assert alarm_gate(d.pf, d.si, d.jobs, d.t) == (False, d.t - 3000.0 + 3600.0 + 1e-6)
    d.pf[L.P_EXACT_ALARM] = 1.0  # with SCHEDULE_EXACT_ALARM: exact allow-while-idle, exempt (#57)
    assert alarm_gate(d.pf, d.si, d.jobs, d.t)[0]


@pytest.mark.parametrize(("exact", "per_hour"), [(False, 7), (True, 72)])
def test_android_alarms_in_doze_idle_7_an_hour_inexact_72_exact(device, exact, per_hour):
    d = device("android_commuter")  # Active bucket: 720 an hour, far from the limit
    d.pf[L.P_EXACT_ALARM] = float(exact)
    d.si[L.I_DOZE] = L.DZ_DEEP_IDLE
    _alarms(d, *(3599.0 - 40.0 * k for k in range(per_hour - 1)))
    assert alarm_gate(d.pf, d.si, d.jobs, d.t)[0]  # one short of the quota (#29, #55)
    _alarms(d, 1.0)
    assert alarm_gate(d.pf, d.si, d.jobs, d.t) == (False, d.t - 3599.0 + 3600.0 + 1e-6)
    d.si[L.I_DOZE] = L.DZ_DEEP_MAINT  # outside idle the quota does not hold
    assert alarm_gate(d.pf, d.si, d.jobs, d.t)[0]


def test_android_inexact_alarm_is_delivered_within_75_percent_of_its_delay_at_most_an_hour(device):
    d = device("android_commuter")
    for delay, window in ((60.0, 45.0), (300.0, 225.0), (28800.0, 3600.0)):  # #59
        got = [alarm_deferral(d.pf, d.si, d.rng, L.WT_ALARM, delay) for _ in range(400)]
        assert 0.0 <= min(got) < 0.05 * window and 0.95 * window < max(got) <= window
    assert alarm_deferral(d.pf, d.si, d.rng, L.WT_ALARM, 5.0) == 0.0  # under 10 s: on time
    assert alarm_deferral(d.pf, d.si, d.rng, L.WT_JOB, 300.0) == 0.0  # only alarms
    d.pf[L.P_EXACT_ALARM] = 1.0
    assert alarm_deferral(d.pf, d.si, d.rng, L.WT_ALARM, 300.0) == 0.0  # exact: at its time


# ---------------------------------------------------------------------------
# Why a running window stops
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("wt", "thermal", "reason"),
    [
        (L.WT_JOB, L.THERMAL_FAIR, L.END_NONE),  # jobs run up to fair (#35)
        (L.WT_JOB, L.THERMAL_SERIOUS, L.END_CONSTRAINT),
        (L.WT_JOB, L.THERMAL_CRITICAL, L.END_CONSTRAINT),
        (L.WT_EXPEDITED, L.THERMAL_SERIOUS, L.END_NONE),  # expedited up to serious
        (L.WT_EXPEDITED, L.THERMAL_CRITICAL, L.END_CONSTRAINT),
    ],
    ids=["job-fair", "job-serious", "job-critical", "expedited-serious", "expedited-critical"],
)
def test_thermal_state_above_the_types_maximum_stops_the_window(device, wt, thermal, reason):
    d = device("android_commuter")
    d.window(wt)
    d.si[L.I_THERMAL] = thermal
    assert stop_reason(d.pf, d.sf, d.si) == reason


def test_ios_processing_stops_when_the_user_picks_up_the_phone(device):
    d = device("ios_commuter")
    d.window(L.WT_PROCESSING)
    assert stop_reason(d.pf, d.sf, d.si) == L.END_NONE
    d.si[L.I_SCREEN] = 1  # #39
    assert stop_reason(d.pf, d.sf, d.si) == L.END_USER


def test_a_window_that_requires_power_stops_when_unplugged(device):
    d = device("ios_commuter")
    d.window(L.WT_PROCESSING, power=True)
    d.si[L.I_CHARGING] = 1
    assert stop_reason(d.pf, d.sf, d.si) == L.END_NONE
    d.si[L.I_CHARGING] = 0
    assert stop_reason(d.pf, d.sf, d.si) == L.END_CONSTRAINT


def test_low_power_mode_stops_an_ios_refresh(device):
    d = device("ios_commuter")
    d.window(L.WT_REFRESH)
    d.si[L.I_LOWPOWER] = 1  # #47
    assert stop_reason(d.pf, d.sf, d.si) == L.END_CONSTRAINT


@pytest.mark.parametrize(
    ("scenario", "reason"), [("ios_commuter", L.END_KILL_FORCE_QUIT), ("android_commuter", L.END_NONE)]
)
def test_force_quit_stops_work_on_ios_only(device, scenario, reason):
    d = device(scenario)
    d.window(L.WT_REFRESH if scenario.startswith("ios") else L.WT_JOB)
    d.si[L.I_FORCE_QUIT] = 1  # #50
    assert stop_reason(d.pf, d.sf, d.si) == reason


def test_deep_doze_stops_a_job_but_not_an_exempt_window(device):
    d = device("android_commuter")
    d.si[L.I_DOZE] = L.DZ_DEEP_IDLE
    d.window(L.WT_JOB)
    assert stop_reason(d.pf, d.sf, d.si) == L.END_CONSTRAINT
    d.si[L.I_TEMP_EXEMPT] = 1
    assert stop_reason(d.pf, d.sf, d.si) == L.END_NONE
    d.si[L.I_TEMP_EXEMPT] = 0
    d.window(L.WT_EXPEDITED)
    assert stop_reason(d.pf, d.sf, d.si) == L.END_NONE


def test_android_job_stops_when_its_network_constraint_is_lost(device):
    d = device("android_commuter")
    d.window(L.WT_JOB, net=True)
    assert stop_reason(d.pf, d.sf, d.si) == L.END_NONE
    d.si[L.I_DROP] = 1
    assert stop_reason(d.pf, d.sf, d.si) == L.END_CONSTRAINT


def test_oem_killer_stops_work_once_the_app_was_left_long_enough(device):
    d = device("android_oem_commuter")
    d.window(L.WT_JOB)
    d.sf[L.S_LAST_OPEN] = d.t - 500.0  # oem_recent_open_s 600
    assert stop_reason(d.pf, d.sf, d.si) == L.END_NONE
    d.sf[L.S_LAST_OPEN] = d.t - 700.0
    assert stop_reason(d.pf, d.sf, d.si) == L.END_KILL_OEM
    d.si[L.I_CHARGING] = 1
    assert stop_reason(d.pf, d.sf, d.si) == L.END_NONE


# ---------------------------------------------------------------------------
# What a launch gets
# ---------------------------------------------------------------------------
def test_ios_refresh_budget_at_a_perfect_score_draws_nothing(device):
    d = device("ios_commuter")
    budget = grant_budget(d.pf, d.sf, d.si, d.jobs, d.rng, L.WT_REFRESH, d.t)
    assert budget == 30.0  # #38
    assert d.si[L.I_RNG_DRAWS + SYS] == 0  # no early expiry at score 1


def test_ios_processing_budget_shrinks_with_the_score(device):
    d = device("ios_commuter")
    d.sf[L.S_HIST_B] = 0.5
    budget = grant_budget(d.pf, d.sf, d.si, d.jobs, d.rng, L.WT_PROCESSING, d.t)
    assert budget == 900.0 * (1.0 - 0.5 * (1.0 - 0.5))  # duration_weight 0.5


def test_android_job_budget_is_capped_by_the_quota_left_and_raised_on_the_charger(device):
    d = device("android_commuter")
    d.si[L.I_BUCKET] = L.BK_RARE
    d.execution(d.t - 3000.0, d.t - 2420.0, L.JK_JOB)
    assert grant_budget(d.pf, d.sf, d.si, d.jobs, d.rng, L.WT_JOB, d.t) == 20.0  # #8
    d.si[L.I_CHARGING] = 1
    assert grant_budget(d.pf, d.sf, d.si, d.jobs, d.rng, L.WT_JOB, d.t) == 1800.0  # #15


def test_android_expedited_budget_never_below_its_minimum(device):
    d = device("android_commuter")
    d.execution(d.t - 5000.0, d.t - 3300.0, L.JK_EJ)  # 1700 of 1800 s used (#11)
    assert grant_budget(d.pf, d.sf, d.si, d.jobs, d.rng, L.WT_EXPEDITED, d.t) == 180.0  # #14, #15


def test_android_push_exempts_the_app_from_doze_for_a_while(device):
    d = device("android_commuter")
    grant_exemption(d.pf, d.sf, d.si, L.WT_PUSH, d.t)
    assert d.si[L.I_TEMP_EXEMPT] == 1
    assert d.sf[L.S_TEMP_EXEMPT_UNTIL] == d.t + 300.0  # #27
    ios = device("ios_commuter")
    grant_exemption(ios.pf, ios.sf, ios.si, L.WT_PUSH, ios.t)
    assert ios.si[L.I_TEMP_EXEMPT] == 0


def test_android_job_record_depends_on_screen_and_charger(device):
    d = device("android_commuter")
    record_grant(d.pf, d.si, d.jobs, L.WT_JOB, d.t, False)
    assert d.jobs[0, L.JB_KIND] == L.JK_JOB and d.jobs[0, L.JB_START] == d.t
    d.si[L.I_APP_FG] = 1  # #3: on-screen jobs are not counted before Android 16
    record_grant(d.pf, d.si, d.jobs, L.WT_JOB, d.t + 1.0, False)
    assert d.si[L.I_JOB_HEAD + L.RING_JOBS] == 1
    d.si[L.I_APP_FG] = 0
    d.si[L.I_CHARGING] = 1  # #9: on the charger, tracked against no quota
    record_grant(d.pf, d.si, d.jobs, L.WT_JOB, d.t + 2.0, False)
    assert d.jobs[1, L.JB_KIND] == L.JK_OTHER


def test_a_push_without_notification_is_recorded_as_silent(device):
    d = device("android_commuter")
    record_grant(d.pf, d.si, d.jobs, L.WT_PUSH, d.t, False)
    assert d.jobs[L.NJOB, L.JB_KIND] == L.JK_PUSH_SILENT  # #34, in the counted ring
    record_grant(d.pf, d.si, d.jobs, L.WT_PUSH, d.t, True)
    assert d.jobs[L.NJOB + 1, L.JB_KIND] == L.JK_PUSH


def test_memory_above_the_limit_kills_the_chunk_part_way(device):
    d = device("ios_commuter")
    d.window(L.WT_REFRESH)
    # memory grows from the 25 MB base to 75 MB: it crosses the 50 MB limit (#49) half-way
    fate, end = chunk_fate(d.pf, d.sf, d.si, L.KIND_SYNC, 75.0, d.t, 8.0)
    assert (fate, end) == (L.END_KILL_MEMORY, d.t + 4.0)
    assert chunk_fate(d.pf, d.sf, d.si, L.KIND_SYNC, 45.0, d.t, 8.0) == (L.END_COMPLETE, d.t + 8.0)


def test_ios_cpu_monitor_kills_unplugged_processing_at_high_cpu(device):
    d = device("ios_commuter")
    d.window(L.WT_PROCESSING)
    d.sf[L.S_CPU_UNPLUGGED] = 50.0  # 10 s left of cpu_kill_s 60 (#41)
    assert chunk_fate(d.pf, d.sf, d.si, L.KIND_HEAVY, 30.0, d.t, 100.0) == (L.END_KILL_CPU, d.t + 10.0)
    assert chunk_fate(d.pf, d.sf, d.si, L.KIND_SYNC, 30.0, d.t, 100.0) == (L.END_COMPLETE, d.t + 100.0)  # CPU 0.2
    d.window(L.WT_PROCESSING, power=True)  # requiresExternalPower keeps the monitor off (#40)
    assert chunk_fate(d.pf, d.sf, d.si, L.KIND_HEAVY, 30.0, d.t, 100.0) == (L.END_COMPLETE, d.t + 100.0)


# ---------------------------------------------------------------------------
# Doze (#23-#25)
# ---------------------------------------------------------------------------
def logged(d) -> list[tuple[str, tuple[float, ...]]]:
    """The event records the device logged, as (kind name, payload)."""
    n = int(d.si[L.I_EV_N])
    return [(L.EVENT_SCHEMA[int(r[1])][0], tuple(float(x) for x in r[2:])) for r in d.ev[:n]]


def test_light_doze_counts_from_the_unplug_not_from_the_screen_off(device):
    """The screen went off 2 h ago on the charger; unplugged now, the device becomes
    inactive now: light idle 240 s later (#23), deep idle 3900 s later (#24), as AOSP's
    DeviceIdleController schedules both when the device becomes inactive."""
    d = device("android_commuter")
    d.si[L.I_EV_ON] = 1
    d.sf[L.S_UNPLUG_T] = d.t  # the user unplugs now; screen off since T - 7200
    doze_consider(d.pf, d.sf, d.si, d.ev)
    assert d.si[L.I_DOZE] == L.DZ_LIGHT_PRE
    assert d.sf[L.S_DOZE_NEXT] == d.t + 240.0  # light_after_s, not T - 7200 + 240
    assert d.sf[L.S_DEEP_AT] == d.t + 3900.0
    assert d.sf[L.S_EV + L.EV_DOZE] == d.t + 240.0
    assert logged(d) == [("doze", (float(L.DZ_LIGHT_PRE), 240.0, 0.0, 0.0))]


def test_motion_in_deep_doze_starts_the_light_delay_again_from_the_motion(device):
    d = device("android_commuter")
    d.si[L.I_EV_ON] = 1
    d.si[L.I_DOZE] = L.DZ_DEEP_IDLE  # screen off and still since T - 7200, deep idle since T - 3300
    d.sf[L.S_DOZE_NEXT] = d.t + 300.0
    d.sf[L.S_LAST_MOTION] = d.t  # the phone is picked up (screen stays off)
    doze_wake(d.pf, d.sf, d.si, d.ev)
    assert d.si[L.I_DOZE] == L.DZ_LIGHT_PRE
    assert d.sf[L.S_DOZE_NEXT] == d.t + 240.0
    assert d.sf[L.S_DEEP_AT] == d.t + 3900.0
    assert [k for k, _ in logged(d)] == ["doze", "doze"]  # active, then light_pre for 240 s
    assert logged(d)[1][1][:2] == (float(L.DZ_LIGHT_PRE), 240.0)


# ---------------------------------------------------------------------------
# Submission
# ---------------------------------------------------------------------------
def test_refusals_at_submission(device):
    ios = device("ios_commuter")
    assert submit_refusal(ios.pf, ios.sf, ios.si, L.WT_REFRESH, 0.0, 0.0) == L.REFUSE_NONE
    ios.si[L.I_BAR_OFF] = 1
    assert submit_refusal(ios.pf, ios.sf, ios.si, L.WT_REFRESH, 0.0, 0.0) == L.REFUSE_UNAVAILABLE  # #44
    d = device("android_commuter")
    assert submit_refusal(d.pf, d.sf, d.si, L.WT_EXPEDITED, 60.0, 0.0) == L.REFUSE_INVALID  # #14: no delay
    assert submit_refusal(d.pf, d.sf, d.si, L.WT_EXPEDITED, 0.0, 1.0) == L.REFUSE_INVALID  # ... nor power
    assert submit_refusal(d.pf, d.sf, d.si, L.WT_FGS, 0.0, 0.0) == L.REFUSE_BACKGROUND  # #37: left 3000 s ago
    d.si[L.I_APP_FG] = 1
    assert submit_refusal(d.pf, d.sf, d.si, L.WT_FGS, 0.0, 0.0) == L.REFUSE_NONE


def test_android_schedule_calls_are_limited_per_minute(device):
    d = device("android_commuter")
    d.sf[L.S_SCHED_WIN_T] = d.t
    limit = int(d.sc.profile.android.schedule_per_minute)  # #22
    got = [submit_refusal(d.pf, d.sf, d.si, L.WT_JOB, 0.0, 0.0) for _ in range(limit + 1)]
    assert got[:limit] == [L.REFUSE_NONE] * limit
    assert got[limit] == L.REFUSE_RATE
