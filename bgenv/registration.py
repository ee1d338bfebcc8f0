"""Environment ids and platforms: the one table of which id simulates which platform.

``bgenv/iOS-v1`` and ``bgenv/Android-v1``, and ``bgenv/CrossPlatform-v1`` (either
platform through a cross-platform library's intents); every other module (envs, tooling, tests)
reads ids, platforms and default scenarios from here.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym

ENV_ID_OF_PLATFORM: dict[str, str] = {"ios": "bgenv/iOS-v1", "android": "bgenv/Android-v1"}
PLATFORM_OF_ENV_ID: dict[str, str] = {v: k for k, v in ENV_ID_OF_PLATFORM.items()}
DEFAULT_SCENARIO: dict[str, str] = {"ios": "ios_commuter", "android": "android_commuter"}
# One policy for both platforms: a cross-platform library's intents over either platform's env
# (bgenv.envs.crossplatform); any iOS or Android scenario, iOS's by default.
CROSS_ENV_ID = "bgenv/CrossPlatform-v1"
CROSS_DEFAULT_SCENARIO = DEFAULT_SCENARIO["ios"]


def env_id_for(scenario: str | Path) -> str:
    """The env id that simulates ``scenario`` (a scenario name or YAML path, or
    ``fleet:<name>``): a fleet of both platforms runs on ``bgenv/CrossPlatform-v1``."""
    from bgenv.config import load_scenario
    from bgenv.fleet import Fleet, fleet_of_spec, is_fleet_spec

    if is_fleet_spec(scenario):
        fl = Fleet.load(fleet_of_spec(str(scenario)))
        if len(fl.platforms) > 1:  # one policy for both platforms: intents
            return CROSS_ENV_ID
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
    if CROSS_ENV_ID not in gym.registry:
        gym.register(
            id=CROSS_ENV_ID,
            entry_point="bgenv.envs.cross_single:CrossPlatformEnv",
            vector_entry_point="bgenv.envs.cross_vector:CrossPlatformVectorEnv",
            disable_env_checker=False,
        )
