"""The shipped sample ``mcm_iphone13``: it loads with the documented channels, length and
statistics, carries its licence notice, and rebuilds from the source folder when present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bgenv.traces import SAMPLES, load_sample, trace_statistics
from bgenv.traces.sample import DATA_DIR, sample_path

# the source folder (markm39/mcm-battery-2026 data/), if present on this machine
SOURCE = Path(os.environ.get("BGENV_MCM_SOURCE", "/work/shared/data/mcm-battery-2026"))


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


@pytest.mark.skipif(not SOURCE.is_dir(), reason="source data folder not present")
def test_sample_rebuilds_identically_from_source(tmp_path):
    from bgenv.traces.make_sample import main

    main([str(SOURCE), str(tmp_path / "s.npz")])
    from bgenv.traces import Trace

    new, shipped = Trace.load(tmp_path / "s.npz"), load_sample()
    assert new.channels == shipped.channels and new.meta == shipped.meta
    for k in shipped.channels:
        np.testing.assert_array_equal(new[k].t_s, shipped[k].t_s)
        np.testing.assert_array_equal(new[k].value, shipped[k].value)
