"""``bgenv timeline``: run one episode of a policy and draw its timeline.

The policy is a hand-written policy's name, a planning policy, your own policy class
(``file.py:ClassName``, :mod:`agents.plugins`) or a trained model's ``.zip`` (resolved by
``agents.evaluate.load_policy``); the picture and the text version come from
``bgenv.render``. This lives in ``agents`` because loading models does: ``bgenv``
never imports ``agents``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym

from agents.evaluate import env_id_of, load_policy, policy_label
from bgenv.render import render_timeline_ansi, save_timeline_png, timeline_from_env
from bgenv.rollout import rollout


def run_episode(policy: str, scenario: str, days: float, seed: int, **world: Any) -> tuple[Any, dict[str, Any]]:
    """Run one episode of ``policy`` on ``scenario`` (a name or YAML path) for ``days``
    simulated days with reset seed ``seed``, the event log on; returns the env (still
    open, for its log) and the last step's info. ``world``: ``world``, ``world_mode``,
    ``world_battery`` for a replayed trace (``bgenv.world``)."""
    env = gym.make(env_id_of(policy, scenario), scenario=scenario, horizon_days=days, **world)
    episode = rollout(env, load_policy(policy, env, seed=seed), seed)
    return env, episode.info


def timeline_command(
    policy: str, scenario: str, days: float, seed: int, out: str | Path | None, ansi: bool = False, **world: Any
) -> int:
    """``bgenv timeline``: run one episode (see :func:`run_episode`; ``world`` replays a
    trace), write its timeline PNG to ``out`` (unless None), print the text timeline when
    ``ansi`` and a one-line summary; returns the exit status (0)."""
    env, _info = run_episode(policy, scenario, days, seed, **world)
    tl = timeline_from_env(env, policy=policy_label(policy), seed=seed)
    if ansi:
        print(render_timeline_ansi(tl))
    if out is not None:
        path = save_timeline_png(tl, out)
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    print(tl.summary())
    env.close()
    return 0
