"""``bgenv train``: train a Stable-Baselines3 / sb3-contrib agent on a scenario.

    bgenv train --config configs/train/ppo.yaml --scenario ios_commuter --total-timesteps 1000000 --seed 0

What a run does:

* reads the algorithm's hyperparameters for the scenario's env id from a zoo-style YAML
  file (:mod:`agents.hyperparams`);
* builds the algorithm's policy: ``MlpPolicy`` of PPO, A2C and MaskablePPO on the
  MultiDiscrete action space uses the fused action head of :mod:`agents.distributions`
  (same network and distribution, faster) unless the config or ``--set fused_head=false``
  turns it off; with it the parts are conditional (``action_head: conditional``, the
  default for MaskablePPO: the delay counts only with a request, the work kind only with a
  chunk, and the deterministic action is the joint most likely one) or independent (the
  default for PPO and A2C), as the config or ``--set action_head=...`` says; the class and
  the head are recorded in ``run.yaml``;
* simulates ``n_envs`` devices in one batched env (:func:`bgenv.envs.sb3.make_sb3_vec_env`),
  device ``i`` first reset with seed ``seed * n_envs + i`` (all training seeds stay below
  :data:`agents.evaluate.EVAL_SEED_MIN`; later episodes carry on each device's random
  streams), with ``VecNormalize`` when the config asks for it;
* evaluates the hand-written policies once on held-out validation seeds and writes them as
  reference lines beside the run; evaluates the learner on the same seeds every
  ``eval_freq`` steps (:mod:`agents.callbacks`);
* logs to TensorBoard under ``runs/<scenario>/<algo>_<seed>/`` (or ``--logdir``):
  ``episode/*`` (training episodes' metrics), ``eval/*`` (held-out), ``rollout/*`` and
  ``train/*`` (SB3), hyperparameters;
* saves ``checkpoints/model_<steps>_steps.zip`` (+ their normalisation statistics) every
  ``checkpoint_freq`` steps, and at the end ``model.zip``, ``vecnormalize.pkl``,
  ``best_model.zip`` (best held-out reward) and ``run.yaml`` (everything needed to
  reproduce the run).

``--init-from POLICY`` (or ``init_from`` in the config) warm-starts a new model by
behaviour cloning of a hand-written policy, or of the ``planner`` / ``oracle`` planning
on the training devices' simulator, before RL (:mod:`agents.imitation`); the clone is
saved as ``checkpoints/model_0_steps.zip`` and the held-out validation also runs at step
0, on the clone.

``--resume PATH`` continues a run from a saved model (its statistics are restored and the
step counter carries on) up to ``--total-timesteps`` in all.
"""

from __future__ import annotations

import json
import math
import platform as _platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from agents.evaluate import (
    EVAL_SEED_MIN,
    REFERENCE_POLICIES,
    VALIDATION_SEED,
    EpisodeResults,
    stats_beside,
)
from agents.hyperparams import HyperparamError, TrainConfig, import_object, load_train_config
from bgenv.registration import env_id_for

if TYPE_CHECKING:
    from agents.imitation import CloneSettings

DEFAULT_SCENARIO = "ios_commuter"


@dataclass
class TrainResult:
    """Where a run's files are and how it ended."""

    run_dir: Path
    model_path: Path
    vecnormalize_path: Path | None
    timesteps: int
    seconds: float
    final_eval: dict[str, float] = field(default_factory=dict)
    references: dict[str, dict[str, float]] = field(default_factory=dict)


def default_run_dir(scenario: str | Path, algo: str, seed: int, root: str | Path = "runs") -> Path:
    """``runs/<scenario>/<algo>_<seed>`` (``runs/fleet_<name>/...`` for ``fleet:<name>``)."""
    return Path(root) / Path(str(scenario).replace(":", "_")).stem / f"{algo}_{seed}"


def train_seeds(seed: int, n_envs: int) -> list[int]:
    """Reset seeds of the training devices; they must stay below the held-out range."""
    if seed < 0:
        raise ValueError(f"--seed must be >= 0; got {seed}")
    seeds = [seed * n_envs + i for i in range(n_envs)]
    if seeds[-1] >= EVAL_SEED_MIN:
        raise ValueError(
            f"--seed {seed} with n_envs {n_envs} would train on seeds up to {seeds[-1]}, but seeds from "
            f"{EVAL_SEED_MIN} up are held out for evaluation; use --seed < {EVAL_SEED_MIN // n_envs}"
        )
    return seeds


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent
        )
        return out.stdout.strip() or None
    except Exception:
        return None


def make_train_env(cfg: TrainConfig, scenario: str | Path, seed: int, overrides: dict[str, Any]):
    """The batched, monitored (and wrapped) SB3 VecEnv of a run, before normalisation."""
    from bgenv.envs.sb3 import make_sb3_vec_env

    seeds = train_seeds(seed, cfg.n_envs)
    env = make_sb3_vec_env(cfg.env_id, n_envs=cfg.n_envs, seed=seeds[0], scenario=scenario, **overrides)
    if cfg.env_wrapper:
        wrapper = import_object(cfg.env_wrapper)
        vec = getattr(wrapper, "VEC_WRAPPER", None)
        if vec is None:
            raise HyperparamError(
                f"env_wrapper {cfg.env_wrapper} has no batched counterpart (VEC_WRAPPER); bgenv train "
                "runs the batched env"
            )
        env = (import_object(vec) if isinstance(vec, str) else vec)(env)
    return env


def _resolve_resume(path: str | Path) -> tuple[Path, Path]:
    """(model zip, run dir) of ``--resume`` (a model zip, a checkpoint, or a run dir)."""
    p = Path(path)
    if p.is_dir():
        p = p / "model.zip"
    if not p.is_file():
        raise FileNotFoundError(f"--resume: no model at {p}")
    run_dir = p.parent.parent if p.parent.name == "checkpoints" else p.parent
    return p, run_dir


def train(
    config: str | Path,
    scenario: str | Path | None = None,
    total_timesteps: int | None = None,
    seed: int = 0,
    logdir: str | Path | None = None,
    resume: str | Path | None = None,
    n_envs: int | None = None,
    eval_freq: int | None = None,
    eval_episodes: int = 32,
    eval_seed: int = VALIDATION_SEED,
    checkpoint_freq: int | None = None,
    progress_bar: bool = True,
    overwrite: bool = False,
    torch_threads: int = 1,
    verbose: int = 1,
    fused_head: bool | None = None,
    action_head: str | None = None,
    on_eval: Callable[[int, dict[str, float]], None] | None = None,
    init_from: str | None = None,
    init_steps: int | None = None,
    **overrides: Any,
) -> TrainResult:
    """Train one agent; see the module docstring. ``total_timesteps`` defaults to the
    config's ``n_timesteps``; ``eval_freq`` (env steps) to a twentieth of the run;
    ``checkpoint_freq`` (env steps) to a tenth; ``fused_head`` (None: the config's, by
    default True; ``bgenv train --set fused_head=false`` lands here) chooses the action head
    of a new model (a resumed model keeps its own), and ``action_head`` (None: the config's,
    by default conditional for MaskablePPO and independent otherwise; ``--set
    action_head=...``) its parts; ``overrides`` go to the scenario (e.g.
    ``horizon_days=2``); ``on_eval(steps, metrics)`` is called after each held-out
    validation (``bgenv sweep`` and ``bgenv train --seeds`` report to Ray Tune there).
    ``init_from`` (a hand-written policy name or class spec, ``file.py:ClassName``;
    ``"none"`` turns the config's off) and
    ``init_steps`` (decision steps of demonstrations) override the config's ``init_from``
    and ``init_from_steps``: a new model is first behaviour-cloned from that policy
    (:func:`agents.imitation.behaviour_clone`); a resumed one is not."""
    import torch
    from stable_baselines3.common.callbacks import CallbackList, CheckpointCallback
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.vec_env import VecNormalize

    from agents.callbacks import (
        EpisodeMetricsCallback,
        HeldOutEvalCallback,
        HParamsCallback,
        reference_results,
        write_reference_lines,
    )
    from agents.distributions import action_head_of, is_fused

    t_start = time.perf_counter()
    torch.set_num_threads(max(1, int(torch_threads)))
    if eval_seed < EVAL_SEED_MIN:
        raise ValueError(f"eval seeds must be >= {EVAL_SEED_MIN} (held out of training); got {eval_seed}")
    resume_model: Path | None = None
    prior: dict[str, Any] = {}
    if resume is not None:
        resume_model, resume_dir = _resolve_resume(resume)
        run_yaml = resume_dir / "run.yaml"
        if run_yaml.is_file():
            prior = yaml.safe_load(run_yaml.read_text()) or {}
        scenario = scenario or prior.get("scenario")
        seed = int(prior.get("seed", seed))
        overrides = {**prior.get("overrides", {}), **overrides}
        logdir = logdir or resume_dir
    scenario = scenario or DEFAULT_SCENARIO
    env_id = env_id_for(scenario)
    cfg = load_train_config(config, env_id, n_envs=n_envs or prior.get("n_envs"))
    if fused_head is not None:
        if not isinstance(fused_head, bool):
            raise ValueError(f"fused_head must be true or false; got {fused_head!r}")
        cfg = replace(cfg, fused_head=fused_head)
    if action_head is not None:
        from agents.hyperparams import ACTION_HEADS

        if action_head not in ACTION_HEADS:
            raise ValueError(f"action_head must be one of {', '.join(ACTION_HEADS)}; got {action_head!r}")
        cfg = replace(cfg, action_head=action_head)
    cfg = replace(cfg, init=_clone_settings(cfg, init_from, init_steps))
    total = int(total_timesteps if total_timesteps is not None else cfg.n_timesteps)
    run_dir = Path(logdir) if logdir else default_run_dir(scenario, cfg.algo, seed)
    if resume_model is None and (run_dir / "model.zip").exists() and not overwrite:
        raise FileExistsError(
            f"{run_dir} already holds a trained model; pass --resume {run_dir} to continue it, "
            "--logdir for another directory, or --overwrite"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    scenario_root = run_dir.parent

    # hand-written policies on the validation seeds: anchors, reference lines, budgets
    refs: dict[str, EpisodeResults] = reference_results(
        scenario, eval_episodes, eval_seed, REFERENCE_POLICIES, overrides
    )
    env = make_train_env(cfg, scenario, seed, overrides)
    budget = None
    if cfg.battery_budget is not None:
        from agents.battery_budget import DEFAULT_LR, BatteryBudget

        weekly = resolve_battery_budget(cfg.battery_budget, refs, scenario, eval_episodes, eval_seed, overrides)
        env = budget = BatteryBudget(
            env, weekly, lr=cfg.battery_budget_lr or DEFAULT_LR, price=cfg.battery_budget_price or 0.0
        )
    cls = cfg.algo_class()
    if resume_model is not None:
        vn_path = stats_beside(resume_model)
        if vn_path is not None:
            env = VecNormalize.load(str(vn_path), env)
            env.training = True
        elif cfg.normalize_kwargs is not None:
            raise FileNotFoundError(f"--resume: no normalisation statistics beside {resume_model}")
        model = cls.load(resume_model, env=env, device="cpu")
        done = int(model.num_timesteps)
    else:
        env = cfg.wrap_normalize(env)
        model = cls(cfg.policy_for(env.action_space), env, seed=seed, device="cpu", verbose=0, **cfg.algo_kwargs)
        done = 0
    remaining = total - done
    if remaining <= 0:
        raise ValueError(f"the model at {resume_model} has already trained {done} steps (>= --total-timesteps {total})")
    model.set_logger(configure(str(run_dir), ["tensorboard", "csv"] + (["stdout"] if verbose > 1 else [])))
    cloned: dict[str, Any] | None = prior.get("init_from") if resume_model is not None else None
    if cfg.init is not None and resume_model is None:
        from agents.imitation import behaviour_clone

        if verbose:
            dagger = f", {cfg.init.dagger_rounds} DAgger rounds" if cfg.init.dagger_rounds else ""
            print(
                f"behaviour cloning {cfg.init.policy}: {cfg.init.steps} demonstration steps, "
                f"{cfg.init.epochs} epochs{dagger}"
            )
        summary = behaviour_clone(model, cfg.init, seed=seed)
        cloned = {**cfg.init.as_dict(), "result": summary.as_dict()}
        save_clone_checkpoint(model, run_dir / "checkpoints")
        if verbose:
            print(
                f"clone: accuracy {summary.accuracy:.3f}, entropy {summary.entropy:.3f} nats, "
                f"{summary.masked_out_rows} masked-out expert actions, {summary.seconds:.0f} s"
                + (
                    f"; its agreement with the teacher on its own steps by round: "
                    f"{', '.join(f'{a:.3f}' for a in summary.dagger_agreement)}"
                    if summary.dagger_agreement
                    else ""
                )
            )

    write_reference_lines(scenario_root, refs, steps=sorted({0, done, total}))
    anchors = {p: float(np.mean(r.values("episode_reward"))) for p, r in refs.items()}

    eval_freq = int(eval_freq or max(total // 20, 1))
    checkpoint_freq = int(checkpoint_freq or max(total // 10, 1))
    evaluator = HeldOutEvalCallback(
        scenario,
        eval_episodes,
        eval_seed,
        eval_freq,
        anchors=anchors,
        best_path=run_dir / "best_model.zip",
        overrides=overrides,
        on_eval=on_eval,
        eval_at_start=cfg.init is not None and resume_model is None,
        battery_budget=None if budget is None else budget.budget,
    )
    extra: list[Any] = []
    if budget is not None:
        from agents.battery_budget import BatteryPriceLogger

        extra.append(BatteryPriceLogger(budget))
    callbacks = CallbackList(
        [
            *extra,
            EpisodeMetricsCallback(),
            evaluator,
            CheckpointCallback(
                save_freq=max(checkpoint_freq // cfg.n_envs, 1),
                save_path=str(run_dir / "checkpoints"),
                name_prefix="model",
                save_vecnormalize=True,
            ),
            HParamsCallback(
                {
                    **cfg.hparams(),
                    **{f"env.{k}": v for k, v in overrides.items()},
                    "scenario": str(scenario),
                    "seed": seed,
                    "total_timesteps": total,
                },
                metrics=[
                    "eval/episode_reward",
                    "eval/completion_rate",
                    "eval/battery_cost",
                    "eval/score_vs_guidelines",
                ],
            ),
        ]
    )
    meta = {
        "algo": cfg.algo,
        "env_id": env_id,
        "scenario": str(scenario),
        "overrides": overrides,
        "seed": seed,
        "train_seeds": train_seeds(seed, cfg.n_envs),
        "n_envs": cfg.n_envs,
        "total_timesteps": total,
        "config": cfg.source,
        "hyperparams": cfg.raw,
        "policy": f"{type(model.policy).__module__}.{type(model.policy).__qualname__}",
        "fused_head": is_fused(model.policy),
        "battery_budget": None
        if budget is None
        else {"per_week": budget.budget, "from": cfg.battery_budget, "start_price": budget.price},
        "action_head": action_head_of(model.policy),
        "eval": {"episodes": eval_episodes, "seed": eval_seed, "freq": eval_freq},
        "git_commit": _git_commit(),
        "python": _platform.python_version(),
        "resumed_from": str(resume_model) if resume_model else None,
        "init_from": cloned,
    }
    (run_dir / "run.yaml").write_text(yaml.safe_dump(_plain(meta), sort_keys=False))
    if verbose:
        print(f"training {cfg.algo} on {scenario} ({env_id}), {cfg.n_envs} envs, {remaining} steps -> {run_dir}")
    model.learn(
        total_timesteps=remaining,
        callback=callbacks,
        progress_bar=progress_bar,
        reset_num_timesteps=resume_model is None,
    )
    model_path = run_dir / "model.zip"
    model.save(model_path)
    vn = model.get_vec_normalize_env()
    vn_path = None
    if vn is not None:
        vn_path = run_dir / "vecnormalize.pkl"
        vn.save(str(vn_path))
    seconds = time.perf_counter() - t_start
    final = evaluator.history[-1][1] if evaluator.history else {}
    meta.update(
        {
            "timesteps_done": int(model.num_timesteps),
            "wall_seconds": round(seconds, 1),
            "final_eval": {k: (v if math.isfinite(v) else None) for k, v in final.items()},
            **({"battery_price_final": budget.price} if budget is not None else {}),
            "best_model_step": evaluator.best_step,
        }
    )
    (run_dir / "run.yaml").write_text(yaml.safe_dump(_plain(meta), sort_keys=False))
    env.close()
    ref_means = {p: {k: v[0] for k, v in r.summary().items()} for p, r in refs.items()}
    return TrainResult(run_dir, model_path, vn_path, int(model.num_timesteps), seconds, final, ref_means)


def save_clone_checkpoint(model: Any, directory: Path) -> Path:
    """Save a freshly cloned model (before any RL update) as the run's step-0 checkpoint,
    ``model_0_steps.zip`` with ``model_vecnormalize_0_steps.pkl`` (SB3's
    ``CheckpointCallback`` names, so ``bgenv compare`` / ``eval`` load it with its
    statistics); returns the model's path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "model_0_steps.zip"
    model.save(path)
    vn = model.get_vec_normalize_env()
    if vn is not None:
        vn.save(str(directory / "model_vecnormalize_0_steps.pkl"))
    return path


def resolve_battery_budget(
    spec: float | str,
    refs: dict[str, EpisodeResults],
    scenario: str | Path,
    episodes: int,
    seed: int,
    overrides: dict[str, Any],
) -> float:
    """A config's ``battery_budget`` as a fraction of a battery per week: a number as it is,
    a hand-written policy's name as its mean weekly ``battery_cost`` on the validation
    episodes (from ``refs`` when it is among them, else evaluated here)."""
    if not isinstance(spec, str):
        return float(spec)
    if spec in refs:
        res = refs[spec]
    else:
        from agents.evaluate import evaluate

        res = evaluate(spec, scenario, episodes, seed, **overrides)
    from agents.battery_budget import weekly_battery_cost

    weekly = weekly_battery_cost(res)
    if not weekly > 0:
        raise ValueError(f"battery_budget: {spec} spends no battery on {scenario}; give the budget as a number")
    return weekly


def _clone_settings(cfg: TrainConfig, init_from: str | None, init_steps: int | None) -> CloneSettings | None:
    """The run's behaviour-cloning settings: the config's ``init_from*`` keys with the
    ``init_from`` / ``init_steps`` arguments over them (``init_from="none"``: no cloning)."""
    from agents.imitation import SUPPORTED_ALGOS, CloneSettings

    init = cfg.init
    if init_from is not None:
        if str(init_from).lower() == "none":
            init = None
        else:
            init = replace(init, policy=str(init_from)) if init is not None else CloneSettings(str(init_from))
    if init_steps is not None:
        if init is None:
            raise ValueError("--init-steps needs --init-from (or init_from in the training config)")
        init = replace(init, steps=int(init_steps))
    if init is not None and cfg.algo not in SUPPORTED_ALGOS:
        raise ValueError(
            f"--init-from: behaviour cloning warm-starts {', '.join(SUPPORTED_ALGOS)}; not {cfg.algo} "
            "(DQN's Q-network has no policy head to clone into)"
        )
    return init


def _plain(x: Any) -> Any:
    """YAML-safe plain data (schedules and numpy scalars as strings / floats)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return json.dumps(str(x))[1:-1]
