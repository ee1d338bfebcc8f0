"""Loaders of recorded traces on fixture files written for the tests: an Android checkin
battery history (``data/batterystats_checkin.txt``), PowerLog SQLite files built here and a
GreenHub samples CSV (``data/greenhub_samples.csv``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from bgenv.traces import load_batterystats, load_greenhub, load_powerlog, parse_batterystats
from bgenv.traces.powerlog import build_trace

DATA = Path(__file__).parent / "data"


def steps(trace, name):
    ch = trace[name]
    return list(zip(ch.t_s.tolist(), ch.value.tolist()))


# ---------------------------------------------------------------------------
# Android batterystats checkin history
# ---------------------------------------------------------------------------
def test_batterystats_channels():
    tr = load_batterystats(DATA / "batterystats_checkin.txt", app="com.example.sync")
    assert tr.start_utc_s == 1_700_000_000.0  # the RESET's TIME, not the later TIME change
    assert tr.duration_s == 16_200.0
    assert tr.utc_offset_s is None
    assert tr.channels == (
        "screen_on",
        "app_open",
        "plugged",
        "battery_level",
        "network",
        "low_power",
        "doze",
        "temperature_c",
    )
    assert steps(tr, "screen_on") == [(0.0, 1.0), (800.0, 0.0), (9000.0, 1.0), (11400.0, 0.0)]
    assert steps(tr, "app_open") == [(0.0, 0.0), (180.0, 1.0), (780.0, 0.0)]
    assert steps(tr, "plugged") == [(0.0, 0.0), (9000.0, 1.0), (16200.0, 0.0)]
    assert steps(tr, "battery_level") == [(0.0, 0.64), (1800.0, 0.63), (7200.0, 0.61), (9600.0, 0.65), (15000.0, 0.80)]
    assert steps(tr, "network") == [(0.0, 2.0), (5400.0, 1.0), (9600.0, 2.0)]
    assert steps(tr, "low_power") == [(0.0, 0.0), (7200.0, 1.0), (9600.0, 0.0)]
    assert steps(tr, "doze") == [(0.0, 0.0), (3600.0, 1.0), (6000.0, 2.0), (9000.0, 0.0)]
    assert steps(tr, "temperature_c") == [(0.0, 25.1), (1800.0, 24.8)]


def test_batterystats_without_app_has_no_app_channel_and_old_doze_flag():
    text = "9,h,0:RESET:TIME:1000\n9,h,0,Bl=50,+S\n9,h,5000,+di\n9,h,5000,-di,-S\n"
    tr = parse_batterystats(text)
    assert "app_open" not in tr.channels
    assert steps(tr, "doze") == [(0.0, 0.0), (5.0, 2.0), (10.0, 0.0)]
    assert tr.start_utc_s == 1.0


def test_batterystats_plug_type_without_plugged_flag_and_no_clock():
    tr = parse_batterystats("9,h,0,Bl=50,Bp=n\n9,h,60000,Bp=u\n9,h,60000,Bp=n\n")
    assert np.isnan(tr.start_utc_s)
    assert steps(tr, "plugged") == [(0.0, 0.0), (60.0, 1.0), (120.0, 0.0)]


def test_batterystats_without_history_raises():
    with pytest.raises(ValueError, match="no battery history"):
        parse_batterystats("9,0,i,vers,35\n")


# ---------------------------------------------------------------------------
# iOS PowerLog
# ---------------------------------------------------------------------------
T0 = 1_769_839_200.0


def _db(path: Path, tables: dict[str, tuple[list[str], list[tuple]]]) -> Path:
    con = sqlite3.connect(path)
    for name, (cols, rows) in tables.items():
        con.execute(f'CREATE TABLE "{name}" (ID INTEGER PRIMARY KEY, {", ".join(c + " REAL" for c in cols)})')
        con.executemany(
            f'INSERT INTO "{name}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})',
            rows,
        )
    con.commit()
    con.close()
    return path


def test_powerlog_plsql_tables(tmp_path):
    db = _db(
        tmp_path / "CurrentPowerlog.PLSQL",
        {
            "PLBatteryAgent_EventBackward_Battery": (
                ["timestamp", "Level", "ExternalConnected", "Temperature", "IsCharging"],
                [
                    (T0, 55.0, 0, 29.5, 0),
                    (T0 + 300, 54.0, 0, 29.0, 0),
                    (T0 + 600, 54.0, 1, 30.0, 1),
                    (T0 + 1000, 58.0, 1, 31.0, 1),
                ],
            ),
            "PLDisplayAgent_EventForward_Display": (
                ["timestamp", "Brightness", "mNits"],
                [(T0, 40.0, 1), (T0 + 10, 42.0, 1), (T0 + 200, 0.0, 0), (T0 + 400, 30.0, 1), (T0 + 460, 30.0, 1)],
            ),
            "PPTStorageOperator_Locale_1095_1": (["timestamp", "SecondsFromGMT"], [(T0 - 5000, -18000), (T0, -21600)]),
            "PLSomethingElse": (["timestamp", "Value"], [(T0, 1.0)]),
        },
    )
    tr = load_powerlog(db)
    assert tr.start_utc_s == T0  # the trace spans battery and display records, not the locale's
    assert tr.utc_offset_s == -21600.0  # the last offset recorded
    assert tr.name == "CurrentPowerlog.PLSQL"
    assert "PLBatteryAgent_EventBackward_Battery" in tr.source


def test_powerlog_channels_and_screen_rule(tmp_path):
    db = _db(
        tmp_path / "CurrentPowerlog.PLSQL",
        {
            "PLBatteryAgent_EventBackward_Battery": (
                ["timestamp", "Level", "ExternalConnected", "Temperature", "IsCharging"],
                [
                    (T0, 55.0, 0, 29.5, 0),
                    (T0 + 300, 54.0, 0, 29.0, 0),
                    (T0 + 600, 54.0, 1, 30.0, 1),
                    (T0 + 1000, 58.0, 1, 31.0, 1),
                ],
            ),
            "PLDisplayAgent_EventForward_Display": (
                ["timestamp", "Brightness"],
                [(T0, 40.0), (T0 + 10, 42.0), (T0 + 200, 0.0), (T0 + 400, 30.0), (T0 + 460, 30.0)],
            ),
        },
    )
    tr = load_powerlog(db, screen_timeout_s=120.0)
    assert tr.start_utc_s == T0 and tr.duration_s == 1000.0
    assert tr.utc_offset_s is None
    assert tr.channels == ("screen_on", "plugged", "battery_level", "temperature_c")
    assert steps(tr, "battery_level") == [(0.0, 0.55), (300.0, 0.54), (1000.0, 0.58)]
    assert steps(tr, "plugged") == [(0.0, 0.0), (600.0, 1.0)]
    assert steps(tr, "temperature_c") == [(0.0, 29.5), (300.0, 29.0), (600.0, 30.0), (1000.0, 31.0)]
    # on at 0 and 10, off 120 s after the row at 10, on again at 400; not recorded 120 s after the last row
    scr = steps(tr, "screen_on")
    assert scr[:3] == [(0.0, 1.0), (130.0, 0.0), (400.0, 1.0)]
    assert scr[3][0] == 580.0 and np.isnan(scr[3][1])


def test_powerlog_epsql_tables_merge_and_debounce(tmp_path):
    db = _db(
        tmp_path / "log.EPSQL",
        {
            "BatteryDataCollection_BDC_SBC_365_1": (
                ["timestamp", "CurrentCapacity", "Temperature", "IsCharging", "StateOfCharge"],
                [(T0, 18.0, 3329.0, 1, 18), (T0 + 300, 20.0, 3400.0, 1, 19), (T0 + 3600, 35.0, 3300.0, 0, 34)],
            ),
            "BatteryDataCollection_BDC_OBC_365_1": (
                ["timestamp", "ExternalConnected"],
                [(T0 + 100, 1), (T0 + 1000, 0), (T0 + 1010, 1), (T0 + 2000, 0)],
            ),
        },
    )
    tr = load_powerlog(db)
    assert tr.channels == ("plugged", "battery_level", "temperature_c")
    assert steps(tr, "battery_level") == [(0.0, 0.18), (300.0, 0.20), (3600.0, 0.35)]
    assert steps(tr, "temperature_c") == [(0.0, 33.29), (300.0, 34.0), (3600.0, 33.0)]
    # IsCharging before the first ExternalConnected row; the 10 s drop-out kept by default
    assert steps(tr, "plugged") == [(0.0, 1.0), (1000.0, 0.0), (1010.0, 1.0), (2000.0, 0.0)]
    merged = load_powerlog(db, min_unplug_s=60.0)
    assert steps(merged, "plugged") == [(0.0, 1.0), (2000.0, 0.0)]


def test_powerlog_connected_without_power_counts_as_unplugged():
    # connected from 100 s, the level drains 50 -> 45 % until charging starts at 2000 s
    level = np.array([[T0, 0.50], [T0 + 1000, 0.47], [T0 + 1900, 0.45], [T0 + 2500, 0.60]])
    plugged = np.array([[T0 + 100, 1.0], [T0 + 3000, 0.0]])
    charging = np.array([[T0, 0.0], [T0 + 1000, 0.0], [T0 + 2000, 1.0], [T0 + 3000, 0.0]])
    none = np.zeros((0, 2))
    raw = build_trace(level, none, plugged, charging, none, None)
    # (before the first ExternalConnected row, not charging says nothing: NaN)
    assert np.isnan(raw["plugged"].value[0])
    assert steps(raw, "plugged")[1:] == [(100.0, 1.0), (3000.0, 0.0)]
    tr = build_trace(level, none, plugged, charging, none, None, min_drain_unpowered=0.03)
    assert steps(tr, "plugged")[1:] == [(100.0, 0.0), (2000.0, 1.0), (3000.0, 0.0)]
    # a hold on the charger (flat level, not charging) stays plugged
    flat = np.array([[T0, 0.80], [T0 + 2500, 0.80]])
    held = build_trace(flat, none, plugged, charging, none, None, min_drain_unpowered=0.03)
    assert steps(held, "plugged")[1:] == [(100.0, 1.0), (3000.0, 0.0)]


def test_powerlog_robust_to_absent_tables(tmp_path):
    only_display = _db(
        tmp_path / "a.PLSQL",
        {"PLDisplayAgent_EventForward_Display": (["timestamp", "Brightness"], [(T0, 10.0), (T0 + 50, 0.0)])},
    )
    tr = load_powerlog(only_display)
    assert tr.channels == ("screen_on",)
    assert steps(tr, "screen_on") == [(0.0, 1.0), (50.0, 0.0)]
    empty = _db(tmp_path / "b.PLSQL", {"PLOther": (["timestamp", "x"], [(T0, 1.0)])})
    with pytest.raises(ValueError, match="none of the PowerLog tables"):
        load_powerlog(empty)


def test_powerlog_two_files_together(tmp_path):
    a = _db(
        tmp_path / "a.EPSQL",
        {"BatteryDataCollection_BDC_SBC_365_1": (["timestamp", "CurrentCapacity"], [(T0, 50.0), (T0 + 600, 49.0)])},
    )
    b = _db(
        tmp_path / "b.PLSQL", {"PLBatteryAgent_EventBackward_Battery": (["timestamp", "Level"], [(T0 + 300, 49.5)])}
    )
    tr = load_powerlog([a, b])
    assert steps(tr, "battery_level") == [(0.0, 0.50), (300.0, 0.495), (600.0, 0.49)]


# ---------------------------------------------------------------------------
# GreenHub samples CSV
# ---------------------------------------------------------------------------
def test_greenhub_channels():
    tr = load_greenhub(DATA / "greenhub_samples.csv", device="42")
    assert tr.start_utc_s == 1_519_891_200.0  # 2018-03-01 08:00:00 UTC
    assert tr.duration_s == 3 * 3600.0
    assert tr.utc_offset_s == -5 * 3600.0  # America/New_York in March before DST
    assert tr.channels == ("screen_on", "plugged", "battery_level", "network", "temperature_c")
    assert steps(tr, "battery_level") == [
        (0.0, 0.80),
        (1800.0, 0.79),
        (4500.0, 0.78),
        (7200.0, 0.79),
        (8400.0, 0.80),
        (10800.0, 1.0),
    ]
    assert steps(tr, "plugged") == [(0.0, 0.0), (7200.0, 1.0)]
    assert steps(tr, "screen_on") == [(0.0, 1.0), (1800.0, 0.0), (7200.0, 1.0), (10800.0, 0.0)]
    assert steps(tr, "network") == [(0.0, 2.0), (4500.0, 1.0), (8400.0, 0.0), (10800.0, 2.0)]
    assert tr["temperature_c"].value[0] == 27.5 and len(tr["temperature_c"]) == 6


def test_greenhub_several_devices_need_a_choice(tmp_path):
    with pytest.raises(ValueError, match="2 devices"):
        load_greenhub(DATA / "greenhub_samples.csv")
    p = tmp_path / "pct.csv"
    p.write_text("timestamp,battery_level,battery_state\n1000,80,Unknown\n1060,79,Discharging\n")
    tr = load_greenhub(p)
    assert tr.start_utc_s == 1000.0
    assert steps(tr, "battery_level") == [(0.0, 0.80), (60.0, 0.79)]
    pl = tr["plugged"]
    assert np.isnan(pl.value[0]) and pl.value[1] == 0.0
