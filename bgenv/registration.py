"""Environment ids and platforms: the one table of which id simulates which platform.

``bgenv/iOS-v1`` and ``bgenv/Android-v1``; every other module (envs, tooling, tests)
reads ids, platforms and default scenarios from here.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym

ENV_ID_OF_PLATFORM: dict[str, str] = {"ios": "bgenv/iOS-v1", "android": "bgenv/Android-v1"}
PLATFORM_OF_ENV_ID: dict[str, str] = {v: k for k, v in ENV_ID_OF_PLATFORM.items()}
DEFAULT_SCENARIO: dict[str, str] = {"ios": "ios_commuter", "android": "android_commuter"}


def env_id_for(scenario: str | Path) -> str:
    """The env id that simulates ``scenario`` (a scenario name or YAML path, or
    ``fleet:<name>`` for a fleet of one platform)."""
    from bgenv.config import load_scenario
    from bgenv.fleet import Fleet, fleet_of_spec, is_fleet_spec

    if is_fleet_spec(scenario):
        fl = Fleet.load(fleet_of_spec(str(scenario)))
        if len(fl.platforms) > 1:
            raise ValueError(f"fleet '{fl.name}' mixes {'/'.join(fl.platforms)}: a native env simulates one platform")
        return ENV_ID_OF_PLATFORM[fl.platforms[0]]
    return ENV_ID_OF_PLATFORM[load_scenario(scenario).platform]


def register_envs() -> None:
    """Register the ids (idempotent). Episodes end at the scenario's horizon in
    simulated days; ``max_episode_steps`` is left unset. ``gym.make_vec(id, num_envs=N,
    vectorization_mode="vector_entry_point")`` builds the batched env of N devices."""
    for env_id, platform in PLATFORM_OF_ENV_ID.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="bgenv.envs.single:BackgroundSchedulingEnv",
            vector_entry_point="bgenv.envs.vector:BackgroundSchedulingVectorEnv",
            kwargs={"platform": platform},
            disable_env_checker=False,
        )
