"""``bgenv sweep``: hyperparameter search over ``bgenv train`` runs on Ray Tune.

    bgenv sweep --config configs/sweeps/ppo_ios.yaml [--samples N] [--address ADDR] [--resume DIR]

A sweep file (``configs/sweeps/*.yaml``) names a training config (``configs/train/``), a
scenario, a budget per trial and a search space in the spirit of rl-baselines3-zoo's
(one distribution per hyperparameter)::

    train_config: configs/train/ppo.yaml
    scenario: ios_commuter
    samples: 16                 # trials
    total_timesteps: 100000     # per trial
    eval_freq: 10000            # held-out validation every ... env steps (the objective)
    eval_episodes: 32
    cpus_per_trial: 1
    hyperparams:                # keys of the configs/train entry
      learning_rate: {loguniform: [1.0e-5, 1.0e-3]}
      n_steps: {choice: [64, 128, 256]}
      gae_lambda: {uniform: [0.9, 1.0]}
      n_epochs: {randint: [3, 10]}        # both ends included
    env: {}                     # scenario knobs (as ``bgenv train --set``; dotted keys nest)

Every trial is an ordinary ``bgenv train`` run (:func:`agents.train.train`, the same code
path) in ``<sweep dir>/trials/<trial>/`` with its model, ``vecnormalize.pkl``, TensorBoard
logs, ``run.yaml`` and ``trial_config.yaml`` (its settings in ``configs/train`` format).
Each periodic held-out validation is reported to Tune; the objective is
``score_vs_guidelines`` of the latest validation (episode reward with ``random`` = 0 and
``guidelines`` = 1 on the validation seeds from :data:`agents.evaluate.VALIDATION_SEED`,
never the test seeds of ``eval`` / ``compare``). Optuna's TPE proposes the settings (through
Ray Tune's ``OptunaSearch``) and ASHA stops poor trials at the validation milestones.

Writes ``trials.csv`` (one row per trial), ``best_config.yaml`` (the best trial's entry,
ready for ``bgenv train --config``), ``sweep.yaml`` (the resolved sweep, read by
``--resume``) and Tune's state in ``tune/``. A trial that crashes is reported with its
error and the sweep goes on; ``--resume DIR`` continues an interrupted sweep (unfinished
trials carry on from their latest checkpoint).

:func:`run_seed_group` runs the seeds of ``bgenv train --seeds`` with the same trial
function (:mod:`agents.seed_group` summarises them).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import time
from pathlib import Path
from typing import Any

import yaml

from agents.evaluate import VALIDATION_SEED

HP = "hp."  # prefix of a hyperparameter in a trial's Tune config
ENV = "env."  # prefix of a scenario knob
METRIC = "score_vs_guidelines"
REPORTED = ("episode_reward", "completion_rate", "battery_cost", "freshness_at_open")
DISTRIBUTIONS = ("uniform", "loguniform", "randint", "choice")
SWEEP_DEFAULTS: dict[str, Any] = {
    "scenario": "ios_commuter",
    "samples": 8,
    "total_timesteps": 100_000,
    "eval_freq": None,  # a tenth of the budget
    "eval_episodes": 32,
    "cpus_per_trial": 1,
    "seed": 0,
    "n_envs": None,
    "overrides": {},
    "startup_trials": 5,
    "early_stopping": {"scheduler": "asha", "grace_period": None, "reduction_factor": 3},
    "hyperparams": {},
    "env": {},
}


class SweepError(ValueError):
    """A sweep file that cannot be used, with the key at fault."""


# ---------------------------------------------------------------------------
# the sweep file
# ---------------------------------------------------------------------------
def _find(path: str | Path) -> Path:
    """A config path as given, else relative to the source tree / installed configs."""
    p = Path(path)
    if p.is_file():
        return p.resolve()
    from bgenv.config import CONFIG_DIR

    for cand in (CONFIG_DIR.parent / p, CONFIG_DIR / p.relative_to("configs") if p.parts[:1] == ("configs",) else None):
        if cand is not None and cand.is_file():
            return cand.resolve()
    raise SweepError(f"file not found: {path}")


def _check_dist(key: str, d: Any) -> None:
    if not (isinstance(d, dict) and len(d) == 1 and next(iter(d)) in DISTRIBUTIONS):
        raise SweepError(f"{key}: expected one of {{{', '.join(f'{n}: [...]' for n in DISTRIBUTIONS)}}}; got {d!r}")
    kind, args = next(iter(d.items()))
    if not isinstance(args, list) or not args:
        raise SweepError(f"{key}.{kind}: expected a list; got {args!r}")
    if kind != "choice":
        if len(args) != 2 or not all(isinstance(a, (int, float)) for a in args) or args[0] >= args[1]:
            raise SweepError(f"{key}.{kind}: expected [low, high] with low < high; got {args!r}")
        if kind == "loguniform" and args[0] <= 0:
            raise SweepError(f"{key}.loguniform: low must be > 0; got {args[0]}")


def _example(d: dict[str, list]) -> Any:
    return next(iter(d.values()))[0]


def nest(dotted: dict[str, Any]) -> dict[str, Any]:
    """``{"reward.kill": 2}`` -> ``{"reward": {"kill": 2}}`` (scenario overrides)."""
    out: dict[str, Any] = {}
    for key, v in dotted.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = v
    return out


def load_sweep(path: str | Path, **changes: Any) -> dict[str, Any]:
    """Read and check a sweep file; ``changes`` (not None) override its keys. Returns the
    resolved sweep: every default filled in, the training entry for the scenario's env id
    (``base_entry``), ``algo`` and ``env_id``."""
    from agents.hyperparams import load_train_config
    from bgenv.registration import env_id_for

    p = _find(path)
    doc = yaml.safe_load(p.read_text()) or {}
    if not isinstance(doc, dict):
        raise SweepError(f"{p}: expected a mapping")
    unknown = sorted(set(doc) - set(SWEEP_DEFAULTS) - {"train_config", "name"})
    if unknown:
        raise SweepError(f"{p}: unknown key(s) {', '.join(unknown)}")
    if "train_config" not in doc:
        raise SweepError(f"{p}: missing train_config (a configs/train/*.yaml file)")
    spec = {**SWEEP_DEFAULTS, **doc, **{k: v for k, v in changes.items() if v is not None}}
    spec["name"] = str(doc.get("name", p.stem))
    spec["source"] = str(p)
    es = {**SWEEP_DEFAULTS["early_stopping"], **(doc.get("early_stopping") or {})}
    if es["scheduler"] not in ("asha", "none", None):
        raise SweepError(f"{p}: early_stopping.scheduler must be asha or none; got {es['scheduler']!r}")
    spec["early_stopping"] = es
    for k, d in spec["hyperparams"].items():
        _check_dist(f"hyperparams.{k}", d)
    for k, d in spec["env"].items():
        _check_dist(f"env.{k}", d)
    spec["total_timesteps"] = int(float(spec["total_timesteps"]))
    spec["samples"] = int(spec["samples"])
    tenth = max(spec["total_timesteps"] // 10, 1)
    spec["eval_freq"] = int(float(spec["eval_freq"] or tenth))
    if spec["eval_freq"] > spec["total_timesteps"] // 2:  # e.g. --total-timesteps below the file's eval_freq
        spec["eval_freq"] = tenth
    spec["cpus_per_trial"] = float(spec["cpus_per_trial"])
    # the training entry, and a check that every searched key is one the algorithm takes
    train_cfg = _find(spec["train_config"])
    env_id = env_id_for(spec["scenario"])
    tdoc = yaml.safe_load(train_cfg.read_text()) or {}
    algo = str(tdoc.get("algo", train_cfg.stem)).lower().replace("-", "_")
    base = tdoc.get(env_id, tdoc.get("default"))
    if base is None:
        raise SweepError(f"{train_cfg}: no entry for {env_id}")
    spec.update(train_config=str(train_cfg), env_id=env_id, algo=algo, base_entry=dict(base))
    trial = {**base, **{k: _example(d) for k, d in spec["hyperparams"].items()}}
    tmp = Path(_scratch()) / f"check_{spec['name']}.yaml"
    tmp.write_text(yaml.safe_dump({"algo": algo, env_id: trial}))
    try:
        load_train_config(tmp, env_id)
    except ValueError as e:
        raise SweepError(f"{p}: hyperparams: {e}") from e
    if spec["env"] or spec["overrides"]:
        import bgenv

        knobs = nest({k: _example(d) for k, d in spec["env"].items()})
        try:
            bgenv.load_scenario(spec["scenario"], **_merge(spec["overrides"], knobs))
        except ValueError as e:
            raise SweepError(f"{p}: env / overrides: {e}") from e
    return spec


def _scratch() -> str:
    import tempfile

    return tempfile.gettempdir()


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def search_space(spec: dict[str, Any]) -> dict[str, Any]:
    """The Tune search space: ``hp.<key>`` and ``env.<knob>`` distributions."""
    from ray import tune

    def dist(d: dict[str, list]) -> Any:
        kind, a = next(iter(d.items()))
        if kind == "uniform":
            return tune.uniform(float(a[0]), float(a[1]))
        if kind == "loguniform":
            return tune.loguniform(float(a[0]), float(a[1]))
        if kind == "randint":
            return tune.randint(int(a[0]), int(a[1]) + 1)
        return tune.choice(list(a))

    space = {HP + k: dist(d) for k, d in spec["hyperparams"].items()}
    space.update({ENV + k: dist(d) for k, d in spec["env"].items()})
    return space


# ---------------------------------------------------------------------------
# one trial: a bgenv train run reporting each validation to Tune
# ---------------------------------------------------------------------------
def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def trial_entry(spec: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """The ``configs/train`` entry of a trial: the base entry with its sampled values."""
    entry = {**spec["base_entry"], **{k[len(HP) :]: _plain(v) for k, v in config.items() if k.startswith(HP)}}
    if spec.get("n_envs"):
        entry["n_envs"] = int(spec["n_envs"])
    return entry


def trial_knobs(config: dict[str, Any]) -> dict[str, Any]:
    return nest({k[len(ENV) :]: _plain(v) for k, v in config.items() if k.startswith(ENV)})


def _latest_checkpoint(run_dir: Path) -> Path | None:
    ckpts = list((run_dir / "checkpoints").glob("model_*_steps.zip"))
    if not ckpts:
        return None
    return max(ckpts, key=lambda p: int(p.stem.split("_")[1]))


def run_trial(config: dict[str, Any], spec: dict[str, Any]) -> None:
    """Ray Tune function trainable: one ``bgenv train`` run in the trial's run directory,
    reporting ``timesteps``, ``score_vs_guidelines``, ``best_score`` and the main metrics
    after every held-out validation. A trial restarted by ``--resume`` continues from its
    latest checkpoint."""
    from ray import tune

    from agents.raycluster import limit_threads
    from agents.train import train

    cpus = max(1, math.ceil(spec["cpus_per_trial"]))
    limit_threads(cpus)
    seed = int(config.get("seed", spec["seed"]))
    name = f"{spec['algo']}_{seed}" if spec.get("name_by_seed") else tune.get_context().get_trial_name()
    run_dir = Path(spec["trials_dir"]) / name
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg_path = run_dir / "trial_config.yaml"
    cfg_path.write_text(
        yaml.safe_dump({"algo": spec["algo"], spec["env_id"]: trial_entry(spec, config)}, sort_keys=False)
    )
    best = -math.inf
    last: list[dict[str, Any]] = []  # the validation at the last step, reported once train() has saved

    def report(steps: int, metrics: dict[str, float]) -> None:
        nonlocal best
        score = float(metrics.get(METRIC, math.nan))
        if math.isfinite(score):
            best = max(best, score)
        out = {"timesteps": int(steps), METRIC: score, "best_score": best}
        out.update({k: float(metrics[k]) for k in REPORTED if k in metrics})
        if steps >= spec["total_timesteps"]:
            # Tune may end the trial as soon as its last result arrives (the scheduler's
            # final rung): report it after train() has written model.zip and its statistics
            last.append(out)
            return
        tune.report(out)

    resume = None
    if not (run_dir / "model.zip").exists():
        resume = _latest_checkpoint(run_dir)
    train(
        cfg_path,
        scenario=spec["scenario"],
        total_timesteps=spec["total_timesteps"],
        seed=seed,
        logdir=run_dir,
        resume=resume,
        n_envs=spec.get("n_envs"),
        eval_freq=spec["eval_freq"],
        eval_episodes=spec["eval_episodes"],
        eval_seed=VALIDATION_SEED,
        progress_bar=False,
        overwrite=True,
        torch_threads=cpus,
        verbose=0,
        on_eval=report,
        **_merge(spec.get("overrides") or {}, trial_knobs(config)),
    )
    if last:
        tune.report(last[-1])


# ---------------------------------------------------------------------------
# progress lines (driver side)
# ---------------------------------------------------------------------------
def _progress_callback(total: int):
    from ray import tune

    class ProgressLines(tune.Callback):
        """One line per validation of a running trial, and one per trial that ends."""

        def __init__(self) -> None:
            self.best = -math.inf
            self.t0 = time.perf_counter()

        def _stamp(self) -> str:
            return time.strftime("%H:%M:%S")

        def on_trial_result(self, iteration, trials, trial, result, **info):
            s = result.get(METRIC, math.nan)
            if s is not None and math.isfinite(s):
                self.best = max(self.best, s)
            running = sum(t.status == "RUNNING" for t in trials)
            print(
                f"{self._stamp()} {trial.trial_id:>14s}  step {result.get('timesteps', 0):>9,d}/{total:,d}  "
                f"score {_f(s)}  trial best {_f(result.get('best_score'))}  sweep best {_f(self.best)}  "
                f"({running} running, {len(trials)} started)",
                flush=True,
            )

        def on_trial_complete(self, iteration, trials, trial, **info):
            steps = (trial.last_result or {}).get("timesteps", 0)
            how = "finished" if steps >= total else f"stopped early at step {steps:,d} (ASHA)"
            print(f"{self._stamp()} {trial.trial_id:>14s}  {how}", flush=True)

        def on_trial_error(self, iteration, trials, trial, **info):
            print(f"{self._stamp()} {trial.trial_id:>14s}  CRASHED: {_first_line(_trial_error(trial))}", flush=True)

    return ProgressLines()


def _f(x: Any) -> str:
    return "   n/a" if x is None or not isinstance(x, (int, float)) or not math.isfinite(x) else f"{x:6.3f}"


def _first_line(text: str) -> str:
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def _trial_error(trial: Any) -> str:
    for attr in ("error_msg", "error_file"):
        v = getattr(trial, attr, None)
        if v and attr == "error_file" and Path(v).is_file():
            return Path(v).read_text()
        if v and attr == "error_msg":
            return str(v)
    return "error"


# ---------------------------------------------------------------------------
# running Tune
# ---------------------------------------------------------------------------
def _tuner(spec: dict[str, Any], out_dir: Path, param_space: dict[str, Any], samples: int, search: bool, resume: bool):
    from ray import tune
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

    # Tune's own result files (read by --resume) but not its TensorBoard copy: each trial's
    # run directory has the TensorBoard logs, and Tune would print a second, confusing command
    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
    trainable = tune.with_resources(tune.with_parameters(run_trial, spec=spec), {"cpu": spec["cpus_per_trial"]})
    if resume:
        return tune.Tuner.restore(
            str(out_dir / "tune"), trainable, resume_unfinished=True, resume_errored=False, restart_errored=False
        )
    search_alg = scheduler = None
    if search:
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        sampler = optuna.samplers.TPESampler(
            n_startup_trials=int(spec["startup_trials"]), seed=int(spec["seed"]), multivariate=True
        )
        search_alg = OptunaSearch(sampler=sampler, metric=METRIC, mode="max", seed=int(spec["seed"]))
        es = spec["early_stopping"]
        if es["scheduler"] == "asha":
            from ray.tune.schedulers import ASHAScheduler

            scheduler = ASHAScheduler(
                time_attr="timesteps",
                max_t=spec["total_timesteps"],
                grace_period=min(int(es["grace_period"] or 2 * spec["eval_freq"]), spec["total_timesteps"]),
                reduction_factor=float(es["reduction_factor"]),
                stop_last_trials=False,  # a trial that reaches the budget finishes its run (saves model.zip)
            )
    return tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric=METRIC,
            mode="max",
            search_alg=search_alg,
            scheduler=scheduler,
            num_samples=samples,
            trial_name_creator=lambda t: f"trial_{t.trial_id}",
            trial_dirname_creator=lambda t: f"trial_{t.trial_id}",
        ),
        run_config=tune.RunConfig(
            name="tune",
            storage_path=str(out_dir),
            failure_config=tune.FailureConfig(max_failures=0, fail_fast=False),
            callbacks=[_progress_callback(spec["total_timesteps"]), CSVLoggerCallback(), JsonLoggerCallback()],
            verbose=0,
        ),
    )


def _prepare_dir(out_dir: Path, resume: bool, what: str) -> None:
    if resume:
        if not (out_dir / "tune").is_dir():
            raise FileNotFoundError(f"--resume: no {what} state in {out_dir / 'tune'}")
    elif (out_dir / "tune").exists():
        raise FileExistsError(f"{out_dir} already holds a {what}; pass --resume {out_dir} or another --logdir")
    out_dir.mkdir(parents=True, exist_ok=True)


def run_sweep(
    spec: dict[str, Any],
    out_dir: Path,
    address: str | None = None,
    resume: bool = False,
    num_cpus: int | None = None,
) -> dict[str, Any]:
    """Run (or continue) a sweep into ``out_dir``; returns ``{"rows", "best", "csv",
    "best_config", "seconds"}``."""
    from agents.raycluster import init_ray

    out_dir = out_dir.resolve()
    _prepare_dir(out_dir, resume, "sweep")
    spec = {**spec, "trials_dir": str(out_dir / "trials")}
    if not resume:
        (out_dir / "sweep.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    t0 = time.perf_counter()
    init_ray(address, num_cpus)
    print(f"sweep {spec['name']}: {spec['samples']} trials x {spec['total_timesteps']:,d} steps of {spec['algo']} on ")
    print(f"  {spec['scenario']} ({spec['env_id']}), {spec['cpus_per_trial']:g} CPU each; objective: {METRIC} on")
    print(f"  validation seeds from {VALIDATION_SEED} every {spec['eval_freq']:,d} steps (Optuna TPE, ASHA)")
    print(f"results: {out_dir}")
    print(f"TensorBoard: tensorboard --logdir {out_dir / 'trials'}", flush=True)
    tuner = _tuner(spec, out_dir, search_space(spec), spec["samples"], search=True, resume=resume)
    grid = tuner.fit()
    rows = trial_rows(grid, spec)
    csv_path = write_rows(rows, out_dir / "trials.csv")
    best = best_row(rows)
    best_cfg = None
    if best is not None:
        best_cfg = write_best_config(spec, best, out_dir / "best_config.yaml")
    return {"rows": rows, "best": best, "csv": csv_path, "best_config": best_cfg, "seconds": time.perf_counter() - t0}


def trial_rows(grid: Any, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per trial: name, status, steps, last and best validation score, main
    metrics, sampled values, error (first line) and run directory."""
    statuses = saved_statuses(grid)
    rows = []
    for r in grid:
        m = r.metrics or {}
        cfg = r.config or {}
        name = Path(r.path).name if r.path else "?"
        run_dir = Path(spec["trials_dir"]) / (f"{spec['algo']}_{cfg.get('seed')}" if spec.get("name_by_seed") else name)
        steps = int(m.get("timesteps", 0) or 0)
        tune_status = statuses.get(name.removeprefix("trial_"), "TERMINATED")
        if r.error is not None:
            status = "ERROR"
        elif tune_status != "TERMINATED":
            status = "unfinished"
        elif steps >= spec["total_timesteps"]:
            status = "done"
        elif steps > 0:
            status = "stopped early"
        else:
            status = "no result"
        row: dict[str, Any] = {"trial": name, "status": status, "steps": steps}
        row[METRIC] = m.get(METRIC)
        row["best_score"] = m.get("best_score")
        for k in REPORTED:
            row[k] = m.get(k)
        for k, v in sorted(cfg.items()):
            if k.startswith((HP, ENV)) or k == "seed":
                row[k] = _plain(v)
        row["error"] = _first_line(str(r.error)) if r.error is not None else ""
        row["run_dir"] = str(run_dir)
        rows.append(row)
    rows.sort(key=lambda r: (r.get("seed", 0), r["trial"]))
    return rows


def saved_statuses(grid: Any) -> dict[str, str]:
    """Tune's status of each trial as saved in the experiment state (an interrupted sweep
    saves the trials it stopped as PENDING, to run them on ``--resume``)."""
    import logging

    from ray.tune import ExperimentAnalysis

    path = grid.experiment_path
    log = logging.getLogger("ray.tune")
    level = log.level
    log.setLevel(logging.ERROR)  # it warns about trials that never reported
    try:
        return {t.trial_id: t.status for t in ExperimentAnalysis(str(path)).trials}
    except Exception:  # pragma: no cover - another Ray version's layout
        return {}
    finally:
        log.setLevel(level)


def best_row(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The trial with the highest latest validation score among those that trained their
    whole budget (among the early-stopped ones only when none did)."""
    ok = [r for r in rows if r["status"] != "ERROR" and isinstance(r[METRIC], float) and math.isfinite(r[METRIC])]
    done = [r for r in ok if r["status"] == "done"]
    return max(done or ok, key=lambda r: r[METRIC]) if ok else None


def write_rows(rows: list[dict[str, Any]], path: Path) -> Path:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in keys})
    return path


def write_best_config(spec: dict[str, Any], best: dict[str, Any], path: Path) -> Path:
    """The best trial's settings as a ``configs/train`` file (with its env knobs and the
    command that trains it in a comment)."""
    cfg = {k: v for k, v in best.items() if k.startswith((HP, ENV))}
    entry = trial_entry(spec, cfg)
    entry["n_timesteps"] = entry.get("n_timesteps", spec["total_timesteps"])
    knobs = {k[len(ENV) :]: v for k, v in cfg.items() if k.startswith(ENV)}
    sets = " ".join(f"{k}={v}" for k, v in {**_flat(spec.get("overrides") or {}), **knobs}.items())
    head = [
        f"# Best trial of sweep {spec['name']} ({spec['source']}): {best['trial']},",
        f"# {METRIC} {best[METRIC]:.4f} on the validation seeds after {best['steps']:,d} steps.",
        "# Ready for bgenv train (copy it to configs/train/ to keep it):",
        f"#   bgenv train --config {path} --scenario {spec['scenario']}" + (f" --set {sets}" if sets else ""),
    ]
    body = yaml.safe_dump({"algo": spec["algo"], spec["env_id"]: entry}, sort_keys=False)
    path.write_text("\n".join(head) + "\n" + body)
    return path


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def rows_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """Plain-text table of trial rows (best score first)."""
    if not rows:
        return "(no trials)"
    cols = columns or [
        "trial",
        "status",
        "steps",
        METRIC,
        "best_score",
        *[k for k in rows[0] if k.startswith((HP, ENV))],
    ]

    def cell(v: Any) -> str:
        if v is None or v == "":
            return "-"
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    order = sorted(
        rows, key=lambda r: -(r[METRIC] if isinstance(r[METRIC], float) and math.isfinite(r[METRIC]) else -1e18)
    )
    body = [[cell(r.get(c)) for c in cols] for r in order]
    head = [c.replace(HP, "").replace(ENV, "env.") for c in cols]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(cols))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths)).rstrip() for b in body]
    errors = [f"  {r['trial']}: {r['error']}" for r in order if r.get("error")]
    if errors:
        lines += ["crashed trials:", *errors]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# bgenv sweep
# ---------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, help="sweep file (configs/sweeps/*.yaml); not needed with --resume")
    p.add_argument("--samples", type=int, default=None, help="trials (default: the file's samples)")
    p.add_argument("--total-timesteps", type=int, default=None, help="env steps per trial (default: the file's)")
    p.add_argument(
        "--address",
        default=None,
        help="Ray cluster: 'auto' or HOST:PORT of a `ray start --head`; default: an embedded local Ray",
    )
    p.add_argument("--resume", default=None, metavar="DIR", help="continue the interrupted sweep in DIR")
    p.add_argument("--logdir", default=None, help="sweep directory (default runs/sweeps/<name>)")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of the embedded local Ray (default: all cores)")


def cmd_sweep(args: argparse.Namespace) -> int:
    if args.resume:
        out_dir = Path(args.resume)
        saved = out_dir / "sweep.yaml"
        if not saved.is_file():
            raise FileNotFoundError(f"--resume: no sweep.yaml in {out_dir}")
        spec = yaml.safe_load(saved.read_text())
    else:
        if not args.config:
            raise ValueError("bgenv sweep needs --config configs/sweeps/<name>.yaml (or --resume DIR)")
        spec = load_sweep(args.config, samples=args.samples, total_timesteps=args.total_timesteps)
        out_dir = Path(args.logdir) if args.logdir else Path("runs") / "sweeps" / spec["name"]
    res = run_sweep(spec, out_dir, address=args.address, resume=bool(args.resume), num_cpus=args.num_cpus)
    print(f"\nsweep {spec['name']}: {len(res['rows'])} trials in {res['seconds']:.0f} s ({METRIC} on validation seeds)")
    print(rows_table(res["rows"]))
    print(f"\nwrote {res['csv']}")
    if res["best"] is not None:
        b = res["best"]
        print(f"best: {b['trial']} ({METRIC} {b[METRIC]:.4f}) -> {res['best_config']}")
    else:
        print("no trial reported a validation score")
    print(f"TensorBoard (HParams tab): tensorboard --logdir {Path(out_dir).resolve() / 'trials'}")
    unfinished = [r for r in res["rows"] if r["status"] == "unfinished"]
    if unfinished:
        print(f"{len(unfinished)} trial(s) unfinished: continue with  bgenv sweep --resume {out_dir}")
        return 1
    return 0 if res["best"] is not None else 1


# ---------------------------------------------------------------------------
# the seeds of bgenv train --seeds
# ---------------------------------------------------------------------------
def run_seed_group(
    spec: dict[str, Any],
    seeds: list[int],
    out_dir: Path,
    address: str | None = None,
    resume: bool = False,
    num_cpus: int | None = None,
) -> list[dict[str, Any]]:
    """Train ``seeds`` in parallel (one ``bgenv train`` run each, ``<out_dir>/<algo>_<seed>``)
    with the settings of ``spec`` (no search); returns the per-seed rows."""
    from ray import tune

    from agents.raycluster import init_ray

    out_dir = out_dir.resolve()
    _prepare_dir(out_dir, resume, "seed group")
    saved = out_dir / "group_spec.yaml"
    if resume and saved.is_file():  # the settings the group started with
        spec = yaml.safe_load(saved.read_text())
    spec = {**spec, "trials_dir": str(out_dir), "name_by_seed": True}
    saved.write_text(yaml.safe_dump(spec, sort_keys=False))
    init_ray(address, num_cpus)
    print(f"{len(seeds)} seeds of {spec['algo']} on {spec['scenario']}, {spec['total_timesteps']:,d} steps each")
    print(f"results: {out_dir}")
    print(f"TensorBoard: tensorboard --logdir {out_dir}", flush=True)
    tuner = _tuner(spec, out_dir, {"seed": tune.grid_search(list(seeds))}, 1, search=False, resume=resume)
    grid = tuner.fit()
    return trial_rows(grid, spec)
