"""The text timeline: one row per lane, one character per time bucket.

``render_timeline_ansi`` draws a :class:`~bgenv.render.timeline.Timeline` as plain text
(the env's ``render_mode="ansi"`` and ``bgenv timeline --ansi``): a title and summary,
day and hour rulers, a row per lane, a legend and the last windows with their outcome.
Characters per state: ``bgenv.render.style``.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

from bgenv.eventlog import Window
from bgenv.render.style import (
    BUCKET_CHAR,
    DOZE_CHAR,
    NETWORK_CHAR,
    OUTCOME_CHAR,
    REQUEST_CHAR,
    THERMAL_CHAR,
    TYPE_LABEL,
)
from bgenv.render.timeline import Span, Timeline, as_timeline, clock

__all__ = ["render_timeline_ansi"]

_ANSI_STEPS_S = (300, 600, 900, 1800, 3600, 7200, 10800, 14400, 21600, 43200)  # bucket sizes, s
_BLOCKS = " ▁▂▃▄▅▆▇█"


def _majority(spans: list[Span], edges: np.ndarray, default: str) -> list[str]:
    """The state covering most of each bucket ``[edges[i], edges[i+1])``."""
    out = []
    j = 0
    for a, b in itertools.pairwise(edges):
        cover: dict[str, float] = {}
        while j < len(spans) and spans[j][1] <= a:
            j += 1
        k = j
        while k < len(spans) and spans[k][0] < b:
            s = spans[k]
            cover[s[2]] = cover.get(s[2], 0.0) + min(b, s[1]) - max(a, s[0])
            k += 1
        rest = (b - a) - sum(cover.values())
        if rest > 0:
            cover[default] = cover.get(default, 0.0) + rest
        out.append(max(cover, key=lambda s: cover[s]))
    return out


def _strongest(spans: list[Span], edges: np.ndarray, order: Sequence[str]) -> list[str]:
    """The last state in ``order`` that occurs at all in each bucket (``order[0]`` when
    none does): short charges, Low Power Mode and thermal peaks stay visible."""
    rank = {v: i for i, v in enumerate(order)}
    out = [0] * (len(edges) - 1)
    for a, b, state in spans:
        i0 = max(0, int(np.searchsorted(edges, a, side="right")) - 1)
        i1 = min(len(out) - 1, int(np.searchsorted(edges, b, side="left")) - 1)
        for i in range(i0, i1 + 1):
            out[i] = max(out[i], rank.get(state, 0))
    return [order[i] for i in out]


def render_timeline_ansi(
    source: Any, *, policy: str | None = None, seed: int | None = None, width: int = 100, max_windows: int = 12
) -> str:
    """A compact text timeline: one row per lane, one character per time bucket (a
    round number of minutes or hours so that at most ``width`` buckets cover the time
    axis), a legend, and the last ``max_windows`` windows with their outcome. Lines
    stay within ``width + 12`` columns (legend lines within 112)."""
    tl = as_timeline(source, policy, seed)
    span_s = tl.t_axis_end - tl.t0
    step = next((s for s in _ANSI_STEPS_S if span_s / s <= width), 86400)
    n = math.ceil(span_s / step - 1e-9)
    edges = tl.t0 + step * np.arange(n + 1, dtype=float)
    now_i = min(n, math.ceil((tl.t_end - tl.t0) / step - 1e-9))  # buckets the episode reached
    lab = 12

    def row(name: str, chars: Sequence[str]) -> str:
        cells = "".join(c if i < now_i else " " for i, c in enumerate(chars))
        return f"{name:<{lab}}{cells}".rstrip()

    lines = [f"bgenv timeline · {tl.title()}", *textwrap.wrap(tl.summary(), width + lab)]
    step_txt = f"{step // 60} min" if step < 3600 else f"{step // 3600} h"
    lines.append(f"{'':<{lab}}1 character = {step_txt}; time axis {clock(tl.t0)} → {clock(tl.t_axis_end)}")
    # day and hour rulers
    day_row = [" "] * n
    hour_row = [" "] * n
    for i in range(n):  # mark the character whose time span holds a midnight or a 6-hour mark
        t = edges[i]
        midnight = math.ceil(t / 86400.0) * 86400.0
        six = math.ceil(t / 21600.0) * 21600.0
        if midnight < t + step:
            for k, ch in enumerate(f"day {int(midnight // 86400)}"):
                if i + k < n:
                    day_row[i + k] = ch
            hour_row[i] = "|"
        elif six < t + step and i + 1 < n and hour_row[i] == " ":
            hh = f"{int(six % 86400 // 3600):02d}"
            hour_row[i], hour_row[i + 1] = hh[0], hh[1]
    lines.append(f"{'':<{lab}}{''.join(day_row)}".rstrip())
    lines.append(f"{'hour':<{lab}}{''.join(hour_row)}".rstrip())

    mids = (edges[:-1] + edges[1:]) / 2
    if len(tl.battery_t):
        lvl = np.interp(mids, tl.battery_t, tl.battery)
        lines.append(row("battery", [_BLOCKS[1 + min(7, int(v * 8))] for v in lvl]))
    charging = _strongest(tl.spans["charging"], edges, ("off", "top-up", "overnight"))
    lines.append(row("charging", ["+" if c != "off" else "·" for c in charging]))
    scr = _majority(tl.spans["screen"], edges, "off")
    opens = _points(tl.spans["app_open"], edges)
    screen_chars = []
    for i in range(n):
        if opens[i]:
            screen_chars.append("A" if "stale" not in opens[i] else "a")
        else:
            screen_chars.append({"off": "·", "other": "o", "app": "A"}[scr[i]])
    lines.append(row("screen", screen_chars))
    lines.append(row("network", [NETWORK_CHAR[s] for s in _majority(tl.spans["network"], edges, "none")]))
    if tl.platform == "android":
        lines.append(row("bucket", [BUCKET_CHAR[s] for s in _majority(tl.spans["bucket"], edges, "active")]))
        lines.append(row("doze", [DOZE_CHAR[s] for s in _majority(tl.spans["doze"], edges, "active")]))
    if tl.spans["power"]:  # a replayed phone that ran empty before its recorded charger came
        lines.append(
            row("power", ["X" if s == "off" else "·" for s in _strongest(tl.spans["power"], edges, ("on", "off"))])
        )
    lp_name = "saver" if tl.platform == "android" else "low power"
    lines.append(
        row(lp_name, ["L" if s == "on" else "·" for s in _strongest(tl.spans["low_power"], edges, ("off", "on"))])
    )
    thermal = _strongest(tl.spans["thermal"], edges, ("nominal", "fair", "serious", "critical"))
    lines.append(row("thermal", [THERMAL_CHAR[s] for s in thermal]))
    reqs = _points([(a, a, t) for a, _, t in tl.spans["requests"]], edges)
    refused = _points(tl.spans["refused"], edges)
    retried = _points(tl.spans["rescheduled"], edges)
    req_chars = []
    for i in range(n):
        if refused[i]:
            req_chars.append("!")
        elif retried[i] and not reqs[i]:
            req_chars.append("~")
        elif reqs[i]:
            kinds = {REQUEST_CHAR.get(t, "?") for t in reqs[i]}
            req_chars.append(kinds.pop() if len(kinds) == 1 else "*")
        else:
            req_chars.append("·")
    lines.append(row("requests", req_chars))
    win_chars = ["·"] * n
    rank = {o: i for i, o in enumerate(("running", "completed", "stopped", "expired", "killed"))}
    best = [-1] * n
    for w in tl.windows:
        i0 = min(n - 1, int((w.start_s - tl.t0) // step))
        i1 = min(n - 1, int((max(w.start_s, w.end_s - 1e-9) - tl.t0) // step))
        for i in range(max(0, i0), max(i0, i1) + 1):
            if rank[w.outcome] > best[i]:
                best[i] = rank[w.outcome]
                win_chars[i] = OUTCOME_CHAR[w.outcome]
    lines.append(row("windows", win_chars))
    if len(tl.backlog_t):
        idx = np.searchsorted(tl.backlog_t, edges[1:], side="right") - 1
        lo = np.searchsorted(tl.backlog_t, edges[:-1], side="right") - 1
        top = max(float(tl.backlog.max()), 1e-9)
        chars = []
        for a, b in zip(lo, idx):
            v = float(tl.backlog[max(0, a) : max(0, b) + 1].max())
            chars.append(" " if v <= 0 else _BLOCKS[1 + min(7, int(v / top * 8))])
        lines.append(row("backlog", chars))
        lines.append(f"{'':<{lab}}backlog: ▁ … █ up to {top:.0f} work units (bucket maximum)")
    lines += _ansi_legend(tl)
    lines += _window_list(tl, max_windows)
    return "\n".join(lines)


def _points(points: list[Span], edges: np.ndarray) -> list[list[str]]:
    out: list[list[str]] = [[] for _ in range(len(edges) - 1)]
    for a, _b, lab in points:
        i = int(np.searchsorted(edges, a, side="right")) - 1
        if 0 <= i < len(out):
            out[i].append(lab)
    return out


def _ansi_legend(tl: Timeline) -> list[str]:
    out = [
        "legend: battery ▁ 0-12 % … █ 88-100 % · charging + · screen A app opened (a: data stale) o other use",
        "        network W Wi-Fi c cellular - none · thermal f fair s serious C critical · low power/saver L on",
        "        requests r refresh p processing h health j job x expedited u push a alarm f FGS * several",
        "                 ~ OS retry after a stop (backoff) ! refused",
        "        windows C completed E expired S stopped early K killed R running (worst outcome per character)",
        "        charging, low power, thermal (peak), screen, requests, windows: at any time in the character;",
        "        network, bucket, doze: most of it",
    ]
    if tl.spans["power"]:
        out.append("        power X the phone is off, its battery empty (at any time in the character)")
    if tl.platform == "android":
        out.append("        bucket A active W working set F frequent R rare X restricted")
        out.append(
            "        doze · active : screen off, not idle yet l light idle m light maintenance D deep idle M deep maint."
        )
    return out


def _outcome_text(w: Window) -> str:
    """``completed``, ``expired``, ``stopped (user)``, ``killed (memory)``, ``killed
    (grace)``, ...: the outcome and, unless it says the same, the logged end reason (the
    kill's reason for a killed window)."""
    reason = w.kill_reason if w.killed else w.reason
    if w.outcome in ("completed", "running") or reason == w.outcome:
        return w.outcome
    return f"{w.outcome} ({reason})"


def _window_list(tl: Timeline, k: int) -> list[str]:
    if not tl.windows:
        return ["windows: none granted yet"]
    ws = tl.windows[-k:]
    head = f"windows ({len(tl.windows)} in all; the last {len(ws)}):" if len(tl.windows) > k else "windows:"
    out = [head]
    for w in ws:
        out.append(
            f"  {clock(w.start_s)}:{int(w.start_s % 60):02d}  {TYPE_LABEL.get(w.type, w.type):<15} "
            f"{w.end_s - w.start_s:7.1f} s  {_outcome_text(w):<22} {w.units:6.1f} units saved"
        )
    return out
