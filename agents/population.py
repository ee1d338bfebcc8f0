"""Population evaluation on a fleet: ``bgenv eval --fleet`` and ``bgenv compare --fleet``.

A fleet (:mod:`bgenv.fleet`) is a population of phones and users. Device ``k`` of an
evaluation is reset with seed ``seed + k`` and draws its cohort from that seed, so every
policy meets the same phones and users (results are paired across policies), and one
device's week can be replayed with ``gym.make(id, scenario=fleet.draw(seed + k).scenario)``.

The results are the population's metrics (mean and 95 % CI over devices) and a
**breakdown** by cohort, platform, OS version, phone maker, user archetype and battery band
at the start of the week: which phones and users a policy fails, and how badly
(completion, time to eventual success, battery cost, kills, reward). ``compare`` adds each
policy's paired difference against ``guidelines`` per group.

Hand-written policies (built-in or your own class, ``file.py:Class``) run on fleets of
both platforms (one instance per platform, each
seeing its own devices with its platform's action table); a trained model runs on a fleet
of the platform it was trained on; intent policies (``cross_guidelines``) and models trained
on ``bgenv/CrossPlatform-v1`` run on any fleet, one policy for all its devices;
``oracle``/``planner`` do not run on fleets yet.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.evaluate import (
    MAX_BATCH,
    EpisodeResults,
    PolicyLike,
    bind_model,
    is_model_spec,
    load_policy,
    mean_ci,
    policy_label,
    preload_model,
    uses_intents,
)
from agents.planning import is_planner_spec
from agents.policies import POLICIES
from bgenv.core import layout as L
from bgenv.fleet import COHORT_KEYS, Fleet, battery_band
from bgenv.rollout import rollout_batch

GROUPS = (*COHORT_KEYS, "battery_band")  # the breakdowns, in print order
BREAKDOWN_METRICS = ("completion_rate", "time_to_success_s", "battery_cost", "kills", "episode_reward")
FINAL_KEYS = ("cohort", "battery_start")  # read from each device's final_info with its metrics


@dataclass
class FleetResults(EpisodeResults):
    """Per device of a fleet evaluation: seed, episode metrics and, with them, its cohort
    (``cohort``) and battery level at the start (``battery_start``), in seed order.
    ``scenario`` is ``fleet:<name>``."""

    fleet: Fleet | None = None

    def summary(self) -> dict[str, tuple[float, float]]:
        """Population mean and 95 % CI per metric."""
        return {k: mean_ci(self.values(k)) for k in self.metrics[0] if k not in FINAL_KEYS}

    def group_of(self, by: str) -> list[str]:
        """Each device's group for breakdown ``by`` (one of :data:`GROUPS`)."""
        assert self.fleet is not None
        if by == "battery_band":
            return [battery_band(m["battery_start"]) for m in self.metrics]
        return [self.fleet.labels(int(m["cohort"]))[by] for m in self.metrics]

    def breakdown(self, by: str, metrics: Sequence[str] = BREAKDOWN_METRICS) -> list[tuple[str, int, dict]]:
        """Rows ``(group, devices, {metric: (mean, ci95)})`` for breakdown ``by``, groups
        in order of first appearance in the fleet file (battery bands low to high)."""
        assert self.fleet is not None
        groups = np.array(self.group_of(by))
        order = _group_order(self.fleet, by, set(groups.tolist()))
        rows = []
        for g in order:
            sel = groups == g
            rows.append((g, int(sel.sum()), {m: mean_ci(self.values(m)[sel]) for m in metrics}))
        return rows


def _group_order(fleet: Fleet, by: str, present: set[str]) -> list[str]:
    if by == "battery_band":
        from bgenv.fleet import BATTERY_BANDS

        names = [b[2] for b in BATTERY_BANDS]
    else:
        names = list(dict.fromkeys(c.labels[by] for c in fleet.cohorts))
    return [n for n in names if n in present]


class PerPlatform:
    """A hand-written policy on a fleet of both platforms: one instance per platform,
    each acting on its platform's devices with that platform's action table; masks and
    actions are converted between the batch's union layout and the platform's own."""

    def __init__(self, name: str, tables: dict[str, Any], seed: int | None = None) -> None:
        from agents.plugins import build_plugin, is_plugin_spec

        self.name = name
        if is_plugin_spec(name):
            self.policies = {p: build_plugin(name, t, seed=seed) for p, t in tables.items()}
        else:
            self.policies = {p: POLICIES[name](t, seed=seed) for p, t in tables.items()}
        self.nvec = {p: np.asarray(t.nvec) for p, t in tables.items()}
        self.env: Any = None

    def bind(self, env: Any) -> None:
        self.env = env.unwrapped

    def reset(self, seed: int | None = None) -> None:
        for p in self.policies.values():
            if hasattr(p, "reset"):
                p.reset(seed)

    def act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        env = self.env
        out = np.zeros((len(obs), 4), dtype=np.int64)
        union = env.single_action_space.nvec
        u_off = np.concatenate([[0], np.cumsum(union)[:-1]])
        for p, pol in self.policies.items():
            rows = np.flatnonzero(env.device_platform == L.PLATFORMS[p])
            if not rows.size:
                continue
            own = None
            if mask is not None:
                nv = self.nvec[p]
                own = np.concatenate([mask[rows, u_off[k] : u_off[k] + nv[k]] for k in range(len(nv))], axis=1)
            out[rows] = pol.act(obs[rows], own)
        return out


def fleet_policy(spec: str | PolicyLike, env: Any, seed: int | None, deterministic: bool = True) -> PolicyLike:
    """The policy of ``spec`` for a fleet env (see the module docstring for what runs where)."""
    if not isinstance(spec, str):
        return spec
    if is_planner_spec(spec):
        raise ValueError(f"{spec} does not run on fleets yet: evaluate it per scenario (bgenv compare --scenario)")
    u = env.unwrapped
    if not u.mixed or getattr(u, "action_table", None) is not None:  # one platform, or intents
        return load_policy(spec, env, seed=seed, deterministic=deterministic)
    from agents.plugins import is_plugin_spec

    if spec in POLICIES or is_plugin_spec(spec):
        return PerPlatform(spec, u.tables, seed)
    if is_model_spec(spec):
        raise ValueError(
            f"{spec}: a model trained on one platform runs on a fleet of that platform; "
            f"fleet '{u.fleet.name}' mixes {'/'.join(u.fleet.platforms)}"
        )
    return load_policy(spec, env, seed=seed, deterministic=deterministic)  # raises the usual message


def evaluate_fleet(
    policy: str | PolicyLike,
    fleet: str | Path | Fleet,
    devices: int,
    seed: int,
    batch: int = MAX_BATCH,
    deterministic: bool = True,
) -> FleetResults:
    """One week (episode) on each of ``devices`` devices of ``fleet``, device ``k`` reset
    with seed ``seed + k`` (``batch`` devices simulated at a time). An intent policy or a
    model trained on ``bgenv/CrossPlatform-v1`` runs on it (one policy for every device,
    on fleets of either or both platforms)."""
    from bgenv.envs.cross_vector import CrossPlatformVectorEnv
    from bgenv.envs.vector import BackgroundSchedulingVectorEnv

    fl = Fleet.of(fleet)
    platform = fl.platforms[0] if len(fl.platforms) == 1 else None
    label = policy_label(policy) if isinstance(policy, str) else getattr(policy, "name", "policy")
    res = FleetResults(label, f"fleet:{fl.name}", fleet=fl)
    pol: PolicyLike | None = None
    if isinstance(policy, str):  # a model is loaded first: a CrossPlatform-v1 model runs on any fleet
        try:
            pol = preload_model(policy, seed, deterministic)
        except ValueError:
            if platform is not None:
                raise
            pol = None  # on a mixed fleet, fleet_policy says what runs there
    intents = uses_intents(policy if pol is None else pol)
    if pol is not None and not intents and platform is None:
        raise ValueError(
            f"{policy}: a model trained on one platform runs on a fleet of that platform; "
            f"fleet '{fl.name}' mixes {'/'.join(fl.platforms)} (a model trained on bgenv/CrossPlatform-v1 runs on it)"
        )
    done = 0
    while done < devices:
        n = min(batch, devices - done)
        if intents:
            env = CrossPlatformVectorEnv(n, fleet=fl)
        else:
            env = BackgroundSchedulingVectorEnv(n, platform=platform, fleet=fl)
        bind_model(pol, env)
        if pol is None:
            pol = fleet_policy(policy, env, seed, deterministic)
        elif hasattr(pol, "reset"):
            pol.reset(seed + done)
        seeds = [seed + done + k for k in range(n)]
        res.metrics.extend(rollout_batch(env, pol, seeds, final_keys=FINAL_KEYS))
        res.seeds.extend(seeds)
        env.close()
        done += n
    return res


@dataclass
class FleetComparison:
    """Several policies on the same devices of a fleet."""

    fleet: Fleet
    devices: int
    seed: int
    results: list[FleetResults]
    reference: FleetResults | None  # guidelines

    def paired(self, res: FleetResults, metric: str, sel: np.ndarray | None = None) -> tuple[float, float]:
        """Mean and 95 % CI of ``res - guidelines`` in ``metric`` over the same devices
        (``sel``: a bool mask of devices, e.g. one cohort)."""
        assert self.reference is not None
        d = res.values(metric) - self.reference.values(metric)
        return mean_ci(d if sel is None else d[sel])


def compare_fleet(
    policies: Sequence[str | PolicyLike], fleet: str | Path | Fleet, devices: int, seed: int, deterministic: bool = True
) -> FleetComparison:
    """Evaluate every policy on the same devices; ``guidelines`` is added (for the paired
    differences) when not listed."""
    fl = Fleet.of(fleet)
    results = [evaluate_fleet(p, fl, devices, seed, deterministic=deterministic) for p in policies]
    ref = next((r for r in results if r.policy == "guidelines"), None)
    if ref is None:
        ref = evaluate_fleet("guidelines", fl, devices, seed)
    return FleetComparison(fl, devices, seed, results, ref)


# ---------------------------------------------------------------------------
# reports
# ---------------------------------------------------------------------------
_UNITS = {"time_to_success_s": ("time_to_success_h", 1 / 3600.0)}


def _cell(metric: str, mean: float, half: float) -> str:
    from agents.report import fmt

    k = _UNITS.get(metric, (metric, 1.0))[1]
    return fmt(mean * k, half * k)


def _header(metric: str) -> str:
    return _UNITS.get(metric, (metric, 1.0))[0]


def _grid(head: list[str], body: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [head, *body]) for i in range(len(head))]

    def line(r: Sequence[Any]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()

    return "\n".join([line(head), "  ".join("-" * w for w in widths), *(line(r) for r in body)])


def breakdown_table(res: FleetResults, by: str, metrics: Sequence[str] = BREAKDOWN_METRICS) -> str:
    """One row per group of ``by``: devices and ``mean ± 95 % CI`` of each metric."""
    head = [by, "devices", *(_header(m) for m in metrics)]
    body = [[g, str(n), *(_cell(m, *s[m]) for m in metrics)] for g, n, s in res.breakdown(by, metrics)]
    return _grid(head, body)


def population_table(results: Sequence[FleetResults], metrics: Sequence[str] = BREAKDOWN_METRICS) -> str:
    """One row per policy: the population's ``mean ± 95 % CI``."""
    head = ["policy", "devices", *(_header(m) for m in metrics)]
    body = []
    for r in results:
        s = r.summary()
        body.append([r.policy, str(len(r.metrics)), *(_cell(m, *s[m]) for m in metrics)])
    return _grid(head, body)


def paired_breakdown_table(cmp: FleetComparison, by: str, metric: str = "episode_reward") -> str:
    """Per group of ``by`` (rows) and policy (columns): the paired difference against
    ``guidelines`` in ``metric`` (mean ± 95 % CI over the group's devices)."""
    assert cmp.reference is not None
    others = [r for r in cmp.results if r.policy != "guidelines"]
    groups = np.array(cmp.reference.group_of(by))
    order = _group_order(cmp.fleet, by, set(groups.tolist()))
    head = [by, "devices", *(f"{r.policy} - guidelines" for r in others)]
    body = []
    for g in order:
        sel = groups == g
        body.append([g, str(int(sel.sum())), *(_cell(metric, *cmp.paired(r, metric, sel)) for r in others)])
    body.append(["all", str(len(groups)), *(_cell(metric, *cmp.paired(r, metric)) for r in others)])
    return _grid(head, body)


def write_fleet_csv(results: Sequence[FleetResults], path: Path, cmp: FleetComparison | None = None) -> Path:
    """Long format: fleet, policy, group_by, group, metric, mean, ci95, devices (``group_by``
    ``all`` is the population); with a comparison also ``<metric>_vs_guidelines`` rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = ["fleet", "policy", "group_by", "group", "metric", "mean", "ci95", "devices", "first_seed"]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()

        def put(r: FleetResults, by: str, g: str, metric: str, m: float, h: float, n: int) -> None:
            w.writerow(
                {
                    "fleet": r.fleet.name if r.fleet else r.scenario,
                    "policy": r.policy,
                    "group_by": by,
                    "group": g,
                    "metric": metric,
                    "mean": "" if math.isnan(m) else repr(m),
                    "ci95": "" if math.isnan(h) else repr(h),
                    "devices": n,
                    "first_seed": r.seeds[0],
                }
            )

        for r in results:
            for metric, (m, h) in r.summary().items():
                put(r, "all", "all", metric, m, h, len(r.metrics))
            for by in GROUPS:
                groups = np.array(r.group_of(by))
                for g, n, s in r.breakdown(by):
                    for metric, (m, h) in s.items():
                        put(r, by, g, metric, m, h, n)
                    if cmp is not None and r.policy != "guidelines":
                        for metric in BREAKDOWN_METRICS:
                            m, h = cmp.paired(r, metric, groups == g)
                            put(r, by, g, f"{metric}_vs_guidelines", m, h, n)
    return path


def write_fleet_chart(results: Sequence[FleetResults], path: Path, by: str = "cohort") -> Path:
    """PNG: one panel per breakdown metric, one group of bars per cohort (``by``), one bar
    per policy with its 95 % CI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (
        ("completion_rate", "completion rate (higher is better)"),
        ("time_to_success_s", "time to eventual success, h (lower is better)"),
        ("battery_cost", "battery cost / week (lower is better)"),
        ("kills", "killed windows / week (lower is better)"),
        ("episode_reward", "weekly reward (higher is better)"),
    )
    rows = [r.breakdown(by) for r in results]
    groups = [g for g, _, _ in rows[0]]
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(max(7.0, 0.9 * len(groups) * max(1, len(results)) + 2), 2.4 * len(panels))
    )
    colors = plt.get_cmap("tab10")(np.arange(len(results)) % 10)
    width = 0.8 / len(results)
    x = np.arange(len(groups))
    for ax, (metric, title) in zip(np.atleast_1d(axes), panels):
        k = _UNITS.get(metric, (metric, 1.0))[1]
        for j, (r, br) in enumerate(zip(results, rows)):
            by_g = {g: s[metric] for g, _, s in br}
            mean = np.array([by_g.get(g, (math.nan, math.nan))[0] for g in groups]) * k
            half = np.array([by_g.get(g, (math.nan, math.nan))[1] for g in groups]) * k
            ax.bar(x + (j - (len(results) - 1) / 2) * width, np.nan_to_num(mean), width, yerr=np.nan_to_num(half),
                   color=colors[j], capsize=2, label=r.policy)  # fmt: skip
        ax.set_title(title, fontsize=9)
        ax.set_xticks(x)
        ax.set_xticklabels(groups, rotation=20, ha="right", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=8, ncol=min(4, len(results)))
    r0 = results[0]
    fig.suptitle(
        f"fleet {r0.fleet.name}: {len(r0.metrics)} devices from seed {r0.seeds[0]}, per {by} (mean, 95 % CI)",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def fleet_report(
    policies: Sequence[str], fleet: str | Path, devices: int, seed: int, out: Path | None, deterministic: bool = True
) -> tuple[str, FleetComparison, Path | None, Path | None]:
    """What ``bgenv eval --fleet`` / ``compare --fleet`` print: the population table, the
    breakdowns (every one for a single policy; per cohort when comparing) and (with several policies, or one that is not ``guidelines``) the paired
    differences against ``guidelines`` per cohort; writes ``fleet.csv`` and ``fleet.png``
    under ``out``."""
    cmp = compare_fleet(list(policies), fleet, devices, seed, deterministic)
    shown = list(cmp.results)
    parts = [population_table(shown)]
    # one policy: every breakdown; several: per cohort (the rest is in fleet.csv and --json)
    groups = GROUPS if len(shown) == 1 else ("cohort",)
    for r in shown:
        for by in groups:
            if len(set(r.group_of(by))) > 1 or by == "cohort":
                parts.append(f"{r.policy} by {by}:\n{breakdown_table(r, by)}")
    if any(r.policy != "guidelines" for r in shown):
        parts.append(
            "paired difference in weekly reward against guidelines (same devices):\n"
            + paired_breakdown_table(cmp, "cohort")
        )
        if len(cmp.fleet.platforms) > 1:  # what one policy (or the common API) costs on each platform
            parts.append("... by platform:\n" + paired_breakdown_table(cmp, "platform"))
    csv_path = png_path = None
    if out is not None:
        csv_path = write_fleet_csv(shown, out / "fleet.csv", cmp)
        png_path = write_fleet_chart(shown, out / "fleet.png")
    return "\n\n".join(parts), cmp, csv_path, png_path
