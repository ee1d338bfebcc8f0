"""GreenHub / BatteryHub samples CSV as a :class:`Trace`.

The GreenHub Android app records a *sample* each time the battery level changes by 1 %
(and on some state changes). Its public data set exports samples one row each; this
loader reads such a CSV (header row, comma separated) for **one device**. Columns
accepted (matched case-insensitively; only ``timestamp`` and ``battery_level`` are
required, the others give their channel when present):

====================  ===========================================================  =================
column                content                                                       channel
====================  ===========================================================  =================
``timestamp``         ISO 8601 date-time (``2018-03-01 08:15:02``; without an       time base
                      offset it is read as UTC) or UTC epoch s
``battery_level``     level, fraction 0-1 or percent 0-100 (percent when any        ``battery_level``
                      value exceeds 1)
``battery_state``     ``Charging`` / ``Full`` (plugged), ``Discharging`` /          ``plugged``
                      ``Not charging`` (on battery), ``Unknown`` (not recorded)
``charger``           ``ac`` / ``usb`` / ``wireless`` (plugged), ``unplugged`` /    ``plugged`` (wins
                      ``none`` (on battery); from the battery details table         over
                                                                                    ``battery_state``)
``screen_on``         1/0 (or true/false)                                           ``screen_on``
``network_status``    ``WIFI`` / ``wifi``: Wi-Fi; ``MOBILE``, ``LTE``, ``4G``...:   ``network``
or ``network_type``   cellular; ``NONE``, ``disconnected``, empty: none
``power_saver``       1/0 (or true/false)                                           ``low_power``
``temperature``       battery temperature, °C                                       ``temperature_c``
``timezone``          IANA zone name (``Europe/Lisbon``) of the device               ``utc_offset_s``
``device_id``         the device; pass ``device=`` when the file holds several
====================  ===========================================================  =================

Values between samples are held (a step function), which for ``screen_on`` and
``network`` is only the state *at* each 1 % change: a screen session between two samples
is missed. The trace starts at the first sample and ends at the last.

**Gaps.** No ``app_open`` (GreenHub logs running apps per sample, not the foreground app
over time), no ``doze``. The sampling follows the level, so the time resolution is coarse
while the level is steady (overnight holds, idle phones). Unknown categorical values are
NaN (not recorded). The UTC offset is that of ``timezone`` at the first sample (standard
library ``zoneinfo``); without the column it is None.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from bgenv.traces.trace import NETWORK_CELLULAR, NETWORK_NONE, NETWORK_WIFI, Trace, step

_TRUE = {"1", "true", "yes", "on", "1.0"}
_FALSE = {"0", "false", "no", "off", "0.0"}
_STATE = {"charging": 1.0, "full": 1.0, "discharging": 0.0, "not charging": 0.0}
_CHARGER = {"ac": 1.0, "usb": 1.0, "wireless": 1.0, "unplugged": 0.0, "none": 0.0}
_WIFI = {"wifi", "wi-fi"}
_NONE = {"none", "disconnected", "unknown_none", ""}


def _epoch(s: str) -> float:
    s = s.strip()
    try:
        return float(s)
    except ValueError:
        pass
    dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _flag(s: str) -> float:
    s = s.strip().lower()
    return 1.0 if s in _TRUE else (0.0 if s in _FALSE else math.nan)


def _network(s: str) -> float:
    s = s.strip().lower()
    if s in _WIFI:
        return NETWORK_WIFI
    if s in _NONE:
        return NETWORK_NONE
    return NETWORK_CELLULAR


def _offset(zone: str, t: float) -> float | None:
    try:
        from zoneinfo import ZoneInfo

        off = datetime.fromtimestamp(t, ZoneInfo(zone.strip())).utcoffset()
    except Exception:
        return None
    return off.total_seconds() if off is not None else None


def load_greenhub(path: str | Path, device: str | None = None, name: str | None = None) -> Trace:
    """Read a GreenHub samples CSV (one device) into a :class:`Trace`.

    Args:
        path: the CSV file.
        device: the ``device_id`` to keep when the file holds several devices.
        name: the trace's label (default: the file name).
    """
    path = Path(path)
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None:
            raise ValueError(f"{path}: empty file")
        cols = {c.strip().lower(): c for c in reader.fieldnames}
        for need in ("timestamp", "battery_level"):
            if need not in cols:
                raise ValueError(f"{path}: missing column {need!r} (have {list(cols)})")
        rows = list(reader)
    if "device_id" in cols:
        ids = {r[cols["device_id"]] for r in rows}
        if device is not None:
            rows = [r for r in rows if r[cols["device_id"]] == str(device)]
        elif len(ids) > 1:
            raise ValueError(f"{path}: {len(ids)} devices; pass device= one of them")
    if not rows:
        raise ValueError(f"{path}: no samples" + (f" of device {device!r}" if device is not None else ""))

    def col(key: str) -> list[str] | None:
        return [r[cols[key]] or "" for r in rows] if key in cols else None

    t = np.array([_epoch(s) for s in col("timestamp")])  # type: ignore[union-attr]
    order = np.argsort(t, kind="stable")
    t = t[order]
    t0 = float(t[0])
    rel = t - t0

    def ordered(vals: list[float]) -> np.ndarray:
        return np.asarray(vals, dtype=np.float64)[order]

    series = {}
    lv = ordered([float(s) if s.strip() else math.nan for s in col("battery_level")])  # type: ignore[union-attr]
    if np.nanmax(lv) > 1.0:
        lv = lv / 100.0
    ok = np.isfinite(lv)
    series["battery_level"] = step(rel[ok], lv[ok])
    plugged = None
    if col("battery_state") is not None:
        plugged = ordered([_STATE.get(s.strip().lower(), math.nan) for s in col("battery_state")])  # type: ignore[union-attr]
    if col("charger") is not None:
        ch = ordered([_CHARGER.get(s.strip().lower(), math.nan) for s in col("charger")])  # type: ignore[union-attr]
        plugged = ch if plugged is None else np.where(np.isfinite(ch), ch, plugged)
    if plugged is not None:
        series["plugged"] = step(rel, plugged)
    if col("screen_on") is not None:
        series["screen_on"] = step(rel, ordered([_flag(s) for s in col("screen_on")]))  # type: ignore[union-attr]
    net_key = "network_status" if "network_status" in cols else ("network_type" if "network_type" in cols else None)
    if net_key is not None:
        series["network"] = step(rel, ordered([_network(s) for s in col(net_key)]))  # type: ignore[union-attr]
    if col("power_saver") is not None:
        series["low_power"] = step(rel, ordered([_flag(s) for s in col("power_saver")]))  # type: ignore[union-attr]
    if col("temperature") is not None:
        tc = ordered([float(s) if s.strip() else math.nan for s in col("temperature")])  # type: ignore[union-attr]
        ok = np.isfinite(tc)
        series["temperature_c"] = step(rel[ok], tc[ok])
    offset = None
    if col("timezone") is not None:
        offset = _offset(col("timezone")[int(order[0])], t0)  # type: ignore[index]
    return Trace(
        start_utc_s=t0,
        duration_s=float(rel[-1]),
        series=series,
        utc_offset_s=offset,
        name=name or path.name,
        source="GreenHub samples CSV",
        meta={"device_id": device, "samples": len(rows)},
    )
