"""A battery budget for training: constrained RL with a learned battery price.

bgenv's reward prices background battery (``reward.battery_per_pct``, 1 per % of a full
battery), but a team shipping a strategy usually has a hard requirement besides: *no more
battery than we spend today*. :class:`BatteryBudget` trains against such a budget with a
Lagrangian relaxation: during training the reward of each step becomes::

    reward - price * 100 * info["cost"]

(``info["cost"]`` is the battery fraction drawn by background work off the charger in the
step, so ``100 * cost`` is in %), and the extra ``price`` (reward units per %) rises while
finished training episodes spend more than the budget and falls (to no lower than 0) while
they spend less (dual ascent, once per finished episode)::

    price <- max(0, price + lr * (weekly_cost - budget) / budget)

``weekly_cost`` is the episode's ``battery_cost`` scaled to 7 simulated days. The env's own
reward is unchanged: evaluation (``bgenv eval``/``compare``, the held-out validations) and
the logged training episodes use it.

In a training config (``bgenv train``)::

    bgenv/iOS-v1:
      battery_budget: guidelines   # or a fraction of a full battery per week, e.g. 0.03
      battery_budget_lr: 0.5       # optional: the price's step per episode (default 0.5)

``guidelines`` (or any hand-written policy's name) sets the budget to that policy's mean
``battery_cost`` per week on the run's validation episodes, measured when training starts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

DEFAULT_LR = 0.5
DAYS_PER_WEEK = 7.0


def weekly_battery_cost(results: Any) -> float:
    """Mean battery cost per simulated week (fraction of a full battery) of evaluated
    episodes (an :class:`agents.evaluate.EpisodeResults`), each scaled by its length."""
    return float(np.mean(results.values("battery_cost") * DAYS_PER_WEEK / results.values("simulated_days")))


class BatteryBudget(VecEnvWrapper):
    """Subtracts a learned battery price from the reward to keep training episodes within
    a weekly battery budget (module docstring). Put it below ``VecNormalize``.

    Args:
        venv: a bgenv SB3 VecEnv (infos carry ``cost``; truncating steps ``metrics``).
        budget: fraction of a full battery per simulated week, off the charger (> 0).
        lr: the price's step per finished episode, in reward units per % of battery, at a
            cost 100 % over budget.
        price: the starting price (reward units per % of battery).

    Attributes:
        price: the current extra price per % of battery.
        episodes: finished episodes seen.
        last_weekly_cost: the last finished episode's battery cost per week.
    """

    def __init__(self, venv: VecEnv, budget: float, lr: float = DEFAULT_LR, price: float = 0.0) -> None:
        if not budget > 0:
            raise ValueError(f"battery budget must be > 0 (fraction of a battery per week); got {budget!r}")
        if not lr > 0:
            raise ValueError(f"battery_budget_lr must be > 0; got {lr!r}")
        super().__init__(venv)
        self.budget = float(budget)
        self.lr = float(lr)
        self.price = float(price)
        self.episodes = 0
        self.last_weekly_cost = float("nan")

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, dones, infos = self.venv.step_wait()
        cost = np.fromiter((info.get("cost", 0.0) for info in infos), dtype=np.float64, count=len(infos))
        penalised = (rewards - self.price * 100.0 * cost).astype(np.float32)
        for i in np.flatnonzero(dones):
            m = infos[i].get("metrics")
            if m is not None and m.get("simulated_days", 0) > 0:
                self.update(float(m["battery_cost"]) * DAYS_PER_WEEK / float(m["simulated_days"]))
        return obs, penalised, dones, infos

    def update(self, weekly_cost: float) -> None:
        """One dual-ascent step on a finished episode's battery cost per week."""
        self.last_weekly_cost = weekly_cost
        self.episodes += 1
        self.price = max(0.0, self.price + self.lr * (weekly_cost - self.budget) / self.budget)


class BatteryPriceLogger(BaseCallback):
    """Logs the budget's price and the last episode's weekly battery cost to TensorBoard
    (``train/battery_price``, ``train/battery_cost_week``, ``train/battery_budget``)."""

    def __init__(self, budget: BatteryBudget) -> None:
        super().__init__()
        self.budget = budget

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        self.logger.record("train/battery_price", self.budget.price)
        self.logger.record("train/battery_budget", self.budget.budget)
        if np.isfinite(self.budget.last_weekly_cost):
            self.logger.record("train/battery_cost_week", self.budget.last_weekly_cost)
