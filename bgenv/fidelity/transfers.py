"""Background transfers (PLATFORM_FACTS rows 71-81, 85, 86): iOS background URLSession
uploads (out of process, relaunch on completion, force-quit, discretionary, rate limiter,
earliest begin, timeout, cellular flag) and Android user-initiated data transfer jobs and
long-running workers.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from bgenv.envs.actions import ActionTable
from bgenv.eventlog import DAY, H, end_time, of_kind, value_at, windows
from bgenv.fidelity.measurement import PARTIAL, Measurement, agrees
from bgenv.fidelity.policies import IN_WINDOW, backlog, feature
from bgenv.fidelity.scenarios import ABSENT, ONE_24, STEADY_BATTERY, ZERO_24, make_env, quiet_android
from bgenv.rollout import rollout

# Documented values
TIMEOUT_DOC_S = 7 * DAY  # row 77: timeoutIntervalForResource
RESUME_DELAYS_DOC_S = (60.0, 120.0, 240.0, 480.0)  # row 75: 60 s, doubled at each relaunch
UIDT_GUARANTEE_DOC_S = 6 * H  # row 81
ALWAYS_WIFI = {"wifi_share": ONE_24, "no_network_share": ZERO_24, "drops_per_hour": 0.0}
ALWAYS_CELL = {"wifi_share": ZERO_24, "no_network_share": ZERO_24, "drops_per_hour": 0.0}
MANY_UPLOADS = {"uploads_per_hour": [2.0] * 24}


def _transfers(env: Any) -> list[dict[str, Any]]:
    return of_kind(env.events, "transfer")


def _ios(days: float, user: dict[str, Any], ios: dict[str, Any] | None = None, **kw: Any) -> Any:
    """iOS, the commuter (who opens the app, so transfers are created as the user leaves)."""
    return make_env(
        "ios",
        horizon_days=days,
        user={"force_quit_prob": 0.0, **user},
        workload=MANY_UPLOADS,
        profile={"ios": ios or {}},
        **kw,
    )


def _hand_over(env: Any, label: str, delay_s: float = 0.0, in_windows: bool = False) -> Any:
    """At every app close (or, with ``in_windows``, at the start of every refresh window
    instead) hand the pending uploads to a transfer of option ``label``; report
    completion at once in every window (the app itself never works)."""
    table = ActionTable.from_env(env)
    opt, refresh = table.option(label), table.option("refresh")
    delay = table.delay(delay_s)

    def policy(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        free = backlog(env, obs, "upload") > 0.0 and feature(env, obs, "transfer_units") == 0.0
        if info["phase"] == "background":
            if in_windows:
                return [refresh, 0, 0, 0]
            return [opt if free else 0, delay, 0, 0]
        if in_windows and info["phase"] == "window_start" and feature(env, obs, "window_refresh") > 0.5:
            return [opt if free else refresh, delay, 0, 0]
        return [0, 0, 0, 0]

    return policy


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
@functools.cache
def wifi_run() -> dict[str, Any]:
    """Two commuter days on Wi-Fi: every close hands the uploads to a plain transfer."""
    env = _ios(2.0, ALWAYS_WIFI)
    info = rollout(env, _hand_over(env, "transfer"), 0).info
    ws = windows(env.events, end_time(env))
    tx = _transfers(env)
    done = [e for e in tx if e["state"] == "done"]
    relaunch = [w for w in ws if w.type == "transfer"]
    gaps = [min((w.start_s - e["t"] for w in relaunch if w.start_s >= e["t"]), default=np.inf) for e in done]
    fg_done = sum(1 for e in done if value_at(env.events, "screen", e["t"]) == "app")
    m = info["metrics"]
    return {
        "done": len(done),
        "done_in_app": fg_done,
        "units": m["transfer_units"],
        "chunks": m["chunks"],
        "relaunches": len(relaunch),
        "max_relaunch_gap_s": max(gaps) if gaps else np.nan,
        "relaunch_units": sum(e["units_done"] for e in of_kind(env.events, "complete") if e["type"] == "transfer"),
        "handed_discretionary": sorted({e["discretionary"] for e in tx if e["state"] == "handed"}),
    }


@functools.cache
def force_quit_run() -> dict[str, Any]:
    """Two commuter days on cellular only, uploads handed to Wi-Fi-only transfers (which
    never run), and a user who force-quits the app at 30 % of closes."""
    env = _ios(2.0, {**ALWAYS_CELL, "force_quit_prob": 0.3})
    rollout(env, _hand_over(env, "transfer+wifi"), 0)
    ev = env.events
    in_flight = 0
    last = None  # the state of the last transfer record, in log order
    for e in ev:
        if e["kind"] == "transfer":
            last = e["state"]
        elif e["kind"] == "force_quit" and last in ("handed", "waiting", "running"):
            in_flight += 1
    tx = _transfers(env)
    return {
        "force_quits_in_flight": in_flight,
        "cancelled": sum(1 for e in tx if e["state"] == "cancelled"),
        "ran": sum(1 for e in tx if e["state"] == "running"),
        "relaunches": sum(1 for w in windows(ev, end_time(env)) if w.type == "transfer"),
    }


@functools.cache
def discretionary_run() -> dict[str, Any]:
    """Four commuter days: transfers created in refresh windows (background, so
    discretionary) and, in a second run, discretionary ones created as the user leaves.
    For each run: the (Wi-Fi, charging) states in which a discretionary transfer ran."""
    out: dict[str, Any] = {}
    for name, label, in_windows in (
        ("background", "transfer", True),
        ("discretionary", "transfer+discretionary", False),
    ):
        env = _ios(4.0, {})
        rollout(env, _hand_over(env, label, in_windows=in_windows), 0)
        tx = _transfers(env)
        runs = [e for e in tx if e["state"] == "running"]
        states = sorted({(e["network"], value_at(env.events, "charging", e["t"]) != "off") for e in runs})
        out[name] = {
            "handed_discretionary": sorted({e["discretionary"] for e in tx if e["state"] == "handed"}),
            "run_states": states,
            "done": sum(1 for e in tx if e["state"] == "done"),
        }
    return out


@functools.cache
def rate_limiter_run() -> dict[str, Any]:
    """A phone nobody touches, on Wi-Fi and the charger: each relaunch creates the next
    transfer (a background task), so each waits out the resume delay (row 75); the first
    is created with an earliest begin of 300 s (row 76). Start - creation, s, per transfer."""
    env = make_env(
        "ios",
        horizon_days=0.5,
        user={**ABSENT, "overnight_charge_prob": 1.0, "charge_jitter_s": 0.0, "bedtime_hour": 0.0, "wake_hour": 23.0},
        battery=STEADY_BATTERY,
        workload={"uploads_per_hour": [30.0] * 24},
        start_hour=0,
    )
    table = ActionTable.from_env(env)
    opt = table.option("transfer")
    first = {"done": False}

    def policy(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        if info["phase"] == "background" and not first["done"]:
            first["done"] = True
            return [opt, table.delay(300.0), 0, 0]
        if info["phase"] == "window_start" and feature(env, obs, "window_transfer") > 0.5:
            return [opt, 0, 0, 0]
        return [0, 0, 0, 0]

    rollout(env, policy, 0)
    tx = _transfers(env)
    waits = []
    created = None
    for e in tx:
        if e["state"] == "handed" and created is None:
            created = e["t"]
        elif e["state"] == "running" and created is not None:
            waits.append(round(e["t"] - created, 3))
            created = None
    return {"waits_s": waits[:6], "transfers": sum(1 for e in tx if e["state"] == "done")}


@functools.cache
def cellular_and_timeout_run() -> dict[str, Any]:
    """A phone on cellular only: a plain transfer (cellular allowed) runs on cellular; a
    Wi-Fi-only one waits until it times out (8 days, nobody opens the app after t0)."""
    out: dict[str, Any] = {}
    for label in ("transfer", "transfer+wifi"):
        env = make_env(
            "ios",
            horizon_days=8.0,
            user={**ABSENT, **ALWAYS_CELL},
            battery=STEADY_BATTERY,
            workload={"uploads_per_hour": [0.0] * 24},
            profile={"ios": {"transfer_foreground_grace_s": 1e9, "transfer_resume_delay_s": 0.0}},
        )
        table = ActionTable.from_env(env)
        opt = table.option(label)
        state = {"asked": False}

        def policy(env: Any, obs: np.ndarray, info: dict[str, Any], opt=opt, state=state) -> list[int]:
            if info["phase"] == "background" and not state["asked"]:
                state["asked"] = True
                return [opt, 0, 0, 0]
            return [0, 0, 0, 0]

        rollout(env, policy, 0)
        tx = _transfers(env)
        handed = next(e["t"] for e in tx if e["state"] == "handed")
        end = next((e for e in tx if e["state"] in ("done", "timed_out", "cancelled")), None)
        out[label] = {
            "networks": sorted({e["network"] for e in tx if e["state"] == "running"}),
            "end": end["state"] if end else None,
            "after_s": (end["t"] - handed) if end else np.nan,
        }
    return out


@functools.cache
def uidt_run(permission: bool = True) -> dict[str, Any]:
    """Android, the commuter for two days with many uploads: at every close a
    user-initiated job with network is scheduled (delay 0; once with a 60 s delay), and in
    every window another is asked for (from the background). Refusals by reason, and the
    user-initiated windows: budgets, Doze states and buckets at their grants."""
    env = make_env(
        "android",
        horizon_days=2.0,
        workload=MANY_UPLOADS,
        profile={"android": {"uidt_permission": permission}},
    )
    table = ActionTable.from_env(env)
    uidt = table.option("uidt+network")
    state = {"delayed": False}

    def policy(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        if info["phase"] == "background":
            if not state["delayed"]:
                state["delayed"] = True
                return [uidt, table.delay(60.0), 0, 0]
            return [uidt, 0, 0, 0]
        if info["phase"] in IN_WINDOW and feature(env, obs, "window_uidt") > 0.5:
            if backlog(env, obs, "upload") >= 21.0 and feature(env, obs, "net_none") < 0.5:
                return [uidt, 0, table.chunk(20.0), table.kind("upload")]
        return [uidt, 0, 0, 0]

    rollout(env, policy, 0)
    ws = [w for w in windows(env.events, end_time(env)) if w.type == "uidt"]
    refused: dict[str, int] = {}
    for e in of_kind(env.events, "refused"):
        if e["type"] == "uidt":
            refused[e["reason"]] = refused.get(e["reason"], 0) + 1
    return {
        "windows": len(ws),
        "budgets_s": sorted({w.budget_s for w in ws}),
        "refused": refused,
        "units": sum(w.units for w in ws),
    }


@functools.cache
def uidt_long_run() -> dict[str, Any]:
    """An Android phone nobody touches, restricted bucket, Doze on the way, endless
    uploads on Wi-Fi: a user-initiated job scheduled at t0 (the app counts as visible
    throughout) works until the system stops it (while no work has arrived yet, each job
    reports completion and schedules the next). The longest job."""
    env = quiet_android(
        bucket="restricted",
        hours=8.0,
        doze=True,
        android={"fgs_start_grace_s": 1e9},
        workload={"uploads_per_hour": [100.0] * 24, "kinds": {"upload": {"size_units": 100.0}}},
    )
    table = ActionTable.from_env(env)
    uidt = table.option("uidt+network")
    state = {"asked": False}

    def policy(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        if info["phase"] == "background" and not state["asked"]:
            state["asked"] = True
            return [uidt, 0, 0, 0]
        if info["phase"] in IN_WINDOW:  # work on whatever there is; nothing yet: ask for the next job
            if backlog(env, obs, "upload") + backlog(env, obs, "heavy") >= 1.0:
                return [0, 0, table.chunk(20.0), table.kind("auto")]
            return [uidt, 0, 0, 0]
        return [0, 0, 0, 0]

    rollout(env, policy, 0)
    ev = env.events
    ws = [w for w in windows(ev, end_time(env)) if w.type == "uidt"]
    w = max(ws, key=lambda w: w.end_s - w.start_s)
    deep = [t for t, v in ((e["t"], e["state"]) for e in of_kind(ev, "doze")) if v == "deep_idle" and t < w.end_s]
    return {
        "budget_s": w.budget_s,
        "length_s": w.end_s - w.start_s,
        "closed_by": w.closed_by,
        "bucket": w.bucket,
        "deep_doze_during": bool(deep),
        "units": w.units,
    }


# ---------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------
def out_of_process() -> Measurement:
    """Rows 71, 72: the system transfers the uploads while the app does no work; each
    completion relaunches the app in the background (unless it is on screen)."""
    d = wifi_run()
    ok = d["done"] > 0 and d["chunks"] == 0 and d["relaunches"] == d["done"] - d["done_in_app"]
    ok &= d["max_relaunch_gap_s"] < 60.0
    value = (
        f"{d['done']} transfers delivered {d['units']:.0f} upload units with 0 chunks run by the app; "
        f"{d['relaunches']} background relaunches ({d['done_in_app']} done with the app on screen), each within "
        f"{d['max_relaunch_gap_s']:.1f} s"
    )
    return Measurement(value, d, agrees(ok))


def relaunch_on_completion() -> Measurement:
    """Row 72: the relaunch window carries the transfer's units (history: a useful window)."""
    d = wifi_run()
    ok = d["relaunches"] > 0 and d["relaunch_units"] > 0
    value = f"{d['relaunches']} relaunch windows (type transfer) carrying {d['relaunch_units']:.0f} units"
    return Measurement(value, d, agrees(ok))


def force_quit_cancels() -> Measurement:
    """Row 73: a force-quit cancels the transfer in flight and no relaunch follows. Not
    modelled: the `backgroundUpdatesDisabled` and `insufficientSystemResources` reasons."""
    d = force_quit_run()
    ok = d["force_quits_in_flight"] > 0 and d["cancelled"] == d["force_quits_in_flight"] and d["relaunches"] == 0
    value = (
        f"{d['cancelled']} of {d['force_quits_in_flight']} force-quits with a transfer in flight cancelled it; "
        f"{d['relaunches']} relaunches after them"
    )
    return Measurement(value, d, PARTIAL if ok else agrees(False))


def discretionary_waits() -> Measurement:
    """Row 74: background-created transfers are discretionary; discretionary ones run only
    on Wi-Fi and the charger (bgenv: always, the docs: "might delay")."""
    d = discretionary_run()
    ok = d["background"]["handed_discretionary"] == [True] and d["discretionary"]["handed_discretionary"] == [True]
    ok &= all(s == ("wifi", True) for r in d.values() for s in r["run_states"])
    ok &= all(r["done"] > 0 for r in d.values())
    value = (
        f"created in the background: discretionary {d['background']['handed_discretionary']}; discretionary "
        f"transfers ran only in {sorted({s for r in d.values() for s in r['run_states']})} (network, charging)"
    )
    return Measurement(value, d, agrees(ok))


def resume_rate_limiter() -> Measurement:
    """Rows 75, 76: start minus creation of chained background transfers: the earliest
    begin first, then 60 s doubled at each relaunch."""
    d = rate_limiter_run()
    w = d["waits_s"]
    ok = len(w) >= 5 and w[0] == 300.0 and tuple(w[1:5]) == RESUME_DELAYS_DOC_S
    value = f"waits {', '.join(f'{x:g}' for x in w)} s (earliest begin 300 s, then 60 s doubled per relaunch)"
    return Measurement(value, d, agrees(ok))


def resource_timeout() -> Measurement:
    """Row 77: a transfer that can never run (Wi-Fi only, on cellular) fails after 7 days;
    network outages inside that time only pause it."""
    d = cellular_and_timeout_run()["transfer+wifi"]
    ok = d["networks"] == [] and d["end"] == "timed_out" and abs(d["after_s"] - TIMEOUT_DOC_S) < 1.0
    value = f"Wi-Fi only on a cellular-only phone: never ran, {d['end']} after {d['after_s'] / DAY:g} days"
    return Measurement(value, d, agrees(ok))


def cellular_flag() -> Measurement:
    """Row 78: on cellular only, a transfer that allows expensive networks runs there and a
    Wi-Fi-only one does not (partial: Low Data Mode and hotspots are not modelled; the
    transfer waits rather than failing, open question 5)."""
    d = cellular_and_timeout_run()
    ok = d["transfer"]["networks"] == ["cellular"] and d["transfer"]["end"] == "done"
    ok &= d["transfer+wifi"]["networks"] == []
    value = f"cellular allowed: ran on {d['transfer']['networks']}; Wi-Fi only: ran on {d['transfer+wifi']['networks']}"
    return Measurement(value, d, PARTIAL if ok else agrees(False))


def uidt_rules() -> Measurement:
    """Row 79: user-initiated jobs only from the foreground, no delay, with the
    permission; they run outside quotas, standby limits and Doze."""
    d, nop = uidt_run(True), uidt_run(False)
    long = uidt_long_run()
    ok = d["windows"] > 0 and set(d["refused"]) == {"background_start", "invalid"} and d["refused"]["invalid"] == 1
    ok &= set(nop["refused"]) == {"permission"} and nop["windows"] == 0
    ok &= long["bucket"] == "restricted" and long["deep_doze_during"] and long["units"] > 0
    value = (
        f"{d['windows']} jobs from app closes; refused: {d['refused']}; without RUN_USER_INITIATED_JOBS: "
        f"{nop['refused']}; restricted bucket, through deep Doze: {long['units']:.0f} units in one job"
    )
    return Measurement(value, {"commuter": d, "no_permission": nop, "long": long}, agrees(ok))


def uidt_notification() -> Measurement:
    """Row 80: the job's notification is priced (reward.notification per job); the user
    stopping it from the Task Manager is not modelled."""
    d = uidt_run(True)
    ok = d["windows"] > 0
    return Measurement(
        f"{d['windows']} jobs, each priced one notification; no user stop", d, PARTIAL if ok else agrees(False)
    )


def uidt_runtime() -> Measurement:
    """Row 81: a user-initiated job's window budget and how long one with endless work ran (partial: bgenv
    stops it at the 6 h guarantee; the 12 h hard limit and the data-size estimates are not modelled)."""
    d = uidt_long_run()
    ok = d["budget_s"] == UIDT_GUARANTEE_DOC_S and abs(d["length_s"] - UIDT_GUARANTEE_DOC_S) < 1e-6
    value = f"budget {d['budget_s'] / H:g} h; with endless uploads it ran {d['length_s'] / H:g} h ({d['closed_by']})"
    return Measurement(value, d, PARTIAL if ok else agrees(False))
