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
Low Power Mode, battery temperature as the thermal state, and on Android Doze: light or
deep Doze is entered and left as recorded, its maintenance windows scheduled by the OS
model; on iOS a ``doze`` channel is dropped) and the user model synthesises
the rest, conditioned on them (app opens only with a recorded screen on). The battery is simulated from the start level, so the
app's background energy counts; ``battery="recorded"`` sets it to each recorded sample.
Every window's records are packed once into one array (:attr:`TraceWorld.pool`) that the
simulator's devices share; a reset only points a device at its window (no copy).
The episode metrics gain ``battery_gap_rms`` (root mean square of simulated minus
recorded level at the recorded samples, fraction; NaN without samples),
``replayed_channels`` (how many channels the trace drove in the episode) and
``off_share`` (the share of the episode the phone was shut down with its battery empty,
waiting for the recorded charger; the synthetic user plugs in before that happens).
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
_LEVEL_MODE = {"simulate": L.LEVEL_COMPARED, "recorded": L.LEVEL_SET, "anchored": L.LEVEL_ANCHORED}
BATTERY_MODES: tuple[str, ...] = tuple(_LEVEL_MODE)
"""``simulate``: the level is simulated from the recorded start; ``recorded``: it is set
to every recorded sample; ``anchored``: it is set to every recorded sample less the
background energy the app drew off the charger and the charger has not yet put back (the
recorded phone's own use from the record, the agent's cost on top)."""
WORLD_METRIC_DOCS: dict[str, str] = {
    "battery_gap_rms": "root mean square of simulated minus recorded battery level at the trace's level samples "
    "in the episode, fraction (NaN without samples)",
    "replayed_channels": "how many of the trace's channels drove the device in the episode (battery level included)",
    "off_share": "share of the episode the phone was shut down, its simulated battery empty before the recorded "
    "charger came",
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
        doze: a recorded ``doze`` channel is replayed (Android with Doze on); otherwise its
            records are dropped (iOS has no Doze).

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
    doze: bool = False
    _cache: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _levels: dict[int, int] = field(default_factory=dict, repr=False)
    _pool: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _rows: np.ndarray | None = field(default=None, repr=False)

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
    def level_mode(self) -> int:
        """What a recorded level sample does in the kernel (``layout.LEVEL_*``): compared
        with the simulated level, or the level set to it (less the app's energy, anchored)."""
        return _LEVEL_MODE[self.battery]

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
            if code == L.TR_DOZE and not self.doze:
                continue
            if name in w:
                t, v = w[name].t_s, w[name].value
                if code == L.TR_TEMPERATURE:  # only changes of the thermal state it gives matter
                    t, v = _changes(t, v, np.where(np.isnan(v), -1, np.searchsorted(self.thermal_from_c, v, "right")))
                elif code != L.TR_LEVEL:  # a record repeating the value before it changes nothing
                    t, v = _changes(t, v, np.where(np.isnan(v), -1.0, v))
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
            rec, n = split_levels(self.records(j), self.level_mode)
            self._cache[key] = rec
            self._levels[j] = n
        return self._cache[key], self._levels[j]

    @property
    def pool(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every window's ``kernel_records`` packed once, in window order: the records
        float64 ``[total, 3]`` and, per window, int64 arrays of its first row, its record
        count and its level samples' count (``Simulator.attach_pool``/``use_traces``)."""
        if self._pool is None:
            recs = [self.kernel_records(j) for j in range(self.starts.size)]
            sizes = np.array([len(r) for r, _ in recs], dtype=np.int64)
            levels = np.array([nl for _, nl in recs], dtype=np.int64)
            first = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
            packed = np.ascontiguousarray(np.concatenate([r for r, _ in recs]).reshape(-1, L.NTRF))
            packed.flags.writeable = False
            self._pool = (packed, first, sizes - levels, levels)
            rows = np.zeros((self.starts.size, _SI_TRACE.stop - _SI_TRACE.start), dtype=np.int64)
            rows[:, L.I_TRACE - _SI_TRACE.start] = 1
            rows[:, L.I_TR_OFF - _SI_TRACE.start] = first
            rows[:, L.I_TR_N - _SI_TRACE.start] = sizes - levels
            rows[:, L.I_TR_LN - _SI_TRACE.start] = levels
            rows[:, L.I_TR_FORCE - _SI_TRACE.start] = self.level_mode
            self._rows = rows
        return self._pool

    def load(self, sim: Any, i: int | np.ndarray, j: int | np.ndarray) -> None:
        """Give devices ``i`` (an index or an array of them) of the simulator ``sim``
        windows ``j`` (the same shape) from their next reset on: they read the windows in
        this world's pool (attached to ``sim`` once), nothing is copied."""
        base = sim.attach_pool(self.pool[0])
        assert self._rows is not None
        rows = self._rows[j]  # what Simulator.use_traces writes, as one block of si columns
        if base:
            rows = rows + base * _OFF_COLUMN
        sim.si[i, _SI_TRACE] = rows

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


_SI_TRACE = slice(L.I_TRACE, L.I_TR_LN + 1)
"""The ``si`` columns a window sets (``Simulator.use_traces``): adjacent in the layout."""
_OFF_COLUMN = (np.arange(_SI_TRACE.start, _SI_TRACE.stop) == L.I_TR_OFF).astype(np.int64)
assert sorted((L.I_TRACE, L.I_TR_OFF, L.I_TR_N, L.I_TR_FORCE, L.I_TR_LN)) == list(range(L.I_TRACE, L.I_TR_LN + 1))


def _changes(t: np.ndarray, v: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The records (times ``t``, values ``v``) whose ``key`` differs from the one before
    (the first always kept): the others change nothing in the kernel."""
    keep = np.ones(len(key), dtype=bool)
    keep[1:] = key[1:] != key[:-1]
    return t[keep], v[keep]


def world_metrics(sf: np.ndarray, si: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
    """``WORLD_METRICS`` of devices' state rows (``sf`` ``[N, NSF]``, ``si`` ``[N, NSI]``;
    only the rows ``idx`` when given), read before their next reset: float64 ``[n, 3]``
    (a few rows a call, the episodes that just ended: a plain loop over scalar reads,
    cheaper than fancy indexing at this size)."""
    rows = range(sf.shape[0]) if idx is None else np.asarray(idx).tolist()
    g2c, nc, seenc, offc, tc, t0c = L.M_TR_GAP2, L.M_TR_GAPN, L.I_TR_SEEN, L.M_OFF_S, L.S_T, L.S_T0
    out = np.empty((len(rows), 3))
    for j, i in enumerate(rows):
        g2, n = sf.item(i, g2c), sf.item(i, nc)
        out[j, 0] = math.sqrt(g2 / n) if n > 0 else math.nan
        out[j, 1] = int(si.item(i, seenc)).bit_count()
        out[j, 2] = sf.item(i, offc) / max(sf.item(i, tc) - sf.item(i, t0c), 1e-9)
    return out


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
    android = spec.profile.android
    doze = spec.platform == "android" and android is not None and bool(android.doze.enabled)
    return TraceWorld(
        [t for _, t in pool],
        tuple(spec.thermal.replay_from_c),
        spec.start_hour,
        spec.horizon_days * DAY_S,
        mode,
        battery,
        labels=[lab for lab, _ in pool],
        doze=doze,
    )
