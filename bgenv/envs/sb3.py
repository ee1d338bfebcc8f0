"""Stable-Baselines3 adapters: a ``VecEnv`` over the batched environment, and its
action-flattening wrapper for DQN. Needs the ``rl`` extra (``pip install bgenv[rl]``).

SB3's ``DummyVecEnv`` steps ``n`` single envs one by one in Python; :class:`BgenvVecEnv`
steps all ``n`` devices with one call into the compiled simulator and keeps SB3's
conventions: ``step_wait`` returns ``(obs, rewards, dones, infos)`` with
``dones = truncated`` (episodes only truncate, at the scenario horizon), the finished
devices already reset, and on an episode end ``infos[i]["terminal_observation"]``,
``infos[i]["TimeLimit.truncated"] = True`` and ``infos[i]["metrics"]`` (with a trace
world also ``infos[i]["world_trace"]``, the index of the trace it replayed in the world's
``labels``). Every info also
holds ``"cost"``, ``"t_s"`` and ``"dt_s"`` of the step, as the single env's (simulated s
since the episode's reset and since the previous decision): on an episode end those of
the finished episode's last step (SB3's convention, as ``DummyVecEnv``'s: the info of a
done step is the last step's; the new episode's reset info, with ``t_s = dt_s = 0``, is
in ``reset_infos[i]``). ``env_method("action_masks")`` returns one mask
per env, so sb3-contrib's ``MaskablePPO`` reads the masks.

    from bgenv.envs.sb3 import make_sb3_vec_env
    env = make_sb3_vec_env("bgenv/iOS-v1", n_envs=8, seed=0)
    model = MaskablePPO("MlpPolicy", env).learn(100_000)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecMonitor
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from bgenv.core.metrics import METRIC_NAMES
from bgenv.envs.vector import BackgroundSchedulingVectorEnv
from bgenv.envs.wrappers import flat_mask, flat_size, unflatten
from bgenv.fleet import fleet_of_spec, is_fleet_spec
from bgenv.registration import CROSS_ENV_ID, PLATFORM_OF_ENV_ID
from bgenv.world import WORLD_METRICS


class BgenvVecEnv(VecEnv):
    """SB3 view of a :class:`~bgenv.envs.vector.BackgroundSchedulingVectorEnv`.

    Args:
        venv: the batched env (its ``num_envs`` devices are this VecEnv's envs).

    ``seed(s)`` seeds env ``i`` with ``s + i`` at the next ``reset()``, like SB3's own
    VecEnvs; env ``i`` then follows ``gym.make(...)`` reset with seed ``s + i``.
    """

    def __init__(self, venv: BackgroundSchedulingVectorEnv) -> None:
        venv = venv.unwrapped
        if not isinstance(venv, BackgroundSchedulingVectorEnv):
            raise TypeError(f"BgenvVecEnv wraps a BackgroundSchedulingVectorEnv; got {type(venv).__name__}")
        self.venv = venv
        self._actions: np.ndarray | None = None
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self.metadata = {"render_modes": []}

    # -- stepping -------------------------------------------------------------
    def reset(self) -> VecEnvObs:
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        obs, _ = self.venv.reset(seed=seeds)
        self.reset_infos = [_reset_info() for _ in range(self.num_envs)]
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("call step_async() before step_wait()")
        r = self.venv._advance(self._actions)
        self._actions = None
        infos: list[dict[str, Any]] = [
            {"cost": c, "t_s": t, "dt_s": dt, "TimeLimit.truncated": False}
            for c, t, dt in zip(r.cost.tolist(), r.t_s.tolist(), r.dt_s.tolist())
        ]
        for j, i in enumerate(r.final_idx.tolist()):
            info = infos[i]
            info["TimeLimit.truncated"] = True
            info["terminal_observation"] = r.final_obs[j]
            info["metrics"] = dict(zip(METRIC_NAMES, r.final_metrics[j].tolist()))
            if r.final_world is not None:  # a trace world
                info["metrics"].update(zip(WORLD_METRICS, r.final_world[j].tolist()))
            if r.final_trace is not None:  # which of the world's traces it replayed
                info["world_trace"] = int(r.final_trace[j])
            if r.final_cohort is not None and r.final_battery_start is not None:  # a fleet
                info["cohort"] = int(r.final_cohort[j])
                info["battery_start"] = float(r.final_battery_start[j])
            self.reset_infos[i] = _reset_info()
        return r.obs, r.rewards.astype(np.float32), r.truncated, infos

    def close(self) -> None:
        self.venv.close()

    # -- masks ------------------------------------------------------------------
    def action_masks(self) -> np.ndarray:
        """Boolean ``[n_envs, sum(nvec)]`` masks (MaskablePPO's MultiDiscrete layout)."""
        return self.venv.action_masks()

    def _mask_of(self, i: int) -> np.ndarray:
        return self.venv.action_masks()[i]

    # -- SB3's per-env access ---------------------------------------------------
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """Per-env values: ``action_masks``/``metrics`` are bound to each device; any
        other attribute is the batched env's (shared by every device)."""
        idx = list(self._get_indices(indices))
        if attr_name == "action_masks":
            return [partial(self._mask_of, i) for i in idx]
        if attr_name == "metrics":
            return [partial(self.venv.metrics, i) for i in idx]
        if attr_name == "render_mode":
            return [None for _ in idx]
        value = getattr(self.venv, attr_name)
        return [value for _ in idx]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Sets the attribute on the batched env (all devices share it)."""
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        """``action_masks`` (one mask per env), ``metrics`` and ``events`` (per device)."""
        idx = list(self._get_indices(indices))
        if method_name == "action_masks":
            masks = self.venv.action_masks()
            return [masks[i] for i in idx]
        if method_name in ("metrics", "events"):
            method = getattr(self.venv, method_name)
            return [method(i, *method_args, **method_kwargs) for i in idx]
        raise AttributeError(
            f"BgenvVecEnv.env_method supports 'action_masks', 'metrics' and 'events'; got {method_name!r}"
        )

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]


def _reset_info() -> dict[str, float]:
    return {"cost": 0.0, "t_s": 0.0, "dt_s": 0.0}


def make_sb3_vec_env(
    env_id_or_platform: str,
    n_envs: int,
    seed: int | None = None,
    scenario: str | Path | None = None,
    monitor: bool = True,
    **overrides: Any,
) -> VecEnv:
    """An SB3 VecEnv of ``n_envs`` devices: ``env_id_or_platform`` is ``"bgenv/iOS-v1"``,
    ``"bgenv/Android-v1"``, ``"ios"``, ``"android"`` or ``"bgenv/CrossPlatform-v1"`` (intent
    actions over ``scenario``'s platform); ``seed`` seeds env ``i`` with
    ``seed + i`` at the first ``reset()``; ``**overrides`` go to the scenario (e.g.
    ``horizon_days=2``); ``scenario="fleet:<name>"`` makes a fleet batch (``bgenv.fleet``). With ``monitor`` (the default) it is wrapped in SB3's
    ``VecMonitor`` so episode returns and lengths are logged, as ``make_vec_env`` does
    with its ``Monitor`` wrappers."""
    fleet = fleet_of_spec(str(scenario)) if is_fleet_spec(scenario) else None  # fleet:<name>
    if fleet is not None and overrides:
        raise ValueError("scenario overrides do not apply to a fleet: put them in the fleet file's cohorts")
    if env_id_or_platform == CROSS_ENV_ID:  # intents; a fleet may mix platforms
        from bgenv.envs.cross_vector import CrossPlatformVectorEnv

        if fleet is not None:
            venv: BackgroundSchedulingVectorEnv = CrossPlatformVectorEnv(n_envs, fleet=fleet)
        else:
            venv = CrossPlatformVectorEnv(n_envs, scenario=scenario, **overrides)
    elif fleet is not None:  # each device draws its scenario at reset
        platform = PLATFORM_OF_ENV_ID.get(env_id_or_platform, env_id_or_platform)
        venv = BackgroundSchedulingVectorEnv(n_envs, platform=platform, fleet=fleet)
    else:
        platform = PLATFORM_OF_ENV_ID.get(env_id_or_platform, env_id_or_platform)
        venv = BackgroundSchedulingVectorEnv(n_envs, platform=platform, scenario=scenario, **overrides)
    env: VecEnv = BgenvVecEnv(venv)
    if seed is not None:
        env.seed(seed)
    if monitor:
        env = VecMonitor(env)
    return env


class VecFlattenActions(VecEnvWrapper):
    """A Stable-Baselines3 VecEnv with ``Discrete(prod(nvec))`` actions."""

    def __init__(self, venv: VecEnv) -> None:
        space = venv.action_space
        if not isinstance(space, gym.spaces.MultiDiscrete):
            raise TypeError(f"VecFlattenActions needs a MultiDiscrete action space; got {space}")
        self._nvec = np.asarray(space.nvec)
        super().__init__(venv, action_space=gym.spaces.Discrete(flat_size(self._nvec)))

    def step_async(self, actions: np.ndarray) -> None:
        self.venv.step_async(unflatten(np.asarray(actions).reshape(-1), self._nvec))

    def step_wait(self):
        return self.venv.step_wait()

    def reset(self):
        return self.venv.reset()

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        out = self.venv.env_method(method_name, *method_args, indices=indices, **method_kwargs)
        if method_name == "action_masks":
            return [flat_mask(m, self._nvec) for m in out]
        return out


__all__: Sequence[str] = ("BgenvVecEnv", "VecFlattenActions", "make_sb3_vec_env")
