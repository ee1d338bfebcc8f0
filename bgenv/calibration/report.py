"""The calibration run and its document: configs/calibration.yaml in, docs/calibration.md out.

:func:`load` reads the configuration; :func:`measure` simulates every population once
(:func:`populations`) and evaluates every check with a bootstrap interval over devices;
:func:`render` writes the Markdown; :func:`run` is what ``bgenv calibration`` and
``python -m bgenv.calibration`` call. Everything is seeded: the same configuration gives
the same document.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bgenv.calibration.fleet import Device, simulate, simulate_lpm_pairs
from bgenv.calibration.statistics import STATISTICS, Pair
from bgenv.calibration.trace_comparison import StatRow, TraceComparison, trace_devices
from bgenv.calibration.trace_comparison import measure as measure_traces
from bgenv.calibration.trace_comparison import render as render_traces
from bgenv.config import CONFIG_DIR, ConfigError
from bgenv.envs.common import load_platform_scenario

CONFIG = CONFIG_DIR / "calibration.yaml"
REGENERATE = "bgenv calibration"
MATCHES, DIFFERS, NOT_MEASURED = "matches", "differs", "not measured"
MIX = "mix"


@dataclass(frozen=True)
class Check:
    """One statistic of one population against its band ``(low, high)`` (None: open)."""

    stat: str
    population: str
    band: tuple[float | None, float | None]
    known_difference: str = ""  # why the model is knowingly outside this band (shown in the document)

    def inside(self, v: float) -> bool:
        lo, hi = self.band
        return math.isfinite(v) and (lo is None or v >= lo) and (hi is None or v <= hi)


@dataclass(frozen=True)
class Row:
    """One USER_FACTS row: what it documents, how bgenv models it, its checks."""

    row: str
    documented: str
    model: str
    checks: tuple[Check, ...]
    no_study: bool = False


@dataclass(frozen=True)
class Config:
    """``configs/calibration.yaml`` read and checked (see the file's comments)."""

    spec: str
    platform: str
    days: float
    devices: int
    bootstrap: int
    bootstrap_seed: int
    first_seed: int
    populations: dict[str, dict[str, Any]]
    mix_devices: int
    mix_weights: dict[str, float]
    rows: tuple[Row, ...]
    trace_comparison: TraceComparison | None = None


def load(path: str | Path = CONFIG) -> Config:
    """Read the calibration configuration; a ValueError names an unknown statistic or
    population or a malformed band."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    pops = dict(data["populations"])
    mix = data["mix"]
    rows = []
    for r in data["rows"]:
        checks = []
        for c in r["checks"]:
            if c["stat"] not in STATISTICS:
                raise ValueError(f"{path}: row {r['row']}: unknown statistic {c['stat']!r}")
            if c["population"] != MIX and c["population"] not in pops:
                raise ValueError(f"{path}: row {r['row']}: unknown population {c['population']!r}")
            lo, hi = c["band"]
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{path}: row {r['row']}: band {c['band']} has low > high")
            checks.append(Check(c["stat"], c["population"], (lo, hi), str(c.get("known_difference", ""))))
        rows.append(Row(str(r["row"]), r["documented"], r["model"], tuple(checks), bool(r.get("no_study", False))))
    for a in mix["weights"]:
        if a not in pops:
            raise ValueError(f"{path}: mix weight for unknown population {a!r}")
    tc = TraceComparison.of(data["trace_comparison"]) if data.get("trace_comparison") else None
    for a in tc.populations if tc else ():
        if a != MIX and a not in pops:
            raise ValueError(f"{path}: trace_comparison of unknown population {a!r}")
    return Config(
        spec=data["spec"],
        platform=data["platform"],
        days=float(data["days"]),
        devices=int(data["devices"]),
        bootstrap=int(data["bootstrap"]),
        bootstrap_seed=int(data["bootstrap_seed"]),
        first_seed=int(data["first_seed"]),
        populations=pops,
        mix_devices=int(mix["devices"]),
        mix_weights={k: float(v) for k, v in mix["weights"].items()},
        rows=tuple(rows),
        trace_comparison=tc,
    )


@dataclass
class Fleets:
    """The simulated populations: devices (or matched pairs) by name, the reason for each
    population that could not be simulated, the configured centre of app opens/day."""

    devices: dict[str, Sequence[Any]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    centres: dict[str, float] = field(default_factory=dict)
    mix_counts: dict[str, int] = field(default_factory=dict)
    trace_rows: list[StatRow] = field(default_factory=list)  # the comparison with the shipped trace


def populations(cfg: Config) -> Fleets:
    """Simulate every population of ``cfg`` (those whose scenario does not load, e.g. an
    archetype that does not exist yet, are recorded as missing with the error) and
    compose the default mix."""
    out = Fleets()
    total_w = sum(cfg.mix_weights.values())
    for k, (name, spec) in enumerate(cfg.populations.items()):
        spec = dict(spec)
        platform = spec.pop("platform", cfg.platform)
        n = int(spec.pop("devices", cfg.devices))
        days = float(spec.pop("days", cfg.days))
        pairs = bool(spec.pop("lpm_pairs", False))
        seeds = [cfg.first_seed + 10_000 * k + i for i in range(n)]
        try:
            scen = load_platform_scenario(platform, None, horizon_days=days, **spec)
        except ConfigError as e:
            out.missing[name] = _why(e)
            continue
        out.centres[name] = float(sum(scen.user.app_opens_per_hour))
        if pairs:
            t = simulate_lpm_pairs(platform, seeds, days, spec)
            out.devices[name] = [Pair(float(a), float(b)) for a, b in t]
        else:
            mix_k = round(cfg.mix_devices * cfg.mix_weights.get(name, 0.0) / total_w)
            keep = trace_devices(name, cfg.trace_comparison, n, mix_k)
            out.devices[name] = simulate(name, platform, seeds, days, spec, traces=keep)
    weights = {a: w for a, w in cfg.mix_weights.items() if a in out.devices}
    total = sum(weights.values())
    mix: list[Device] = []
    for a, w in weights.items():
        k = round(cfg.mix_devices * w / total)
        out.mix_counts[a] = k
        mix.extend(out.devices[a][:k])
    out.devices[MIX] = mix
    return out


def _why(err: Exception) -> str:
    """A configuration error in one line, without the checkout's path or the list of
    allowed keys (the document must not depend on where the tree is)."""
    text = " ".join(str(err).split()).replace(str(CONFIG_DIR.parent) + "/", "")
    return text.split("; allowed keys")[0]


@dataclass(frozen=True)
class Result:
    """A check's measured value, its 95 % bootstrap interval over devices, and whether
    it is inside the band (``reason`` when it could not be measured)."""

    check: Check
    value: float
    low: float
    high: float
    ok: bool
    reason: str = ""


def evaluate(check: Check, fleets: Fleets, cfg: Config) -> Result:
    """Measure ``check`` on its population with a bootstrap interval."""
    pop = check.population
    if pop in fleets.missing:
        return Result(check, math.nan, math.nan, math.nan, False, f"population not simulated: {fleets.missing[pop]}")
    devs = fleets.devices[pop]
    if not devs:
        return Result(check, math.nan, math.nan, math.nan, False, "empty population")
    st = STATISTICS[check.stat]
    centre = fleets.centres.get(pop)
    v = float(st.fn(devs, centre))
    if not math.isfinite(v) and not math.isinf(v):
        return Result(check, v, math.nan, math.nan, False, "the event log does not tell it")
    rng = np.random.default_rng([cfg.bootstrap_seed, zlib.crc32(f"{check.stat}/{pop}".encode())])
    n = len(devs)
    boots = []
    for _ in range(cfg.bootstrap):
        idx = rng.integers(0, n, n)
        boots.append(float(st.fn([devs[i] for i in idx], centre)))
    b = np.array(boots)
    b = b[~np.isnan(b)]
    lo, hi = (float(np.quantile(b, 0.025)), float(np.quantile(b, 0.975))) if b.size else (math.nan, math.nan)
    return Result(check, v, lo, hi, check.inside(v))


def measure(cfg: Config | None = None) -> tuple[Config, Fleets, dict[str, list[Result]]]:
    """Simulate the populations and evaluate every row's checks."""
    cfg = cfg or load()
    fleets = populations(cfg)
    if cfg.trace_comparison is not None:
        fleets.trace_rows = measure_traces(cfg.trace_comparison, fleets.devices, cfg.bootstrap, cfg.bootstrap_seed)
    return cfg, fleets, {r.row: [evaluate(c, fleets, cfg) for c in r.checks] for r in cfg.rows}


def row_status(results: Sequence[Result]) -> str:
    """``matches`` (every check inside its band), ``not measured`` (a check could not be
    measured) or ``differs``."""
    if any(r.reason for r in results):
        return NOT_MEASURED
    return MATCHES if all(r.ok for r in results) else DIFFERS


def _num(v: float) -> str:
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1 and v == round(v):
        return f"{v:.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 0.01:
        return f"{v:.3g}"
    return f"{v:.2g}"


def _band(b: tuple[float | None, float | None]) -> str:
    lo, hi = b
    if lo is None:
        return f"≤ {_num(hi)}"  # type: ignore[arg-type]
    if hi is None:
        return f"≥ {_num(lo)}"
    return f"[{_num(lo)}, {_num(hi)}]"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render(cfg: Config, fleets: Fleets, results: dict[str, list[Result]]) -> str:
    """The Markdown document."""
    statuses = {r.row: row_status(results[r.row]) for r in cfg.rows}
    counts = {s: sum(1 for v in statuses.values() if v == s) for s in (MATCHES, DIFFERS, NOT_MEASURED)}
    sims = []
    for name, spec in cfg.populations.items():
        if name in fleets.missing:
            sims.append(f"`{name}` (not simulated: {fleets.missing[name]})")
        else:
            n = int(spec.get("devices", cfg.devices))
            kind = " matched pairs" if spec.get("lpm_pairs") else ""
            sims.append(
                f"`{name}` ({spec.get('platform', cfg.platform)}, {n}{kind} × {_num(float(spec.get('days', cfg.days)))} d)"
            )
    mix = ", ".join(f"{a} {k}" for a, k in fleets.mix_counts.items())
    left_out = [a for a in cfg.mix_weights if a not in fleets.mix_counts]
    head = (
        "# bgenv user-model calibration\n\n"
        f"Generated by `{REGENERATE}` (`make calibration`, `python -m bgenv.calibration`) from simulated fleets of "
        "phones; do not edit by hand. Every row of `docs/sources/USER_FACTS.md` with its documented value, how "
        "bgenv models it, and statistics measured on the simulated fleets against the acceptance bands of "
        f"`{cfg.spec}` (part (d) of each row). The rows, statistics, bands and fleets are in "
        "`configs/calibration.yaml`; the statistics in `bgenv/calibration/statistics.py`; "
        "`tests/fidelity/test_calibration.py` asserts the bands and that this file is current.\n\n"
        "**How it is measured.** Each population is one archetype on one platform: phones reset with their own "
        f"held-out seeds ({cfg.first_seed:,} up; training uses seeds below 10,000, evaluation 10,000 up, "
        "validation 50,000 up) and run by an app that never asks for background time, so that battery drain is "
        "the user's and the device's alone (the app's foreground refresh at an open still runs). Statistics are read "
        "from each phone's event log through `bgenv.eventlog`, except U14's drawn top-up thresholds, read from "
        "the device state right after reset (`S_PLUG_THR`). The U18 pairs run each seed twice from a full battery "
        "with no overnight charge and no top-up, Low Power Mode held on in one run and off in the other. "
        "Intervals are 95 % bootstrap intervals over devices "
        f"({cfg.bootstrap} resamples). Populations: {', '.join(sims)}.\n\n"
        f"**Default mix** (an assumption: no study gives archetype shares): weights "
        + ", ".join(f"{a} {w:g}" for a, w in cfg.mix_weights.items())
        + f"; {sum(fleets.mix_counts.values())} phones ({mix}), the first phones of each population"
        + (f"; left out (not simulated): {', '.join(left_out)}, the others renormalised" if left_out else "")
        + ".\n\n"
        "Results: **matches** (every statistic of the row inside its band), **differs** (one or more outside), "
        "**not measured** (a statistic the event log cannot tell, or a population that cannot be simulated yet).\n\n"
        + ", ".join(f"{counts[s]} {s}" for s in (MATCHES, DIFFERS, NOT_MEASURED) if counts[s])
        + f" ({len(cfg.rows)} rows).\n"
    )
    cols = [
        "Row",
        "Documented value",
        "How bgenv models it",
        "Statistic",
        "Population",
        "Measured (95 % CI)",
        "Band",
        "Result",
    ]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in cfg.rows:
        doc = row.documented + (" (no study)" if row.no_study else "")
        for j, res in enumerate(results[row.row]):
            c = res.check
            if res.reason:
                measured = f"— ({res.reason})"
                verdict = NOT_MEASURED
            else:
                measured = f"{_num(res.value)} [{_num(res.low)}, {_num(res.high)}]"
                verdict = "in band" if res.ok else "out of band"
                if c.known_difference and not res.ok:
                    verdict += f" (known: {c.known_difference})"
            first = j == 0
            cells = [
                row.row if first else "",
                doc if first else "",
                row.model if first else "",
                f"`{c.stat}`: {STATISTICS[c.stat].text}",
                c.population,
                measured,
                _band(c.band),
                f"**{statuses[row.row]}**: {verdict}" if first else verdict,
            ]
            lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    text = head + "\n" + "\n".join(lines) + "\n"
    tc = cfg.trace_comparison
    if tc is not None and fleets.trace_rows:
        pop_text = {}
        for p in tc.populations:
            if p == MIX:
                pop_text[p] = f"{len(fleets.devices.get(MIX, []))} phones of the default mix"
            else:
                spec = cfg.populations.get(p, {})
                n = sum(1 for d in fleets.devices.get(p, []) if getattr(d, "trace", None) is not None)
                pop_text[p] = f"{n} phones × {_num(float(spec.get('days', cfg.days)))} d"
        text += "\n" + render_traces(tc, fleets.trace_rows, pop_text)
    return text


def summary(text: str) -> str:
    """The result counts line of a rendered document."""
    return next(ln for ln in text.splitlines() if ln.endswith("rows).") and ln[0].isdigit())


def run(out: str | Path | None, config: str | Path = CONFIG) -> int:
    """What ``bgenv calibration`` does: measure the rows of ``config`` and write the
    document to ``out`` (its folder is made; printing the result counts), or print it
    when ``out`` is None."""
    text = render(*measure(load(config)))
    if out is None:
        print(text)
        return 0
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    print(f"wrote {out}: {summary(text)}")
    return 0
