"""Multi-seed runs: ``bgenv train ... --seeds 0-7`` and seed groups in ``bgenv compare``.

The seeds train in parallel on Ray (:func:`agents.sweep.run_seed_group`, the trial function
of ``bgenv sweep``, so each seed is an ordinary ``bgenv train`` run in
``<group dir>/<algo>_<seed>/``). The group directory gets ``group.yaml`` (what was run and
its members), ``seeds.csv`` (the per-seed table) and ``summary.json``.

The across-seed result follows Agarwal et al. 2021 ("Deep RL at the Edge of the Statistical
Precipice", the ``rliable`` library): the interquartile mean (IQM) of the per-seed scores
with a 95 % stratified-bootstrap confidence interval. Here a seed's score is its final
model's ``score_vs_guidelines`` (random 0, guidelines 1) averaged over the held-out episodes;
one scenario is one task. With 3-8 seeds the interval is wide; that is the honest answer.

``bgenv compare --policies guidelines,runs/ios_commuter/ppo_seeds_0-7`` takes a group
directory as one entry (:func:`evaluate_group`): every member's ``model.zip`` on the same
test seeds; the group's row shows each metric's mean over seeds with a 95 % t interval over
the per-seed means, and its score is the IQM over seeds with the bootstrap interval.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agents.evaluate import EpisodeResults, mean_ci

GROUP_FILE = "group.yaml"
BOOTSTRAP_REPS = 2000
FEW_SEEDS_NOTE = "CIs from 3-8 seeds are wide (Agarwal et al. 2021 recommend reporting them, not hiding them)"


def ci_method() -> str:
    """How :func:`iqm_ci` computes its interval."""
    return "rliable.library.get_interval_estimates (stratified bootstrap, percentile)"


def iqm_ci(scores: np.ndarray, reps: int = BOOTSTRAP_REPS, seed: int = 0) -> tuple[float, float, float]:
    """IQM of ``scores`` (one per seed; or runs x tasks) and its 95 % stratified-bootstrap
    confidence interval, with ``rliable.metrics.aggregate_iqm`` and
    ``rliable.library.get_interval_estimates``. Returns (iqm, low, high); rows with NaN
    scores are left out."""
    from rliable import library, metrics

    x = np.asarray(scores, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    x = x[~np.isnan(x).any(axis=1)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    iqm = float(metrics.aggregate_iqm(x))
    if len(x) < 2:
        return iqm, math.nan, math.nan
    _, cis = library.get_interval_estimates(
        {"g": x},
        lambda s: np.array([metrics.aggregate_iqm(s)]),
        reps=reps,
        confidence_interval_size=0.95,
        random_state=np.random.RandomState(seed),
    )
    lo, hi = cis["g"][:, 0]
    return iqm, float(lo), float(hi)


# ---------------------------------------------------------------------------
# bgenv train --seeds
# ---------------------------------------------------------------------------
def group_spec(
    config: str | Path,
    scenario: str | None,
    total_timesteps: int | None,
    n_envs: int | None,
    eval_freq: int | None,
    eval_episodes: int,
    overrides: dict[str, Any],
    cpus_per_trial: float = 1,
    init_from: str | None = None,
    init_steps: int | None = None,
) -> dict[str, Any]:
    """The trial spec (as :func:`agents.sweep.run_trial` takes it) of a seed group.
    ``init_from`` / ``init_steps`` (``bgenv train --init-from``) become the ``init_from``
    / ``init_from_steps`` keys of every seed's training entry (``init_from="none"`` drops
    the config's)."""
    from agents.hyperparams import load_train_config
    from agents.train import DEFAULT_SCENARIO
    from bgenv.registration import env_id_for

    scenario = scenario or DEFAULT_SCENARIO
    env_id = env_id_for(scenario)
    cfg = load_train_config(config, env_id, n_envs=n_envs)  # checks the file before Ray starts
    entry = dict(cfg.raw)
    if init_from is not None:
        if str(init_from).lower() == "none":
            entry = {k: v for k, v in entry.items() if not k.startswith("init_from")}
        else:
            entry["init_from"] = str(init_from)
    if init_steps is not None:
        entry["init_from_steps"] = int(init_steps)
    if entry.get("init_from") is not None:  # a policy class's file by absolute path: Ray's workers run elsewhere
        from agents.plugins import absolute_spec

        entry["init_from"] = absolute_spec(str(entry["init_from"]))
    if init_from is not None or init_steps is not None:
        import tempfile

        check = Path(tempfile.mkdtemp()) / "entry.yaml"
        check.write_text(yaml.safe_dump({"algo": cfg.algo, env_id: entry}))
        load_train_config(check, env_id, n_envs=n_envs)  # the flags make a valid entry
    return {
        "name": f"{cfg.algo}_seeds",
        "source": str(Path(config).resolve()),
        "train_config": str(Path(config).resolve()),
        "algo": cfg.algo,
        "env_id": env_id,
        "base_entry": entry,
        "scenario": str(scenario),
        "total_timesteps": int(total_timesteps if total_timesteps is not None else cfg.n_timesteps),
        "n_envs": n_envs,
        "eval_freq": eval_freq,
        "eval_episodes": eval_episodes,
        "cpus_per_trial": float(cpus_per_trial),
        "seed": 0,
        "overrides": overrides,
    }


def default_group_dir(scenario: str | None, algo: str, seeds_text: str, root: str | Path = "runs") -> Path:
    """``runs/<scenario>/<algo>_seeds_<spec>``."""
    from agents.train import DEFAULT_SCENARIO

    return (
        Path(root)
        / Path(str(scenario or DEFAULT_SCENARIO).replace(":", "_")).stem
        / f"{algo}_seeds_{seeds_text.replace(',', '_')}"
    )


def summarize_group(out_dir: Path, spec: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Write ``group.yaml``, ``seeds.csv`` and ``summary.json``; returns the summary (IQM of
    the final validation scores and its bootstrap CI, over the seeds that finished)."""
    from agents.sweep import METRIC, write_rows

    out_dir = Path(out_dir)
    members = [r for r in rows if r["status"] == "done"]
    scores = np.array([r[METRIC] for r in members if r[METRIC] is not None], dtype=float)
    iqm, lo, hi = iqm_ci(scores)
    summary = {
        "metric": f"final {METRIC} on the validation seeds",
        "seeds": [r["seed"] for r in members],
        "failed_seeds": [r["seed"] for r in rows if r["status"] != "done"],
        "iqm": _num(iqm),
        "ci95": [_num(lo), _num(hi)],
        "mean": _num(float(scores.mean())) if len(scores) else None,
        "per_seed": {str(r["seed"]): _num(r[METRIC]) for r in members},
        "ci_method": ci_method(),
        "note": FEW_SEEDS_NOTE,
    }
    group = {
        "kind": "seed_group",
        "algo": spec["algo"],
        "scenario": spec["scenario"],
        "env_id": spec["env_id"],
        "config": spec["train_config"],
        "total_timesteps": spec["total_timesteps"],
        "overrides": spec.get("overrides") or {},
        "seeds": [r["seed"] for r in rows],
        "members": [Path(r["run_dir"]).name for r in members],
    }
    (out_dir / GROUP_FILE).write_text(yaml.safe_dump(group, sort_keys=False))
    write_rows(rows, out_dir / "seeds.csv")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def group_report(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """Per-seed table and the IQM line."""
    from agents.sweep import METRIC, REPORTED, rows_table

    table = rows_table(rows, ["seed", "status", "steps", METRIC, "best_score", *REPORTED])
    lo, hi = summary["ci95"]
    n = len(summary["seeds"])
    if summary["iqm"] is None:
        line = "no seed finished"
    else:
        ci = f"[{lo:.3f}, {hi:.3f}]" if lo is not None else "(no CI from one seed)"
        line = (
            f"IQM of the final validation {METRIC} over {n} seeds: {summary['iqm']:.3f}, "
            f"95 % stratified-bootstrap CI {ci}; mean {summary['mean']:.3f}\nCI: {summary['ci_method']}"
        )
    return f"{table}\n\n{line}\n{FEW_SEEDS_NOTE}"


def _num(x: Any) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


# ---------------------------------------------------------------------------
# a group as one entry of bgenv compare
# ---------------------------------------------------------------------------
def is_group_spec(spec: str) -> bool:
    """A directory written by ``bgenv train --seeds`` (it holds ``group.yaml``)."""
    p = Path(str(spec))
    return p.is_dir() and (p / GROUP_FILE).is_file()


def group_members(spec: str | Path) -> list[Path]:
    """The ``model.zip`` of each finished seed of a group directory."""
    d = Path(spec)
    doc = yaml.safe_load((d / GROUP_FILE).read_text()) or {}
    models = [d / m / "model.zip" for m in doc.get("members", [])]
    missing = [str(m) for m in models if not m.is_file()]
    if missing or not models:
        raise FileNotFoundError(f"seed group {d}: missing models {', '.join(missing) or '(no members)'}")
    return models


@dataclass
class GroupResults(EpisodeResults):
    """Episodes of every member of a seed group on the same seeds. ``metrics`` holds all
    of them (member after member); :meth:`summary` is over the per-seed means."""

    members: list[EpisodeResults] = field(default_factory=list)

    def summary(self) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        for k in self.members[0].metrics[0]:
            per_seed = np.array(
                [np.nanmean(m.values(k)) if not np.isnan(m.values(k)).all() else np.nan for m in self.members]
            )
            out[k] = mean_ci(per_seed)
        return out

    def score_iqm(self, random_reward: float, guidelines_reward: float) -> tuple[float, float, float]:
        """IQM over seeds of the per-seed mean score and its bootstrap CI."""
        from agents.evaluate import normalized_score

        per_seed = [
            float(np.mean([normalized_score(x, random_reward, guidelines_reward) for x in m.values("episode_reward")]))
            for m in self.members
        ]
        return iqm_ci(np.array(per_seed))


def evaluate_group(
    spec: str, scenario: str | Path, episodes: int, seed: int, deterministic: bool = True, **overrides: Any
) -> GroupResults:
    """Every member of a seed group on seeds ``seed .. seed + episodes - 1``."""
    from agents.evaluate import evaluate

    d = Path(spec)
    members = [
        evaluate(str(m), scenario, episodes, seed, deterministic=deterministic, **overrides) for m in group_members(d)
    ]
    res = GroupResults(f"{d.name} ({len(members)} seeds)", str(scenario), members=members)
    for m in members:
        res.seeds.extend(m.seeds)
        res.metrics.extend(m.metrics)
        res.traces.extend(m.traces)
    return res
