"""Android push messages, alarms and foreground services (PLATFORM_FACTS rows 27-29,
33, 34, 37, 51, 55, 57, 59): the Doze exemption a high-priority push opens, the
exact-alarm permission and what an alarm is without it, alarm limits per bucket and in
Doze, the inexact delivery window, push caps and downgrades, and foreground-service
starts and timeouts.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from bgenv.config import load_scenario
from bgenv.envs.actions import ActionTable
from bgenv.eventlog import DAY, H, Window, end_time, of_kind, windows
from bgenv.fidelity.analysis import max_rolling_count
from bgenv.fidelity.measurement import DIFFERS, MODELLED, PARTIAL, Measurement, agrees
from bgenv.fidelity.policies import backlog, feature, keeper
from bgenv.fidelity.scenarios import COMMUTER, PACED_ALARMS, quiet_android
from bgenv.rollout import rollout

# The documented exact alarms per hour by bucket (Restricted: per 24 h), row 28
ALARM_DOC = {"active": 720, "working_set": 10, "frequent": 2, "rare": 1, "restricted": 1}
# The documented high-priority pushes per day by bucket, row 33
PUSH_CAP_DOC = {"frequent": 10, "rare": 5, "restricted": 5}
# Allow-while-idle alarms per rolling hour in Doze, row 55: exact (with the permission), inexact
DOZE_ALARMS_DOC = {"exact": 72, "inexact": 7}
# Inexact delivery window, row 59: 75 % of the delay, at most 1 h, none below 10 s
INEXACT_FRACTION, INEXACT_MAX_S, INEXACT_MIN_S = 0.75, 3600.0, 10.0
LAUNCH_S = 2.0  # an alarm due now is launched within this (launch rate 36000/h: ~0.1 s on average)


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
@functools.cache
def push_exemption_run(job_delay_s: float) -> dict[str, Any]:
    """Still phone, Doze on: a high-priority push (with a notification) arrives 4 h after
    t0, deep in Doze; its window schedules a job+network ``job_delay_s`` later. The Doze
    state at the push and at the job, and the time between them (s)."""
    env = quiet_android(hours=10.0, doze=True, user={"last_open_ago_s": 600.0})
    table = ActionTable.from_env(env)
    push, job = table.option("push+notification"), table.option("job+network")

    def policy(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        if info["phase"] == "background":
            return [push, table.delay(14400.0), 0, 0]
        if feature(env, obs, "window_push") > 0.5:
            return [job, table.delay(job_delay_s), 0, 0]
        return [0, 0, 0, 0]

    rollout(env, policy, 0)
    ws = windows(env.events, end_time(env))
    p = next(w for w in ws if w.type == "push")
    j = next((w for w in ws if w.type == "job"), None)
    return {
        "doze_at_push": p.state.doze,
        "job_after_push_s": (j.start_s - p.start_s) if j else math.nan,
        "doze_at_job": j.state.doze if j else None,
    }


@functools.cache
def alarm_run(
    bucket: str, hours: float, doze: bool = False, paced: bool = True, exact: bool = False
) -> tuple[tuple[Window, ...], int]:
    """Alarm windows of a run that keeps an alarm pending (each completes at once), and
    how many alarm requests were refused by the schedule() rate limit. ``exact``: the
    app holds SCHEDULE_EXACT_ALARM (row 51); otherwise its alarms are inexact."""
    env = quiet_android(
        bucket=bucket,
        hours=hours,
        doze=doze,
        windows=PACED_ALARMS if paced else None,
        android={"exact_alarm_permission": exact},
    )
    rollout(env, keeper(env, "alarm"), 0)
    limited = sum(1 for e in of_kind(env.events, "refused") if e["reason"] == "rate_limited")
    return tuple(w for w in windows(env.events, end_time(env)) if w.type == "alarm"), limited


@functools.cache
def alarm_lateness_run(delay_s: float, hours: float, exact: bool = False) -> tuple[float, ...]:
    """How late (s) each alarm of a run that re-arms an alarm ``delay_s`` ahead at every
    decision was delivered after its trigger time (request time + delay); Doze off and
    the bucket's alarm limit lifted, so only the delivery window delays it."""
    no_limit = [1e6] * 5
    env = quiet_android(hours=hours, android={"exact_alarm_permission": exact, "alarms_per_window": no_limit})
    rollout(env, keeper(env, "alarm", delay_s=delay_s), 0)
    evs = [e for e in of_kind(env.events, "request", "grant") if e["type"] == "alarm"]
    late, trigger = [], None
    for e in evs:
        if e["kind"] == "request":
            trigger = e["t"] + delay_s
        elif trigger is not None:
            late.append(e["t"] - trigger)
            trigger = None
    return tuple(late)


@functools.cache
def push_run(bucket: str, label: str, hours: float) -> tuple[Window, ...]:
    """Push windows (high and normal priority) of a run that keeps a ``label`` push pending."""
    env = quiet_android(bucket=bucket, hours=hours)
    rollout(env, keeper(env, label), 0)
    return tuple(w for w in windows(env.events, end_time(env)) if w.type.startswith("push"))


@functools.cache
def fgs_run() -> dict[str, Any]:
    """A user who opens the app a few times between 07:00 and 08:00 only: a foreground
    service is started on leaving the app and works until it ends; a job window also
    tries to start one from the background. The refusals and (budget s, length s,
    closing event, reason) of each foreground-service window."""
    opens = [0.0] * 24
    opens[7] = 3.0
    env = quiet_android(hours=24.0, user={"app_opens_per_hour": opens, "last_open_ago_s": 600.0})
    table = ActionTable.from_env(env)
    fgs, job = table.option("fgs"), table.option("job")
    state = {"started": False}

    def policy(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        if info["phase"] == "background":
            if info["t"] == 7 * H:
                return [job, table.delay(0.0), 0, 0]  # t0: the app was not just left
            if not state["started"]:
                state["started"] = True
                return [fgs, 0, 0, 0]
            return [0, 0, 0, 0]
        if feature(env, obs, "window_job") > 0.5:
            return [fgs, 0, 0, 0]  # from a job window: the app is in the background
        if backlog(env, obs, "heavy") >= 51.0:
            return [0, 0, table.chunk(50.0), table.kind("heavy")]
        return [0, 0, 0, 0]

    rollout(env, policy, 0)
    evs = env.events
    fg = [w for w in windows(evs, end_time(env)) if w.type == "fgs"]
    refused = [e["reason"] for e in of_kind(evs, "refused") if e["type"] == "fgs"]
    return {
        "refused_from_background": sorted(set(refused)),
        "fgs_windows": [(round(w.budget_s, 3), round(w.length_s, 3), w.closed_by, w.reason) for w in fg],
    }


# ---------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------
def push_doze_exemption() -> Measurement:
    """Row 27: the Doze state in which a job scheduled from a high-priority push in deep
    Doze ran, and how long after the push (s), for jobs eligible 0, 300 and 900 s later."""
    d = {f"job_{int(x)}_s_after": push_exemption_run(x) for x in (0.0, 300.0, 900.0)}
    now, edge, later = d["job_0_s_after"], d["job_300_s_after"], d["job_900_s_after"]
    ok = now["doze_at_push"] == "deep_idle" and now["doze_at_job"] == "deep_idle" and now["job_after_push_s"] < 300.0
    ok &= later["doze_at_job"] == "deep_maintenance"
    edge_ok = edge["doze_at_job"] != "deep_idle"
    value = (
        f"push in deep Doze: a job scheduled from it ran {now['job_after_push_s']:.0f} s later, still in deep idle; "
        f"jobs eligible 300 s (as the exemption ends) or 900 s after it waited for the maintenance window "
        f"({edge['job_after_push_s'] / 60:.0f} and {later['job_after_push_s'] / 60:.0f} min)"
    )
    return Measurement(value, d, MODELLED if ok and edge_ok else DIFFERS)


def alarms_per_hour_by_bucket() -> Measurement:
    """Row 28: the most alarms in any hour (Restricted: any 24 h) per bucket, with an
    alarm kept pending ~2 s apart (inexact: the app has no SCHEDULE_EXACT_ALARM, row 57)."""
    hours = {"active": 2.0, "working_set": 3.0, "frequent": 3.0, "rare": 3.0, "restricted": 30.0}
    d = {}
    for b, h in hours.items():
        starts = [w.start_s for w in alarm_run(b, h)[0]]
        d[b] = max_rolling_count(starts, DAY if b == "restricted" else H)
    ok = d == ALARM_DOC
    value = (
        ", ".join(f"{b} {n}" for b, n in d.items() if b != "restricted") + f" per hour; restricted {d['restricted']}"
    )
    return Measurement(value + " per 24 h (inexact alarms kept pending, ~2 s apart)", d, agrees(ok))


def _doze_alarms(exact: bool) -> dict[str, int]:
    """Alarms delivered in Doze idle and the most in any hour (Active bucket, 12 h)."""
    ws = alarm_run("active", 12.0, doze=True, exact=exact)[0]
    idle = [w.start_s for w in ws if w.state.doze in ("light_idle", "deep_idle")]
    return {"alarms_in_idle": len(idle), "max_per_hour_in_idle": max_rolling_count(idle, H)}


def alarms_per_hour_in_doze() -> Measurement:
    """Row 29: the most exact alarms (the app holds SCHEDULE_EXACT_ALARM) in any hour while
    in Doze idle (Active bucket, 12 h)."""
    d = _doze_alarms(exact=True)
    ok = d["max_per_hour_in_idle"] == 72
    value = f"at most {d['max_per_hour_in_idle']} exact alarms per hour while in Doze idle (permission granted)"
    return Measurement(value, d, agrees(ok))


def exact_alarm_permission() -> Measurement:
    """Row 51: whether each Android profile's app holds SCHEDULE_EXACT_ALARM by default,
    and how late (s) an alarm set 300 s ahead is delivered without and with it."""
    profiles = {p: s for p, s in COMMUTER.items() if load_scenario(s).platform == "android"}
    granted = {p: load_scenario(s).profile.android.exact_alarm_permission for p, s in profiles.items()}
    without, with_ = alarm_lateness_run(300.0, 24.0), alarm_lateness_run(300.0, 24.0, exact=True)
    d = {
        "granted_by_default": granted,
        "max_late_s_without": max(without),
        "max_late_s_with": max(with_),
        "alarms": len(without),
    }
    ok = not any(granted.values()) and d["max_late_s_with"] < 5.0 and d["max_late_s_without"] > 60.0
    value = (
        f"denied by default on every Android profile ({', '.join(granted)}): an alarm 300 s ahead is inexact, "
        f"up to {d['max_late_s_without']:.0f} s late; with the permission granted, exact "
        f"(at most {d['max_late_s_with']:.1f} s late)"
    )
    return Measurement(value, d, agrees(ok))


def allow_while_idle_quotas() -> Measurement:
    """Row 55: the most alarms in any hour while in Doze idle (Active bucket, 12 h), with
    and without SCHEDULE_EXACT_ALARM."""
    d = {"exact": _doze_alarms(exact=True), "inexact": _doze_alarms(exact=False)}
    got = {k: v["max_per_hour_in_idle"] for k, v in d.items()}
    ok = got == DOZE_ALARMS_DOC and all(v["alarms_in_idle"] > v["max_per_hour_in_idle"] for v in d.values())
    value = (
        f"in Doze idle at most {got['exact']} exact alarms per hour (permission granted), "
        f"{got['inexact']} inexact ones (setAndAllowWhileIdle, no permission)"
    )
    return Measurement(value, d, agrees(ok))


def alarm_bucket_exemption() -> Measurement:
    """Row 57: the most alarms in any hour in the Working-set bucket (limit 10 an hour,
    row 28), inexact (no permission) and exact allow-while-idle (permission granted)."""
    d = {
        "inexact": max_rolling_count([w.start_s for w in alarm_run("working_set", 3.0)[0]], H),
        "exact": max_rolling_count([w.start_s for w in alarm_run("working_set", 3.0, exact=True)[0]], H),
    }
    ok = d["inexact"] == 10 and d["exact"] > 10
    value = (
        f"working set: inexact alarms {d['inexact']} per hour (the bucket's limit); exact allow-while-idle "
        f"alarms {d['exact']} per hour (exempt); alarm clocks not modelled"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


def inexact_alarm_window() -> Measurement:
    """Row 59: how late (s) inexact alarms are delivered after their trigger time, for
    delays of 0, 300, 3600 and 28800 s, against the window min(75 % of the delay, 1 h)."""
    runs = {0.0: 0.25, 300.0: 24.0, 3600.0: 72.0, 28800.0: 480.0}
    d: dict[str, Any] = {}
    ok = True
    for delay, hours in runs.items():
        late = alarm_lateness_run(delay, hours)
        window = 0.0 if delay < INEXACT_MIN_S else min(INEXACT_FRACTION * delay, INEXACT_MAX_S)
        d[f"{delay:g}"] = {"alarms": len(late), "max_late_s": max(late), "window_s": window}
        ok &= max(late) <= window + LAUNCH_S and (window == 0.0 or max(late) > 0.75 * window)
    value = "; ".join(
        f"{k} s ahead: up to {v['max_late_s']:.0f} s late (window {v['window_s']:.0f} s)" for k, v in d.items()
    )
    value += "; batching with other apps' alarms and setWindow not modelled"
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


def high_priority_push_caps() -> Measurement:
    """Row 33: the most high-priority pushes in any 24 h per bucket and the normal-priority
    ones past the cap (count), a push with a notification kept pending."""
    hours = {"frequent": 22.0, "rare": 30.0, "restricted": 30.0}
    d: dict[str, dict[str, int]] = {}
    for b, h in hours.items():
        ws = push_run(b, "push+notification", h)
        d[b] = {
            "max_high_per_24h": max_rolling_count([w.start_s for w in ws if w.type == "push"], DAY),
            "normal": sum(1 for w in ws if w.type == "push_normal"),
        }
    ws = push_run("active", "push+notification", 6.0)
    d["active"] = {"high": sum(1 for w in ws if w.type == "push"), "normal": sum(1 for w in ws if w.type != "push")}
    ok = all(d[b]["max_high_per_24h"] == n and d[b]["normal"] > 0 for b, n in PUSH_CAP_DOC.items())
    ok &= d["active"]["normal"] == 0
    value = ", ".join(f"{b} {d[b]['max_high_per_24h']}" for b in PUSH_CAP_DOC)
    value += " high-priority per day, then normal priority; active: uncapped"
    return Measurement(value, d, agrees(ok))


def push_downgrade_without_notification() -> Measurement:
    """Row 34: high-priority pushes (count) before pushes that show no notification are
    downgraded to normal priority, and downgrades of pushes that show one."""
    silent = push_run("active", "push", 6.0)
    shown = push_run("active", "push+notification", 6.0)
    types = [w.type for w in silent]
    first_normal = types.index("push_normal") if "push_normal" in types else None
    d = {
        "high_before_downgrade": first_normal,
        "normal_after": types.count("push_normal"),
        "high_after_downgrade": types[first_normal:].count("push") if first_normal is not None else 0,
        "with_notification_normal": sum(1 for w in shown if w.type == "push_normal"),
    }
    ok = first_normal is not None and d["high_after_downgrade"] == 0 and d["with_notification_normal"] == 0
    value = (
        f"no notification: {first_normal} high-priority pushes, then all normal priority (7-day decayed count); "
        f"with a notification: {d['with_notification_normal']} downgraded"
    )
    return Measurement(value, d, agrees(ok))


def foreground_service_start_and_timeout() -> Measurement:
    """Row 37: whether a foreground service may start from the background, and the
    budget (h) and length (h) of one started on leaving the app."""
    d = fgs_run()
    ok = d["refused_from_background"] == ["background_start"] and d["fgs_windows"]
    ok = bool(ok) and d["fgs_windows"][0][0] == 21600.0 and d["fgs_windows"][0][1] <= 21600.0
    first = d["fgs_windows"][0] if d["fgs_windows"] else (0, 0, "", "")
    value = (
        f"from the background: refused ({', '.join(d['refused_from_background'])}); on leaving the app: budget "
        f"{first[0] / H:g} h, ended after {first[1] / H:.2f} h ({first[2]})"
    )
    return Measurement(value, d, agrees(ok))
