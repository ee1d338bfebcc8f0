"""Rebuild the shipped sample ``mcm_iphone13`` from the public source folder.

Usage::

    python -m bgenv.traces.make_sample SRC [OUT]

``SRC`` is a copy of the ``data/`` folder of ``markm39/mcm-battery-2026`` (commit d0f2d11;
CC BY 4.0, Mark Miller) holding ``sysdiagnose/powerlog.EPSQL`` (the repository's
``powerlogs/log_*.EPSQL``, renamed) and ``tables/display_events.csv`` (a CSV export of the
PLSQL table ``PLDisplayAgent_EventForward_Display``). ``OUT`` defaults to
``bgenv/traces/data/mcm_iphone13.npz``.

What the sample keeps and changes (also in ``bgenv/traces/data/NOTICE``):

* ``battery_level``: the EPSQL ``BatteryDataCollection_BDC_SBC_365_1`` column
  ``CurrentCapacity`` (%) divided by 100, only at the samples where it changes;
* ``temperature_c``: the same table's ``Temperature`` (hundredths of °C) divided by 100,
  only where it changes;
* ``plugged``: the EPSQL ``BatteryDataCollection_BDC_OBC_365_1`` column
  ``ExternalConnected`` (before its first record: the SBC ``IsCharging`` flag), with
  charger drop-outs shorter than 120 s merged, and a connected stretch in which the level
  falls by 3 points or more before charging starts counted as unplugged until then;
* ``screen_on``: derived from the display rows' ``Brightness`` by
  :func:`bgenv.traces.powerlog.screen_from_brightness` (120 s hold), only in the 44 h the
  display table covers (NaN before);
* the UTC offset from ``PPTStorageOperator_Locale_1095_1.SecondsFromGMT``;
* every other table and column is dropped (voltages, currents, capacities, brightness
  values, model predictions, ...); no application identifiers are read
  (``component_nodes.csv`` is never opened).
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
from pathlib import Path

import numpy as np

from bgenv.traces.powerlog import OBC_TABLE, SBC_TABLE, build_trace
from bgenv.traces.trace import Trace

DEFAULT_OUT = Path(__file__).resolve().parent / "data" / "mcm_iphone13.npz"
MIN_UNPLUG_S = 120.0
"""Charger drop-outs shorter than this are merged in the sample, s (cable re-seats)."""
MIN_DRAIN_UNPOWERED = 0.03
"""A connected stretch whose level falls by this much before charging starts counts as
unplugged (fraction; one such stretch in the source: 1-2 Jan 2026, 19:19-08:27 local,
25 % down to 1 % while ``ExternalConnected`` was 1 and ``IsCharging`` 0)."""


def build_sample(src: str | Path) -> Trace:
    """The ``mcm_iphone13`` trace from the source folder ``src`` (see the module docstring)."""
    src = Path(src)
    db = src / "sysdiagnose" / "powerlog.EPSQL"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:

        def q(sql: str) -> np.ndarray:
            return np.array(con.execute(sql).fetchall(), dtype=np.float64)

        sbc = q(f'SELECT timestamp, CurrentCapacity, Temperature, IsCharging FROM "{SBC_TABLE}" ORDER BY timestamp')
        obc = q(f'SELECT timestamp, ExternalConnected FROM "{OBC_TABLE}" ORDER BY timestamp')
        loc = q('SELECT timestamp, SecondsFromGMT FROM "PPTStorageOperator_Locale_1095_1" ORDER BY timestamp')
    finally:
        con.close()
    with (src / "tables" / "display_events.csv").open(newline="") as f:
        disp = np.array([(float(r["timestamp"]), float(r["Brightness"])) for r in csv.DictReader(f)])
    offsets = set(loc[:, 1].tolist())
    if len(offsets) != 1:
        raise ValueError(f"expected one UTC offset in the source, found {sorted(offsets)}")
    trace = build_trace(
        level=np.c_[sbc[:, 0], sbc[:, 1] / 100.0],
        temperature=np.c_[sbc[:, 0], sbc[:, 2] / 100.0],
        plugged=obc,
        charging=np.c_[sbc[:, 0], sbc[:, 3]],
        display=disp,
        utc_offset_s=float(loc[-1, 1]),
        min_unplug_s=MIN_UNPLUG_S,
        min_drain_unpowered=MIN_DRAIN_UNPOWERED,
        name="mcm_iphone13",
        source="iPhone 13 Pro Max PowerLog (EPSQL battery data collection, PLSQL display rows), "
        "markm39/mcm-battery-2026 d0f2d11, CC BY 4.0",
    )
    trace.meta = {
        "device": "iPhone 13 Pro Max",
        "licence": "CC BY 4.0 https://creativecommons.org/licenses/by/4.0/",
        "credit": "Mark Miller, https://github.com/markm39/mcm-battery-2026 (commit d0f2d11)",
        "screen_rule": "on from a display row with Brightness > 0 until the next row or 120 s later",
        "min_unplug_s": MIN_UNPLUG_S,
        "min_drain_unpowered": MIN_DRAIN_UNPOWERED,
    }
    return trace


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m bgenv.traces.make_sample SRC [OUT]``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", type=Path, help="the mcm-battery-2026 data folder")
    ap.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT, help="the .npz to write")
    a = ap.parse_args(argv)
    trace = build_sample(a.src)
    path = trace.save(a.out)
    print(f"{path}: {trace!r}, {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
