"""Discounting by simulated time for PPO, MaskablePPO and A2C.

A bgenv step is a *decision point*: the time between two decisions varies from about a
second (chunks inside a window) to many hours (a night without windows). Stable-Baselines3
discounts per step (``gamma`` per decision), so a policy that creates more decision points
(more windows, more chunks) has its later rewards discounted more, and the learner is pushed
towards acting rarely (docs/training.md and docs/results.md measure it: per-step learners settled
on hardly requesting).

Here the discount of step ``t`` is a function of the simulated seconds it lasted,
``dt_t = info["dt_s"]`` (the time from the decision at ``t`` to the next one)::

    gamma_t = 0.5 ** (dt_t / (3600 * half_life_h))

so a reward one half-life (hours) later counts half as much, however many decisions lie in
between. It replaces the per-step ``gamma`` in the three places SB3 uses it:

* **GAE** (:class:`TimeDiscountedRolloutBuffer`)::

      delta_t = r_t + gamma_t * V(s_{t+1}) * (1 - done_t) - V(s_t)
      A_t     = delta_t + gamma_t * lambda * (1 - done_t) * A_{t+1}
      R_t     = A_t + V(s_t)

  (``lambda`` stays per step: it weighs n-step estimates, not time);
* **the bootstrap at truncation**: a week ends by a time limit, not in a terminal state, so
  the last step's reward gets ``gamma_t * V(terminal observation)``
  (:meth:`TimeDiscounted._update_info_buffer`; SB3 adds ``gamma * V``);
* **reward normalisation** (:class:`TimeVecNormalize`): the running discounted return whose
  variance scales the rewards is ``G_t = gamma_t * G_{t-1} + r_t``.

Use it through the training config (``bgenv train``)::

    bgenv/iOS-v1:
      discount_half_life_h: 6     # instead of gamma

which trains :class:`TimePPO` / :class:`TimeMaskablePPO` / :class:`TimeA2C` with
:class:`TimeVecNormalize`, or directly::

    model = TimePPO("MlpPolicy", venv, half_life_h=6.0)

The classes are the SB3 algorithms with the hooks above and nothing else; a saved model
loads with them (to continue training) or with the plain class (to act).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch as th
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.buffers import MaskableRolloutBuffer
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.vec_env import VecEnv, VecNormalize
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

SECONDS_PER_HOUR = 3600.0


def step_discounts(dt_s: np.ndarray | Sequence[float], half_life_h: float) -> np.ndarray:
    """Discount of each step, ``0.5 ** (dt_s / (3600 * half_life_h))``.

    Args:
        dt_s: simulated seconds each step lasted (``info["dt_s"]``), any shape.
        half_life_h: hours after which a reward counts half (> 0).

    Returns:
        float32 array of ``dt_s``'s shape, in (0, 1].
    """
    if not half_life_h > 0:
        raise ValueError(f"half_life_h must be > 0 hours; got {half_life_h!r}")
    dt = np.asarray(dt_s, dtype=np.float64)
    return np.power(0.5, np.maximum(dt, 0.0) / (SECONDS_PER_HOUR * float(half_life_h))).astype(np.float32)


def infos_dt_s(infos: Sequence[dict[str, Any]]) -> np.ndarray:
    """``info["dt_s"]`` of each env of a VecEnv step (a ValueError naming the env that has
    none: time discounting needs bgenv v1's infos)."""
    try:
        return np.array([info["dt_s"] for info in infos], dtype=np.float64)
    except KeyError:
        raise ValueError(
            "time discounting needs info['dt_s'] (simulated seconds of each step) from every env; "
            "bgenv's -v1 envs provide it"
        ) from None


class _TimeDiscountedBufferMixin:
    """Per-step discounts in a rollout buffer; see the module docstring.

    The algorithm stages each step's discounts and truncation bootstraps
    (:meth:`stage`) before calling ``add``; ``add`` stores the discounts and adds the
    bootstraps to the rewards; :meth:`compute_returns_and_advantage` uses the stored
    discounts where SB3 uses ``gamma``."""

    buffer_size: int
    n_envs: int
    pos: int
    rewards: np.ndarray
    values: np.ndarray
    advantages: np.ndarray
    returns: np.ndarray
    episode_starts: np.ndarray
    gae_lambda: float

    def reset(self) -> None:
        self.discounts = np.ones((self.buffer_size, self.n_envs), dtype=np.float32)
        self._staged: tuple[np.ndarray, np.ndarray] | None = None
        super().reset()  # type: ignore[misc]

    def stage(self, discounts: np.ndarray, bootstrap: np.ndarray) -> None:
        """The next ``add``'s discounts ``[n_envs]`` and truncation bootstraps ``[n_envs]``
        (``gamma_t * V(terminal obs)`` where the episode was truncated, else 0)."""
        self._staged = (np.asarray(discounts, dtype=np.float32), np.asarray(bootstrap, dtype=np.float32))

    def add(self, obs: Any, action: Any, reward: np.ndarray, *args: Any, **kwargs: Any) -> None:
        if self._staged is None:
            raise RuntimeError(
                "a time-discounted rollout buffer needs each step's discounts; fill it with "
                "agents.time_discount.TimePPO / TimeMaskablePPO / TimeA2C"
            )
        discounts, bootstrap = self._staged
        self._staged = None
        self.discounts[self.pos] = discounts
        super().add(obs, action, np.asarray(reward, dtype=np.float32) + bootstrap, *args, **kwargs)  # type: ignore[misc]

    def compute_returns_and_advantage(self, last_values: th.Tensor, dones: np.ndarray) -> None:
        """GAE(lambda) and lambda-returns with each step's own discount (module docstring)."""
        last = last_values.clone().cpu().numpy().flatten()
        last_gae_lam = np.zeros(self.n_envs, dtype=np.float32)
        for step in reversed(range(self.buffer_size)):
            if step == self.buffer_size - 1:
                next_non_terminal = 1.0 - dones.astype(np.float32)
                next_values = last
            else:
                next_non_terminal = 1.0 - self.episode_starts[step + 1]
                next_values = self.values[step + 1]
            g = self.discounts[step]
            delta = self.rewards[step] + g * next_values * next_non_terminal - self.values[step]
            last_gae_lam = delta + g * self.gae_lambda * next_non_terminal * last_gae_lam
            self.advantages[step] = last_gae_lam
        self.returns = self.advantages + self.values


class TimeDiscountedRolloutBuffer(_TimeDiscountedBufferMixin, RolloutBuffer):
    """SB3's :class:`RolloutBuffer` with per-step discounts (PPO, A2C)."""


class TimeDiscountedMaskableRolloutBuffer(_TimeDiscountedBufferMixin, MaskableRolloutBuffer):
    """sb3-contrib's :class:`MaskableRolloutBuffer` with per-step discounts (MaskablePPO)."""


class TimeDiscounted:
    """Mixin for an on-policy SB3 algorithm: discounts by simulated time.

    Args (besides the algorithm's own):
        half_life_h: hours after which a reward counts half. The algorithm's ``gamma`` is
            not used for returns or advantages (it stays as given, for the record).
    """

    rollout_buffer_class: type
    rollout_buffer: Any
    gamma: float
    policy: Any
    _default_buffer: type = TimeDiscountedRolloutBuffer

    def __init__(self, *args: Any, half_life_h: float = 6.0, **kwargs: Any) -> None:
        step_discounts(np.zeros(1), half_life_h)  # validates
        self.half_life_h = float(half_life_h)
        self._collecting = False
        if kwargs.get("rollout_buffer_class") is None:
            kwargs["rollout_buffer_class"] = self._default_buffer
        if not issubclass(kwargs["rollout_buffer_class"], _TimeDiscountedBufferMixin):
            raise TypeError(f"rollout_buffer_class must discount by time; got {kwargs['rollout_buffer_class']}")
        super().__init__(*args, **kwargs)

    def collect_rollouts(self, env: VecEnv, *args: Any, **kwargs: Any) -> bool:
        # SB3 adds ``gamma * V(terminal obs)`` to a truncated step's reward; with gamma 0
        # for the rollout it adds nothing, and the time-discounted bootstrap is staged in
        # _update_info_buffer (which SB3 calls before that loop) instead
        gamma, self.gamma = self.gamma, 0.0
        self._collecting = True
        try:
            return super().collect_rollouts(env, *args, **kwargs)  # type: ignore[misc]
        finally:
            self.gamma = gamma
            self._collecting = False

    def _update_info_buffer(self, infos: list[dict[str, Any]], dones: np.ndarray | None = None) -> None:
        super()._update_info_buffer(infos, dones)  # type: ignore[misc]
        if not self._collecting:
            return
        discounts = step_discounts(infos_dt_s(infos), self.half_life_h)
        bootstrap = np.zeros(len(infos), dtype=np.float32)
        for idx, info in enumerate(infos):
            if (
                dones is not None
                and dones[idx]
                and info.get("terminal_observation") is not None
                and info.get("TimeLimit.truncated", False)
            ):
                terminal_obs = self.policy.obs_to_tensor(info["terminal_observation"])[0]
                with th.no_grad():
                    value = float(self.policy.predict_values(terminal_obs)[0].item())
                bootstrap[idx] = discounts[idx] * value
        self.rollout_buffer.stage(discounts, bootstrap)


class TimePPO(TimeDiscounted, PPO):
    """:class:`~stable_baselines3.PPO` discounting by simulated time (``half_life_h``)."""


class TimeA2C(TimeDiscounted, A2C):
    """:class:`~stable_baselines3.A2C` discounting by simulated time (``half_life_h``)."""


class TimeMaskablePPO(TimeDiscounted, MaskablePPO):
    """sb3-contrib's :class:`~sb3_contrib.MaskablePPO` discounting by simulated time."""

    _default_buffer = TimeDiscountedMaskableRolloutBuffer


TIME_DISCOUNTED: dict[str, type] = {"ppo": TimePPO, "a2c": TimeA2C, "maskable_ppo": TimeMaskablePPO}
"""The time-discounted class of each algorithm of ``bgenv train`` that has one."""


class TimeVecNormalize(VecNormalize):
    """SB3's :class:`VecNormalize` whose reward scale comes from a return discounted by
    simulated time: ``G_t = 0.5 ** (dt_t / half-life) * G_{t-1} + r_t`` per env (``gamma``
    is not used).

    Args:
        venv: the VecEnv to normalise (its infos carry ``dt_s``).
        half_life_h: hours after which a reward counts half.
        **kwargs: ``VecNormalize``'s (``norm_obs``, ``norm_reward``, ``clip_reward``, ...).
    """

    def __init__(self, venv: VecEnv, half_life_h: float = 6.0, **kwargs: Any) -> None:
        kwargs.pop("gamma", None)
        super().__init__(venv, **kwargs)
        step_discounts(np.zeros(1), half_life_h)  # validates
        self.half_life_h = float(half_life_h)
        self._discounts = np.ones(self.num_envs, dtype=np.float32)

    def step_wait(self) -> VecEnvStepReturn:
        # VecNormalize.step_wait updates the discounted return inside; give it this step's
        # discounts first. The inner step is replayed to it through a one-shot shim.
        result = self.venv.step_wait()
        self._discounts = step_discounts(infos_dt_s(result[3]), self.half_life_h)
        inner, self.venv = self.venv, _Replay(self.venv, result)
        try:
            return super().step_wait()
        finally:
            self.venv = inner

    def _update_reward(self, reward: np.ndarray) -> None:
        self.returns = self.returns * self._discounts + reward
        self.ret_rms.update(self.returns)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if "_discounts" not in state:
            self._discounts = np.ones(len(self.returns), dtype=np.float32)


class _Replay:
    """A stand-in for a VecEnv whose ``step_wait`` returns a result already taken."""

    def __init__(self, venv: VecEnv, result: VecEnvStepReturn) -> None:
        self._venv = venv
        self._result = result

    def step_wait(self) -> VecEnvStepReturn:
        return self._result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._venv, name)


__all__ = [
    "TIME_DISCOUNTED",
    "TimeA2C",
    "TimeDiscounted",
    "TimeDiscountedMaskableRolloutBuffer",
    "TimeDiscountedRolloutBuffer",
    "TimeMaskablePPO",
    "TimePPO",
    "TimeVecNormalize",
    "step_discounts",
]
