"""Android battery history from ``dumpsys batterystats --checkin`` (or a bugreport).

No maintained Python parser of this format is installed or packaged for PyPI (Google's
Battery Historian is a Go web service), so this module reads the subset of the documented
grammar that the trace needs: the history records that AOSP ``BatteryStats.java``
(``HistoryPrinter.printNextItem`` with ``checkin = true``) prints, one per line::

    9,hsp,<index>,<uid>,"<string>"          history string pool (event tags)
    9,h,<delta ms>:RESET:TIME:<epoch ms>      history reset, wall clock at this record
    9,h,<delta ms>:TIME:<epoch ms>            wall clock set
    9,h,<delta ms>:START / :SHUTDOWN / :*OVERFLOW*
    9,h,<delta ms>,<item>,<item>,...          state changes at this record

``<delta ms>`` is the elapsed-realtime step from the previous record, in ms (the first
record's delta is taken as 0). Any other line of the file (``9,0,i,...`` checkin
sections, text of a bugreport) is skipped; the leading version number may be any integer.
Items are ``+<flag>`` / ``-<flag>`` (a state bit turning on / off) or ``<key>=<value>``.
The first state record after a reset lists every bit that is on; bits it does not list
are off.

**Items read** (others are ignored):

============  =============================================  ==================
item          meaning                                        channel
============  =============================================  ==================
``±S``        screen on / off                                ``screen_on``
``±BP``       plugged in / unplugged                         ``plugged``
``Bp=``       plug type ``n`` none, ``a`` AC, ``u`` USB,     ``plugged`` (when
              ``w`` wireless                                 no ``BP`` is seen)
``Bl=``       battery level, %                               ``battery_level``
``Bt=``       battery temperature, tenths of °C              ``temperature_c``
``Pcn=``      mobile data connection type (``none``/``oos``  ``network``
              / ``emngcy``: no data; any other: cellular)
``Wsp=``      Wi-Fi supplicant state (``compl``: connected)  ``network``
``±ps``       power save (Battery Saver)                     ``low_power``
``di=``       device idle ``off`` / ``light`` / ``full``     ``doze``
``±di``       device idle flag (Android 6: deep only)        ``doze``
``±Etp=<i>``  top app (string pool entry ``i``) starts/ends  ``app_open``
============  =============================================  ==================

``network`` is 2 (Wi-Fi) while the supplicant is ``compl``, else 1 (cellular) while a data
connection type other than none is set, else 0. ``app_open`` is 1 while the top app is the
package passed as ``app=`` (absent when no ``app`` is given).

**Gaps.** Job starts and stops (``±Ejb``), wake locks, syncs, alarms and the other events
are not kept (a trace has no channel for them). Battery charge (``Bcc``), voltage and
status (``Bs``; ``plugged`` says whether power is connected) are not read. History lines
are what the device kept: a ``*OVERFLOW*`` record means older events were lost, and a
history shorter than the checkin period starts mid-state (channels start at the first
record that names them; flags are assumed off until set, which holds after a
``RESET``). Without a ``TIME`` record the trace's ``start_utc_s`` is NaN. The device's UTC
offset is not in the history (pass ``utc_offset_s``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from bgenv.traces.trace import (
    DOZE_DEEP,
    DOZE_LIGHT,
    DOZE_NONE,
    NETWORK_CELLULAR,
    NETWORK_NONE,
    NETWORK_WIFI,
    Trace,
    step,
)

_HIST = re.compile(r"^\s*\d+,h,(-?\d+)(?::(.*)|,(.*))?\s*$")
_POOL = re.compile(r'^\s*\d+,hsp,(\d+),(-?\d+),"?(.*?)"?\s*$')
_NO_DATA = {"none", "oos", "emngcy"}
_DOZE = {"off": DOZE_NONE, "light": DOZE_LIGHT, "full": DOZE_DEEP}


def load_batterystats(
    path: str | Path,
    app: str | None = None,
    utc_offset_s: float | None = None,
    name: str | None = None,
) -> Trace:
    """Read the ``9,h,...`` battery history of an Android checkin dump into a :class:`Trace`.

    Args:
        path: a text file holding ``dumpsys batterystats --checkin`` output (or a bugreport
            that contains it).
        app: this app's package name; gives the ``app_open`` channel from top-app changes.
        utc_offset_s: the device's local offset from UTC, s, if known.
        name: the trace's label (default: the file name).
    """
    path = Path(path)
    return parse_batterystats(
        path.read_text(errors="replace"), app=app, utc_offset_s=utc_offset_s, name=name or path.name
    )


def parse_batterystats(
    text: str,
    app: str | None = None,
    utc_offset_s: float | None = None,
    name: str = "batterystats",
) -> Trace:
    """:func:`load_batterystats` on the text itself."""
    pool: dict[int, str] = {}
    samples: dict[str, list[tuple[float, float]]] = {}
    t_ms = 0.0
    first = True
    wall_at: tuple[float, float] | None = None  # (elapsed ms, epoch ms)
    plug_flag_seen = False
    wifi, data = False, False
    top: str | None = None
    fresh = False

    def put(ch: str, v: float) -> None:
        samples.setdefault(ch, []).append((t_ms / 1000.0, v))

    def put_network() -> None:
        put("network", NETWORK_WIFI if wifi else (NETWORK_CELLULAR if data else NETWORK_NONE))

    for line in text.splitlines():
        m = _POOL.match(line)
        if m:
            pool[int(m.group(1))] = m.group(3)
            continue
        m = _HIST.match(line)
        if not m:
            continue
        delta = float(m.group(1))
        if not first:
            t_ms += delta
        first = False
        cmd, items = m.group(2), m.group(3)
        if cmd is not None:
            tm = re.search(r"TIME:(\d+)", cmd)
            if tm and wall_at is None:
                wall_at = (t_ms, float(tm.group(1)))
            if cmd.startswith("RESET"):
                fresh = True
            continue
        if not items:
            continue
        if fresh:  # the first record after a reset lists what is on: the rest is off
            fresh = False
            wifi, data, top = False, False, None
            for ch in ("screen_on", "plugged", "low_power", "doze", "network"):
                put(ch, 0.0)
            if app is not None:
                put("app_open", 0.0)
        for item in items.split(","):
            item = item.strip()
            if not item:
                continue
            sign = item[0] if item[0] in "+-" else ""
            body = item[1:] if sign else item
            key, _, val = body.partition("=")
            on = 1.0 if sign == "+" else 0.0
            if sign and key == "S":
                put("screen_on", on)
            elif sign and key == "BP":
                plug_flag_seen = True
                put("plugged", on)
            elif not sign and key == "Bp" and not plug_flag_seen:
                put("plugged", 0.0 if val in ("n", "none") else 1.0)
            elif not sign and key == "Bl":
                put("battery_level", float(val) / 100.0)
            elif not sign and key == "Bt":
                put("temperature_c", float(val) / 10.0)
            elif not sign and key == "Pcn":
                data = val not in _NO_DATA
                put_network()
            elif not sign and key == "Wsp":
                wifi = val == "compl"
                put_network()
            elif sign and key == "ps":
                put("low_power", on)
            elif not sign and key == "di":
                put("doze", _DOZE.get(val, np.nan))
            elif sign and key == "di":
                put("doze", DOZE_DEEP if on else DOZE_NONE)
            elif sign and key == "Etp" and app is not None:
                try:
                    tag = pool.get(int(val), val)
                except ValueError:
                    tag = val
                if sign == "+":
                    top = tag
                elif tag == top:
                    top = None
                put("app_open", 1.0 if top == app else 0.0)
    if first:
        raise ValueError(f"{name}: no battery history ('9,h,...' lines) found")
    duration = t_ms / 1000.0
    start_utc = float("nan")
    if wall_at is not None:
        start_utc = (wall_at[1] - wall_at[0]) / 1000.0
    series = {ch: step(*np.array(s, dtype=np.float64).T) for ch, s in samples.items() if s}
    return Trace(
        start_utc_s=start_utc,
        duration_s=duration,
        series=series,
        utc_offset_s=utc_offset_s,
        name=name,
        source="Android batterystats checkin history",
        meta={"app": app, "string_pool_entries": len(pool)},
    )
