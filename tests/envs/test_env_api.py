"""The Gymnasium surface: checkers, spaces, seeding, info and metrics, action
validation, masks and the event-log export."""

from __future__ import annotations

import json
import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from helpers import ENV_IDS, ZERO_24, make_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from bgenv.core import layout as L
from bgenv.envs.actions import ActionTable
from bgenv.rollout import rollout

METRIC_KEYS = (
    "completion_rate",
    "work_arrived",
    "work_completed",
    "work_pending",
    "battery_cost",
    "windows_granted",
    "expirations",
    "kills",
    "throttled_requests",
    "retries_per_task",
    "time_to_success_s",
    "freshness_at_open",
)


# ---------------------------------------------------------------------------
# Environment checkers
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", sorted(ENV_IDS.values()))
def test_gymnasium_check_env_passes(env_id):
    env = gym.make(env_id, horizon_days=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped)
    checker_warnings = [str(w.message) for w in caught if "env_checker" in w.filename]
    assert checker_warnings == []


@pytest.mark.parametrize("env_id", sorted(ENV_IDS.values()))
def test_sb3_check_env_passes(env_id):
    env = gym.make(env_id, horizon_days=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env.unwrapped, warn=True)
    checker_warnings = [str(w.message) for w in caught if "env_checker" in w.filename]
    assert checker_warnings == []


def test_spaces_match_the_documented_tables(platform):
    env = make_env(platform, horizon_days=1)
    n_request = 10 if platform == "ios" else 13  # + 3 iOS transfer options, + Android's uidt
    assert env.action_space.nvec.tolist() == [n_request, 9, 9, 5]
    assert env.observation_space.shape == (54,)
    assert len(env.observation_names) == 54
    labels = env.action_labels
    assert labels["delay"] == ("0 s", "60 s", "300 s", "900 s", "1800 s", "3600 s", "7200 s", "14400 s", "28800 s")
    assert labels["chunk"][0] == "stop and report completion"
    assert labels["chunk"][1:] == (
        "1 units",
        "2 units",
        "5 units",
        "10 units",
        "20 units",
        "50 units",
        "100 units",
        "300 units",
    )
    assert labels["work_kind"] == ("auto", "sync", "upload", "refresh", "heavy")
    if platform == "ios":
        assert labels["request"] == (
            "none",
            "refresh",
            "processing",
            "processing+network",
            "processing+power",
            "processing+network+power",
            "push",
            "transfer",
            "transfer+discretionary",
            "transfer+wifi",
        )
    else:
        assert labels["request"] == (
            "none",
            "job",
            "job+network",
            "job+power",
            "job+network+power",
            "expedited",
            "expedited+network",
            "periodic+job+network",
            "push",
            "push+notification",
            "alarm",
            "fgs",
            "uidt+network",
        )


# ---------------------------------------------------------------------------
# Seeding and determinism
# ---------------------------------------------------------------------------
def _fixed_action_policy(nvec, seed=7, n=5000):
    actions = np.random.default_rng(seed).integers(0, nvec, size=(n, len(nvec)))
    it = iter(actions)
    return lambda env, obs, info: next(it)


def _trajectory(env, seed):
    ep = rollout(env, _fixed_action_policy(env.action_space.nvec), seed, record=True)
    return {
        "obs": np.array([r.obs for r in ep.steps]),
        "rewards": [r.reward for r in ep.steps],
        "infos": [(r.info["t"], r.info["phase"], r.info["cost"]) for r in ep.steps],
        "events": env.events,
        "metrics": ep.metrics,
    }


def test_same_seed_same_trajectory(platform):
    a = _trajectory(make_env(platform, horizon_days=2), seed=123)
    b = _trajectory(make_env(platform, horizon_days=2), seed=123)
    assert len(a["rewards"]) > 5
    assert np.array_equal(a["obs"], b["obs"])
    assert a["rewards"] == b["rewards"]
    assert a["infos"] == b["infos"]
    assert a["events"] == b["events"]
    assert json.dumps(a["metrics"]) == json.dumps(b["metrics"])  # NaN-safe equality


def test_reset_with_the_same_seed_replays_on_the_same_instance(platform):
    env = make_env(platform, horizon_days=2)
    a = _trajectory(env, seed=5)
    _trajectory(env, seed=6)  # something else in between
    b = _trajectory(env, seed=5)
    assert np.array_equal(a["obs"], b["obs"])
    assert a["rewards"] == b["rewards"]
    assert a["events"] == b["events"]


def test_different_seeds_differ(platform):
    a = _trajectory(make_env(platform, horizon_days=2), seed=1)
    b = _trajectory(make_env(platform, horizon_days=2), seed=2)
    assert a["events"] != b["events"]
    assert [e["t"] for e in a["events"][:20]] != [e["t"] for e in b["events"][:20]]


# ---------------------------------------------------------------------------
# info, metrics, observations
# ---------------------------------------------------------------------------
def test_info_and_final_metrics(platform):
    env = make_env(platform, horizon_days=2)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert set(info) >= {"cost", "t", "phase"}
    rng = np.random.default_rng(0)
    steps = 0
    while True:
        obs, reward, terminated, truncated, info = env.step(rng.integers(0, env.action_space.nvec))
        steps += 1
        assert terminated is False
        assert env.observation_space.contains(obs)
        assert math.isfinite(reward)
        assert isinstance(info["cost"], float) and math.isfinite(info["cost"]) and info["cost"] >= 0.0
        if truncated:
            break
        assert info["phase"] in ("background", "window_start", "chunk_done")
        assert "metrics" not in info
    m = info["metrics"]
    for key in METRIC_KEYS:
        assert key in m, key
    assert m["simulated_days"] == pytest.approx(2.0)
    assert info["t"] == pytest.approx(7 * 3600 + 2 * 86400)
    assert json.dumps(m) == json.dumps(env.metrics())
    assert 0.0 <= m["completion_rate"] <= 1.0
    assert m["work_completed"] <= m["work_arrived"] + 1e-9
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(4, dtype=np.int64))


def test_step_before_reset_raises():
    env = make_env("ios", horizon_days=1)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(4, dtype=np.int64))


def test_reset_always_returns_a_decision_point_that_accepts_actions():
    """Gymnasium contract: after reset() the agent can step. A user who never opens the
    app gives the app no decision point in the whole horizon; reset() must still hand
    back a state in which any in-space action is accepted (not an episode that has
    already ended and makes the first step() raise)."""
    env = make_env("ios", horizon_days=1, user={"app_opens_per_hour": ZERO_24})
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    env.step(np.zeros(4, dtype=np.int64))  # must not raise


# ---------------------------------------------------------------------------
# Action validation
# ---------------------------------------------------------------------------
def _bad_actions(nvec):
    n_req = int(nvec[0])
    return [
        ([1, 0, 0], "action must be 4 integers"),
        ([1, 0, 0, 0, 0], "action must be 4 integers"),
        ([[1, 0, 0, 0]], "action must be 4 integers"),
        ([-1, 0, 0, 0], rf"request=-1 \(allowed 0..{n_req - 1}\)"),
        ([n_req, 0, 0, 0], rf"request={n_req} \(allowed 0..{n_req - 1}\)"),
        ([0, 9, 0, 0], r"delay=9 \(allowed 0..8\)"),
        ([0, 0, -2, 0], r"chunk=-2 \(allowed 0..8\)"),
        ([0, 0, 0, 5], r"work_kind=5 \(allowed 0..4\)"),
        ([1.5, 0, 0, 0], "action must be 4 integers"),
        ([float("nan"), 0, 0, 0], "action must be 4 integers"),
        ("abcd", "action must be 4 integers"),
    ]


def test_actions_outside_the_space_raise_a_clear_value_error(platform):
    env = make_env(platform, horizon_days=1)
    env.reset(seed=0)
    t0 = env.sim.time_s()
    for action, message in _bad_actions(env.action_space.nvec):
        arg = action if isinstance(action, str) else np.asarray(action)
        with pytest.raises(ValueError, match=message):
            env.step(arg)
        assert env.sim.time_s() == t0, f"a rejected action {action!r} changed the state"
    env.step(np.array([1, 0, 0, 0]))  # a valid action still works afterwards


def test_senseless_in_space_action_is_counted_not_raised(platform):
    env = make_env(platform, horizon_days=1)
    _, info = env.reset(seed=0)
    assert info["phase"] == "background"
    before = env.metrics()["invalid_actions"]
    env.step(ActionTable.from_env(env).action(chunk=5, kind="heavy"))  # a chunk outside any window
    assert env.metrics()["invalid_actions"] == before + 1


# ---------------------------------------------------------------------------
# Action masks
# ---------------------------------------------------------------------------
def test_action_masks_layout_and_phases(platform):
    env = make_env(platform, horizon_days=2, workload={"heavy_per_day": 24.0})
    nvec = env.action_space.nvec
    starts = np.concatenate([[0], np.cumsum(nvec)[:-1]])
    chunk_5 = ActionTable.from_env(env).chunk(5)
    seen_window_with_work = False

    def policy(env, obs, info):
        nonlocal seen_window_with_work
        m = env.action_masks()
        assert m.dtype == np.bool_ and m.shape == (int(nvec.sum()),)
        req, dl, ch, kd = (m[s : s + n] for s, n in zip(starts, nvec))
        visible_only = [i for i, lab in enumerate(env.action_labels["request"]) if lab in ("fgs", "uidt+network")]
        # Background App Refresh is on: the other options are allowed, but option 1 (submitted
        # at every background decision with no delay) while that very request is pending and
        # eligible: resubmitting it would only reset its timer (row 42, ``write_masks``); an
        # Android retry of it with backoff (attempt > 0) may be replaced (that resets the backoff)
        r0 = env.unwrapped.sim.reqs[0, 0]
        own_pending = r0[L.RQ_ACTIVE] != 0 and r0[L.RQ_EARLIEST] <= env.unwrapped.sim.time_s()
        own_pending = own_pending and r0[L.RQ_ATTEMPT] == 0
        assert req[1] == (not own_pending)
        assert np.delete(req, [1, *visible_only]).all()
        # rows 37, 79: a foreground service or a user-initiated job only while the app is visible
        # (on screen, or left at most fgs_start_grace_s ago; at t0 the app is in the background)
        sf, si = env.unwrapped.sim.sf[0], env.unwrapped.sim.si[0]
        visible = si[L.I_APP_FG] != 0 or sf[L.S_T] - sf[L.S_LAST_CLOSE] <= 10.0
        assert (req[visible_only] == visible).all()
        if info["phase"] == "background" and info["t_s"] > 0.0:
            assert visible, "the user has just left the app"
        assert dl.all()
        assert ch[0] and kd[0], "stop/auto is always allowed"
        if info["phase"] == "background":
            assert not ch[1:].any() and not kd[1:].any()
            return [1, 0, 0, 0]
        if kd[1:].any():
            seen_window_with_work = True
            assert ch.all()
            k = int(np.flatnonzero(kd[1:])[0]) + 1
            return [0, 0, chunk_5, k]
        assert not ch[1:].any()
        return [0, 0, 0, 0]

    rollout(env, policy, 0)
    assert seen_window_with_work


# ---------------------------------------------------------------------------
# Event log export
# ---------------------------------------------------------------------------
def test_export_events_jsonl_round_trips(platform, tmp_path):
    env = make_env(platform, horizon_days=2)
    chunk_5 = ActionTable.from_env(env).chunk(5)
    rollout(env, lambda env, obs, info: [1, 0, 0 if info["phase"] == "background" else chunk_5, 0], 3)
    evs = env.events
    assert len(evs) > 50
    path = tmp_path / "events.jsonl"
    env.export_events(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(evs)
    for line, rec in zip(lines, evs):
        parsed = json.loads(line)
        assert isinstance(parsed["t"], float)
        assert isinstance(parsed["kind"], str)
        assert parsed == rec
    kinds = {e["kind"] for e in evs}
    assert {"app_open", "app_close", "request", "grant", "arrival", "screen"} <= kinds


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def test_export_events_is_strict_json(platform, tmp_path):
    """JSON Lines means each line is standard JSON (RFC 8259): no NaN / Infinity tokens,
    which jq, JavaScript and most JSON readers reject."""
    env = make_env(platform, horizon_days=2)
    rollout(env, lambda env, obs, info: [1, 0, 0, 0], 3)
    path = tmp_path / "events.jsonl"
    env.export_events(path)
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        try:
            json.loads(line, parse_constant=_reject_constant)
        except ValueError as e:
            pytest.fail(f"line {n + 1} is not standard JSON ({e}): {line}")


# ---------------------------------------------------------------------------
# Generated reference docs
# ---------------------------------------------------------------------------
def test_reference_docs_are_current():
    """docs/reference.md is generated by `python -m bgenv.docs`; it must match the code."""
    from pathlib import Path

    from bgenv.docs import render

    path = Path(__file__).resolve().parents[2] / "docs" / "reference.md"
    assert path.read_text(encoding="utf-8") == render(), "run `python -m bgenv.docs` to regenerate docs/reference.md"


def test_reference_docs_list_every_metric(platform):
    from bgenv.core.metrics import METRICS

    env = make_env(platform, horizon_days=1)
    env.reset(seed=0)
    assert set(METRICS) == set(env.metrics())
