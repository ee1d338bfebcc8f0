"""Tables, CSV and bar charts of evaluation results (``bgenv eval`` / ``bgenv compare``)."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.evaluate import TRACE_METRICS, Comparison, EpisodeResults

# the columns of the printed table, in order
TABLE_METRICS = (
    "completion_rate",
    "battery_cost",
    "freshness_at_open",
    "windows_granted",
    "expirations",
    "kills",
    "throttled_requests",
    "time_to_success_s",
    "episode_reward",
)
# the panels of the bar chart: (metric, title, "higher" / "lower" is better)
CHART_METRICS = (
    ("score_vs_guidelines", "score (random 0, guidelines 1)", "higher"),
    ("episode_reward", "episode reward", "higher"),
    ("completion_rate", "completion rate (fraction of work)", "higher"),
    ("battery_cost", "battery cost (fraction of a battery / episode)", "lower"),
    ("freshness_at_open", "fresh data at app open (fraction)", "higher"),
    ("expirations", "expired windows / episode", "lower"),
    ("kills", "killed windows / episode", "lower"),
    ("throttled_requests", "throttled or refused requests", "lower"),
)


def fmt(mean: float, half: float) -> str:
    """``mean ± half`` with 4 significant digits, ``n/a`` for no value."""
    if mean is None or math.isnan(mean):
        return "n/a"
    if abs(mean) < 1e-9:  # e.g. random's score, 0 up to float rounding
        mean = 0.0
    if half is None or math.isnan(half):
        return f"{mean:.4g}"
    return f"{mean:.4g} ± {half:.2g}"


def table(rows: Sequence[tuple[str, dict[str, tuple[float, float]]]], metrics: Sequence[str]) -> str:
    """Plain-text table: one row per policy, ``mean ± 95 % CI`` per metric."""
    head = ["policy", *metrics]
    body = [[name, *(fmt(*summ.get(m, (math.nan, math.nan))) for m in metrics)] for name, summ in rows]
    widths = [max(len(str(r[i])) for r in [head, *body]) for i in range(len(head))]

    def line(r: Sequence[Any]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()

    return "\n".join([line(head), "  ".join("-" * w for w in widths), *(line(r) for r in body)])


def comparison_rows(cmp: Comparison) -> list[tuple[str, dict[str, tuple[float, float]]]]:
    scores = cmp.scores()
    return [(r.policy, {**r.summary(), "score_vs_guidelines": scores[r.policy]}) for r in cmp.results]


# the paired differences against guidelines printed under the table: (metric, header, digits)
PAIRED_METRICS = (
    ("episode_reward", "reward", "{:+.1f} ± {:.1f} ({:+.1%})"),
    ("battery_cost", "battery cost", "{:+.4f} ± {:.4f} ({:+.0%})"),
    ("completion_rate", "completion", "{:+.3f} ± {:.3f} ({:+.1%})"),
)


def paired_table(cmp: Comparison, reference: str = "guidelines") -> str:
    """Each policy minus ``reference`` on the same seeds: mean ± 95 % CI (relative to the
    reference's mean), for reward, battery cost and completion."""
    head = ["policy", *(f"{h} vs {reference} (paired)" for _, h, _ in PAIRED_METRICS)]
    body = []
    for r in cmp.results:
        if r.policy == reference:
            continue
        cells = []
        for metric, _, form in PAIRED_METRICS:
            m, h, rel = cmp.paired(r, metric, reference)
            cells.append(form.format(m, 0.0 if math.isnan(h) else h, 0.0 if math.isnan(rel) else rel))
        body.append([r.policy, *cells])
    widths = [max(len(str(row[i])) for row in [head, *body]) for i in range(len(head))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *body])


def comparison_table(cmp: Comparison, metrics: Sequence[str] = TABLE_METRICS) -> str:
    """The metrics table, then the paired differences against guidelines."""
    return table(comparison_rows(cmp), [*metrics, "score_vs_guidelines"]) + "\n\n" + paired_table(cmp)


PERCENT_METRICS = ("battery_gap_rms", "off_share")
"""Trace-world metrics (fractions) that ``trace_table`` shows in %."""


def trace_table(results: Sequence[EpisodeResults], metrics: Sequence[str] = TRACE_METRICS) -> str:
    """Per policy and replayed trace: episodes and ``mean ± 95 % CI`` of ``metrics``
    (empty without a trace world). ``battery_gap_rms`` and ``off_share`` are shown in %."""
    head = ["policy", "trace", "episodes", *metrics]
    body = []
    for r in results:
        for name, n, summ in r.by_trace(metrics):
            cells = []
            for m in metrics:
                mean, half = summ[m]
                cells.append(fmt(100 * mean, 100 * half) + " %" if m in PERCENT_METRICS else fmt(mean, half))
            body.append([r.policy, name, str(n), *cells])
    if not body:
        return ""
    widths = [max(len(str(row[i])) for row in [head, *body]) for i in range(len(head))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *body])


def write_trace_csv(cmp: Comparison, path: Path, metrics: Sequence[str] = TRACE_METRICS) -> Path | None:
    """Long format per replayed trace: scenario, policy, trace, metric, mean, ci95,
    episodes, first_seed (None, nothing written, without a trace world)."""
    rows = [(r.policy, name, n, summ) for r in cmp.results for name, n, summ in r.by_trace(metrics)]
    if not rows:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        fields = ["scenario", "policy", "trace", "metric", "mean", "ci95", "episodes", "first_seed"]
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for policy, name, n, summ in rows:
            for m in metrics:
                mean, half = summ[m]
                w.writerow(
                    {
                        "scenario": cmp.scenario,
                        "policy": policy,
                        "trace": name,
                        "metric": m,
                        "mean": "" if math.isnan(mean) else repr(mean),
                        "ci95": "" if math.isnan(half) else repr(half),
                        "episodes": n,
                        "first_seed": cmp.seed,
                    }
                )
    return path


def write_csv(cmp: Comparison, path: Path) -> Path:
    """Long format: scenario, policy, metric, mean, ci95, episodes, seed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["scenario", "policy", "metric", "mean", "ci95", "episodes", "first_seed"])
        w.writeheader()
        for row in cmp.rows():
            w.writerow(
                {
                    "scenario": cmp.scenario,
                    "policy": row["policy"],
                    "metric": row["metric"],
                    "mean": "" if math.isnan(row["mean"]) else repr(row["mean"]),
                    "ci95": "" if math.isnan(row["ci95"]) else repr(row["ci95"]),
                    "episodes": row["n"],
                    "first_seed": cmp.seed,
                }
            )
    return path


def write_chart(cmp: Comparison, path: Path, metrics: Sequence[tuple[str, str, str]] = CHART_METRICS) -> Path:
    """Bar chart PNG: one panel per metric, one bar per policy with its 95 % CI; the
    ``guidelines`` bar is outlined and its level drawn as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = comparison_rows(cmp)
    names = [n for n, _ in rows]
    ncol = 4
    nrow = math.ceil(len(metrics) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.4 * nrow), squeeze=False)
    colors = plt.get_cmap("tab10")(np.arange(len(names)) % 10)
    for ax, (key, title, better) in zip(axes.flat, metrics):
        means = np.array([s.get(key, (math.nan, math.nan))[0] for _, s in rows], dtype=float)
        halves = np.array([s.get(key, (math.nan, math.nan))[1] for _, s in rows], dtype=float)
        x = np.arange(len(names))
        ax.bar(x, np.nan_to_num(means), yerr=np.nan_to_num(halves), color=colors, capsize=3)
        if "guidelines" in names:
            g = names.index("guidelines")
            if math.isfinite(means[g]):
                ax.axhline(means[g], color="k", ls="--", lw=0.8)
        ax.set_title(f"{title}\n({better} is better)", fontsize=9)
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=35, ha="right", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    fig.suptitle(f"{cmp.scenario}: {cmp.episodes} held-out episodes from seed {cmp.seed} (mean, 95 % CI)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
