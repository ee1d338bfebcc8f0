"""Stable-Baselines3 callbacks and TensorBoard helpers of ``bgenv train``.

* :class:`EpisodeMetricsCallback`: every key of ``info["metrics"]`` of the training
  episodes that ended, as ``episode/<metric>`` (mean over the episodes that ended since the
  last log dump, i.e. per rollout for PPO/A2C).
* :class:`HeldOutEvalCallback`: every ``eval_freq`` env steps, the current policy on
  held-out seeds (:data:`agents.evaluate.VALIDATION_SEED` up) as ``eval/<metric>`` (mean
  over the episodes) and ``eval/score_vs_guidelines``; keeps ``best_model.zip`` by reward
  (within the run's battery budget when it has one).
* :class:`HParamsCallback`: the run's hyperparameters in TensorBoard's HParams tab.
* :func:`write_reference_lines`: the hand-written policies' scores on the same held-out
  seeds, written as flat ``eval/<metric>`` lines in sibling runs
  (``<scenario dir>/reference/<policy>``), so TensorBoard draws them on the same charts as
  the learning curve.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HParam

from agents.evaluate import REFERENCE_POLICIES, EpisodeResults, ModelPolicy, evaluate, normalized_score

# metrics drawn as reference lines and logged by the held-out evaluations
EVAL_TAG = "eval"
EPISODE_TAG = "episode"


def _finite(x: float) -> bool:
    return x is not None and math.isfinite(x)


class EpisodeMetricsCallback(BaseCallback):
    """Logs every metric of the training episodes that ended (``info["metrics"]``)."""

    def __init__(self, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.episodes = 0

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            m = info.get("metrics")
            if m is None:
                continue
            self.episodes += 1
            for k, v in m.items():
                if _finite(v):
                    self.logger.record_mean(f"{EPISODE_TAG}/{k}", float(v))
        return True


class HeldOutEvalCallback(BaseCallback):
    """Evaluates the current policy on held-out seeds every ``eval_freq`` env steps.

    Args:
        scenario: scenario name or path (the training one).
        episodes: evaluation episodes (seeds ``seed .. seed + episodes - 1``).
        seed: first held-out seed.
        eval_freq: env steps (summed over the ``n_envs``) between evaluations.
        anchors: mean episode reward of ``random`` and ``guidelines`` on the same seeds,
            for ``eval/score_vs_guidelines``.
        best_path: where to save the model with the best mean evaluation reward (with its
            ``vecnormalize.pkl`` beside it), or None.
        overrides: scenario overrides of the training env (e.g. ``horizon_days``).
        on_eval: called after each evaluation with the step count and the mean metrics
            (plus ``score_vs_guidelines`` when the anchors are known); ``bgenv sweep``
            reports them to Ray Tune from here.
        eval_at_start: also evaluate when training starts, before the first update (a
            warm-started model's starting point: the behaviour clone of ``--init-from``).
        battery_budget: a run's weekly battery budget (fraction of a full battery per
            simulated week, :mod:`agents.battery_budget`), or None. With it ``best_model.zip``
            is the evaluation with the best mean reward among those whose mean weekly
            battery cost is within the budget (``eval/within_budget`` 1); while none is,
            the one closest to the budget.
    """

    def __init__(
        self,
        scenario: str | Path,
        episodes: int,
        seed: int,
        eval_freq: int,
        anchors: dict[str, float] | None = None,
        best_path: Path | None = None,
        overrides: dict[str, Any] | None = None,
        verbose: int = 0,
        on_eval: Callable[[int, dict[str, float]], None] | None = None,
        eval_at_start: bool = False,
        battery_budget: float | None = None,
    ) -> None:
        super().__init__(verbose)
        self.battery_budget = battery_budget
        self.eval_at_start = eval_at_start
        self.scenario = scenario
        self.episodes = episodes
        self.seed = seed
        self.eval_freq = max(1, int(eval_freq))
        self.anchors = anchors or {}
        self.best_path = best_path
        self.overrides = overrides or {}
        self.on_eval = on_eval
        self.best_key: tuple[bool, float] = (False, -math.inf)
        self.best_step: int | None = None
        self.last_eval_step = -1
        self.next_eval = -1
        self.history: list[tuple[int, dict[str, float]]] = []

    def _policy(self) -> ModelPolicy:
        vn = self.model.get_vec_normalize_env()
        try:  # bgenv/CrossPlatform-v1: the intent table's parts
            nvec = np.asarray(self.training_env.get_attr("action_table")[0].nvec)
        except AttributeError:
            nvec = np.asarray(self.training_env.get_attr("params")[0].nvec)
        return ModelPolicy(self.model, nvec, vn, name="current")

    def _on_training_start(self) -> None:
        self.next_eval = self.num_timesteps + self.eval_freq
        if self.eval_at_start:
            self.evaluate_now()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_eval:
            self.evaluate_now()
            self.next_eval = self.num_timesteps + self.eval_freq
        return True

    def _on_training_end(self) -> None:
        if self.last_eval_step != self.num_timesteps:
            self.evaluate_now()

    def evaluate_now(self) -> EpisodeResults:
        self.last_eval_step = self.num_timesteps
        res = evaluate(self._policy(), self.scenario, self.episodes, self.seed, **self.overrides)
        summ = res.summary()
        for k, (mean, _) in summ.items():
            if _finite(mean):
                self.logger.record(f"{EVAL_TAG}/{k}", mean)
        reward = summ["episode_reward"][0]
        means = {k: v[0] for k, v in summ.items()}
        if "random" in self.anchors and "guidelines" in self.anchors:
            score = normalized_score(reward, self.anchors["random"], self.anchors["guidelines"])
            if _finite(score):
                self.logger.record(f"{EVAL_TAG}/score_vs_guidelines", score)
                means["score_vs_guidelines"] = score
        key = (True, reward)
        if self.battery_budget is not None:
            from agents.battery_budget import weekly_battery_cost

            weekly = weekly_battery_cost(res)
            within = weekly <= self.battery_budget
            means["battery_cost_week"] = weekly
            means["within_budget"] = float(within)
            self.logger.record(f"{EVAL_TAG}/battery_cost_week", weekly)
            self.logger.record(f"{EVAL_TAG}/within_budget", float(within))
            key = (True, reward) if within else (False, -weekly)
        self.history.append((self.num_timesteps, means))
        if self.best_path is not None and key > self.best_key:
            self.best_key = key
            self.best_step = self.num_timesteps
            self.model.save(self.best_path)
            vn = self.model.get_vec_normalize_env()
            if vn is not None:
                vn.save(str(self.best_path.with_name(self.best_path.stem + "_vecnormalize.pkl")))
        self.logger.dump(self.num_timesteps)
        if self.on_eval is not None:
            self.on_eval(self.num_timesteps, dict(means))
        return res


class HParamsCallback(BaseCallback):
    """Writes the run's hyperparameters to TensorBoard's HParams tab at the start."""

    def __init__(self, hparams: dict[str, Any], metrics: Sequence[str]) -> None:
        super().__init__()
        self.hparams = {k: (v if isinstance(v, (int, float, str, bool)) else str(v)) for k, v in hparams.items()}
        self.metrics = list(metrics)

    def _on_training_start(self) -> None:
        self.logger.record(
            "hparams",
            HParam(self.hparams, {m: 0.0 for m in self.metrics}),
            exclude=("stdout", "log", "json", "csv"),
        )

    def _on_step(self) -> bool:
        return True


# ---------------------------------------------------------------------------
# reference lines
# ---------------------------------------------------------------------------
def reference_results(
    scenario: str | Path,
    episodes: int,
    seed: int,
    policies: Sequence[str] = REFERENCE_POLICIES,
    overrides: dict[str, Any] | None = None,
) -> dict[str, EpisodeResults]:
    """Each hand-written policy evaluated on the given held-out seeds."""
    return {p: evaluate(p, scenario, episodes, seed, **(overrides or {})) for p in policies}


def write_reference_lines(
    root: Path,
    refs: dict[str, EpisodeResults],
    steps: Sequence[int],
) -> list[Path]:
    """Write each policy's mean metrics as flat lines at ``steps`` under
    ``root/reference/<policy>/`` (TensorBoard event files), with the same tags as the
    held-out evaluations, and ``summary.json`` beside them. Re-running appends points (so
    a longer or resumed run extends the lines)."""
    from torch.utils.tensorboard import SummaryWriter

    anchors = {p: float(np.mean(r.values("episode_reward"))) for p, r in refs.items()}
    out = []
    for name, res in refs.items():
        d = root / "reference" / name
        d.mkdir(parents=True, exist_ok=True)
        summ = res.summary()
        w = SummaryWriter(log_dir=str(d))
        for step in steps:
            for k, (mean, _) in summ.items():
                if _finite(mean):
                    w.add_scalar(f"{EVAL_TAG}/{k}", mean, global_step=int(step))
            if "random" in anchors and "guidelines" in anchors:
                score = normalized_score(anchors[name], anchors["random"], anchors["guidelines"])
                w.add_scalar(f"{EVAL_TAG}/score_vs_guidelines", score, global_step=int(step))
        w.close()
        doc = {k: {"mean": m if _finite(m) else None, "ci95": h if _finite(h) else None} for k, (m, h) in summ.items()}
        (d / "summary.json").write_text(json.dumps({"policy": name, "seeds": res.seeds, "metrics": doc}, indent=1))
        out.append(d)
    return out
