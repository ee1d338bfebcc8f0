"""Training against a battery budget: the learned price and the penalised reward."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

from agents.battery_budget import BatteryBudget
from agents.hyperparams import HyperparamError, load_train_config

COST = 0.002  # battery fraction per step: 0.2 %


class Spender(gym.Env):
    """Two-day episodes of 4 steps, each spending COST of the battery and paying 1."""

    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return np.zeros(1, np.float32), {"cost": 0.0}

    def step(self, action):
        self.t += 1
        info = {"cost": COST}
        done = self.t == 4
        if done:
            info["metrics"] = {"battery_cost": 4 * COST, "simulated_days": 2.0}
        return np.zeros(1, np.float32), 1.0, False, done, info


def run(budget: BatteryBudget, steps: int) -> list[float]:
    budget.reset()
    out = []
    for _ in range(steps):
        budget.step_async(np.zeros(1, dtype=np.int64))
        out.append(float(budget.step_wait()[1][0]))
    return out


def test_price_rises_over_budget_and_prices_the_reward():
    # weekly cost: 4 * 0.002 per 2 days = 0.028 per week; budget 0.014: 100 % over
    b = BatteryBudget(DummyVecEnv([Spender]), budget=0.014, lr=0.5)
    rewards = run(b, 8)
    assert rewards[:4] == [1.0] * 4  # price 0 during the first episode
    assert b.episodes == 2 and b.last_weekly_cost == pytest.approx(0.028)
    # after episode 1: price 0.5 per %; each step spends 0.2 % -> reward 1 - 0.1
    assert rewards[4:] == pytest.approx([0.9] * 4)
    assert b.price == pytest.approx(1.0)


def test_price_falls_to_zero_under_budget():
    b = BatteryBudget(DummyVecEnv([Spender]), budget=0.056, lr=0.5, price=0.3)  # 50 % under
    run(b, 4)
    assert b.price == pytest.approx(0.05)
    run(b, 4)
    assert b.price == 0.0


def test_config_keys(tmp_path):
    f = tmp_path / "ppo.yaml"
    f.write_text("bgenv/iOS-v1:\n  battery_budget: guidelines\n  battery_budget_lr: 0.2\n")
    cfg = load_train_config(f, "bgenv/iOS-v1")
    assert (cfg.battery_budget, cfg.battery_budget_lr) == ("guidelines", 0.2)
    assert "battery_budget" not in cfg.algo_kwargs
    f.write_text("bgenv/iOS-v1:\n  battery_budget: 0.03\n")
    assert load_train_config(f, "bgenv/iOS-v1").battery_budget == 0.03
    for bad in ("-0.1", "true"):
        f.write_text(f"bgenv/iOS-v1:\n  battery_budget: {bad}\n")
        with pytest.raises(HyperparamError, match="battery_budget"):
            load_train_config(f, "bgenv/iOS-v1")
    f.write_text("bgenv/iOS-v1:\n  battery_budget_lr: 0.2\n")
    with pytest.raises(HyperparamError, match="set battery_budget too"):
        load_train_config(f, "bgenv/iOS-v1")


def test_starting_price_key(tmp_path):
    f = tmp_path / "ppo.yaml"
    f.write_text("bgenv/iOS-v1:\n  battery_budget: guidelines\n  battery_budget_price: 20\n")
    assert load_train_config(f, "bgenv/iOS-v1").battery_budget_price == 20.0
    assert load_train_config(f, "bgenv/iOS-v1").algo_kwargs.get("battery_budget_price") is None
    f.write_text("bgenv/iOS-v1:\n  battery_budget: guidelines\n  battery_budget_price: -1\n")
    with pytest.raises(HyperparamError, match="battery_budget_price"):
        load_train_config(f, "bgenv/iOS-v1")
    f.write_text("bgenv/iOS-v1:\n  battery_budget_price: 20\n")
    with pytest.raises(HyperparamError, match="set battery_budget too"):
        load_train_config(f, "bgenv/iOS-v1")


class _Model:
    """What the evaluation callback touches of a model: saving, the logger, statistics."""

    def __init__(self) -> None:
        from stable_baselines3.common.logger import Logger

        self.logger = Logger(None, [])
        self.saved: list[int] = []
        self.num_timesteps = 0

    def save(self, path) -> None:
        self.saved.append(self.num_timesteps)

    def get_vec_normalize_env(self):
        return None


@pytest.mark.parametrize(
    ("budget", "best"),
    [
        (None, 300),  # by reward alone
        (0.030, 200),  # the best reward within 0.030 a week
        (0.010, 100),  # none within: the one closest to the budget
    ],
)
def test_best_model_within_the_budget(monkeypatch, tmp_path, budget, best):
    import agents.callbacks as cb
    from agents.evaluate import EpisodeResults

    # step -> (weekly reward, weekly battery cost) of a two-episode validation
    evals = {100: (850.0, 0.020), 200: (900.0, 0.029), 300: (990.0, 0.041), 400: (870.0, 0.028)}
    model = _Model()

    def fake_evaluate(policy, scenario, episodes, seed, **overrides):
        reward, weekly = evals[model.num_timesteps]
        m = {"episode_reward": reward, "battery_cost": weekly, "simulated_days": 7.0}
        return EpisodeResults("current", str(scenario), [seed, seed + 1], [dict(m), dict(m)])

    monkeypatch.setattr(cb, "evaluate", fake_evaluate)
    monkeypatch.setattr(cb.HeldOutEvalCallback, "_policy", lambda self: None)
    callback = cb.HeldOutEvalCallback(
        "ios_commuter", 2, 50_000, 100, best_path=tmp_path / "best_model.zip", battery_budget=budget
    )
    callback.init_callback(model)
    for step in evals:
        model.num_timesteps = callback.num_timesteps = step
        callback.evaluate_now()
    assert callback.best_step == best and model.saved[-1] == best
    if budget is not None:
        within = [m["within_budget"] for _, m in callback.history]
        assert within == [float(w <= budget) for _, w in evals.values()]


def test_a_run_against_the_guidelines_budget_records_it(tmp_path):
    import yaml

    from agents.battery_budget import weekly_battery_cost
    from agents.evaluate import VALIDATION_SEED, evaluate
    from agents.train import train

    config = tmp_path / "ppo.yaml"
    config.write_text(
        "algo: ppo\nbgenv/iOS-v1:\n  n_envs: 2\n  n_steps: 64\n  batch_size: 64\n  normalize: true\n"
        "  battery_budget: guidelines\n  battery_budget_price: 7\n"
    )
    res = train(
        config, "ios_commuter", total_timesteps=256, logdir=tmp_path / "run", eval_episodes=2, eval_freq=128,
        progress_bar=False, verbose=0, horizon_days=1,
    )  # fmt: skip
    doc = yaml.safe_load((res.run_dir / "run.yaml").read_text())
    # the budget: guidelines' weekly battery on the two validation days, scaled to a week
    expected = weekly_battery_cost(evaluate("guidelines", "ios_commuter", 2, VALIDATION_SEED, horizon_days=1))
    assert doc["battery_budget"]["from"] == "guidelines" and doc["battery_budget"]["start_price"] == 7.0
    assert doc["battery_budget"]["per_week"] == pytest.approx(expected) and expected > 0
    assert doc["best_model_step"] in (128, 256) and (res.run_dir / "best_model.zip").is_file()
