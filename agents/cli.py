"""The ``bgenv`` command line: every subcommand, wired to the tooling in ``agents`` and the library in ``bgenv``."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence

# Packages of the optional extras, for a clear error when one is missing.
_EXTRAS = {
    "stable_baselines3": "rl",
    "sb3_contrib": "rl",
    "torch": "rl",
    "tensorboard": "rl",
    "tqdm": "rl",
    "rich": "rl",
    "pandas": "rl",
    "matplotlib": "plot",
    "PIL": "plot",
    "ray": "sweep",
    "optuna": "sweep",
    "rliable": "sweep",
}


def _num(x: float) -> float | None:
    """A float for JSON: None where there is no value (e.g. freshness with no app opens)."""
    return None if math.isnan(x) else x


def cmd_run(args: argparse.Namespace) -> int:
    from agents.evaluate import run_episodes
    from agents.report import TABLE_METRICS, table

    policies = args.policy.split(",")
    rows = []
    out = {}
    for p in policies:
        res = run_episodes(p, args.scenario, args.episodes, args.seed)
        summ = res.summary()
        rows.append((res.policy, summ))
        out[res.policy] = {k: {"mean": _num(m), "ci95": _num(h)} for k, (m, h) in summ.items()}
    if args.json:
        doc = {"scenario": args.scenario, "episodes": args.episodes, "seed": args.seed, "policies": out}
        print(json.dumps(doc, indent=2, allow_nan=False))
    else:
        print(f"scenario {args.scenario}: {args.episodes} episodes from seed {args.seed} (mean ± 95 % CI)")
        print(table(rows, TABLE_METRICS))
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    from bgenv.config import available, load_scenario

    for name in available("scenarios"):
        sc = load_scenario(name)
        print(f"{name:20s} {sc.platform:8s} {sc.user.archetype:10s} {sc.horizon_days:g} d  {sc.description}")
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    import gymnasium as gym

    from agents.evaluate import env_id_of, load_policy
    from bgenv.rollout import rollout

    env = gym.make(env_id_of(args.policy, args.scenario), scenario=args.scenario, horizon_days=args.days)
    policy = load_policy(args.policy, env, seed=args.seed)
    info = rollout(env, policy, args.seed).info
    env.unwrapped.export_events(args.out)
    print(f"wrote {len(env.unwrapped.events)} events to {args.out}")
    print(json.dumps({k: _num(v) for k, v in info["metrics"].items()}, indent=2, allow_nan=False))
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from agents.commands import world_overrides
    from agents.timeline import timeline_command

    return timeline_command(
        args.policy, args.scenario, args.days, args.seed, args.out, ansi=args.ansi, **world_overrides(args)
    )


def cmd_bench(args: argparse.Namespace) -> int:
    from agents import bench

    return bench.main(args=args)


FIDELITY_DOC = "docs/fidelity.md"  # where ``bgenv fidelity`` writes the table, from the source tree's root


def cmd_fidelity(args: argparse.Namespace) -> int:
    from bgenv.fidelity import report

    rows = args.rows.split(",") if args.rows else None
    out = args.out if args.out is not None else (None if rows else FIDELITY_DOC)
    return report.run(out, rows)


CALIBRATION_DOC = "docs/calibration.md"  # where ``bgenv calibration`` writes the table, from the source tree's root


def cmd_calibration(args: argparse.Namespace) -> int:
    from bgenv.calibration import report

    out = None if args.out == "-" else (args.out or CALIBRATION_DOC)
    return report.run(out, args.config) if args.config else report.run(out)


def cmd_audit(args: argparse.Namespace) -> int:
    from agents.audit import audit, report

    print(
        f"reward audit: {args.episodes} held-out runs of {args.days:g} days from seed {args.seed}, "
        "paired against the reference (mean ± 95 % CI)"
    )
    print(report(audit(args.episodes, args.seed, args.days)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="bgenv", description="bgenv: RL environment of iOS and Android background scheduling"
    )
    sub = ap.add_subparsers(dest="cmd", required=True)

    from agents import commands

    d = sub.add_parser("demo", help="train PPO for a few minutes and compare it with every hand-written policy")
    commands.add_demo_arguments(d)
    d.set_defaults(func=commands.cmd_demo)

    t = sub.add_parser("train", help="train an SB3 agent (PPO, A2C, DQN, MaskablePPO) from a configs/train YAML")
    commands.add_train_arguments(t)
    t.set_defaults(func=commands.cmd_train)

    from agents import sweep

    sw = sub.add_parser(
        "sweep", help="hyperparameter search over bgenv train runs on Ray Tune (Optuna TPE, ASHA; local or a cluster)"
    )
    sweep.add_arguments(sw)
    sw.set_defaults(func=sweep.cmd_sweep)

    ev = sub.add_parser("eval", help="evaluate one policy or trained model on held-out seeds")
    commands.add_eval_arguments(ev)
    ev.set_defaults(func=commands.cmd_eval)

    c = sub.add_parser("compare", help="compare policies and models on the same held-out seeds (table, CSV, PNG)")
    commands.add_compare_arguments(c)
    c.set_defaults(func=commands.cmd_compare)

    r = sub.add_parser("run", help="run full episodes of hand-written policies and print their metrics")
    r.add_argument(
        "--policy",
        default="guidelines",
        help="comma-separated: random, fixed-interval, charging-only, greedy, guidelines, "
        "or your own policy class (path/to/file.py:ClassName or package.module:ClassName)",
    )
    r.add_argument("--scenario", default="ios_commuter")
    r.add_argument("--episodes", type=int, default=10)
    r.add_argument("--seed", type=int, default=10_000)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("scenarios", help="list the scenarios in configs/scenarios")
    s.set_defaults(func=cmd_scenarios)

    e = sub.add_parser("events", help="run one episode and write its event log as JSON lines")
    e.add_argument(
        "--policy",
        default="guidelines",
        help="a hand-written policy name, oracle or planner, your own policy class (file.py:ClassName), or a model .zip",
    )
    e.add_argument("--scenario", default="ios_commuter")
    e.add_argument("--days", type=float, default=2.0)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--out", default="events.jsonl")
    e.set_defaults(func=cmd_events)

    tl = sub.add_parser("timeline", help="run one episode and draw its timeline (battery, screen, network, windows...)")
    tl.add_argument(
        "--policy",
        default="guidelines",
        help="a hand-written policy name, oracle or planner (agents.planning), your own policy class "
        "(path/to/file.py:ClassName or package.module:ClassName), or a trained model's .zip",
    )
    tl.add_argument("--scenario", default="ios_commuter")
    tl.add_argument("--days", type=float, default=7.0, help="simulated days (the horizon)")
    tl.add_argument("--seed", type=int, default=0)
    tl.add_argument("--out", default="timeline.png", help="PNG file to write")
    tl.add_argument("--ansi", action="store_true", help="also print the timeline as text")
    commands.add_world_arguments(tl)
    tl.set_defaults(func=cmd_timeline)

    from agents import bench

    b = sub.add_parser("bench", help="measure steps/s side by side with CartPole (single, batched, SB3 PPO)")
    bench.add_arguments(b)
    b.set_defaults(func=cmd_bench)

    au = sub.add_parser(
        "audit", help="pit wasteful strategies (polling, empty pushes, alarm chains, charger floods) against guidelines"
    )
    au.add_argument("--episodes", type=int, default=64)
    au.add_argument("--seed", type=int, default=10_000)
    au.add_argument("--days", type=float, default=7.0)
    au.set_defaults(func=cmd_audit)

    fi = sub.add_parser(
        "fidelity",
        help="run the platform-fidelity experiments and write docs/fidelity.md (docs/sources/PLATFORM_FACTS.md rows)",
    )
    fi.add_argument("--out", default=None, help=f"where to write the table (default: {FIDELITY_DOC})")
    fi.add_argument(
        "--rows",
        default=None,
        help="comma-separated rows to run (e.g. 1,6,O5); prints the table and writes it only with --out",
    )
    fi.set_defaults(func=cmd_fidelity)

    ca = sub.add_parser(
        "calibration",
        help="simulate fleets of phones and write docs/calibration.md (docs/sources/USER_FACTS.md rows, configs/calibration.yaml)",
    )
    ca.add_argument("--out", default=None, help=f"where to write the table (default: {CALIBRATION_DOC}; - prints it)")
    ca.add_argument("--config", default=None, help="the rows, fleets and bands (default: configs/calibration.yaml)")
    ca.set_defaults(func=cmd_calibration)

    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"bgenv: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] in _EXTRAS:
            print(
                f"bgenv: error: `bgenv {args.cmd}` needs {err.name}, which comes with the "
                f"{_EXTRAS[err.name.split('.')[0]]!r} extra: pip install 'bgenv[{_EXTRAS[err.name.split('.')[0]]}]'",
                file=sys.stderr,
            )
            return 2
        raise
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
