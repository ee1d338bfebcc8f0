"""Observed behaviour developers complain about (the list at the end of PLATFORM_FACTS.md,
rows O1-O9): how often iOS tasks fire, processing only on the charger, kills and early
expiries, periodic work stalling in Doze, OEM battery killers, hard timeouts, raised
periodic intervals and push downgrades. Several reuse the numbered rows' experiments.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np

from bgenv.eventlog import H, end_time, windows
from bgenv.fidelity.analysis import fmt_s
from bgenv.fidelity.android_job_rules import periodic_run
from bgenv.fidelity.android_push_alarms import push_downgrade_without_notification
from bgenv.fidelity.android_quotas import expedited_request_rules, per_job_run_time
from bgenv.fidelity.ios_gates import force_quit_stops_tasks, jetsam_memory_kills
from bgenv.fidelity.ios_processing import processing_cpu_monitor, processing_power_share
from bgenv.fidelity.ios_refresh import refresh_run_time
from bgenv.fidelity.measurement import MODELLED, Measurement, agrees
from bgenv.fidelity.policies import keeper
from bgenv.fidelity.scenarios import ENDLESS_HEAVY, HOMOGENEOUS, make_env
from bgenv.registration import env_id_for
from bgenv.rollout import rollout


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
@functools.cache
def refresh_per_day(scenario: str, delay_s: float = 0.0, days: float = 7.0, seeds: int = 8) -> float:
    """Refresh windows per day for an app that keeps a refresh request pending (submitted
    with an earliest begin ``delay_s`` ahead) and reports completion at once, averaged over
    ``seeds`` weeks (one week gives ~20 windows: too few for a rate)."""
    env = gym.make(
        env_id_for(scenario), scenario=scenario, record_events=True, horizon_days=days, heterogeneity=HOMOGENEOUS
    ).unwrapped
    n = sum(rollout(env, keeper(env, "refresh", delay_s=delay_s), s).metrics["windows_refresh"] for s in range(seeds))
    return n / (days * seeds)


@functools.cache
def oem_run(profile: str) -> dict[str, Any]:
    """The commuter on ``profile`` over 2 days, a job kept pending and worked until it
    ends: windows, jobs started unplugged over 10 min after the app was left, OEM kills."""
    env = make_env(profile, horizon_days=2.0, user={"force_quit_prob": 0.0}, workload=ENDLESS_HEAVY)
    rollout(env, keeper(env, "job", work=("heavy", 20.0)), 0)
    ws = windows(env.events, end_time(env))
    return {
        "windows": len(ws),
        "unplugged_long_after_open": sum(
            1 for w in ws if not w.state.charging and not w.state.foreground and w.start_s - w.state.last_open > 600.0
        ),
        "oem_kills": sum(1 for w in ws if w.reason == "oem"),
    }


# ---------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------
def ios_refresh_windows_per_day() -> Measurement:
    """O1: refresh windows per day over 7 days with a refresh always pending, for the
    commuter (with and without a 15-min earliest begin) and the rare user."""
    d = {
        "ios_commuter": refresh_per_day("ios_commuter"),
        "ios_commuter_15_min_floor": refresh_per_day("ios_commuter", 900.0),
        "ios_rare": refresh_per_day("ios_rare"),
    }
    ok = d["ios_commuter"] <= 3.0
    value = (
        f"a refresh always pending, 7 days: commuter (8 opens/day) {d['ios_commuter']:.1f} windows/day "
        f"({d['ios_commuter_15_min_floor']:.1f} with a 15-min earliest begin), rare user {d['ios_rare']:.1f}/day"
    )
    return Measurement(value, d, agrees(ok))


def processing_mostly_on_the_charger() -> Measurement:
    """O2: processing windows without requiresExternalPower at the default launch rate in
    3 days, and the share of them on the charger."""
    d = processing_power_share("processing", False)
    ok = d["share_on_charger"] >= 0.9 if d["windows"] else True
    value = (
        f"requiresExternalPower = NO, default launch rate: {d['windows']} window(s) in 3 days, "
        f"{d['share_on_charger']:.0%} on the charger"
    )
    return Measurement(value, d, agrees(ok))


def cpu_kills_and_early_expiry() -> Measurement:
    """O3: when processing is CPU-killed (s) and when refresh windows expire early (s),
    from rows 41 and 38."""
    cpu, refresh = processing_cpu_monitor(), refresh_run_time()
    d = {"cpu_kill_after_s": cpu.data["kill_after_s"], "early_refresh_expiry_s": refresh.data["early_range_s"]}
    ok = cpu.status == MODELLED and refresh.status == MODELLED
    value = f"processing CPU-killed after {d['cpu_kill_after_s'][0]:g} s; early refresh expiries at " + (
        f"{d['early_refresh_expiry_s'][0]:.1f}-{d['early_refresh_expiry_s'][1]:.1f} s (rows 41, 38)"
    )
    return Measurement(value, d, agrees(ok))


def memory_kills_and_force_quit() -> Measurement:
    """O4: jetsam kills and windows after a force-quit (count), from rows 49 and 50."""
    mem, fq = jetsam_memory_kills(), force_quit_stops_tasks()
    d = {"memory": mem.data, "force_quit": fq.data}
    ok = mem.status == MODELLED and fq.status == MODELLED
    value = (
        f"jetsam at 50 MB with no expiration callback; after a force-quit {fq.data['grants_after_quit']} windows "
        "until the next open (rows 49, 50)"
    )
    return Measurement(value, d, agrees(ok))


def periodic_gaps_in_doze() -> Measurement:
    """O5: the gaps over 30 min (h) between runs of a 15-min periodic job on a phone left
    still and unplugged for 24 h."""
    r = periodic_run(interval_s=900.0, awake=False, hours=24.0)
    gaps = [round(float(g) / H, 2) for g in np.diff(r["grants"])]
    long_gaps = [g for g in gaps if g > 0.5]
    d = {"runs": len(r["grants"]), "gaps_over_30_min_h": long_gaps}
    ok = len(long_gaps) >= 3 and long_gaps[:3] == sorted(long_gaps[:3]) and long_gaps[0] >= 1.0
    value = (
        f"15-min periodic job on a phone left still, unplugged: {len(r['grants'])} runs in 24 h, gaps of "
        f"{', '.join(f'{g:.1f}' for g in long_gaps)} h"
    )
    return Measurement(value, d, agrees(ok))


def oem_killer_stops_jobs() -> Measurement:
    """O6: jobs killed by the OEM battery killer and jobs started unplugged over 10 min
    after the app was left (count), aggressive-OEM against stock profile."""
    d = {"android": oem_run("android"), "android-aggressive-oem": oem_run("android-aggressive-oem")}
    oem = d["android-aggressive-oem"]
    ok = oem["unplugged_long_after_open"] == 0 and oem["oem_kills"] > 0
    ok &= d["android"]["unplugged_long_after_open"] > 0 and d["android"]["oem_kills"] == 0
    value = (
        f"android-aggressive-oem: {oem['oem_kills']} jobs killed 10 min after the app was left, no job started "
        f"unplugged later than that (stock profile: {d['android']['unplugged_long_after_open']} such jobs)"
    )
    return Measurement(value, d, agrees(ok))


def hard_job_timeouts() -> Measurement:
    """O7: the run time (s) at which regular jobs are stopped and the longest expedited
    budget (s), from rows 15 and 14."""
    d = {
        "job_timeout_s": per_job_run_time().data["job_longest_unplugged_s"],
        "expedited_max_s": expedited_request_rules().data["max_budget_s"],
    }
    ok = d["job_timeout_s"] == 600.0 and d["expedited_max_s"] <= 330.0
    value = (
        f"regular jobs stopped at {fmt_s(d['job_timeout_s'])}; expedited jobs run up to "
        f"{fmt_s(d['expedited_max_s'])} while their quota lasts (observed: cut at ~5 min)"
    )
    return Measurement(value, d, agrees(ok))


def short_periodic_interval_raised() -> Measurement:
    """O8: the spacing (min) and runs in 6 h of a periodic request asking for a 0-s interval."""
    r = periodic_run(interval_s=0.0)
    gaps = np.diff(r["grants"])
    d = {"first_earliest_s": r["first_earliest_s"], "median_gap_s": float(np.median(gaps)), "runs_in_6h": len(gaps) + 1}
    ok = d["first_earliest_s"] == 600.0 and 840.0 <= d["median_gap_s"] <= 960.0
    value = f"a 0-s periodic request runs every {d['median_gap_s'] / 60:.0f} min ({d['runs_in_6h']} runs in 6 h)"
    return Measurement(value, d, agrees(ok))


def push_downgraded_silently() -> Measurement:
    """O9: row 34's measurement (high-priority pushes before the downgrade)."""
    m = push_downgrade_without_notification()
    return Measurement(m.value + " (row 34)", m.data, m.status)
