"""The drawable model of an episode: what a timeline shows, built from the event log.

:func:`timeline_spans` turns a log into the spans and marks the picture draws (lanes of
``(start_s, end_s, label)``), :func:`timeline_from_events` / :func:`timeline_from_env`
gather them with the windows, battery and backlog series into a :class:`Timeline`.
The log is read through ``bgenv.eventlog`` (windows, state channels, series); nothing
here draws. Times are simulated seconds since midnight of day 0, exactly as logged.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bgenv import eventlog as EL
from bgenv.core import layout as L
from bgenv.eventlog import OUTCOMES, Event, Window
from bgenv.render.style import PLATFORM_NAME

Span = tuple[float, float, str]  # (start_s, end_s, label), simulated s since midnight of day 0

__all__ = [
    "Span",
    "Timeline",
    "as_timeline",
    "clock",
    "request_lines",
    "timeline_from_env",
    "timeline_from_events",
    "timeline_spans",
]


def timeline_spans(
    events: Sequence[Event], t_end: float | None = None, t0: float | None = None
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
      with backoff (Android JobScheduler; a ``retry`` record, not a ``request``), ``"<type>"``;
    * ``charging``: plug to unplug, ``"overnight"`` or ``"top-up"`` (a top-up still
      plugged in at bedtime becomes ``"overnight"`` from there);
    * ``screen``: screen on, ``"app"`` (this app in front) or ``"other"``;
    * ``app_open``: zero-length at each app open, ``"fresh"`` or ``"stale"`` data;
    * ``force_quit``: zero-length at each force-quit;
    * ``network``: every span, ``"none"`` / ``"cellular"`` / ``"wifi"``;
    * ``doze``: spans outside ``active`` (``layout.DOZE_NAMES``);
    * ``bucket``: every span (``layout.BUCKET_NAMES``; ``active`` until the first change);
    * ``low_power``: Low Power Mode / Battery Saver on, ``"on"``;
    * ``thermal``: spans above nominal, ``"fair"`` / ``"serious"`` / ``"critical"``;
    * ``power``: a replayed phone shut down with its battery empty, ``"off"``;
    * ``deadline``: zero-length at each missed soft deadline, ``"<work kind>"``.
    """
    t0, t_end = _bounds(events, t0, t_end)
    t_end = max(t_end, t0)
    return _spans(events, t0, t_end, EL.windows(events, t_end))


def _bounds(events: Sequence[Event], t0: float | None, t_end: float | None) -> tuple[float, float]:
    """``t0`` and ``t_end`` with their defaults (first and last event), s."""
    if t0 is None:
        t0 = events[0]["t"] if events else 0.0
    if t_end is None:
        t_end = events[-1]["t"] if events else t0
    return t0, t_end


def _spans(events: Sequence[Event], t0: float, t_end: float, wins: Sequence[Window]) -> dict[str, list[Span]]:
    """:func:`timeline_spans` with the windows already read."""

    def state(channel: str, keep: Any = lambda v: True) -> list[Span]:
        return [s for s in EL.spans(events, channel, t0, t_end) if keep(s[2])]

    def marks(kind: str, label: Any) -> list[Span]:
        return [(e["t"], e["t"], label(e)) for e in EL.of_kind(events, kind)]

    spans: dict[str, list[Span]] = {}
    spans["windows"] = [(w.start_s, w.end_s, f"{w.type}:{w.outcome}") for w in wins]
    spans["requests"] = [(e["t"], max(e["t"], e["earliest_begin_s"]), e["type"]) for e in EL.of_kind(events, "request")]
    spans["refused"] = marks("refused", lambda e: f"{e['type']}:{e['reason']}")
    spans["rescheduled"] = [(r["t"], r["t"], r["type"]) for r, _ in EL.os_retries(events)]
    spans["charging"] = state("charging", lambda v: v != "off")
    spans["screen"] = state("screen", lambda v: v != "off")
    spans["app_open"] = marks("app_open", lambda e: "fresh" if e["fresh"] else "stale")
    spans["force_quit"] = marks("force_quit", lambda e: "force_quit")
    spans["network"] = state("network")
    spans["doze"] = state("doze", lambda v: v != "active")
    spans["bucket"] = state("bucket")
    spans["low_power"] = state("low_power", lambda v: v == "on")
    spans["thermal"] = state("thermal", lambda v: v != "nominal")
    spans["power"] = state("power", lambda v: v == "off")
    spans["deadline"] = marks("deadline", lambda e: e["work_kind"])
    return spans


def request_lines(req: Sequence[Span]) -> tuple[list[Span], list[Span]]:
    """Split each request's line (``timeline_spans(...)["requests"]``, in log order) to
    its floor into the part while it was pending and the part after a later request of
    the same type replaced it (resubmitting resets the timer). Returns (pending parts,
    replaced parts), s."""
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


def clock(t: float) -> str:
    """``day 1 08:05`` for ``t`` simulated seconds since midnight of day 0."""
    day, rem = divmod(t, 86400.0)
    h, rem = divmod(rem, 3600.0)
    return f"day {int(day)} {int(h):02d}:{int(rem // 60):02d}"


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
    battery_t: np.ndarray  # s
    battery: np.ndarray  # fraction of a full battery
    backlog_t: np.ndarray  # s
    backlog: np.ndarray  # work units
    window_types: list[str]
    scenario: str = ""
    policy: str | None = None
    seed: int | None = None
    metrics: dict[str, float] | None = None
    low_batt: float | None = None  # fraction of a full battery
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
        span = f"{days:.3g} days" if self.t_end >= self.t_axis_end else f"so far: {clock(self.t_end)}"
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
    events: Sequence[Event],
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

    ``t0``/``t_end`` (s) default to the first/last event; ``t_axis_end`` (s, default
    ``t_end``, at least an hour after ``t0``) is the right edge of the time axis.
    ``low_batt`` (fraction) draws the low-battery gate; ``window_types`` are rows always
    shown (the profile's request types), besides every type the log uses;
    ``battery_end`` (fraction) and ``backlog_end`` (work units) are the levels at ``t_end``.
    """
    t0, t_end = _bounds(events, t0, t_end)
    t_axis_end = max(t_end, t0 + 3600.0) if t_axis_end is None else max(t_axis_end, t_end, t0 + 3600.0)
    t_hi = max(t_end, t0)
    wins = EL.windows(events, t_hi)
    spans = _spans(events, t0, t_hi, wins)
    bt, bv = EL.battery_series(events, t0, t_end, battery_end)
    qt, qv, qmis = EL.backlog_series(events, t0, t_end, backlog_end)
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


def as_timeline(source: Any, policy: str | None = None, seed: int | None = None) -> Timeline:
    """``source`` as a :class:`Timeline`: a Timeline (its ``policy`` / ``seed`` set when
    given) or the timeline of an env's episode so far."""
    if isinstance(source, Timeline):
        if policy is not None:
            source.policy = policy
        if seed is not None:
            source.seed = seed
        return source
    return timeline_from_env(source, policy=policy, seed=seed)
