"""The ``bgenv train``, ``eval``, ``compare`` and ``demo`` commands (wired in ``agents/cli.py``)."""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from agents.evaluate import (
    REFERENCE_POLICIES,
    TEST_SEED,
    VALIDATION_SEED,
    check_eval_seed,
    compare,
    evaluate,
    normalized_score,
    policy_label,
)

DEMO_TIMESTEPS = 300_000
STOCHASTIC_HELP = (
    "trained models sample their actions (seeded) instead of taking their head's mode (the most likely choice of "
    "each action part, or with the conditional head the most likely distinct action); "
    "a policy whose probability mass is spread over similar request types can act quite differently"
)


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else x


def _ci_json(summary: dict[str, tuple[float, float]]) -> dict[str, dict[str, float | None]]:
    """``{metric: (mean, ci95)}`` as JSON-ready ``{metric: {"mean", "ci95"}}`` (NaN -> null)."""
    return {k: {"mean": _num(m), "ci95": _num(h)} for k, (m, h) in summary.items()}


def _parse_overrides(items: list[str] | None) -> dict[str, Any]:
    """``key=value`` pairs (YAML values) into scenario overrides."""
    import yaml

    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--set expects key=value; got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = yaml.safe_load(v)
    return out


# ---------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------
def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="configs/train/ppo.yaml", help="zoo-style hyperparameter YAML (configs/train/)")
    p.add_argument("--scenario", default=None, help="scenario name or YAML path (default ios_commuter)")
    p.add_argument(
        "--fleet",
        default=None,
        help="train on a fleet of one platform instead (configs/fleets name or YAML path; domain randomisation: "
        "each device draws its cohort and parameter ranges at every reset); validation on the fleet too",
    )
    p.add_argument("--total-timesteps", type=int, default=None, help="env steps in all (default: the config's)")
    p.add_argument("--seed", type=int, default=0, help="run seed; training devices use seeds seed*n_envs+i < 10000")
    p.add_argument("--logdir", default=None, help="run directory (default runs/<scenario>/<algo>_<seed>)")
    p.add_argument(
        "--resume",
        default=None,
        help="continue from a model .zip, checkpoint or run directory (with --seeds: the group directory)",
    )
    p.add_argument("--n-envs", type=int, default=None, help="override the config's n_envs")
    p.add_argument("--eval-freq", type=int, default=None, help="env steps between held-out evaluations")
    p.add_argument("--eval-episodes", type=int, default=32, help="episodes per held-out evaluation (default 32)")
    p.add_argument("--checkpoint-freq", type=int, default=None, help="env steps between checkpoints")
    p.add_argument("--overwrite", action="store_true", help="replace a finished run in --logdir")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--torch-threads", type=int, default=1, help="torch threads (default 1: fastest for small MLPs)")
    p.add_argument("--set", nargs="*", metavar="KEY=VALUE", help="scenario overrides, e.g. horizon_days=2")
    p.add_argument(
        "--init-from",
        default=None,
        metavar="POLICY",
        help="warm start: behaviour-clone this hand-written policy (e.g. guidelines, cross_guidelines or "
        "path/to/file.py:ClassName) or planning policy (planner, oracle, with knobs as in compare) on the training "
        "devices before RL (ppo, a2c, maskable_ppo; 'none' turns off the config's init_from; not with --resume); "
        "the clone is saved as checkpoints/model_0_steps.zip",
    )
    p.add_argument(
        "--init-steps",
        type=int,
        default=None,
        help="decision steps of demonstrations for --init-from (default: the config's init_from_steps, else 50000)",
    )
    g = p.add_argument_group("multi-seed runs on Ray (the 'sweep' extra)")
    g.add_argument(
        "--seeds",
        default=None,
        help="train these seeds in parallel (e.g. 0-7 or 0,3,5) and report their IQM with a bootstrap CI",
    )
    g.add_argument("--address", default=None, help="Ray cluster ('auto' or HOST:PORT); default: embedded local Ray")
    g.add_argument("--cpus-per-seed", type=float, default=1, help="CPUs each seed's run declares (default 1)")
    g.add_argument("--num-cpus", type=int, default=None, help="CPUs of the embedded local Ray (default: all cores)")


def cmd_train_seeds(args: argparse.Namespace) -> int:
    """``bgenv train --seeds``: the seeds in parallel on Ray, then the across-seed summary."""
    from agents.raycluster import parse_seeds
    from agents.seed_group import default_group_dir, group_report, group_spec, summarize_group
    from agents.sweep import run_seed_group

    seeds = parse_seeds(args.seeds)
    spec = group_spec(
        args.config,
        args.scenario,
        args.total_timesteps,
        args.n_envs,
        args.eval_freq,
        args.eval_episodes,
        _parse_overrides(args.set),
        args.cpus_per_seed,
        init_from=args.init_from,
        init_steps=args.init_steps,
    )
    if args.resume:  # the group directory of an interrupted --seeds run
        out = Path(args.resume)
    else:
        out = Path(args.logdir) if args.logdir else default_group_dir(args.scenario, spec["algo"], args.seeds)
    rows = run_seed_group(spec, seeds, out, address=args.address, resume=bool(args.resume), num_cpus=args.num_cpus)
    summary = summarize_group(out, spec, rows)
    print(f"\n{len(seeds)} seeds of {spec['algo']} on {spec['scenario']} (held-out validation seeds):")
    print(group_report(rows, summary))
    print(f"wrote {out.resolve() / 'seeds.csv'} and {out.resolve() / 'summary.json'}")
    print(f"compare it on the test seeds: bgenv compare --scenario {spec['scenario']} --policies guidelines,{out}")
    print(f"TensorBoard: tensorboard --logdir {out.resolve()}")
    return 0 if not summary["failed_seeds"] else 1


def cmd_train(args: argparse.Namespace) -> int:
    from agents.train import train

    if getattr(args, "fleet", None):
        if args.scenario:
            raise SystemExit("give --scenario or --fleet, not both")
        args.scenario = f"fleet:{args.fleet}"
    if getattr(args, "seeds", None):
        return cmd_train_seeds(args)

    res = train(
        args.config,
        scenario=args.scenario,
        total_timesteps=args.total_timesteps,
        seed=args.seed,
        logdir=args.logdir,
        resume=args.resume,
        n_envs=args.n_envs,
        eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes,
        checkpoint_freq=args.checkpoint_freq,
        progress_bar=not args.no_progress,
        overwrite=args.overwrite,
        torch_threads=args.torch_threads,
        init_from=args.init_from,
        init_steps=args.init_steps,
        **_parse_overrides(args.set),
    )
    _print_train_result(res)
    return 0


def _print_train_result(res) -> None:
    print(f"\ntrained {res.timesteps} steps in {res.seconds:.0f} s -> {res.model_path}")
    if res.final_eval:
        g = res.references.get("guidelines", {})
        keys = ("episode_reward", "completion_rate", "battery_cost", "freshness_at_open")
        print("held-out validation (final model vs guidelines):")
        for k in keys:
            print(f"  {k:18s} {res.final_eval.get(k, math.nan):10.4g}   guidelines {g.get(k, math.nan):10.4g}")
    print(f"TensorBoard: tensorboard --logdir {res.run_dir.parent}")


# ---------------------------------------------------------------------------
# eval / compare
# ---------------------------------------------------------------------------
def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--policy",
        default="guidelines",
        help="a hand-written policy name, oracle or planner (agents.planning), your own policy class "
        "(path/to/file.py:ClassName or package.module:ClassName), or a model .zip",
    )
    p.add_argument("--scenario", default="ios_commuter", help="scenario name or YAML path")
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--seed", type=int, default=TEST_SEED, help=f"first held-out seed (>= {TEST_SEED})")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--stochastic", action="store_true", help=STOCHASTIC_HELP)
    p.add_argument("--set", nargs="*", metavar="KEY=VALUE", help="scenario overrides, e.g. horizon_days=2")
    add_fleet_arguments(p)
    p.add_argument(
        "--out", default=None, help="with --fleet: directory for fleet.csv and fleet.png (default out/fleet_<name>)"
    )
    add_world_arguments(p)


def add_world_arguments(p: argparse.ArgumentParser) -> None:
    """``--world``, ``--world-mode``, ``--world-battery`` (``bgenv.world``)."""
    p.add_argument(
        "--world",
        default=None,
        help="replay recorded traces instead of the synthetic user: trace:mcm_iphone13 (shipped), "
        "a .npz path or a folder of .npz traces (trace: prefix optional); each episode is a window "
        "of one of them chosen by its seed, and the results get a per-trace breakdown",
    )
    from bgenv.world import BATTERY_MODES, WORLD_MODES

    p.add_argument("--world-mode", default="random", choices=WORLD_MODES, help="how episodes pick their window")
    p.add_argument(
        "--world-battery",
        default="simulate",
        choices=BATTERY_MODES,
        help="simulate the battery from the recorded start level (default), set it to every recorded sample "
        "(recorded), or to every recorded sample less the app's background energy off the charger that the "
        "charger has not put back yet (anchored)",
    )


def world_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The env arguments of ``--world`` (none without it)."""
    if not getattr(args, "world", None):
        return {}
    if getattr(args, "fleet", None):
        raise SystemExit("give --world or --fleet, not both")
    return {"world": args.world, "world_mode": args.world_mode, "world_battery": args.world_battery}


def _by_trace_json(res: Any) -> dict[str, Any]:
    """A result's per-trace breakdown for ``--json`` (``{}`` without a trace world)."""
    return {name: {"episodes": n, **_ci_json(summ)} for name, n, summ in res.by_trace()}


def _print_world(cmp: Any, args: argparse.Namespace) -> None:
    """With ``--world``: the battery gap of each policy (simulated vs recorded level), the
    share of time its phone was shut down with the battery empty, and the per-trace
    breakdown."""
    from agents.report import trace_table

    if not getattr(args, "world", None):
        return

    def percent(metric: str) -> str:
        parts = []
        for r in cmp.results:
            m, h = r.summary().get(metric, (float("nan"), float("nan")))
            parts.append(f"{r.policy} {100 * m:.1f} ± {100 * h:.1f}")
        return ", ".join(parts)

    print(
        f"world {args.world} ({args.world_mode}, battery {args.world_battery}): battery gap rms, % — "
        + percent("battery_gap_rms")
        + "; shut down with the battery empty, % of the time — "
        + percent("off_share")
    )
    text = trace_table(cmp.results)
    if text:
        print("\nper trace (mean ± 95 % CI over the episodes that replayed it):")
        print(text)


def add_fleet_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--fleet",
        default=None,
        help="a fleet (configs/fleets name or YAML path) instead of --scenario: the population's metrics "
        "and a breakdown per cohort, platform, OS version, maker, archetype and battery band",
    )
    p.add_argument("--devices", type=int, default=256, help="devices (one week each) drawn from the fleet")


def cmd_fleet(args: argparse.Namespace, policies: list[str]) -> int:
    """``eval`` / ``compare`` on a fleet (``--fleet``)."""
    from agents.population import fleet_report

    check_eval_seed(args.seed)
    if args.set:
        raise SystemExit("--set does not apply to fleets: put overrides in the fleet file's cohorts")
    out = Path(getattr(args, "out", None) or Path("out") / f"fleet_{Path(str(args.fleet)).stem}")
    t0 = time.perf_counter()
    text, cmp, csv_path, png_path = fleet_report(
        policies, args.fleet, args.devices, args.seed, out, not args.stochastic
    )
    if args.json:
        from agents.population import GROUPS

        doc = {
            "fleet": cmp.fleet.name,
            "devices": args.devices,
            "seed": args.seed,
            "policies": {
                r.policy: {
                    "metrics": _ci_json(r.summary()),
                    "breakdown": {
                        by: {g: {"devices": n, **_ci_json(summ)} for g, n, summ in r.breakdown(by)} for by in GROUPS
                    },
                }
                for r in cmp.results
            },
            "csv": str(csv_path),
            "png": str(png_path),
        }
        print(json.dumps(doc, indent=2, allow_nan=False))
        return 0
    print(
        f"fleet {args.fleet}: {args.devices} devices (one week each) from seed {args.seed} "
        f"(mean ± 95 % CI over devices; {time.perf_counter() - t0:.1f} s)"
    )
    print(text)
    print(f"wrote {csv_path} and {png_path}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from agents.report import TABLE_METRICS, table

    if args.fleet:
        return cmd_fleet(args, [args.policy])
    check_eval_seed(args.seed)
    overrides = _parse_overrides(args.set) | world_overrides(args)
    t0 = time.perf_counter()
    cmp = compare([args.policy], args.scenario, args.episodes, args.seed, not args.stochastic, **overrides)
    res = cmp.results[0]
    summ = res.summary()
    score = cmp.scores()[res.policy]
    if args.json:
        doc = {
            "policy": args.policy,
            "scenario": str(args.scenario),
            "episodes": args.episodes,
            "seed": args.seed,
            "deterministic": not args.stochastic,
            "metrics": _ci_json(summ),
            "score_vs_guidelines": {"mean": _num(score[0]), "ci95": _num(score[1])},
            "world": args.world or "synthetic",
            "by_trace": _by_trace_json(res),
            "anchors": {"random_reward": cmp.anchors["random"], "guidelines_reward": cmp.anchors["guidelines"]},
        }
        print(json.dumps(doc, indent=2, allow_nan=False))
        return 0
    print(
        f"{policy_label(args.policy)} on {args.scenario}: {args.episodes} episodes from seed {args.seed} "
        f"(mean ± 95 % CI; {time.perf_counter() - t0:.1f} s)"
    )
    print(table([(res.policy, {**summ, "score_vs_guidelines": score})], [*TABLE_METRICS, "score_vs_guidelines"]))
    print("score_vs_guidelines: episode reward scaled so random = 0 and guidelines = 1 on the same seeds")
    _print_world(cmp, args)
    return 0


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="ios_commuter")
    p.add_argument(
        "--policies",
        default=",".join(REFERENCE_POLICIES),
        help="comma-separated hand-written names, oracle or planner (agents.planning), your own policy classes "
        "(path/to/file.py:ClassName or package.module:ClassName) and/or model .zip paths (default: every hand-written policy)",
    )
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--seed", type=int, default=TEST_SEED, help=f"first held-out seed (>= {TEST_SEED})")
    p.add_argument("--out", default=None, help="directory for compare.csv and compare.png (default out/<scenario>)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--stochastic", action="store_true", help=STOCHASTIC_HELP)
    p.add_argument("--set", nargs="*", metavar="KEY=VALUE", help="scenario overrides, e.g. horizon_days=2")
    add_fleet_arguments(p)
    add_world_arguments(p)


def run_compare(
    scenario: str,
    policies: list[str],
    episodes: int,
    seed: int,
    out: Path | None,
    overrides: dict[str, Any],
    deterministic: bool = True,
) -> tuple[Any, Path | None, Path | None]:
    from agents.report import write_chart, write_csv, write_trace_csv

    check_eval_seed(seed)
    cmp = compare(policies, scenario, episodes, seed, deterministic, **overrides)
    csv_path = png_path = None
    if out is not None:
        csv_path = write_csv(cmp, out / "compare.csv")
        png_path = write_chart(cmp, out / "compare.png")
        write_trace_csv(cmp, out / TRACE_CSV)
    return cmp, csv_path, png_path


TRACE_CSV = "compare_by_trace.csv"  # beside compare.csv with a trace world


def _has_traces(cmp: Any) -> bool:
    return any(r.traces for r in cmp.results)


def cmd_compare(args: argparse.Namespace) -> int:
    from agents.report import comparison_table

    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    if args.fleet:
        return cmd_fleet(args, policies)
    out = Path(args.out) if args.out else Path("out") / Path(str(args.scenario)).stem
    t0 = time.perf_counter()
    overrides = _parse_overrides(args.set) | world_overrides(args)
    cmp, csv_path, png_path = run_compare(
        args.scenario, policies, args.episodes, args.seed, out, overrides, not args.stochastic
    )
    if args.json:
        scores = cmp.scores()
        doc = {
            "scenario": str(args.scenario),
            "world": args.world or "synthetic",
            "episodes": args.episodes,
            "seed": args.seed,
            "policies": {
                r.policy: {
                    "metrics": _ci_json(r.summary()),
                    "score_vs_guidelines": {"mean": _num(scores[r.policy][0]), "ci95": _num(scores[r.policy][1])},
                    **({"by_trace": _by_trace_json(r)} if r.traces else {}),
                }
                for r in cmp.results
            },
            "csv": str(csv_path),
            "png": str(png_path),
            **({"by_trace_csv": str(csv_path.parent / TRACE_CSV)} if csv_path and _has_traces(cmp) else {}),
        }
        print(json.dumps(doc, indent=2, allow_nan=False))
        return 0
    print(
        f"{args.scenario}: {args.episodes} held-out episodes from seed {args.seed} "
        f"(mean ± 95 % CI; {time.perf_counter() - t0:.1f} s)"
    )
    print(comparison_table(cmp))
    print("score_vs_guidelines: episode reward scaled so random = 0 and guidelines = 1 on the same seeds")
    _print_world(cmp, args)
    _print_groups(cmp)
    if csv_path is not None and _has_traces(cmp):
        print(f"wrote {csv_path}, {png_path} and {csv_path.parent / TRACE_CSV}")
    else:
        print(f"wrote {csv_path} and {png_path}")
    return 0


def _print_groups(cmp) -> None:
    """For each seed group in a comparison: the IQM line and its per-seed scores."""
    from agents.seed_group import FEW_SEEDS_NOTE, ci_method

    r0, r1 = cmp.anchors["random"], cmp.anchors["guidelines"]
    for res in cmp.results:
        if not hasattr(res, "score_iqm"):
            continue
        iqm, lo, hi = res.score_iqm(r0, r1)
        per_seed = [
            (m.policy, float(sum(normalized_score(x, r0, r1) for x in m.values("episode_reward")) / len(m.metrics)))
            for m in res.members
        ]
        print(
            f"{res.policy}: score_vs_guidelines is the IQM over seeds of each seed's mean score, {iqm:.3f} "
            f"(95 % stratified-bootstrap CI [{lo:.3f}, {hi:.3f}]); the other columns are means over seeds "
            "with a t interval over the per-seed means"
        )
        print(f"  CI: {ci_method()}")
        print("  per seed: " + ", ".join(f"{name} {s:.3f}" for name, s in per_seed))
        print(f"  {FEW_SEEDS_NOTE}")


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------
def add_demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="ios_commuter")
    p.add_argument("--config", default="configs/train/ppo_warm.yaml")
    p.add_argument("--total-timesteps", type=int, default=DEMO_TIMESTEPS, help=f"default {DEMO_TIMESTEPS}")
    p.add_argument("--episodes", type=int, default=64, help="held-out episodes per policy in the comparison")
    p.add_argument(
        "--init-steps",
        type=int,
        default=None,
        help="decision steps of demonstrations for the warm start (default: the config's init_from_steps)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--logdir", default=None, help="default runs/<scenario>/demo_ppo_<seed>")
    p.add_argument("--no-progress", action="store_true")


def demo_verdict(cmp: Any, learner: Any) -> str:
    """One honest sentence on the learner against guidelines (paired, same seeds)."""
    r, rh, rel = cmp.paired(learner, "episode_reward")
    b, bh, brel = cmp.paired(learner, "battery_cost")
    c, ch, _ = cmp.paired(learner, "completion_rate")
    if r - rh > 0:
        verdict = "beats guidelines"
    elif r + rh < 0:
        verdict = "stays below guidelines"
    else:
        verdict = "cannot be told apart from guidelines"
    return (
        f"The trained agent {verdict} on these weeks: reward {r:+.1f} ± {rh:.1f} a week ({rel:+.1%}), "
        f"battery cost {b:+.4f} ± {bh:.4f} ({brel:+.0%}), completion {c:+.3f} ± {ch:.3f} (paired by week, 95 % CI). "
        "docs/results.md has the full recipe, its seeds and the upper bounds (planner, oracle)."
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from agents.report import comparison_table
    from agents.train import train

    scen = Path(str(args.scenario)).stem
    logdir = Path(args.logdir) if args.logdir else Path("runs") / scen / f"demo_ppo_{args.seed}"
    print(f"bgenv demo: PPO on {args.scenario} for {args.total_timesteps} steps ({args.config}), then a comparison")
    print("with every hand-written policy on held-out seeds.\n")
    res = train(
        args.config,
        scenario=args.scenario,
        total_timesteps=args.total_timesteps,
        seed=args.seed,
        logdir=logdir,
        overwrite=True,
        progress_bar=not args.no_progress,
        eval_episodes=32,
        eval_seed=VALIDATION_SEED,
        init_steps=args.init_steps,
    )
    _print_train_result(res)
    out = Path("out") / scen
    policies = [*REFERENCE_POLICIES, str(res.model_path)]
    cmp, csv_path, png_path = run_compare(args.scenario, policies, args.episodes, TEST_SEED, out, {})
    print(f"\n{args.scenario}: {args.episodes} held-out episodes from seed {TEST_SEED} (mean ± 95 % CI)")
    print(comparison_table(cmp))
    print("score_vs_guidelines: episode reward scaled so random = 0 and guidelines = 1 on the same seeds")
    print("\n" + demo_verdict(cmp, cmp.results[-1]))
    print(f"\nwrote {csv_path} and {png_path}")
    print(f"TensorBoard: tensorboard --logdir {res.run_dir.parent}")
    print("Next: `bgenv train --help`, `bgenv compare --help`, `bgenv scenarios`.")
    return 0


__all__ = [
    "add_compare_arguments",
    "add_demo_arguments",
    "add_eval_arguments",
    "add_train_arguments",
    "cmd_compare",
    "cmd_demo",
    "cmd_eval",
    "cmd_train",
    "evaluate",
]
