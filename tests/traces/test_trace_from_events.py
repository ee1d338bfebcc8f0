"""A simulated phone's event log recorded as a Trace (bgenv.traces.record): the recorded
channels are the ones the log shows, on the trace's time base, and trace_statistics reads
them as it reads a real phone's."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import bgenv  # noqa: F401  (registers the ids)
from bgenv import eventlog as el
from bgenv.traces import Channel, Trace, trace_statistics
from bgenv.traces.record import trace_from_events

H = 3600.0


def replayed_week() -> tuple[list, float, float]:
    """Two days replaying a hand-built trace (screen 08:00-08:30 on day 0; charger
    22:00-07:00; 90 % at midnight), run by an app that asks for nothing: its log, start and end."""
    trace = Trace(
        start_utc_s=0.0,
        duration_s=72 * H,
        series={
            "screen_on": Channel(np.array([0.0, 8 * H, 8.5 * H]), np.array([0.0, 1.0, 0.0])),
            "plugged": Channel(
                np.array([0.0, 7 * H, 22 * H, 31 * H, 46 * H, 55 * H]), np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
            ),
            "battery_level": Channel(np.array([0.0]), np.array([0.9])),
        },
        utc_offset_s=0.0,
    )
    env = gym.make("bgenv/iOS-v1", world=trace, horizon_days=2)
    env.reset(seed=1)
    done = False
    while not done:
        *_, trunc, _ = env.step(np.zeros(4, dtype=np.int64))
        done = trunc
    ev = env.unwrapped.events
    return ev, 7 * H, 7 * H + 2 * 86400.0


def test_the_log_recorded_as_a_trace() -> None:
    ev, t0, t_end = replayed_week()
    tr = trace_from_events(ev, t0, t_end, name="sim")
    assert tr.name == "sim" and tr.duration_s == 2 * 86400.0
    assert tr.start_utc_s == t0 and tr.utc_offset_s == 0.0
    assert float(tr.local_time_s(0.0)) == 7 * H  # the trace's clock is the simulator's
    assert {"screen_on", "plugged", "battery_level", "network"} <= set(tr.channels)
    # the replayed charger, rebased on the episode start (07:00)
    pl = tr["plugged"]
    assert list(zip(pl.t_s, pl.value)) == [(0.0, 0.0), (15 * H, 1.0), (24 * H, 0.0), (39 * H, 1.0)]
    # the replayed screen at 08:00-08:30 on day 0
    scr = tr["screen_on"]
    assert list(zip(scr.t_s[:3], scr.value[:3])) == [(0.0, 0.0), (1 * H, 1.0), (1.5 * H, 0.0)]
    # every level the log records, starting at the recorded 90 %
    t, v = el.battery_series(ev, t0, t_end)
    lv = tr["battery_level"]
    assert lv.value[0] == pytest.approx(0.9)
    assert len(lv) <= len(t) and set(lv.t_s.tolist()) <= set((t - t0).tolist())
    assert lv.value[-1] == pytest.approx(v[-1])


def test_trace_statistics_read_the_recorded_trace() -> None:
    ev, t0, t_end = replayed_week()
    s = trace_statistics(trace_from_events(ev, t0, t_end))
    # two plug-ins (22:00 on day 0 and day 1), each across a 03:00: overnight sessions of
    # 9 h (the second one cut at the episode's end, 07:00)
    assert s["charging_sessions"] == 2.0
    assert s["overnight_sessions"] == 2.0 and s["overnight_length_h_median"] == pytest.approx(9.0)
    assert s["overnight_plug_hour_median"] == pytest.approx(-2.0)  # 22:00
    assert s["screen_recorded_h"] == pytest.approx(48.0)
    assert s["drain_unplugged_pct_per_h"] > 0
