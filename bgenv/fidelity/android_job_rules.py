"""Android job scheduling rules (PLATFORM_FACTS rows 17, 19, 22): the backoff after a
stopped job, periodic jobs' minimum interval and flex, the schedule() rate limit.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np

from bgenv.envs.actions import ActionTable
from bgenv.eventlog import H, end_time, of_kind, windows
from bgenv.fidelity.analysis import fmt_s
from bgenv.fidelity.android_push_alarms import alarm_run
from bgenv.fidelity.measurement import DIFFERS, PARTIAL, Measurement, agrees
from bgenv.fidelity.policies import backlog
from bgenv.fidelity.scenarios import CHARGING_NIGHT, quiet_android
from bgenv.rollout import rollout


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
@functools.cache
def backoff_run(initial_s: float = 30.0, policy: str = "exponential") -> tuple[tuple[int, float], ...]:
    """(attempt, delay from the stop to the retry, s) of a job that always overruns its
    20 s budget and is rescheduled by the OS (row 17); the app submits it once."""
    env = quiet_android(
        hours=24.0,
        windows={"job": {"budget_s": 20.0, "launch_rate_per_h": 3.6e6}},
        android={"backoff": {"initial_s": initial_s, "policy": policy}},
    )
    table = ActionTable.from_env(env)
    opt = table.option("job")

    def overrun(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        if info["phase"] == "background":
            return [opt, table.delay(3600.0), 0, 0]
        if backlog(env, obs, "heavy") >= 21.0:
            return [0, 0, table.chunk(20.0), table.kind("heavy")]  # 20.5 s: never fits 20 s
        return [0, 0, 0, 0]

    rollout(env, overrun, 0)
    ws = windows(env.events, end_time(env))
    return tuple((w.attempt, round(w.start_s - prev.end_s, 1)) for prev, w in itertools.pairwise(ws) if w.attempt > 0)


@functools.cache
def periodic_run(interval_s: float = 60.0, awake: bool = True, hours: float = 6.0) -> dict[str, Any]:
    """A ``periodic+job+network`` request submitted once at t0 (07:00, or 00:00 on the
    charger when ``awake``), each run reporting completion at once: when it was
    submitted, its first earliest begin (s after that) and the grant times (s)."""
    extra: dict[str, Any] = {"start_hour": 0.0, "user": CHARGING_NIGHT} if awake else {}
    env = quiet_android(hours=hours, doze=True, **extra)
    table = ActionTable.from_env(env)
    opt = table.option("periodic+job+network")

    def once(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        return [opt if info["phase"] == "background" else 0, table.delay(interval_s), 0, 0]

    rollout(env, once, 0)
    req = of_kind(env.events, "request")[0]
    grants = [w.start_s for w in windows(env.events, end_time(env))]
    return {"submitted": req["t"], "first_earliest_s": req["earliest_begin_s"] - req["t"], "grants": grants}


@functools.cache
def schedule_burst() -> dict[str, Any]:
    """A window whose app calls schedule() at every 1 ms chunk until one is refused: the
    calls accepted in the minute before the refusal, the refusal and the request slots."""
    env = quiet_android(
        hours=2.0,
        workload={"chunk_overhead_s": 0.0, "kinds": {"heavy": {"seconds_per_unit": 0.001}}},
    )
    table = ActionTable.from_env(env)
    opt = table.option("job")
    refused = env.observation_names.index("request_refused")
    state = {"done": False}

    def burst(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        if info["phase"] == "background":
            return [opt, table.delay(3600.0), 0, 0]
        if obs[refused] == 1.0:
            state["done"] = True
        if state["done"] or backlog(env, obs, "heavy") < 2.0:
            return [0, 0, 0, 0]
        return [opt, 0, table.chunk(1.0), table.kind("heavy")]

    rollout(env, burst, 0)
    calls = of_kind(env.events, "request", "refused")
    first_refusal = next(e for e in calls if e["kind"] == "refused")
    minute = [e for e in calls if first_refusal["t"] - 60.0 < e["t"] <= first_refusal["t"]]
    return {
        "accepted_in_minute": sum(1 for e in minute if e["kind"] == "request"),
        "refusal": (first_refusal["type"], first_refusal["reason"]),
        "max_pending_slots": len({table.slot(o) for o in range(1, len(table.option_labels))}),
    }


# ---------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------
def backoff_delays() -> Measurement:
    """Row 17: delays (s) from a stopped job to its retry, per attempt, for exponential
    backoff from 30 s, from 5 s (clamped to 10 s) and linear backoff."""
    exp = backoff_run()
    clamped = backoff_run(initial_s=5.0)
    linear = backoff_run(policy="linear")
    d = {"exponential": list(exp), "initial_5_s": list(clamped), "linear": list(linear)}
    ok = all(x == min(30.0 * 2 ** (n - 1), 18000.0) for n, x in exp) and len(exp) >= 11
    ok &= all(x == min(10.0 * 2 ** (n - 1), 18000.0) for n, x in clamped) and len(clamped) >= 12
    ok &= all(x == min(30.0 * n, 18000.0) for n, x in linear) and len(linear) >= 10
    value = (
        f"exponential: {', '.join(f'{x:g}' for _, x in exp)} s; initial 5 s → "
        f"{', '.join(f'{x:g}' for _, x in clamped[:4])}, … s; linear: {', '.join(f'{x:g}' for _, x in linear[:4])}, … s"
    )
    return Measurement(value, d, agrees(ok))


def periodic_interval_and_flex() -> Measurement:
    """Row 19: runs of a 60-s periodic request in 6 h: its first earliest begin (s),
    runs per 15-min interval, runs in the interval's last 5 min, spacing (s)."""
    r = periodic_run()
    rel = [g - r["submitted"] for g in r["grants"]]
    per_interval = np.bincount([int(x // 900.0) for x in rel], minlength=int(6 * H // 900)).tolist()
    gaps = np.diff(r["grants"])
    d = {
        "first_earliest_s": r["first_earliest_s"],
        "runs": len(rel),
        "runs_per_interval": per_interval,
        "in_last_flex": sum(1 for x in rel if x % 900.0 >= 600.0 - 1e-6),
        "median_gap_s": float(np.median(gaps)),
        "min_gap_s": float(gaps.min()),
    }
    ok = abs(d["first_earliest_s"] - 600.0) < 1e-6 and set(per_interval) == {1}
    ok &= d["in_last_flex"] >= 0.95 * d["runs"]
    value = (
        f"60 s interval raised to 900 s, flex 300 s: {d['runs']} runs in 6 h, one per 15-min interval, "
        f"{d['in_last_flex']} in the last 5 min; median spacing {fmt_s(d['median_gap_s'])}"
    )
    return Measurement(value, d, agrees(ok))


def schedule_calls_per_minute() -> Measurement:
    """Row 22: schedule() calls accepted in the minute before the first refusal, whether
    exact alarms count against that limit, and how many requests can be pending."""
    d = dict(schedule_burst())
    ws, limited = alarm_run("active", 2.0, paced=False)  # exact alarms ~0.1 s apart
    d["alarms_before_refusal"] = len(ws)
    d["alarm_requests_rate_limited"] = limited
    ok = d["accepted_in_minute"] == 250 and d["refusal"] == ("job", "rate_limited")
    alarms_counted = limited > 0
    value = (
        f"{d['accepted_in_minute']} schedule() calls accepted in a minute, the next refused ({d['refusal'][1]}); "
        + (
            f"exact alarms count against it too ({d['alarms_before_refusal']} then refused); "
            if alarms_counted
            else f"exact alarms, pushes and foreground services do not ({d['alarms_before_refusal']} alarms accepted); "
        )
        + f"pending jobs: at most one per request slot ({d['max_pending_slots']} slots), so 150 is never reached"
    )
    return Measurement(value, d, DIFFERS if alarms_counted or not ok else PARTIAL)
