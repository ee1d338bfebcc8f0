"""Shared helpers for the bgenv tests: building envs, the golden tests' seeded action
picker, and reading what the app sees.

Tests drive the environment through its public API (``reset``/``step``, ``info``,
``metrics()``, ``events``, ``action_masks()``); a few checks also read the core's
state arrays through the named slots in ``bgenv.core.layout``. Episodes run through
``bgenv.rollout.rollout``, actions are named through ``bgenv.envs.actions.ActionTable``
and the event log is read through ``bgenv.eventlog``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from bgenv.envs.actions import ActionTable
from bgenv.envs.spaces import backlog_units
from bgenv.fidelity.scenarios import ZERO_24  # noqa: F401  (re-exported for the tests)
from bgenv.registration import ENV_ID_OF_PLATFORM as ENV_IDS  # importing bgenv registers the ids
from bgenv.rollout import Decide


def pick(
    mask: np.ndarray,
    nvec: np.ndarray,
    u: np.ndarray,
    job_opts: np.ndarray | None = None,
    job_bias: float = 0.0,
) -> np.ndarray:
    """An action from pre-drawn uniforms ``u`` (5 per step, 6 with ``job_bias``): a valid
    choice per part under ``mask`` or, when ``u[4] < 0.2``, anything in the space (the
    env must handle senseless actions too); with probability ``job_bias`` the request
    part is replaced by one of ``job_opts``."""
    if u[4] < 0.2:
        out = np.floor(u[:4] * nvec).astype(np.int64)
    else:
        out = np.zeros(4, dtype=np.int64)
        start = 0
        for p, n in enumerate(nvec):
            valid = np.flatnonzero(mask[start : start + n])
            out[p] = valid[int(u[p] * len(valid))]
            start += n
    if job_bias > 0.0 and job_opts is not None and len(job_opts) and u[5] < job_bias:
        out[0] = job_opts[int(u[5] / job_bias * len(job_opts))]
    return out


SCENARIOS = (
    "ios_commuter",
    "ios_light",
    "ios_night_owl",
    "ios_rare",
    "android_commuter",
    "android_heavy",
    "android_light",
    "android_rare",
    "android16_commuter",
    "android_oem_commuter",
)


def make_env(platform: str, scenario: str | None = None, **overrides: Any):
    """``gym.make`` one of the two ids with the event log on; returns the unwrapped env
    (the tests need ``events``, ``metrics()`` and ``action_masks()``)."""
    env = gym.make(ENV_IDS[platform], scenario=scenario, record_events=True, **overrides)
    return env.unwrapped


def always(env, option: str, delay_s: float = 0.0) -> Decide:
    """A policy for ``env`` that submits request option ``option`` (``"refresh"``,
    ``"job+network"``, ...) with a delay of ``delay_s`` s at every decision and stops at
    once inside windows (reporting completion)."""
    action = ActionTable.from_env(env).action(option, delay_s=delay_s)
    return lambda env, obs, info: action


def backlog(env, obs: np.ndarray, kind: str) -> float:
    """Pending work units of ``kind`` as the app reads them from its observation
    (``log1p(units)/log1p(1000)``, clipped at 1)."""
    return float(backlog_units(obs[env.observation_names.index(f"backlog_{kind}")]))


def books_gap(m: dict[str, float]) -> float:
    """Relative imbalance of ``arrived - completed - pending``."""
    return abs(m["work_arrived"] - m["work_completed"] - m["work_pending"]) / max(1.0, m["work_arrived"])
