"""A recorded device trace: one phone's channels over time, as step functions.

A :class:`Trace` is what a loader (:mod:`bgenv.traces.batterystats`,
:mod:`bgenv.traces.powerlog`, :mod:`bgenv.traces.greenhub`) makes of one device's
recording, in the units the simulator uses, so that the core can later replay it from
plain numpy arrays.

**Time base.** ``start_utc_s`` is the UTC epoch time (s) of the trace's ``t = 0``; every
channel time ``t_s`` is s since that start (float64, sorted, within ``[0, duration_s]``).
``utc_offset_s`` is the device's local offset from UTC (s, e.g. -21600 for UTC-6) when the
source records it, else None (local time is then taken as UTC). One offset per trace:
a daylight-saving change inside the recording is not followed (assumption).

**Channels.** Each channel is a step function: ``value[i]`` holds from ``t_s[i]`` until
``t_s[i + 1]`` (the last value until the end of the trace). A NaN value means *not
recorded* from that time on (for example the screen of the shipped sample is known only
in its last 44 h). Before a channel's first sample its value is unknown. A channel the
source cannot give is absent from :attr:`Trace.series` (never filled with zeros);
:attr:`Trace.channels` lists those present. The names and codes:

=================  ===========================================================  ========
channel            value                                                        unit
=================  ===========================================================  ========
``screen_on``      1 screen on, 0 off                                           0/1
``app_open``       1 while this app is in the foreground (where known)          0/1
``plugged``        1 on external power (charging or held), 0 on battery         0/1
``battery_level``  level samples (step between samples)                         fraction
``network``        0 none, 1 cellular, 2 Wi-Fi (:data:`NETWORK_CODES`)          code
``low_power``      Low Power Mode / Battery Saver on                            0/1
``doze``           0 none, 1 light, 2 deep (Android Doze, :data:`DOZE_CODES`)   code
``temperature_c``  battery temperature samples                                  °C
=================  ===========================================================  ========

Files: :meth:`Trace.save` writes a compressed ``.npz`` (two float64 arrays per channel
plus a JSON header); :meth:`Trace.load` reads it back without pickling.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DAY_S = 86_400.0
"""Seconds in a day."""

CHANNELS: tuple[str, ...] = (
    "screen_on",
    "app_open",
    "plugged",
    "battery_level",
    "network",
    "low_power",
    "doze",
    "temperature_c",
)
"""Every channel a trace may carry, in canonical order."""

NETWORK_NONE, NETWORK_CELLULAR, NETWORK_WIFI = 0.0, 1.0, 2.0
NETWORK_CODES: dict[str, float] = {"none": NETWORK_NONE, "cellular": NETWORK_CELLULAR, "wifi": NETWORK_WIFI}
"""Codes of the ``network`` channel."""

DOZE_NONE, DOZE_LIGHT, DOZE_DEEP = 0.0, 1.0, 2.0
DOZE_CODES: dict[str, float] = {"none": DOZE_NONE, "light": DOZE_LIGHT, "deep": DOZE_DEEP}
"""Codes of the ``doze`` channel."""

_FORMAT = "bgenv-trace-1"


@dataclass(frozen=True)
class Channel:
    """One channel as a step function.

    Attributes:
        t_s: sample times, s since the trace start (float64, non-decreasing).
        value: the value from each time on (float64; NaN: not recorded from then on).
    """

    t_s: np.ndarray
    value: np.ndarray

    def __post_init__(self) -> None:
        t = np.ascontiguousarray(self.t_s, dtype=np.float64).reshape(-1)
        v = np.ascontiguousarray(self.value, dtype=np.float64).reshape(-1)
        if t.shape != v.shape:
            raise ValueError(f"t_s and value differ in length: {t.size} vs {v.size}")
        if t.size and (not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0)):
            raise ValueError("t_s must be finite and sorted")
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "value", v)

    def __len__(self) -> int:
        return int(self.t_s.size)

    def at(self, t: float | np.ndarray) -> np.ndarray:
        """The value at time(s) ``t`` (s since the trace start): the last sample at or before
        ``t``; NaN before the first sample."""
        t = np.asarray(t, dtype=np.float64)
        i = np.searchsorted(self.t_s, t, side="right") - 1
        out = np.where(i >= 0, self.value[np.clip(i, 0, None)] if self.t_s.size else np.nan, np.nan)
        return out

    def known_s(self, end_s: float) -> float:
        """Seconds in ``[first sample, end_s]`` during which the value is recorded (not NaN)."""
        if not self.t_s.size:
            return 0.0
        edges = np.append(self.t_s, max(end_s, self.t_s[-1]))
        dur = np.diff(edges)
        return float(dur[np.isfinite(self.value)].sum())


def step(t_s: np.ndarray, value: np.ndarray) -> Channel:
    """A :class:`Channel` from samples in any order, keeping only changes: samples are sorted
    by time (stably), of samples at the same time the last one counts, and a sample equal to
    the one before it (NaN equal to NaN) is dropped."""
    t = np.asarray(t_s, dtype=np.float64).reshape(-1)
    v = np.asarray(value, dtype=np.float64).reshape(-1)
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    if t.size > 1:
        last = np.concatenate([t[1:] != t[:-1], [True]])
        t, v = t[last], v[last]
    if t.size > 1:
        same = (v[1:] == v[:-1]) | (np.isnan(v[1:]) & np.isnan(v[:-1]))
        keep = np.concatenate([[True], ~same])
        t, v = t[keep], v[keep]
    return Channel(t, v)


def drop_short(ch: Channel, level: float, min_s: float) -> Channel:
    """``ch`` without stretches at ``level`` shorter than ``min_s`` s between two other
    values (for example charger drop-outs of a few seconds: ``drop_short(plugged, 0, 120)``).
    The value before such a stretch carries on through it."""
    if min_s <= 0 or len(ch) < 3:
        return ch
    t, v = ch.t_s, ch.value
    keep = np.ones(t.size, dtype=bool)
    for i in range(1, t.size - 1):
        if v[i] == level and t[i + 1] - t[i] < min_s and v[i - 1] != level and np.isfinite(v[i - 1]):
            keep[i] = False
    return step(t[keep], v[keep])


@dataclass
class Trace:
    """One device's recording (see the module docstring for the time base and channels).

    Attributes:
        start_utc_s: UTC epoch time of ``t = 0``, s (NaN when the source has no clock).
        duration_s: length of the trace, s.
        series: the channels present, by name (a subset of :data:`CHANNELS`).
        utc_offset_s: local time minus UTC, s, if the source records it, else None.
        name: a short label (the sample's or the file's name).
        source: what it was read from and how (one line).
        meta: further facts about the recording (JSON-serialisable).
    """

    start_utc_s: float
    duration_s: float
    series: dict[str, Channel]
    utc_offset_s: float | None = None
    name: str = ""
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.series) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channels {sorted(unknown)}; known: {list(CHANNELS)}")
        if not (self.duration_s >= 0 and math.isfinite(self.duration_s)):
            raise ValueError(f"duration_s must be finite and >= 0, got {self.duration_s}")
        self.series = {k: self.series[k] for k in CHANNELS if k in self.series}
        for k, ch in self.series.items():
            if len(ch) and (ch.t_s[0] < -1e-6 or ch.t_s[-1] > self.duration_s + 1e-6):
                raise ValueError(f"channel {k!r} has samples outside [0, duration_s]")

    # ------------------------------------------------------------------ access
    @property
    def channels(self) -> tuple[str, ...]:
        """Names of the channels present, in canonical order."""
        return tuple(self.series)

    def __getitem__(self, name: str) -> Channel:
        return self.series[name]

    def __contains__(self, name: object) -> bool:
        return name in self.series

    def days(self) -> float:
        """Length of the trace, days."""
        return self.duration_s / DAY_S

    def _offset(self) -> float:
        return float(self.utc_offset_s) if self.utc_offset_s is not None else 0.0

    def local_time_s(self, t_s: float | np.ndarray) -> np.ndarray:
        """Local time of day (s after local midnight) at trace time(s) ``t_s``. Without a
        start clock the trace start counts as midnight."""
        t = np.asarray(t_s, dtype=np.float64)
        if not math.isfinite(self.start_utc_s):
            return np.mod(t, DAY_S)
        return np.mod(self.start_utc_s + self._offset() + t, DAY_S)

    def local_midnights(self) -> np.ndarray:
        """Trace times (s since the start) of every local midnight in ``[0, duration_s)``:
        the starts of whole-day episodes."""
        first = (DAY_S - float(self.local_time_s(0.0))) % DAY_S
        return np.arange(first, self.duration_s, DAY_S, dtype=np.float64)

    def episode_starts(self, length_s: float) -> np.ndarray:
        """Local midnights (s since the start) from which a window of ``length_s`` s fits in
        the trace: the possible starts of episodes of that length."""
        m = self.local_midnights()
        return m[m + length_s <= self.duration_s + 1e-6]

    # ------------------------------------------------------------------ slicing
    def window(self, start_s: float, length_s: float) -> Trace:
        """The sub-trace ``[start_s, start_s + length_s]`` (s since this trace's start),
        re-based so that its ``t = 0`` is ``start_s``: each channel starts with its value at
        ``start_s`` (when it had a sample by then) followed by its samples inside the window."""
        if start_s < 0 or length_s <= 0 or start_s + length_s > self.duration_s + 1e-6:
            raise ValueError(f"window [{start_s}, {start_s + length_s}] is not inside the trace [0, {self.duration_s}]")
        end = start_s + length_s
        series = {}
        for k, ch in self.series.items():
            inside = (ch.t_s > start_s) & (ch.t_s <= end)
            t, v = ch.t_s[inside] - start_s, ch.value[inside]
            i = np.searchsorted(ch.t_s, start_s, side="right") - 1
            if i >= 0:
                t, v = np.concatenate([[0.0], t]), np.concatenate([[ch.value[i]], v])
            series[k] = Channel(t, v)
        start_utc = self.start_utc_s + start_s if math.isfinite(self.start_utc_s) else self.start_utc_s
        return Trace(
            start_utc_s=start_utc,
            duration_s=float(length_s),
            series=series,
            utc_offset_s=self.utc_offset_s,
            name=self.name,
            source=self.source,
            meta={**self.meta, "window_of": {"start_s": float(start_s), "length_s": float(length_s)}},
        )

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write the trace to a compressed ``.npz`` (float64 arrays ``<channel>.t_s`` and
        ``<channel>.value``, header ``header`` as JSON). Returns the path written."""
        path = Path(path)
        header = {
            "format": _FORMAT,
            "name": self.name,
            "source": self.source,
            "start_utc_s": self.start_utc_s if math.isfinite(self.start_utc_s) else None,
            "duration_s": self.duration_s,
            "utc_offset_s": self.utc_offset_s,
            "channels": list(self.channels),
            "meta": self.meta,
        }
        arrays: dict[str, np.ndarray] = {"header": np.array(json.dumps(header, sort_keys=True))}
        for k, ch in self.series.items():
            arrays[f"{k}.t_s"] = ch.t_s
            arrays[f"{k}.value"] = ch.value
        with path.open("wb") as f:
            np.savez_compressed(f, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Trace:
        """Read a trace written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            if header.get("format") != _FORMAT:
                raise ValueError(f"{path}: not a bgenv trace file (format {header.get('format')!r})")
            series = {k: Channel(z[f"{k}.t_s"], z[f"{k}.value"]) for k in header["channels"]}
        start = header["start_utc_s"]
        return cls(
            start_utc_s=float("nan") if start is None else float(start),
            duration_s=float(header["duration_s"]),
            series=series,
            utc_offset_s=header["utc_offset_s"],
            name=header["name"],
            source=header["source"],
            meta=header["meta"],
        )

    def as_arrays(self) -> Mapping[str, tuple[np.ndarray, np.ndarray]]:
        """``{channel: (t_s, value)}``: the plain float64 arrays (for the simulator core)."""
        return {k: (ch.t_s, ch.value) for k, ch in self.series.items()}

    def __repr__(self) -> str:
        return (
            f"Trace({self.name!r}, {self.days():.2f} days, channels={list(self.channels)}, "
            f"start_utc_s={self.start_utc_s}, utc_offset_s={self.utc_offset_s})"
        )
