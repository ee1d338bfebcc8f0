"""Simulated fleets of phones and what their event logs say about each user.

A *population* is one archetype (or a variant of it) on one platform: ``devices``
phones, each reset with its own held-out seed and run for ``days`` simulated days by an
app that never asks for background time (:class:`Idle`), so that every battery change
comes from the user and the device, not from background work. :func:`simulate` runs it on
the batched env (``record_events=True``) and reads each phone's log through
:mod:`bgenv.eventlog` into a :class:`Device`: its screen sessions, app sessions, battery
intervals, plug-ins, Low Power Mode, network and thermal time.

Event log formats: both the v1 log (battery only on ``level``, ``app_open``/``app_close``,
``charge_*`` and ``low_power`` records; drops as ``network`` records with ``drop`` set) and
the user-model log (battery also on ``screen`` records; drops as ``drop`` records; a
``reset`` record) are read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bgenv import eventlog as el
from bgenv.core import layout as L

DAY = el.DAY
H = el.H


class Idle:
    """The app that submits no background work: every decision is ``[0, 0, 0, 0]`` (no
    request; inside a window, which never comes, report completion at once)."""

    def act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        return np.zeros((obs.shape[0], 4), dtype=np.int64)


@dataclass
class Device:
    """What one phone's event log says about its user over one episode.

    Times are simulated s since midnight of day 0 (local time); levels are fractions of
    a full battery; rates are fraction of a full battery per hour.

    Attributes:
        population: the population's name.
        seed: the reset seed.
        t0, t_end: the episode's start and end, s.
        plug_threshold: the top-up threshold drawn at reset (``S_PLUG_THR``), fraction.
        sessions: device screen sessions (screen on to screen off), ``[n, 3]``: start s,
            length s, 1 when it began with this app's open else 0 (other use).
        app_sessions: this app's sessions (its open to its close), ``[n, 2]``: start s,
            length s.
        intervals: battery intervals between consecutive logged levels in which screen,
            charging and Low Power Mode did not change, ``[n, 6]``: start s, length s,
            level change (signed), screen on (0/1), charging (0/1), Low Power Mode (0/1),
            and the level at the start in a 7th column.
        plugins: plug-ins (``charge_start`` that is not a continuation), ``[n, 3]``:
            t s, level, overnight (0/1).
        overnight: overnight charging sessions, ``[n, 4]``: start s, length s, s spent
            at 78-82 %, level at unplug.
        unplugged_s: s not on the charger; ``lpm_unplugged_s``: of them with Low Power
            Mode on.
        discharge_periods: unplugged spans; ``discharge_with_lpm``: of them with Low
            Power Mode on at some time.
        network_s: s per network value (``none``/``cellular``/``wifi``).
        app_network_w: per network value as the app can use it (Doze idle counts as
            ``none``), weighted by battery-level change like GreenHub's samples
            (fraction of a full battery).
        thermal_s: s per thermal state.
        closes, force_quits: app closes and force-quits by the user.
        trace: the log recorded as a :class:`bgenv.traces.Trace`
            (:func:`bgenv.traces.record.trace_from_events`) when :func:`simulate` was
            asked for it, else None.
    """

    population: str
    seed: int
    t0: float
    t_end: float
    plug_threshold: float
    sessions: np.ndarray
    app_sessions: np.ndarray
    intervals: np.ndarray
    plugins: np.ndarray
    overnight: np.ndarray
    unplugged_s: float
    lpm_unplugged_s: float
    discharge_periods: int
    discharge_with_lpm: int
    network_s: dict[str, float] = field(default_factory=dict)
    app_network_w: dict[str, float] = field(default_factory=dict)
    thermal_s: dict[str, float] = field(default_factory=dict)
    closes: int = 0
    force_quits: int = 0
    trace: Any = field(default=None, repr=False, compare=False)  # its log as a bgenv.traces.Trace, if asked
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def days(self) -> float:
        """Length of the episode, days."""
        return (self.t_end - self.t0) / DAY


# Records whose kind the summaries never read (skipped when decoding the log).
_SKIP = {
    k
    for k, (name, _) in L.EVENT_SCHEMA.items()
    if name in ("arrival", "deadline", "request", "grant", "chunk", "refused", "retry", "bucket")
}
# Doze states in which an app has no network (between maintenance windows).
_DOZE_BLOCKS = ("light_idle", "deep_idle")


def simulate(
    name: str,
    platform: str,
    seeds: list[int],
    days: float,
    overrides: dict[str, Any] | None = None,
    traces: int = 0,
) -> list[Device]:
    """Run ``len(seeds)`` phones of ``platform`` (``overrides`` deep-merged into the
    platform's default scenario, e.g. ``{"user": "heavy"}``) for ``days`` days with the
    :class:`Idle` app and summarise each phone's log; the first ``traces`` phones also
    keep their log as a trace (``Device.trace``)."""
    from bgenv.core.sim import iter_events
    from bgenv.envs.vector import BackgroundSchedulingVectorEnv
    from bgenv.traces.record import trace_from_events

    n = len(seeds)
    venv = BackgroundSchedulingVectorEnv(n, platform, None, record_events=True, horizon_days=days, **(overrides or {}))
    sim = venv.sim
    # Driven below the Gymnasium API: the batched env resets a device in the step its
    # episode ends (and clears its log), so each device is stepped alone until it is done.
    sim.reset(list(seeds))
    thresholds = sim.sf[:, L.S_PLUG_THR].copy()
    actor = Idle()
    while True:
        idx = np.flatnonzero(~sim.done())
        if not idx.size:
            break
        sim.step(actor.act(sim.obs[idx]), idx)
    out = []
    for i in range(n):
        arr = sim.event_array(i)
        keep = ~np.isin(arr[:, 1].astype(np.int64), list(_SKIP))
        events = list(iter_events(arr[keep]))
        t0 = float(sim.sf[i, L.S_T0])
        t_end = float(sim.sf[i, L.S_T])
        dev = summarise(events, name, int(seeds[i]), t0, t_end, float(thresholds[i]))
        if i < traces:
            dev.trace = trace_from_events(events, t0, t_end, name=f"{name}/{seeds[i]}")
        out.append(dev)
    return out


def _sessions(events: list[el.Event], t0: float, t_end: float) -> np.ndarray:
    """Device screen sessions: maximal runs of screen ``other``/``app`` spans."""
    rows: list[list[float]] = []
    for a, b, v in el.spans(events, "screen", t0, t_end):
        if v == "off":
            continue
        if rows and rows[-1][0] + rows[-1][1] == a:
            rows[-1][1] = b - rows[-1][0]
        else:
            rows.append([a, b - a, 1.0 if v == "app" else 0.0])
    return np.array(rows, dtype=float).reshape(-1, 3)


def _intervals(events: list[el.Event]) -> np.ndarray:
    """Battery intervals between consecutive logged levels with a constant screen,
    charger and Low Power Mode state (see :attr:`Device.intervals`)."""
    rows: list[tuple[float, ...]] = []
    screen, charging, lpm = 0, 0, 0
    last_t: float | None = None
    last_b, state, clean = 0.0, (0, 0, 0), False
    for e in events:
        k = e["kind"]
        t = e["t"]
        b = e.get("battery") if (k in el.BATTERY_RECORDS or k == "screen") else None
        if b is not None:  # the level at t closes the interval before any change logged at t
            b = float(b)
            if last_t is not None and clean and t > last_t:
                rows.append((last_t, t - last_t, b - last_b, *state, last_b))
            last_t, last_b, clean = t, b, True
        changed = True
        if k == "screen":
            screen = 1 if e["on"] else 0
        elif k == "app_open":
            screen = 1
        elif k == "app_close":
            screen = 0  # a screen record at the same time says when the screen stays on
        elif k == "charge_start":
            charging = 1
        elif k == "charge_stop":
            charging = 0
        elif k == "low_power":
            lpm = 1 if e["on"] else 0
        elif k == "reset":
            screen = 0 if e.get("screen") in (0, False, "off", None) else 1
            charging, lpm = int(bool(e.get("charging"))), int(bool(e.get("low_power")))
        else:
            changed = False
        if last_t is not None and t == last_t:
            state = (screen, charging, lpm)  # the state after the records logged with the level
        elif changed:
            clean = False
    return np.array(rows, dtype=float).reshape(-1, 7)


def _overnight(events: list[el.Event], t_end: float) -> np.ndarray:
    """Overnight charging sessions with the time spent at 78-82 % and the level at unplug."""
    ts, lv = el.battery_series(events, -math.inf, math.inf)
    rows = []
    for a, b, v in el.spans(events, "charging", events[0]["t"] if events else 0.0, t_end):
        if v != "overnight":
            continue
        grid = np.linspace(a, b, max(2, int((b - a) / 60.0) + 1))
        lev = np.interp(grid, ts, lv)
        held = float(np.sum((lev[:-1] >= 0.78) & (lev[:-1] <= 0.82)) * (grid[1] - grid[0]))
        rows.append((a, b - a, held, float(np.interp(b, ts, lv))))
    return np.array(rows, dtype=float).reshape(-1, 4)


def summarise(events: list[el.Event], name: str, seed: int, t0: float, t_end: float, plug_threshold: float) -> Device:
    """One phone's :class:`Device` from its event log over ``[t0, t_end]``."""
    sess = _sessions(events, t0, t_end)
    app = [(a, b - a) for a, b, v in el.spans(events, "screen", t0, t_end) if v == "app"]
    app_s = np.array(app, dtype=float).reshape(-1, 2)
    plugins = np.array(
        [
            (e["t"], float(e["battery"]), 1.0 if e["overnight"] else 0.0)
            for e in events
            if e["kind"] == "charge_start" and not e.get("continued")
        ],
        dtype=float,
    ).reshape(-1, 3)
    charging = el.spans(events, "charging", t0, t_end)
    lpm_on = [(a, b) for a, b, v in el.spans(events, "low_power", t0, t_end) if v == "on"]
    unplugged = [(a, b) for a, b, v in charging if v == "off"]
    plugged = [(a, b) for a, b, v in charging if v != "off"]
    if not charging:
        unplugged = [(t0, t_end)]
    unplugged_s = sum(b - a for a, b in unplugged)
    in_plugged = _time_in(plugged)
    on_plugged = sum(float(in_plugged(b) - in_plugged(a)) for a, b in lpm_on)
    lpm_total = sum(b - a for a, b in lpm_on)
    in_lpm = _time_in(lpm_on)
    with_lpm = sum(1 for a, b in unplugged if in_lpm(b) > in_lpm(a))
    net = el.seconds_in(events, "network", t0, t_end)
    net.pop(None, None)
    app_net = _app_network(events, t0, t_end)
    thermal = el.seconds_in(events, "thermal", t0, t_end)
    closes = el.of_kind(events, "app_close")
    return Device(
        population=name,
        seed=seed,
        t0=t0,
        t_end=t_end,
        plug_threshold=plug_threshold,
        sessions=sess,
        app_sessions=app_s,
        intervals=_intervals(events),
        plugins=plugins,
        overnight=_overnight(events, t_end),
        unplugged_s=unplugged_s,
        lpm_unplugged_s=lpm_total - on_plugged,
        discharge_periods=len(unplugged),
        discharge_with_lpm=with_lpm,
        network_s=net,
        app_network_w=app_net,
        thermal_s=thermal,
        closes=len(closes),
        force_quits=sum(1 for e in closes if e.get("force_quit")),
    )


def _time_in(spans: list[tuple[float, float]]) -> Any:
    """``F(t)``: seconds of the sorted, disjoint ``spans`` before ``t`` (vectorised), so
    that the overlap of ``[a, b]`` with them is ``F(b) - F(a)``."""
    if not spans:
        return lambda t: np.zeros_like(np.asarray(t, dtype=float))
    x = np.array(spans, dtype=float).reshape(-1)
    lengths = np.diff(x)[::2]
    y = np.zeros_like(x)
    y[1::2] = np.cumsum(lengths)
    y[2::2] = y[1:-1:2]
    return lambda t: np.interp(t, x, y)


def _app_network(events: list[el.Event], t0: float, t_end: float) -> dict[str, float]:
    """Per network value as the app sees it (Doze idle, between maintenance windows,
    counts as ``none``), weighted as GreenHub's samples are: GreenHub (U20) records a
    sample each time the battery level changes (its collector listens to
    ``ACTION_BATTERY_CHANGED``), so its shares are shares of battery-level changes, not
    of time. Each span's weight is the battery level it gained or lost (fraction of a
    full battery, from :func:`bgenv.eventlog.battery_series`)."""
    ts, lv = el.battery_series(events, t0, t_end)
    if len(ts) < 2:
        return {}
    moved = np.concatenate(([0.0], np.cumsum(np.abs(np.diff(lv)))))
    blocked = [(a, b) for a, b, v in el.spans(events, "doze", t0, t_end) if v in _DOZE_BLOCKS]
    net = el.spans(events, "network", t0, t_end)  # sorted, disjoint, none of length zero
    if not net:
        return {}
    a = np.array([s[0] for s in net])
    b = np.array([s[1] for s in net])
    # every span cut at the blocked spans' edges inside it: the pieces between consecutive
    # edges, each in the network span holding its midpoint (if any) ...
    edges = np.unique(np.concatenate((a, b, [t0, t_end], np.array(blocked).reshape(-1))))
    lo, hi = edges[:-1], edges[1:]
    mid = 0.5 * (lo + hi)
    span = np.searchsorted(a, mid, "right") - 1
    inside = (span >= 0) & (mid < b[np.maximum(span, 0)])
    lo, hi, mid, span = lo[inside], hi[inside], mid[inside], span[inside]
    # ... and blocked when its midpoint lies in a blocked span (the last one starting before it)
    starts = np.array([x for x, _ in blocked] or [math.inf])
    ends = np.array([y for _, y in blocked] or [math.inf])
    k = np.searchsorted(starts, mid, "right") - 1
    block = (k >= 0) & (mid < ends[np.maximum(k, 0)])
    w = np.interp(hi, ts, moved) - np.interp(lo, ts, moved)
    out: dict[str, float] = {}
    for wi, si, bi in zip(w.tolist(), span.tolist(), block.tolist()):  # in time order
        key = "none" if bi else net[si][2]
        out[key] = out.get(key, 0.0) + wi
    return out


def time_to_drain(events: list[el.Event], t0: float, amount: float) -> float:
    """Unplugged simulated s from ``t0`` until the battery has lost ``amount`` (fraction
    of a full battery) while unplugged: the drops between consecutive logged levels
    (:func:`bgenv.eventlog.battery_series`, straight lines between them) are added up and
    time on the charger is not counted, so a plug-in on the way neither stops nor resets
    the count. From a full battery, ``amount`` 0.8 is the time to 20 %. inf when the log
    ends first."""
    ts, lv = el.battery_series(events, t0, math.inf)
    charging = [(a, b) for a, b, v in el.spans(events, "charging", t0, math.inf) if v != "off"]
    plugged = _time_in(charging)
    lost, run = 0.0, 0.0
    for j in range(1, ts.size):
        dt = (ts[j] - ts[j - 1]) - float(plugged(ts[j]) - plugged(ts[j - 1]))
        drop = max(0.0, lv[j - 1] - lv[j])
        if lost + drop >= amount - 1e-12 and drop > 0:
            return run + dt * (amount - lost) / drop
        lost += drop
        run += max(0.0, dt)
    return math.inf


def simulate_lpm_pairs(
    platform: str, seeds: list[int], days: float, overrides: dict[str, Any] | None = None, level: float = 0.2
) -> np.ndarray:
    """Matched pairs for Low Power Mode's effect on drain (spec U18 (d)): each seed run
    twice from a full battery with no overnight charge and no top-up, once with Low Power
    Mode forced on (at reset and at every decision of the app) and once with it forced
    off. Returns ``[n, 2]``: unplugged s until the level has dropped from full to
    ``level`` (:func:`time_to_drain`) with it off and with it on (inf when the horizon
    comes first)."""
    from bgenv.core.sim import iter_events
    from bgenv.envs.vector import BackgroundSchedulingVectorEnv

    out = np.full((len(seeds), 2), math.inf)
    for arm in (0, 1):
        venv = BackgroundSchedulingVectorEnv(
            len(seeds), platform, None, record_events=True, horizon_days=days, **(overrides or {})
        )
        sim = venv.sim
        sim.reset(list(seeds))
        sim.sf[:, L.S_BATT] = 1.0
        sim.sf[:, L.S_PLUG_THR] = 0.0  # no top-ups: the level runs down to `level` unplugged
        actor = Idle()
        while True:
            # forced at every decision: a plug-in on the way (LPM off at 80 %) or a user who
            # keeps it on (turned on after a charge) does not change the arm for long
            sim.si[:, L.I_LOWPOWER] = arm
            idx = np.flatnonzero(~sim.done())
            if not idx.size:
                break
            sim.step(actor.act(sim.obs[idx]), idx)
        for i in range(len(seeds)):
            events = list(iter_events(sim.event_array(i)))
            t0 = float(sim.sf[i, L.S_T0])
            events = [{"t": t0, "kind": "level", "battery": 1.0}, *(e for e in events if e["t"] > t0)]
            out[i, arm] = time_to_drain(events, t0, 1.0 - level)
    return out
