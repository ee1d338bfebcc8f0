"""Environment ids: ``bgenv/iOS-v0`` and ``bgenv/Android-v0``."""

from __future__ import annotations

import gymnasium as gym

ENV_IDS = {"bgenv/iOS-v0": "ios", "bgenv/Android-v0": "android"}


def register_envs() -> None:
    """Register the ids (idempotent). Episodes end at the scenario's horizon in
    simulated days; ``max_episode_steps`` is left unset. ``gym.make_vec(id, num_envs=N,
    vectorization_mode="vector_entry_point")`` builds the batched env of N devices."""
    for env_id, platform in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="bgenv.envs.single:BackgroundSchedulingEnv",
            vector_entry_point="bgenv.envs.vector:BackgroundSchedulingVectorEnv",
            kwargs={"platform": platform},
            disable_env_checker=False,
        )
