"""Running episodes: the one rollout loop (a single env) and its batched twin.

A *decider* is anything that picks the next action: a function
``decide(env, obs, info) -> action`` or an object with ``act(obs, mask)`` (the
hand-written policies and trained models of ``agents``), which is given the env's
action mask. A decider that plans on the simulator (``agents.planning``) has
``bind(env)``: both loops call it with the env before the episode. :func:`rollout` resets the env with a seed and follows the decider to the
horizon; it returns the last step's ``info`` (with the episode's metrics), the total
reward and, when asked, a record of every decision. :func:`rollout_batch` runs one
episode on every device of a batched env with a policy object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


class Actor(Protocol):
    """An object that maps an observation and its action mask to an action."""

    def act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray: ...


Decide = Callable[[Any, np.ndarray, dict[str, Any]], Any]
Decider = Decide | Actor


@dataclass
class Step:
    """One decision: what the agent saw, what it did and what came of it.

    Attributes:
        phase: the decision phase (``info["phase"]`` before the action).
        t: simulated time of the decision, s since midnight of day 0.
        obs: the observation the action was chosen on.
        action: the action taken.
        reward: the reward of the step.
        info: the ``info`` returned by the step.
        metrics_before: ``env.metrics()`` read before the action (``with_metrics``).
    """

    phase: str
    t: float
    obs: np.ndarray
    action: np.ndarray
    reward: float
    info: dict[str, Any]
    metrics_before: dict[str, float] | None = None


@dataclass
class Episode:
    """The outcome of :func:`rollout`.

    Attributes:
        info: the last step's ``info`` (``info["metrics"]``: the episode's metrics).
        total_reward: sum of the step rewards.
        n_steps: decisions taken.
        steps: every decision, when recorded.
    """

    info: dict[str, Any]
    total_reward: float
    n_steps: int
    steps: list[Step] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        return self.info["metrics"]


def as_decide(decider: Decider) -> Decide:
    """``decide(env, obs, info)`` for a function or an object with ``act(obs, mask)``."""
    act = getattr(decider, "act", None)
    if act is None:
        return decider  # type: ignore[return-value]
    return lambda env, obs, info: act(obs, env.unwrapped.action_masks())


def _bind(decider: Any, env: Any) -> None:
    """Let a decider that plans on the env's simulator see it (``decider.bind(env)``)."""
    bind = getattr(decider, "bind", None)
    if bind is not None:
        bind(env)


def rollout(
    env: Any,
    decider: Decider,
    seed: int | None,
    *,
    record: bool = False,
    with_metrics: bool = False,
    max_steps: int = 2_000_000,
) -> Episode:
    """Reset ``env`` with ``seed`` and follow ``decider`` to the end of the episode.

    ``record`` keeps a :class:`Step` per decision (``with_metrics`` also reads
    ``env.metrics()`` before each action). Raises RuntimeError when the episode has not
    ended within ``max_steps`` decisions."""
    decide = as_decide(decider)
    u = env.unwrapped
    _bind(decider, env)
    obs, info = env.reset(seed=seed)
    steps: list[Step] = []
    total, n = 0.0, 0
    done = info.get("phase") == "none"
    while not done:
        if n >= max_steps:
            raise RuntimeError(f"episode did not reach its horizon within {max_steps} steps")
        before = u.metrics() if (record and with_metrics) else None
        action = np.asarray(decide(env, obs, info), dtype=np.int64)
        phase, t, obs_before = info.get("phase"), info.get("t"), obs
        obs, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        n += 1
        if record:
            steps.append(Step(phase, t, obs_before, action, float(reward), info, before))
        done = terminated or truncated
    return Episode(info, total, n, steps)


def rollout_batch(
    venv: Any, actor: Actor, seeds: list[int], final_keys: tuple[str, ...] = ()
) -> list[dict[str, float]]:
    """One episode per device of a batched env (``BackgroundSchedulingVectorEnv`` of
    ``len(seeds)`` devices), device ``k`` reset with ``seeds[k]``, all following
    ``actor.act(obs_batch, masks)``; returns each device's episode metrics (its first
    episode: devices that finish early keep stepping until the last one ends), with the
    ``final_info`` entries ``final_keys`` added (e.g. a fleet's ``cohort``)."""
    n = len(seeds)
    _bind(actor, venv)
    obs, _ = venv.reset(seed=list(seeds))
    finished = np.zeros(n, dtype=bool)
    out: list[dict[str, float] | None] = [None] * n
    while not finished.all():
        actions = actor.act(obs, venv.action_masks())
        obs, _, _, trunc, info = venv.step(np.asarray(actions).reshape(n, -1))
        new = np.flatnonzero(trunc & ~finished)
        if new.size:
            m = info["metrics"]
            keys = [k for k in m if not k.startswith("_")]
            fi = info["final_info"]
            for i in new:
                out[i] = {k: float(m[k][i]) for k in keys} | {k: float(fi[k][i]) for k in final_keys}
            finished[new] = True
    return [o for o in out if o is not None]
