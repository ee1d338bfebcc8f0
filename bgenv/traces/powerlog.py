"""iOS PowerLog (``*.PLSQL`` / ``*.EPSQL`` SQLite from a sysdiagnose) as a :class:`Trace`.

A sysdiagnose archive carries ``CurrentPowerlog.PLSQL`` (about the last two days at
seconds-to-minutes resolution) and ``powerlogs/log_*.EPSQL`` (battery data collection over
weeks at ~5 min). Both are SQLite databases of many tables, each with an ``ID`` and a
``timestamp`` column (UTC epoch s, float). The loader opens the file read-only with the
standard ``sqlite3`` module and reads whichever of these tables exist (any may be absent;
a file with none of them is an error):

=============================================  ===============================  =============================
table                                          columns read                     channel
=============================================  ===============================  =============================
``PLBatteryAgent_EventBackward_Battery``       ``Level`` (%),                   ``battery_level``,
(PLSQL)                                        ``ExternalConnected`` (0/1),     ``plugged``,
                                               ``Temperature`` (°C)             ``temperature_c``
``BatteryDataCollection_BDC_SBC_365_1``        ``CurrentCapacity`` (%, the UI   ``battery_level``,
(EPSQL)                                        level), ``Temperature``          ``temperature_c``
                                               (hundredths of °C),
                                               ``IsCharging`` (0/1)             ``plugged`` before the first
                                                                                ``ExternalConnected`` record
                                                                                (charging implies plugged)
``BatteryDataCollection_BDC_OBC_365_1``        ``ExternalConnected`` (0/1)      ``plugged``
(EPSQL)
``PLDisplayAgent_EventForward_Display``        ``Brightness`` (0-100)           ``screen_on`` (see below)
``PPTStorageOperator_Locale_1095_1`` or any    ``SecondsFromGMT`` (last value)  ``Trace.utc_offset_s``
table with a ``SecondsFromGMT`` column
=============================================  ===============================  =============================

Battery and plug records from several tables are merged in time order.

**Screen state** is inferred: the display agent logs a row when the brightness changes
(auto-brightness follows the ambient light, so rows come every few seconds while the
screen is in use) and a row with ``Brightness`` 0 when the display turns off, but not
always. The screen counts as on from a row with ``Brightness`` > 0 until the next row or
``screen_timeout_s`` after it, whichever is first; off otherwise, while the table covers
(from its first row to ``screen_timeout_s`` after its last; outside that ``screen_on`` is
NaN, not recorded). The default of 120 s is an assumption, checked on the shipped
sample's source (``tables/battery_state.csv``, unplugged, 20 s samples): the median
discharge current is -323 mA within 10 s of a display row with brightness > 0, -114 mA at
60-120 s, -103 mA at 120-300 s, -72 mA at 300-600 s, -41 mA beyond, and -74 mA after a
``Brightness`` 0 row (screen off). Other timeouts change the screen-on share (0.24 at
60 s, 0.29 at 120 s, 0.35 at 300 s over those 44 h).

**Gaps.** No ``app_open`` (app foreground tables and their identifiers vary across iOS
versions; none in the shipped files), no ``network``, no ``low_power`` (Low Power Mode),
no ``doze`` (not an iOS state). Optimised charging is not read from
``BatteryDataCollection_BDC_SmartCharging_365_1`` (undocumented codes); its hold shows in
the level (see :mod:`bgenv.traces.statistics`). The EPSQL samples the battery only every
~5 min while something changes and up to several hours apart while the level is steady.
``ExternalConnected`` drops out for seconds while a cable is re-seated; pass
``min_unplug_s`` to merge such drop-outs. It is also 1 with something connected that gives
no power (the level falls, ``IsCharging`` stays 0); pass ``min_drain_unpowered`` to count
such stretches as unplugged. The UTC offset is the last one recorded (a change of time
zone or daylight saving inside the trace is not followed).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bgenv.traces.trace import Channel, Trace, drop_short, step

BATTERY_TABLE = "PLBatteryAgent_EventBackward_Battery"
SBC_TABLE = "BatteryDataCollection_BDC_SBC_365_1"
OBC_TABLE = "BatteryDataCollection_BDC_OBC_365_1"
DISPLAY_TABLE = "PLDisplayAgent_EventForward_Display"
LOCALE_TABLE = "PPTStorageOperator_Locale_1095_1"
SCREEN_TIMEOUT_S = 120.0
"""Default hold of a display row as screen-on, s (assumption; see the module docstring)."""


def screen_from_brightness(
    t_utc: np.ndarray, brightness: np.ndarray, timeout_s: float = SCREEN_TIMEOUT_S
) -> tuple[np.ndarray, np.ndarray]:
    """Screen on/off samples (UTC epoch s, 0/1) from display rows (UTC epoch s, brightness):
    on from a row with brightness > 0 until the next row or ``timeout_s`` later, whichever
    is first. The caller decides what follows the last row (``build_trace``: NaN from
    ``timeout_s`` after it)."""
    order = np.argsort(t_utc, kind="stable")
    t = np.asarray(t_utc, dtype=np.float64)[order]
    b = np.asarray(brightness, dtype=np.float64)[order]
    on = (b > 0).astype(np.float64)
    ts, vs = [t], [on]
    nxt = np.append(t[1:], np.inf)
    expire = (on == 1) & (nxt - t > timeout_s)
    ts.append(t[expire] + timeout_s)
    vs.append(np.zeros(int(expire.sum())))
    tt, vv = np.concatenate(ts), np.concatenate(vs)
    o = np.argsort(tt, kind="stable")
    return tt[o], vv[o]


def _tables(con: sqlite3.Connection) -> dict[str, list[str]]:
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {n: [r[1] for r in con.execute(f'PRAGMA table_info("{n}")')] for n in names}


def _rows(con: sqlite3.Connection, table: str, cols: Sequence[str]) -> np.ndarray:
    sel = ", ".join(f'"{c}"' for c in ("timestamp", *cols))
    rows = con.execute(f'SELECT {sel} FROM "{table}" WHERE timestamp IS NOT NULL ORDER BY timestamp').fetchall()
    return np.array(rows, dtype=np.float64).reshape(-1, 1 + len(cols))  # None -> NaN


def load_powerlog(
    paths: str | Path | Sequence[str | Path],
    screen_timeout_s: float = SCREEN_TIMEOUT_S,
    min_unplug_s: float = 0.0,
    min_drain_unpowered: float = 0.0,
    name: str | None = None,
) -> Trace:
    """Read one or more PowerLog SQLite files (a PLSQL and the EPSQL of the same phone may
    be given together) into one :class:`Trace`.

    Args:
        paths: the ``.PLSQL`` / ``.EPSQL`` file(s).
        screen_timeout_s: how long a display row keeps the screen on, s.
        min_unplug_s: charger drop-outs shorter than this are merged into the plugged
            stretch around them, s (0: keep every record).
        min_drain_unpowered: a connected stretch whose level falls by this much (fraction)
            before charging starts counts as unplugged until then (0: off; see
            :func:`build_trace`).
        name: the trace's label (default: the first file's name).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    level, temp, plug, charging, display, offsets = [], [], [], [], [], []
    read: list[str] = []
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(p)
        con = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
        try:
            tabs = _tables(con)
            if BATTERY_TABLE in tabs:
                cols = tabs[BATTERY_TABLE]
                want = [c for c in ("Level", "ExternalConnected", "Temperature") if c in cols]
                r = _rows(con, BATTERY_TABLE, want)
                col = {c: r[:, 1 + i] for i, c in enumerate(want)}
                if "Level" in col:
                    level.append(np.c_[r[:, 0], col["Level"] / 100.0])
                if "ExternalConnected" in col:
                    plug.append(np.c_[r[:, 0], col["ExternalConnected"]])
                if "Temperature" in col:
                    temp.append(np.c_[r[:, 0], col["Temperature"]])
                read.append(BATTERY_TABLE)
            if SBC_TABLE in tabs:
                cols = tabs[SBC_TABLE]
                want = [c for c in ("CurrentCapacity", "Temperature", "IsCharging") if c in cols]
                r = _rows(con, SBC_TABLE, want)
                col = {c: r[:, 1 + i] for i, c in enumerate(want)}
                if "CurrentCapacity" in col:
                    level.append(np.c_[r[:, 0], col["CurrentCapacity"] / 100.0])
                if "Temperature" in col:
                    temp.append(np.c_[r[:, 0], col["Temperature"] / 100.0])
                if "IsCharging" in col:
                    charging.append(np.c_[r[:, 0], col["IsCharging"]])
                read.append(SBC_TABLE)
            if OBC_TABLE in tabs and "ExternalConnected" in tabs[OBC_TABLE]:
                r = _rows(con, OBC_TABLE, ["ExternalConnected"])
                plug.append(r)
                read.append(OBC_TABLE)
            if DISPLAY_TABLE in tabs and "Brightness" in tabs[DISPLAY_TABLE]:
                display.append(_rows(con, DISPLAY_TABLE, ["Brightness"]))
                read.append(DISPLAY_TABLE)
            for tab, cols in tabs.items():
                if "SecondsFromGMT" in cols and "timestamp" in cols:
                    offsets.append(_rows(con, tab, ["SecondsFromGMT"]))
        finally:
            con.close()
    if not read:
        raise ValueError(f"{[str(p) for p in paths]}: none of the PowerLog tables this loader reads")
    disp = np.concatenate(display) if display else np.zeros((0, 2))
    return build_trace(
        level=_cat(level),
        temperature=_cat(temp),
        plugged=_cat(plug),
        charging=_cat(charging),
        display=disp,
        utc_offset_s=_last_offset(offsets),
        screen_timeout_s=screen_timeout_s,
        min_unplug_s=min_unplug_s,
        min_drain_unpowered=min_drain_unpowered,
        name=name or paths[0].name,
        source="iOS PowerLog: " + ", ".join(dict.fromkeys(read)),
    )


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return np.zeros((0, 2))
    a = np.concatenate(parts)
    a = a[np.isfinite(a[:, 0]) & np.isfinite(a[:, 1])]
    return a[np.argsort(a[:, 0], kind="stable")]


def _last_offset(parts: list[np.ndarray]) -> float | None:
    a = _cat(parts)
    return float(a[-1, 1]) if a.shape[0] else None


def _unpowered(
    plugged: Channel,
    t_lv: np.ndarray,
    lv: np.ndarray,
    t_ch: np.ndarray,
    chg: np.ndarray,
    end_s: float,
    min_drop: float,
) -> Channel:
    """``plugged`` with connected stretches that drain before charging set to unplugged
    (see :func:`build_trace`)."""
    t, v = list(plugged.t_s), list(plugged.value)
    edges = [*plugged.t_s[1:], end_s]
    for i in range(len(plugged)):
        if plugged.value[i] != 1.0:
            continue
        a, b = plugged.t_s[i], edges[i]
        on = t_ch[(t_ch >= a) & (t_ch < b) & (chg > 0)]
        c = float(on[0]) if on.size else b
        j = np.searchsorted(t_lv, a, side="right") - 1
        start = lv[j] if j >= 0 else np.nan
        inside = lv[(t_lv >= a) & (t_lv <= c)]
        if inside.size and np.isfinite(start) and start - inside.min() >= min_drop - 1e-9:
            v[i] = 0.0
            if c < b:
                t.append(c)
                v.append(1.0)
    return step(np.array(t), np.array(v))


def build_trace(
    level: np.ndarray,
    temperature: np.ndarray,
    plugged: np.ndarray,
    charging: np.ndarray,
    display: np.ndarray,
    utc_offset_s: float | None,
    screen_timeout_s: float = SCREEN_TIMEOUT_S,
    min_unplug_s: float = 0.0,
    min_drain_unpowered: float = 0.0,
    name: str = "powerlog",
    source: str = "iOS PowerLog",
) -> Trace:
    """A :class:`Trace` from PowerLog records as ``[n, 2]`` arrays of (UTC epoch s, value):
    ``level`` (fraction), ``temperature`` (°C), ``plugged`` (ExternalConnected 0/1),
    ``charging`` (IsCharging 0/1), ``display`` (brightness). Shared by :func:`load_powerlog`
    and the sample builder (which reads the display rows from a CSV export). The trace
    starts at the first record of any kind and ends at the last.

    ``min_drain_unpowered`` (fraction, 0: off): a connected stretch whose level falls by at
    least this much before its first ``IsCharging`` record is connected to something that
    gives no power (an accessory, a dead charger): it is recorded as unplugged until that
    first charging record (or its end)."""
    parts = [a[:, 0] for a in (level, temperature, plugged, charging, display) if a.shape[0]]
    if not parts:
        raise ValueError("no records")
    allt = np.concatenate(parts)
    t0, t1 = float(allt.min()), float(allt.max())
    series: dict[str, Channel] = {}
    if level.shape[0]:
        series["battery_level"] = step(level[:, 0] - t0, level[:, 1])
    if temperature.shape[0]:
        series["temperature_c"] = step(temperature[:, 0] - t0, temperature[:, 1])
    if plugged.shape[0] or charging.shape[0]:
        t_p, v_p = plugged[:, 0], plugged[:, 1]
        if charging.shape[0]:
            first = t_p[0] if t_p.size else np.inf
            pre = charging[charging[:, 0] < first]
            # before the first ExternalConnected record: charging implies plugged; not charging
            # may be a hold on the charger, so it is unknown (NaN)
            pre_v = np.where(pre[:, 1] > 0, 1.0, np.nan)
            t_p, v_p = np.concatenate([pre[:, 0], t_p]), np.concatenate([pre_v, v_p])
        ch = step(t_p - t0, (v_p > 0).astype(np.float64) * np.where(np.isnan(v_p), np.nan, 1.0))
        ch = drop_short(ch, 0.0, min_unplug_s)
        if min_drain_unpowered > 0 and level.shape[0] and charging.shape[0]:
            ch = _unpowered(
                ch, level[:, 0] - t0, level[:, 1], charging[:, 0] - t0, charging[:, 1], t1 - t0, min_drain_unpowered
            )
        series["plugged"] = ch
    if display.shape[0]:
        ts, vs = screen_from_brightness(display[:, 0], display[:, 1], screen_timeout_s)
        end = display[:, 0].max() + screen_timeout_s  # the last row's state holds this long
        if end < t1:
            keep = ts < end
            ts, vs = np.append(ts[keep], end), np.append(vs[keep], np.nan)
        else:
            keep = ts <= t1
            ts, vs = ts[keep], vs[keep]
        series["screen_on"] = step(ts - t0, vs)
    return Trace(
        start_utc_s=t0,
        duration_s=t1 - t0,
        series=series,
        utc_offset_s=utc_offset_s,
        name=name,
        source=source,
    )
