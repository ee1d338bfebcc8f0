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
