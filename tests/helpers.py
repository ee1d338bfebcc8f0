"""Shared helpers for the bgenv tests: building envs, running hand-written policies and
reading the public event log.

Tests drive the environment through its public API (``reset``/``step``, ``info``,
``metrics()``, ``events``, ``action_masks()``); a few checks also read the core's
state arrays through the named slots in ``bgenv.core.layout``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from bgenv.registration import ENV_ID_OF_PLATFORM as ENV_IDS  # importing bgenv registers the ids


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
    "ios_night_owl",
    "ios_rare",
    "android_commuter",
    "android_heavy",
    "android_rare",
    "android16_commuter",
    "android_oem_commuter",
)

# Action tables of the default profiles and defaults.yaml (see the env docstring).
IOS_OPT = {
    "none": 0,
    "refresh": 1,
    "processing": 2,
    "processing+network": 3,
    "processing+power": 4,
    "processing+network+power": 5,
    "push": 6,
}
ANDROID_OPT = {
    "none": 0,
    "job": 1,
    "job+network": 2,
    "job+power": 3,
    "job+network+power": 4,
    "expedited": 5,
    "expedited+network": 6,
    "periodic+job+network": 7,
    "push": 8,
    "push+notification": 9,
    "alarm": 10,
    "fgs": 11,
}
DELAY_BINS_S = (0.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0)
CHUNK_UNITS = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 300.0)  # index 0 = stop and report completion
KIND = {"auto": 0, "sync": 1, "upload": 2, "refresh": 3, "heavy": 4}
STOP = 0

ZERO_24 = [0.0] * 24
ONE_24 = [1.0] * 24
# The slot (task identifier) each window type uses in the default profiles.
SLOT_OF_TYPE = {
    "refresh": 0,
    "processing": 1,
    "job": 0,
    "expedited": 1,
    "health": 2,
    "push": 3,
    "push_normal": 3,
    "alarm": 4,
    "fgs": 5,
}

Policy = Callable[[Any, np.ndarray, dict], Any]


def chunk(units: float) -> int:
    """Index of the chunk bin of ``units`` work units."""
    return CHUNK_UNITS.index(float(units))


def delay(seconds: float) -> int:
    """Index of the delay bin of ``seconds``."""
    return DELAY_BINS_S.index(float(seconds))


def make_env(platform: str, scenario: str | None = None, **overrides: Any):
    """``gym.make`` one of the two ids with the event log on; returns the unwrapped env
    (the tests need ``events``, ``metrics()`` and ``action_masks()``)."""
    env = gym.make(ENV_IDS[platform], scenario=scenario, record_events=True, **overrides)
    return env.unwrapped


@dataclass
class StepRecord:
    """What the agent saw at a decision point, the action it took and its outcome."""

    phase: str
    t: float
    obs: np.ndarray
    metrics_before: dict[str, float] | None
    action: np.ndarray
    reward: float
    info_after: dict[str, Any]


def run_episode(env, seed: int | None, policy: Policy, *, with_metrics: bool = False, max_steps: int = 1_000_000):
    """Reset with ``seed`` and follow ``policy(env, obs, info)`` to the horizon.

    Returns ``(records, last_info)``; ``records[i].metrics_before`` holds
    ``env.metrics()`` read at decision point ``i`` (before the action) when
    ``with_metrics``."""
    obs, info = env.reset(seed=seed)
    records: list[StepRecord] = []
    done = info["phase"] == "none"
    while not done and len(records) < max_steps:
        before = env.metrics() if with_metrics else None
        action = np.asarray(policy(env, obs, info), dtype=np.int64)
        phase, t = info["phase"], info["t"]
        obs_before = obs
        obs, reward, terminated, truncated, info = env.step(action)
        records.append(StepRecord(phase, t, obs_before, before, action, reward, info))
        done = terminated or truncated
    assert done, "episode did not reach the horizon within max_steps"
    return records, info


def events(env, *kinds: str) -> list[dict[str, Any]]:
    """The event log, optionally only some kinds (in log order)."""
    evs = env.events
    if not kinds:
        return evs
    return [e for e in evs if e["kind"] in kinds]


def backlog(env, obs: np.ndarray, kind: str) -> float:
    """Pending work units of ``kind`` as the app reads them from its observation
    (``log1p(units)/log1p(1000)``, clipped at 1)."""
    v = float(obs[env.observation_names.index(f"backlog_{kind}")])
    return math.expm1(v * math.log1p(1000.0))


def windows(evs: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split a log into background windows: each list starts with a ``grant`` and
    holds the chunk/expire/kill/complete events up to the next grant."""
    out: list[list[dict[str, Any]]] = []
    for e in evs:
        if e["kind"] == "grant":
            out.append([e])
        elif out and e["kind"] in ("chunk", "expire", "kill", "complete"):
            out[-1].append(e)
    return out


def window_end(win: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first event that ended a window (complete, expire or kill), if any."""
    for e in win[1:]:
        if e["kind"] in ("complete", "expire", "kill"):
            return e
    return None


def books_gap(m: dict[str, float]) -> float:
    """Relative imbalance of ``arrived - completed - pending``."""
    return abs(m["work_arrived"] - m["work_completed"] - m["work_pending"]) / max(1.0, m["work_arrived"])
