"""iOS app refresh and silent push (PLATFORM_FACTS rows 38, 42, 43, 45): refresh run time
and early expiry, the earliest-begin floor and pending requests, what not reporting
completion costs, and silent-push delivery.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from bgenv.envs.actions import ActionTable
from bgenv.eventlog import H, end_time, of_kind, windows
from bgenv.fidelity.analysis import max_rolling_count
from bgenv.fidelity.measurement import DIFFERS, PARTIAL, Measurement, agrees
from bgenv.fidelity.policies import IN_WINDOW, keeper, refresh_app
from bgenv.fidelity.scenarios import ios_env, make_env
from bgenv.rollout import rollout


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
@functools.cache
def ios_refresh_run(days: float = 3.0, seed: int = 0) -> dict[str, Any]:
    """The commuter on iOS: a refresh request resubmitted with a cycling earliest-begin
    delay whenever the app leaves the screen or a window starts; windows work in 5-unit
    chunks until they expire (never reporting completion while work is left). The
    windows, each grant's (time, latest request's time, its earliest begin) in s and
    the requests replaced by a resubmission."""
    env = make_env("ios", horizon_days=days, user={"force_quit_prob": 0.0})
    table = ActionTable.from_env(env)
    opt = table.option("refresh")
    cycle = [0.0, 60.0, 300.0, 900.0, 1800.0, 3600.0]
    chunk = table.chunk(5.0)
    chunk_choice = table.nvec[0] + table.nvec[1] + chunk  # its entry in the action mask
    k = [0]

    def policy(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        req, d = 0, 0
        if info["phase"] in ("background", "window_start"):
            req, d = opt, table.delay(cycle[k[0] % len(cycle)])
            k[0] += 1
        if info["phase"] in IN_WINDOW and env.action_masks()[chunk_choice]:  # some kind is workable
            return [req, d, chunk, table.kind("auto")]
        return [req, d, 0, 0]

    rollout(env, policy, seed)
    evs, t_end = env.events, end_time(env)
    floors = []
    latest = None
    replaced = 0
    for e in of_kind(evs, "request", "grant"):
        if e["kind"] == "request":
            replaced += latest is not None
            latest = e
        else:
            floors.append((e["t"], latest["t"], latest["earliest_begin_s"]))
            latest = None
    ws = windows(evs, t_end)
    return {"floors": floors, "windows": ws, "replaced": replaced}


@functools.cache
def history_runs(seeds: int = 3, days: float = 3.0) -> dict[str, dict[str, float]]:
    """Refresh windows (count, mean budget s, expirations) of an app that never reports
    completion (always expires) and of one that reports it after a second of work."""
    out = {}
    for name in ("expiring", "prompt"):
        n, budgets, expirations = 0, [], 0.0
        for seed in range(seeds):
            env = ios_env(days)
            m = rollout(env, refresh_app(env, expiring=name == "expiring"), seed).metrics
            ws = [w for w in windows(env.events) if w.type == "refresh"]
            n += len(ws)
            budgets += [w.budget_s for w in ws]
            expirations += m["expirations"]
        out[name] = {"windows": n, "mean_budget_s": float(np.mean(budgets)), "expirations": expirations}
    return out


@functools.cache
def silent_push_run() -> dict[str, Any]:
    """Silent pushes of the commuter over 2 days, one always requested: delivered,
    dropped, the most in any hour and their budgets (s)."""
    env = make_env("ios", horizon_days=2.0, user={"force_quit_prob": 0.0})
    rollout(env, keeper(env, "push"), 0)  # resubmitted at every decision (a dropped push waits for the next)
    evs = env.events
    ws = [w for w in windows(evs, end_time(env)) if w.type == "push"]
    dropped = [e for e in of_kind(evs, "refused") if e["reason"] == "push_dropped"]
    return {
        "delivered": len(ws),
        "dropped": len(dropped),
        "max_per_hour": max_rolling_count([w.start_s for w in ws], H),
        "budgets_s": sorted({round(w.budget_s, 3) for w in ws}),
    }


# ---------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------
def refresh_run_time() -> Measurement:
    """Row 38: budgets and lengths (s) of refresh windows, and the early expiries
    (budgets of 2-5 s) among them."""
    r = ios_refresh_run()
    ws = [w for w in r["windows"] if w.closed_by != "open"]
    early = [w.budget_s for w in ws if w.budget_s <= 5.0]
    d = {
        "windows": len(ws),
        "max_budget_s": max(w.budget_s for w in ws),
        "min_budget_s": min(w.budget_s for w in ws),
        "max_length_s": max(w.length_s for w in ws),
        "early_expiries": len(early),
        "early_range_s": (min(early), max(early)) if early else None,
        "ends": sorted({(w.closed_by, w.reason) for w in ws}),
    }
    ok = d["max_budget_s"] <= 30.0 and d["max_length_s"] <= 30.0 and early and 2.0 <= min(early) <= max(early) <= 5.0
    value = (
        f"{d['windows']} refresh windows: budgets {d['min_budget_s']:.1f}-{d['max_budget_s']:.1f} s "
        f"(30 s × history), {len(early)} early expiries at {d['early_range_s'][0]:.1f}-{d['early_range_s'][1]:.1f} s"
        if early
        else f"{d['windows']} refresh windows, no early expiry"
    )
    return Measurement(value, d, agrees(bool(ok)))


def refresh_earliest_begin_floor() -> Measurement:
    """Row 42: how far after the latest request's earliest begin each refresh grant came
    (s, never negative), requests replaced by resubmitting, the longest window (s) and
    the request slot of each type."""
    r = ios_refresh_run()
    margins = [g - floor for g, _, floor in r["floors"]]
    ws = [w for w in r["windows"] if w.closed_by != "open"]
    env = make_env("ios", horizon_days=0.1)
    table = ActionTable.from_env(env)
    slots = {o.type: table.slot(j + 1) for j, o in enumerate(env.scenario_spec.profile.request_options)}
    d = {
        "grants": len(margins),
        "min_margin_s": min(margins),
        "delayed_grants": sum(1 for g, sub, floor in r["floors"] if floor > sub),
        "replaced_requests": r["replaced"],
        "max_window_s": max(w.length_s for w in ws),
        "pending_slots": slots,
    }
    ok = d["min_margin_s"] >= 0.0 and d["delayed_grants"] >= 3 and d["max_window_s"] <= 35.0
    value = (
        f"{d['grants']} grants, none before the latest request's earliest begin (min margin "
        f"{d['min_margin_s']:.0f} s, {d['replaced_requests']} requests replaced); longest window "
        f"{d['max_window_s']:.1f} s; pending: 1 refresh + 1 processing (+1 health), not 10 processing"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


def not_completing_degrades_refresh() -> Measurement:
    """Row 43: refresh windows (count) and their mean budget (s) in 3 × 3 days for an app
    that never reports completion and for one that reports it after a second of work."""
    d = history_runs()
    e, p = d["expiring"], d["prompt"]
    ok = e["windows"] <= 0.7 * p["windows"] and e["mean_budget_s"] < p["mean_budget_s"] and p["expirations"] == 0
    value = (
        f"never reporting completion: {e['windows']} windows, mean budget {e['mean_budget_s']:.1f} s; reporting "
        f"it after a second of work: {p['windows']} windows, {p['mean_budget_s']:.1f} s (3 × 3 days)"
    )
    return Measurement(value, d, agrees(ok))


def silent_push_rate() -> Measurement:
    """Row 45: the most silent pushes delivered in any hour, those never delivered
    (count) and the time given to handle one (s)."""
    d = silent_push_run()
    ok = d["max_per_hour"] == 3 and d["dropped"] > 0 and max(d["budgets_s"]) <= 30.0
    value = (
        f"at most {d['max_per_hour']} silent pushes per hour, {d['dropped']} of {d['dropped'] + d['delivered']} "
        f"never delivered, {'-'.join(f'{b:g}' for b in sorted({min(d['budgets_s']), max(d['budgets_s'])}))} s to "
        "handle; energy use does not change the push rate"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)
