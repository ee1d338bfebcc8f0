"""Train one policy on a fleet of both platforms (``bgenv/CrossPlatform-v1``), then
evaluate it per platform.

    python -m agents.fleet_training --fleet mixed --config configs/train/ppo_warm.yaml \
        --total-timesteps 300000 --seeds 0-2 [--logdir runs/fleet_mixed]

The training env is :class:`~bgenv.envs.cross_vector.CrossPlatformVectorEnv` over the
fleet (each device draws its cohort, iOS or Android, at every reset; training seeds
``seed * n_envs + i``, below the held-out range), with the config's
``bgenv/CrossPlatform-v1`` entry (algorithm, normalisation, discount by simulated time,
warm start from ``init_from``: ``cross_guidelines``). It writes ``model.zip``,
``vecnormalize.pkl`` and ``run.yaml`` to ``<logdir>/<algo>_<seed>`` per seed (one after the
other) and ``group.yaml`` to ``<logdir>`` (a seed group for ``bgenv compare``: IQM over
seeds), then evaluates the models on
the test weeks of each ``--eval-scenarios`` scenario against native ``guidelines`` (paired
by week: ``agents.evaluate.compare``, which runs a model with the intent env's observation
on ``bgenv/CrossPlatform-v1``). ``bgenv compare --scenario S --policies guidelines,<model.zip>``
and ``bgenv compare --fleet F ...`` evaluate it again. No periodic validation and no
TensorBoard reference lines (``bgenv train`` has them for single scenarios).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agents.evaluate import TEST_SEED, compare
from agents.hyperparams import load_train_config
from agents.train import train_seeds
from bgenv.registration import CROSS_ENV_ID


def train_on_fleet(
    fleet: str,
    config: str | Path,
    total_timesteps: int | None,
    seed: int,
    logdir: str | Path,
    torch_threads: int = 1,
) -> Path:
    """Train on ``fleet`` with the config's ``bgenv/CrossPlatform-v1`` entry; returns the
    path of the saved model."""
    import torch
    from stable_baselines3.common.vec_env import VecMonitor

    from agents.imitation import behaviour_clone
    from bgenv.envs.cross_vector import CrossPlatformVectorEnv
    from bgenv.envs.sb3 import BgenvVecEnv

    torch.set_num_threads(max(1, int(torch_threads)))
    cfg = load_train_config(config, CROSS_ENV_ID)
    total = int(total_timesteps if total_timesteps is not None else cfg.n_timesteps)
    run_dir = Path(logdir)
    run_dir.mkdir(parents=True, exist_ok=True)
    seeds = train_seeds(seed, cfg.n_envs)
    venv = BgenvVecEnv(CrossPlatformVectorEnv(cfg.n_envs, fleet=fleet))
    venv.seed(seeds[0])
    env = cfg.wrap_normalize(VecMonitor(venv))
    model = cfg.algo_class()(
        cfg.policy_for(env.action_space), env, seed=seed, device="cpu", verbose=0, **cfg.algo_kwargs
    )
    t0 = time.perf_counter()
    clone: dict[str, Any] | None = None
    if cfg.init is not None:
        summary = behaviour_clone(model, cfg.init, seed=seed)
        clone = {**cfg.init.as_dict(), "result": summary.as_dict()}
        print(f"clone of {cfg.init.policy}: accuracy {summary.accuracy:.3f}, {summary.seconds:.0f} s")
    model.learn(total_timesteps=total, progress_bar=False)
    model.save(run_dir / "model.zip")
    vn = model.get_vec_normalize_env()
    if vn is not None:
        vn.save(str(run_dir / "vecnormalize.pkl"))
    doc = {
        "algo": cfg.algo,
        "env_id": CROSS_ENV_ID,
        "fleet": fleet,
        "seed": seed,
        "train_seeds": seeds,
        "n_envs": cfg.n_envs,
        "total_timesteps": total,
        "config": str(config),
        "init_from": clone,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (run_dir / "run.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    print(f"trained {total} steps on fleet {fleet} in {doc['seconds']} s -> {run_dir / 'model.zip'}")
    return run_dir / "model.zip"


def report(model: Path, scenarios: list[str], episodes: int, seed: int) -> None:
    """The model (or seed group directory), ``cross_guidelines`` and native ``guidelines``
    on each scenario's test weeks, paired with ``guidelines`` week by week (a group: the
    mean over its seeds on each week)."""
    for sc in scenarios:
        cmp = compare(["guidelines", "cross_guidelines", str(model)], sc, episodes, seed)
        ref = np.mean(cmp.results[0].values("episode_reward"))
        print(f"{sc}: guidelines {ref:.1f}")
        for res in cmp.results[1:]:
            m, h, rel = cmp.paired(res)
            b, bh, brel = cmp.paired(res, "battery_cost")
            c, ch, _ = cmp.paired(res, "completion_rate")
            print(
                f"  {res.policy}: reward {np.mean(res.values('episode_reward')):.1f}, vs guidelines "
                f"{m:+.1f} ± {h:.1f} ({rel * 100:+.1f} %), battery {b:+.4f} ± {bh:.4f} ({brel * 100:+.0f} %), "
                f"completion {c:+.3f} ± {ch:.3f}"
            )


def write_group(group_dir: Path, algo: str, fleet: str, config: str, total: int | None, seeds: list[int]) -> None:
    """``group.yaml`` of the seeds' runs (``agents.seed_group``'s format)."""
    doc = {
        "kind": "seed_group",
        "algo": algo,
        "scenario": None,
        "fleet": fleet,
        "env_id": CROSS_ENV_ID,
        "config": config,
        "total_timesteps": total,
        "overrides": {},
        "seeds": seeds,
        "members": [f"{algo}_{s}" for s in seeds],
    }
    (group_dir / "group.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def main(argv: list[str] | None = None) -> int:
    from agents.raycluster import parse_seeds

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fleet", default="mixed")
    p.add_argument("--config", default="configs/train/ppo_warm.yaml")
    p.add_argument("--total-timesteps", type=int, default=None)
    p.add_argument("--seeds", default="0", help="0, 0-2 or 0,3,5: one run per seed, one after the other")
    p.add_argument("--logdir", default=None, help="group directory (default runs/fleet_<fleet>)")
    p.add_argument("--eval-scenarios", default="ios_commuter,android_commuter")
    p.add_argument("--episodes", type=int, default=64)
    args = p.parse_args(argv)
    algo = load_train_config(args.config, CROSS_ENV_ID).algo
    group = Path(args.logdir or f"runs/fleet_{Path(args.fleet).stem}")
    seeds = parse_seeds(args.seeds)
    for seed in seeds:
        train_on_fleet(args.fleet, args.config, args.total_timesteps, seed, group / f"{algo}_{seed}")
    write_group(group, algo, args.fleet, args.config, args.total_timesteps, seeds)
    report(group, [s for s in args.eval_scenarios.split(",") if s], args.episodes, TEST_SEED)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
