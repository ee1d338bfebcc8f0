"""A simulated phone's event log recorded as a :class:`~bgenv.traces.trace.Trace`.

:func:`trace_from_events` turns the log of one episode (``record_events=True``; read
through :mod:`bgenv.eventlog`) into the record a loader makes of a real phone, so that
:func:`bgenv.traces.trace_statistics` measures the synthetic world and a recording in the
same way (``docs/calibration.md``, "Against the shipped trace"). It reads a finished log
and never steps the simulator.

Channels written (each from the log's first record of it on; the episode's start state is
in its ``reset`` record):

* ``screen_on``: 1 while the screen is on (this app or other use), 0 off;
* ``app_open``: 1 while this app is in the foreground;
* ``plugged``: 1 from a ``charge_start`` to its ``charge_stop`` (charging or held by
  optimised charging), as a real phone's external-power flag;
* ``battery_level``: every level the log records (a ``level`` record at reset and each
  simulated hour, and the level on the ``screen``, ``app_open``/``app_close``,
  ``charge_*`` and ``low_power`` records, :data:`bgenv.eventlog.BATTERY_RECORDS`), as
  samples of a step function (the real traces are too: PowerLog's ~5-min rows while the
  level moves, GreenHub's 1 % steps). Unlike them it is not rounded to whole per cent;
* ``network``: the network the phone has (0 none, also during a drop; 1 cellular; 2 Wi-Fi);
* ``low_power``: Low Power Mode / Battery Saver.

Doze and temperature are not written (the simulator has Doze states on Android only and
a thermal state, not a temperature).

**Time base**: the trace starts at the episode's start ``t0`` (simulated s since midnight
of day 0, local time); ``start_utc_s = t0`` with ``utc_offset_s = 0``, so the trace's
local clock is the simulator's (day 0 is 1 Jan 1970).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bgenv import eventlog as el
from bgenv.traces.trace import NETWORK_CODES, Channel, Trace, step


def _channel(chg: Sequence[tuple[float, float]], t0: float) -> Channel:
    """Changes ``(t s since midnight of day 0, value)`` as a channel rebased on ``t0``."""
    if not chg:
        return Channel(np.zeros(0), np.zeros(0))
    t = np.array([c[0] for c in chg], dtype=np.float64) - t0
    v = np.array([c[1] for c in chg], dtype=np.float64)
    keep = t >= -1e-9
    return step(np.maximum(t[keep], 0.0), v[keep])


def trace_from_events(events: Sequence[el.Event], t0: float, t_end: float, name: str = "synthetic") -> Trace:
    """The trace of one episode's event log over ``[t0, t_end]`` (simulated s since
    midnight of day 0: the episode's start and where its log ends); see the module
    docstring for the channels and time base."""
    screen = el.changes(events, "screen")
    charging = el.changes(events, "charging")
    network = [(t, NETWORK_CODES[v]) for t, v in el.changes(events, "network") if v is not None]
    low_power = el.changes(events, "low_power")
    levels, values = el.battery_series(events, t0, t_end)
    series = {
        "screen_on": _channel([(t, float(v != "off")) for t, v in screen], t0),
        "app_open": _channel([(t, float(v == "app")) for t, v in screen], t0),
        "plugged": _channel([(t, float(v != "off")) for t, v in charging], t0),
        "battery_level": _channel(list(zip(levels.tolist(), values.tolist())), t0),
        "network": _channel(network, t0),
        "low_power": _channel([(t, float(v == "on")) for t, v in low_power], t0),
    }
    return Trace(
        start_utc_s=float(t0),
        duration_s=float(t_end - t0),
        series={k: ch for k, ch in series.items() if len(ch)},
        utc_offset_s=0.0,
        name=name,
        source="bgenv event log (bgenv.traces.record)",
    )
