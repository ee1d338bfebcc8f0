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
    KIND_UPLOAD,
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
    S_TX_UNITS,
    TTS_BUF,
)
from bgenv.core.rng import SYS, uniform

DONE_EPS = 1e-9


@kjit
def add_item(pf, sf, si, items, ev, kind: int, units: float) -> None:
    """A new work item arrives. Content refresh coalesces into the pending one (a fetch
    gets the latest content whatever was published). When the backlog table is full the
    item joins the newest row of its kind, or two rows are merged to make room, so the
    per-kind books stay exact."""
    t = sf[S_T]
    si[I_ITEMS_DIRTY] = 1
    free = -1
    same = -1
    hi = si[I_ITEMS_HI]
    for r in range(hi):
        if items[r, IT_ACTIVE] == 0.0:
            if free < 0:
                free = r
        elif items[r, IT_KIND] == kind:
            if same < 0 or items[r, IT_ARRIVE] > items[same, IT_ARRIVE]:
                same = r
    if free < 0 and hi < MAXI:
        free = hi  # rows from hi on are empty
    if kind == KIND_REFRESH and same >= 0:
        log_event(sf, si, ev, EVK_ARRIVAL, kind, 0.0, 1.0, items[same, IT_DEADLINE] - t)
        return
    sf[M_ARRIVED] += units
    if free < 0 and same >= 0:
        items[same, IT_REM] += units
        items[same, IT_SIZE] += units
        log_event(sf, si, ev, EVK_ARRIVAL, kind, units, 1.0, items[same, IT_DEADLINE] - t)
        return
    if free < 0:
        free = _make_room(si, items)
    r = free
    items[r, IT_ACTIVE] = 1.0
    items[r, IT_KIND] = kind
    items[r, IT_REM] = units
    items[r, IT_SIZE] = units
    items[r, IT_ARRIVE] = t
    items[r, IT_DEADLINE] = t + pf[P_K_DEADLINE + kind]
    items[r, IT_WINDOWS] = 0.0
    items[r, IT_LAST_WIN] = -1.0
    items[r, IT_OVERDUE] = 0.0
    si[I_NITEMS] += 1
    if r >= si[I_ITEMS_HI]:
        si[I_ITEMS_HI] = r + 1
    sf[M_ITEMS_ARRIVED] += 1.0
    log_event(sf, si, ev, EVK_ARRIVAL, kind, units, 0.0, pf[P_K_DEADLINE + kind])


@kjit
def _make_room(si, items) -> int:
    """Free a row of a full table by merging the two newest rows of the kind with the
    most rows into one (units, size and the earlier arrival and deadline are kept).
    Returns the freed row."""
    kind = 0  # the kind with the most rows (the first on a tie); a full table of
    best = -1  # MAXI > NKIND rows has a kind with >= 2
    for k in range(NKIND):
        c = 0
        for r in range(MAXI):
            if items[r, IT_KIND] == k:
                c += 1
        if c > best:
            best = c
            kind = k
    a = -1
    b = -1
    for r in range(MAXI):
        if items[r, IT_KIND] != kind:
            continue
        if a < 0 or items[r, IT_ARRIVE] > items[a, IT_ARRIVE]:
            b = a
            a = r
        elif b < 0 or items[r, IT_ARRIVE] > items[b, IT_ARRIVE]:
            b = r
    items[b, IT_REM] += items[a, IT_REM]
    items[b, IT_SIZE] += items[a, IT_SIZE]
    items[b, IT_DEADLINE] = min(items[b, IT_DEADLINE], items[a, IT_DEADLINE])
    items[b, IT_OVERDUE] = max(items[b, IT_OVERDUE], items[a, IT_OVERDUE])
    items[a, IT_ACTIVE] = 0.0
    items[a, IT_REM] = 0.0
    si[I_NITEMS] -= 1
    return a


@kjit(inline="always")
def _shrink_hi(si, items) -> None:
    """Lower the backlog table's high-water mark past rows that have emptied."""
    hi = si[I_ITEMS_HI]
    while hi > 0 and items[hi - 1, IT_ACTIVE] == 0.0:
        hi -= 1
    si[I_ITEMS_HI] = hi


@kjit
def pending_units(si, items, kind: int) -> float:
    """Remaining units of one kind (all kinds when ``kind < 0``)."""
    tot = 0.0
    for r in range(si[I_ITEMS_HI]):
        if items[r, IT_ACTIVE] != 0.0 and (kind < 0 or items[r, IT_KIND] == kind):
            tot += items[r, IT_REM]
    return tot


@kjit
def free_units(sf, si, items, kind: int) -> float:
    """Remaining units of ``kind`` a chunk may work on: the pending ones less the upload
    units handed to an iOS background transfer (``transfer.py``), which stay pending
    until it is done."""
    units = pending_units(si, items, kind)
    if kind == KIND_UPLOAD:
        units = max(0.0, units - sf[S_TX_UNITS])
    return units


@kjit
def workable(pf, sf, si, items, kind: int, has_net: bool) -> bool:
    """Whether a chunk of this kind could make progress now."""
    if pf[P_K_NET + kind] != 0.0 and not has_net:
        return False
    return free_units(sf, si, items, kind) > DONE_EPS


@kjit
def auto_kind(pf, sf, si, items, has_net: bool) -> int:
    """The kind 'auto' works on: the workable kind with the best (lowest) priority rank."""
    best = -1
    for k in range(NKIND):
        if workable(pf, sf, si, items, k, has_net):
            if best < 0 or pf[P_K_PRIORITY + k] < pf[P_K_PRIORITY + best]:
                best = k
    return best


@kjit
def mark_attempt(si, items, kind: int, units: float) -> None:
    """Count this window as an attempt on the items a chunk of ``units`` will touch."""
    wid = float(si[I_WIN_ID])
    left = units
    while left > DONE_EPS:
        r = _oldest(si, items, kind, wid, True)
        if r < 0:
            return
        if items[r, IT_LAST_WIN] != wid:
            items[r, IT_LAST_WIN] = wid
            items[r, IT_WINDOWS] += 1.0
        left -= items[r, IT_REM]


@kjit
def _oldest(si, items, kind: int, wid: float, skip_marked: bool) -> int:
    best = -1
    for r in range(si[I_ITEMS_HI]):
        if items[r, IT_ACTIVE] != 0.0 and items[r, IT_KIND] == kind:
            if skip_marked and items[r, IT_LAST_WIN] == wid:
                continue
            if best < 0 or items[r, IT_ARRIVE] < items[best, IT_ARRIVE]:
                best = r
    return best


@kjit
def oldest_arrival(si, items, kind: int) -> float:
    """Arrival time (s) of the oldest pending item of ``kind``, the one the next chunk
    of that kind works on; -1 when none. (At most one content-refresh item is ever
    pending, so for refresh this names the content being fetched.)"""
    r = _oldest(si, items, kind, -2.0, False)
    return items[r, IT_ARRIVE] if r >= 0 else -1.0


@kjit
def _record_tts(sf, si, rng, tts, dt: float) -> None:
    k = si[I_TTS_N]
    if k < TTS_BUF:
        tts[k] = dt
    else:  # reservoir sampling keeps an unbiased sample for the median
        j = int(uniform(si, rng, SYS) * (k + 1))
        if j < TTS_BUF:
            tts[j] = dt
    si[I_TTS_N] = k + 1


@kjit
def complete_units(sf, si, items, rng, tts, kind: int, units: float, background: bool) -> float:
    """Apply saved work to the oldest items of ``kind``; returns the units applied."""
    t = sf[S_T]
    si[I_ITEMS_DIRTY] = 1
    left = units
    done = 0.0
    while left > DONE_EPS:
        r = _oldest(si, items, kind, -2.0, False)
        if r < 0:
            break
        take = min(left, items[r, IT_REM])
        items[r, IT_REM] -= take
        left -= take
        done += take
        if items[r, IT_REM] <= DONE_EPS:
            done += items[r, IT_REM]
            items[r, IT_REM] = 0.0
            items[r, IT_ACTIVE] = 0.0
            si[I_NITEMS] -= 1
            sf[M_ITEMS_DONE] += 1.0
            if items[r, IT_WINDOWS] > 1.0:
                sf[M_RETRIES] += items[r, IT_WINDOWS] - 1.0
            _record_tts(sf, si, rng, tts, t - items[r, IT_ARRIVE])
    _shrink_hi(si, items)
    sf[M_COMPLETED] += done
    if background:
        sf[M_COMPLETED_BG] += done
    if kind == KIND_REFRESH and pending_units(si, items, KIND_REFRESH) <= DONE_EPS:
        sf[S_LAST_REFRESH] = t
    return done


@kjit(inline="always")
def next_deadline(si, items) -> float:
    """Earliest soft deadline among items not yet overdue (inf if none)."""
    best = np.inf
    for r in range(si[I_ITEMS_HI]):
        if items[r, IT_ACTIVE] != 0.0 and items[r, IT_OVERDUE] == 0.0 and items[r, IT_DEADLINE] < best:
            best = items[r, IT_DEADLINE]
    return best
