"""Training configs, the evaluation harness and the flat-action wrapper: what ``bgenv
train``/``eval``/``compare`` rely on, without training (see test_train.py for that)."""

from __future__ import annotations

import itertools
import math

import gymnasium as gym
import numpy as np
import pytest
from helpers import ENV_IDS

from agents.evaluate import (
    EVAL_SEED_MIN,
    check_eval_seed,
    compare,
    evaluate,
    mean_ci,
    normalized_score,
    t975,
)
from agents.hyperparams import HyperparamError, linear_schedule, load_train_config
from agents.policies import make_policy
from agents.train import train_seeds
from bgenv.envs.sb3 import make_sb3_vec_env
from bgenv.envs.wrappers import FlattenActions, flat_mask, unflatten

CONFIGS = ("ppo", "a2c", "dqn", "maskable_ppo")


# ---------------------------------------------------------------------------
# configs
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", CONFIGS)
def test_every_training_config_loads_for_both_platforms(name, platform):
    cfg = load_train_config(f"configs/train/{name}.yaml", ENV_IDS[platform])
    assert cfg.algo == name
    assert cfg.n_envs == 8
    assert cfg.n_timesteps == 1_000_000
    assert cfg.policy == "MlpPolicy"
    if name == "dqn":
        assert cfg.env_wrapper == "bgenv.envs.wrappers.FlattenActions"
        assert cfg.normalize_kwargs == {"norm_obs": True, "norm_reward": False, "gamma": 0.99}
    elif name == "ppo":  # discounts by simulated time: no gamma, a half-life in hours
        assert cfg.half_life_h == 6.0 and "gamma" not in cfg.algo_kwargs
        assert cfg.normalize_kwargs == {}
        assert type(cfg.wrap_normalize(make_sb3_vec_env(ENV_IDS[platform], 1, horizon_days=1))).__name__ == (
            "TimeVecNormalize"
        )
    else:
        assert cfg.normalize_kwargs == {"gamma": cfg.algo_kwargs["gamma"]}  # returns normalised at the learner's gamma
        assert cfg.algo_kwargs["policy_kwargs"] == {"net_arch": {"pi": [128, 128], "vf": [128, 128]}}


def test_the_results_recipes_load_as_documented(platform):
    """configs/train/ppo_dagger.yaml (iOS) and ppo_budget.yaml, the recipes of docs/results.md."""
    from agents.imitation import CloneSettings

    budget = load_train_config("configs/train/ppo_budget.yaml", ENV_IDS[platform])
    assert (budget.battery_budget, budget.battery_budget_price, budget.init) == ("guidelines", 50.0, None)
    warm = load_train_config("configs/train/ppo_warm.yaml", ENV_IDS[platform])
    assert budget.algo_kwargs == warm.algo_kwargs  # the warm start's PPO settings
    dagger = load_train_config("configs/train/ppo_dagger.yaml", ENV_IDS[platform])
    expected = {
        "ios": CloneSettings(
            "planner:battery_price=50", steps=120_000, ent_coef=0.5, dagger_rounds=2, dagger_steps=60_000
        ),
        "android": CloneSettings("oracle", steps=100_000, ent_coef=0.5, dagger_rounds=2, dagger_steps=50_000),
    }
    assert dagger.init == expected[platform]
    assert dagger.algo_kwargs == warm.algo_kwargs and dagger.battery_budget is None


def test_zoo_conventions_schedules_policy_kwargs_and_n_envs_override(tmp_path):
    p = tmp_path / "a2c.yaml"
    p.write_text(
        "bgenv/iOS-v1:\n  n_envs: 4\n  n_timesteps: !!float 2e4\n  learning_rate: lin_7e-4\n"
        '  policy_kwargs: "dict(net_arch=[32, 32], activation_fn=nn.ReLU)"\n  normalize: false\n'
    )
    cfg = load_train_config(p, "bgenv/iOS-v1", n_envs=2)
    assert (cfg.algo, cfg.n_envs, cfg.n_timesteps, cfg.normalize_kwargs) == ("a2c", 2, 20_000, None)
    lr = cfg.algo_kwargs["learning_rate"]
    assert lr(1.0) == pytest.approx(7e-4) and lr(0.5) == pytest.approx(3.5e-4)
    import torch

    assert cfg.algo_kwargs["policy_kwargs"] == {"net_arch": [32, 32], "activation_fn": torch.nn.ReLU}
    assert linear_schedule(2.0)(0.25) == 0.5


@pytest.mark.parametrize(
    "text, message",
    [
        ("bgenv/iOS-v1:\n  n_stepz: 5\n", "no parameter(s) n_stepz"),
        ("bgenv/Android-v1:\n  n_steps: 5\n", "no entry for 'bgenv/iOS-v1'"),
        ("bgenv/iOS-v1:\n  learning_rate: exp_3e-4\n", "lin_3e-4"),
        ("bgenv/iOS-v1:\n  policy_kwargs: \"__import__('os').system('x')\"\n", "unsupported expression"),
        ("algo: sac\nbgenv/iOS-v1: {}\n", "algo 'sac' unknown"),
    ],
)
def test_bad_training_configs_name_the_problem(tmp_path, text, message):
    p = tmp_path / "ppo.yaml"
    p.write_text(text)
    with pytest.raises(HyperparamError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_train_config(p, "bgenv/iOS-v1")


def test_training_seeds_stay_below_the_held_out_range():
    assert train_seeds(0, 8) == list(range(8))
    assert train_seeds(3, 4) == [12, 13, 14, 15]
    assert max(train_seeds(EVAL_SEED_MIN // 8 - 1, 8)) < EVAL_SEED_MIN
    with pytest.raises(ValueError, match="held out"):
        train_seeds(EVAL_SEED_MIN // 8, 8)
    with pytest.raises(ValueError, match="training seeds"):
        check_eval_seed(EVAL_SEED_MIN - 1)
    check_eval_seed(EVAL_SEED_MIN)


# ---------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------
def test_confidence_intervals_use_students_t():
    mean, half = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean == 2.5
    assert half == pytest.approx(3.182 * np.std([1, 2, 3, 4], ddof=1) / 2)
    assert t975(1) == 12.706 and t975(30) == 2.042
    assert t975(120) == pytest.approx(1.9799, abs=2e-4)
    m, h = mean_ci(np.array([math.nan, 5.0]))
    assert m == 5.0 and math.isnan(h)


def test_normalised_score_puts_random_at_0_and_guidelines_at_1():
    assert normalized_score(-70.0, -70.0, 200.0) == 0.0
    assert normalized_score(200.0, -70.0, 200.0) == 1.0
    assert normalized_score(335.0, -70.0, 200.0) == pytest.approx(1.5)
    assert math.isnan(normalized_score(1.0, 5.0, 5.0))


# ---------------------------------------------------------------------------
# evaluation harness
# ---------------------------------------------------------------------------
def test_batched_evaluation_equals_a_loop_of_single_envs(platform):
    scenario = "ios_commuter" if platform == "ios" else "android_commuter"
    res = evaluate("guidelines", scenario, episodes=3, seed=EVAL_SEED_MIN, horizon_days=2)
    env = gym.make(ENV_IDS[platform], scenario=scenario, horizon_days=2, record_events=False)
    pol = make_policy("guidelines", env)
    assert res.seeds == [EVAL_SEED_MIN, EVAL_SEED_MIN + 1, EVAL_SEED_MIN + 2]
    for k, seed in enumerate(res.seeds):
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            obs, _, term, trunc, info = env.step(pol.act(obs, env.unwrapped.action_masks()))
            done = term or trunc
        for key, v in info["metrics"].items():
            got = res.metrics[k][key]
            assert (math.isnan(v) and math.isnan(got)) or got == pytest.approx(v, rel=1e-12, abs=1e-12), key


def test_evaluation_in_several_batches_gives_the_same_episodes():
    one = evaluate("guidelines", "ios_rare", episodes=5, seed=EVAL_SEED_MIN, horizon_days=1)
    split = evaluate("guidelines", "ios_rare", episodes=5, seed=EVAL_SEED_MIN, batch=2, horizon_days=1)
    assert split.seeds == one.seeds
    assert [m["episode_reward"] for m in split.metrics] == [m["episode_reward"] for m in one.metrics]


def test_compare_anchors_scores_on_random_and_guidelines():
    cmp = compare(["greedy", "guidelines"], "ios_commuter", episodes=4, seed=EVAL_SEED_MIN, horizon_days=2)
    assert set(cmp.anchors) == {"random", "guidelines"}
    scores = cmp.scores()
    assert scores["guidelines"][0] == pytest.approx(1.0)
    rows = cmp.rows()
    assert {r["policy"] for r in rows} == {"greedy", "guidelines"}
    assert {"completion_rate", "battery_cost", "episode_reward", "score_vs_guidelines"} <= {r["metric"] for r in rows}


def test_unknown_policy_names_the_choices():
    with pytest.raises(ValueError, match="guidelines"):
        evaluate("smart", "ios_commuter", episodes=1, seed=EVAL_SEED_MIN)


# ---------------------------------------------------------------------------
# flat actions (DQN)
# ---------------------------------------------------------------------------
def test_flat_actions_number_every_combination_and_carry_masks():
    nvec = np.array([3, 2, 4])
    combos = list(itertools.product(range(3), range(2), range(4)))
    assert [tuple(a) for a in unflatten(np.arange(24), nvec)] == combos
    mask = np.array([1, 0, 1, 1, 1, 0, 0, 1, 1], dtype=bool)
    flat = flat_mask(mask, nvec)
    expected = [mask[a] and mask[3 + b] and mask[5 + c] for a, b, c in combos]
    assert flat.tolist() == expected
    batch = flat_mask(np.stack([mask, ~mask]), nvec)
    assert batch.shape == (2, 24) and batch[0].tolist() == expected


def test_flatten_actions_wrapper_steps_the_env(platform):
    env = FlattenActions(gym.make(ENV_IDS[platform], horizon_days=1))
    nvec = env.unwrapped.action_space.nvec
    assert env.action_space.n == int(np.prod(nvec))
    env.reset(seed=1)
    m = env.action_masks()
    assert m.shape == (int(np.prod(nvec)),) and m.any()
    _, r, *_ = env.step(int(np.flatnonzero(m)[0]))
    assert np.isfinite(r)


def test_compare_pairs_each_policy_with_guidelines_seed_by_seed():
    """Differences are taken per seed (order-independent), with Student's t over the seeds."""
    from agents.evaluate import Comparison, EpisodeResults
    from agents.report import paired_table

    def res(name, seeds, rewards, battery):
        m = [{"episode_reward": r, "battery_cost": b, "completion_rate": 0.5} for r, b in zip(rewards, battery)]
        return EpisodeResults(name, "ios_commuter", list(seeds), m)

    g = res("guidelines", [1, 2, 3], [100.0, 200.0, 300.0], [0.02, 0.03, 0.04])
    p = res("mine", [3, 1, 2], [330.0, 108.0, 212.0], [0.04, 0.02, 0.03])  # +30, +8, +12 on seeds 3, 1, 2
    r = res("random", [1, 2, 3], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    cmp = Comparison("ios_commuter", 3, 1, [g, p, r], {"random": 0.0, "guidelines": 200.0})
    mean, half, rel = cmp.paired(p)
    assert mean == pytest.approx(50 / 3)
    assert half == pytest.approx(4.303 * np.std([8.0, 12.0, 30.0], ddof=1) / math.sqrt(3))
    assert rel == pytest.approx(50 / 3 / 200)
    assert cmp.paired(p, "battery_cost")[0] == pytest.approx(0.0)
    text = paired_table(cmp)
    assert "mine" in text and "+16.7 ± 29.1 (+8.3%)" in text
    assert any(row["metric"] == "episode_reward_vs_guidelines" and row["policy"] == "mine" for row in cmp.rows())
