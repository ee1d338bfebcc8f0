"""The Trace record: channels, windows, local midnights, files."""

from __future__ import annotations

import numpy as np
import pytest

from bgenv.traces import Channel, Trace
from bgenv.traces.trace import drop_short, step

MIDNIGHT_UTC = 1_699_920_000.0  # 2023-11-14 00:00:00 UTC


def make() -> Trace:
    return Trace(
        start_utc_s=MIDNIGHT_UTC + 20 * 3600.0,  # 20:00 UTC = 14:00 at UTC-6
        duration_s=2 * 86400.0,
        series={
            "plugged": Channel([0.0, 3600.0, 7200.0], [0.0, 1.0, 0.0]),
            "battery_level": Channel([0.0, 1800.0, 5000.0, 90000.0], [0.5, 0.45, 0.6, 0.3]),
            "screen_on": Channel([0.0, 100.0, 40000.0], [1.0, 0.0, np.nan]),
        },
        utc_offset_s=-6 * 3600.0,
        name="t",
    )


def test_channels_in_canonical_order_and_absent_ones_absent():
    tr = make()
    assert tr.channels == ("screen_on", "plugged", "battery_level")
    assert "network" not in tr
    assert tr.days() == 2.0
    with pytest.raises(ValueError, match="unknown channels"):
        Trace(0.0, 10.0, {"wifi": Channel([0.0], [1.0])})
    with pytest.raises(ValueError, match="outside"):
        Trace(0.0, 10.0, {"plugged": Channel([0.0, 11.0], [1.0, 0.0])})
    with pytest.raises(ValueError, match="sorted"):
        Channel([1.0, 0.0], [1.0, 0.0])


def test_channel_at_is_a_step_function():
    ch = make()["battery_level"]
    assert ch.at(-1.0).item() != ch.at(-1.0).item()  # NaN before the first sample
    np.testing.assert_array_equal(ch.at([0.0, 1799.0, 1800.0, 89999.0, 1e9]), [0.5, 0.5, 0.45, 0.6, 0.3])
    assert make()["screen_on"].known_s(2 * 86400.0) == 40000.0


def test_local_midnights():
    tr = make()
    # starts at 14:00 local: midnights 10 h and 34 h in
    np.testing.assert_array_equal(tr.local_midnights(), [10 * 3600.0, 34 * 3600.0])
    assert float(tr.local_time_s(0.0)) == 14 * 3600.0
    np.testing.assert_array_equal(tr.episode_starts(86400.0), [10 * 3600.0])
    assert tr.episode_starts(2 * 86400.0).size == 0
    no_clock = Trace(float("nan"), 3 * 86400.0, {})
    np.testing.assert_array_equal(no_clock.local_midnights(), [0.0, 86400.0, 2 * 86400.0])


def test_window():
    tr = make()
    w = tr.window(1000.0, 5000.0)
    assert w.start_utc_s == tr.start_utc_s + 1000.0 and w.duration_s == 5000.0
    assert w.channels == tr.channels
    np.testing.assert_array_equal(w["plugged"].t_s, [0.0, 2600.0])
    np.testing.assert_array_equal(w["plugged"].value, [0.0, 1.0])
    np.testing.assert_array_equal(w["battery_level"].t_s, [0.0, 800.0, 4000.0])
    np.testing.assert_array_equal(w["battery_level"].value, [0.5, 0.45, 0.6])
    np.testing.assert_array_equal(w["screen_on"].value, [0.0])
    # a window starting on a sample, and one before a channel's first sample
    w2 = tr.window(7200.0, 100.0)
    np.testing.assert_array_equal(w2["plugged"].value, [0.0])
    late = Trace(0.0, 100.0, {"plugged": Channel([50.0], [1.0])}).window(10.0, 20.0)
    assert len(late["plugged"]) == 0
    with pytest.raises(ValueError, match="not inside"):
        tr.window(86400.0, 2 * 86400.0)


def test_save_load_round_trip(tmp_path):
    tr = make()
    tr.meta = {"k": [1, 2]}
    p = tr.save(tmp_path / "t.npz")
    back = Trace.load(p)
    assert back.channels == tr.channels
    assert back.start_utc_s == tr.start_utc_s and back.duration_s == tr.duration_s
    assert back.utc_offset_s == tr.utc_offset_s and back.name == "t" and back.meta == {"k": [1, 2]}
    for k in tr.channels:
        np.testing.assert_array_equal(back[k].t_s, tr[k].t_s)
        np.testing.assert_array_equal(back[k].value, tr[k].value)
        assert back[k].t_s.dtype == np.float64 and back[k].value.dtype == np.float64
    no_clock = Trace(float("nan"), 5.0, {})
    assert np.isnan(Trace.load(no_clock.save(tmp_path / "n.npz")).start_utc_s)


def test_step_and_drop_short():
    ch = step([5.0, 0.0, 5.0, 9.0, 12.0], [1.0, 0.0, 0.0, 0.0, 1.0])
    # same time: the last counts (5.0 -> 0.0), repeats dropped
    assert list(zip(ch.t_s, ch.value)) == [(0.0, 0.0), (12.0, 1.0)]
    pl = Channel([0.0, 100.0, 130.0, 500.0, 900.0], [1.0, 0.0, 1.0, 0.0, 1.0])
    d = drop_short(pl, 0.0, 60.0)
    assert list(zip(d.t_s, d.value)) == [(0.0, 1.0), (500.0, 0.0), (900.0, 1.0)]
