"""Event-log records written by the kernel (decoded on the host by ``sim.py``)."""

from __future__ import annotations

from bgenv.core.jit import kjit
from bgenv.core.layout import EV_BUF, I_EV_N, I_EV_ON, S_T


@kjit(inline="always")
def log_event(sf, si, ev, kind: int, a: float, b: float, c: float, d: float) -> None:
    """Append one record ``(t, kind, a, b, c, d)`` if event recording is on."""
    if si[I_EV_ON] == 0:
        return
    k = si[I_EV_N]
    if k >= EV_BUF:  # cannot happen: the kernel pauses for a flush before the buffer fills
        return
    ev[k, 0] = sf[S_T]
    ev[k, 1] = kind
    ev[k, 2] = a
    ev[k, 3] = b
    ev[k, 4] = c
    ev[k, 5] = d
    si[I_EV_N] = k + 1
