"""Android Doze (PLATFORM_FACTS rows 23-26): the light and deep Doze schedule of a phone
lying still with its screen off, and when jobs may run in it.
"""

from __future__ import annotations

import functools
from typing import Any

from bgenv.eventlog import Event, H, Window, end_time, of_kind, windows
from bgenv.fidelity.measurement import DIFFERS, PARTIAL, Measurement, agrees
from bgenv.fidelity.policies import idle, keeper
from bgenv.fidelity.scenarios import quiet_android
from bgenv.rollout import rollout


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
@functools.cache
def doze_run(pending: bool = False, hours: float = 24.0) -> tuple[tuple[Event, ...], tuple[Window, ...]]:
    """A phone lying still, unplugged, screen off from t0 (07:00): its Doze events and
    windows. ``pending``: a job+network request is kept pending (each run completes at once)."""
    env = quiet_android(hours=hours, doze=True)
    rollout(env, keeper(env, "job+network") if pending else idle, 0)
    return tuple(of_kind(env.events, "doze")), tuple(windows(env.events, end_time(env)))


def doze_schedule(pending: bool) -> dict[str, Any]:
    """The Doze states of :func:`doze_run` in order, when light and deep idle began (s
    after screen-off) and the lengths of idles and maintenance windows (s)."""
    doze, _ = doze_run(pending)
    t0 = 7 * H

    def by(state: str) -> list[Event]:
        return [e for e in doze if e["state"] == state]

    return {
        "first_state": (doze[0]["state"], doze[0]["t"] - t0),
        "light_idle_at_s": by("light_idle")[0]["t"] - t0,
        "light_idle_s": [e["duration_s"] for e in by("light_idle")],
        "light_maintenance_s": sorted({e["duration_s"] for e in by("light_maintenance")}),
        "deep_idle_at_s": by("deep_idle")[0]["t"] - t0,
        "deep_idle_s": [e["duration_s"] for e in by("deep_idle")],
        "deep_maintenance_s": [e["duration_s"] for e in by("deep_maintenance")],
        "states": [e["state"] for e in doze],
    }


# ---------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------
def light_doze_schedule() -> Measurement:
    """Row 23: when light Doze idle begins after screen-off (s), its idle lengths (min)
    and its maintenance windows (min) with and without jobs pending."""
    d = {"no_jobs": doze_schedule(False), "jobs_pending": doze_schedule(True)}
    q = d["no_jobs"]
    ok = q["light_idle_at_s"] == 240.0 and q["light_idle_s"][:3] == [300.0, 600.0, 900.0]
    ok &= q["light_maintenance_s"] == [60.0] and d["jobs_pending"]["light_maintenance_s"] == [300.0]
    value = (
        f"light idle {q['light_idle_at_s']:g} s after screen-off, idles "
        f"{', '.join(f'{x / 60:g}' for x in q['light_idle_s'][:4])} min; maintenance "
        f"{q['light_maintenance_s'][0] / 60:g} min ({d['jobs_pending']['light_maintenance_s'][0] / 60:g} min with jobs pending)"
    )
    return Measurement(value, d, agrees(ok))


def deep_doze_entry() -> Measurement:
    """Row 24: when deep Doze begins after screen-off on a still, unplugged phone (min)."""
    d = doze_schedule(False)
    ok = d["deep_idle_at_s"] == 3900.0
    return Measurement(f"deep Doze {d['deep_idle_at_s'] / 60:g} min after screen-off (still, unplugged)", d, agrees(ok))


def deep_doze_schedule() -> Measurement:
    """Row 25: the lengths of deep Doze idles (h) and maintenance windows (min)."""
    d = doze_schedule(False)
    ok = d["deep_idle_s"][:4] == [3600.0, 7200.0, 14400.0, 21600.0] and set(d["deep_idle_s"][3:]) == {21600.0}
    ok &= d["deep_maintenance_s"][:2] == [300.0, 600.0] and set(d["deep_maintenance_s"][1:]) == {600.0}
    value = (
        f"deep idles {', '.join(f'{x / H:g}' for x in d['deep_idle_s'])} h; maintenance "
        f"{', '.join(f'{x / 60:g}' for x in d['deep_maintenance_s'])} min"
    )
    return Measurement(value, d, agrees(ok))


def jobs_by_doze_state() -> Measurement:
    """Row 26: job+network runs granted in each Doze state (count) while one is kept pending."""
    _, ws = doze_run(pending=True)
    by_state: dict[str, int] = {}
    for w in ws:
        by_state[w.state.doze] = by_state.get(w.state.doze, 0) + 1
    d = {"grants_by_doze_state": dict(sorted(by_state.items()))}
    idle_n = by_state.get("light_idle", 0) + by_state.get("deep_idle", 0)
    maint = by_state.get("light_maintenance", 0) + by_state.get("deep_maintenance", 0)
    ok = idle_n == 0 and maint > 0
    value = (
        f"job+network kept pending: {idle_n} runs in Doze idle, {maint} in maintenance windows; "
        "wakelocks and plain alarms not modelled"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)
