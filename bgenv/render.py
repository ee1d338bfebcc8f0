"""Timeline pictures of an episode: what the phone, its user, the app and the OS did.

Everything drawn comes from the env's event log (``env.unwrapped.events``, see
``bgenv.core.layout.EVENT_SCHEMA``), so a picture can be checked against the log:

* **window bars** start at their ``grant`` event and end at the ``complete`` /
  ``expire`` / ``kill`` event that closes them (one window runs at a time, and a grace
  kill is logged as an ``expire`` and a ``kill`` at the same instant);
* **state bands** (charging, screen, network, Doze, standby bucket, Low Power Mode /
  Battery Saver, thermal state) change exactly at the logged state changes;
* **requests** are marked at their ``request`` event with a line to their
  ``earliest_begin_s`` floor; refused ones at their ``refused`` event;
* the **battery line** joins every battery level the log records: the ``level`` sample
  the simulator logs at reset and every simulated hour, app open and close, plug and
  unplug, Low Power Mode switches, and the level now;
* the **backlog** (pending work units) passes through every backlog size the log
  records (app open and close, completion reports) and moves with logged arrivals and
  saved chunks in between.

``timeline_spans(events)`` returns the drawable spans (what the plot draws, in
simulated seconds); ``render_timeline_rgb`` / ``save_timeline_png`` draw the picture
(matplotlib, Agg canvas, no display), ``render_timeline_ansi`` a compact text version,
and ``timeline_command`` is ``bgenv timeline``. Rendering reads the log only when
called: it costs nothing while an episode runs.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bgenv.core import layout as L

Span = tuple[float, float, str]  # (start_s, end_s, label), simulated s since midnight of day 0

# -- what the log distinguishes, and how it is shown -------------------------------
OUTCOMES = ("completed", "expired", "stopped", "killed", "running")
OUTCOME_LABEL = {  # legend text
    "completed": "completed",
    "expired": "expired",
    "stopped": "stopped early (user / constraint)",
    "killed": "killed",
    "running": "running",
}
OUTCOME_COLOR = {
    "completed": "#2ca02c",
    "expired": "#ff7f0e",
    "stopped": "#e7ba52",
    "killed": "#d62728",
    "running": "#8c8c8c",
}
TYPE_LABEL = {
    "refresh": "refresh",
    "processing": "processing",
    "job": "job",
    "expedited": "expedited",
    "health": "health research",
    "push": "push",
    "push_normal": "push (normal)",
    "alarm": "exact alarm",
    "fgs": "foreground svc",
}
SCREEN_COLOR = {"other": "#c4c4c4", "app": "#6a51a3"}
NETWORK_STATES = ("none", "cellular", "wifi")
NETWORK_COLOR = {"none": "#f2f2f2", "cellular": "#9ecae1", "wifi": "#2171b5"}
NETWORK_LABEL = {"none": "no network", "cellular": "cellular", "wifi": "Wi-Fi"}
DOZE_COLOR = {
    "light_pre": "#ece9f4",
    "light_idle": "#b3acd9",
    "light_maintenance": "#d5edcc",
    "deep_idle": "#3f2a7a",
    "deep_maintenance": "#8fcf7f",
}
DOZE_LABEL = {
    "light_pre": "screen off, not idle yet",
    "light_idle": "light idle",
    "light_maintenance": "light maintenance",
    "deep_idle": "deep idle",
    "deep_maintenance": "deep maintenance",
}
BUCKET_COLOR = {
    "active": "#b8e186",
    "working_set": "#e6f5d0",
    "frequent": "#fee08b",
    "rare": "#fc8d59",
    "restricted": "#d73027",
}
BUCKET_LABEL = {
    "active": "active",
    "working_set": "working set",
    "frequent": "frequent",
    "rare": "rare",
    "restricted": "restricted",
}
THERMAL_COLOR = {"fair": "#fee391", "serious": "#fe9929", "critical": "#b35806"}
LOW_POWER_COLOR = "#8073ac"
CHARGING_COLOR = "#cdebc0"
BATTERY_COLOR = "#222222"
BACKLOG_COLOR = "#4a6fa5"
REQUEST_COLOR = "#37474f"
REFUSED_COLOR = "#d62728"
PLATFORM_NAME = {"ios": "iOS", "android": "Android"}

# The simulator's state at reset, before any event says otherwise (core/kernel.py
# reset_device zeroes the integer state): screen off, not charging, thermal nominal,
# Low Power Mode off, standby bucket active, Doze active. Network and any charging at
# the start are logged at t0.
INITIAL = {"screen": "off", "thermal": "nominal", "low_power": "off", "bucket": "active", "doze": "active"}


# -- windows ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """One granted background window, as the event log tells it.

    Attributes:
        start_s: time of its ``grant`` event, simulated s.
        end_s: time of the event that closed it (or the render time while it runs), s.
        type: window type (``layout.WT_NAMES``).
        outcome: ``completed``, ``expired``, ``stopped``, ``killed`` or ``running``.
        reason: the logged end reason (``layout.END_NAMES``), ``running`` while open.
        budget_s: the budget the OS granted, s (hidden from the app).
        units: work units saved by its chunks.
        attempt: the backoff attempt counter logged with the grant.
    """

    start_s: float
    end_s: float
    type: str
    outcome: str
    reason: str
    budget_s: float
    units: float
    attempt: int


def _outcome(kind: str, reason: str | None) -> str:
    if kind == "complete":
        return "completed"
    if kind == "kill":
        return "killed"
    return "expired" if reason == "expired" else "stopped"


def windows_from_events(events: Sequence[dict[str, Any]], t_end: float | None = None) -> list[Window]:
    """Pair every ``grant`` with the event that closed it.

    The simulator runs one window at a time, so a window ends at the first
    ``complete`` / ``expire`` / ``kill`` after its grant; a ``kill`` at the same instant
    as the ``expire`` that closed a window (the expiration handler overran the grace
    period) turns that window's outcome into ``killed``. A window still open at the end
    of the log runs until ``t_end`` (default: the last event's time).
    """
    out: list[Window] = []
    cur: dict[str, Any] | None = None
    units = 0.0
    t_last = events[-1]["t"] if events else 0.0
    for e in events:
        k = e["kind"]
        if k == "grant":
            if cur is not None:  # cannot happen in the simulator; keep the bar honest
                out.append(_window(cur, e["t"], "running", "running", units))
            cur, units = e, 0.0
        elif k == "chunk" and cur is not None and e.get("saved"):
            units += float(e["units"])
        elif k in ("complete", "expire", "kill"):
            if cur is not None:
                out.append(_window(cur, e["t"], _outcome(k, e.get("reason")), e.get("reason") or "complete", units))
                cur = None
            elif k == "kill" and out and out[-1].end_s == e["t"] and out[-1].outcome != "killed":
                w = out[-1]
                out[-1] = Window(w.start_s, w.end_s, w.type, "killed", str(e["reason"]), w.budget_s, w.units, w.attempt)
    if cur is not None:
        out.append(_window(cur, max(cur["t"], t_last if t_end is None else t_end), "running", "running", units))
    return out


def _window(g: dict[str, Any], end: float, outcome: str, reason: str, units: float) -> Window:
    return Window(
        float(g["t"]), float(end), str(g["type"]), outcome, reason, float(g["budget_s"]), units, int(g["attempt"])
    )


# -- state spans -------------------------------------------------------------------------
def _state_spans(changes: Iterable[tuple[float, str]], initial: str | None, t0: float, t_end: float) -> list[Span]:
    """Spans of a piecewise-constant state from its changes (time order), merged, with
    zero-length spans dropped; the last state runs to ``t_end``."""
    spans: list[Span] = []
    t, v = t0, initial
    for tc, vc in changes:
        if vc == v:
            continue
        if v is not None and tc > t:
            spans.append((t, tc, v))
        t, v = tc, vc
    if v is not None and t_end > t:
        spans.append((t, t_end, v))
    merged: list[Span] = []
    for s in spans:
        if merged and merged[-1][2] == s[2] and merged[-1][1] == s[0]:
            merged[-1] = (merged[-1][0], s[1], s[2])
        else:
            merged.append(s)
    return merged


def _os_reschedules(events: Sequence[dict[str, Any]]) -> list[Span]:
    """Where the OS itself rescheduled a stopped window (see ``timeline_spans``)."""
    out: list[Span] = []
    last_stop: dict[str, float] = {}
    for e in events:
        k = e["kind"]
        if k in ("expire", "kill"):
            last_stop[e["type"]] = e["t"]
        elif k == "request":
            last_stop.pop(e["type"], None)  # the app replaced it: attempt starts again at 0
        elif k == "grant" and e["attempt"] and e["type"] in last_stop:
            t = last_stop.pop(e["type"])
            out.append((t, t, e["type"]))
    return out


def timeline_spans(
    events: Sequence[dict[str, Any]], t_end: float | None = None, t0: float | None = None
) -> dict[str, list[Span]]:
    """The drawable spans of an event log: ``{lane: [(start_s, end_s, label), ...]}``.

    Times are simulated seconds since midnight of day 0, exactly as logged. ``t0``
    (default: the first event's time) is where initial states begin; ``t_end``
    (default: the last event's time) is where open states and running windows end.

    Lanes and labels:

    * ``windows``: grant to end, ``"<type>:<outcome>"`` (outcomes: ``OUTCOMES``);
    * ``requests``: submission to earliest-begin floor, ``"<type>"``;
    * ``refused``: zero-length at the refusal, ``"<type>:<reason>"``;
    * ``rescheduled``: zero-length at the stop of a window the OS rescheduled itself
      with backoff (Android JobScheduler; the log has no ``request`` for it: the next
      grant of that type carries ``attempt`` >= 1), ``"<type>"``;
    * ``charging``: plug to unplug, ``"overnight"`` or ``"top-up"``;
    * ``screen``: screen on, ``"app"`` (this app in front) or ``"other"``;
    * ``app_open``: zero-length at each app open, ``"fresh"`` or ``"stale"`` data;
    * ``force_quit``: zero-length at each force-quit;
    * ``network``: every span, ``"none"`` / ``"cellular"`` / ``"wifi"``;
    * ``doze``: spans outside ``active`` (``layout.DOZE_NAMES``);
    * ``bucket``: every span (``layout.BUCKET_NAMES``; ``active`` until the first change);
    * ``low_power``: Low Power Mode / Battery Saver on, ``"on"``;
    * ``thermal``: spans above nominal, ``"fair"`` / ``"serious"`` / ``"critical"``;
    * ``deadline``: zero-length at each missed soft deadline, ``"<work kind>"``.
    """
    if t0 is None:
        t0 = events[0]["t"] if events else 0.0
    if t_end is None:
        t_end = events[-1]["t"] if events else t0
    t_end = max(t_end, t0)
    by: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by.setdefault(e["kind"], []).append(e)
    get = lambda k: by.get(k, [])  # noqa: E731

    spans: dict[str, list[Span]] = {}
    spans["windows"] = [(w.start_s, w.end_s, f"{w.type}:{w.outcome}") for w in windows_from_events(events, t_end)]
    spans["requests"] = [(e["t"], max(e["t"], e["earliest_begin_s"]), e["type"]) for e in get("request")]
    spans["refused"] = [(e["t"], e["t"], f"{e['type']}:{e['reason']}") for e in get("refused")]
    spans["rescheduled"] = _os_reschedules(events)

    charge: list[tuple[float, str]] = []
    screen: list[tuple[float, str]] = []
    for e in events:
        k = e["kind"]
        if k == "charge_start":
            charge.append((e["t"], "overnight" if e["overnight"] else "top-up"))
        elif k == "charge_stop":
            charge.append((e["t"], "off"))
        elif k == "app_open":
            screen.append((e["t"], "app"))
        elif k == "app_close":
            screen.append((e["t"], "off"))
        elif k == "screen":
            screen.append((e["t"], ("app" if e["app"] else "other") if e["on"] else "off"))
    spans["charging"] = [s for s in _state_spans(charge, "off", t0, t_end) if s[2] != "off"]
    spans["screen"] = [s for s in _state_spans(screen, INITIAL["screen"], t0, t_end) if s[2] != "off"]
    spans["app_open"] = [(e["t"], e["t"], "fresh" if e["fresh"] else "stale") for e in get("app_open")]
    spans["force_quit"] = [(e["t"], e["t"], "force_quit") for e in get("force_quit")]
    spans["network"] = _state_spans(((e["t"], e["network"]) for e in get("network")), None, t0, t_end)
    doze = _state_spans(((e["t"], e["state"]) for e in get("doze")), INITIAL["doze"], t0, t_end)
    spans["doze"] = [s for s in doze if s[2] != "active"]
    spans["bucket"] = _state_spans(((e["t"], e["bucket"]) for e in get("bucket")), INITIAL["bucket"], t0, t_end)
    lp = _state_spans(((e["t"], "on" if e["on"] else "off") for e in get("low_power")), "off", t0, t_end)
    spans["low_power"] = [s for s in lp if s[2] == "on"]
    th = _state_spans(((e["t"], e["level"]) for e in get("thermal")), INITIAL["thermal"], t0, t_end)
    spans["thermal"] = [s for s in th if s[2] != "nominal"]
    spans["deadline"] = [(e["t"], e["t"], e["work_kind"]) for e in get("deadline")]
    return spans


# -- battery and backlog series ------------------------------------------------------------
_ANCHORS = ("level", "app_open", "app_close", "charge_start", "charge_stop", "low_power")


def battery_series(
    events: Sequence[dict[str, Any]], t0: float, t_end: float, level_end: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The battery level over ``[t0, t_end]`` as ``(t_s, level)``: a line through every
    level the log records (a ``level`` sample at reset and every simulated hour, and the
    level at ``app_open``, ``app_close``, ``charge_start``, ``charge_stop`` and
    ``low_power``) and ``level_end`` at ``t_end``. Between two records, at most an hour
    apart, the line is straight; the simulator's own battery model is not re-run here."""
    pts = [(e["t"], float(e["battery"])) for e in events if e["kind"] in _ANCHORS and e.get("battery") is not None]
    pts = [p for p in pts if t0 <= p[0] <= t_end]
    if level_end is not None:
        pts.append((t_end, float(level_end)))
    pts.sort(key=lambda p: p[0])
    return np.array([p[0] for p in pts], dtype=float), np.array([p[1] for p in pts], dtype=float)


def backlog_series(
    events: Sequence[dict[str, Any]], t0: float, t_end: float, backlog_end: float | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Pending work units over ``[t0, t_end]`` as a step series ``(t_s, units, max_mismatch)``.

    Starts empty at ``t0`` (a reset clears the backlog), adds each logged ``arrival``,
    removes each saved ``chunk``, and takes the logged size at ``app_open`` (after the
    first screen's foreground refresh), ``app_close`` and ``complete``, and
    ``backlog_end`` at ``t_end``. ``max_mismatch`` is the largest gap between the
    running sum and a logged size at ``app_close`` / ``complete`` / the end (app opens
    are left out: their foreground refresh is not a chunk).
    """
    ts, vs = [t0], [0.0]
    v = 0.0
    mismatch = 0.0
    for e in events:
        k = e["kind"]
        if k == "arrival":
            v += float(e["units"])
        elif k == "chunk" and e["saved"]:
            v = max(0.0, v - float(e["units"]))
        elif k in ("app_open", "app_close", "complete"):
            logged = float(e["backlog_units"])
            if k != "app_open":
                mismatch = max(mismatch, abs(v - logged))
            v = logged
        else:
            continue
        ts.append(e["t"])
        vs.append(v)
    if backlog_end is not None:
        mismatch = max(mismatch, abs(v - backlog_end))
        v = backlog_end
    ts.append(max(t_end, ts[-1]))
    vs.append(v)
    return np.array(ts), np.array(vs), mismatch


# -- the timeline --------------------------------------------------------------------------
@dataclass
class Timeline:
    """Everything a timeline picture shows, in simulated seconds.

    Build it with ``timeline_from_env`` (or ``timeline_from_events`` for a saved log).
    ``checks`` holds ``backlog_mismatch`` (work units): the largest gap between the
    backlog line rebuilt from arrivals and saved chunks and a size the log records.
    """

    platform: str
    t0: float  # episode start, s since midnight of day 0
    t_end: float  # time of the picture ("now"), s
    t_axis_end: float  # right edge of the time axis (the horizon), s
    spans: dict[str, list[Span]]
    windows: list[Window]
    battery_t: np.ndarray
    battery: np.ndarray  # fraction of a full battery
    backlog_t: np.ndarray
    backlog: np.ndarray  # work units
    window_types: list[str]
    scenario: str = ""
    policy: str | None = None
    seed: int | None = None
    metrics: dict[str, float] | None = None
    low_batt: float | None = None
    checks: dict[str, float] = field(default_factory=dict)

    @property
    def request_types(self) -> list[str]:
        """Rows of the requests lane: window types offered or used, in ``WT_NAMES`` order."""
        seen = {s[2] for s in self.spans["requests"]} | {s[2] for s in self.spans["rescheduled"]}
        seen |= {s[2].split(":")[0] for s in self.spans["refused"]}
        return [t for t in L.WT_NAMES if t in seen or t in self.window_types]

    def outcome_counts(self) -> dict[str, int]:
        """Windows by outcome (only outcomes that occur), in ``OUTCOMES`` order."""
        c = Counter(w.outcome for w in self.windows)
        return {o: c[o] for o in OUTCOMES if c[o]}

    def title(self) -> str:
        """Scenario · platform · policy · seed · days (or "so far: day N hh:mm")."""
        parts = [self.scenario or "episode", PLATFORM_NAME.get(self.platform, self.platform)]
        if self.policy:
            parts.append(f"policy {self.policy}")
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        days = (self.t_end - self.t0) / 86400.0
        span = f"{days:.3g} days" if self.t_end >= self.t_axis_end else f"so far: {_clock(self.t_end)}"
        parts.append(span)
        return " · ".join(parts)

    def summary(self) -> str:
        """One line: windows by outcome, completion rate, battery cost, app opens."""
        oc = self.outcome_counts()
        s = f"windows {len(self.windows)}"
        if oc:
            s += " (" + ", ".join(f"{n} {o}" for o, n in oc.items()) + ")"
        m = self.metrics
        if m:
            s += f" · completion rate {m['completion_rate']:.0%}"
            s += f" · battery cost {100 * m['battery_cost']:.2f} % of a full battery"
        opens = self.spans["app_open"]
        if opens:
            fresh = sum(1 for o in opens if o[2] == "fresh")
            s += f" · app opens {len(opens)} ({fresh / len(opens):.0%} fresh)"
        return s


def timeline_from_events(
    events: Sequence[dict[str, Any]],
    platform: str,
    *,
    t0: float | None = None,
    t_end: float | None = None,
    t_axis_end: float | None = None,
    low_batt: float | None = None,
    window_types: Sequence[str] = (),
    battery_end: float | None = None,
    backlog_end: float | None = None,
    scenario: str = "",
    policy: str | None = None,
    seed: int | None = None,
    metrics: dict[str, float] | None = None,
) -> Timeline:
    """A timeline from an event log (records as ``env.unwrapped.events`` or JSON lines).

    ``t0``/``t_end`` default to the first/last event; ``t_axis_end`` (default
    ``t_end``) is the right edge of the time axis. ``low_batt`` (fraction) draws the
    low-battery gate; ``window_types`` are rows always shown (the profile's request
    types), besides every type the log uses.
    """
    t0 = (events[0]["t"] if events else 0.0) if t0 is None else t0
    t_end = (events[-1]["t"] if events else t0) if t_end is None else t_end
    t_axis_end = max(t_end, t0 + 3600.0) if t_axis_end is None else max(t_axis_end, t_end, t0 + 3600.0)
    spans = timeline_spans(events, t_end=t_end, t0=t0)
    wins = windows_from_events(events, t_end)
    bt, bv = battery_series(events, t0, t_end, battery_end)
    qt, qv, qmis = backlog_series(events, t0, t_end, backlog_end)
    types = set(window_types) | {w.type for w in wins} | {s[2] for s in spans["requests"]}
    types |= {s[2].split(":")[0] for s in spans["refused"]} | {s[2] for s in spans["rescheduled"]}
    return Timeline(
        platform=platform,
        t0=t0,
        t_end=t_end,
        t_axis_end=t_axis_end,
        spans=spans,
        windows=wins,
        battery_t=bt,
        battery=bv,
        backlog_t=qt,
        backlog=qv,
        window_types=[t for t in L.WT_NAMES if t in types],
        scenario=scenario,
        policy=policy,
        seed=seed,
        metrics=metrics,
        low_batt=low_batt,
        checks={"backlog_mismatch": qmis},
    )


def timeline_from_env(env: Any, *, policy: str | None = None, seed: int | None = None) -> Timeline:
    """The timeline of ``env``'s episode so far (any wrapper of a ``BackgroundSchedulingEnv``
    made with ``record_events=True``); the time axis spans the whole horizon."""
    u = env.unwrapped
    if not getattr(u, "sim", None) or not u.sim.record_events:
        raise ValueError("a timeline needs the event log: make the env with record_events=True")
    sim = u.sim
    params = u.params
    pf = params.pf
    t0 = float(sim.sf[0, L.S_T0])
    t_now = float(sim.sf[0, L.S_T])
    types = [L.WT_NAMES[int(pf[L.P_OPT_TYPE + i])] for i in range(1, int(pf[L.P_NOPTS]))]
    if params.platform == "android" and "push" in types:
        types.append("push_normal")  # a capped or downgraded push: a fixed row keeps frames one size
    return timeline_from_events(
        u.events,
        params.platform,
        t0=t0,
        t_end=t_now,
        t_axis_end=t0 + float(pf[L.P_HORIZON_S]),
        low_batt=float(pf[L.P_LOW_BATT]),
        window_types=types,
        battery_end=float(sim.sf[0, L.S_BATT]),
        backlog_end=sim.pending_units(0),
        scenario=u.scenario_spec.name,
        policy=policy,
        seed=seed,
        metrics=sim.metrics(0),
    )


def _as_timeline(source: Any, policy: str | None, seed: int | None) -> Timeline:
    if isinstance(source, Timeline):
        if policy is not None:
            source.policy = policy
        if seed is not None:
            source.seed = seed
        return source
    return timeline_from_env(source, policy=policy, seed=seed)


# -- time axis ---------------------------------------------------------------------------------
def _clock(t: float) -> str:
    """``day 1 08:05`` for simulated seconds since midnight of day 0."""
    day, rem = divmod(t, 86400.0)
    h, rem = divmod(rem, 3600.0)
    return f"day {int(day)} {int(h):02d}:{int(rem // 60):02d}"


def _hour_ticks(t0: float, t1: float, step_h: int) -> list[float]:
    """Whole-hour multiples of ``step_h`` in ``[t0, t1]``, in hours."""
    h0 = math.ceil(t0 / 3600.0 / step_h) * step_h
    return [float(h) for h in range(int(h0), int(t1 / 3600.0) + 1, step_h)]


# -- the picture ---------------------------------------------------------------------------------
_LEFT_IN = 1.75  # lane titles and row labels
_RIGHT_IN = 0.3
_ROW_IN = 0.2  # one request/window type row


def _lanes(tl: Timeline) -> list[tuple[str, str, float]]:
    """(key, title, height in inches) top to bottom."""
    n_req = max(1, len(tl.request_types))
    n_win = max(1, len(tl.window_types))
    lanes = [("battery", "battery", 1.25), ("screen", "screen", 0.42), ("network", "network", 0.28)]
    if tl.platform == "android":
        lanes += [("bucket", "standby bucket", 0.28), ("doze", "Doze", 0.28)]
    lp = "Battery Saver" if tl.platform == "android" else "Low Power Mode"
    lanes += [("low_power", lp, 0.2), ("thermal", "thermal", 0.2)]
    lanes += [("requests", "requests", 0.12 + _ROW_IN * n_req), ("windows", "windows", 0.12 + _ROW_IN * n_win)]
    lanes += [("backlog", "backlog", 0.8)]
    return lanes


def figure_size(days: float) -> tuple[float, float]:
    """(width in inches, dpi) for a time axis of ``days``: the layout is drawn on a
    page of 12-17 in and longer episodes get more pixels (1200 px for up to two days,
    up to 2600 px from five days on), so text stays readable on a wide picture."""
    width = float(np.clip(3.0 + 2.6 * days, 12.0, 17.0))
    px = float(np.clip(300.0 * days + 600.0, 1200.0, 2600.0))
    return width, px / width


def timeline_figure(source: Any, *, policy: str | None = None, seed: int | None = None, dpi: float | None = None):
    """The timeline as a matplotlib ``Figure`` on an Agg canvas (no display needed).

    ``source`` is an env (any wrapper) or a ``Timeline``; ``dpi`` defaults to
    ``figure_size``'s. Artists carry ``gid`` names (``windows:<outcome>:<type>``,
    ``charging``, ``network:<state>``, ...) so their geometry can be read back; x is
    simulated hours since midnight of day 0.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tl = _as_timeline(source, policy, seed)
    days = (tl.t_axis_end - tl.t0) / 86400.0
    width, auto_dpi = figure_size(days)
    dpi = auto_dpi if dpi is None else dpi
    lanes = _lanes(tl)
    gap = 0.07
    top_in, axis_in = 0.72, 0.36
    lanes_in = sum(h for _, _, h in lanes) + gap * (len(lanes) - 1)

    fig = Figure(figsize=(width, 4.0), dpi=dpi)
    FigureCanvasAgg(fig)
    legends = _legends(fig, tl)
    legend_rows, legend_in = _flow(fig, legends, width - _LEFT_IN * 0.2 - _RIGHT_IN)
    height = top_in + lanes_in + axis_in + legend_in + 0.12
    fig.set_size_inches(width, height)
    for leg, (x, y) in legend_rows:
        leg.set_bbox_to_anchor((x, y), transform=fig.dpi_scale_trans)

    x0, x1 = tl.t0 / 3600.0, tl.t_axis_end / 3600.0
    axes: dict[str, Any] = {}
    y = height - top_in
    first = None
    for key, title, h in lanes:
        y -= h
        ax = fig.add_axes(
            (_LEFT_IN / width, y / height, (width - _LEFT_IN - _RIGHT_IN) / width, h / height),
            sharex=first,
        )
        first = first or ax
        axes[key] = ax
        ax.set_xlim(x0, x1)
        ax.tick_params(axis="x", which="both", labelbottom=False, length=0)
        ax.tick_params(axis="y", labelsize=7, length=2, pad=2)
        for s in ("top", "right"):
            ax.spines[s].set_visible(False)
        ax.text(
            -_LEFT_IN / (width - _LEFT_IN - _RIGHT_IN) + 0.004,
            0.5,
            title,
            transform=ax.transAxes,
            ha="left",
            va="center",
            fontsize=8.5,
            fontweight="bold",
        )
        y -= gap
    _grid(axes, tl)
    _draw_battery(axes["battery"], tl)
    _draw_screen(axes["screen"], tl)
    _draw_bands(axes["network"], tl.spans["network"], NETWORK_COLOR, "network", NETWORK_LABEL)
    if "bucket" in axes:
        _draw_bands(axes["bucket"], tl.spans["bucket"], BUCKET_COLOR, "bucket", BUCKET_LABEL)
        _draw_bands(axes["doze"], tl.spans["doze"], DOZE_COLOR, "doze", None)
    _draw_bands(axes["low_power"], tl.spans["low_power"], {"on": LOW_POWER_COLOR}, "low_power", None)
    _draw_bands(axes["thermal"], tl.spans["thermal"], THERMAL_COLOR, "thermal", None)
    _draw_requests(axes["requests"], tl)
    _draw_windows(axes["windows"], tl)
    _draw_backlog(axes["backlog"], tl)
    _time_axis(axes["backlog"], axes["battery"], tl, width)
    if tl.t_end < tl.t_axis_end:
        for ax in axes.values():
            ax.axvspan(tl.t_end / 3600.0, x1, color="#f4f4f4", zorder=0.5, lw=0)
            ax.axvline(tl.t_end / 3600.0, color="#555555", lw=0.8, ls="--", zorder=4)
    fig.text(0.1 / width, 1 - 0.12 / height, tl.title(), ha="left", va="top", fontsize=11, fontweight="bold")
    fig.text(0.1 / width, 1 - 0.38 / height, tl.summary(), ha="left", va="top", fontsize=8.5, color="#333333")
    return fig


def _grid(axes: dict[str, Any], tl: Timeline) -> None:
    mid = _hour_ticks(tl.t0, tl.t_axis_end, 24)
    six = [h for h in _hour_ticks(tl.t0, tl.t_axis_end, 6) if h % 24]
    for ax in axes.values():
        for h in mid:
            ax.axvline(h, color="#9a9a9a", lw=0.8, zorder=0.6)
        for h in six:
            ax.axvline(h, color="#d0d0d0", lw=0.5, ls=":", zorder=0.6)


def _time_axis(bottom, top, tl: Timeline, width: float) -> None:
    days = (tl.t_axis_end - tl.t0) / 86400.0
    in_per_h = (width - _LEFT_IN - _RIGHT_IN) / (days * 24.0)
    step = next(s for s in (1, 2, 3, 6, 12, 24) if s * in_per_h >= 0.55)
    ticks = _hour_ticks(tl.t0, tl.t_axis_end, step)
    labels = [(f"day {int(h // 24)}" if h % 24 == 0 else f"{int(h % 24):02d}:00") for h in ticks]
    bottom.set_xticks(ticks, labels)
    bottom.tick_params(axis="x", which="both", labelbottom=True, length=3, labelsize=7.5)
    for lab, h in zip(bottom.get_xticklabels(), ticks):
        if h % 24 == 0:
            lab.set_fontweight("bold")
    # day names on top as well, centred on each day
    mids = [h + 12 for h in _hour_ticks(tl.t0 - 86400.0, tl.t_axis_end, 24)]
    sec = top.secondary_xaxis("top")
    shown = [(m, f"day {int(m // 24)}") for m in mids if tl.t0 / 3600 <= m <= tl.t_axis_end / 3600]
    sec.set_xticks([m for m, _ in shown], [s for _, s in shown])
    sec.tick_params(length=0, labelsize=8, pad=1)
    sec.spines["top"].set_visible(False)


def _barh(ax, spans: Sequence[Span], y: float, h: float, color: str, gid: str, **kw) -> None:
    """Bars at their exact times; the edge keeps very short spans visible (~1 px)."""
    if not spans:
        return
    xr = [(s[0] / 3600.0, (s[1] - s[0]) / 3600.0) for s in spans]
    kw.setdefault("linewidth", 0.6)
    kw.setdefault("edgecolor", color)
    ax.broken_barh(xr, (y, h), facecolors=color, gid=gid, zorder=kw.pop("zorder", 2), **kw)


def _draw_bands(ax, spans: list[Span], colors: dict[str, str], gid: str, inline: dict[str, str] | None) -> None:
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    for state, color in colors.items():
        _barh(ax, [s for s in spans if s[2] == state], 0.0, 1.0, color, f"{gid}:{state}", linewidth=0.0)
    if inline:  # name long spans inside the band
        x0, x1 = ax.get_xlim()
        w_in = ax.get_position().width * ax.figure.get_size_inches()[0]
        for a, b, state in spans:
            if (b - a) / 3600.0 / (x1 - x0) * w_in > 0.12 * len(inline.get(state, state)):
                dark = state in ("wifi", "deep_idle", "restricted")
                ax.text(
                    (a + b) / 7200.0, 0.5, inline.get(state, state), ha="center", va="center", fontsize=6.5,
                    color="white" if dark else "#333333", zorder=3, clip_on=True,
                )  # fmt: skip


def _draw_battery(ax, tl: Timeline) -> None:
    ax.set_ylim(0, 105)
    ax.set_yticks([0, 50, 100], ["0 %", "50 %", "100 %"])
    for a, b, _ in tl.spans["charging"]:
        ax.axvspan(a / 3600.0, b / 3600.0, color=CHARGING_COLOR, lw=0, zorder=1, gid="charging")
    if tl.low_batt:
        ax.axhline(100 * tl.low_batt, color="#b0b0b0", lw=0.6, ls="--", zorder=1)
    if len(tl.battery_t):
        ax.plot(tl.battery_t / 3600.0, 100 * tl.battery, color=BATTERY_COLOR, lw=1.1, zorder=3, gid="battery")


def _draw_screen(ax, tl: Timeline) -> None:
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    sc = tl.spans["screen"]
    _barh(ax, [s for s in sc if s[2] == "other"], 0.3, 0.3, SCREEN_COLOR["other"], "screen:other", linewidth=0.4)
    _barh(ax, [s for s in sc if s[2] == "app"], 0.15, 0.6, SCREEN_COLOR["app"], "screen:app")
    for label, face in (("fresh", SCREEN_COLOR["app"]), ("stale", "white")):
        xs = [s[0] / 3600.0 for s in tl.spans["app_open"] if s[2] == label]
        if xs:
            edge = SCREEN_COLOR["app"] if label == "fresh" else REFUSED_COLOR
            ax.plot(xs, [0.93] * len(xs), "v", ms=4.5, mfc=face, mec=edge, mew=0.9, ls="", zorder=4,
                    clip_on=False, gid=f"app_open:{label}")  # fmt: skip
    xs = [s[0] / 3600.0 for s in tl.spans["force_quit"]]
    if xs:
        ax.plot(xs, [0.45] * len(xs), "x", ms=5, color="black", mew=1.2, ls="", zorder=5, gid="force_quit")


def _rows(ax, types: list[str]) -> dict[str, int]:
    n = max(1, len(types))
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_yticks(range(len(types)), [TYPE_LABEL.get(t, t) for t in types])
    ax.tick_params(axis="y", length=0)
    for i in range(len(types) - 1):
        ax.axhline(i + 0.5, color="#e6e6e6", lw=0.5, zorder=0.7)
    return {t: i for i, t in enumerate(types)}


def _request_lines(req: list[Span]) -> tuple[list[Span], list[Span]]:
    """Split each request's line to its floor into the part while it was pending and the
    part after a later request of the same type replaced it (resubmitting resets the
    timer). Returns (pending parts, replaced parts)."""
    nxt: dict[int, float] = {}
    last: dict[str, int] = {}
    for i, (a, _b, t) in enumerate(req):  # the log is in time order
        if t in last:
            nxt[last[t]] = a
        last[t] = i
    live, gone = [], []
    for i, (a, b, t) in enumerate(req):
        cut = min(b, nxt.get(i, math.inf))
        if cut > a:
            live.append((a, cut, t))
        if b > cut:
            gone.append((cut, b, t))
    return live, gone


def _draw_requests(ax, tl: Timeline) -> None:
    from matplotlib.collections import LineCollection

    row = _rows(ax, tl.request_types)
    req = tl.spans["requests"]
    live, gone = _request_lines(req)
    for parts, alpha, gid in ((live, 1.0, "requests:pending"), (gone, 0.3, "requests:replaced")):
        if parts:
            segs = [[(a / 3600.0, row[t]), (b / 3600.0, row[t])] for a, b, t in parts]
            ax.add_collection(
                LineCollection(segs, colors=REQUEST_COLOR, linewidths=0.8, alpha=alpha, zorder=3, gid=gid)
            )
    floors = [(b, t) for a, b, t in req if b > a]
    if floors:
        ax.plot([b / 3600.0 for b, _ in floors], [row[t] for _, t in floors], "|", ms=6, mew=0.9,
                color=REQUEST_COLOR, ls="", zorder=3, gid="requests:earliest")  # fmt: skip
    if req:
        ax.plot([a / 3600.0 for a, _, _ in req], [row[t] for _, _, t in req], "o", ms=3.2, color=REQUEST_COLOR,
                ls="", zorder=4, gid="requests:submit")  # fmt: skip
    os_ = tl.spans["rescheduled"]
    if os_:
        ax.plot([a / 3600.0 for a, _, _ in os_], [row[t] for _, _, t in os_], "o", ms=4, mfc="white",
                mec=REQUEST_COLOR, mew=0.9, ls="", zorder=4, gid="rescheduled")  # fmt: skip
    ref = tl.spans["refused"]
    if ref:
        ax.plot([a / 3600.0 for a, _, _ in ref], [row[lab.split(":")[0]] for _, _, lab in ref], "x", ms=5,
                mew=1.1, color=REFUSED_COLOR, ls="", zorder=5, gid="refused")  # fmt: skip


def _draw_windows(ax, tl: Timeline) -> None:
    row = _rows(ax, tl.window_types)
    for outcome in OUTCOMES:
        color = OUTCOME_COLOR[outcome]
        for t, i in row.items():
            spans = [(w.start_s, w.end_s, t) for w in tl.windows if w.type == t and w.outcome == outcome]
            extra = {"hatch": "////", "facecolor": "white"} if outcome == "running" else {}
            _barh(ax, spans, i - 0.34, 0.68, color, f"windows:{outcome}:{t}", zorder=3, linewidth=1.0, **extra)


def _draw_backlog(ax, tl: Timeline) -> None:
    if len(tl.backlog_t):
        x = tl.backlog_t / 3600.0
        ax.fill_between(x, tl.backlog, step="post", color=BACKLOG_COLOR, alpha=0.25, lw=0, zorder=2)
        ax.step(x, tl.backlog, where="post", color=BACKLOG_COLOR, lw=0.9, zorder=3, gid="backlog")
    top = float(tl.backlog.max()) if len(tl.backlog) else 0.0
    top = max(top, 1.0)
    ax.set_ylim(0, top * 1.12)
    ax.set_yticks([0, top], ["0", f"{top:.0f} u"])
    xs = [s[0] / 3600.0 for s in tl.spans["deadline"]]
    if xs:
        ax.plot(xs, [0.0] * len(xs), "|", ms=7, mew=1.0, color=REFUSED_COLOR, ls="", zorder=4, clip_on=False,
                transform=ax.get_xaxis_transform(), gid="deadline")  # fmt: skip


def _legends(fig, tl: Timeline) -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    def patch(c: str, **kw) -> Patch:
        return Patch(facecolor=kw.pop("facecolor", c), edgecolor=kw.pop("edgecolor", c), **kw)

    groups: list[tuple[str, list[tuple[Any, str]]]] = [
        (
            "battery",
            [
                (Line2D([], [], color=BATTERY_COLOR, lw=1.1), "level"),
                (patch(CHARGING_COLOR), "charging"),
                (Line2D([], [], color="#b0b0b0", lw=0.6, ls="--"), "low-battery gate"),
            ],
        ),
        (
            "screen",
            [
                (patch(SCREEN_COLOR["app"]), "this app in use"),
                (patch(SCREEN_COLOR["other"]), "other use"),
                (Line2D([], [], marker="v", ls="", color=SCREEN_COLOR["app"], ms=5), "open, data fresh"),
                (Line2D([], [], marker="v", ls="", mfc="white", mec=REFUSED_COLOR, ms=5), "open, data stale"),
                (Line2D([], [], marker="x", ls="", color="black", ms=5), "force-quit"),
            ],
        ),
        ("network", [(patch(NETWORK_COLOR[s], edgecolor="#bbbbbb"), NETWORK_LABEL[s]) for s in NETWORK_STATES]),
    ]
    if tl.platform == "android":
        groups.append(("standby bucket", [(patch(c), BUCKET_LABEL[b]) for b, c in BUCKET_COLOR.items()]))
        groups.append(("Doze", [(patch(c), DOZE_LABEL[d]) for d, c in DOZE_COLOR.items()]))
    lp = "Battery Saver" if tl.platform == "android" else "Low Power Mode"
    groups.append((lp, [(patch(LOW_POWER_COLOR), "on")]))
    groups.append(("thermal", [(patch(c), s) for s, c in THERMAL_COLOR.items()]))
    groups.append(
        (
            "requests",
            [
                (Line2D([], [], marker="o", ls="-", color=REQUEST_COLOR, ms=3.5, lw=0.8), "submitted → earliest begin"),
                (Line2D([], [], ls="-", color=REQUEST_COLOR, alpha=0.3, lw=0.8), "replaced by a later request"),
                (Line2D([], [], marker="o", ls="", mfc="white", mec=REQUEST_COLOR, ms=4), "OS retry after a stop"),
                (Line2D([], [], marker="x", ls="", color=REFUSED_COLOR, ms=5), "refused"),
            ],
        )
    )
    groups.append(
        (
            "windows",
            [
                (
                    patch(OUTCOME_COLOR[o], **({"hatch": "////", "facecolor": "white"} if o == "running" else {})),
                    OUTCOME_LABEL[o],
                )
                for o in OUTCOMES
            ],
        )
    )
    groups.append(
        (
            "backlog",
            [
                (patch(BACKLOG_COLOR, alpha=0.4), "pending work units"),
                (Line2D([], [], marker="|", ls="", color=REFUSED_COLOR, ms=7), "deadline missed"),
            ],
        )
    )
    out = []
    for title, entries in groups:
        leg = fig.legend(
            [h for h, _ in entries],
            [s for _, s in entries],
            title=title,
            ncol=len(entries),
            loc="upper left",
            bbox_to_anchor=(0, 0),
            bbox_transform=fig.dpi_scale_trans,
            fontsize=7,
            title_fontsize=7.5,
            frameon=False,
            handlelength=1.4,
            handleheight=0.9,
            columnspacing=0.9,
            handletextpad=0.4,
            borderpad=0.2,
            alignment="left",
        )
        leg.get_title().set_fontweight("bold")
        out.append(leg)
    return out


def _flow(fig, legends: list[Any], width_in: float) -> tuple[list[tuple[Any, tuple[float, float]]], float]:
    """Lay legends out left to right in rows below the lanes; returns each legend's
    upper-left corner (inches from the figure's lower left) and the block's height."""
    r = fig.canvas.get_renderer()
    sizes = []
    for leg in legends:
        bb = leg.get_window_extent(r)
        sizes.append((bb.width / fig.dpi, bb.height / fig.dpi))
    rows: list[list[int]] = [[]]
    x = 0.0
    for i, (w, _h) in enumerate(sizes):
        if rows[-1] and x + w > width_in:
            rows.append([])
            x = 0.0
        rows[-1].append(i)
        x += w + 0.15
    heights = [max(sizes[i][1] for i in row) for row in rows]
    total = sum(heights) + 0.05 * (len(rows) - 1)
    placed = []
    ytop = total + 0.06
    for row, h in zip(rows, heights):
        x = 0.1
        for i in row:
            placed.append((legends[i], (x, ytop)))
            x += sizes[i][0] + 0.15
        ytop -= h + 0.05
    return placed, total + 0.1


def render_timeline_rgb(
    source: Any, *, policy: str | None = None, seed: int | None = None, dpi: float | None = None
) -> np.ndarray:
    """The timeline picture as an ``(H, W, 3)`` uint8 array. ``source``: an env or a
    ``Timeline``. The size depends on the horizon only (not on how far the episode
    got), so frames of one episode stack into a video."""
    fig = timeline_figure(source, policy=policy, seed=seed, dpi=dpi)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def save_timeline_png(
    source: Any, path: str | Path, *, policy: str | None = None, seed: int | None = None, dpi: float | None = None
) -> Path:
    """Write the timeline picture as a PNG (palette-compressed) and return its path."""
    from PIL import Image

    rgb = render_timeline_rgb(source, policy=policy, seed=seed, dpi=dpi)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a 256-colour palette keeps every colour within a few levels and the file small
    img = Image.fromarray(rgb).quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    img.save(path, format="PNG", optimize=True)
    return path


# -- text --------------------------------------------------------------------------------------------
_ANSI_STEPS_S = (300, 600, 900, 1800, 3600, 7200, 10800, 14400, 21600, 43200)
_BLOCKS = " ▁▂▃▄▅▆▇█"
_WIN_CHAR = {"killed": "K", "expired": "E", "stopped": "S", "completed": "C", "running": "R"}
_REQ_CHAR = {
    "refresh": "r",
    "processing": "p",
    "health": "h",
    "job": "j",
    "expedited": "x",
    "push": "u",
    "push_normal": "u",
    "alarm": "a",
    "fgs": "f",
}
_NET_CHAR = {"none": "-", "cellular": "c", "wifi": "W"}
_DOZE_CHAR = {
    "active": "·",
    "light_pre": ":",
    "light_idle": "l",
    "light_maintenance": "m",
    "deep_idle": "D",
    "deep_maintenance": "M",
}
_BUCKET_CHAR = {"active": "A", "working_set": "W", "frequent": "F", "rare": "R", "restricted": "X"}
_THERMAL_CHAR = {"nominal": "·", "fair": "f", "serious": "s", "critical": "C"}


def _majority(spans: list[Span], edges: np.ndarray, default: str) -> list[str]:
    """The state covering most of each bucket ``[edges[i], edges[i+1])``."""
    out = []
    j = 0
    for a, b in itertools.pairwise(edges):
        cover: dict[str, float] = {}
        while j < len(spans) and spans[j][1] <= a:
            j += 1
        k = j
        while k < len(spans) and spans[k][0] < b:
            s = spans[k]
            cover[s[2]] = cover.get(s[2], 0.0) + min(b, s[1]) - max(a, s[0])
            k += 1
        rest = (b - a) - sum(cover.values())
        if rest > 0:
            cover[default] = cover.get(default, 0.0) + rest
        out.append(max(cover, key=lambda s: cover[s]))
    return out


def _strongest(spans: list[Span], edges: np.ndarray, order: Sequence[str]) -> list[str]:
    """The last state in ``order`` that occurs at all in each bucket (``order[0]`` when
    none does): short charges, Low Power Mode and thermal peaks stay visible."""
    rank = {v: i for i, v in enumerate(order)}
    out = [0] * (len(edges) - 1)
    for a, b, state in spans:
        i0 = max(0, int(np.searchsorted(edges, a, side="right")) - 1)
        i1 = min(len(out) - 1, int(np.searchsorted(edges, b, side="left")) - 1)
        for i in range(i0, i1 + 1):
            out[i] = max(out[i], rank.get(state, 0))
    return [order[i] for i in out]


def render_timeline_ansi(
    source: Any, *, policy: str | None = None, seed: int | None = None, width: int = 100, max_windows: int = 12
) -> str:
    """A compact text timeline: one row per lane, one character per time bucket (a
    round number of minutes or hours so that at most ``width`` buckets cover the time
    axis), a legend, and the last ``max_windows`` windows with their outcome. Lines
    stay within ``width + 12`` columns (legend lines within 112)."""
    tl = _as_timeline(source, policy, seed)
    span_s = tl.t_axis_end - tl.t0
    step = next((s for s in _ANSI_STEPS_S if span_s / s <= width), 86400)
    n = math.ceil(span_s / step - 1e-9)
    edges = tl.t0 + step * np.arange(n + 1, dtype=float)
    now_i = min(n, math.ceil((tl.t_end - tl.t0) / step - 1e-9))  # buckets the episode reached
    lab = 12

    def row(name: str, chars: Sequence[str]) -> str:
        cells = "".join(c if i < now_i else " " for i, c in enumerate(chars))
        return f"{name:<{lab}}{cells}".rstrip()

    lines = [f"bgenv timeline · {tl.title()}", *textwrap.wrap(tl.summary(), width + lab)]
    step_txt = f"{step // 60} min" if step < 3600 else f"{step // 3600} h"
    lines.append(f"{'':<{lab}}1 character = {step_txt}; time axis {_clock(tl.t0)} → {_clock(tl.t_axis_end)}")
    # day and hour rulers
    day_row = [" "] * n
    hour_row = [" "] * n
    for i in range(n):  # mark the character whose time span holds a midnight or a 6-hour mark
        t = edges[i]
        midnight = math.ceil(t / 86400.0) * 86400.0
        six = math.ceil(t / 21600.0) * 21600.0
        if midnight < t + step:
            for k, ch in enumerate(f"day {int(midnight // 86400)}"):
                if i + k < n:
                    day_row[i + k] = ch
            hour_row[i] = "|"
        elif six < t + step and i + 1 < n and hour_row[i] == " ":
            hh = f"{int(six % 86400 // 3600):02d}"
            hour_row[i], hour_row[i + 1] = hh[0], hh[1]
    lines.append(f"{'':<{lab}}{''.join(day_row)}".rstrip())
    lines.append(f"{'hour':<{lab}}{''.join(hour_row)}".rstrip())

    mids = (edges[:-1] + edges[1:]) / 2
    if len(tl.battery_t):
        lvl = np.interp(mids, tl.battery_t, tl.battery)
        lines.append(row("battery", [_BLOCKS[1 + min(7, int(v * 8))] for v in lvl]))
    charging = _strongest(tl.spans["charging"], edges, ("off", "top-up", "overnight"))
    lines.append(row("charging", ["+" if c != "off" else "·" for c in charging]))
    scr = _majority(tl.spans["screen"], edges, "off")
    opens = _points(tl.spans["app_open"], edges)
    screen_chars = []
    for i in range(n):
        if opens[i]:
            screen_chars.append("A" if "stale" not in opens[i] else "a")
        else:
            screen_chars.append({"off": "·", "other": "o", "app": "A"}[scr[i]])
    lines.append(row("screen", screen_chars))
    lines.append(row("network", [_NET_CHAR[s] for s in _majority(tl.spans["network"], edges, "none")]))
    if tl.platform == "android":
        lines.append(row("bucket", [_BUCKET_CHAR[s] for s in _majority(tl.spans["bucket"], edges, "active")]))
        lines.append(row("doze", [_DOZE_CHAR[s] for s in _majority(tl.spans["doze"], edges, "active")]))
    lp_name = "saver" if tl.platform == "android" else "low power"
    lines.append(
        row(lp_name, ["L" if s == "on" else "·" for s in _strongest(tl.spans["low_power"], edges, ("off", "on"))])
    )
    thermal = _strongest(tl.spans["thermal"], edges, ("nominal", "fair", "serious", "critical"))
    lines.append(row("thermal", [_THERMAL_CHAR[s] for s in thermal]))
    reqs = _points([(a, a, t) for a, _, t in tl.spans["requests"]], edges)
    refused = _points(tl.spans["refused"], edges)
    retried = _points(tl.spans["rescheduled"], edges)
    req_chars = []
    for i in range(n):
        if refused[i]:
            req_chars.append("!")
        elif retried[i] and not reqs[i]:
            req_chars.append("~")
        elif reqs[i]:
            kinds = {_REQ_CHAR.get(t, "?") for t in reqs[i]}
            req_chars.append(kinds.pop() if len(kinds) == 1 else "*")
        else:
            req_chars.append("·")
    lines.append(row("requests", req_chars))
    win_chars = ["·"] * n
    rank = {o: i for i, o in enumerate(("running", "completed", "stopped", "expired", "killed"))}
    best = [-1] * n
    for w in tl.windows:
        i0 = min(n - 1, int((w.start_s - tl.t0) // step))
        i1 = min(n - 1, int((max(w.start_s, w.end_s - 1e-9) - tl.t0) // step))
        for i in range(max(0, i0), max(i0, i1) + 1):
            if rank[w.outcome] > best[i]:
                best[i] = rank[w.outcome]
                win_chars[i] = _WIN_CHAR[w.outcome]
    lines.append(row("windows", win_chars))
    if len(tl.backlog_t):
        idx = np.searchsorted(tl.backlog_t, edges[1:], side="right") - 1
        lo = np.searchsorted(tl.backlog_t, edges[:-1], side="right") - 1
        top = max(float(tl.backlog.max()), 1e-9)
        chars = []
        for a, b in zip(lo, idx):
            v = float(tl.backlog[max(0, a) : max(0, b) + 1].max())
            chars.append(" " if v <= 0 else _BLOCKS[1 + min(7, int(v / top * 8))])
        lines.append(row("backlog", chars))
        lines.append(f"{'':<{lab}}backlog: ▁ … █ up to {top:.0f} work units (bucket maximum)")
    lines += _ansi_legend(tl)
    lines += _window_list(tl, max_windows)
    return "\n".join(lines)


def _points(points: list[Span], edges: np.ndarray) -> list[list[str]]:
    out: list[list[str]] = [[] for _ in range(len(edges) - 1)]
    for a, _b, lab in points:
        i = int(np.searchsorted(edges, a, side="right")) - 1
        if 0 <= i < len(out):
            out[i].append(lab)
    return out


def _ansi_legend(tl: Timeline) -> list[str]:
    out = [
        "legend: battery ▁ 0-12 % … █ 88-100 % · charging + · screen A app opened (a: data stale) o other use",
        "        network W Wi-Fi c cellular - none · thermal f fair s serious C critical · low power/saver L on",
        "        requests r refresh p processing h health j job x expedited u push a alarm f FGS * several",
        "                 ~ OS retry after a stop (backoff) ! refused",
        "        windows C completed E expired S stopped early K killed R running (worst outcome per character)",
        "        charging, low power, thermal (peak), screen, requests, windows: at any time in the character;",
        "        network, bucket, doze: most of it",
    ]
    if tl.platform == "android":
        out.append("        bucket A active W working set F frequent R rare X restricted")
        out.append(
            "        doze · active : screen off, not idle yet l light idle m light maintenance D deep idle M deep maint."
        )
    return out


def _outcome_text(w: Window) -> str:
    """``completed``, ``expired``, ``stopped (user)``, ``killed (memory)``, ..."""
    if w.outcome in ("completed", "running") or w.reason == w.outcome:
        return w.outcome
    return f"{w.outcome} ({w.reason})"


def _window_list(tl: Timeline, k: int) -> list[str]:
    if not tl.windows:
        return ["windows: none granted yet"]
    ws = tl.windows[-k:]
    head = f"windows ({len(tl.windows)} in all; the last {len(ws)}):" if len(tl.windows) > k else "windows:"
    out = [head]
    for w in ws:
        out.append(
            f"  {_clock(w.start_s)}:{int(w.start_s % 60):02d}  {TYPE_LABEL.get(w.type, w.type):<15} "
            f"{w.end_s - w.start_s:7.1f} s  {_outcome_text(w):<22} {w.units:6.1f} units saved"
        )
    return out


# -- bgenv timeline ------------------------------------------------------------------------------------
def run_episode(policy: str, scenario: str, days: float, seed: int) -> tuple[Any, dict[str, Any]]:
    """Run one episode of ``policy`` (a hand-written policy name or a trained model's
    ``.zip``, resolved by ``agents.evaluate.load_policy``) on ``scenario`` for ``days``
    simulated days with reset seed ``seed``; returns the env and the last step's info."""
    import gymnasium as gym

    from agents.evaluate import load_policy
    from bgenv.registration import env_id_for

    env = gym.make(env_id_for(scenario), scenario=scenario, horizon_days=days)
    pol = load_policy(policy, env, seed=seed)
    obs, info = env.reset(seed=seed)
    done = False
    while not done:
        obs, _, term, trunc, info = env.step(pol.act(obs, env.unwrapped.action_masks()))
        done = term or trunc
    return env, info


def timeline_command(
    policy: str, scenario: str, days: float, seed: int, out: str | Path | None, ansi: bool = False
) -> int:
    """``bgenv timeline``: run one episode, write its timeline PNG, print a summary."""
    from agents.evaluate import policy_label

    env, _info = run_episode(policy, scenario, days, seed)
    tl = timeline_from_env(env, policy=policy_label(policy), seed=seed)
    if ansi:
        print(render_timeline_ansi(tl))
    if out is not None:
        path = save_timeline_png(tl, out)
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    print(tl.summary())
    env.close()
    return 0
