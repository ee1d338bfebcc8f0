"""Trace statistics on a hand-built two-day trace with known sessions, holds and drains."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bgenv.traces import Channel, Trace, charging_sessions, coverage_by_day, trace_statistics

H = 3600.0
MIDNIGHT_UTC = 1_699_920_000.0  # 2023-11-14 00:00:00 UTC


def two_days() -> Trace:
    """Day 0: overnight charge 00-07 h with a hold at 80 % from 01 to 04:30 h, unplugged
    07-18 h (screen on 08-09 h: 10 %/h; off: 2 %/h), top-up 18-18:30 h. Day 1: overnight
    charge 01-06:30 h (a 3-minute drop-out at 01:05 h, no hold), daytime plug-in at 5 % at
    12 h. Screen recorded 0-18 h only."""
    level_h = [0, 1, 4, 4.5, 5, 7, 8, 9, 18, 18.5, 23.5, 26, 27, 30.5, 36, 37, 42]
    level_v = [0.30, 0.80, 0.80, 0.90, 1.0, 1.0, 0.98, 0.88, 0.70, 0.80, 0.70, 0.95, 1.0, 1.0, 0.05, 0.50, 0.40]
    plug_h = [0, 7, 18, 18.5, 25, 25 + 5 / 60, 25 + 8 / 60, 30.5, 36, 37]
    plug_v = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
    return Trace(
        start_utc_s=MIDNIGHT_UTC,
        duration_s=48 * H,
        series={
            "battery_level": Channel(np.array(level_h) * H, level_v),
            "plugged": Channel(np.array(plug_h) * H, plug_v),
            "screen_on": Channel(np.array([0, 8, 9, 18]) * H, [0, 1, 0, np.nan]),
        },
        utc_offset_s=0.0,
    )


def test_sessions_merge_short_gaps():
    assert charging_sessions(two_days()) == [(0.0, 7 * H), (18 * H, 18.5 * H), (25 * H, 30.5 * H), (36 * H, 37 * H)]
    assert len(charging_sessions(two_days(), merge_gap_s=60.0)) == 5


def test_statistics_of_a_hand_built_trace():
    s = trace_statistics(two_days())
    assert s["days"] == 2.0 and s["plugged_days"] == 2.0
    assert s["charging_sessions"] == 4.0
    assert s["charging_sessions_per_day"] == 2.0
    assert s["daily_plugins_median"] == 2.0  # the one whole local day [0, 24 h)
    assert s["plugin_levels"] == [0.30, 0.70, 0.70, 0.05]
    assert s["plugin_level_median"] == pytest.approx(0.50)
    assert s["plugin_share_le_20"] == 0.25
    assert s["daytime_plugins_share_le_10"] == 0.5  # daytime: 0.70 and 0.05
    assert s["overnight_plugin_level_median"] == pytest.approx(0.50)
    assert s["nights"] == 2.0 and s["overnight_sessions"] == 2.0 and s["overnight_nights_share"] == 1.0
    assert s["overnight_plug_hour_median"] == pytest.approx(0.5)
    assert s["overnight_unplug_hour_median"] == pytest.approx(6.75)
    assert s["overnight_length_h_median"] == pytest.approx(6.25)
    assert s["overnight_holds"] == 1.0 and s["overnight_hold_rate"] == 0.5
    assert s["hold_h_median"] == pytest.approx(3.5) and s["hold_level_median"] == pytest.approx(0.80)
    # sessions > 5 h: 3.5/7 at 78-82 % and 0/5.5
    assert s["overnight_hold_share_median"] == pytest.approx(0.25)
    assert s["overnight_unplug_full_share"] == 1.0
    assert s["screen_recorded_h"] == pytest.approx(18.0)
    assert s["screen_on_share"] == pytest.approx(1 / 18)
    assert s["screen_on_h_per_day"] == pytest.approx(24 / 18)
    assert s["drain_screen_on_pct_per_h"] == pytest.approx(10.0)
    assert s["drain_screen_off_pct_per_h"] == pytest.approx(2.0)
    assert s["drain_fit_h"] == pytest.approx(11.0)
    # all unplugged level intervals: -145 % over 26.5 h
    assert s["drain_unplugged_pct_per_h"] == pytest.approx(145 / 26.5)


def test_statistics_without_channels_are_nan():
    tr = Trace(MIDNIGHT_UTC, 86400.0, {"battery_level": Channel([0.0], [0.5])})
    s = trace_statistics(tr)
    assert s["charging_sessions"] == 0.0 and s["plugin_levels"] == []
    for k in ("charging_sessions_per_day", "screen_on_share", "drain_screen_on_pct_per_h", "overnight_hold_rate"):
        assert math.isnan(s[k]), k


def test_coverage_by_day():
    cov = coverage_by_day(two_days())
    assert [c["date"] for c in cov] == ["2023-11-14", "2023-11-15"]
    assert cov[0]["channels"] == {"screen_on": 18.0, "plugged": 24.0, "battery_level": 24.0}
    assert cov[1]["channels"] == {"plugged": 24.0, "battery_level": 24.0}
