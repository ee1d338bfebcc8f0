"""What stops iOS background work (PLATFORM_FACTS rows 44, 46-50): the Background App
Refresh switch (and health-research tasks), low battery, Low Power Mode, the thermal
state, jetsam memory kills and force-quit.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from bgenv.envs.actions import ActionTable
from bgenv.eventlog import H, end_time, of_kind, seconds_in, windows
from bgenv.fidelity.measurement import DIFFERS, PARTIAL, Measurement, agrees
from bgenv.fidelity.policies import feature, keeper
from bgenv.fidelity.scenarios import (
    FAST_REFRESH,
    IOS_FAST_PROCESSING,
    NO_CHARGING,
    PLUG_AT_10,
    ios_env,
    ios_upload_env,
)
from bgenv.rollout import rollout


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
@functools.cache
def bar_off_run() -> dict[str, Any]:
    """Background App Refresh switched off: every request option submitted in turn for a
    day; submissions, refusals (count, reasons) and grants."""
    env = ios_env(1.0, user={"background_refresh_off_prob": 1.0})
    n_labels = len(ActionTable.from_env(env).option_labels) - 1
    k = [0]

    def policy(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        k[0] += 1
        return [1 + k[0] % n_labels, 0, 0, 0]

    rollout(env, policy, 0)
    refused = of_kind(env.events, "refused")
    return {
        "submissions": k[0],
        "refused": len(refused),
        "reasons": sorted({e["reason"] for e in refused}),
        "grants": len(of_kind(env.events, "grant")),
    }


@functools.cache
def health_run() -> dict[str, int]:
    """Processing and health-research requests kept pending together (health added to
    the action table by a profile override), completing at once, 3 days: windows of each."""
    env = ios_env(
        3.0,
        user={"overnight_charge_prob": 1.0},
        profile={"request_options": [{"type": "processing"}, {"type": "health"}]},
    )
    table = ActionTable.from_env(env)
    proc, health = keeper(env, "processing"), keeper(env, "health")
    slot = env.observation_names.index(f"pending_slot{table.slot(table.option('health'))}")

    def both(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        return health(env, obs, info) if obs[slot] == 0.0 else proc(env, obs, info)

    rollout(env, both, 0)
    ws = windows(env.events)
    return {t: sum(1 for w in ws if w.type == t) for t in ("processing", "health")}


@functools.cache
def low_battery_levels(seeds: int = 3, fast: bool = False) -> tuple[tuple[tuple[float, bool], ...], tuple[float, ...]]:
    """Refresh kept pending while the battery runs down from ~30 % to a top-up at 10 %
    (the user never accepts Low Power Mode, nor charges but for that top-up), 2 days per seed, at the calibrated launch
    rate or with ``fast`` at :data:`FAST_REFRESH`: the (battery, charging) the app reads
    at each window's start, and each seed's lowest battery level."""
    levels: list[tuple[float, bool]] = []
    lows: list[float] = []
    for seed in range(seeds):
        env = ios_env(
            2.0,
            initial_battery=[0.3, 0.35],
            user={"low_power_accept_prob": 0.0, **NO_CHARGING, **PLUG_AT_10},
            profile=FAST_REFRESH if fast else None,
        )
        opt = ActionTable.from_env(env).option("refresh")

        def policy(env: Any, obs: np.ndarray, info: dict[str, Any], opt: int = opt) -> list[int]:
            if info["phase"] == "window_start":
                levels.append((feature(env, obs, "battery"), feature(env, obs, "charging") == 1.0))
            return [opt, 0, 0, 0]

        lows.append(rollout(env, policy, seed).metrics["battery_min"])
    return tuple(levels), tuple(lows)


@functools.cache
def low_battery_run(seeds: int = 4) -> dict[str, Any]:
    """:func:`low_battery_levels` at the calibrated rate: windows, those below 20 %
    unplugged, the lowest unplugged level and the lowest battery level."""
    levels, lows = low_battery_levels(seeds)
    below = [b for b, charging in levels if b < 0.2 and not charging]
    return {
        "windows": len(levels),
        "windows_below_20_unplugged": len(below),
        "lowest_unplugged_level": min(b for b, charging in levels if not charging),
        "battery_min": min(1.0, *lows),
    }


@functools.cache
def low_power_run(seeds: int = 4) -> dict[str, Any]:
    """Refresh kept pending from ~21 % with Low Power Mode accepted, charging overnight:
    refresh windows in and outside Low Power Mode, hours in it and the battery levels at
    which it turned off."""
    grants_in, grants_out, lpm_s = 0, 0, 0.0
    offs = []
    for seed in range(seeds):
        env = ios_env(
            1.0,
            initial_battery=[0.21, 0.22],
            user={"low_power_accept_prob": 1.0, "overnight_charge_prob": 1.0, **PLUG_AT_10},
        )
        rollout(env, keeper(env, "refresh"), seed)
        evs, t_end = env.events, end_time(env)
        for w in windows(evs, t_end):
            if w.type == "refresh":
                grants_in += w.state.low_power
                grants_out += not w.state.low_power
        lpm_s += seconds_in(evs, "low_power", 7 * H, t_end).get("on", 0.0)
        offs += [e["battery"] for e in of_kind(evs, "low_power") if not e["on"]]
    return {"refresh_in_lpm": grants_in, "refresh_outside": grants_out, "lpm_h": lpm_s / H, "off_at": offs}


@functools.cache
def ios_thermal_run() -> dict[str, Any]:
    """Processing kept pending and worked on a phone that heats up about once an hour:
    grants per thermal state, windows stopped as it rose, hours above nominal."""
    env = ios_env(
        2.0, user={"overnight_charge_prob": 1.0}, processing=IOS_FAST_PROCESSING, thermal={"step_up_per_h": 1.0}
    )
    rollout(env, keeper(env, "processing+power", work=("heavy", 20.0)), 0)
    evs, t_end = env.events, end_time(env)
    ws = windows(evs, t_end)
    heat = {e["t"] for e in of_kind(evs, "thermal") if e["level"] != "nominal"}
    levels: dict[str, int] = {}
    for w in ws:
        levels[w.state.thermal] = levels.get(w.state.thermal, 0) + 1
    return {
        "grants_by_level": levels,
        "stopped_by_heat": sum(1 for w in ws if w.reason == "constraint" and w.end_s in heat),
        "hot_h": sum(v for k, v in seconds_in(evs, "thermal", 7 * H, t_end).items() if k != "nominal") / H,
    }


@functools.cache
def jetsam_run(units: float) -> dict[str, Any]:
    """Refresh windows uploading in chunks of ``units``: kills (reason, after s),
    expirations inside killed windows and chunks saved."""
    env = ios_upload_env()
    rollout(env, keeper(env, "refresh", work=("upload", units)), 0)
    evs = env.events
    ws = windows(evs, end_time(env))
    killed = [w for w in ws if w.closed_by == "kill"]
    return {
        "kills": sorted((w.reason, round(w.length_s, 6)) for w in killed),
        "expirations_in_killed": sum(
            1 for e in of_kind(evs, "expire") if any(w.start_s <= e["t"] <= w.end_s for w in killed)
        ),
        "saved_chunks": sum(1 for e in of_kind(evs, "chunk") if e["saved"] and e["units"] == units),
    }


def force_quit_scan(events: list[dict[str, Any]]) -> tuple[int, int, list[tuple[float, float]]]:
    """Force-quits in an event log, those with a request pending, and the windows granted
    after a force-quit before the next open, as (granted at, quit at)."""
    quits = held = 0
    after: list[tuple[float, float]] = []
    quit_at = None
    pending = False
    for e in events:
        if e["kind"] == "force_quit":
            quit_at, quits, held = e["t"], quits + 1, held + pending
        elif e["kind"] == "app_open":
            quit_at = None
        elif e["kind"] == "request":
            pending = True
        elif e["kind"] == "grant":
            pending = False
            if quit_at is not None:
                after.append((e["t"], quit_at))
    return quits, held, after


@functools.cache
def force_quit_run(seeds: int = 3) -> dict[str, int]:
    """The commuter force-quitting half the time, a refresh always requested: force-quits,
    those with a request pending and windows granted before the next open."""
    held = after = quits = 0
    for seed in range(seeds):
        env = ios_env(2.0, user={"force_quit_prob": 0.5})
        opt = ActionTable.from_env(env).option("refresh")
        rollout(env, lambda env, obs, info, opt=opt: [opt, 0, 0, 0], seed)
        q, h, a = force_quit_scan(env.events)
        quits, held, after = quits + q, held + h, after + len(a)
    return {"force_quits": quits, "with_request_pending": held, "grants_after_quit": after}


# ---------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------
def refresh_switch_off_and_health() -> Measurement:
    """Row 44: submissions refused (count, reason) with Background App Refresh off, and
    health-research windows against processing windows in 3 days."""
    d = {"bar_off": bar_off_run(), "health_vs_processing": health_run()}
    b, h = d["bar_off"], d["health_vs_processing"]
    ok = b["refused"] == b["submissions"] and b["reasons"] == ["unavailable"] and b["grants"] == 0
    ok &= h["health"] > h["processing"]
    value = (
        f"Background App Refresh off: {b['refused']}/{b['submissions']} submissions refused ({b['reasons'][0]}); "
        f"health research {h['health']} windows vs processing {h['processing']} (3 days); "
        "BGContinuedProcessingTask not modelled"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


def low_battery_gate() -> Measurement:
    """Row 46: refresh windows started below 20 % battery unplugged (count) and the
    lowest level at which one started."""
    d = low_battery_run()
    ok = d["windows_below_20_unplugged"] == 0 and d["windows"] > 0 and d["battery_min"] < 0.2
    value = (
        f"{d['windows_below_20_unplugged']} of {d['windows']} refresh windows below 20 % unplugged, at "
        f"{d['lowest_unplugged_level']:.2%} (battery fell to {d['battery_min']:.0%}); Low Power Mode, usage, "
        "force-quit, the switch and energy history gate too (rows 43, 44, 47, 50); no data budget"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


def low_power_mode_pauses_refresh() -> Measurement:
    """Row 47: refresh windows in and outside Low Power Mode (count), hours in it, and
    the battery levels at which it turned off."""
    d = low_power_run()
    ok = d["refresh_in_lpm"] == 0 and d["refresh_outside"] > 0 and d["lpm_h"] > 6.0
    ok &= bool(d["off_at"]) and all(abs(x - 0.8) < 1e-3 for x in d["off_at"])
    value = (
        f"{d['refresh_in_lpm']} refresh windows in {d['lpm_h']:.0f} h of Low Power Mode ({d['refresh_outside']} "
        f"outside); it turned off at {', '.join(f'{x:.0%}' for x in d['off_at'])} while charging"
    )
    return Measurement(value, d, agrees(ok))


def ios_thermal_gate() -> Measurement:
    """Row 48: the thermal states at which processing windows started (count), windows
    stopped when the state rose and hours above nominal."""
    d = ios_thermal_run()
    ok = set(d["grants_by_level"]) == {"nominal"} and d["stopped_by_heat"] > 0 and d["hot_h"] > 1.0
    value = (
        f"processing windows start only at nominal ({d['grants_by_level'].get('nominal', 0)}, {d['hot_h']:.0f} h "
        f"above it); {d['stopped_by_heat']} stopped when the state rose to fair; slower work at serious/critical "
        "only matters for Android expedited work"
    )
    return Measurement(value, d, agrees(ok))


def jetsam_memory_kills() -> Measurement:
    """Row 49: jetsam kills of refresh windows uploading 50-unit chunks (100 MB: count,
    after s, no expiration callback) against 5-unit chunks (no kill)."""
    big, small = jetsam_run(50.0), jetsam_run(5.0)
    d = {"chunk_50_units": big, "chunk_5_units": small}
    kill_at = (0.5 + 50 * 1.5) * (50.0 - 25.0) / 75.0  # memory crosses 50 MB part-way through the chunk
    ok = big["kills"] and {r for r, _ in big["kills"]} == {"memory"} and big["expirations_in_killed"] == 0
    ok = bool(ok) and all(abs(x - kill_at) < 1e-6 for _, x in big["kills"]) and big["saved_chunks"] == 0
    ok &= not small["kills"] and small["saved_chunks"] > 0
    value = (
        f"upload chunk of 100 MB (25 + 50 × 1.5): {len(big['kills'])} jetsam kills at {kill_at:.2f} s, no expiration "
        f"callback; 32.5 MB chunks: {small['saved_chunks']} saved, no kill"
    )
    return Measurement(value, d, agrees(ok))


def force_quit_stops_tasks() -> Measurement:
    """Row 50: windows granted after a force-quit until the app was opened again (count)."""
    d = force_quit_run()
    ok = d["grants_after_quit"] == 0 and d["with_request_pending"] > 0
    value = (
        f"{d['force_quits']} force-quits ({d['with_request_pending']} with a refresh pending): "
        f"{d['grants_after_quit']} windows until the app was opened again"
    )
    return Measurement(value, d, agrees(ok))
