"""Android job quotas (PLATFORM_FACTS rows 1-15): job time per standby bucket, counts,
the rate limit, the charger, the Restricted bucket, expedited jobs and run times.

The runs keep a job (or expedited job) request pending on a phone lying unplugged and
untouched in one bucket (:func:`bgenv.fidelity.scenarios.quiet_android`) and read the
windows the OS granted from the event log.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

from bgenv.config import ConfigError, load_scenario
from bgenv.eventlog import DAY, H, Window, end_time, windows
from bgenv.fidelity.analysis import fmt_s, intervals, max_rolling_count, max_rolling_sessions, max_rolling_time
from bgenv.fidelity.measurement import DIFFERS, MODELLED, PARTIAL, Measurement, agrees
from bgenv.fidelity.policies import first_submission, keeper
from bgenv.fidelity.scenarios import BUCKET_HOURS, CHARGING_NIGHT, FAST_JOBS, ONE_24, make_env, quiet_android
from bgenv.rollout import rollout

# The job-quota window of each bucket, h (14/15 and 16)
QUOTA_WINDOW_H = {
    "android": {"active": 0.0, "working_set": 2.0, "frequent": 8.0, "rare": 24.0},
    "android-16": {"active": 1.0, "working_set": 4.0, "frequent": 12.0, "rare": 24.0},
}
# The job-count window of each bucket, h, and the documented counts (rows 5, 6)
COUNT_WINDOW_H = {"active": 1.0 / 6.0, "working_set": 2.0, "frequent": 8.0, "rare": 24.0, "restricted": 24.0}
DOC_JOB_COUNT = {"active": 75, "working_set": 120, "frequent": 200, "rare": 48, "restricted": 10}
DOC_SESSION_COUNT = {"active": 75, "working_set": 10, "frequent": 8, "rare": 3, "restricted": 1}
PACED_JOB_S = 4.0  # row 5's paced jobs: 15 a minute (< 20, row 7), 4 s apart (< 5 s: one session, row 6)
# The documented expedited-job quota per 24 h, s (row 11)
EJ_QUOTA_DOC = {"active": 1800.0, "working_set": 1800.0, "frequent": 600.0, "rare": 600.0, "restricted": 300.0}


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
@functools.cache
def job_run(
    profile: str = "android",
    bucket: str = "rare",
    *,
    hours: float | None = None,
    long_jobs: bool = True,
    fast: bool = False,
    charging: bool = False,
    label: str = "job",
    screen_per_h: float = 0.0,
    spacing_s: float = 0.0,
    seed: int = 0,
) -> tuple[Window, ...]:
    """Windows of a run that keeps a ``label`` request pending all the time, in ``bucket``,
    unplugged (or charging all night, from 00:00). ``long_jobs``: each window works in
    20-unit heavy chunks until it ends (a first job request waits 1 h for work to
    arrive); else it reports completion at once. ``fast``: jobs start ~0.1 s after they
    may. ``spacing_s``: each request is submitted with this earliest-begin delay (an
    extra delay bin). ``screen_per_h``: the user turns the screen on for other apps this
    often."""
    hours = BUCKET_HOURS[bucket] if hours is None else hours
    extra: dict[str, Any] = {}
    user: dict[str, Any] = {"screen_sessions_per_hour": [screen_per_h] * 24}
    if charging:
        user.update(CHARGING_NIGHT)
        extra["start_hour"] = 0.0
    if spacing_s > 0.0:
        extra["actions"] = {"delay_bins_s": [0.0, spacing_s, 60.0, 3600.0]}
    env = quiet_android(profile, bucket=bucket, hours=hours, user=user, windows=FAST_JOBS if fast else None, **extra)
    work = ("heavy", 20.0) if long_jobs else None
    first = 3600.0 if long_jobs and label.startswith("job") else None  # expedited: no delay (row 14)
    rollout(env, keeper(env, label, delay_s=spacing_s, first_delay_s=first, work=work), seed)
    return tuple(windows(env.events, end_time(env)))


def job_quota_use(profile: str, bucket: str) -> dict[str, Any]:
    """Job time (s) and sessions inside the rolling quota window of ``bucket`` (any 2 h
    for Active) of the long-jobs :func:`job_run`, and in twice that window."""
    ws = job_run(profile, bucket)
    iv = intervals(ws, "job")
    w = QUOTA_WINDOW_H[profile][bucket] * H or 2 * H  # active: look at any 2 h
    return {
        "window_h": w / H,
        "max_in_window_s": max_rolling_time(iv, w),
        "max_in_2_windows_s": max_rolling_time(iv, 2 * w),
        "max_sessions_in_window": max_rolling_sessions(iv, w, 5.0),
        "max_budget_s": max(x.budget_s for x in ws),
        "buckets": sorted({x.bucket for x in ws}),
        "jobs": len(iv),
    }


@functools.cache
def foreground_run(profile: str) -> tuple[Window, ...]:
    """The app on screen most of the time (10 h sessions), Active bucket, a job kept
    pending and worked until it ends."""
    env = quiet_android(
        profile,
        bucket="active",
        hours=8.0,
        user={"app_opens_per_hour": ONE_24, "app_session_mean_s": 36000.0, "session_min_s": 10.0},
    )
    rollout(env, keeper(env, "job", first_delay_s=3600.0, work=("heavy", 20.0)), 0)
    return tuple(windows(env.events, end_time(env)))


def job_counts(bucket: str, fast: bool, spacing_s: float = 0.0) -> dict[str, Any]:
    """Jobs and sessions inside the rolling count window of ``bucket`` and jobs in any
    60 s, for jobs that report completion at once (``fast``: ~0.1 s after they may;
    ``spacing_s``: each asked for that long after the last)."""
    hours = 1.0 if bucket == "active" else None
    restricted = bucket == "restricted"
    ws = job_run("android", bucket, hours=hours, long_jobs=False, fast=fast, charging=restricted, spacing_s=spacing_s)
    iv = intervals(ws, "job")
    w = COUNT_WINDOW_H[bucket] * H
    return {
        "jobs": len(iv),
        "max_jobs_in_window": max_rolling_count([s for s, _ in iv], w),
        "max_sessions_in_window": max_rolling_sessions(iv, w, 5.0),
        "max_jobs_per_minute": max_rolling_count([s for s, _ in iv], 60.0),
    }


def quota_left_at_grants(ws: Sequence[Window], w: float, quota: float) -> list[float]:
    """Job quota (s) left at each job grant: ``quota`` minus the job time in the ``w``
    seconds before it."""
    iv = intervals(ws, "job")
    out = []
    for i, (s, _) in enumerate(iv):
        used = sum(max(0.0, min(e, s) - max(a, s - w)) for a, e in iv[:i])
        out.append(quota - used)
    return out


def expedited_use(profile: str, bucket: str, screen_per_h: float = 0.0) -> dict[str, Any]:
    """Expedited time (s), windows and budgets in 6 h of endless expedited requests, and
    the regular jobs they fell back to."""
    ws = job_run(profile, bucket, label="expedited", screen_per_h=screen_per_h, hours=6.0)
    ej = [w for w in ws if w.type == "expedited"]
    return {
        "ej_s": sum(w.length_s for w in ej),
        "ej_windows": len(ej),
        "ej_budgets_s": [round(w.budget_s, 3) for w in ej if w.length_s > 0.0],
        "regular_after": sum(1 for w in ws if w.type == "job"),
        "regular_s": sum(w.length_s for w in ws if w.type == "job"),
    }


def expedited_budgets() -> list[float]:
    """Budgets (s) of every expedited window of :func:`expedited_use` over the buckets."""
    return [b for bk in EJ_QUOTA_DOC for b in expedited_use("android", bk)["ej_budgets_s"]]


# ---------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------
def job_time_quota_per_bucket() -> Measurement:
    """Row 1: the most job time (s) inside any rolling quota window of each bucket
    (Working 2 h, Frequent 8 h, Rare 24 h; Active: any 2 h), endless long jobs."""
    d = {b: job_quota_use("android", b) for b in ("active", "working_set", "frequent", "rare")}
    ok = d["active"]["max_in_window_s"] > 3000.0
    for b in ("working_set", "frequent", "rare"):
        ok &= 570.0 <= d[b]["max_in_window_s"] <= 600.0 + 1e-6 and d[b]["max_in_2_windows_s"] > 700.0
    short = {"working_set": "working 2 h", "frequent": "frequent 8 h", "rare": "rare 24 h"}
    value = "; ".join(f"{short[b]}: ≤ {fmt_s(d[b]['max_in_window_s'])}" for b in short)
    value += f"; active: {fmt_s(d['active']['max_in_window_s'])} in 2 h (unlimited)"
    return Measurement(value, d, agrees(ok))


def android16_quota_windows() -> Measurement:
    """Row 2: the most job time (s) inside Android 16's quota windows (Active 60 min,
    Working 4 h, Frequent 12 h), on 16 and on 14/15."""
    d = {p: {b: job_quota_use(p, b) for b in ("active", "working_set", "frequent")} for p in ("android-16", "android")}
    a16, a15 = d["android-16"], d["android"]
    ok = 1140.0 <= a16["active"]["max_in_window_s"] <= 1200.0 + 1e-6 and a15["active"]["max_in_window_s"] > 1200.0
    for b in ("working_set", "frequent"):
        w = QUOTA_WINDOW_H["android-16"][b] * H
        d["android"][b]["max_in_16_window_s"] = max_rolling_time(intervals(job_run("android", b), "job"), w)
        ok &= 570.0 <= a16[b]["max_in_window_s"] <= 600.0 + 1e-6 < d["android"][b]["max_in_16_window_s"]
    value = (
        f"16: active ≤ {fmt_s(a16['active']['max_in_window_s'])}/60 min, working ≤ "
        f"{fmt_s(a16['working_set']['max_in_window_s'])}/4 h, frequent ≤ {fmt_s(a16['frequent']['max_in_window_s'])}"
        f"/12 h (14/15 in the same windows: {fmt_s(a15['active']['max_in_window_s'])}, "
        f"{fmt_s(a15['working_set']['max_in_16_window_s'])}, {fmt_s(a15['frequent']['max_in_16_window_s'])})"
    )
    return Measurement(value, d, agrees(ok))


def on_screen_job_time() -> Measurement:
    """Row 3: job time (s) per 60 min of jobs started while the app was on screen, on
    14/15 (not counted against the quota) and on 16 (counted)."""
    d = {}
    for p in ("android", "android-16"):
        ws = foreground_run(p)
        fg = intervals([w for w in ws if w.state.foreground], "job")
        d[p] = {"fg_jobs": len(fg), "max_fg_job_s_per_h": max_rolling_time(fg, H)}
    ok = d["android"]["max_fg_job_s_per_h"] > 1500.0 and d["android-16"]["max_fg_job_s_per_h"] <= 1200.0 + 1e-6
    value = (
        f"jobs started on screen, job time per 60 min: 14/15 {fmt_s(d['android']['max_fg_job_s_per_h'])} "
        f"(not counted), 16 {fmt_s(d['android-16']['max_fg_job_s_per_h'])} (counted: Active 20 min/60 min); "
        "jobs alongside a foreground service not modelled (one window at a time)"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


def total_job_time_cap() -> Measurement:
    """Row 4: job and expedited time (s) in any 24 h of an Active app with endless jobs."""
    ws = job_run("android", "active", hours=12.0)
    iv = intervals(ws, "job", "expedited")
    total = sum(e - s for s, e in iv)
    d = {"job_s_in_12h": total, "max_in_24h_s": max_rolling_time(iv, DAY), "last_end_h": (iv[-1][1] - iv[0][0]) / H}
    ok = 14370.0 <= d["max_in_24h_s"] <= 14400.0 + 1e-6
    return Measurement(f"Active app, endless jobs: {fmt_s(d['max_in_24h_s'])} in 24 h, then none", d, agrees(ok))


def job_count_per_window() -> Measurement:
    """Row 5: the most jobs started inside any rolling count window of each bucket, for
    jobs reporting completion at once, one at a time: ~4 s apart (under the 20/min rate
    limit of row 7 and within the 5 s that merge jobs into one session, row 6, so only
    the job count limits them) and ~0.1 s apart (the rate limit splits them into
    sessions, and the session count stops them first)."""
    d: dict[str, Any] = {b: job_counts(b, fast=True, spacing_s=PACED_JOB_S) for b in DOC_JOB_COUNT}
    d["fast"] = {b: job_counts(b, fast=True) for b in DOC_JOB_COUNT}
    counts = {b: d[b]["max_jobs_in_window"] for b in DOC_JOB_COUNT}
    ok = all(counts[b] == DOC_JOB_COUNT[b] for b in DOC_JOB_COUNT if b != "restricted")
    value = (
        "jobs one at a time, ~4 s apart (one session): "
        + ", ".join(f"{b} {counts[b]}" for b in DOC_JOB_COUNT)
        + " per count window. Restricted's one session a day (row 6) counts once its first job ends, "
        "so its other 9 jobs would have to run alongside that one: bgenv runs one window at a time "
        "(no concurrent jobs). ~0.1 s apart, the 20/min rate limit (row 7) splits jobs into sessions and "
        "the session count stops them first: "
        + ", ".join(f"{b} {d['fast'][b]['max_jobs_in_window']}" for b in DOC_JOB_COUNT)
    )
    return Measurement(value, d, PARTIAL if ok and counts["restricted"] == 1 else DIFFERS)


def session_count_per_window() -> Measurement:
    """Row 6: the most job sessions (jobs < 5 s apart merge) inside any rolling count
    window of each bucket but Active."""
    d: dict[str, Any] = {b: job_counts(b, fast=False) for b in DOC_SESSION_COUNT if b != "active"}
    d["rare_long_jobs"] = job_quota_use("android", "rare")["max_sessions_in_window"]
    ok = all(d[b]["max_sessions_in_window"] == DOC_SESSION_COUNT[b] for b in d if b != "rare_long_jobs")
    ok &= d["rare_long_jobs"] == 3
    value = ", ".join(f"{b} {d[b]['max_sessions_in_window']}" for b in DOC_SESSION_COUNT if b != "active")
    value += " per window; active: per 10-min window (see row 5)"
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


def jobs_per_minute() -> Measurement:
    """Row 7: the most jobs started in any 60 s (jobs ~0.1 s apart), per bucket."""
    d = {b: job_counts(b, fast=True)["max_jobs_per_minute"] for b in ("active", "working_set", "rare")}
    ok = all(v == 20 for v in d.values())
    return Measurement(f"at most {max(d.values())} jobs in any 60 s (jobs ~0.1 s apart, every bucket)", d, agrees(ok))


def quota_left_when_jobs_resume() -> Measurement:
    """Row 8: the least job quota (s) left when a job of the Working bucket starts after
    the quota ran low."""
    ws = job_run("android", "working_set", fast=True)
    left = quota_left_at_grants(ws, 2 * H, 600.0)
    resumed = [x for x in left if x < 600.0 - 1e-6]
    d = {"grants": len(left), "resumed": len(resumed), "min_left_s": min(resumed) if resumed else math.nan}
    ok = bool(resumed) and 30.0 <= d["min_left_s"] < 31.0
    return Measurement(f"jobs resume with ≥ {d['min_left_s']:.1f} s of quota left (working bucket)", d, agrees(ok))


def job_time_on_the_charger() -> Measurement:
    """Row 9: job time (s) of a Rare app in 7 h on the charger and in the 17 h after
    unplugging (whether charger time counts against the quota)."""
    ws = job_run("android", "rare", charging=True, hours=24.0)  # on the charger 00:00-07:00, then not
    on = [w for w in ws if w.state.charging]
    off = [w for w in ws if not w.state.charging]
    d = {
        "job_s_charging": sum(w.length_s for w in on),
        "job_s_after_unplug": sum(w.length_s for w in off),
        "budgets_charging_s": sorted({round(w.budget_s, 3) for w in on}),
        "sessions_charging": max_rolling_sessions(intervals(on), DAY, 5.0),
    }
    waived = d["job_s_charging"] > 3600.0
    counted = d["job_s_after_unplug"] < 570.0  # AOSP does not count time on the charger (Timer.shouldTrackLocked)
    value = (
        f"rare bucket: {fmt_s(d['job_s_charging'])} of jobs in 7 h on the charger; after unplugging, "
        f"{fmt_s(d['job_s_after_unplug'])} in 17 h "
        + ("(charger time counted against the quota)" if counted else "(charger time not counted, as in AOSP)")
    )
    return Measurement(value, d, DIFFERS if counted or not waived else MODELLED)


def restricted_bucket_jobs() -> Measurement:
    """Row 10: jobs of a Restricted app unplugged and on the charger: count, when the
    first starts (s after 00:00), sessions and job time (s) in 24 h."""
    charging = job_run("android", "restricted", charging=True)
    unplugged = job_run("android", "restricted", hours=24.0)
    iv = intervals(charging, "job")
    d = {
        "unplugged_jobs": len(intervals(unplugged, "job")),
        "charging_jobs": len(iv),
        "first_job_s": iv[0][0] if iv else math.nan,  # t0 = 00:00, screen off since t0
        "max_job_s_in_24h": max_rolling_time(iv, DAY),
        "max_sessions_in_24h": max_rolling_sessions(iv, DAY, 5.0),
        "budgets_s": sorted({round(w.budget_s, 3) for w in charging}),
    }
    rules = d["unplugged_jobs"] == 0 and d["charging_jobs"] >= 1 and d["max_sessions_in_24h"] <= 1
    rules &= d["first_job_s"] >= 4260.0  # idle: screen off for idle_after_screen_off_s
    quota = d["max_job_s_in_24h"] <= 600.0 + 1e-6
    value = (
        f"restricted: no jobs unplugged; on the charger only after idle, {d['max_sessions_in_24h']} session, "
        f"{fmt_s(d['max_job_s_in_24h'])} of jobs in 24 h (granted budget {fmt_s(max(d['budgets_s'], default=0))})"
    )
    return Measurement(value, d, MODELLED if rules and quota else DIFFERS)


def expedited_quota_per_bucket() -> Measurement:
    """Row 11: expedited time (s) in 6 h of endless expedited requests, per bucket (and
    Working on Android 16)."""
    d = {b: expedited_use("android", b) for b in EJ_QUOTA_DOC}
    d["android-16 working_set"] = expedited_use("android-16", "working_set")
    ok = all(abs(d[b]["ej_s"] - q) < 1.0 for b, q in EJ_QUOTA_DOC.items())
    ok &= abs(d["android-16 working_set"]["ej_s"] - 900.0) < 1.0
    value = ", ".join(f"{b.replace('_set', '')} {fmt_s(d[b]['ej_s'])}" for b in EJ_QUOTA_DOC)
    value += f"; 16 working {fmt_s(d['android-16 working_set']['ej_s'])} (expedited time in 6 h, endless requests)"
    return Measurement(value, d, agrees(ok))


def expedited_quota_refill() -> Measurement:
    """Row 12: expedited time (s) in 6 h of a Rare app never opened, with and without
    other apps on screen (whether their screen time refills the quota)."""
    quiet = expedited_use("android", "rare")
    screen = expedited_use("android", "rare", screen_per_h=4.0)
    d = {"ej_s_no_screen": quiet["ej_s"], "ej_s_other_apps_on_screen": screen["ej_s"]}
    value = (
        f"rare app never opened: {fmt_s(d['ej_s_no_screen'])} of expedited time in 6 h; with the screen on for "
        f"other apps ~4×/h: {fmt_s(d['ej_s_other_apps_on_screen'])}"
    )
    differs = d["ej_s_other_apps_on_screen"] > d["ej_s_no_screen"] + 1.0
    value += " (other apps' screen time credited)" if differs else " (only the app's own time on top earns quota)"
    return Measurement(value, d, DIFFERS if differs else MODELLED)


def expedited_past_quota() -> Measurement:
    """Row 13: regular jobs (count, s) that expedited requests became once the expedited
    quota ran out, Active and Rare."""
    d = {b: expedited_use("android", b) for b in ("active", "rare")}
    ok = d["active"]["regular_after"] > 0 and abs(d["active"]["ej_s"] - 1800.0) < 1.0
    ok &= d["rare"]["regular_after"] > 0 and d["rare"]["regular_s"] <= 600.0 + 1e-6
    value = (
        f"expedited requests past the quota run as regular jobs: active {d['active']['regular_after']} jobs "
        f"({fmt_s(d['active']['regular_s'])}), rare {d['rare']['regular_after']} ({fmt_s(d['rare']['regular_s'])}, "
        "within the rare job quota)"
    )
    return Measurement(value, d, agrees(ok))


def expedited_request_rules() -> Measurement:
    """Row 14: what the OS makes of expedited requests with a delay, a power constraint
    or a period, and the budgets (s) it grants them."""
    env = quiet_android(hours=2.0)
    delayed = first_submission(env, "expedited", 60.0)
    prompt = first_submission(env, "expedited", 0.0)
    env_power = make_env(
        "android",
        horizon_days=2.0 / 24.0,
        profile={"request_options": [{"type": "expedited", "requires_power": True}, {"type": "job"}]},
    )
    power = first_submission(env_power, "expedited+power", 0.0)
    try:
        load_scenario("android_commuter", profile={"request_options": [{"type": "expedited", "periodic": True}]})
        periodic = "accepted"
    except ConfigError:
        periodic = "config error"
    budgets = expedited_budgets()
    d = {
        "with_delay": (delayed["kind"], delayed.get("reason")),
        "no_delay": (prompt["kind"], prompt.get("reason")),
        "with_power": (power["kind"], power.get("reason")),
        "periodic": periodic,
        "min_budget_s": min(budgets),
        "max_budget_s": max(budgets),
    }
    ok = d["with_delay"] == ("refused", "invalid") and d["with_power"] == ("refused", "invalid")
    ok &= d["no_delay"] == ("request", None) and periodic == "config error" and d["min_budget_s"] >= 180.0
    value = (
        f"with a delay or a power constraint: refused ({delayed.get('reason')}); periodic: {periodic}; "
        f"budgets granted {fmt_s(d['min_budget_s'])}-{fmt_s(d['max_budget_s'])}"
    )
    return Measurement(value, d, agrees(ok))


def per_job_run_time() -> Measurement:
    """Row 15: the budget and longest run (s) of a regular job unplugged and on the
    charger, and the least expedited budget (s)."""
    unplugged = job_run("android", "active")
    charging = job_run("android", "rare", charging=True, hours=24.0)
    d = {
        "job_budget_unplugged_s": max(w.budget_s for w in unplugged if w.type == "job"),
        "job_longest_unplugged_s": max(w.length_s for w in unplugged if w.type == "job"),
        "job_budget_charging_s": max(w.budget_s for w in charging if w.state.charging),
        "job_longest_charging_s": max(w.length_s for w in charging if w.state.charging),
        "ej_min_budget_s": min(expedited_budgets()),
    }
    ok = d["job_budget_unplugged_s"] == 600.0 and d["job_longest_unplugged_s"] == 600.0
    ok &= d["job_budget_charging_s"] == 1800.0 and d["ej_min_budget_s"] >= 180.0
    value = (
        f"regular job stopped at {fmt_s(d['job_longest_unplugged_s'])} unplugged, "
        f"{fmt_s(d['job_longest_charging_s'])} on the charger; expedited ≥ {fmt_s(d['ej_min_budget_s'])}; "
        "no job priorities (high-priority 5 min not modelled)"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)
