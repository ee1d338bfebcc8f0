"""The world a device lives in: the synthetic user model (the default) or a recorded trace.

``world`` (the envs' argument) is one of:

* ``None`` or ``"synthetic"``: the scenario's user archetype drives everything (unchanged).
* ``"trace:<name>"``: a shipped trace (:func:`bgenv.traces.load_sample`, e.g.
  ``"trace:mcm_iphone13"``), ``"trace:<path>.npz"`` or ``"trace:<folder>"``; the same
  path without ``trace:`` (a ``.npz`` written by :meth:`bgenv.traces.Trace.save`, or a
  folder); a :class:`bgenv.traces.Trace` object or a sequence of them.
* **A folder of traces**: every ``*.npz`` file directly in it (sorted by file name; not
  its sub-folders), each named by its file name without ``.npz``. Raw recordings
  (batterystats, PowerLog, GreenHub) are not read from a folder: their loaders need
  arguments a folder cannot give (the app's package, the PowerLog files of one device,
  the device of a GreenHub CSV); convert each with its loader and
  :meth:`~bgenv.traces.Trace.save` it first.

The windows of every trace form one pool (a trace too short for an episode adds none;
an error only when the pool is empty): ``mode="random"`` draws a window uniformly from
the pool, so a trace weighs by its number of windows; ``mode="sequential"`` walks the
pool in order, trace by trace. With one trace the pool is that trace's windows.

With traces, each episode replays a *window*: ``horizon_days`` from the scenario's
``start_hour`` on a local day of a trace. The window starts at a local midnight (its
records before the start hour give the starting state), chosen at every reset from the
env's own random generator (``mode="random"``, seeded by ``reset(seed=...)``) or in
order (``mode="sequential"``: the k-th episode since the last seeded reset takes the k-th
window of the pool, wrapping round). The kernel (``bgenv/core/replay.py``) replays the channels the
trace records (screen, this app's opens, plugged, battery level at the start, network,
Low Power Mode, battery temperature as the thermal state) and the user model synthesises
the rest, conditioned on them (app opens only with a recorded screen on). The battery is simulated from the start level, so the
app's background energy counts; ``battery="recorded"`` sets it to each recorded sample.
The episode metrics gain ``battery_gap_rms`` (root mean square of simulated minus
recorded level at the recorded samples, fraction; NaN without samples) and
``replayed_channels`` (how many channels the trace drove in the episode).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bgenv.core import layout as L
from bgenv.core.sim import split_levels
from bgenv.traces.sample import SAMPLES, load_sample
from bgenv.traces.trace import DAY_S, Trace

WORLD_MODES: tuple[str, ...] = ("random", "sequential")
"""How episodes pick their window of a trace."""
BATTERY_MODES: tuple[str, ...] = ("simulate", "recorded")
"""``simulate``: the level is simulated from the recorded start; ``recorded``: it is set
to every recorded sample."""
WORLD_METRIC_DOCS: dict[str, str] = {
    "battery_gap_rms": "root mean square of simulated minus recorded battery level at the trace's level samples "
    "in the episode, fraction (NaN without samples)",
    "replayed_channels": "how many of the trace's channels drove the device in the episode (battery level included)",
}
WORLD_METRICS: tuple[str, ...] = tuple(WORLD_METRIC_DOCS)
"""Episode metrics a trace world adds."""


def load_world_traces(world: str | Path | Trace | Sequence[Trace] | None) -> list[tuple[str, Trace]] | None:
    """The traces a ``world`` argument names (see the module docstring) as ``(label,
    trace)`` pairs in pool order, None for the synthetic world. A trace's label is its
    file name without ``.npz`` in a folder, else its ``name``."""
    if world is None:
        return None
    if isinstance(world, Trace):
        return [(world.name, world)]
    if isinstance(world, Sequence) and not isinstance(world, str):
        traces = list(world)
        if not traces or not all(isinstance(t, Trace) for t in traces):
            raise ValueError("a sequence world must hold one or more Trace objects")
        return _unique([(t.name or f"trace{k}", t) for k, t in enumerate(traces)])
    spec = str(world)
    if spec == "synthetic":
        return None
    if spec.startswith("trace:"):
        name = spec[len("trace:") :]
        if name in SAMPLES:
            return [(name, load_sample(name))]
        spec = name
    path = Path(spec)
    if path.is_dir():
        files = sorted(path.glob("*.npz"))
        if not files:
            raise ValueError(f"world folder {spec} holds no .npz trace (convert raw recordings with their loaders)")
        return [(f.stem, Trace.load(f)) for f in files]
    if path.suffix != ".npz" or not path.exists():
        raise ValueError(
            f"world must be 'synthetic', 'trace:<name>' (shipped: {list(SAMPLES)}), "
            f"a trace .npz file, a folder of them, or Trace objects; got {world!r}"
        )
    trace = Trace.load(path)
    return [(trace.name or path.stem, trace)]


def _unique(pool: list[tuple[str, Trace]]) -> list[tuple[str, Trace]]:
    """``pool`` with repeated labels made unique (``name``, ``name#2``, ...)."""
    seen: dict[str, int] = {}
    out = []
    for lab, t in pool:
        seen[lab] = seen.get(lab, 0) + 1
        out.append((lab if seen[lab] == 1 else f"{lab}#{seen[lab]}", t))
    return out


@dataclass
class TraceWorld:
    """Episodes replaying windows of one or more traces (see the module docstring).

    Args:
        traces: the recordings, in pool order.
        thermal_from_c: battery temperatures from which the thermal state is fair, serious,
            critical, °C (the scenario's ``thermal.replay_from_c``).
        start_hour: the scenario's ``start_hour`` (local hour at which episodes start).
        horizon_s: the episode length, s.
        mode: ``"random"`` or ``"sequential"``.
        battery: ``"simulate"`` or ``"recorded"``.
        labels: each trace's name in ``info["world"]`` and per-trace results (default:
            the traces' ``name``).

    Attributes (after construction): ``starts`` (each window's start, s since its trace's
    start), ``window_trace`` (each window's index into ``traces``), ``skipped`` (labels of
    traces too short for an episode).
    """

    traces: Sequence[Trace]
    thermal_from_c: tuple[float, float, float]
    start_hour: float
    horizon_s: float
    mode: str = "random"
    battery: str = "simulate"
    labels: Sequence[str] | None = None
    _cache: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _levels: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in WORLD_MODES:
            raise ValueError(f"world_mode must be one of {WORLD_MODES}; got {self.mode!r}")
        if self.battery not in BATTERY_MODES:
            raise ValueError(f"world_battery must be one of {BATTERY_MODES}; got {self.battery!r}")
        if isinstance(self.traces, Trace):
            self.traces = [self.traces]
        self.traces = list(self.traces)
        if not self.traces:
            raise ValueError("a trace world needs at least one trace")
        self.labels = list(self.labels) if self.labels is not None else [t.name for t in self.traces]
        if len(self.labels) != len(self.traces):
            raise ValueError(f"{len(self.labels)} labels for {len(self.traces)} traces")
        self.length_s = self.start_hour * 3600.0 + self.horizon_s
        per = [t.episode_starts(self.length_s) for t in self.traces]
        self.starts = np.concatenate(per)
        self.window_trace = np.concatenate([np.full(p.size, k, dtype=np.int64) for k, p in enumerate(per)])
        self.skipped = [lab for lab, p in zip(self.labels, per) if not p.size]
        if not self.starts.size:
            names = ", ".join(f"{lab!r} ({t.days():.1f} days)" for lab, t in zip(self.labels, self.traces))
            what = f"trace {names} has" if len(self.traces) == 1 else f"traces {names} have"
            raise ValueError(
                f"{what} no local midnight from which "
                f"an episode of {self.horizon_s / DAY_S:g} days starting at {self.start_hour:g} h fits"
            )
        if self.skipped:
            warnings.warn(
                f"traces too short for an episode of {self.horizon_s / DAY_S:g} days, left out: "
                + ", ".join(self.skipped),
                stacklevel=2,
            )
        self.capacity = max(len(self.records(j)) for j in range(self.starts.size))

    @property
    def trace(self) -> Trace:
        """The first trace (the only one of a single-trace world)."""
        return self.traces[0]

    @property
    def force_level(self) -> bool:
        """The battery level is set to each recorded sample."""
        return self.battery == "recorded"

    def choose(self, rng: np.random.Generator, episode: int) -> int:
        """The window (index into ``starts``) of an episode: drawn from ``rng`` (random
        mode) or the ``episode``-th in order (sequential mode)."""
        if self.mode == "sequential":
            return int(episode % self.starts.size)
        return int(rng.integers(self.starts.size))

    def records(self, j: int) -> np.ndarray:
        """Window ``j``'s records for the kernel: float64 ``[n, 3]`` (time in s since the
        local midnight the window starts at, i.e. since midnight of simulated day 0;
        channel code ``layout.TR_*``; value), sorted by time, channels in canonical order
        at equal times. Only the channels the kernel replays."""
        if j in self._cache:
            return self._cache[j]
        w = self.traces[int(self.window_trace[j])].window(float(self.starts[j]), self.length_s)
        parts = []
        for code in L.TR_REPLAYED:
            name = L.TR_NAMES[code]
            if name in w:
                t, v = w[name].t_s, w[name].value
                if code == L.TR_TEMPERATURE:  # only changes of the thermal state it gives matter
                    level = np.where(np.isnan(v), -1, np.searchsorted(self.thermal_from_c, v, side="right"))
                    keep = np.concatenate([[True], level[1:] != level[:-1]])
                    t, v = t[keep], v[keep]
                parts.append(np.column_stack([t, np.full(len(t), float(code)), v]))
        rec = np.concatenate(parts) if parts else np.zeros((0, L.NTRF))
        rec = rec[np.lexsort((rec[:, 1], rec[:, 0]))] if len(rec) else rec
        self._cache[j] = np.ascontiguousarray(rec)
        return self._cache[j]

    def kernel_records(self, j: int) -> tuple[np.ndarray, int]:
        """Window ``j``'s records as ``Simulator.set_trace`` takes them, split beforehand
        (``sim.split_levels``) for this world's battery mode, and the level samples' count."""
        key = -1 - j
        if key not in self._cache:
            rec, n = split_levels(self.records(j), self.force_level)
            self._cache[key] = rec
            self._levels[j] = n
        return self._cache[key], self._levels[j]

    def load(self, sim: Any, i: int, j: int) -> None:
        """Give device ``i`` of the simulator ``sim`` window ``j`` from its next reset on."""
        rec, n = self.kernel_records(j)
        sim.set_trace(i, rec, self.force_level, n)

    def channels(self, j: int) -> tuple[str, ...]:
        """Names of the channels window ``j`` records at some time (not NaN throughout)."""
        rec = self.records(j)
        codes = sorted({int(c) for c, v in zip(rec[:, 1], rec[:, 2]) if not math.isnan(v)})
        return tuple(L.TR_NAMES[c] for c in codes)

    def trace_of(self, j: int) -> int:
        """Index into ``traces`` (and ``labels``) of window ``j``'s trace."""
        return int(self.window_trace[j])

    def describe(self, j: int) -> dict[str, Any]:
        """What window ``j`` is: its trace's label and index in the pool (``trace``,
        ``trace_index``), the window's index in the pool (``window``), its start (s since
        its trace's start) and local date, and the channels it records."""
        start = float(self.starts[j])
        k = self.trace_of(j)
        tr = self.traces[k]
        date = None
        if math.isfinite(tr.start_utc_s):
            import datetime as dt

            local = tr.start_utc_s + (tr.utc_offset_s or 0.0) + start
            date = dt.datetime.fromtimestamp(local, tz=dt.timezone.utc).date().isoformat()
        assert self.labels is not None
        return {
            "trace": self.labels[k],
            "trace_index": k,
            "window": j,
            "start_s": start,
            "date": date,
            "channels": self.channels(j),
        }


def world_metrics(sf: np.ndarray, si: np.ndarray) -> np.ndarray:
    """``WORLD_METRICS`` of devices' state rows (``sf`` ``[N, NSF]``, ``si`` ``[N, NSI]``),
    read before their next reset: float64 ``[N, 2]``."""
    n = sf[:, L.M_TR_GAPN]
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.where(n > 0, np.sqrt(sf[:, L.M_TR_GAP2] / np.maximum(n, 1.0)), np.nan)
    count = np.unpackbits(si[:, L.I_TR_SEEN].astype(np.uint8)[:, None], axis=1).sum(axis=1)
    return np.column_stack([rms, count])


def make_world(
    world: str | Path | Trace | Sequence[Trace] | None, spec: Any, mode: str, battery: str
) -> TraceWorld | None:
    """The :class:`TraceWorld` of a ``world`` argument for scenario ``spec`` (a
    :class:`bgenv.config.Scenario`; None: the synthetic world)."""
    if mode not in WORLD_MODES:
        raise ValueError(f"world_mode must be one of {WORLD_MODES}; got {mode!r}")
    if battery not in BATTERY_MODES:
        raise ValueError(f"world_battery must be one of {BATTERY_MODES}; got {battery!r}")
    pool = load_world_traces(world)
    if pool is None:
        return None
    return TraceWorld(
        [t for _, t in pool],
        tuple(spec.thermal.replay_from_c),
        spec.start_hour,
        spec.horizon_days * DAY_S,
        mode,
        battery,
        labels=[lab for lab, _ in pool],
    )
