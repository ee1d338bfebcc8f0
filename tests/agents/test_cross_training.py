"""Learning on ``bgenv/CrossPlatform-v1``: demonstrations of the intent policy on a mixed
fleet, and a model with the intent env's observation evaluated on that env.

Concrete expectations: ``cross_guidelines``' demonstrations on a fleet of both platforms
are intent actions under the intent masks; ``ppo_warm.yaml``'s CrossPlatform-v1 entry
warm-starts from ``cross_guidelines``; a saved model whose observation has the two extra
features is recognised by ``evaluate`` and run on the intent env (paired seeds).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agents.evaluate import evaluate
from agents.hyperparams import load_train_config
from agents.imitation import collect_demonstrations
from bgenv.envs.cross_vector import CrossPlatformVectorEnv
from bgenv.envs.sb3 import BgenvVecEnv
from bgenv.registration import CROSS_ENV_ID

ROOT = Path(__file__).resolve().parents[2]


def test_demonstrations_of_cross_guidelines_on_a_mixed_fleet():
    venv = CrossPlatformVectorEnv(6, fleet="mixed")
    env = BgenvVecEnv(venv)
    env.seed(0)
    demos = collect_demonstrations(env, "cross_guidelines", steps=120, seed=0)
    assert demos.actions.shape == (20, 6, 4) and demos.obs.shape == (20, 6, 56)
    assert demos.nvec.tolist() == [8, 9, 9, 5]
    assert set(np.unique(demos.obs[:, :, -2])) == {0.0, 1.0}  # both platforms demonstrated
    # every demonstrated intent is allowed by its step's intent mask
    intents = demos.actions[..., 0]
    assert np.take_along_axis(demos.masks[..., :8], intents[..., None], axis=-1).all()
    assert intents.max() < 8 and (intents > 0).any()


def test_ppo_warm_entry_clones_the_intent_policy():
    cfg = load_train_config(ROOT / "configs/train/ppo_warm.yaml", CROSS_ENV_ID)
    assert cfg.init is not None and cfg.init.policy == "cross_guidelines"
    assert cfg.n_envs == 16 and cfg.half_life_h == 24


def test_a_model_of_the_intent_env_is_evaluated_on_it(tmp_path):
    from stable_baselines3 import PPO

    env = BgenvVecEnv(CrossPlatformVectorEnv(2, scenario="android_commuter", horizon_days=1))
    model = PPO("MlpPolicy", env, n_steps=16, batch_size=16, seed=0, device="cpu")
    path = tmp_path / "model.zip"
    model.save(path)
    res = evaluate(str(path), "android_commuter", 2, 10000, horizon_days=1)
    assert res.policy == f"{tmp_path.name}/model" and res.seeds == [10000, 10001]
    assert all(m["episode_reward"] == m["episode_reward"] for m in res.metrics)  # ran to the end


def test_on_a_mixed_fleet_an_intent_model_runs_and_a_native_one_is_refused(tmp_path):
    import pytest
    from stable_baselines3 import PPO

    from agents.population import evaluate_fleet
    from bgenv.envs.sb3 import make_sb3_vec_env

    cross = PPO("MlpPolicy", make_sb3_vec_env(CROSS_ENV_ID, 2, scenario="fleet:mixed"), n_steps=16, device="cpu")
    cross.save(tmp_path / "cross.zip")
    res = evaluate_fleet(str(tmp_path / "cross.zip"), "mixed", 3, 10000)
    assert len(res.metrics) == 3 and res.seeds == [10000, 10001, 10002]
    native = PPO("MlpPolicy", make_sb3_vec_env("bgenv/iOS-v1", 2), n_steps=16, device="cpu")
    native.save(tmp_path / "ios.zip")
    with pytest.raises(ValueError, match="a model trained on one platform runs on a fleet of that platform"):
        evaluate_fleet(str(tmp_path / "ios.zip"), "mixed", 3, 10000)


def test_single_episode_commands_run_intent_policies_on_the_intent_env():
    from agents.evaluate import env_id_of
    from agents.timeline import run_episode

    assert env_id_of("cross_guidelines", "ios_commuter") == CROSS_ENV_ID
    assert env_id_of("guidelines", "ios_commuter") == "bgenv/iOS-v1"
    env, info = run_episode("cross_guidelines", "android_commuter", 1.0, 10000)
    assert env.unwrapped.platform == "android" and env.observation_space.shape == (56,)
    assert info["metrics"]["windows_granted"] > 0
