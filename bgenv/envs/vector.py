"""The batched Gymnasium environment: ``num_envs`` devices stepped by one simulator.

``gym.make_vec("bgenv/iOS-v1", num_envs=N, vectorization_mode="vector_entry_point")``
builds :class:`BackgroundSchedulingVectorEnv`. It holds ONE :class:`~bgenv.core.sim.Simulator`
of ``N`` devices, so a step is one call into the same compiled kernel the single env
uses (no second implementation of the dynamics), and device ``i`` reset with seed
``s + i`` follows exactly the trajectory of ``gym.make(...)`` reset with that seed.

Episodes truncate at the scenario horizon and are reset in the same step
(``AutoresetMode.SAME_STEP``): the returned observation of a finishing device is the
first observation of its next episode, its last one is in ``infos["final_obs"]``.

**Fleets.** ``fleet="<name or path>"`` (a :mod:`bgenv.fleet` file) instead of
``scenario``: at each reset every device draws its own scenario (cohort and parameter
ranges) and the batch still runs as one compiled call (the kernel reads each device's row
of a table of compiled scenarios). Device ``i`` reset with seed ``s`` replays exactly as
``gym.make(id, scenario=fleet.draw(s).scenario)`` reset with ``s``. A fleet of one
platform keeps that platform's action space (its cohorts must share the action table);
with ``platform=None`` a fleet may mix platforms (the adapter of
``bgenv/CrossPlatform-v1`` builds on this): the action space is then the union
``MultiDiscrete`` of the platforms' (the largest size of each part), a device's own options
take the first indices of the request part and ``action_masks()`` masks out the rest.
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
from bgenv.envs.actions import ActionTable
from bgenv.envs.common import deepcopy_env, load_platform_scenario
from bgenv.envs.spaces import ACTION_PARTS, OBSERVATION_NAMES, action_labels, action_space, observation_space
from bgenv.fleet import Draw, Fleet
from bgenv.traces.trace import Trace
from bgenv.world import WORLD_METRICS, TraceWorld, make_world, world_metrics


def _int_actions(actions: Any, num_envs: int, nvec: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """A batch of actions as int64 ``[N, 4]`` within ``nvec`` (``[4]``, or ``[N, 4]``: one
    row per device), or a ValueError naming the first offending env index and action part.
    Vectorised: no loop over envs."""
    a = actions if isinstance(actions, np.ndarray) else np.asarray(actions)
    n = num_envs
    if a.dtype == np.int64 and a.shape == (n, len(names)) and nvec.ndim == 1 and first_action_out_of_range(a, nvec) < 0:
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
        row = nvec if nvec.ndim == 1 else nvec[i]
        parts = ", ".join(f"{names[j]}={int(a[i, j])} (allowed 0..{int(row[j]) - 1})" for j in np.flatnonzero(bad[i]))
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
    final_cohort: np.ndarray | None = None  # with a fleet: the finished episodes' cohorts ...
    final_battery_start: np.ndarray | None = None  # ... and battery levels at their start
    final_world: np.ndarray | None = None  # with a trace world: the finished episodes' WORLD_METRICS ...
    final_trace: np.ndarray | None = None  # ... and the index of the trace each replayed (world.labels)


class BackgroundSchedulingVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` phones of one scenario, stepped together (see the module docstring).

    Args:
        num_envs: number of devices in the batch.
        platform: ``"ios"`` or ``"android"`` (set by the registered id).
        scenario: a name from ``configs/scenarios``, a path to a YAML file or a
            :class:`~bgenv.config.Scenario`; the platform's default when None.
        fleet: a fleet (:class:`bgenv.fleet.Fleet`, a name from ``configs/fleets`` or a
            YAML path) instead of ``scenario``: each device draws its scenario at each
            reset (see the module docstring). ``platform=None`` allows a fleet of both
            platforms (union action space).
        record_events: keep each device's event log (``events(i)``); off by default.
        threads: step the devices on numba's threads (``NUMBA_NUM_THREADS``, the cores
            by default), a chunk of devices at a time to whichever thread is free. None
            (the default): on from ``num_envs >= 256`` when there are 2+ threads; True:
            from 64; False: never. The results are the same either way.
        world, world_mode, world_battery: the world the devices live in, as for the single
            env (``bgenv.world``): with a trace (or a folder of traces: one pool of
            windows), each device replays its own window at each reset, chosen by its own
            generator (seeded by its reset seed, so device ``i`` seeded ``s + i`` replays
            the window the single env seeded ``s + i`` does) or, ``world_mode="sequential"``,
            device ``i``'s ``k``-th episode takes window ``i + k N`` of the pool (wrapping
            round). ``infos["metrics"]`` then gains ``battery_gap_rms`` and
            ``replayed_channels``, and ``infos["final_info"]["world_trace"]`` the index of
            the trace each finished episode replayed (into ``env.world.labels``).
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
    * with a fleet, ``"cohort"`` ``[N]``: the cohort index (``fleet.cohorts``) of each
      device's current episode (mask ``"_cohort"``).
    * for devices whose episode truncated (masks ``"_final_obs"``, ``"_final_info"``,
      ``"_metrics"``): ``"final_obs"`` (object array, the last observation of the
      episode, None elsewhere), ``"final_info"`` (what the single env's ``info`` holds
      on the truncating step: ``cost``, ``t``, ``t_s``, ``dt_s``, ``phase`` and
      ``metrics``, batched, and with a fleet ``cohort`` and ``battery_start``, the
      finished episode's cohort and battery level at its start, with a trace world
      ``world_trace``, the index of the trace it replayed), and
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
        platform: str | None = "ios",
        scenario: str | Path | Scenario | None = None,
        fleet: str | Path | Fleet | None = None,
        record_events: bool = False,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        threads: bool | None = None,
        world: str | Path | Trace | None = None,
        world_mode: str = "random",
        world_battery: str = "simulate",
        **overrides: Any,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode {render_mode!r} is not supported yet")
        if max_episode_steps is not None:
            raise ValueError("max_episode_steps is not supported: episodes end at the scenario's horizon_days")
        if int(num_envs) < 1:
            raise ValueError(f"num_envs must be at least 1; got {num_envs}")
        self.num_envs = n = int(num_envs)
        self.platform = platform
        self.fleet: Fleet | None = None
        self.mixed = False  # a fleet of both platforms (union action space)
        if fleet is None:
            if platform is None:
                raise ValueError("platform=None needs a fleet")
            self.scenario_spec: Scenario = load_platform_scenario(platform, scenario, **overrides)
            self.params: CompiledParams = compile_params(self.scenario_spec)
        else:
            if scenario is not None or overrides:
                raise ValueError(
                    "give a fleet or a scenario (with overrides), not both: put overrides in the fleet file"
                )
            self.fleet = Fleet.of(fleet)
            self._setup_fleet(platform)
        self.sim = Simulator(self.params, n, record_events=record_events, threads=threads)
        spec = self.scenario_spec
        self.world: TraceWorld | None = make_world(world, spec, world_mode, world_battery)
        if self.world is not None and self.fleet is not None:
            raise ValueError("a trace world replays one scenario: give a scenario, not a fleet")
        self._world_rng: list[np.random.Generator | None] = [None] * n
        self._world_episode = np.zeros(n, dtype=np.int64)
        self.world_window = np.full(n, -1, dtype=np.int64)  # each device's current window (index into world.starts)
        self.single_observation_space = observation_space()
        self.observation_space = batch_space(self.single_observation_space, n)
        self.observation_names = OBSERVATION_NAMES
        self.action_names = ACTION_PARTS
        self.render_mode = None
        self._all = np.arange(n, dtype=np.int64)
        self._t_s = np.zeros(n)  # each device's t_s at its previous decision
        self._started = False
        if self.fleet is None:
            self.single_action_space = action_space(self.params)
            self.action_labels = action_labels(self.params)
            self._nvec = np.asarray(self.params.nvec, dtype=np.int64)
        else:
            self._start_fleet()
        self.action_space = batch_space(self.single_action_space, n)
        self._mask_len = int(self._nvec.sum() if self._nvec.ndim == 1 else self.single_action_space.nvec.sum())

    # -- fleets -------------------------------------------------------------------
    def _setup_fleet(self, platform: str | None) -> None:
        """Check the fleet against the env's platform and pick the action tables."""
        fl = self.fleet
        assert fl is not None
        if platform is not None and fl.platforms != (platform,):
            raise ValueError(
                f"fleet '{fl.name}' has {'/'.join(fl.platforms)} cohorts; this env simulates {platform} "
                "(a fleet of both platforms runs on bgenv/CrossPlatform-v1)"
            )
        base = [c.params or compile_params(c.scenario) for c in fl.cohorts]
        self.tables: dict[str, ActionTable] = {}
        for c, cp in zip(fl.cohorts, base):
            t = ActionTable.from_params(cp)
            known = self.tables.setdefault(c.scenario.platform, t)
            if known != t:
                raise ValueError(
                    f"fleet '{fl.name}': cohort '{c.name}' has other {c.scenario.platform} request options or bins "
                    f"({list(t.option_labels)}) than the first one ({list(known.option_labels)}); "
                    "the cohorts of one platform must share the action table"
                )
        self.mixed = len(self.tables) > 1
        self.params = base[0]
        self.scenario_spec = fl.cohorts[0].scenario
        self._cohort_params = base

    def _start_fleet(self) -> None:
        """Tables of compiled scenarios (a row per cohort, plus a row per device when the
        fleet randomises parameters) and the action space."""
        fl = self.fleet
        assert fl is not None
        n, k = self.num_envs, len(fl.cohorts)
        rows = k + (n if fl.randomised else 0)
        pf = np.empty((rows, L.NP))
        ph = np.empty((rows, L.NH, 24))
        for j, cp in enumerate(self._cohort_params):
            pf[j], ph[j] = cp.pf, cp.ph
        pf[k:], ph[k:] = pf[0], ph[0]
        self.sim.set_params(pf, ph, np.zeros(n, dtype=np.int64))
        self.device_cohort = np.zeros(n, dtype=np.int64)
        self.device_platform = np.zeros(n, dtype=np.int64)  # codes of bgenv.core.layout.PLATFORMS
        self.battery_start = np.zeros(n)  # each device's battery level at its episode's start, fraction
        self.device_draws: list[Draw | None] = [None] * n
        self._fleet_rng: list[np.random.Generator | None] = [None] * n
        self._cohort_platform = np.array([L.PLATFORMS[c.scenario.platform] for c in fl.cohorts], dtype=np.int64)
        nv = np.stack([np.asarray(t.nvec, dtype=np.int64) for t in self.tables.values()]).max(axis=0)
        self._platform_nvec = np.zeros((len(L.PLATFORMS), 4), dtype=np.int64)
        for name, t in self.tables.items():
            self._platform_nvec[L.PLATFORMS[name]] = t.nvec
        self._union_nvec = nv  # the native union layout (an adapter may replace the action space)
        if self.mixed:
            self.single_action_space = gym.spaces.MultiDiscrete(nv)
            self.action_labels = None  # per platform: self.tables[platform]
            self._nvec = self._platform_nvec[self.device_platform]
        else:
            self.single_action_space = action_space(self.params)
            self.action_labels = action_labels(self.params)
            self._nvec = np.asarray(self.params.nvec, dtype=np.int64)

    def _draw(self, idx: np.ndarray, seeds: list[int | None] | None) -> None:
        """Each device in ``idx`` draws its next episode's scenario (a seed restarts its
        fleet generator; without one it carries on)."""
        fl = self.fleet
        assert fl is not None
        k = len(fl.cohorts)
        sim = self.sim
        for j, i in enumerate(idx.tolist()):
            seed = None if seeds is None else seeds[j]
            rng = self._fleet_rng[i]
            if seed is not None or rng is None:
                rng = self._fleet_rng[i] = fl.generator(seed)
            d = fl.draw_with(rng)
            self.device_draws[i] = d
            self.device_cohort[i] = d.cohort
            if d.values:
                sim.set_row(k + i, d.params)
                sim.pidx[i] = k + i
            else:
                sim.pidx[i] = d.cohort
        self.device_platform[idx] = self._cohort_platform[self.device_cohort[idx]]
        if self.mixed:
            self._nvec = self._platform_nvec[self.device_platform]

    def _world_assign(self, idx: np.ndarray, seeds: list[int | None] | None) -> None:
        """Each device in ``idx`` takes its next episode's window of the trace (a seed
        restarts its generator and its sequence; without one they carry on)."""
        w = self.world
        assert w is not None
        n = self.num_envs
        rngs, episodes = self._world_rng, self._world_episode
        ep = episodes[idx].tolist()
        ks = np.empty(len(ep), dtype=np.int64)
        for j, i in enumerate(idx.tolist()):
            rng = rngs[i]
            if rng is None or (seeds is not None and seeds[j] is not None):
                rng = rngs[i] = gym.utils.seeding.np_random(None if seeds is None else seeds[j])[0]
                ep[j] = 0
            ks[j] = w.choose(rng, i + n * ep[j])
            ep[j] += 1
        episodes[idx] = ep
        self.world_window[idx] = ks
        w.load(self.sim, idx, ks)

    def device_scenario(self, i: int) -> Scenario:
        """The scenario device ``i``'s current episode runs (the env's scenario without a fleet)."""
        if self.fleet is None:
            return self.scenario_spec
        d = self.device_draws[int(i)]
        if d is None:
            raise RuntimeError("call reset() first: a fleet's devices draw their scenarios at reset")
        return d.scenario

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
        if self.fleet is not None:
            self._draw(idx, seeds)
        if self.world is not None:
            self._world_assign(idx, seeds)
        self.sim.reset(seeds, idx)
        self._started = True
        sf = self.sim.sf
        if self.fleet is not None:
            self.battery_start[idx] = sf[idx, L.S_BATT]
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
        } | self._cohort_info(every)

    def _cohort_info(self, every: np.ndarray) -> dict[str, np.ndarray]:
        return {} if self.fleet is None else {"cohort": self.device_cohort.copy(), "_cohort": every}

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
        } | self._cohort_info(every)
        if r.final_idx.size:
            idx = r.final_idx
            final_obs = np.full(n, None, dtype=object)
            for j, i in enumerate(idx):
                final_obs[i] = r.final_obs[j]
            metrics = _batch_dicts(r.final_metrics, idx, truncated)
            if r.final_world is not None:
                cols = np.zeros((len(WORLD_METRICS), n))
                cols[:, idx] = r.final_world.T
                for c, name in enumerate(WORLD_METRICS):
                    metrics[name] = cols[c]
                    metrics[f"_{name}"] = metrics["_completion_rate"]
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
            if r.final_cohort is not None and r.final_battery_start is not None:
                cohort = np.zeros(n, dtype=np.int64)
                cohort[idx] = r.final_cohort
                start = np.zeros(n)
                start[idx] = r.final_battery_start
                final_info |= {"cohort": cohort, "_cohort": truncated.copy()}
                final_info |= {"battery_start": start, "_battery_start": truncated.copy()}
            if r.final_trace is not None:
                trace = np.zeros(n, dtype=np.int64)
                trace[idx] = r.final_trace
                final_info |= {"world_trace": trace, "_world_trace": truncated.copy()}
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
        fc = fb = fw = ft = None
        if self.fleet is not None:
            fc, fb = self.device_cohort[final_idx], self.battery_start[final_idx]
            self._draw(final_idx, None)
        if self.world is not None:
            fw = world_metrics(sf, sim.si, final_idx)
            ft = self.world.window_trace[self.world_window[final_idx]]
            self._world_assign(final_idx, None)
        sim.reset(None, final_idx)
        if self.fleet is not None:
            self.battery_start[final_idx] = sf[final_idx, L.S_BATT]
        self._t_s[final_idx] = 0.0
        return BatchStep(sim.obs.copy(), rewards, cost, t_s, dt_s, truncated, final_idx, final_obs, final_t, final_metrics, fc, fb, fw, ft)  # fmt: skip

    # -- extras ---------------------------------------------------------------
    def action_masks(self) -> np.ndarray:
        """Boolean ``[N, sum(nvec)]``: per device, the mask over the concatenated
        MultiDiscrete choices (MaskablePPO's layout), as the single env's ``action_masks()``."""
        sim = self.sim
        if not self.mixed:
            out = np.empty((self.num_envs, self._mask_len), dtype=np.bool_)
            write_masks_batch(self._all, sim.pidx, sim.pf_table, sim.sf, sim.si, sim.items, sim.reqs, out)
            return out
        # a mixed fleet: each platform's devices get their own masks, placed in the union layout
        out = np.zeros((self.num_envs, self._mask_len), dtype=np.bool_)
        union = self._union_nvec
        u_off = np.concatenate([[0], np.cumsum(union)[:-1]])
        for name, t in self.tables.items():
            idx = np.flatnonzero(self.device_platform == L.PLATFORMS[name])
            if not idx.size:
                continue
            nv = np.asarray(t.nvec)
            own = np.empty((idx.size, int(nv.sum())), dtype=np.bool_)
            write_masks_batch(idx, sim.pidx, sim.pf_table, sim.sf, sim.si, sim.items, sim.reqs, own)
            o_off = np.concatenate([[0], np.cumsum(nv)[:-1]])
            for part in range(len(nv)):
                out[idx, u_off[part] : u_off[part] + nv[part]] = own[:, o_off[part] : o_off[part] + nv[part]]
        return out

    def metrics(self, i: int) -> dict[str, float]:
        """Episode metrics of device ``i`` so far."""
        m = self.sim.metrics(int(i))
        if self.world is not None:
            row = world_metrics(self.sim.sf[i : i + 1], self.sim.si[i : i + 1])[0]
            m.update(zip(WORLD_METRICS, row.tolist()))
        return m

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
