"""Counting over rolling windows of time: what the quota and rate-limit experiments measure.

Windows of the event log (:func:`bgenv.eventlog.windows`) become ``(start_s, end_s)``
intervals (:func:`intervals`); the largest time, count or number of sessions inside any
rolling window of ``w`` seconds is what a platform quota limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from bgenv.eventlog import Window


def intervals(ws: Iterable[Window], *types: str) -> list[tuple[float, float]]:
    """``(start_s, end_s)`` of the windows of the given types (all types when none is given)."""
    return [(w.start_s, w.end_s) for w in ws if not types or w.type in types]


def max_rolling_time(intervals: Sequence[tuple[float, float]], w: float) -> float:
    """Largest total length of ``intervals`` inside any window of ``w`` seconds, s."""
    best = 0.0
    cands = {e for _, e in intervals} | {s + w for s, _ in intervals}
    for t in cands:
        lo = t - w
        best = max(best, sum(max(0.0, min(e, t) - max(s, lo)) for s, e in intervals))
    return best


def max_rolling_count(times: Sequence[float], w: float) -> int:
    """Largest number of ``times`` inside any closed window of ``w`` seconds."""
    t = np.sort(np.asarray(times, dtype=float))
    if len(t) == 0:
        return 0
    return int(max(np.searchsorted(t, t + w, side="right") - np.arange(len(t))))


def max_rolling_sessions(intervals: Sequence[tuple[float, float]], w: float, gap: float) -> int:
    """Largest number of sessions (executions less than ``gap`` seconds apart merge)
    starting inside any window of ``w`` seconds."""
    iv = sorted(intervals)
    best = 0
    for i, (s0, _) in enumerate(iv):
        sess, prev_end = 0, None
        for s, e in iv[i:]:
            if s > s0 + w:
                break
            if prev_end is None or s - prev_end >= gap:
                sess += 1
            prev_end = e
        best = max(best, sess)
    return best


def fmt_s(x: float) -> str:
    """Seconds for the table: ``"600 s"``."""
    return f"{x:.0f} s"
