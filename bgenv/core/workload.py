"""The app's backlog: work items arriving, waiting, being worked in chunks, completing.

Units: sizes in *work units* (one unit = one second of background work at nominal
speed, see ``P_K_SEC``), times in seconds. Work is conserved: an item's remaining
units only fall when a chunk is *saved*; a chunk lost to an expiration or a kill
leaves the items as they were, so ``arrived == completed + pending`` always holds.
"""

from __future__ import annotations

import numpy as np

from bgenv.core.eventlog import log_event
from bgenv.core.jit import kjit
from bgenv.core.layout import (
    EVK_ARRIVAL,
    I_ITEMS_DIRTY,
    I_ITEMS_HI,
    I_NITEMS,
    I_TTS_N,
    I_WIN_ID,
    IT_ACTIVE,
    IT_ARRIVE,
    IT_DEADLINE,
    IT_KIND,
    IT_LAST_WIN,
    IT_OVERDUE,
    IT_REM,
    IT_SIZE,
    IT_WINDOWS,
    KIND_REFRESH,
    M_ARRIVED,
    M_COMPLETED,
    M_COMPLETED_BG,
    M_ITEMS_ARRIVED,
    M_ITEMS_DONE,
    M_RETRIES,
    MAXI,
    NKIND,
    P_K_DEADLINE,
    P_K_NET,
    P_K_PRIORITY,
    S_LAST_REFRESH,
    S_T,
    TTS_BUF,
)
from bgenv.core.rng import SYS, uniform

DONE_EPS = 1e-9


@kjit
def add_item(pf, s, n, it, ev, kind: int, units: float) -> None:
    """A new work item arrives. Content refresh coalesces into the pending one (a fetch
    gets the latest content whatever was published). When the backlog table is full the
    item joins the newest row of its kind, or two rows are merged to make room, so the
    per-kind books stay exact."""
    t = s[S_T]
    n[I_ITEMS_DIRTY] = 1
    free = -1
    same = -1
    hi = n[I_ITEMS_HI]
    for r in range(hi):
        if it[r, IT_ACTIVE] == 0.0:
            if free < 0:
                free = r
        elif it[r, IT_KIND] == kind:
            if same < 0 or it[r, IT_ARRIVE] > it[same, IT_ARRIVE]:
                same = r
    if free < 0 and hi < MAXI:
        free = hi  # rows from hi on are empty
    if kind == KIND_REFRESH and same >= 0:
        log_event(s, n, ev, EVK_ARRIVAL, kind, 0.0, 1.0, it[same, IT_DEADLINE] - t)
        return
    s[M_ARRIVED] += units
    if free < 0 and same >= 0:
        it[same, IT_REM] += units
        it[same, IT_SIZE] += units
        log_event(s, n, ev, EVK_ARRIVAL, kind, units, 1.0, it[same, IT_DEADLINE] - t)
        return
    if free < 0:
        free = _make_room(n, it)
    r = free
    it[r, IT_ACTIVE] = 1.0
    it[r, IT_KIND] = kind
    it[r, IT_REM] = units
    it[r, IT_SIZE] = units
    it[r, IT_ARRIVE] = t
    it[r, IT_DEADLINE] = t + pf[P_K_DEADLINE + kind]
    it[r, IT_WINDOWS] = 0.0
    it[r, IT_LAST_WIN] = -1.0
    it[r, IT_OVERDUE] = 0.0
    n[I_NITEMS] += 1
    if r >= n[I_ITEMS_HI]:
        n[I_ITEMS_HI] = r + 1
    s[M_ITEMS_ARRIVED] += 1.0
    log_event(s, n, ev, EVK_ARRIVAL, kind, units, 0.0, pf[P_K_DEADLINE + kind])


@kjit
def _make_room(n, it) -> int:
    """Free a row of a full table by merging the two newest rows of the kind with the
    most rows into one (units, size and the earlier arrival and deadline are kept).
    Returns the freed row."""
    kind = 0  # the kind with the most rows (the first on a tie); a full table of
    best = -1  # MAXI > NKIND rows has a kind with >= 2
    for k in range(NKIND):
        c = 0
        for r in range(MAXI):
            if it[r, IT_KIND] == k:
                c += 1
        if c > best:
            best = c
            kind = k
    a = -1
    b = -1
    for r in range(MAXI):
        if it[r, IT_KIND] != kind:
            continue
        if a < 0 or it[r, IT_ARRIVE] > it[a, IT_ARRIVE]:
            b = a
            a = r
        elif b < 0 or it[r, IT_ARRIVE] > it[b, IT_ARRIVE]:
            b = r
    it[b, IT_REM] += it[a, IT_REM]
    it[b, IT_SIZE] += it[a, IT_SIZE]
    it[b, IT_DEADLINE] = min(it[b, IT_DEADLINE], it[a, IT_DEADLINE])
    it[b, IT_OVERDUE] = max(it[b, IT_OVERDUE], it[a, IT_OVERDUE])
    it[a, IT_ACTIVE] = 0.0
    it[a, IT_REM] = 0.0
    n[I_NITEMS] -= 1
    return a


@kjit(inline="always")
def _shrink_hi(n, it) -> None:
    """Lower the backlog table's high-water mark past rows that have emptied."""
    hi = n[I_ITEMS_HI]
    while hi > 0 and it[hi - 1, IT_ACTIVE] == 0.0:
        hi -= 1
    n[I_ITEMS_HI] = hi


@kjit
def pending_units(n, it, kind: int) -> float:
    """Remaining units of one kind (all kinds when ``kind < 0``)."""
    tot = 0.0
    for r in range(n[I_ITEMS_HI]):
        if it[r, IT_ACTIVE] != 0.0 and (kind < 0 or it[r, IT_KIND] == kind):
            tot += it[r, IT_REM]
    return tot


@kjit
def workable(pf, n, it, kind: int, has_net: bool) -> bool:
    """Whether a chunk of this kind could make progress now."""
    if pf[P_K_NET + kind] != 0.0 and not has_net:
        return False
    return pending_units(n, it, kind) > DONE_EPS


@kjit
def auto_kind(pf, n, it, has_net: bool) -> int:
    """The kind 'auto' works on: the workable kind with the best (lowest) priority rank."""
    best = -1
    for k in range(NKIND):
        if workable(pf, n, it, k, has_net):
            if best < 0 or pf[P_K_PRIORITY + k] < pf[P_K_PRIORITY + best]:
                best = k
    return best


@kjit
def mark_attempt(n, it, kind: int, units: float) -> None:
    """Count this window as an attempt on the items a chunk of ``units`` will touch."""
    wid = float(n[I_WIN_ID])
    left = units
    while left > DONE_EPS:
        r = _oldest(n, it, kind, wid, True)
        if r < 0:
            return
        if it[r, IT_LAST_WIN] != wid:
            it[r, IT_LAST_WIN] = wid
            it[r, IT_WINDOWS] += 1.0
        left -= it[r, IT_REM]


@kjit
def _oldest(n, it, kind: int, wid: float, skip_marked: bool) -> int:
    best = -1
    for r in range(n[I_ITEMS_HI]):
        if it[r, IT_ACTIVE] != 0.0 and it[r, IT_KIND] == kind:
            if skip_marked and it[r, IT_LAST_WIN] == wid:
                continue
            if best < 0 or it[r, IT_ARRIVE] < it[best, IT_ARRIVE]:
                best = r
    return best


@kjit
def _record_tts(s, n, rg, tt, dt: float) -> None:
    k = n[I_TTS_N]
    if k < TTS_BUF:
        tt[k] = dt
    else:  # reservoir sampling keeps an unbiased sample for the median
        j = int(uniform(n, rg, SYS) * (k + 1))
        if j < TTS_BUF:
            tt[j] = dt
    n[I_TTS_N] = k + 1


@kjit
def complete_units(s, n, it, rg, tt, kind: int, units: float, background: bool) -> float:
    """Apply saved work to the oldest items of ``kind``; returns the units applied."""
    t = s[S_T]
    n[I_ITEMS_DIRTY] = 1
    left = units
    done = 0.0
    while left > DONE_EPS:
        r = _oldest(n, it, kind, -2.0, False)
        if r < 0:
            break
        take = min(left, it[r, IT_REM])
        it[r, IT_REM] -= take
        left -= take
        done += take
        if it[r, IT_REM] <= DONE_EPS:
            done += it[r, IT_REM]
            it[r, IT_REM] = 0.0
            it[r, IT_ACTIVE] = 0.0
            n[I_NITEMS] -= 1
            s[M_ITEMS_DONE] += 1.0
            if it[r, IT_WINDOWS] > 1.0:
                s[M_RETRIES] += it[r, IT_WINDOWS] - 1.0
            _record_tts(s, n, rg, tt, t - it[r, IT_ARRIVE])
    _shrink_hi(n, it)
    s[M_COMPLETED] += done
    if background:
        s[M_COMPLETED_BG] += done
    if kind == KIND_REFRESH and pending_units(n, it, KIND_REFRESH) <= DONE_EPS:
        s[S_LAST_REFRESH] = t
    return done


@kjit(inline="always")
def next_deadline(n, it) -> float:
    """Earliest soft deadline among items not yet overdue (inf if none)."""
    best = np.inf
    for r in range(n[I_ITEMS_HI]):
        if it[r, IT_ACTIVE] != 0.0 and it[r, IT_OVERDUE] == 0.0 and it[r, IT_DEADLINE] < best:
            best = it[r, IT_DEADLINE]
    return best
