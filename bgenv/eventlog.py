"""Reading the event log: records, background windows and state spans.

The simulator logs what happened on the phone when an env is made with
``record_events=True`` (``env.unwrapped.events``: one record per event, ``t`` in
simulated seconds since midnight of day 0, ``kind`` and the fields of
``bgenv.core.layout.EVENT_SCHEMA``; ``env.unwrapped.export_events(path)`` writes them as
JSON lines, :func:`read_jsonl` reads them back). This module is the one place that
interprets such a log; the timeline renderer, the fidelity experiments and the tests
all read it through here:

* :func:`windows`: every background window from its ``grant`` to the event that closed
  it, with its outcome, the work its chunks saved and the device state at the grant;
  :func:`os_retries`: the OS's own reschedulings of stopped windows (Android backoff,
  ``retry`` records) and the grants they led to;
* :data:`CHANNELS`, :func:`changes`, :func:`spans`, :func:`seconds_in`: the
  piecewise-constant device states (screen, charging, network, Doze, standby bucket,
  Low Power Mode / Battery Saver, thermal state) as changes, merged spans or time spent;
* :func:`seconds_when`: time spent in device states that satisfy a condition on several
  channels at once (e.g. the app on screen, unplugged, Low Power Mode on);
* :func:`battery_series`, :func:`backlog_series`: battery level and pending work over time;
* :func:`end_time`: where an env's log ends (windows still open end there).

Nothing here runs while an episode is simulated: the log is read only when asked.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

Event = dict[str, Any]
Span = tuple[float, float, Any]  # (start_s, end_s, value)

H = 3600.0
DAY = 86400.0

# Events that close a window (one window runs at a time).
CLOSING = ("complete", "expire", "kill")
# Outcomes of a window, in legend order.
OUTCOMES = ("completed", "expired", "stopped", "killed", "running")


def read_jsonl(path: str | Path) -> list[Event]:
    """An event log written by ``env.unwrapped.export_events(path)`` (JSON lines)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def of_kind(events: Iterable[Event], *kinds: str) -> list[Event]:
    """The records of the given kinds, in log order (all records when none is given)."""
    if not kinds:
        return list(events)
    return [e for e in events if e["kind"] in kinds]


def end_time(env: Any) -> float:
    """The simulated time an env's episode has reached, s since midnight of day 0."""
    u = env.unwrapped
    return u.scenario_spec.start_hour * H + u.metrics()["simulated_days"] * DAY


# ---------------------------------------------------------------------------
# Device state channels
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Channel:
    """A piecewise-constant device state and how the log records its changes.

    Attributes:
        kinds: the event kinds that change it.
        value: the state after an event of one of ``kinds``.
        initial: the state at reset, before any event says otherwise (``None``: the
            log states it at the start, as for the network).
        track: for a state that depends on more than the last record (the network the
            app sees: the underlying network, or none during a drop), the function
            that reads its changes off the log instead of ``value``.
    """

    kinds: tuple[str, ...]
    value: Callable[[Event], Any]
    initial: Any
    track: Callable[[Iterable[Event]], list[tuple[float, Any]]] | None = None


def _screen(e: Event) -> str:
    if e["kind"] == "reset":
        return "other" if e["screen"] else "off"
    if e["kind"] == "app_open":
        return "app"
    if e["kind"] == "app_close":
        return "off"
    return ("app" if e["app"] else "other") if e["on"] else "off"


def _charging(e: Event) -> str:
    if e["kind"] == "charge_start":
        return "overnight" if e["overnight"] else "top-up"
    if e["kind"] == "reset" and e["charging"]:
        return "overnight"  # plugged in at reset: the user is asleep on the charger
    return "off"


def _on_off(field: str) -> Callable[[Event], str]:
    return lambda e: "on" if e[field if e["kind"] == "reset" else "on"] else "off"


def _network(events: Iterable[Event]) -> list[tuple[float, Any]]:
    """The network the phone has, as ``(t_s, value)`` changes: the underlying network of
    the ``network`` records, ``"none"`` from a ``drop`` record's start to its end."""
    out: list[tuple[float, Any]] = []
    base, drop = None, False
    for e in events:
        k = e["kind"]
        if k == "reset":
            base, drop = None, False  # the new episode logs its network at once
        elif k == "network":
            base = e["network"]
            out.append((e["t"], "none" if drop else base))
        elif k == "drop":
            base, drop = e["network"], bool(e["on"])
            out.append((e["t"], "none" if drop else base))
    return out


# The simulator's state at reset (core/kernel.py ``reset_device`` zeroes the integer
# state, then logs a ``reset`` record with the screen, thermal state, Low Power Mode and
# charger it starts with, which these channels read): screen off, not charging, thermal
# nominal, Low Power Mode off unless the ``reset`` record says otherwise; standby bucket
# active, Doze active. The network and any charging at the start are logged at t0.
CHANNELS: dict[str, Channel] = {
    # "off", "other" (another app or the home screen) or "app" (this app in front)
    "screen": Channel(("screen", "app_open", "app_close", "reset"), _screen, "off"),
    # "off", "overnight" or "top-up"; a top-up charge still plugged in at bedtime turns
    # "overnight" there (a charge_start with ``continued`` set: no new plug-in)
    "charging": Channel(("charge_start", "charge_stop", "reset"), _charging, "off"),
    # "none", "cellular" or "wifi": the network the phone has ("none" during a drop)
    "network": Channel(("network", "drop"), lambda e: e["network"], None, _network),
    # layout.DOZE_NAMES
    "doze": Channel(("doze",), lambda e: e["state"], "active"),
    # layout.BUCKET_NAMES
    "bucket": Channel(("bucket",), lambda e: e["bucket"], "active"),
    # "on" or "off" (Low Power Mode on iOS, Battery Saver on Android)
    "low_power": Channel(("low_power", "reset"), _on_off("low_power"), "off"),
    # "on", or "off" while a replayed phone is shut down with its battery empty
    "power": Channel(("power",), lambda e: "on" if e["on"] else "off", "on"),
    # "nominal", "fair", "serious" or "critical"
    "thermal": Channel(("thermal", "reset"), lambda e: e["thermal" if e["kind"] == "reset" else "level"], "nominal"),
}


def changes(events: Iterable[Event], channel: str) -> list[tuple[float, Any]]:
    """Every logged change of ``channel`` as ``(t_s, value)``, in log order (a record
    that repeats the current value is kept)."""
    ch = CHANNELS[channel]
    if ch.track is not None:
        return ch.track(events)
    return [(e["t"], ch.value(e)) for e in events if e["kind"] in ch.kinds]


def value_at(events: Iterable[Event], channel: str, t: float) -> Any:
    """The state of ``channel`` at simulated time ``t`` (after the events logged at ``t``)."""
    v = CHANNELS[channel].initial
    for tc, vc in changes(events, channel):
        if tc > t:
            break
        v = vc
    return v


def spans(events: Iterable[Event], channel: str, t0: float, t_end: float) -> list[Span]:
    """The spans of ``channel`` over ``[t0, t_end]``: ``(start_s, end_s, value)`` in time
    order, neighbours with the same value merged, zero-length spans dropped; the last
    state runs to ``t_end``."""
    return _merged_spans(changes(events, channel), CHANNELS[channel].initial, t0, t_end)


def _merged_spans(chg: Iterable[tuple[float, Any]], initial: Any, t0: float, t_end: float) -> list[Span]:
    out: list[Span] = []
    t, v = t0, initial
    for tc, vc in chg:
        if vc == v:
            continue
        if v is not None and tc > t:
            out.append((t, tc, v))
        t, v = tc, vc
    if v is not None and t_end > t:
        out.append((t, t_end, v))
    merged: list[Span] = []
    for s in out:
        if merged and merged[-1][2] == s[2] and merged[-1][1] == s[0]:
            merged[-1] = (merged[-1][0], s[1], s[2])
        else:
            merged.append(s)
    return merged


def seconds_in(events: Sequence[Event], channel: str, t0: float, t_end: float) -> dict[Any, float]:
    """Seconds spent in each value of ``channel`` between ``t0`` and ``t_end`` (the log
    is read from ``t0``: pass the episode's start)."""
    out: dict[Any, float] = {}
    tl = [(t0, CHANNELS[channel].initial), *changes(events, channel), (t_end, None)]
    for (t, v), (t2, _) in itertools.pairwise(tl):
        out[v] = out.get(v, 0.0) + t2 - t
    return out


# ---------------------------------------------------------------------------
# Background windows
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceState:
    """The device as the log tells it at one moment (here: a window's grant).

    Attributes:
        doze: Doze state (``layout.DOZE_NAMES``; ``"active"`` on iOS).
        thermal: thermal state.
        low_power: Low Power Mode / Battery Saver on.
        network: ``"none"``, ``"cellular"`` or ``"wifi"``: the network the phone has,
            ``"none"`` during a drop (``None`` before it is logged).
        network_base: the underlying network (what a drop hides).
        drop: a short connectivity drop is on.
        charging: on the charger.
        screen: screen on (this app or another).
        foreground: this app is in front.
        screen_off_at: when the screen last went off, simulated s (-inf: not yet).
        last_open: when the app was last opened, simulated s (-inf: not yet).
    """

    doze: str = "active"
    thermal: str = "nominal"
    low_power: bool = False
    network: str | None = None
    network_base: str | None = None
    drop: bool = False
    charging: bool = False
    screen: bool = False
    foreground: bool = False
    screen_off_at: float = -math.inf
    last_open: float = -math.inf


@dataclass(frozen=True)
class Window:
    """One granted background window, as the event log tells it.

    Attributes:
        type: window type (``layout.WT_NAMES``).
        start_s: time of its ``grant`` event, simulated s.
        end_s: time of the event that closed it; a window still open at the end of the
            log ends at ``t_end`` (see :func:`windows`), s.
        budget_s: the budget the OS granted, s (hidden from the app).
        bucket: Android standby bucket at the grant (``None`` on iOS).
        attempt: the backoff attempt counter logged with the grant.
        closed_by: kind of the event that closed it: ``complete``, ``expire``, ``kill``,
            or ``open`` while it runs.
        reason: the closing event's end reason (``layout.END_NAMES``); ``""`` for a
            completion or an open window.
        killed: the app was killed: closed by a ``kill``, or its expiration handler
            overran the grace period (a ``kill`` at the instant of the ``expire``).
        kill_reason: the ``kill``'s reason when ``killed``, else ``""``.
        units: work units saved by its chunks.
        state: the device at the grant.
        events: the ``grant`` and the ``chunk`` / ``expire`` / ``kill`` / ``complete``
            records logged after it, up to the next grant.
    """

    type: str
    start_s: float
    end_s: float
    budget_s: float
    bucket: str | None
    attempt: int
    closed_by: str
    reason: str
    killed: bool
    kill_reason: str
    units: float
    state: DeviceState
    events: tuple[Event, ...]

    @property
    def length_s(self) -> float:
        """Time from grant to close, s."""
        return self.end_s - self.start_s

    @property
    def outcome(self) -> str:
        """``completed``, ``expired`` (the budget ran out), ``stopped`` (the OS stopped it
        for another reason), ``killed`` or ``running`` (see :data:`OUTCOMES`)."""
        if self.killed:
            return "killed"
        if self.closed_by == "complete":
            return "completed"
        if self.closed_by == "open":
            return "running"
        return "expired" if self.reason == "expired" else "stopped"

    @property
    def end_event(self) -> Event | None:
        """The record that closed the window, if any."""
        for e in self.events[1:]:
            if e["kind"] in CLOSING:
                return e
        return None


def windows(events: Sequence[Event], t_end: float | None = None) -> list[Window]:
    """Every window in the log, in grant order.

    The simulator runs one window at a time, so a window ends at the first
    ``complete`` / ``expire`` / ``kill`` after its grant; a ``kill`` at the same instant
    as the ``expire`` that closed it marks it ``killed``. A window still open at the end
    of the log ends at ``t_end`` (default: the last record's time).
    """
    if t_end is None:
        t_end = events[-1]["t"] if events else 0.0
    out: list[Window] = []
    st = DeviceState()
    cur: dict[str, Any] | None = None  # the window being read, as keyword arguments

    def close(w: dict[str, Any]) -> None:
        w["events"] = tuple(w["events"])
        out.append(Window(**w))

    for e in events:
        k = e["kind"]
        if k == "grant":
            if cur is not None:
                if cur["closed_by"] == "open":  # cannot happen in the simulator; keep the window honest
                    cur["end_s"] = e["t"]
                close(cur)
            cur = {
                "type": e["type"],
                "start_s": float(e["t"]),
                "end_s": math.nan,
                "budget_s": float(e["budget_s"]),
                "bucket": e["bucket"],
                "attempt": int(e["attempt"]),
                "closed_by": "open",
                "reason": "",
                "killed": False,
                "kill_reason": "",
                "units": 0.0,
                "state": st,
                "events": [e],
            }
            continue
        if k in ("chunk", *CLOSING) and cur is not None:
            cur["events"].append(e)
            if k == "chunk":
                if e["saved"] and cur["closed_by"] == "open":
                    cur["units"] += float(e["units"])
            elif cur["closed_by"] == "open":
                cur["closed_by"], cur["end_s"] = k, float(e["t"])
                cur["reason"] = "" if k == "complete" else str(e["reason"])
                if k == "kill":
                    cur["killed"], cur["kill_reason"] = True, str(e["reason"])
            elif k == "kill" and not cur["killed"] and cur["end_s"] == e["t"]:
                cur["killed"], cur["kill_reason"] = True, str(e["reason"])
            continue
        st = _advance(st, e)
    if cur is not None:
        if cur["closed_by"] == "open":
            cur["end_s"] = float(max(cur["start_s"], t_end))
        close(cur)
    return out


def os_retries(events: Iterable[Event]) -> list[tuple[Event, Event | None]]:
    """Every time the OS rescheduled a stopped window by itself (Android JobScheduler's
    backoff), in log order: the ``retry`` record (logged at the stop, with the type, the
    earliest-begin floor and the attempt number) and the ``grant`` it led to, or ``None``
    when it never ran (a request of the app replaced it, or the log ends first)."""
    out: list[tuple[Event, Event | None]] = []
    waiting: dict[str, int] = {}  # window type -> index in out of the retry not yet granted
    for e in events:
        k = e["kind"]
        if k == "retry":
            waiting[e["type"]] = len(out)
            out.append((e, None))
        elif k == "request":
            waiting.pop(e["type"], None)  # the app's request replaces the job, attempts start again
        elif k == "grant" and e["type"] in waiting and e["attempt"] == out[waiting[e["type"]]][0]["attempt"]:
            i = waiting.pop(e["type"])
            out[i] = (out[i][0], e)
    return out


def _advance(st: DeviceState, e: Event) -> DeviceState:
    """The device state after record ``e``."""
    k = e["kind"]
    if k == "doze":
        return replace(st, doze=e["state"])
    if k == "thermal":
        return replace(st, thermal=e["level"])
    if k == "low_power":
        return replace(st, low_power=bool(e["on"]))
    if k == "network":
        return replace(st, network="none" if st.drop else e["network"], network_base=e["network"])
    if k == "drop":
        return replace(st, network="none" if e["on"] else e["network"], network_base=e["network"], drop=bool(e["on"]))
    if k == "reset":
        return DeviceState(
            thermal=e["thermal"], low_power=bool(e["low_power"]), charging=bool(e["charging"]), screen=bool(e["screen"])
        )
    if k == "charge_start":
        return replace(st, charging=True)
    if k == "charge_stop":
        return replace(st, charging=False)
    if k == "screen":
        if e["on"]:
            return replace(st, screen=True)
        return replace(st, screen=False, screen_off_at=float(e["t"]))
    if k == "app_open":
        return replace(st, foreground=True, last_open=float(e["t"]))
    if k == "app_close":
        return replace(st, foreground=False)
    return st


def seconds_when(events: Iterable[Event], t0: float, t_end: float, predicate: Callable[[DeviceState], bool]) -> float:
    """Seconds between ``t0`` and ``t_end`` in which the device state (:class:`DeviceState`,
    as at a window's grant) satisfies ``predicate``, e.g. the app on screen with Low Power
    Mode on: ``lambda s: s.foreground and s.low_power``. The log is read from its start."""
    st = DeviceState()
    total, since = 0.0, t0
    for e in events:
        t = min(max(float(e["t"]), t0), t_end)
        if predicate(st):
            total += t - since
        since = t
        st = _advance(st, e)
    if predicate(st):
        total += t_end - since
    return total


# ---------------------------------------------------------------------------
# Levels over time
# ---------------------------------------------------------------------------
# Records that carry the battery level.
BATTERY_RECORDS = ("level", "app_open", "app_close", "charge_start", "charge_stop", "low_power", "screen")


def battery_series(
    events: Sequence[Event], t0: float, t_end: float, level_end: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The battery level (fraction of a full battery) over ``[t0, t_end]`` as
    ``(t_s, level)``: a line through every level the log records (a ``level`` sample at
    reset and every simulated hour, and the level at ``app_open``, ``app_close``,
    ``charge_start``, ``charge_stop``, ``low_power`` and ``screen``) and ``level_end`` at ``t_end``.
    Between two records, at most an hour apart, the line is straight; the simulator's
    own battery model is not re-run here."""
    pts = [
        (e["t"], float(e["battery"])) for e in events if e["kind"] in BATTERY_RECORDS and e.get("battery") is not None
    ]
    pts = [p for p in pts if t0 <= p[0] <= t_end]
    if level_end is not None:
        pts.append((t_end, float(level_end)))
    pts.sort(key=lambda p: p[0])
    return np.array([p[0] for p in pts], dtype=float), np.array([p[1] for p in pts], dtype=float)


def backlog_series(
    events: Sequence[Event], t0: float, t_end: float, backlog_end: float | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Pending work units over ``[t0, t_end]`` as a step series ``(t_s, units, max_mismatch)``.

    Starts empty at ``t0`` (a reset clears the backlog), adds each logged ``arrival``,
    removes each saved ``chunk`` and each iOS background ``transfer`` done, and takes the logged size at ``app_open`` (after the
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
        elif (k == "chunk" and e["saved"]) or (k == "transfer" and e["state"] == "done"):
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
