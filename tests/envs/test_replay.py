"""Replay of recorded traces (``world=``): recorded transitions drive the simulated phone,
episodes are seeded windows, the battery gap is measured, the synthetic world is untouched."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import bgenv  # noqa: F401  (registers the ids)
from bgenv.traces import Channel, Trace, load_sample
from bgenv.world import TraceWorld

H = 3600.0


def hand_trace() -> Trace:
    """Three days from a UTC midnight: the screen on 08:00-08:30 on day 0, on the charger
    22:00-07:00 each night, 90 % at midnight, 60 % at 20:30."""
    return Trace(
        start_utc_s=0.0,
        duration_s=72 * H,
        series={
            "screen_on": Channel(np.array([0.0, 8 * H, 8.5 * H]), np.array([0.0, 1.0, 0.0])),
            "plugged": Channel(
                np.array([0.0, 7 * H, 22 * H, 31 * H, 46 * H, 55 * H]), np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
            ),
            "battery_level": Channel(np.array([0.0, 20.5 * H]), np.array([0.9, 0.6])),
        },
        utc_offset_s=0.0,
        name="hand",
    )


def run(env: gym.Env, seed: int | None, steps: int = 10_000) -> tuple[list, dict]:
    """Run one episode with a fixed action (submit request option 1, no delay, chunk 2 in
    windows); return the per-step (obs bytes, reward) and the final info."""
    obs, info = env.reset(seed=seed)
    out = [(obs.tobytes(), 0.0)]
    for _ in range(steps):
        obs, r, _, trunc, info = env.step(np.array([1, 0, 2, 0]))
        out.append((obs.tobytes(), r))
        if trunc:
            break
    return out, info


def test_hand_built_trace_drives_screen_and_charger_exactly() -> None:
    env = gym.make("bgenv/iOS-v1", world=hand_trace(), horizon_days=2)
    _, info = run(env, seed=1)
    u = env.unwrapped
    ev = u.events
    screen = [(e["t"], e["on"]) for e in ev if e["kind"] == "screen"]
    assert screen == [(8 * H, True), (8.5 * H, False)]
    plug = [(e["t"], e["kind"]) for e in ev if e["kind"] in ("charge_start", "charge_stop")]
    assert plug == [(22 * H, "charge_start"), (31 * H, "charge_stop"), (46 * H, "charge_start")]
    reset = ev[0]
    assert reset["kind"] == "reset" and reset["charging"] is False and reset["screen"] is False
    first_level = next(e for e in ev if e["kind"] == "level")
    assert first_level["t"] == 7 * H and first_level["battery"] == pytest.approx(0.9)
    # the overnight charge ends when the trace unplugs: its planned length is known
    start = next(e for e in ev if e["kind"] == "charge_start")
    assert start["planned_s"] == pytest.approx(9 * H) and start["overnight"] is True
    m = info["metrics"]
    assert m["replayed_channels"] == 3.0  # screen, plugged, battery level
    # one level sample inside the episode (20:30): the simulated level is compared with 60 %
    assert math.isfinite(m["battery_gap_rms"])


def test_recorded_level_mode_sets_the_battery() -> None:
    env = gym.make("bgenv/iOS-v1", world=hand_trace(), world_battery="recorded", horizon_days=2)
    run(env, seed=1)
    ev = env.unwrapped.events
    after = [e for e in ev if e["kind"] == "level" and 20.5 * H <= e["t"] < 22 * H]
    assert after and after[0]["battery"] <= 0.6 + 1e-9  # set to 60 % at 20:30, then drains


def test_replay_is_deterministic_per_seed() -> None:
    env = gym.make("bgenv/iOS-v1", world="trace:mcm_iphone13", horizon_days=2)
    a, ia = run(env, seed=7)
    wa = env.unwrapped.world_window
    b, ib = run(env, seed=7)
    assert env.unwrapped.world_window == wa
    assert a == b and ia["metrics"] == ib["metrics"]
    windows = set()
    for s in range(6):
        env.reset(seed=s)
        windows.add(env.unwrapped.world_window["window"])
    assert len(windows) > 1  # the seed picks the window


def test_sample_window_replays_its_channels() -> None:
    env = gym.make("bgenv/iOS-v1", world="trace:mcm_iphone13", horizon_days=2)
    _, info = run(env, seed=3)
    u = env.unwrapped
    w: TraceWorld = u.world
    assert info["metrics"]["replayed_channels"] >= 2  # plugged and battery level at least
    # every charge of the log matches a recorded plug-in of the window
    rec = w.records(u.world_window["window"])
    plug_in = set(rec[(rec[:, 1] == 2) & (rec[:, 2] == 1.0) & (rec[:, 0] > 7 * H), 0].tolist())
    ev = u.events
    starts = [e["t"] for e in ev if e["kind"] == "charge_start" and not e["continued"] and e["t"] > 7 * H]
    assert starts and set(starts) <= plug_in
    # the episode starts on the charger exactly when the trace is plugged in at 07:00
    plugged = rec[(rec[:, 1] == 2) & (rec[:, 0] <= 7 * H), 2]
    assert ev[0]["charging"] is bool(plugged[-1] == 1.0)
    assert 0.0 <= info["metrics"]["battery_gap_rms"] < 0.5


def test_sequential_windows_and_batched_env_match_the_single_env() -> None:
    env = gym.make("bgenv/iOS-v1", world="trace:mcm_iphone13", world_mode="sequential", horizon_days=1)
    got = []
    env.reset(seed=0)
    got.append(env.unwrapped.world_window["window"])
    for _ in range(2):
        env.reset()
        got.append(env.unwrapped.world_window["window"])
    assert got == [0, 1, 2]
    n = 3
    venv = gym.make_vec(
        "bgenv/iOS-v1",
        num_envs=n,
        vectorization_mode="vector_entry_point",
        world="trace:mcm_iphone13",
        horizon_days=1,
    )
    vobs, _ = venv.reset(seed=10)
    for i in range(n):
        single = gym.make("bgenv/iOS-v1", world="trace:mcm_iphone13", horizon_days=1, record_events=False)
        obs, _ = single.reset(seed=10 + i)
        assert venv.unwrapped.world_window[i] == single.unwrapped.world_window["window"]
        assert np.array_equal(obs, vobs[i])
    # a batched episode ends with the world metrics
    done = np.zeros(n, dtype=bool)
    for _ in range(5000):
        _, _, _, trunc, infos = venv.step(np.tile([1, 0, 2, 0], (n, 1)))
        if trunc.any():
            assert np.isfinite(infos["metrics"]["battery_gap_rms"][trunc]).all()
            assert (infos["metrics"]["replayed_channels"][trunc] >= 2).all()
        done |= trunc
        if done.all():
            break
    assert done.all()


def test_synthetic_world_is_the_default() -> None:
    a = gym.make("bgenv/iOS-v1", horizon_days=1)
    b = gym.make("bgenv/iOS-v1", horizon_days=1, world="synthetic")
    ra, ia = run(a, seed=4)
    rb, ib = run(b, seed=4)
    assert ra == rb and ia["metrics"] == ib["metrics"]
    assert "battery_gap_rms" not in ia["metrics"]


def test_trace_too_short_and_bad_world_raise() -> None:
    with pytest.raises(ValueError, match="no local midnight"):
        gym.make("bgenv/iOS-v1", world=hand_trace(), horizon_days=3)
    with pytest.raises(ValueError, match="world must be"):
        gym.make("bgenv/iOS-v1", world="nowhere")
    assert load_sample("mcm_iphone13").channels[0] == "screen_on"


def test_a_copy_of_a_replaying_env_continues_identically() -> None:
    import copy

    env = gym.make("bgenv/iOS-v1", world="trace:mcm_iphone13", horizon_days=2)
    env.reset(seed=2)
    for _ in range(3):
        env.step(np.array([1, 0, 2, 0]))
    twin = copy.deepcopy(env)
    for _ in range(200):
        a = env.step(np.array([1, 0, 2, 0]))
        b = twin.step(np.array([1, 0, 2, 0]))
        assert np.array_equal(a[0], b[0]) and a[1] == b[1]
        if a[3]:
            assert a[4]["metrics"] == b[4]["metrics"]
            break


def test_evaluate_passes_the_world_to_the_env() -> None:
    from agents.evaluate import evaluate

    res = evaluate("guidelines", "ios_commuter", 2, 10_000, world="trace:mcm_iphone13", horizon_days=1)
    assert len(res.metrics) == 2
    assert all(math.isfinite(m["battery_gap_rms"]) and m["replayed_channels"] >= 2 for m in res.metrics)


@pytest.mark.parametrize("env_id", ["bgenv/iOS-v1", "bgenv/Android-v1"])
def test_app_network_and_low_power_channels_replay(env_id: str) -> None:
    """Screen on 11:59-12:15 with the app open 12:00-12:10, cellular 09:00, no network
    13:00, Wi-Fi 14:00, Low Power Mode 15:00-16:00, 37-38 degC 10:00-11:00 and 46 degC
    11:00-12:00, the screen not recorded from 18:00."""
    nan = float("nan")
    trace = Trace(
        start_utc_s=0.0,
        duration_s=48 * H,
        series={
            "screen_on": Channel(np.array([0.0, 11.98 * H, 12.25 * H, 18 * H]), np.array([0.0, 1.0, 0.0, nan])),
            "app_open": Channel(np.array([0.0, 12 * H, 12 * H + 600.0]), np.array([0.0, 1.0, 0.0])),
            "plugged": Channel(np.array([0.0]), np.array([0.0])),
            "network": Channel(np.array([0.0, 9 * H, 13 * H, 14 * H]), np.array([2.0, 1.0, 0.0, 2.0])),
            "low_power": Channel(np.array([0.0, 15 * H, 16 * H]), np.array([0.0, 1.0, 0.0])),
            "temperature_c": Channel(
                np.array([0.0, 10 * H, 10.5 * H, 11 * H, 12 * H]), np.array([30.0, 37.0, 38.0, 46.0, 30.0])
            ),
        },
        utc_offset_s=0.0,
    )
    env = gym.make(env_id, world=trace, horizon_days=1)
    _, info = run(env, seed=5)
    ev = [e for e in env.unwrapped.events if e["t"] > 7 * H]
    before = [e for e in ev if e["t"] < 18 * H]
    assert [(e["t"], e["on"], e["app"]) for e in before if e["kind"] == "screen"] == [
        (11.98 * H, True, False),
        (12.25 * H, False, False),
    ]
    assert [e["t"] for e in before if e["kind"] == "app_open"] == [12 * H]
    assert [e["t"] for e in before if e["kind"] == "app_close"] == [12 * H + 600.0]
    assert [(e["t"], e["network"]) for e in ev if e["kind"] == "network"] == [
        (9 * H, "cellular"),
        (13 * H, "none"),
        (14 * H, "wifi"),
    ]
    assert [(e["t"], e["on"]) for e in ev if e["kind"] == "low_power"] == [(15 * H, True), (16 * H, False)]
    # battery temperature as the thermal state: >= 35 degC fair, >= 45 critical (assumption)
    assert [(e["t"], e["level"]) for e in ev if e["kind"] == "thermal"] == [
        (10 * H, "fair"),
        (11 * H, "critical"),
        (12 * H, "nominal"),
    ]
    assert info["metrics"]["replayed_channels"] == 6.0
    # from 18:00 the user model drives the screen again
    assert any(e["kind"] == "screen" for e in ev if e["t"] > 18 * H)


def test_batched_sequential_windows_and_argument_errors() -> None:
    n = 2
    venv = gym.make_vec(
        "bgenv/iOS-v1",
        num_envs=n,
        vectorization_mode="vector_entry_point",
        world="trace:mcm_iphone13",
        world_mode="sequential",
        horizon_days=1,
    )
    venv.reset(seed=0)
    assert venv.unwrapped.world_window.tolist() == [0, 1]
    venv.reset()
    assert venv.unwrapped.world_window.tolist() == [2, 3]  # device i's k-th episode: window i + k n
    with pytest.raises(ValueError, match="world_battery"):
        gym.make("bgenv/iOS-v1", world="trace:mcm_iphone13", world_battery="nope")
    with pytest.raises(ValueError, match="world_mode"):
        gym.make("bgenv/iOS-v1", world="trace:mcm_iphone13", world_mode="nope")


# ---------------------------------------------------------------------------
# A folder of traces: one pool of windows
# ---------------------------------------------------------------------------
def day_trace(name: str, days: int, screen_h: float, level: float) -> Trace:
    """``days`` days from a UTC midnight: the screen on ``screen_h``-``screen_h`` + 1 h
    each day, on the charger 23:00-06:00 each night, ``level`` at midnight and ``level``
    - 0.2 at 20:00."""
    screen_t, screen_v, plug_t, plug_v, level_t, level_v = [0.0], [0.0], [0.0], [1.0], [], []
    for d in range(days):
        level_t += [d * 24 * H, d * 24 * H + 20 * H]
        level_v += [level, level - 0.2]
        screen_t += [d * 24 * H + screen_h * H, d * 24 * H + (screen_h + 1) * H]
        screen_v += [1.0, 0.0]
        plug_t += [d * 24 * H + 6 * H, d * 24 * H + 23 * H]
        plug_v += [0.0, 1.0]
    return Trace(
        start_utc_s=0.0,
        duration_s=days * 24 * H,
        series={
            "screen_on": Channel(np.array(screen_t), np.array(screen_v)),
            "plugged": Channel(np.array(plug_t), np.array(plug_v)),
            "battery_level": Channel(np.array(level_t), np.array(level_v)),
        },
        utc_offset_s=0.0,
        name=f"inner-{name}",
    )


@pytest.fixture()
def trace_folder(tmp_path):
    """Two small traces: ``a`` (4 days: one-day episodes, 07:00 to 07:00, fit from
    midnights 0, 1, 2; screen at 09:00) and ``b`` (3 days: midnights 0, 1; screen at
    15:00), plus a file that is not a trace."""
    d = tmp_path / "phones"
    d.mkdir()
    day_trace("a", 4, 9.0, 0.8).save(d / "a.npz")
    day_trace("b", 3, 15.0, 0.5).save(d / "b.npz")
    (d / "notes.txt").write_text("not a trace")
    return d


def test_a_folder_is_one_pool_of_windows(trace_folder) -> None:
    from bgenv.world import load_world_traces

    pool = load_world_traces(str(trace_folder))
    assert [lab for lab, _ in pool] == ["a", "b"]  # file names, sorted; the .txt is ignored
    assert load_world_traces(f"trace:{trace_folder}")[1][0] == "b"
    env = gym.make("bgenv/iOS-v1", world=str(trace_folder), horizon_days=1)
    w: TraceWorld = env.unwrapped.world
    assert w.labels == ["a", "b"]
    assert w.window_trace.tolist() == [0, 0, 0, 1, 1]  # a's 3 windows, then b's 2
    np.testing.assert_array_equal(w.starts, [0.0, 24 * H, 48 * H, 0.0, 24 * H])
    # sequential: trace by trace, wrapping round
    seq = gym.make("bgenv/iOS-v1", world=str(trace_folder), world_mode="sequential", horizon_days=1)
    got = [seq.reset(seed=0)[1]["world"]]
    got += [seq.reset()[1]["world"] for _ in range(5)]
    assert [(g["trace"], g["window"]) for g in got] == [("a", 0), ("a", 1), ("a", 2), ("b", 3), ("b", 4), ("a", 0)]
    assert got[3]["trace_index"] == 1 and got[3]["start_s"] == 0.0


def test_a_folder_replays_deterministically_and_uses_every_trace(trace_folder) -> None:
    env = gym.make("bgenv/iOS-v1", world=f"trace:{trace_folder}", horizon_days=1)
    a, ia = run(env, seed=11)
    wa = env.unwrapped.world_window
    b, ib = run(env, seed=11)
    assert env.unwrapped.world_window == wa and a == b
    assert str(ia["metrics"]) == str(ib["metrics"])  # NaN (no app open) equal too
    seen = {}
    for s in range(12):
        _, info = env.reset(seed=s)
        seen.setdefault(info["world"]["trace"], s)
    assert set(seen) == {"a", "b"}
    # the screen the episode replays is its trace's: 09:00 on a, 15:00 on b
    for name, s in seen.items():
        run(env, seed=s)
        on = [e["t"] % (24 * H) for e in env.unwrapped.events if e["kind"] == "screen" and e["on"]]
        assert on == [(9 if name == "a" else 15) * H]
    # the batched env: device i seeded s + i replays the single env's window, and names its trace
    n = 4
    venv = gym.make_vec(
        "bgenv/iOS-v1", num_envs=n, vectorization_mode="vector_entry_point", world=str(trace_folder), horizon_days=1
    )
    venv.reset(seed=20)
    w = venv.unwrapped.world
    for i in range(n):
        _, info = env.reset(seed=20 + i)
        assert venv.unwrapped.world_window[i] == info["world"]["window"]
    expected = w.window_trace[venv.unwrapped.world_window].copy()
    done = np.zeros(n, dtype=bool)
    for _ in range(5000):
        _, _, _, trunc, infos = venv.step(np.tile([1, 0, 2, 0], (n, 1)))
        if trunc.any():
            fi = infos["final_info"]
            assert (fi["world_trace"][trunc & ~done] == expected[trunc & ~done]).all()
        done |= trunc
        if done.all():
            break
    assert done.all()
    # SB3's view names the trace in each finished device's info
    from bgenv.envs.sb3 import make_sb3_vec_env

    sb3 = make_sb3_vec_env("bgenv/iOS-v1", n_envs=n, seed=20, world=str(trace_folder), horizon_days=1)
    sb3.reset()
    named: dict[int, int] = {}
    for _ in range(5000):
        _, _, dones, sb3_infos = sb3.step(np.tile([1, 0, 2, 0], (n, 1)))
        for i in np.flatnonzero(dones):
            named.setdefault(int(i), sb3_infos[i]["world_trace"])
        if len(named) == n:
            break
    assert named == {i: int(expected[i]) for i in range(n)}
    sb3.close()


def test_a_single_trace_keeps_its_window_choice() -> None:
    """The pool of one trace draws the same windows as before folders existed
    (``rng.integers(len(starts))`` from the env's generator)."""
    env = gym.make("bgenv/iOS-v1", world="trace:mcm_iphone13", horizon_days=7)
    w: TraceWorld = env.unwrapped.world
    for s in (0, 1, 5, 10_000):
        _, info = env.reset(seed=s)
        rng = np.random.default_rng(s)  # gymnasium's np_random(seed) is PCG64 seeded so
        assert info["world"]["window"] == int(rng.integers(w.starts.size))
        assert info["world"]["trace"] == "mcm_iphone13" and info["world"]["trace_index"] == 0


def test_folder_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"holds no \.npz"):
        gym.make("bgenv/iOS-v1", world=str(tmp_path))
    day_trace("short", 1, 9.0, 0.8).save(tmp_path / "short.npz")
    day_trace("long", 3, 9.0, 0.8).save(tmp_path / "long.npz")
    with pytest.warns(UserWarning, match="left out: short"):
        env = gym.make("bgenv/iOS-v1", world=str(tmp_path), horizon_days=2)
    assert env.unwrapped.world.labels == ["long", "short"] and env.unwrapped.world.window_trace.tolist() == [0]
    with pytest.raises(ValueError, match=r"traces 'long' .* have no local midnight"):
        gym.make("bgenv/iOS-v1", world=str(tmp_path), horizon_days=3)


def test_evaluate_and_compare_break_results_down_by_trace(trace_folder, capsys) -> None:
    from agents.cli import main
    from agents.evaluate import evaluate

    res = evaluate("guidelines", "ios_commuter", 8, 10_000, world=str(trace_folder), horizon_days=1)
    assert len(res.traces) == 8 and set(res.traces) == {"a", "b"}
    assert "world_trace" not in res.metrics[0]
    rows = res.by_trace()
    assert [r[0] for r in rows] == list(dict.fromkeys(res.traces))
    assert sum(r[1] for r in rows) == 8
    again = evaluate(
        "guidelines",
        "ios_commuter",
        8,
        10_000,
        world=str(trace_folder),
        horizon_days=1,
    )
    assert again.traces == res.traces and str(again.metrics) == str(res.metrics)
    out = trace_folder.parent / "out"
    main(
        ["compare", "--policies", "guidelines,greedy", "--episodes", "6", "--world", str(trace_folder),
         "--set", "horizon_days=1", "--out", str(out)]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert "per trace (mean ± 95 % CI" in text
    table = text.split("per trace")[1].splitlines()
    assert table[1].split()[:3] == ["policy", "trace", "episodes"]
    body = [ln.split() for ln in table[2:] if ln.startswith(("guidelines ", "greedy "))]
    assert {(r[0], r[1]) for r in body} == {(p, t) for p in ("guidelines", "greedy") for t in ("a", "b")}
    import csv

    with (out / "compare_by_trace.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {r["trace"] for r in rows} == {"a", "b"}
    assert {r["metric"] for r in rows} == {
        "completion_rate",
        "battery_cost",
        "episode_reward",
        "battery_gap_rms",
        "off_share",
    }
    main(
        ["compare", "--policies", "guidelines", "--episodes", "4", "--world", str(trace_folder),
         "--set", "horizon_days=1", "--out", str(out), "--json"]
    )  # fmt: skip
    import json

    doc = json.loads(capsys.readouterr().out)
    by = doc["policies"]["guidelines"]["by_trace"]
    assert set(by) <= {"a", "b"} and sum(v["episodes"] for v in by.values()) == 4
    assert "mean" in by[next(iter(by))]["battery_gap_rms"]


def doze_trace() -> Trace:
    """Two days from a UTC midnight, on battery: the screen on 20:00-20:30 on day 0, then
    off 20:30-08:00 (day 1); Doze recorded none, light from 01:00 (day 1), deep from
    02:00, none from 07:00, not recorded from 16:00."""
    nan = float("nan")
    return Trace(
        start_utc_s=0.0,
        duration_s=60 * H,
        series={
            "screen_on": Channel(
                np.array([0.0, 20 * H, 20.5 * H, 32 * H, 32.5 * H]), np.array([0.0, 1.0, 0.0, 1.0, 0.0])
            ),
            "plugged": Channel(np.array([0.0]), np.array([0.0])),
            "doze": Channel(np.array([0.0, 25 * H, 26 * H, 31 * H, 40 * H]), np.array([0.0, 1.0, 2.0, 0.0, nan])),
        },
        utc_offset_s=0.0,
        name="doze",
    )


def test_recorded_doze_drives_android_doze_exactly() -> None:
    env = gym.make("bgenv/Android-v1", world=doze_trace(), horizon_days=2)
    _, info = run(env, seed=3)
    doze = [(e["t"], e["state"]) for e in env.unwrapped.events if e["kind"] == "doze"]
    night = [(t, s) for t, s in doze if t < 40 * H]
    # nothing before the recorded light Doze at 01:00, though the screen is off from 20:30
    assert night[0] == (25 * H, "light_idle")
    deep = night.index((26 * H, "deep_idle"))  # (a light maintenance window may begin at 02:00 too)
    light = night[:deep]
    assert all(t < 26 * H + 1e-6 for t, _ in light)
    assert {s for _, s in light} == {"light_idle", "light_maintenance"}  # the maintenance windows go on (row 23)
    # deep from 02:00: idle 1 h, maintenance 5 min, idle 2 h, maintenance 10 min, idle (row 25); none at 07:00
    assert night[deep:] == [
        (26 * H, "deep_idle"),
        (27 * H, "deep_maintenance"),
        (27 * H + 300.0, "deep_idle"),
        (29 * H + 300.0, "deep_maintenance"),
        (29 * H + 900.0, "deep_idle"),
        (31 * H, "active"),
    ]
    # the screen-on at 08:00 and motion do not move a recorded Doze; from 16:00 (NaN) the OS
    # model's own Doze is back: the screen is off and the phone unplugged, so light Doze comes
    assert (40 * H, "light_pre") in doze
    assert info["metrics"]["replayed_channels"] == 3.0  # screen, plugged, Doze


def test_doze_channel_is_ignored_on_ios() -> None:
    env = gym.make("bgenv/iOS-v1", world=doze_trace(), horizon_days=2)
    _, info = run(env, seed=3)
    assert not [e for e in env.unwrapped.events if e["kind"] == "doze"]
    assert info["metrics"]["replayed_channels"] == 2.0  # screen, plugged
    assert "doze" not in env.unwrapped.world.channels(0)


def test_loaded_replaying_devices_continue_and_share_the_pool() -> None:
    from bgenv.core.sim import Simulator

    venv = gym.make_vec(
        "bgenv/iOS-v1", num_envs=2, vectorization_mode="vector_entry_point", world="trace:mcm_iphone13", horizon_days=1
    )
    venv.reset(seed=0)
    sim = venv.unwrapped.sim
    act = np.tile([1, 0, 2, 0], (2, 1))
    for _ in range(5):
        venv.step(act)
    plan = Simulator(sim.params, num=4, record_events=False)
    sizes = set()
    for _ in range(3):  # as a planner does before every decision: the windows join its pool once
        plan.load_devices(sim, np.array([0, 1, 0, 1]), np.arange(4))
        sizes.add(plan.tr.shape[0])
    assert sizes == {sim.tr.shape[0]}
    twin = sim.copy()
    assert twin.tr is sim.tr  # copies share the records (never written in place)
    for _ in range(20):
        plan.step(np.tile([1, 0, 2, 0], (4, 1)))
        twin.step(act)
        assert np.array_equal(plan.obs[:2], twin.obs) and np.array_equal(plan.obs[2:], twin.obs)


@pytest.mark.parametrize("env_id", ["bgenv/iOS-v1", "bgenv/Android-v1"])
def test_a_recorded_network_brings_its_own_outages(env_id: str) -> None:
    """A recorded network channel holds the phone's real outages, so the user model's
    synthetic drops stay off while it is recorded (they would add outages the phone did not
    have): Wi-Fi for two days with a recorded outage 10:00-10:05 on day 0 gives exactly
    that outage and no ``drop`` record, where the synthetic world drops the connection
    (``drops_per_hour`` of the user archetype)."""
    wifi, none = 2.0, 0.0
    trace = Trace(
        start_utc_s=0.0,
        duration_s=72 * H,
        series={
            "network": Channel(np.array([0.0, 10 * H, 10 * H + 300.0]), np.array([wifi, none, wifi])),
            "battery_level": Channel(np.array([0.0]), np.array([0.9])),
        },
        name="wifi",
    )
    env = gym.make(env_id, world=trace, horizon_days=2)
    run(env, seed=3)
    ev = env.unwrapped.events
    assert [e for e in ev if e["kind"] == "drop"] == []
    t0 = ev[0]["t"]  # the episode starts at 07:00: its reset logs the network the record sets
    net = [(e["t"], e["network"]) for e in ev if e["kind"] == "network"]
    assert [n for n in net if n[0] == t0][-1] == (t0, "wifi")
    assert [n for n in net if n[0] > t0] == [(10 * H, "none"), (10 * H + 300.0, "wifi")]
    synthetic = gym.make(env_id, horizon_days=2)
    run(synthetic, seed=3)
    assert any(e["kind"] == "drop" for e in synthetic.unwrapped.events)


def empty_trace() -> Trace:
    """The recorded phone had charge; at 8 % with the screen on for hours, the simulated one
    runs empty before the recorded charger comes at 13:00."""
    return Trace(
        start_utc_s=0.0,
        duration_s=48 * H,
        series={
            "screen_on": Channel(
                np.array([0.0, 7.5 * H, 12 * H, 12.5 * H, 12.6 * H, 14 * H, 14.2 * H]),
                np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
            ),
            "plugged": Channel(np.array([0.0, 13 * H, 20 * H]), np.array([0.0, 1.0, 0.0])),
            "battery_level": Channel(np.array([0.0]), np.array([0.08])),
        },
        utc_offset_s=0.0,
        name="empty",
    )


def test_a_phone_whose_battery_runs_empty_stays_off_until_plugged_in() -> None:
    """The recorded phone had charge; the simulated one, at 8 % with the screen on for
    hours, runs empty before the recorded charger comes at 13:00: it shuts down (screen
    off, no app, no background work, no decision) and starts again on the charger."""
    trace = empty_trace()
    env = gym.make("bgenv/iOS-v1", world=trace, horizon_days=1)
    env.reset(seed=3)
    step_t = []
    trunc = False
    while not trunc:
        _, _, _, trunc, info = env.step(np.array([1, 0, 2, 0]))
        step_t.append(info["t"])
    ev = env.unwrapped.events
    screen = [(e["t"], e["on"]) for e in ev if e["kind"] == "screen"]
    assert screen[0] == (7.5 * H, True)
    t_empty, on = screen[1]  # the screen goes dark when the battery does, before the recorded 12:00
    assert on is False and 7.5 * H < t_empty < 12 * H
    assert screen[2:] == [(14 * H, True), (14.2 * H, False)]  # 12:30 (phone off) is not applied
    start = next(e for e in ev if e["kind"] == "charge_start")
    assert start["t"] == 13 * H and start["battery"] == 0.0  # no drain while off
    off = [e for e in ev if t_empty < e["t"] < 13 * H]
    assert not [e for e in off if e["kind"] in ("app_open", "grant", "chunk", "screen", "transfer")]
    # a dead phone senses no network and its user makes no uploads; published content still arrives
    assert not [e for e in off if e["kind"] in ("network", "drop")]
    assert not [e for e in off if e["kind"] == "arrival" and e["work_kind"] == "upload"]
    assert [e for e in off if e["kind"] == "arrival" and e["work_kind"] == "refresh"]
    assert not [t for t in step_t if t_empty < t < 13 * H]  # nobody decides on a dead phone
    assert info["metrics"]["battery_min"] == 0.0
    assert info["metrics"]["off_share"] == pytest.approx((13 * H - t_empty) / (24 * H))
    assert [(e["t"], e["on"]) for e in ev if e["kind"] == "power"] == [(t_empty, False), (13 * H, True)]
    from bgenv.render import render_timeline_ansi, timeline_spans

    assert timeline_spans(ev)["power"] == [(t_empty, 13 * H, "off")]
    text = render_timeline_ansi(env.unwrapped, width=96)
    power = next(ln for ln in text.splitlines() if ln.startswith("power"))
    assert power.count("X") == pytest.approx((13 * H - t_empty) / (24 * H) * 96, abs=2)
    synthetic = gym.make("bgenv/iOS-v1", horizon_days=1)
    synthetic.reset(seed=3)
    trunc = False
    while not trunc:
        _, _, _, trunc, info = synthetic.step(np.array([1, 0, 2, 0]))
    assert "off_share" not in info["metrics"]  # a trace world's metric: the synthetic user plugs in first


def test_with_the_recorded_level_the_phone_is_off_while_the_record_is_empty() -> None:
    """``world_battery="recorded"``: the level follows the record; a recorded 0 % shuts the
    phone down and the next recorded level above 0 starts it again, charger or not."""
    trace = Trace(
        start_utc_s=0.0,
        duration_s=48 * H,
        series={
            "screen_on": Channel(
                np.array([0.0, 9 * H, 9.5 * H, 11 * H, 11.5 * H]), np.array([0.0, 1.0, 0.0, 1.0, 0.0])
            ),
            "plugged": Channel(np.array([0.0]), np.array([0.0])),
            "battery_level": Channel(np.array([0.0, 8 * H, 10.5 * H]), np.array([0.5, 0.0, 0.4])),
        },
        utc_offset_s=0.0,
        name="recorded-empty",
    )
    env = gym.make("bgenv/iOS-v1", world=trace, world_battery="recorded", horizon_days=1)
    env.reset(seed=3)
    trunc = False
    while not trunc:
        *_, trunc, _ = env.step(np.zeros(4, dtype=np.int64))
    screen = [(e["t"], e["on"]) for e in env.unwrapped.events if e["kind"] == "screen"]
    assert screen == [(11 * H, True), (11.5 * H, False)]  # 09:00 falls while the record is at 0 %


def level_trace() -> Trace:
    """Two days from a local midnight: the recorded level falls 1 %/h from 90 %, rises
    8 %/h on a charger from 20:00 to 23:00, then falls again; a sample at :15 and :45."""
    t = np.arange(0.25 * H, 48 * H, 0.5 * H)
    level = np.where(t < 20 * H, 0.9 - t / H * 0.01, np.where(t < 23 * H, 0.7 + (t - 20 * H) / H * 0.08, 0.94))
    level = np.where(t >= 23 * H, 0.94 - (t - 23 * H) / H * 0.01, level)
    return Trace(
        start_utc_s=0.0,
        duration_s=48 * H,
        series={
            "plugged": Channel(np.array([0.0, 20 * H, 23 * H]), np.array([0.0, 1.0, 0.0])),
            "battery_level": Channel(t, level),
        },
        utc_offset_s=0.0,
        name="levels",
    )


@pytest.mark.parametrize("mode", ["simulate", "recorded", "anchored"])
def test_battery_modes_follow_the_record_as_documented(mode: str) -> None:
    """With the phone's own drain set to ~0, only the app's background energy moves the
    simulated level off the charger. ``simulate`` ignores the record after the start;
    ``recorded`` sets the level to each sample (only the app's energy since the last one
    shows); ``anchored`` sets it to each sample less the app's energy drawn off the
    charger, which the recorded charger then puts back (3 h at 36 %/h: all of it)."""
    from bgenv.core import layout as L

    trace = level_trace()
    env = gym.make(
        "bgenv/iOS-v1",
        world=trace,
        world_battery=mode,
        horizon_days=1,
        battery={"drain_screen_off_pct_per_h": 1e-9, "drain_screen_on_pct_per_h": 1e-9},  # ~0: must be > 0
    )
    env.reset(seed=5)
    sim = env.unwrapped.sim
    start = sim.sf[0, L.S_BATT]
    assert sim.sf[0, L.S_T] == 7 * H and start == pytest.approx(0.8325)  # the sample at 06:45
    history = [(7 * H, 0.0)]  # (time, battery cost) after each step
    checked = 0
    trunc = False
    while not trunc:
        _, _, _, trunc, _ = env.step(np.array([1, 0, 2, 0]))
        t, level, cost = sim.sf[0, L.S_T], sim.sf[0, L.S_BATT], sim.sf[0, L.M_BATTERY_COST]
        last = float(trace["battery_level"].at(t))  # the last recorded sample
        t_last = np.floor((t - 0.25 * H) / (0.5 * H)) * 0.5 * H + 0.25 * H
        if 20 * H <= t < 23.25 * H:
            continue  # on the charger (and until its first sample after it) the phone charges on its own
        if mode == "simulate":
            if t < 20 * H:
                assert level == pytest.approx(start - cost, abs=1e-9)
        elif mode == "anchored":
            repaid = sim.sf[0, L.S_TR_REPAID]
            assert level == pytest.approx(last - (cost - repaid), abs=1e-9)
            if t < 20 * H:
                assert repaid == 0.0
            else:  # all that was drawn before the charger is back
                assert repaid >= max(c for tt, c in history if tt < 20 * H) and repaid <= cost
        else:  # recorded: the app's energy since the last sample only
            before = max(c for tt, c in history if tt <= t_last)
            assert -1e-9 <= last - level <= cost - before + 1e-9
        checked += 1
        history.append((t, cost))
    assert checked >= 10 and t == 31 * H  # the last step ends the episode, off the charger
    assert max(c for tt, c in history if tt < 20 * H) > 0.0  # the app spent battery in the background
    if mode == "anchored":
        assert sim.sf[0, L.S_TR_REPAID] > 0.0


def test_an_anchored_phone_runs_empty_only_on_the_apps_energy() -> None:
    """``world_battery="anchored"`` on the shipped trace (its level never below 1 %): a
    policy that spends nothing in the background never empties the battery, whatever the
    synthetic screen does; the simulated level stays within the record's own steps (1 %,
    a few per cent between samples on the charger), where the simulated one drifts away."""
    from agents.evaluate import evaluate

    res = evaluate(
        "charging-only", "ios_commuter", 6, 10_000, world="trace:mcm_iphone13", world_battery="anchored", horizon_days=3
    )
    assert [m["battery_cost"] for m in res.metrics] == [0.0] * 6
    assert [m["off_share"] for m in res.metrics] == [0.0] * 6
    assert all(m["battery_min"] >= 0.01 - 1e-9 and m["battery_gap_rms"] < 0.03 for m in res.metrics)
    simulated = evaluate("charging-only", "ios_commuter", 6, 10_000, world="trace:mcm_iphone13", horizon_days=3)
    assert max(m["battery_gap_rms"] for m in simulated.metrics) > 0.05


def test_cli_timeline_replays_a_trace_and_shows_the_phone_off(tmp_path, capsys) -> None:
    """``bgenv timeline --world``: the episode replays the trace, and the text timeline
    has a ``power`` row with the phone off from the empty battery to the 13:00 charger."""
    from agents.cli import main

    path = tmp_path / "empty.npz"
    empty_trace().save(path)
    out = tmp_path / "t.png"
    argv = ["timeline", "--world", str(path), "--days", "1", "--seed", "3", "--out", str(out), "--ansi"]
    assert main([*argv, "--policy", "guidelines"]) == 0
    printed = capsys.readouterr().out
    assert out.stat().st_size > 10_000
    power = next(ln for ln in printed.splitlines() if ln.startswith("power"))
    assert 10 <= power.count("X") <= 25  # 1 character = 15 min; off for roughly 3-5 h before 13:00
    assert "power X the phone is off" in printed
