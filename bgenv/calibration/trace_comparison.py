"""The synthetic users against a recorded phone: the ``trace_comparison`` part of
``configs/calibration.yaml`` and its section of ``docs/calibration.md``.

The simulated phones of the named populations keep their event logs as traces
(:func:`bgenv.traces.record.trace_from_events`); :func:`bgenv.traces.trace_statistics`
measures each of them and the shipped trace in the same way (charging sessions, plug-in
levels, overnight charging and its optimised-charging hold, screen-on share, drains).
Per statistic and population: the mean over phones with its 95 % bootstrap interval
(resampling phones, the calibration's ``bootstrap`` count and seed) and the p10-p90 of
the phones (how much individual synthetic phones spread), beside the trace's value over
the whole trace and over a part of it (its days with optimised charging).
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bgenv.traces import Trace, load_sample, trace_statistics

# (statistic of trace_statistics, label in the table, how it is shown)
STATS: tuple[tuple[str, str, str], ...] = (
    ("charging_sessions_per_day", "charging sessions per day (gaps < 10 min merged)", "num"),
    ("plugin_level_median", "plug-in level: median", "pct"),
    ("plugin_level_p10", "plug-in level: p10", "pct"),
    ("plugin_level_p90", "plug-in level: p90", "pct"),
    ("plugin_share_le_20", "plug-ins at ≤ 20 %", "share"),
    ("daytime_plugins_share_le_10", "daytime plug-ins at ≤ 10 %", "share"),
    ("overnight_nights_share", "nights with an overnight charge (plugged at 03:00)", "share"),
    ("overnight_plug_hour_median", "overnight plug-in, median local time", "clock"),
    ("overnight_unplug_hour_median", "overnight unplug, median local time", "clock"),
    ("overnight_length_h_median", "overnight session, median length", "hours"),
    ("overnight_hold_rate", "overnight sessions with a hold (78–82 % for ≥ 30 min)", "share"),
    ("hold_h_median", "hold: median length", "hours"),
    ("overnight_hold_share_median", "overnight > 5 h: time at 78–82 % / length, median", "share"),
    ("screen_on_share", "screen-on share (trace: its last 44 h only)", "share"),
    ("drain_unplugged_pct_per_h", "drain unplugged, all", "rate"),
    ("drain_screen_on_pct_per_h", "drain with the screen on (least squares)", "rate"),
    ("drain_screen_off_pct_per_h", "drain with the screen off (least squares)", "rate"),
)


@dataclass(frozen=True)
class TraceComparison:
    """``trace_comparison`` of ``configs/calibration.yaml``.

    Attributes:
        trace: the shipped trace's name (:data:`bgenv.traces.SAMPLES`).
        populations: the populations compared (names of ``populations`` or ``mix``).
        part_label, part_from, part_to: a part of the trace shown as a second column,
            local dates ``[from, to)`` (ISO), e.g. its days with optimised charging.
        reading: the paragraph under the table; ``{pop.stat}`` fields (``trace``,
            ``part`` or a population, and a statistic of :data:`STATS`) are filled with
            the measured values as the table shows them.
    """

    trace: str
    populations: tuple[str, ...]
    part_label: str
    part_from: str
    part_to: str
    reading: str

    @classmethod
    def of(cls, data: dict[str, Any]) -> TraceComparison:
        part = data["part"]
        return cls(
            str(data["trace"]),
            tuple(data["populations"]),
            str(part["label"]),
            str(part["from"]),
            str(part["to"]),
            " ".join(str(data["reading"]).split()),
        )


def trace_devices(pop: str, cmp: TraceComparison | None, devices: int, mix_count: int) -> int:
    """How many of population ``pop``'s first phones must keep their trace: all of them
    if ``pop`` is compared, its share of the mix if the mix is."""
    if cmp is None:
        return 0
    n = devices if pop in cmp.populations else 0
    if "mix" in cmp.populations:
        n = max(n, mix_count)
    return n


def part_of(trace: Trace, start: str, end: str) -> Trace:
    """The trace from local midnight of date ``start`` to that of ``end`` (ISO dates)."""
    mids = trace.local_midnights()
    off = trace.utc_offset_s or 0.0
    dates = [dt.datetime.fromtimestamp(trace.start_utc_s + off + m, dt.timezone.utc).date().isoformat() for m in mids]
    a = mids[dates.index(start)]
    b = mids[dates.index(end)] if end in dates else trace.duration_s
    return trace.window(float(a), float(b - a))


@dataclass(frozen=True)
class StatRow:
    """One statistic: the trace's value (whole, part), and per population the mean over
    phones, its 95 % bootstrap interval and the phones' p10 and p90."""

    stat: str
    trace: float
    part: float
    pops: dict[str, tuple[float, float, float, float, float]]  # mean, low, high, p10, p90


def measure(cmp: TraceComparison, devices: dict[str, Sequence[Any]], bootstrap: int, seed: int) -> list[StatRow]:
    """Every statistic of :data:`STATS` on the trace and on each compared population's
    phones (those with a trace)."""
    trace = load_sample(cmp.trace)
    whole = trace_statistics(trace)
    part = trace_statistics(part_of(trace, cmp.part_from, cmp.part_to))
    per_pop = {}
    for pop in cmp.populations:
        traces = [d.trace for d in devices.get(pop, []) if getattr(d, "trace", None) is not None]
        per_pop[pop] = [trace_statistics(t) for t in traces]
    rows = []
    for stat, _, _ in STATS:
        pops = {}
        for pop, stats in per_pop.items():
            x = np.array([s[stat] for s in stats], dtype=float)
            x = x[np.isfinite(x)]
            if not x.size:
                pops[pop] = (math.nan,) * 5
                continue
            rng = np.random.default_rng([seed, zlib.crc32(f"trace/{stat}/{pop}".encode())])
            boots = x[rng.integers(0, x.size, (bootstrap, x.size))].mean(axis=1)
            pops[pop] = (
                float(x.mean()),
                float(np.quantile(boots, 0.025)),
                float(np.quantile(boots, 0.975)),
                float(np.quantile(x, 0.1)),
                float(np.quantile(x, 0.9)),
            )
        rows.append(StatRow(stat, float(whole[stat]), float(part[stat]), pops))
    return rows


def show(v: float, kind: str) -> str:
    """A value as the table shows it (``—`` for NaN)."""
    if not math.isfinite(v):
        return "—"
    if kind == "pct":
        return f"{100 * v:.0f} %"
    if kind == "share":
        return f"{v:.2f}"
    if kind == "clock":
        m = round((v % 24.0) * 60.0)
        return f"{m // 60 % 24:02d}:{m % 60:02d}"
    if kind == "hours":
        return f"{v:.1f} h"
    if kind == "rate":
        return f"{v:.1f} %/h"
    return f"{v:.2f}"


def render(cmp: TraceComparison, rows: list[StatRow], pop_text: dict[str, str]) -> str:
    """The Markdown section: how it is measured, the table, the reading."""
    kinds = {s: k for s, _, k in STATS}
    labels = {s: t for s, t, _ in STATS}
    trace = load_sample(cmp.trace)
    head = (
        "## Against the shipped trace\n\n"
        f"The synthetic iOS users beside the shipped recording `{cmp.trace}` (`docs/traces.md`: one iPhone, "
        f"{trace.days():.0f} days; plugged, battery level and temperature throughout, the screen only in its last "
        "44 h), on what both record. Each simulated phone's event log is recorded as a trace "
        "(`bgenv.traces.record.trace_from_events`: screen, app, plugged, every logged battery level, network, "
        "Low Power Mode) and measured by the same `bgenv.traces.trace_statistics` as the recording; a statistic "
        "is computed per phone (its whole episode), then averaged over the phones (95 % bootstrap interval over "
        "phones) and its spread shown as the phones' p10–p90. Phones: "
        + ", ".join(f"`{p}` ({pop_text[p]})" for p in cmp.populations)
        + f". The trace's second column is {cmp.part_label} ({cmp.part_from} to {cmp.part_to}, the days on which "
        "this phone's optimised charging holds at 80 %; before them it charged to full). Differences of "
        "measurement: the recording's level is whole per cent and sampled ~5 min while it moves, the synthetic "
        "level is logged every simulated hour and at every screen, app, charger and Low Power Mode change; the "
        "recording's screen is inferred from its display table (`docs/traces.md`); the synthetic phones run an "
        "app that asks for no background time, the recorded phone ran all its apps.\n\n"
    )
    cols = ["Statistic", f"`{cmp.trace}` (whole)", f"`{cmp.trace}` ({cmp.part_label})"]
    for p in cmp.populations:
        cols += [f"`{p}`: mean [95 % CI]", f"`{p}`: phones p10–p90"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    fields: dict[str, str] = {}
    for r in rows:
        k = kinds[r.stat]
        cells = [labels[r.stat], show(r.trace, k), show(r.part, k)]
        fields[f"trace.{r.stat}"] = show(r.trace, k)
        fields[f"part.{r.stat}"] = show(r.part, k)
        for p in cmp.populations:
            mean, lo, hi, p10, p90 = r.pops[p]
            cells.append(f"{show(mean, k)} [{show(lo, k)}, {show(hi, k)}]" if math.isfinite(mean) else "—")
            cells.append(f"{show(p10, k)} – {show(p90, k)}" if math.isfinite(p10) else "—")
            fields[f"{p}.{r.stat}"] = show(mean, k)
            fields[f"{p}.{r.stat}.p10"] = show(p10, k)
            fields[f"{p}.{r.stat}.p90"] = show(p90, k)
        lines.append("| " + " | ".join(cells) + " |")
    reading = cmp.reading
    for key, val in fields.items():
        reading = reading.replace("{" + key + "}", val)
    return head + "\n".join(lines) + "\n\n**Reading.** " + reading + "\n"
