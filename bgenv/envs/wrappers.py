"""Wrappers for learners that need another action space.

DQN (and other value-based methods) need a ``Discrete`` action space; the env's is
``MultiDiscrete([n_request, n_delay, n_chunk, n_kind])``. :class:`FlattenActions` numbers
every combination (row-major: the last part varies fastest), for a single env (e.g.
``env_wrapper: bgenv.envs.wrappers.FlattenActions`` in an rl-baselines3-zoo file);
``bgenv.envs.sb3.VecFlattenActions`` does the same for a Stable-Baselines3 ``VecEnv``
(what ``bgenv train`` uses with the batched env). Both carry the action masks over: an
index is allowed when each of its parts is. This module needs only Gymnasium.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


def flat_size(nvec: np.ndarray) -> int:
    """Number of combinations of a MultiDiscrete space."""
    return int(np.prod(nvec))


def unflatten(actions: np.ndarray, nvec: np.ndarray) -> np.ndarray:
    """Flat indices ``[...]`` -> MultiDiscrete actions ``[..., len(nvec)]`` (int64)."""
    return np.stack(np.unravel_index(np.asarray(actions, dtype=np.int64), tuple(int(n) for n in nvec)), axis=-1)


def flat_mask(mask: np.ndarray, nvec: np.ndarray) -> np.ndarray:
    """Concatenated per-part masks ``[..., sum(nvec)]`` -> mask over flat indices
    ``[..., prod(nvec)]`` (an index is allowed when all its parts are)."""
    mask = np.asarray(mask, dtype=bool)
    splits = np.cumsum(nvec)[:-1]
    parts = np.split(mask, splits, axis=-1)
    out = parts[0]
    for p in parts[1:]:
        out = (out[..., :, None] & p[..., None, :]).reshape(*out.shape[:-1], -1)
    return out


class FlattenActions(gym.ActionWrapper):
    """A single env with ``Discrete(prod(nvec))`` actions instead of MultiDiscrete."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        space = env.action_space
        if not isinstance(space, gym.spaces.MultiDiscrete):
            raise TypeError(f"FlattenActions needs a MultiDiscrete action space; got {space}")
        self._nvec = np.asarray(space.nvec)
        self.action_space = gym.spaces.Discrete(flat_size(self._nvec))

    def action(self, action: Any) -> np.ndarray:
        return unflatten(np.asarray(action), self._nvec)

    def action_masks(self) -> np.ndarray:
        return flat_mask(self.env.unwrapped.action_masks(), self._nvec)


# the batched counterpart that ``bgenv train`` applies when a config names the single-env
# wrapper (``package.module.Name``; it lives with the other Stable-Baselines3 adapters)
FlattenActions.VEC_WRAPPER = "bgenv.envs.sb3.VecFlattenActions"  # type: ignore[attr-defined]
