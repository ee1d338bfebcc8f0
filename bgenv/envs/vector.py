"""The batched Gymnasium environment: ``num_envs`` devices stepped by one simulator.

``gym.make_vec("bgenv/iOS-v1", num_envs=N, vectorization_mode="vector_entry_point")``
builds :class:`BackgroundSchedulingVectorEnv`. It holds ONE :class:`~bgenv.core.sim.Simulator`
of ``N`` devices, so a step is one call into the same compiled kernel the single env
uses (no second implementation of the dynamics), and device ``i`` reset with seed
``s + i`` follows exactly the trajectory of ``gym.make(...)`` reset with that seed.

Episodes truncate at the scenario horizon and are reset in the same step
(``AutoresetMode.SAME_STEP``): the returned observation of a finishing device is the
first observation of its next episode, its last one is in ``infos["final_obs"]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from bgenv.config import Scenario
from bgenv.core import layout as L
from bgenv.core.kernel import first_action_out_of_range, write_masks_batch
from bgenv.core.metrics import METRIC_NAMES, NMETRICS
from bgenv.core.observation import NOBS
from bgenv.core.params import CompiledParams, compile_params
from bgenv.core.sim import Simulator
from bgenv.envs.common import deepcopy_env, load_platform_scenario
from bgenv.envs.spaces import ACTION_PARTS, OBSERVATION_NAMES, action_labels, action_space, observation_space


def _int_actions(actions: Any, num_envs: int, nvec: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """A batch of actions as int64 ``[N, 4]`` within ``nvec``, or a ValueError naming the
    first offending env index and action part. Vectorised: no loop over envs."""
    a = actions if isinstance(actions, np.ndarray) else np.asarray(actions)
    n = num_envs
    if a.dtype == np.int64 and a.shape == (n, len(names)) and first_action_out_of_range(a, nvec) < 0:
        return a  # the common case (a policy's or the space's sample), checked in one compiled call
    if a.ndim != 2 or a.shape[0] != n or a.shape[1] != len(names):
        raise ValueError(
            f"actions must be an integer array of shape ({n}, {len(names)}) (one row {list(names)} per env); "
            f"got shape {a.shape}"
        )
    if a.dtype != np.int64:
        if a.dtype.kind in "iub":
            a = a.astype(np.int64)
        elif a.dtype.kind == "f" and np.isfinite(a).all() and (a == np.round(a)).all():
            a = a.astype(np.int64)
        else:
            raise ValueError(f"actions must be integers; got dtype {a.dtype}")
    bad = (a < 0) | (a >= nvec)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        i = int(rows[0])
        parts = ", ".join(f"{names[j]}={int(a[i, j])} (allowed 0..{int(nvec[j]) - 1})" for j in np.flatnonzero(bad[i]))
        more = f" ({len(rows) - 1} more envs out of space)" if len(rows) > 1 else ""
        raise ValueError(f"action of env {i} outside the action space: {parts}{more}")
    return a


class BatchStep(NamedTuple):
    """One batched step: ``obs`` holds the new episodes' first observations for the
    devices in ``final_idx`` (those whose episode truncated in this step);
    ``final_obs``/``final_t``/``final_metrics`` are those devices' last observations,
    end times and episode metrics (one row each, columns in ``METRIC_NAMES`` order), in
    ``final_idx`` order. ``rewards``, ``cost``, ``t_s`` and ``dt_s`` are the step's, for
    every device (a finished device's ``t_s`` is its episode's simulated length)."""

    obs: np.ndarray
    rewards: np.ndarray
    cost: np.ndarray
    t_s: np.ndarray
    dt_s: np.ndarray
    truncated: np.ndarray
    final_idx: np.ndarray
    final_obs: np.ndarray
    final_t: np.ndarray
    final_metrics: np.ndarray


class BackgroundSchedulingVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` phones of one scenario, stepped together (see the module docstring).

    Args:
        num_envs: number of devices in the batch.
        platform: ``"ios"`` or ``"android"`` (set by the registered id).
        scenario: a name from ``configs/scenarios`` or a path to a YAML file; the
            platform's default when None.
        record_events: keep each device's event log (``events(i)``); off by default.
        threads: step the devices on numba's threads (``NUMBA_NUM_THREADS``, the cores
            by default), a chunk of devices at a time to whichever thread is free. None
            (the default): on from ``num_envs >= 256`` when there are 2+ threads; True:
            from 64; False: never. The results are the same either way.
        **overrides: deep-merged into the scenario, e.g. ``horizon_days=2``.

    ``step`` returns ``(obs, rewards, terminations, truncations, infos)`` with
    ``terminations`` always False (the task has no terminal state) and ``infos``:

    * ``"cost"`` ``[N]``: battery fraction spent by background work in the step (the
      transition's cost, matching its reward, also for a device that was reset),
      ``"t"`` ``[N]``: simulated time (s since midnight of day 0) of the returned
      observation, ``"t_s"`` ``[N]``: simulated s since the episode's reset and
      ``"dt_s"`` ``[N]``: simulated s since the device's previous decision (both 0 for a
      device reset in this step, as at ``reset()``: its finished episode's are in
      ``final_info``); each with its ``"_cost"``/``"_t"``/``"_t_s"``/``"_dt_s"`` mask
      (all True). ``reset()`` returns ``cost``, ``t``, ``t_s`` and ``dt_s`` (0 for the
      devices it reset; ``dt_s`` 0 for all).
    * for devices whose episode truncated (masks ``"_final_obs"``, ``"_final_info"``,
      ``"_metrics"``): ``"final_obs"`` (object array, the last observation of the
      episode, None elsewhere), ``"final_info"`` (what the single env's ``info`` holds
      on the truncating step: ``cost``, ``t``, ``t_s``, ``dt_s``, ``phase`` and
      ``metrics``, batched), and
      ``"metrics"`` (the episode metrics, a dict of ``[N]`` arrays with ``"_<name>"``
      masks; the same dict as ``infos["final_info"]["metrics"]``).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": [],
        "render_fps": 4,
        "autoreset_mode": AutoresetMode.SAME_STEP,
    }

    def __init__(
        self,
        num_envs: int,
        platform: str = "ios",
        scenario: str | Path | None = None,
        record_events: bool = False,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        threads: bool | None = None,
        **overrides: Any,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode {render_mode!r} is not supported yet")
        if max_episode_steps is not None:
            raise ValueError("max_episode_steps is not supported: episodes end at the scenario's horizon_days")
        if int(num_envs) < 1:
            raise ValueError(f"num_envs must be at least 1; got {num_envs}")
        self.num_envs = int(num_envs)
        self.platform = platform
        self.scenario_spec: Scenario = load_platform_scenario(platform, scenario, **overrides)
        self.params: CompiledParams = compile_params(self.scenario_spec)
        self.sim = Simulator(self.params, self.num_envs, record_events=record_events, threads=threads)
        self.single_observation_space = observation_space()
        self.single_action_space = action_space(self.params)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_names = OBSERVATION_NAMES
        self.action_names = ACTION_PARTS
        self.action_labels = action_labels(self.params)
        self.render_mode = None
        n = self.num_envs
        self._nvec = np.asarray(self.params.nvec, dtype=np.int64)
        self._all = np.arange(n, dtype=np.int64)
        self._t_s = np.zeros(n)  # each device's t_s at its previous decision
        self._mask_len = int(self.sim.mask_len)
        self._started = False

    # -- copies -----------------------------------------------------------------
    # ``copy.deepcopy(env)`` and ``pickle`` give an env whose devices continue their
    # identical trajectories (and auto-resets, which carry on the random streams).
    def __deepcopy__(self, memo: dict[int, Any]) -> BackgroundSchedulingVectorEnv:
        return deepcopy_env(self, memo)

    def _bind_views(self) -> None:
        """Nothing to rebuild: this env keeps no views into the simulator's arrays."""

    # -- Gymnasium API --------------------------------------------------------
    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start new episodes. ``seed``: an int ``s`` seeds device ``i`` with ``s + i``; a
        list gives one seed (or None) per device; None lets each device carry on its
        random streams (fresh devices draw OS entropy). ``options={"reset_mask": m}``
        resets only the devices where the bool ``[N]`` mask ``m`` is True."""
        n = self.num_envs
        if seed is None:
            seeds: list[int | None] | None = None
        elif isinstance(seed, (int, np.integer)):
            super().reset(seed=int(seed))
            seeds = [int(seed) + i for i in range(n)]
        else:
            seeds = [None if s is None else int(s) for s in seed]
            if len(seeds) != n:
                raise ValueError(f"seed must be an int, None or a list of {n} seeds; got a list of {len(seeds)}")
        idx = self._all
        if options and options.get("reset_mask") is not None:
            mask = np.asarray(options["reset_mask"], dtype=bool)
            if mask.shape != (n,):
                raise ValueError(f"options['reset_mask'] must be a bool array of shape ({n},); got {mask.shape}")
            if not self._started and not mask.all():
                raise ValueError("the first reset() must reset every env")
            idx = np.flatnonzero(mask)
            if seeds is not None:
                seeds = [seeds[i] for i in idx]
        self.sim.reset(seeds, idx)
        self._started = True
        sf = self.sim.sf
        cost = sf[:, L.S_COST].copy()
        t = sf[:, L.S_T].copy()
        t_s = t - sf[:, L.S_T0]  # 0 for the devices just reset
        self._t_s[:] = t_s
        every = np.ones(n, dtype=np.bool_)  # one mask shared by the keys every device has
        return self.sim.obs.copy(), {
            "cost": cost,
            "_cost": every,
            "t": t,
            "_t": every,
            "t_s": t_s,
            "_t_s": every,
            "dt_s": np.zeros(n),
            "_dt_s": every,
        }

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        r = self._advance(actions)
        n = self.num_envs
        truncated = r.truncated
        t_s, dt_s = r.t_s, r.dt_s
        if r.final_idx.size:  # the devices reset in this step show their new episode's 0 (as reset() does)
            t_s = np.where(truncated, 0.0, t_s)
            dt_s = np.where(truncated, 0.0, dt_s)
        every = np.ones(n, dtype=np.bool_)  # one mask shared by the keys every device has
        infos: dict[str, Any] = {
            "cost": r.cost,
            "_cost": every,
            "t": self.sim.sf[:, L.S_T].copy(),
            "_t": every,
            "t_s": t_s,
            "_t_s": every,
            "dt_s": dt_s,
            "_dt_s": every,
        }
        if r.final_idx.size:
            idx = r.final_idx
            final_obs = np.full(n, None, dtype=object)
            for j, i in enumerate(idx):
                final_obs[i] = r.final_obs[j]
            metrics = _batch_dicts(r.final_metrics, idx, truncated)
            phase = np.full(n, None, dtype=object)
            phase[idx] = L.PHASE_NAMES[L.PH_NONE]
            final_t = np.zeros(n)
            final_t[idx] = r.final_t
            final_info = {
                "cost": np.where(truncated, r.cost, 0.0),
                "_cost": truncated.copy(),
                "t": final_t,
                "_t": truncated.copy(),
                "t_s": np.where(truncated, r.t_s, 0.0),
                "_t_s": truncated.copy(),
                "dt_s": np.where(truncated, r.dt_s, 0.0),
                "_dt_s": truncated.copy(),
                "phase": phase,
                "_phase": truncated.copy(),
                "metrics": metrics,
                "_metrics": truncated.copy(),
            }
            infos["final_obs"] = final_obs
            infos["_final_obs"] = truncated.copy()
            infos["final_info"] = final_info
            infos["_final_info"] = truncated.copy()
            infos["metrics"] = metrics
            infos["_metrics"] = truncated.copy()
        return r.obs, r.rewards, np.zeros(n, dtype=np.bool_), truncated, infos

    def _advance(self, actions: Any) -> BatchStep:
        """Validate and apply a batch of actions; reset the devices whose episode ended,
        carrying on their random streams. Shared by the Gymnasium and SB3 adapters."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        a = _int_actions(actions, self.num_envs, self._nvec, self.action_names)
        sim = self.sim
        sim.step(a)
        sf = sim.sf
        rewards = sf[:, L.S_REWARD].copy()
        cost = sf[:, L.S_COST].copy()
        t_s = sf[:, L.S_T] - sf[:, L.S_T0]
        dt_s = t_s - self._t_s
        self._t_s[:] = t_s
        truncated = sim.si[:, L.I_DONE] != 0
        final_idx = np.flatnonzero(truncated)
        if not final_idx.size:
            return BatchStep(sim.obs.copy(), rewards, cost, t_s, dt_s, truncated, final_idx, _EMPTY_OBS, _EMPTY_T, _EMPTY_METRICS)  # fmt: skip
        final_obs = sim.obs[final_idx]  # fancy indexing: a copy
        final_t = sf[final_idx, L.S_T]
        final_metrics = sim.metrics_rows(final_idx)
        sim.reset(None, final_idx)
        self._t_s[final_idx] = 0.0
        return BatchStep(sim.obs.copy(), rewards, cost, t_s, dt_s, truncated, final_idx, final_obs, final_t, final_metrics)  # fmt: skip

    # -- extras ---------------------------------------------------------------
    def action_masks(self) -> np.ndarray:
        """Boolean ``[N, sum(nvec)]``: per device, the mask over the concatenated
        MultiDiscrete choices (MaskablePPO's layout), as the single env's ``action_masks()``."""
        sim = self.sim
        out = np.empty((self.num_envs, self._mask_len), dtype=np.bool_)
        write_masks_batch(sim.pf, sim.sf, sim.si, sim.items, sim.reqs, out)
        return out

    def metrics(self, i: int) -> dict[str, float]:
        """Episode metrics of device ``i`` so far."""
        return self.sim.metrics(int(i))

    def events(self, i: int) -> list[dict[str, Any]]:
        """The current episode's event log of device ``i`` (needs ``record_events=True``)."""
        if not self.sim.record_events:
            raise RuntimeError("the event log is off: make the env with record_events=True")
        return self.sim.events(int(i))


_EMPTY_OBS = np.zeros((0, NOBS), dtype=np.float32)
_EMPTY_T = np.zeros(0)
_EMPTY_METRICS = np.zeros((0, NMETRICS))


def _batch_dicts(rows: np.ndarray, idx: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Metric rows of the devices ``idx`` as Gymnasium's vector info: one ``[N]`` array
    per metric (zero where absent; columns of one ``[N, NMETRICS]`` block) and a
    ``"_name"`` bool mask (one array shared by every name)."""
    block = np.zeros((mask.shape[0], NMETRICS))
    block[idx] = rows
    shared = mask.copy()
    out: dict[str, np.ndarray] = {}
    for j, name in enumerate(METRIC_NAMES):
        out[name] = block[:, j]
        out[f"_{name}"] = shared
    return out
