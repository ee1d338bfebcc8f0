"""Timeline pictures of an episode: what the phone, its user, the app and the OS did.

Everything drawn comes from the env's event log (``env.unwrapped.events``, see
``bgenv.core.layout.EVENT_SCHEMA``), read through ``bgenv.eventlog``, so a picture can
be checked against the log:

* **window bars** start at their ``grant`` event and end at the ``complete`` /
  ``expire`` / ``kill`` event that closes them (one window runs at a time, and a grace
  kill is logged as an ``expire`` and a ``kill`` at the same instant);
* **state bands** (charging, screen, network, Doze, standby bucket, Low Power Mode /
  Battery Saver, thermal state) change exactly at the logged state changes;
* **requests** are marked at their ``request`` event with a line to their
  ``earliest_begin_s`` floor; refused ones at their ``refused`` event;
* the **battery line** joins every battery level the log records: the ``level`` sample
  the simulator logs at reset and every simulated hour, app open and close, plug and
  unplug, Low Power Mode switches, and the level now;
* the **backlog** (pending work units) passes through every backlog size the log
  records (app open and close, completion reports) and moves with logged arrivals and
  saved chunks in between.

The package's parts:

* ``timeline``: the drawable model, :func:`timeline_spans` (the spans the plot draws,
  in simulated seconds) and :class:`Timeline` (:func:`timeline_from_env`,
  :func:`timeline_from_events`);
* ``figure``: the picture (matplotlib, Agg canvas, no display; imported only when
  drawing), :func:`timeline_figure`, :func:`render_timeline_rgb`, :func:`save_timeline_png`;
* ``ansi``: a compact text version, :func:`render_timeline_ansi`;
* ``style``: colours, labels and text characters.

Rendering reads the log only when called: it costs nothing while an episode runs.
``agents.timeline`` runs a policy's episode and draws it (``bgenv timeline``).
"""

from __future__ import annotations

from bgenv.render import style
from bgenv.render.ansi import render_timeline_ansi
from bgenv.render.figure import figure_size, render_timeline_rgb, save_timeline_png, timeline_figure
from bgenv.render.style import NETWORK_STATES, OUTCOME_COLOR, OUTCOME_LABEL, OUTCOMES, TYPE_LABEL
from bgenv.render.timeline import (
    Span,
    Timeline,
    as_timeline,
    clock,
    request_lines,
    timeline_from_env,
    timeline_from_events,
    timeline_spans,
)

__all__ = [
    "NETWORK_STATES",
    "OUTCOMES",
    "OUTCOME_COLOR",
    "OUTCOME_LABEL",
    "TYPE_LABEL",
    "Span",
    "Timeline",
    "as_timeline",
    "clock",
    "figure_size",
    "render_timeline_ansi",
    "render_timeline_rgb",
    "request_lines",
    "save_timeline_png",
    "style",
    "timeline_figure",
    "timeline_from_env",
    "timeline_from_events",
    "timeline_spans",
]
