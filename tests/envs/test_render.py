"""Timeline rendering: the env's render modes, the picture's truth against the event log,
the text timeline and ``bgenv timeline``.

The truth tests rebuild what the log says independently (window start = end time minus
the ``window_s`` the end event records, plug/unplug pairs, state changes) and compare it
with the spans the plot draws and with the geometry of the drawn artists.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from PIL import Image

from agents.cli import main as cli_main
from agents.evaluate import load_policy
from bgenv import eventlog as EL
from bgenv import render as R
from bgenv.core import layout as L
from bgenv.registration import DEFAULT_SCENARIO as SCENARIO
from bgenv.registration import ENV_ID_OF_PLATFORM as ENV_IDS
from bgenv.rollout import rollout

ENDS = ("complete", "expire", "kill")
TOL_S = 1e-6  # s: bars are drawn at the logged times, up to float rounding


def play(env, policy: str, seed: int, until_s: float):
    """Reset with ``seed`` and follow a hand-written policy until simulated time
    ``until_s`` (or the horizon); returns the env."""
    pol = load_policy(policy, env, seed=seed)
    obs, _ = env.reset(seed=seed)
    done = False
    while not done and env.unwrapped.sim.time_s() < until_s:
        obs, _, term, trunc, _ = env.step(pol.act(obs, env.unwrapped.action_masks()))
        done = term or trunc
    return env


def episode(platform: str, policy: str = "random", days: float = 2.0, seed: int = 1, **kw):
    """A whole episode of a hand-written policy; returns the env."""
    env = gym.make(ENV_IDS[platform], horizon_days=days, **kw)
    rollout(env, load_policy(policy, env, seed=seed), seed)
    return env


def logged_windows(events: list[dict]) -> list[tuple[float, float, str, str]]:
    """(start, end, type, outcome) from the end events alone: start = t - window_s; a kill
    at the instant of the expire that ended the same window makes it killed."""
    out: list[tuple[float, float, str, str]] = []
    for i, e in enumerate(events):
        if e["kind"] not in ENDS:
            continue
        prev = [p for p in events[:i] if p["kind"] in ENDS]
        if e["kind"] == "kill" and prev and prev[-1]["kind"] == "expire" and prev[-1]["t"] == e["t"]:
            a, b, t, _ = out[-1]
            out[-1] = (a, b, t, "killed")
            continue
        outcome = {"complete": "completed", "kill": "killed"}.get(e["kind"])
        if outcome is None:
            outcome = "expired" if e["reason"] == "expired" else "stopped"
        out.append((e["t"] - e["window_s"], e["t"], e["type"], outcome))
    return out


def drawn_bars(fig, prefix: str) -> list[tuple[float, float]]:
    """(start_s, end_s) of every bar drawn by artists whose gid starts with ``prefix``."""
    bars = []
    for ax in fig.axes:
        for coll in ax.collections:
            if (coll.get_gid() or "").startswith(prefix):
                for path in coll.get_paths():
                    x = path.vertices[:, 0] * 3600.0
                    bars.append((float(x.min()), float(x.max())))
    return sorted(bars)


# -- render modes -------------------------------------------------------------------------
def test_rgb_array_is_an_image_that_follows_the_episode(platform):
    env = gym.make(ENV_IDS[platform], render_mode="rgb_array", horizon_days=1)
    env.reset(seed=3)
    first = env.render()
    assert isinstance(first, np.ndarray) and first.dtype == np.uint8
    assert first.ndim == 3 and first.shape[2] == 3
    h, w, _ = first.shape
    assert 400 < h < 1400 and 1000 <= w <= 3000
    t0 = env.unwrapped.sim.time_s()
    play(env, "guidelines", 3, until_s=t0 + 8 * 3600)
    later = env.render()
    assert later.shape == first.shape  # frames of one episode stack into a video
    assert (later != first).any(axis=2).mean() > 0.02  # eight more hours are drawn
    assert env.unwrapped.render_mode == "rgb_array"


def test_ansi_shows_every_lane_and_a_legend(platform):
    env = gym.make(ENV_IDS[platform], render_mode="ansi", horizon_days=2)
    play(env, "guidelines", 5, until_s=7 * 3600 + 86400)
    text = env.render()
    assert isinstance(text, str)
    lines = text.splitlines()
    lanes = ["battery", "charging", "screen", "network", "thermal", "requests", "windows", "backlog"]
    lanes += ["bucket", "doze", "saver"] if platform == "android" else ["low power"]
    for lane in lanes:
        assert any(line.startswith(lane) for line in lines), lane
    assert any(line.startswith("legend:") for line in lines)
    assert "1 character = 30 min" in text  # 2 days in 96 characters
    assert max(len(line) for line in lines) <= 120
    rows = [line for line in lines if line[:12].rstrip() in ("battery", "network", "windows")]
    assert len(rows) == 3
    assert all(len(r) <= 12 + 96 for r in rows)
    # half the horizon is simulated: the network row fills about half of its 96 cells
    net = next(line for line in lines if line.startswith("network"))
    assert 40 <= len(net) - 12 <= 52
    tl = R.timeline_from_env(env)
    n = len(tl.windows)
    assert (f"windows ({n} in all" in text) if n > 12 else ("windows:" in text)
    # a character shows what happened in its 30 minutes: every charge and every window
    rows = {line[:12].rstrip(): line[12:] for line in lines if line[:12].rstrip() in ("charging", "windows")}
    for a, _, _ in tl.spans["charging"]:
        assert rows["charging"][int((a - tl.t0) // 1800)] == "+"
    for w in tl.windows:
        assert rows["windows"][int((w.start_s - tl.t0) // 1800)] in "CESKR"


def test_render_mode_arguments():
    from bgenv.envs.single import BackgroundSchedulingEnv

    with pytest.raises(ValueError, match="render_mode must be None or one of"):
        BackgroundSchedulingEnv("ios", render_mode="video")
    with pytest.raises(ValueError, match="record_events=True"):
        gym.make("bgenv/iOS-v1", render_mode="rgb_array", record_events=False)
    env = gym.make("bgenv/Android-v1", render_mode="ansi").unwrapped
    with pytest.raises(RuntimeError, match="reset"):
        env.render()
    quiet = gym.make("bgenv/iOS-v1").unwrapped
    quiet.reset(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert quiet.render() is None
    assert gym.make("bgenv/iOS-v1").unwrapped.metadata["render_modes"] == ["rgb_array", "ansi"]


def test_env_checker_passes_with_rendering(platform):
    from gymnasium.utils.env_checker import check_env

    env = gym.make(ENV_IDS[platform], render_mode="rgb_array", horizon_days=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)  # also makes the env in every declared render mode
    assert not [w for w in caught if "render" in str(w.message).lower()]


# -- truth: the picture against the event log ----------------------------------------------
def test_window_bars_sit_where_the_log_puts_them(platform):
    env = episode(platform, "random", days=2, seed=1)
    events = env.unwrapped.events
    t_now = env.unwrapped.sim.time_s()
    expected = logged_windows(events)
    assert len(expected) >= 3 and len({w[3] for w in expected}) >= 2  # several outcomes are checked
    grants = [e["t"] for e in events if e["kind"] == "grant"]
    assert len(grants) == len(expected)
    spans = R.timeline_spans(events, t_end=t_now)["windows"]
    assert len(spans) == len(expected)
    for (a, b, label), (ea, eb, etype, eout), g in zip(spans, expected, grants):
        assert a == g  # the bar starts at the grant event's time...
        assert abs(a - ea) < TOL_S  # ... which is the end time minus the logged window length
        assert b == eb  # and ends at the end/expire/kill event's time
        assert label == f"{etype}:{eout}"
    # the drawn rectangles have exactly these extents
    fig = R.timeline_figure(env)
    bars = drawn_bars(fig, "windows:")
    assert len(bars) == len(spans)
    for (x0, x1), (a, b) in zip(bars, sorted((s[0], s[1]) for s in spans)):
        assert abs(x0 - a) < TOL_S and abs(x1 - b) < TOL_S
    # and the outcome colours are the documented ones
    for ax in fig.axes:
        for coll in ax.collections:
            gid = coll.get_gid() or ""
            if gid.startswith("windows:") and not gid.startswith("windows:running"):
                rgba = coll.get_facecolor()[0]
                assert np.allclose(rgba[:3], _rgb(R.OUTCOME_COLOR[gid.split(":")[1]]))


def _rgb(hex_color: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(hex_color)


def test_outcome_colours_are_the_asked_ones():
    assert R.OUTCOME_COLOR["completed"] == "#2ca02c"  # green
    assert R.OUTCOME_COLOR["expired"] == "#ff7f0e"  # orange
    assert R.OUTCOME_COLOR["killed"] == "#d62728"  # red
    assert len(set(R.OUTCOME_COLOR.values())) == len(R.OUTCOMES)


def test_a_grace_kill_is_one_killed_window():
    """The expiration handler overran its grace period: the log has an ``expire`` and a
    ``kill`` at the same instant for one window; the picture shows one red bar."""
    events = [
        {"t": 100.0, "kind": "grant", "type": "refresh", "budget_s": 30.0, "bucket": None, "attempt": 0},
        {"t": 130.0, "kind": "expire", "type": "refresh", "reason": "expired", "lost_units": 5.0, "window_s": 30.0},
        {"t": 130.0, "kind": "kill", "type": "refresh", "reason": "grace", "lost_units": 5.0, "window_s": 30.0},
        {"t": 200.0, "kind": "grant", "type": "refresh", "budget_s": 30.0, "bucket": None, "attempt": 0},
    ]
    wins = EL.windows(events, t_end=210.0)
    assert [(w.start_s, w.end_s, w.outcome, w.kill_reason) for w in wins] == [
        (100.0, 130.0, "killed", "grace"),
        (200.0, 210.0, "running", ""),
    ]
    tl = R.timeline_from_events(events, "ios", t_end=210.0)
    assert tl.spans["windows"] == [(100.0, 130.0, "refresh:killed"), (200.0, 210.0, "refresh:running")]
    text = R.render_timeline_ansi(tl)
    assert "killed (grace)" in text and "running" in text


def test_charging_and_state_bands_match_the_logged_changes(platform):
    env = episode(platform, "guidelines", days=3, seed=2)
    events = env.unwrapped.events
    t_now = env.unwrapped.sim.time_s()
    spans = R.timeline_spans(events, t_end=t_now)
    # charging: every plug to the next unplug (or to now); a top-up still plugged in at
    # bedtime turns overnight there (a charge_start with ``continued``: no new plug-in)
    plugs = [e for e in events if e["kind"] in ("charge_start", "charge_stop")]
    expected, start = [], None
    for e in plugs:
        if e["kind"] == "charge_start":
            if start is not None:
                assert e["continued"] and e["overnight"] and not start["overnight"]
                expected.append((start["t"], e["t"], "top-up"))
            start = e
        elif start is not None:
            expected.append((start["t"], e["t"], "overnight" if start["overnight"] else "top-up"))
            start = None
    if start is not None:
        expected.append((start["t"], t_now, "overnight" if start["overnight"] else "top-up"))
    assert expected, "a 3-day commuter episode has overnight charging"
    assert spans["charging"] == expected
    fig = R.timeline_figure(env)
    drawn = sorted(
        (p.get_x() * 3600.0, (p.get_x() + p.get_width()) * 3600.0)
        for ax in fig.axes
        for p in ax.patches
        if p.get_gid() == "charging"
    )
    assert len(drawn) == len(expected)
    for (x0, x1), (a, b, _) in zip(drawn, expected):
        assert abs(x0 - a) < TOL_S and abs(x1 - b) < TOL_S
    # state bands: each band begins at a logged change to its state (or at the start,
    # for the bucket's initial value), holds until the next logged change away from it,
    # and every logged change to a drawn state begins a band
    t0 = u_t0 = env.unwrapped.sim.sf[0, L.S_T0]
    # (the logged changes as eventlog reads them: the network is "none" from a drop's start
    # to its end, and the reset record states the initial thermal state)
    lanes = {"network": (), "thermal": ("nominal",)}
    if platform == "android":
        lanes |= {"doze": ("active",), "bucket": ()}
    for lane, hidden in lanes.items():
        changes = EL.changes(events, lane)
        for a, b, state in spans[lane]:
            assert (a, state) in changes or (lane == "bucket" and a == u_t0 and state == "active"), (lane, a, state)
            assert all(v == state for t, v in changes if a < t < b), (lane, a, b)
            assert b == t_now or any(t == b and v != state for t, v in changes), (lane, b)
        starts = {(a, state) for a, _, state in spans[lane]}
        prev = None
        for i, (t, v) in enumerate(changes):
            later_same_t = any(t2 == t for t2, _ in changes[i + 1 :])  # a zero-length state
            if v != prev and v not in hidden and not later_same_t and t < t_now:
                assert (t, v) in starts, (lane, t, v)
            prev = v
    assert t0 == u_t0
    # the drawn network bands are these spans
    for state in R.NETWORK_STATES:
        want = sorted((a, b) for a, b, s in spans["network"] if s == state)
        got = drawn_bars(fig, f"network:{state}")
        assert len(got) == len(want)
        assert np.allclose(np.array(got).reshape(-1, 2), np.array(want).reshape(-1, 2), rtol=0, atol=TOL_S)


def test_requests_are_drawn_from_submission_to_their_floor(platform):
    env = episode(platform, "guidelines", days=2, seed=4)
    events = env.unwrapped.events
    reqs = R.timeline_spans(events)["requests"]
    logged = [e for e in events if e["kind"] == "request"]
    assert len(reqs) == len(logged) > 0
    for (a, b, t), e in zip(reqs, logged):
        assert (a, b, t) == (e["t"], e["earliest_begin_s"], e["type"])
    # pending and replaced parts of each line cover submission to floor exactly once
    live, gone = R.request_lines(reqs)
    assert sum(b - a for a, b, _ in live + gone) == pytest.approx(sum(b - a for a, b, _ in reqs))


def test_os_retries_are_marked_where_the_stopped_window_ended():
    """Android reschedules a stopped job itself (backoff) and logs it as a ``retry``, not a
    ``request``, at the stop. Each gets a retry marker there; a retry that ran led to a
    grant with its attempt number, no app request of its type in between."""
    env = episode("android", "fixed-interval", days=2, seed=6)  # 2 days with 14 stopped jobs retried
    events = env.unwrapped.events
    marks = R.timeline_spans(events)["rescheduled"]
    retries = EL.os_retries(events)
    logged = [e for e in events if e["kind"] == "retry"]
    assert [r for r, _ in retries] == logged and len(logged) > 5
    assert marks == [(r["t"], r["t"], r["type"]) for r in logged]
    stops = {(e["t"], e["type"]) for e in events if e["kind"] in ("expire", "kill")}
    granted = [(r, g) for r, g in retries if g is not None]
    assert len(granted) > 5
    for r, g in retries:
        assert (r["t"], r["type"]) in stops and r["attempt"] >= 1 and r["earliest_begin_s"] > r["t"]
        if g is not None:
            assert g["type"] == r["type"] and g["attempt"] == r["attempt"] and g["t"] >= r["earliest_begin_s"]
            between = [
                e for e in events if e["kind"] == "request" and e["type"] == r["type"] and r["t"] < e["t"] < g["t"]
            ]
            assert not between
    # every grant with an attempt number is a retry's
    assert {id(g) for _, g in granted} == {id(e) for e in events if e["kind"] == "grant" and e["attempt"] >= 1}


def test_battery_and_backlog_lines_pass_through_the_logged_values(platform):
    env = episode(platform, "guidelines", days=3, seed=2)
    u = env.unwrapped
    tl = R.timeline_from_env(u)
    series = set(zip(tl.battery_t.tolist(), tl.battery.tolist()))
    anchors = [e for e in u.events if e["kind"] in ("app_open", "app_close", "charge_start", "charge_stop")]
    assert anchors
    for e in anchors:
        assert (e["t"], e["battery"]) in series
    assert tl.battery_t[-1] == u.sim.time_s() and tl.battery[-1] == u.sim.sf[0, L.S_BATT]  # now
    # the simulator logs a level at reset and every simulated hour: the line never goes
    # more than an hour without a recorded level, and passes through each of them
    samples = [e for e in u.events if e["kind"] == "level"]
    assert samples[0]["t"] == tl.t0 and len(samples) == 1 + int((u.sim.time_s() - tl.t0) // 3600)
    for e in samples:
        assert (e["t"], e["battery"]) in series
    assert np.diff(tl.battery_t).max() <= 3600.0 + 1e-6
    assert tl.checks["backlog_mismatch"] < 1e-6  # work units
    assert 0.0 <= tl.battery.min() and tl.battery.max() <= 1.0
    assert tl.backlog[-1] == pytest.approx(u.metrics()["work_pending"])


def test_a_saved_event_log_draws_the_same_windows(platform, tmp_path):
    env = episode(platform, "random", days=1, seed=6)
    u = env.unwrapped
    path = tmp_path / "run.jsonl"
    u.export_events(path)
    saved = EL.read_jsonl(path)
    t_now = u.sim.time_s()
    assert R.timeline_spans(saved, t_end=t_now)["windows"] == R.timeline_spans(u.events, t_end=t_now)["windows"]
    tl = R.timeline_from_events(saved, platform, t_end=t_now)
    img = R.render_timeline_rgb(tl)
    assert img.ndim == 3 and img.dtype == np.uint8


# -- bgenv timeline ----------------------------------------------------------------------
def test_timeline_command_writes_a_png_and_prints_a_summary(tmp_path, capsys):
    from agents.timeline import timeline_command

    out = tmp_path / "t.png"
    assert timeline_command("guidelines", "android_commuter", 0.5, 0, out, ansi=True) == 0
    printed = capsys.readouterr().out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {out}" in printed and "legend:" in printed
    assert printed.rstrip().splitlines()[-1].startswith("windows ")  # the summary comes last
    with pytest.raises(ValueError, match="unknown policy 'nope'"):
        timeline_command("nope", "ios_commuter", 0.5, 0, None)


def test_cli_timeline_writes_a_png(platform, tmp_path, capsys):
    out = tmp_path / "timeline.png"
    argv = ["timeline", "--policy", "guidelines", "--scenario", SCENARIO[platform], "--days", "1"]
    assert cli_main([*argv, "--seed", "0", "--out", str(out), "--ansi"]) == 0
    printed = capsys.readouterr().out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(out) as img:
        w, h = img.size
    assert w >= 1000 and h >= 400
    assert out.stat().st_size < 200_000
    assert f"wrote {out}" in printed
    assert "completion rate" in printed and "battery cost" in printed and "windows" in printed
    assert "legend:" in printed  # --ansi


def test_cli_timeline_unknown_policy_is_a_clear_error(tmp_path, capsys):
    argv = ["timeline", "--policy", "nope", "--days", "1", "--out", str(tmp_path / "x.png")]
    assert cli_main(argv) == 2
    assert "unknown policy 'nope'" in capsys.readouterr().err
