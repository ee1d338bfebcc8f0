"""The shipped sample ``mcm_iphone13``: it loads with the documented channels, length and
statistics, carries its licence notice, and its builder applies the documented rules."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from bgenv.traces import SAMPLES, load_sample, trace_statistics
from bgenv.traces.powerlog import OBC_TABLE, SBC_TABLE
from bgenv.traces.sample import DATA_DIR, sample_path


def test_sample_loads_with_documented_channels():
    assert SAMPLES == ("mcm_iphone13",)
    tr = load_sample("mcm_iphone13")
    assert tr.name == "mcm_iphone13"
    assert tr.channels == ("screen_on", "plugged", "battery_level", "temperature_c")
    assert tr.days() == pytest.approx(38.08, abs=0.01)
    assert tr.start_utc_s == pytest.approx(1_766_708_276.8, abs=0.1)  # 2025-12-26 00:17 UTC
    assert tr.utc_offset_s == -21600.0
    assert tr.local_midnights().size == 38
    assert tr.episode_starts(7 * 86400.0).size == 31  # week-long episodes from local midnights
    # screen recorded only in the last ~44 h (the PLSQL display table)
    assert tr["screen_on"].known_s(tr.duration_s) / 3600 == pytest.approx(44.3, abs=0.1)
    assert tr["screen_on"].t_s[0] / 86400 == pytest.approx(36.2, abs=0.05)
    lv = tr["battery_level"].value
    assert lv.min() == 0.01 and lv.max() == 1.0
    assert set(np.unique(tr["plugged"].value)) == {0.0, 1.0}
    assert sample_path("mcm_iphone13").stat().st_size < 200_000
    with pytest.raises(ValueError, match="unknown sample"):
        load_sample("nope")


def test_sample_notice_credits_and_links_the_licence():
    text = (DATA_DIR / "NOTICE").read_text()
    for needle in (
        "Mark Miller",
        "markm39/mcm-battery-2026",
        "d0f2d11",
        "https://creativecommons.org/licenses/by/4.0/",
    ):
        assert needle in text
    assert "component_nodes.csv was not used" in text


def test_sample_statistics():
    s = trace_statistics(load_sample())
    assert s["charging_sessions"] == 75.0
    assert s["charging_sessions_per_day"] == pytest.approx(1.97, abs=0.01)
    assert s["overnight_sessions"] == 28.0 and s["overnight_holds"] == 22.0
    assert s["hold_level_median"] == pytest.approx(0.80)
    assert s["plugin_level_median"] == pytest.approx(0.20)
    assert s["screen_on_share"] == pytest.approx(0.29, abs=0.01)
    assert s["drain_screen_on_pct_per_h"] > 3 * s["drain_screen_off_pct_per_h"] > 0


def _source_folder(d: Path, offsets: tuple[float, ...] = (-21600.0,)) -> Path:
    """A miniature of the source folder's layout (the PowerLog tables and the display CSV
    ``make_sample`` reads), with hand-picked records (UTC epoch s)."""
    (d / "sysdiagnose").mkdir(parents=True)
    (d / "tables").mkdir()
    con = sqlite3.connect(d / "sysdiagnose" / "powerlog.EPSQL")
    con.execute(f'CREATE TABLE "{SBC_TABLE}" (timestamp REAL, CurrentCapacity REAL, Temperature REAL, IsCharging REAL)')
    sbc = [(1000, 50, 3000, 0), (2000, 48, 3100, 0), (3000, 45, 3100, 0), (4000, 45, 3100, 1), (5000, 60, 3200, 1), (6000, 60, 3200, 0)]  # fmt: skip
    con.executemany(f'INSERT INTO "{SBC_TABLE}" VALUES (?, ?, ?, ?)', sbc)
    con.execute(f'CREATE TABLE "{OBC_TABLE}" (timestamp REAL, ExternalConnected REAL)')
    # connected at 1500 but draining (50 % -> 45 %) until charging starts at 4000; a 60 s drop-out at 4500
    con.executemany(f'INSERT INTO "{OBC_TABLE}" VALUES (?, ?)', [(1500, 1), (4500, 0), (4560, 1), (5900, 0)])
    con.execute('CREATE TABLE "PPTStorageOperator_Locale_1095_1" (timestamp REAL, SecondsFromGMT REAL)')
    con.executemany(
        'INSERT INTO "PPTStorageOperator_Locale_1095_1" VALUES (?, ?)', [(900 + i, o) for i, o in enumerate(offsets)]
    )
    con.commit()
    con.close()
    (d / "tables" / "display_events.csv").write_text("timestamp,Brightness\n5000,0.5\n5050,0\n5100,0.3\n")
    return d


def test_sample_builder_applies_the_documented_rules(tmp_path):
    """``python -m bgenv.traces.make_sample SRC OUT`` (how the shipped sample was made from
    the source folder) on a miniature source: levels and temperatures rescaled, the
    draining connected stretch counted as unplugged, the short drop-out merged, the screen
    held 120 s after the last display row and unknown after, the credit in the metadata."""
    from bgenv.traces import Trace
    from bgenv.traces.make_sample import main

    main([str(_source_folder(tmp_path / "src")), str(tmp_path / "s.npz")])
    tr = Trace.load(tmp_path / "s.npz")
    assert (tr.start_utc_s, tr.utc_offset_s, tr.duration_s) == (1000.0, -21600.0, 5000.0)
    assert tr.channels == ("screen_on", "plugged", "battery_level", "temperature_c")
    expected = {
        "battery_level": ([0, 1000, 2000, 4000], [0.5, 0.48, 0.45, 0.6]),
        "temperature_c": ([0, 1000, 4000], [30.0, 31.0, 32.0]),
        "plugged": ([0, 500, 3000, 4900], [np.nan, 0.0, 1.0, 0.0]),
        "screen_on": ([4000, 4050, 4100, 4220], [1.0, 0.0, 1.0, np.nan]),
    }
    for name, (t, v) in expected.items():
        np.testing.assert_array_equal(tr[name].t_s, t)
        np.testing.assert_array_equal(tr[name].value, v)
    assert tr.meta["credit"] == "Mark Miller, https://github.com/markm39/mcm-battery-2026 (commit d0f2d11)"
    assert tr.meta["min_unplug_s"] == 120.0 and tr.meta["min_drain_unpowered"] == 0.03


def test_sample_builder_refuses_a_source_with_two_time_zones(tmp_path):
    from bgenv.traces.make_sample import build_sample

    with pytest.raises(ValueError, match="expected one UTC offset in the source"):
        build_sample(_source_folder(tmp_path / "src", offsets=(-21600.0, -18000.0)))
