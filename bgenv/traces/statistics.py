"""Statistics of a recorded :class:`~bgenv.traces.trace.Trace` for calibration.

:func:`trace_statistics` measures on a trace what the synthetic user model is calibrated
on (``bgenv/calibration/statistics.py``): charging sessions and plug-in levels, overnight
charging and its optimised-charging hold at ~80 %, screen-on share, discharge rates with
the screen on and off. Where a statistic means the same as one of the calibration
registry it has the same name (``daytime_plugins_share_le_10``,
``overnight_hold_share_median``, ``overnight_unplug_full_share``), so the two can be put
side by side. Each needs the channels it reads and is NaN (or 0 sessions) without them.

Definitions (thresholds are assumptions of this module, arguments of the function):

* **Charging session**: a plugged stretch; stretches separated by less than
  ``merge_gap_s`` (600 s) unplugged are one session (cables re-seated, flaky contacts).
  Its **plug-in level** is the battery level at its start (the last level sample at or
  before it).
* **Overnight session**: a session that contains a local 03:00.
* **Hold** (optimised charging): inside a session, the longest stretch over which the
  level stays within ``hold_band`` (78-82 %), if it lasts at least ``hold_min_s`` (30 min).
  Levels are read as the step function of the samples (a sample holds until the next).
* **Screen-on share**: time with the screen on over time with the screen recorded.
* **Discharge rates**: over the intervals between consecutive level samples that are
  unplugged throughout and have the screen recorded throughout, the level change of each
  interval is fitted (least squares, no intercept) as ``r_on * t_on + r_off * t_off``
  (``t_on``/``t_off``: s with the screen on/off in the interval); drains are ``-r`` in %/h.
  A rate needs at least ``min_rate_h`` (1 h) of the state, else NaN.
"""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timezone
from typing import Any

import numpy as np

from bgenv.traces.trace import DAY_S, Channel, Trace

H_S = 3600.0
NAN = float("nan")


def _spans(ch: Channel, end_s: float, value: float) -> list[tuple[float, float]]:
    """Stretches ``[a, b)`` where the channel equals ``value``."""
    edges = np.append(ch.t_s, end_s)
    out = []
    for i in range(len(ch)):
        if ch.value[i] == value and edges[i + 1] > edges[i]:
            if out and abs(out[-1][1] - edges[i]) < 1e-9:
                out[-1] = (out[-1][0], float(edges[i + 1]))
            else:
                out.append((float(edges[i]), float(edges[i + 1])))
    return out


def _time_in(ch: Channel, a: float, b: float, pred) -> float:
    """Seconds in ``[a, b]`` during which ``pred(value)`` holds (values before the first
    sample count as NaN)."""
    if b <= a or not len(ch):
        return 0.0
    edges = np.clip(np.append(ch.t_s, np.inf), a, b)
    dur = np.diff(edges)
    return float(dur[pred(ch.value)].sum())


def _cumulative(ch: Channel, pred):
    """``F(t)``: seconds before ``t`` (vectorised) during which ``pred(value)`` holds, so
    that the time in ``[a, b]`` is ``F(b) - F(a)`` (as :func:`_time_in`, in O(log n) a
    query)."""
    if not len(ch):
        return lambda t: np.zeros_like(np.asarray(t, dtype=float))
    x = ch.t_s
    on = np.asarray(pred(ch.value), dtype=float)
    y = np.concatenate([[0.0], np.cumsum(on[:-1] * np.diff(x))])
    last_x, last_on = float(x[-1]), float(on[-1])

    def f(t):
        t = np.asarray(t, dtype=float)
        return np.interp(t, x, y) + last_on * np.maximum(t - last_x, 0.0)

    return f


def charging_sessions(trace: Trace, merge_gap_s: float = 600.0) -> list[tuple[float, float]]:
    """Plugged sessions ``(start s, end s)`` with short unplugged gaps merged."""
    if "plugged" not in trace:
        return []
    out: list[tuple[float, float]] = []
    for a, b in _spans(trace["plugged"], trace.duration_s, 1.0):
        if out and a - out[-1][1] < merge_gap_s:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _longest_in_band(level: Channel, a: float, b: float, lo: float, hi: float) -> tuple[float, float]:
    """Longest stretch within ``[a, b]`` with the level in ``[lo, hi]``: (length s, median level)."""
    edges = np.clip(np.append(level.t_s, np.inf), a, b)
    i0 = max(int(np.searchsorted(level.t_s, a, side="right")) - 1, 0)
    best, run, vals, best_vals = 0.0, 0.0, [], []
    for i in range(i0, len(level)):
        d = edges[i + 1] - edges[i]
        if edges[i] >= b:
            break
        v = level.value[i]
        if lo - 1e-9 <= v <= hi + 1e-9:
            run += d
            vals.append(v)
            if run > best:
                best, best_vals = run, list(vals)
        else:
            run, vals = 0.0, []
    return best, (float(np.median(best_vals)) if best_vals else NAN)


def _drain_rates(trace: Trace, min_rate_h: float) -> dict[str, float]:
    out = {"drain_screen_on_pct_per_h": NAN, "drain_screen_off_pct_per_h": NAN, "drain_fit_h": 0.0}
    out["drain_unplugged_pct_per_h"] = NAN
    if "battery_level" not in trace or "plugged" not in trace:
        return out
    lv, pl = trace["battery_level"], trace["plugged"]
    scr = trace.series.get("screen_on")
    a, b = lv.t_s[:-1], lv.t_s[1:]
    unplugged = _cumulative(pl, lambda v: v == 0)
    ok = (b > a) & (unplugged(b) - unplugged(a) >= b - a - 1e-6)
    d = np.diff(lv.value)[ok]
    a, b = a[ok], b[ok]
    tot_d, tot_t = float(d.sum()), float((b - a).sum())
    rows = np.zeros((0, 3))
    if scr is not None:
        f_on, f_off = _cumulative(scr, lambda v: v == 1), _cumulative(scr, lambda v: v == 0)
        on, off = f_on(b) - f_on(a), f_off(b) - f_off(a)
        full = on + off >= b - a - 1e-6
        rows = np.column_stack([on[full], off[full], d[full]])
    if tot_t >= min_rate_h * H_S:
        out["drain_unplugged_pct_per_h"] = float(-tot_d / tot_t * H_S * 100.0)
    if len(rows):
        x = rows
        out["drain_fit_h"] = float(x[:, :2].sum() / H_S)
        t_on, t_off = x[:, 0].sum(), x[:, 1].sum()
        cols = [j for j, tt in ((0, t_on), (1, t_off)) if tt >= min_rate_h * H_S]
        if cols:
            coef, *_ = np.linalg.lstsq(x[:, cols] / H_S, x[:, 2] * 100.0, rcond=None)
            for j, c in zip(cols, coef):
                key = "drain_screen_on_pct_per_h" if j == 0 else "drain_screen_off_pct_per_h"
                out[key] = float(-c)
    return out


def trace_statistics(
    trace: Trace,
    merge_gap_s: float = 600.0,
    hold_band: tuple[float, float] = (0.78, 0.82),
    hold_min_s: float = 1800.0,
    min_rate_h: float = 1.0,
) -> dict[str, Any]:
    """Calibration statistics of ``trace`` (see the module docstring for definitions).

    Returns a dict of floats (NaN when the trace cannot tell) and one list,
    ``plugin_levels`` (fractions, in time order):

    * ``days``: trace length, days; ``plugged_days``: days with ``plugged`` recorded.
    * ``charging_sessions``, ``charging_sessions_per_day`` (per ``plugged_days``),
      ``daily_plugins_median`` (median sessions started per whole local day).
    * ``plugin_levels``, ``plugin_level_median``, ``plugin_level_p10``,
      ``plugin_level_p90``, ``plugin_share_le_20``, ``daytime_plugins_share_le_10`` (not
      overnight), ``overnight_plugin_level_median``.
    * ``nights``, ``overnight_sessions``, ``overnight_nights_share`` (local 03:00 instants
      with ``plugged`` recorded that fall in a session), ``overnight_plug_hour_median`` and
      ``overnight_unplug_hour_median`` (local hours, plug-ins after noon counted as
      negative: 23:30 is -0.5), ``overnight_length_h_median``.
    * ``overnight_holds`` (overnight sessions with a hold), ``overnight_hold_rate``
      (holds / overnight sessions), ``hold_h_median``, ``hold_level_median``,
      ``overnight_hold_share_median`` (sessions > 5 h: time at 78-82 % / length, median),
      ``overnight_unplug_full_share`` (sessions > 5 h unplugged at >= 95 %).
    * ``screen_recorded_h``, ``screen_on_share``, ``screen_on_h_per_day``.
    * ``drain_unplugged_pct_per_h`` (all unplugged level intervals),
      ``drain_screen_on_pct_per_h``, ``drain_screen_off_pct_per_h``, ``drain_fit_h`` (h of
      unplugged intervals with the screen recorded used in the fit).
    """
    days = trace.days()
    s: dict[str, Any] = {"days": days}
    lv = trace.series.get("battery_level")
    pl = trace.series.get("plugged")
    plugged_s = pl.known_s(trace.duration_s) if pl is not None else 0.0
    s["plugged_days"] = plugged_s / DAY_S
    sess = charging_sessions(trace, merge_gap_s)
    s["charging_sessions"] = float(len(sess))
    s["charging_sessions_per_day"] = len(sess) / s["plugged_days"] if plugged_s > 0 else NAN

    # whole local days: sessions started per day, median
    mids = trace.local_midnights()
    if pl is not None and mids.size >= 2:
        starts = np.array([a for a, _ in sess])
        counts = [int(np.sum((starts >= mids[k]) & (starts < mids[k + 1]))) for k in range(mids.size - 1)]
        s["daily_plugins_median"] = float(np.median(counts))
    else:
        s["daily_plugins_median"] = NAN

    # overnight sessions: containing a local 03:00
    three = (3 * H_S - float(trace.local_time_s(0.0))) % DAY_S
    threes = np.arange(three, trace.duration_s, DAY_S)
    if pl is not None:
        threes = threes[np.isfinite(pl.at(threes))]
    overnight = [(a, b) for a, b in sess if np.any((threes >= a) & (threes < b))]
    s["nights"] = float(threes.size)
    s["overnight_sessions"] = float(len(overnight))
    nights_with = sum(1 for x in threes if any(a <= x < b for a, b in overnight))
    s["overnight_nights_share"] = nights_with / threes.size if threes.size else NAN

    def hour(t: float) -> float:
        h = float(trace.local_time_s(t)) / H_S
        return h - 24.0 if h >= 12.0 else h

    s["overnight_plug_hour_median"] = float(np.median([hour(a) for a, _ in overnight])) if overnight else NAN
    s["overnight_unplug_hour_median"] = float(np.median([hour(b) for _, b in overnight])) if overnight else NAN
    s["overnight_length_h_median"] = float(np.median([(b - a) / H_S for a, b in overnight])) if overnight else NAN

    # plug-in levels
    if lv is not None and sess:
        levels = [float(lv.at(a)) for a, _ in sess]
        night = [any(o == x for o in overnight) for x in sess]
        x = np.array(levels)
        ok = np.isfinite(x)
        s["plugin_levels"] = [round(v, 4) for v in x[ok].tolist()]
        xs = x[ok]
        s["plugin_level_median"] = float(np.median(xs)) if xs.size else NAN
        s["plugin_level_p10"] = float(np.quantile(xs, 0.1)) if xs.size else NAN
        s["plugin_level_p90"] = float(np.quantile(xs, 0.9)) if xs.size else NAN
        s["plugin_share_le_20"] = float(np.mean(xs <= 0.20 + 1e-9)) if xs.size else NAN
        day = x[ok & ~np.array(night)]
        s["daytime_plugins_share_le_10"] = float(np.mean(day <= 0.10 + 1e-9)) if day.size else NAN
        nx = x[ok & np.array(night)]
        s["overnight_plugin_level_median"] = float(np.median(nx)) if nx.size else NAN
    else:
        s["plugin_levels"] = []
        for k in (
            "plugin_level_median",
            "plugin_level_p10",
            "plugin_level_p90",
            "plugin_share_le_20",
            "daytime_plugins_share_le_10",
            "overnight_plugin_level_median",
        ):
            s[k] = NAN

    # holds of optimised charging
    lo, hi = hold_band
    holds, in_band, unplug_full = [], [], []
    if lv is not None:
        for a, b in overnight:
            length, level = _longest_in_band(lv, a, b, lo, hi)
            if length >= hold_min_s:
                holds.append((length, level))
            if b - a > 5 * H_S:
                in_band.append(_time_in(lv, a, b, lambda v: (v >= lo - 1e-9) & (v <= hi + 1e-9)) / (b - a))
                unplug_full.append(float(lv.at(b)) >= 0.95 - 1e-9)
    s["overnight_holds"] = float(len(holds))
    s["overnight_hold_rate"] = len(holds) / len(overnight) if overnight and lv is not None else NAN
    s["hold_h_median"] = float(np.median([h for h, _ in holds]) / H_S) if holds else NAN
    s["hold_level_median"] = float(np.median([v for _, v in holds])) if holds else NAN
    s["overnight_hold_share_median"] = float(np.median(in_band)) if in_band else NAN
    s["overnight_unplug_full_share"] = float(np.mean(unplug_full)) if unplug_full else NAN

    # screen
    scr = trace.series.get("screen_on")
    if scr is not None:
        on = _time_in(scr, 0.0, trace.duration_s, lambda v: v == 1)
        off = _time_in(scr, 0.0, trace.duration_s, lambda v: v == 0)
        s["screen_recorded_h"] = (on + off) / H_S
        s["screen_on_share"] = on / (on + off) if on + off > 0 else NAN
        s["screen_on_h_per_day"] = on / H_S / ((on + off) / DAY_S) if on + off > 0 else NAN
    else:
        s["screen_recorded_h"], s["screen_on_share"], s["screen_on_h_per_day"] = 0.0, NAN, NAN

    s.update(_drain_rates(trace, min_rate_h))
    return s


def coverage_by_day(trace: Trace) -> list[dict[str, Any]]:
    """Hours recorded per channel for each local calendar day the trace touches:
    ``[{"date": "2026-01-31", "hours": 24.0, "channels": {"plugged": 24.0, ...}}, ...]``
    (``hours``: the part of that day inside the trace). A channel is recorded from its first
    sample on while its value is not NaN."""
    mids = trace.local_midnights()
    bounds = np.concatenate([[0.0], mids, [trace.duration_s]])
    bounds = np.unique(bounds)
    out = []
    for a, b in itertools.pairwise(bounds):
        if b <= a:
            continue
        if math.isfinite(trace.start_utc_s):
            off = trace.utc_offset_s or 0.0
            date = datetime.fromtimestamp(trace.start_utc_s + a + off, timezone.utc).date().isoformat()
        else:
            date = f"day {int(a // DAY_S)}"
        chans = {}
        for k, ch in trace.series.items():
            h = round(_time_in(ch, a, b, np.isfinite) / H_S, 2)
            if h > 0:
                chans[k] = h
        out.append({"date": date, "hours": round(float(b - a) / H_S, 2), "channels": chans})
    return out
