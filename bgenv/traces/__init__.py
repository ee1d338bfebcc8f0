"""Recorded device traces: the record, loaders of real phone logs, the shipped sample and
their statistics.

* :class:`Trace` / :class:`Channel` (:mod:`bgenv.traces.trace`): one device's channels
  (screen, this app's foreground, plugged, battery level, network, Low Power Mode, Doze,
  temperature) as step functions of float64 arrays, with windows, local midnights and
  ``.npz`` files.
* Loaders, each documenting its format and gaps: :func:`load_batterystats` (Android
  ``dumpsys batterystats --checkin`` history), :func:`load_powerlog` (iOS PowerLog
  SQLite), :func:`load_greenhub` (GreenHub samples CSV).
* :func:`load_sample` (``"mcm_iphone13"``): the shipped iPhone trace.
* :func:`trace_statistics`: charging, plug-in, overnight-hold, screen and drain statistics
  for calibration.

This package is in the config/data layer: it reads files into arrays and never steps the
simulator.
"""

from bgenv.traces.batterystats import load_batterystats, parse_batterystats
from bgenv.traces.greenhub import load_greenhub
from bgenv.traces.powerlog import load_powerlog
from bgenv.traces.sample import SAMPLES, load_sample
from bgenv.traces.statistics import charging_sessions, coverage_by_day, trace_statistics
from bgenv.traces.trace import CHANNELS, DOZE_CODES, NETWORK_CODES, Channel, Trace

__all__ = [
    "CHANNELS",
    "DOZE_CODES",
    "NETWORK_CODES",
    "SAMPLES",
    "Channel",
    "Trace",
    "charging_sessions",
    "coverage_by_day",
    "load_batterystats",
    "load_greenhub",
    "load_powerlog",
    "load_sample",
    "parse_batterystats",
    "trace_statistics",
]
