"""Host side of the simulator: owns the arrays of a batch of devices, seeds them,
collects their event logs and reads their metrics.

No Gymnasium here: the single env (``bgenv.envs.single``) and the batched env
(``bgenv.envs.vector``) are thin adapters over this class, so both run the same
compiled dynamics (``kernel.py``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import typeof

from bgenv.core import layout as L
from bgenv.core.kernel import (
    STATUS_NEED_FLUSH,
    STATUS_STUCK,
    STUCK_MESSAGE,
    advance_batch,
    advance_batch_parallel,
    forget_batch,
    reset_batch,
    write_masks,
)
from bgenv.core.metrics import METRIC_NAMES, NMETRICS, metrics_batch
from bgenv.core.observation import NOBS
from bgenv.core.params import CompiledParams
from bgenv.core.rng import NSTREAM, STREAMS, stream_states
from bgenv.core.workload import pending_units

PARALLEL_MIN = 64  # with threads on, calls on at least this many devices use the threads (smaller: start-up dominates)
AUTO_THREADS_MIN = 256  # threads=None (the default) turns the threads on for batches this large, given 2+ threads
PARALLEL_CHUNK = 32  # devices a thread takes at a time: a thread whose core is busy with another process
# takes fewer chunks instead of holding up the whole batch (with one equal share per thread, a batch on
# shared cores ran slower than on one thread)


def numba_threads() -> int:
    """Threads numba's parallel loops use (``NUMBA_NUM_THREADS``, the cores by default)."""
    return int(numba.get_num_threads())


# GNU OpenMP (numba's "omp" layer on Linux) aborts a forked child that starts a parallel
# loop once the parent has used one. A child forked after this process stepped a threaded
# batch therefore steps its batches on one thread (same results).
_threads_started = False  # this process has run the threaded kernel
_fork_child_of_omp = False  # this process was forked from one whose OpenMP threads ran


def _after_fork_in_child() -> None:
    global _fork_child_of_omp
    if _threads_started and numba.threading_layer() == "omp":
        _fork_child_of_omp = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def _entry_point(dispatcher: Any, args: tuple[Any, ...]) -> tuple[Any, Any]:
    """Call ``dispatcher(*args)`` (compiling or loading it); return its compiled entry
    point for exactly these argument types (the dispatcher itself if not found, or the
    plain Python function under ``NUMBA_DISABLE_JIT=1``) and the call's result."""
    out = dispatcher(*args)
    overloads = getattr(dispatcher, "overloads", None)
    if overloads is None:  # NUMBA_DISABLE_JIT=1: njit returned the Python function itself
        return dispatcher, out
    cres = overloads.get(tuple(typeof(a) for a in args))
    return (cres.entry_point if cres is not None else dispatcher), out


class Simulator:
    """``num`` independent devices sharing one compiled scenario.

    Args:
        params: the compiled scenario.
        num: number of devices.
        record_events: keep each device's event log (costs a little per event).
        threads: step calls on at least ``PARALLEL_MIN`` devices on numba's threads
            (``NUMBA_NUM_THREADS``, the cores by default), in chunks of
            ``PARALLEL_CHUNK`` devices handed to whichever thread is free. ``None`` (the
            default): on for ``num >= AUTO_THREADS_MIN`` when numba has 2+ threads.
            Results are the same either way (devices are independent). A process
            forked from one that ran the threads steps on one thread (GNU OpenMP
            cannot start threads again after a fork).

    Copies: ``copy()`` (also ``copy.deepcopy``) and ``pickle`` give a simulator whose
    devices continue exactly as these would; ``load_devices`` copies chosen devices of
    another simulator of the same scenario into chosen slots of this one, ``reseed``
    re-draws their random futures (the planning policies of ``agents.planning`` roll out
    candidate actions this way).
    """

    def __init__(
        self, params: CompiledParams, num: int = 1, record_events: bool = True, threads: bool | None = None
    ) -> None:
        self.params = params  # the scenario of every device (of the first cohort for a fleet)
        if threads is None:
            threads = num >= AUTO_THREADS_MIN and numba_threads() > 1
        self.threads = bool(threads)
        self.num = num
        self.pf = params.pf
        self.ph = params.ph
        # tables of compiled scenarios, one row each; device i runs with row pidx[i] (see set_params)
        self.pf_table = params.pf[None, :]
        self.ph_table = params.ph[None, :, :]
        self.pidx = np.zeros(num, dtype=np.int64)
        self._own_tables = False  # set_params gave this simulator tables of its own (copied with it)
        self.sf = np.zeros((num, L.NSF))
        self.si = np.zeros((num, L.NSI), dtype=np.int64)
        self.items = np.zeros((num, L.MAXI, L.NIF))
        self.reqs = np.zeros((num, L.NSLOT, L.NRF))
        self.jobs = np.full((num, L.NJOB + L.NCNT, L.NJF), np.inf)
        self.rng = np.zeros((num, NSTREAM, L.NRS), dtype=np.uint64)
        self.ev = np.zeros((num, L.EV_BUF if record_events else 1, L.NEVF))  # unused when off
        self.tts = np.zeros((num, L.TTS_BUF))
        self.obs = np.zeros((num, NOBS), dtype=np.float32)
        self.acts = np.zeros((num, 4), dtype=np.int64)
        # the trace records the devices replay (replay.py): one pool, device i reads rows
        # si[i, I_TR_OFF]... It is never written in place (set_trace and attach_pool
        # replace it), so copies of this simulator share it
        self.tr = np.zeros((0, L.NTRF))
        self._pools: tuple[tuple[np.ndarray, int], ...] = ()  # pools attached (attach_pool) and their rows in tr
        self.mask_len = int(params.nvec.sum())
        self._fresh = np.ones(num, dtype=bool)
        self._scratch = np.empty(L.TTS_BUF)  # work space of the time-to-success median
        self.record_events = record_events
        self.si[:, L.I_EV_ON] = 1 if record_events else 0
        self._events: list[list[np.ndarray]] = [[] for _ in range(num)]
        self._advance: Any = None  # the compiled advance_batch for these arrays' types (see _kernel)
        self._advance_parallel: Any = None
        self._bind()

    def _bind(self) -> None:
        """Derived attributes: the kernel's argument tuple and row views of the arrays."""
        self._all = np.arange(self.num, dtype=np.int64)
        # read-only, as compiled scenarios are: one kernel signature (an unpickled table is
        # writeable and would make numba compile the whole kernel a second time)
        self.pf_table.flags.writeable = self.ph_table.flags.writeable = False
        self._args = (self.pidx, self.pf_table, self.ph_table, self.sf, self.si, self.items, self.reqs, self.jobs, self.rng, self.ev, self.tts, self.obs, self.acts, self.tr)  # fmt: skip
        self._acts0 = self.acts[0]  # row view of device 0 for the single-device fast path

    # -- copies -------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """Pickled state: the arrays, the event logs and the settings; not the compiled
        entry points or the views (rebuilt by ``__setstate__``)."""
        d = self.__dict__.copy()
        for k in _DERIVED:
            d.pop(k, None)
        d["_advance"] = d["_advance_parallel"] = None
        return d

    def __setstate__(self, d: dict[str, Any]) -> None:
        self.__dict__.update(d)
        self._bind()

    def __deepcopy__(self, memo: dict[int, Any]) -> Simulator:
        new = self.copy()
        memo[id(self)] = new
        return new

    def copy(self) -> Simulator:
        """An independent copy that continues exactly as this simulator would: every
        device's arrays, random streams and event log are copied; the compiled scenario
        (read-only) and the compiled entry points are shared. About 10 µs plus the
        arrays' memcpy (~60 kB a device, ~110 kB with the event log on)."""
        new = object.__new__(Simulator)
        d = self.__dict__.copy()
        for k in _STATE:
            d[k] = d[k].copy()
        if self._own_tables:
            d["pf_table"], d["ph_table"] = _readonly(self.pf_table.copy()), _readonly(self.ph_table.copy())
        d["_events"] = [list(parts) for parts in self._events]  # the flushed parts are never written again
        d["_scratch"] = np.empty(L.TTS_BUF)
        new.__dict__.update(d)
        new._bind()
        return new

    def load_devices(self, src: Simulator, src_idx: np.ndarray, dst_idx: np.ndarray) -> None:
        """Copy the state of devices ``src_idx`` of ``src`` (a simulator of the same
        compiled scenario) into this simulator's devices ``dst_idx`` (same length; a
        source device may be repeated): afterwards device ``dst_idx[j]`` continues exactly
        as ``src``'s device ``src_idx[j]`` would. Vectorised (one fancy-index copy per
        array). The event log follows only when both simulators record events; otherwise
        the copies start with an empty log (and record nothing when this one is off)."""
        same = src.pf_table is self.pf_table or (
            src.params is self.params and not (src._own_tables or self._own_tables)
        )
        tables = (src.pf_table, self.pf_table, src.ph_table, self.ph_table)
        if not same and not (np.array_equal(tables[0], tables[1]) and np.array_equal(tables[2], tables[3])):
            raise ValueError("load_devices needs two simulators of the same compiled scenario (or fleet tables)")
        s = np.asarray(src_idx, dtype=np.int64)
        d = np.asarray(dst_idx, dtype=np.int64)
        if s.shape != d.shape:
            raise ValueError(f"src_idx and dst_idx differ in length: {s.shape} vs {d.shape}")
        for k in _STATE:
            if k != "ev":
                getattr(self, k)[d] = getattr(src, k)[s]
        if src.tr is not self.tr and src.si[s, L.I_TRACE].any():  # their records join this pool (once)
            known = any(p is src.tr for p, _ in self._pools)
            base = self.attach_pool(src.tr)
            self.si[d, L.I_TR_OFF] += base
            if not known:
                self._pools += tuple((p, b + base) for p, b in src._pools if not any(q is p for q, _ in self._pools))
        self._fresh[d] = False
        both = self.record_events and src.record_events
        if both:
            self.ev[d] = src.ev[s]
        else:
            self.si[d, L.I_EV_N] = 0
            self.si[d, L.I_EV_ON] = 1 if self.record_events else 0
        for sj, dj in zip(s.tolist(), d.tolist()):
            self._events[dj] = list(src._events[sj]) if both else []

    def reseed(self, idx: np.ndarray, seeds: Sequence[int | None], streams: Sequence[int] = STREAMS) -> None:
        """Re-draw the random streams ``streams`` (``rng.USER``, ``rng.SYS``; both by
        default) of devices ``idx`` from ``seeds`` (one each; None: OS entropy), mid-episode:
        from the next draw on, those devices live in another random future (events already
        drawn and scheduled, e.g. the end of the current screen session, stay). The other
        streams carry on. Costs ~20 µs a device (numpy's ``SeedSequence``)."""
        idx = np.asarray(idx, dtype=np.int64)
        self.set_streams(idx, np.stack([stream_states(s) for s in seeds]) if len(idx) else self.rng[idx], streams)

    def set_streams(self, idx: np.ndarray, states: np.ndarray, streams: Sequence[int] = STREAMS) -> None:
        """Set the random streams ``streams`` of devices ``idx`` to ``states`` (uint64
        ``[len(idx), NSTREAM, NRS]``, e.g. rows of ``rng.stream_states``): the vectorised
        core of ``reseed``, for giving many copies the same re-drawn future."""
        rows = np.asarray(list(streams), dtype=np.int64)
        idx = np.asarray(idx, dtype=np.int64)
        self.rng[idx[:, None], rows[None, :]] = np.asarray(states, dtype=np.uint64)[:, rows]

    def forget(self, idx: np.ndarray) -> None:
        """Forget when the user's and the OS's random clocks of devices ``idx`` will fire
        next (``kernel.forget_device``): each clock's remaining wait is re-drawn, from the
        devices' own streams, from its distribution given the time it has already run.
        After ``set_streams`` or ``reseed`` it gives a copy a future that is independent
        of the original's beyond what was knowable at this moment (the deterministic
        times already scheduled, such as the end of the current screen session or
        tonight's bedtime, stay)."""
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        forget_batch(idx, self.sf, self.si, self.rng)

    # -- per-device scenarios (fleets) ----------------------------------------
    def set_params(self, pf: np.ndarray, ph: np.ndarray, pidx: np.ndarray) -> None:
        """Give the devices scenarios of their own: ``pf`` (float64 ``[R, NP]``) and ``ph``
        (float64 ``[R, NH, 24]``) become the tables ``pf_table``/``ph_table`` of compiled
        scenarios (rows of
        :class:`~bgenv.core.params.CompiledParams` ``pf``/``ph``) and device ``i`` runs
        with row ``pidx[i]`` from its next ``reset`` on (assign ``pidx`` rows between
        episodes; ``set_row`` rewrites a row). The tables become this simulator's own
        and are copied with it."""
        pf = np.ascontiguousarray(pf, dtype=np.float64)
        ph = np.ascontiguousarray(ph, dtype=np.float64)
        if pf.ndim != 2 or pf.shape[1] != L.NP or ph.shape != (pf.shape[0], L.NH, 24):
            raise ValueError(f"set_params needs pf [R, {L.NP}] and ph [R, {L.NH}, 24]; got {pf.shape}, {ph.shape}")
        pidx = np.asarray(pidx, dtype=np.int64)
        if pidx.shape != (self.num,) or pidx.min() < 0 or pidx.max() >= pf.shape[0]:
            raise ValueError(f"pidx must be {self.num} row indices into a table of {pf.shape[0]} rows")
        pf.flags.writeable = ph.flags.writeable = False  # read-only as a compiled scenario's (one kernel signature)
        self.pf_table, self.ph_table = pf, ph
        self.pidx[:] = pidx
        self._own_tables = True
        self._bind()

    def set_row(self, r: int, params: CompiledParams) -> None:
        """Overwrite row ``r`` of the scenario tables with ``params`` (only between the
        episodes of the devices that use it)."""
        pf, ph = self.pf_table, self.ph_table
        pf.flags.writeable = ph.flags.writeable = True
        pf[r], ph[r] = params.pf, params.ph
        pf.flags.writeable = ph.flags.writeable = False

    # -- replayed traces (bgenv.world) ----------------------------------------
    def _append_pool(self, rec: np.ndarray) -> int:
        """Append records to the pool (a new array: copies sharing the old one keep it);
        returns the row they start at."""
        base = self.tr.shape[0]
        self.tr = np.ascontiguousarray(np.concatenate([self.tr, rec]))
        self._bind()
        return base

    def attach_pool(self, pool: np.ndarray) -> int:
        """The row of ``tr`` at which the records of ``pool`` (float64 ``[n, 3]``, e.g. every
        window of a trace, ``bgenv.world.TraceWorld.pool``) start, appending them the first
        time this pool is seen (by identity): devices then replay parts of it with
        ``use_traces`` and nothing is copied at their resets."""
        for p, base in self._pools:
            if p is pool:
                return base
        base = self._append_pool(np.asarray(pool, dtype=np.float64).reshape(-1, L.NTRF))
        self._pools += ((pool, base),)
        return base

    def use_traces(
        self, idx: np.ndarray, start: np.ndarray, n: np.ndarray, n_levels: np.ndarray, level_mode: int
    ) -> None:
        """Devices ``idx`` replay, from their next ``reset`` on, the pool rows ``start[j]``
        .. ``start[j] + n[j] + n_levels[j]`` (``n[j]`` records, then ``n_levels[j]`` level
        samples only compared, as ``split_levels`` orders them; vectorised). ``level_mode``:
        what a recorded level sample does (``layout.LEVEL_*``, ``replay.py``)."""
        si = self.si
        si[idx, L.I_TRACE] = 1
        si[idx, L.I_TR_OFF] = start
        si[idx, L.I_TR_N] = n
        si[idx, L.I_TR_LN] = n_levels
        si[idx, L.I_TR_FORCE] = int(level_mode)

    def set_trace(
        self, i: int, records: np.ndarray | None, level_mode: int = L.LEVEL_COMPARED, n_levels: int | None = None
    ) -> None:
        """Device ``i``'s next episodes replay ``records`` (float64 ``[n, 3]``: time in s
        since midnight of day 0, channel code ``layout.TR_*``, value; sorted by time), from
        its next ``reset`` on; None: back to the synthetic world. ``level_mode``: what a
        recorded level sample does (``layout.LEVEL_*``: compared with the simulated level,
        the level set to it, or set to it less the app's unrecharged energy; ``replay.py``).
        ``n_levels``: the records are already split (``split_levels``), with this many level
        samples at the end. The records are appended to the pool shared by the devices
        (a world of many windows uses ``attach_pool`` and ``use_traces`` instead)."""
        if records is None or len(records) == 0:
            self.si[i, L.I_TRACE] = 0
            self.si[i, L.I_TR_N] = 0
            self.si[i, L.I_TR_LN] = 0
            self.si[i, L.I_TR_FORCE] = 0
            return
        rec = np.asarray(records, dtype=np.float64)
        if rec.ndim != 2 or rec.shape[1] != L.NTRF:
            raise ValueError(f"trace records must be [n, {L.NTRF}]; got {rec.shape}")
        if n_levels is None:  # level samples only compared: a segment of their own, no events (replay.py)
            rec, n_levels = split_levels(rec, level_mode)
        base = self._append_pool(rec)  # the pool grows with every call: for one-off records (tests, tools)
        self.use_traces(np.array([i]), base, rec.shape[0] - n_levels, n_levels, level_mode)

    # -- the event log ------------------------------------------------------
    def _flush(self, i: int) -> None:
        k = int(self.si[i, L.I_EV_N])
        if k:
            self._events[i].append(self.ev[i, :k].copy())
            self.si[i, L.I_EV_N] = 0

    # -- episodes -----------------------------------------------------------
    def reset(self, seeds: Sequence[int | None] | None = None, idx: np.ndarray | None = None) -> np.ndarray:
        """Start new episodes for devices ``idx`` (all by default). A device given a seed
        gets new random streams from it; without one its streams carry on (a device
        never reset before starts from fresh OS entropy)."""
        idx = self._all if idx is None else np.asarray(idx, dtype=np.int64)
        for j, i in enumerate(idx):
            seed = None if seeds is None else seeds[j]
            if seed is not None or self._fresh[i]:
                self.rng[i] = stream_states(seed)
                self._fresh[i] = False
            self._events[i] = []
            self.si[i, L.I_EV_N] = 0
        reset_batch(idx, self.pidx, self.pf_table, self.ph_table, self.sf, self.si, self.items, self.reqs, self.jobs, self.rng, self.ev, self.tts, self.obs, self.tr)  # fmt: skip
        return self.obs[idx]

    def _kernel(self, idx: np.ndarray) -> int:
        """Run ``advance_batch`` for the devices in ``idx`` (int64, C-contiguous), on
        numba's threads when ``threads`` is on and there are at least ``PARALLEL_MIN``.
        Returns how many devices stopped short of a decision (see ``_resume``).

        The first call goes through numba's dispatcher (which compiles or loads the
        cache); later calls use the compiled entry point for these arrays' types
        directly, which skips the dispatcher's per-call type matching of 13 arguments
        (about 0.3 µs a call)."""
        global _threads_started
        if self.threads and idx.shape[0] >= PARALLEL_MIN and not _fork_child_of_omp and numba_threads() > 1:
            _threads_started = True
            with numba.parallel_chunksize(PARALLEL_CHUNK):
                if self._advance_parallel is None:
                    self._advance_parallel, waiting = _entry_point(advance_batch_parallel, (idx, *self._args))
                    return int(waiting)
                return self._advance_parallel(idx, *self._args)
        if self._advance is None:
            self._advance, waiting = _entry_point(advance_batch, (idx, *self._args))
            return int(waiting)
        return self._advance(idx, *self._args)

    def _run(self, idx: np.ndarray) -> None:
        if self._kernel(idx):
            self._resume(idx)

    def _resume(self, idx: np.ndarray) -> None:
        """Collect the event logs of devices that paused for a flush and let them carry
        on, until every device in ``idx`` reached a decision."""
        status = self.si[idx, L.I_STATUS]
        if (status == STATUS_STUCK).any():
            raise RuntimeError(STUCK_MESSAGE)
        paused = status == STATUS_NEED_FLUSH
        while paused.any():
            for i in idx[paused]:
                self._flush(int(i))
            idx = idx[paused]
            self._kernel(idx)
            status = self.si[idx, L.I_STATUS]
            if (status == STATUS_STUCK).any():
                raise RuntimeError(STUCK_MESSAGE)
            paused = status == STATUS_NEED_FLUSH

    def step_one(self, action: list[int] | np.ndarray) -> None:
        """Fast path for device 0 (a single-device simulator): ``action`` holds 4 ints."""
        a = self._acts0
        a[0], a[1], a[2], a[3] = action
        if self._kernel(self._all):
            self._resume(self._all)

    def step(self, actions: np.ndarray, idx: np.ndarray | None = None) -> None:
        """Apply ``actions`` (int64 ``[len(idx), 4]``, already validated) and run each
        device to its next decision point."""
        if idx is None:
            idx = self._all
            self.acts[:] = actions
        else:
            idx = np.ascontiguousarray(idx, dtype=np.int64)
            self.acts[idx] = actions
        self._run(idx)

    # -- reading the state --------------------------------------------------
    def done(self) -> np.ndarray:
        return self.si[:, L.I_DONE] != 0

    def reward(self) -> np.ndarray:
        return self.sf[:, L.S_REWARD]

    def cost(self) -> np.ndarray:
        return self.sf[:, L.S_COST]

    def time_s(self, i: int = 0) -> float:
        return float(self.sf[i, L.S_T])

    def phase(self, i: int = 0) -> int:
        return int(self.si[i, L.I_PHASE])

    def masks(self, i: int = 0) -> np.ndarray:
        m = np.zeros(self.mask_len, dtype=np.bool_)
        write_masks(self.pf_table[self.pidx[i]], self.sf[i], self.si[i], self.items[i], self.reqs[i], m)
        return m

    def pending_units(self, i: int = 0) -> float:
        """Work units in device ``i``'s backlog (the ``work_pending`` metric)."""
        return float(pending_units(self.si[i], self.items[i], -1))

    def metrics_rows(self, idx: np.ndarray) -> np.ndarray:
        """Episode metrics of the devices ``idx`` (int64): float64 ``[len(idx), NMETRICS]``,
        columns in ``metrics.METRIC_NAMES`` order (valid at any time; final at the horizon)."""
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        out = np.empty((idx.shape[0], NMETRICS))
        metrics_batch(idx, self.sf, self.si, self.items, self.tts, self._scratch, out)
        return out

    def metrics(self, i: int = 0) -> dict[str, float]:
        """Episode metrics of device ``i`` by name (see ``metrics.METRIC_NAMES``)."""
        return dict(zip(METRIC_NAMES, self.metrics_rows(np.array([i], dtype=np.int64))[0].tolist()))

    # -- the event log --------------------------------------------------------
    def event_array(self, i: int = 0) -> np.ndarray:
        """All events of device ``i`` so far as an ``[n, 6]`` array (t, kind, a, b, c, d)."""
        self._flush(i)
        parts = self._events[i]
        if not parts:
            return np.zeros((0, L.NEVF))
        if len(parts) > 1:
            self._events[i] = parts = [np.concatenate(parts)]
        return parts[0]

    def events(self, i: int = 0) -> list[dict[str, Any]]:
        """The event log of device ``i`` as records: ``t`` (s), ``kind`` and its fields."""
        return list(iter_events(self.event_array(i)))


# the per-device arrays (copied by ``copy``, ``load_devices``) and the attributes rebuilt by ``_bind``
_STATE = ("sf", "si", "items", "reqs", "jobs", "rng", "ev", "tts", "obs", "acts", "_fresh", "pidx")
_DERIVED = ("_all", "_args", "_acts0")


def split_levels(rec: np.ndarray, level_mode: int) -> tuple[np.ndarray, int]:
    """Trace records as the kernel takes them: when the samples are only compared
    (``layout.LEVEL_COMPARED``), the battery level samples (no events) moved after the
    other records; returns the records and how many level samples end them."""
    if level_mode != L.LEVEL_COMPARED:
        return rec, 0
    level = rec[:, 1] == L.TR_LEVEL
    return np.concatenate([rec[~level], rec[level]]), int(level.sum())


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def iter_events(arr: np.ndarray) -> Iterator[dict[str, Any]]:
    """Decode raw event rows into records with named fields (see layout.EVENT_SCHEMA)."""
    for row in arr.tolist():
        name, fields = _DECODERS[int(row[1])]
        rec: dict[str, Any] = {"t": row[0], "kind": name}
        for pos, f, dec in fields:
            v = row[pos]
            rec[f] = dec(v) if math.isfinite(v) else None  # None: e.g. an open-ended Doze state
        yield rec


def _decoder(kind: str, field: str) -> Any:
    """How a field's float becomes its value (a name, a bool, an int or the float)."""
    if field in ("type",):
        return lambda v: L.WT_NAMES[int(v)]
    if field == "work_kind":
        return lambda v: L.KIND_NAMES[int(v)]
    if field == "reason":
        names = L.REFUSE_NAMES if kind == "refused" else L.END_NAMES
        return lambda v: names[int(v)]
    if field == "state":
        names = L.TX_NAMES if kind == "transfer" else L.DOZE_NAMES
        return lambda v: names[int(v)]
    if field == "bucket" and kind in ("bucket", "grant"):
        return lambda v: L.BUCKET_NAMES[int(v)] if v >= 0 else None
    if field == "network":
        return lambda v: L.NET_NAMES[int(v)]
    if field == "level" or (field == "thermal" and kind == "reset"):
        return lambda v: L.THERMAL_NAMES[int(v)]
    if kind == "reset":
        return bool  # screen, low_power, charging
    if field in (
        "fresh",
        "saved",
        "on",
        "app",
        "overnight",
        "continued",
        "force_quit",
        "coalesced",
        "requires_network",
        "requires_power",
        "discretionary",
    ):
        return bool
    if field in ("attempt", "new_items"):
        return int
    return float


# Per event kind: its name and, for each used field, (column, name, decoder); built once
# so that decoding a row does no string comparisons (a week's log has ~10^4 rows).
_DECODERS: dict[int, tuple[str, list[tuple[int, str, Any]]]] = {
    k: (name, [(2 + j, f, _decoder(name, f)) for j, f in enumerate(fields) if not f.startswith("unused")])
    for k, (name, fields) in L.EVENT_SCHEMA.items()
}


def write_jsonl(records: list[dict[str, Any]], path: str | Path) -> None:
    """Write event records as JSON lines."""
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, allow_nan=False) + "\n")
