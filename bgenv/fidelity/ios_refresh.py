"""iOS app refresh and silent push (PLATFORM_FACTS rows 38, 42, 43, 45, 65): refresh run
time and early expiry, the earliest-begin floor and pending requests, what not reporting
completion costs, silent-push delivery and pushes held while the phone is offline.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from bgenv.envs.actions import ActionTable
from bgenv.eventlog import H, end_time, of_kind, spans, windows
from bgenv.fidelity.analysis import max_rolling_count
from bgenv.fidelity.measurement import DIFFERS, PARTIAL, Measurement, agrees
from bgenv.fidelity.policies import IN_WINDOW, keeper, refresh_app
from bgenv.fidelity.scenarios import ios_env, make_env
from bgenv.rollout import rollout


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
@functools.cache
def ios_refresh_run(days: float = 7.0, seed: int = 0) -> dict[str, Any]:
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
def history_runs(seeds: int = 3, days: float = 7.0) -> dict[str, dict[str, float]]:
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


@functools.cache
def offline_push_run(seeds: int = 3, days: float = 2.0) -> dict[str, Any]:
    """Silent pushes of a commuter who is often offline (no network 30 % of the time, 2
    drops an hour), a push always pending, each asked for 30 min after the last (under
    the 3-an-hour limit of row 45): pushes delivered while the phone had no network
    (count), pushes held over an offline spell (due, then offline, then delivered) and
    how long after the network came back they were delivered (s)."""
    out: dict[str, Any] = {"delivered": 0, "delivered_offline": 0, "held": 0, "delays_s": []}
    for seed in range(seeds):
        env = make_env(
            "ios",
            horizon_days=days,
            user={
                "force_quit_prob": 0.0,
                "wifi_share": [0.5] * 24,
                "no_network_share": [0.3] * 24,
                "drops_per_hour": 2.0,
            },
        )
        rollout(env, keeper(env, "push", delay_s=1800.0), seed)
        evs, t_end = env.events, end_time(env)
        offline = [(a, b) for a, b, v in spans(evs, "network", evs[0]["t"], t_end) if v == "none"]
        due = None  # when the pending push could have been delivered (its earliest begin)
        for e in of_kind(evs, "request", "grant"):
            if e["type"] != "push":
                continue
            if e["kind"] == "request":
                due = e["earliest_begin_s"]
                continue
            out["delivered"] += 1
            out["delivered_offline"] += any(a <= e["t"] < b for a, b in offline)
            ends = [b for a, b in offline if due is not None and due < b <= e["t"]]
            if ends:
                out["held"] += 1
                out["delays_s"].append(e["t"] - max(ends))
            due = None
    return out


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
    """Row 43: refresh windows (count) and their mean budget (s) in 3 × 7 days for an app
    that never reports completion and for one that reports it after a second of work."""
    d = history_runs()
    e, p = d["expiring"], d["prompt"]
    ok = e["windows"] <= 0.7 * p["windows"] and e["mean_budget_s"] < p["mean_budget_s"] and p["expirations"] == 0
    value = (
        f"never reporting completion: {e['windows']} windows, mean budget {e['mean_budget_s']:.1f} s; reporting "
        f"it after a second of work: {p['windows']} windows, {p['mean_budget_s']:.1f} s (3 × 7 days)"
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


def silent_push_held_offline() -> Measurement:
    """Row 65: silent pushes delivered while the phone had no network (count), pushes held
    over an offline spell and the median delay (s) from the network's return to their
    delivery."""
    d = offline_push_run()
    med = float(np.median(d["delays_s"])) if d["delays_s"] else math.nan
    ok = d["delivered_offline"] == 0 and d["held"] >= 5 and med < 30.0
    value = (
        f"{d['delivered_offline']} of {d['delivered']} silent pushes delivered with no network; {d['held']} held "
        f"over an offline spell, delivered a median {med:.0f} s after the network came back; one pending per "
        "app, a newer push replaces it (the request slot); the 30-day expiry never comes into play"
    )
    return Measurement(value, {**d, "median_delay_s": med}, agrees(ok))
