"""iOS processing tasks (PLATFORM_FACTS rows 39-41): windows only while the phone is idle
and the app was used recently, external power, and the CPU monitor.
"""

from __future__ import annotations

import functools
from typing import Any

from bgenv.eventlog import DAY, end_time, of_kind, windows
from bgenv.fidelity.measurement import Measurement, agrees
from bgenv.fidelity.policies import keeper
from bgenv.fidelity.scenarios import ABSENT, IOS_FAST_PROCESSING, ios_env
from bgenv.rollout import rollout


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
@functools.cache
def processing_run(
    label: str, units: float = 20.0, days: float = 2.0, seed: int = 0, fast: bool = True
) -> dict[str, Any]:
    """A processing request (``label``) kept pending by the commuter, who charges every
    night; each window works in ``units``-unit heavy chunks until it ends. Its processing
    windows, the times the screen came on (s) and every chunk logged."""
    env = ios_env(days, user={"overnight_charge_prob": 1.0}, processing=IOS_FAST_PROCESSING if fast else None)
    rollout(env, keeper(env, label, work=("heavy", units)), seed)
    evs = env.events
    ws = [w for w in windows(evs, end_time(env)) if w.type == "processing"]
    screen_on = [e["t"] for e in of_kind(evs, "screen") if e["on"]]
    return {"windows": ws, "screen_on": screen_on, "chunks": of_kind(evs, "chunk")}


@functools.cache
def processing_recent_use(days_since_open: float) -> int:
    """Processing windows in 2 days for an app last opened ``days_since_open`` days
    before t0 and not opened again (charging every night)."""
    env = ios_env(
        2.0,
        user={**ABSENT, "overnight_charge_prob": 1.0, "last_open_ago_s": days_since_open * DAY},
        processing=IOS_FAST_PROCESSING,
    )
    rollout(env, keeper(env, "processing+power"), 0)
    return sum(1 for w in windows(env.events, end_time(env)) if w.type == "processing")


@functools.cache
def processing_power_share(label: str, fast: bool) -> dict[str, float]:
    """Processing windows of ``label`` in 3 days and the share of them on the charger."""
    r = processing_run(label, days=3.0, fast=fast)
    ws = r["windows"]
    return {"windows": len(ws), "share_on_charger": sum(w.state.charging for w in ws) / max(1, len(ws))}


# ---------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------
def processing_only_while_idle() -> Measurement:
    """Row 39: the least screen-off time before a processing grant (min), windows
    stopped when the screen came on, the budget (min) and windows of an app last opened
    1 and 8 days ago."""
    r = processing_run("processing+power")
    ws = [w for w in r["windows"] if w.closed_by != "open"]
    idle = [w.start_s - w.state.screen_off_at for w in ws]
    user_ends = [w for w in ws if w.reason == "user"]
    d = {
        "windows": len(ws),
        "min_screen_off_before_grant_s": min(idle),
        "screen_on_at_grant": sum(1 for w in ws if w.state.screen),
        "ended_by_user": len(user_ends),
        "user_ends_at_screen_on": all(any(abs(w.end_s - t) < 1e-6 for t in r["screen_on"]) for w in user_ends),
        "budget_s": sorted({w.budget_s for w in ws}),
        "windows_last_open_1_day": processing_recent_use(1.0),
        "windows_last_open_8_days": processing_recent_use(8.0),
    }
    ok = d["min_screen_off_before_grant_s"] >= 600.0 and d["screen_on_at_grant"] == 0 and d["ended_by_user"] > 0
    ok &= d["user_ends_at_screen_on"] and d["windows_last_open_8_days"] == 0 and d["windows_last_open_1_day"] > 0
    value = (
        f"granted only after ≥ {d['min_screen_off_before_grant_s'] / 60:.0f} min of screen-off, budget "
        f"{d['budget_s'][-1] / 60:g} min; {d['ended_by_user']} stopped the moment the screen came on; app last "
        f"opened 8 days ago: {d['windows_last_open_8_days']} windows (1 day ago: {d['windows_last_open_1_day']})"
    )
    return Measurement(value, d, agrees(ok))


def processing_on_external_power() -> Measurement:
    """Row 40: the share of processing windows on the charger with and without
    requiresExternalPower (and without it at the default launch rate)."""
    d = {
        "power_yes": processing_power_share("processing+power", True),
        "power_no": processing_power_share("processing", True),
        "power_no_default_rate": processing_power_share("processing", False),
    }
    ok = d["power_yes"]["share_on_charger"] == 1.0 and d["power_no"]["share_on_charger"] >= 0.9
    ok &= d["power_no"]["windows"] > 0
    value = (
        f"requiresExternalPower=YES: {d['power_yes']['share_on_charger']:.0%} of windows on the charger; NO: "
        f"{d['power_no']['share_on_charger']:.0%} ({d['power_no']['windows']} windows; unplugged rate × 0.02)"
    )
    return Measurement(value, d, agrees(ok))


def processing_cpu_monitor() -> Measurement:
    """Row 41: processing windows working at 100 % CPU killed by the CPU monitor (count,
    after how many s) and 100-unit chunks saved, with and without requiresExternalPower."""
    no = processing_run("processing", units=100.0)
    yes = processing_run("processing+power", units=100.0)
    kills = [w for w in no["windows"] if w.reason == "cpu"]
    d = {
        "cpu_kills": len(kills),
        "kill_after_s": sorted({round(w.length_s, 6) for w in kills}),
        "saved_100_unit_chunks_no_power": sum(1 for c in no["chunks"] if c["units"] == 100.0 and c["saved"]),
        "cpu_kills_power": sum(1 for w in yes["windows"] if w.reason == "cpu"),
        "saved_100_unit_chunks_power": sum(1 for c in yes["chunks"] if c["units"] == 100.0 and c["saved"]),
    }
    ok = d["cpu_kills"] > 0 and d["kill_after_s"] == [60.0] and d["saved_100_unit_chunks_no_power"] == 0
    ok &= d["cpu_kills_power"] == 0 and d["saved_100_unit_chunks_power"] > 0
    value = (
        f"100 % CPU without requiresExternalPower: {d['cpu_kills']} kills, each after {d['kill_after_s'][0]:g} s; "
        f"with it: {d['cpu_kills_power']} kills"
    )
    return Measurement(value, d, agrees(ok))
