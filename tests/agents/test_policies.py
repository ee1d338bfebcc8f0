"""Behaviour tests of the hand-written policies (agents/policies.py).

Concrete expectations: every policy answers a single observation and a batch with valid
actions (inside the action space, and under the action mask for the policies that
follow it), a batch is answered exactly as row by row, and ``guidelines`` follows the
seeds' rules (stops early in an iOS refresh window, backs off after failures, keeps
uploads off cellular, asks for power for heavy work) and beats the naive policies.
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import gymnasium as gym
import numpy as np
import pytest

import bgenv  # noqa: F401  (registers the env ids)
from agents.policies import POLICIES, F, GuidelinesPolicy, make_policy
from bgenv.envs.actions import ActionTable
from bgenv.registration import ENV_ID_OF_PLATFORM as ENV_IDS

SCENARIOS = {"ios": ("bgenv/iOS-v1", "ios_commuter"), "android": ("bgenv/Android-v1", "android_commuter")}
MASK_FOLLOWERS = ("random", "guidelines")  # the policies whose docstrings say they follow the mask
LOG_1K = np.log1p(1000.0)


def _env(platform: str, **kw) -> gym.Env:
    env_id, scenario = SCENARIOS[platform]
    return gym.make(env_id, scenario=scenario, **kw)


@cache
def _trajectory(platform: str) -> tuple[np.ndarray, np.ndarray]:
    """Observations and masks of two simulated days under ``guidelines`` then ``random``
    (so windows of several types, chunks and background decisions all appear)."""
    env = _env(platform, horizon_days=2, record_events=False)
    obs_l, mask_l = [], []
    for seed, name in ((3, "guidelines"), (4, "random")):
        pol = make_policy(name, env, seed=seed)
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            mask = env.unwrapped.action_masks()
            obs_l.append(obs)
            mask_l.append(mask)
            obs, _, term, trunc, _ = env.step(pol.act(obs, mask))
            done = term or trunc
    env.close()
    return np.stack(obs_l), np.stack(mask_l)


def _ctx(platform: str) -> ActionTable:
    env = _env(platform, record_events=False)
    ctx = ActionTable.from_env(env)
    env.close()
    return ctx


def _under_mask(a: np.ndarray, mask: np.ndarray, nvec: tuple[int, ...]) -> bool:
    start = np.cumsum([0, *nvec[:-1]])
    return all(mask[start[d] + int(a[d])] for d in range(4))


@pytest.mark.parametrize("platform", ["ios", "android"])
@pytest.mark.parametrize("name", list(POLICIES))
def test_valid_actions_single_and_batched(platform: str, name: str) -> None:
    obs, masks = _trajectory(platform)
    ctx = _ctx(platform)
    nvec = np.array(ctx.nvec)
    one = POLICIES[name](ctx, seed=7)
    rows = np.stack([one.act(o, m) for o, m in zip(obs, masks)])
    assert rows.shape == (len(obs), 4) and rows.dtype.kind == "i"
    assert ((rows >= 0) & (rows < nvec)).all()
    batch = POLICIES[name](ctx, seed=7).act(obs, masks)
    np.testing.assert_array_equal(batch, rows)  # a batch is answered exactly as row by row
    if name in MASK_FOLLOWERS:
        assert all(_under_mask(a, m, ctx.nvec) for a, m in zip(rows, masks))
    # without masks too: still inside the space, batch == rows
    rows_nm = np.stack([POLICIES[name](ctx, seed=7).act(o) for o in obs[:50]]) if name != "random" else None
    if rows_nm is not None:
        np.testing.assert_array_equal(POLICIES[name](ctx, seed=7).act(obs[:50]), rows_nm)
        assert ((rows_nm >= 0) & (rows_nm < nvec)).all()


def test_make_policy_and_empty_batch() -> None:
    env = _env("ios", record_events=False)
    for name in POLICIES:
        pol = make_policy(name, env, seed=0)
        assert pol.name == name
        assert pol.act(np.zeros((0, len(F)), dtype=np.float32)).shape == (0, 4)
    with pytest.raises(ValueError, match="unknown policy"):
        make_policy("nope", env)
    env.close()


# --- guidelines: the rules, on hand-made observations -------------------------------
def _obs(**features: float) -> np.ndarray:
    """An observation: nominal device on Wi-Fi, background phase, then ``features``."""
    o = np.zeros(len(F), dtype=np.float32)
    o[F["battery"]] = 0.8
    o[F["net_wifi"]] = 1.0
    o[F["phase_background"]] = 1.0
    for k, v in features.items():
        o[F[k]] = v
    return o


def _window(**features: float) -> np.ndarray:
    return _obs(phase_background=0.0, phase_window=1.0, **features)


def _backlog(units: float) -> float:
    return float(np.log1p(units) / LOG_1K)


def _sat(x: float) -> float:  # the x/(x+5) scale of the recent-history features
    return x / (x + 5.0)


def test_guidelines_stops_before_30s_in_ios_refresh_window() -> None:
    ctx = _ctx("ios")
    pol = GuidelinesPolicy(ctx)
    # plenty of work: it works at the start, and stops by 20 s (budget ~30 s, row 38)
    base = {"window_refresh": 1.0, "backlog_sync": _backlog(50), "backlog_refresh": _backlog(5)}
    for elapsed in np.arange(0.0, 30.0, 0.5):
        a = pol.act(_window(window_elapsed=elapsed / 600.0, **base))
        if a[2] > 0:  # a chunk: it must end (with its checkpoint) before 20 s
            units = min(ctx.chunk_bins_units[a[2]], 50.0 if a[3] == 1 else 5.0)
            sec = {1: 2.0, 3: 1.0}[int(a[3])]
            assert elapsed + 0.5 + units * sec <= 20.0 + 1e-6
        if elapsed >= 20.0:
            assert a[2] == 0, f"still working at {elapsed} s"
    assert pol.act(_window(window_elapsed=0.0, **base))[2] > 0


def test_guidelines_refresh_windows_end_early_in_simulation() -> None:
    env = _env("ios", horizon_days=3)
    pol = make_policy("guidelines", env)
    for seed in (10000, 10001):
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            obs, _, term, trunc, _ = env.step(pol.act(obs, env.unwrapped.action_masks()))
            done = term or trunc
        ev = env.unwrapped.events
        done_refresh = [e["window_s"] for e in ev if e["kind"] == "complete" and e["type"] == "refresh"]
        done_push = [e["window_s"] for e in ev if e["kind"] == "complete" and e["type"] == "push"]
        assert done_refresh and max(done_refresh) <= 20.0 + 1e-6
        assert done_push and max(done_push) <= 25.0 + 1e-6
        assert not [e for e in ev if e["kind"] == "kill"]  # no jetsam, no wind-down kill
    env.close()


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_guidelines_backs_off_after_failures(platform: str) -> None:
    ctx = _ctx(platform)
    pol = GuidelinesPolicy(ctx)
    main = ctx.option("refresh") if platform == "ios" else ctx.option("periodic+job+network")
    pending = {"pending_slot1": 1.0, "pending_slot3": 1.0} if platform == "ios" else {"pending_slot1": 1.0}
    delays = []
    for failures in (0.0, 1.0, 2.0, 3.0):
        a = pol.act(_obs(recent_expirations=_sat(failures), **pending))
        assert a[0] == main
        delays.append(ctx.delay_bins_s[a[1]])
    assert delays[0] == 900.0  # the 15-min floor (seed 004)
    assert all(b > a for a, b in pairwise(delays)), delays  # exponential backoff
    # kills and lost chunks count as failures too
    assert ctx.delay_bins_s[pol.act(_obs(recent_kills=_sat(2.0), **pending))[1]] > delays[0]
    assert ctx.delay_bins_s[pol.act(_obs(recent_failed_chunks=_sat(2.0), **pending))[1]] > delays[0]


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_guidelines_defers_uploads_off_wifi(platform: str) -> None:
    pol = GuidelinesPolicy(_ctx(platform))
    wtype = {"window_refresh": 1.0} if platform == "ios" else {"window_job": 1.0}
    up = {"backlog_upload": _backlog(40.0), **wtype}
    cell = pol.act(_window(net_wifi=0.0, net_cellular=1.0, **up))
    assert cell[2] == 0  # nothing but uploads: stop rather than upload on cellular
    wifi = pol.act(_window(**up))
    assert wifi[2] > 0 and wifi[3] == 2  # on Wi-Fi: upload
    charging = pol.act(_window(net_wifi=0.0, net_cellular=1.0, charging=1.0, **up))
    assert charging[2] > 0 and charging[3] == 2  # on the charger: upload (seed 004)
    # the user's edits still go out on cellular, first
    both = pol.act(_window(net_wifi=0.0, net_cellular=1.0, backlog_sync=_backlog(2.0), **up))
    assert both[2] > 0 and both[3] == 1
    if platform == "ios":  # memory: an upload chunk stays under ~45 MB (25 MB + 1.5 MB/unit)
        assert 25.0 + 1.5 * pol.ctx.chunk_bins_units[wifi[2]] <= 45.0


def test_guidelines_heavy_work_asks_for_power_ios() -> None:
    ctx = _ctx("ios")
    pol = GuidelinesPolicy(ctx)
    heavy = {"backlog_heavy": _backlog(300.0)}
    a = pol.act(_obs(pending_slot0=1.0, pending_slot3=1.0, **heavy))
    assert ctx.option_labels[a[0]] == "processing+power"
    # heavy work is never done in an app refresh or a push, only in processing
    assert pol.act(_window(window_refresh=1.0, **heavy))[2] == 0
    assert pol.act(_window(window_push=1.0, **heavy))[2] == 0
    w = pol.act(_window(window_processing=1.0, charging=1.0, **heavy))
    assert w[2] > 0 and w[3] == 4
    assert ctx.chunk_bins_units[w[2]] <= 20.0  # cancellable within the grace period


def test_guidelines_heavy_work_asks_for_power_android() -> None:
    ctx = _ctx("android")
    pol = GuidelinesPolicy(ctx)
    heavy = {"backlog_heavy": _backlog(300.0)}
    a = pol.act(_obs(pending_slot2=1.0, pending_slot1=1.0, **heavy))
    assert ctx.option_labels[a[0]] == "job+power" and ctx.delay_bins_s[a[1]] == 0.0
    # off the charger a fresh heavy item waits; on the charger it runs
    assert pol.act(_window(window_job=1.0, **heavy))[2] == 0
    w = pol.act(_window(window_job=1.0, charging=1.0, **heavy))
    assert w[2] > 0 and w[3] == 4
    # the user's edits go out in an expedited job when leaving the app
    e = pol.act(_obs(pending_slot2=1.0, pending_slot0=1.0, backlog_sync=_backlog(1.0)))
    assert ctx.option_labels[e[0]] == "expedited+network"


# --- guidelines beats the naive policies --------------------------------------------
def _mean_reward(platform: str, name: str, episodes: int = 8, seed: int = 10_000) -> float:
    env_id, scenario = SCENARIOS[platform]
    envs = gym.make_vec(env_id, num_envs=episodes, vectorization_mode="vector_entry_point", scenario=scenario)
    single = _env(platform, record_events=False)
    pol = make_policy(name, single, seed=seed)
    obs, _ = envs.reset(seed=seed)
    total = np.zeros(episodes)
    finished = np.zeros(episodes, dtype=bool)
    while not finished.all():
        obs, rewards, _, truncated, _ = envs.step(pol.act(obs, envs.action_masks()))
        total += np.where(finished, 0.0, rewards)
        finished |= truncated
    envs.close()
    single.close()
    return float(total.mean())


# measured (8 episodes from seed 10000) under the v1 reward (content paid when shown, wake-ups and
# energy on the charger priced): iOS guidelines 751 vs random -74, fixed-interval -109, greedy -116;
# Android guidelines 1029 vs random 773, fixed-interval 134, greedy -2050. Re-measured after the v1
# re-tuning of guidelines (push cadence without device backoff, hourly charger job, 12.5-min
# processing stop): iOS guidelines 876, Android 1035 (the others unchanged)
MARGIN = {"ios": 350.0, "android": 200.0}  # iOS 600 -> 350 in v1 with background transfers: random hands
# uploads to the system a third of the time (measured on these seeds: guidelines 853, random 404)


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_guidelines_beats_naive_policies(platform: str) -> None:
    best = _mean_reward(platform, "guidelines")
    for other in ("random", "fixed-interval", "greedy"):
        r = _mean_reward(platform, other)
        assert best >= r + MARGIN[platform], f"{platform}: guidelines {best:.0f} vs {other} {r:.0f}"


@pytest.mark.parametrize(
    "scenario", ["ios_commuter", "ios_rare", "android_commuter", "android_heavy", "android16_commuter"]
)
def test_guidelines_choices_ignore_the_resubmission_mask(scenario):
    """The request mask's resubmission advice (``kernel.write_masks``) never changes
    ``guidelines``' choice: at every decision of 16 one-week episodes its actions under the
    masks with and without that advice are equal, although the two masks differ at many
    decisions (its own main request is pending and eligible most of the time)."""
    from bgenv.core import layout as L
    from bgenv.rollout import rollout_batch

    platform = "ios" if scenario.startswith("ios") else "android"
    venv = gym.make_vec(ENV_IDS[platform], num_envs=16, vectorization_mode="vector_entry_point", scenario=scenario)
    sim = venv.unwrapped.sim
    sim.set_params(
        sim.pf_table.copy(), sim.ph_table, sim.pidx
    )  # a table of our own: the flag is read by write_masks only

    def advice(on: float) -> None:
        sim.pf_table.flags.writeable = True
        sim.pf_table[0, L.P_MASK_RESUBMIT] = on
        sim.pf_table.flags.writeable = False

    pol = make_policy("guidelines", venv.unwrapped)
    seen = {"decisions": 0, "differ": 0}

    class Both:
        def act(self, obs, masks):
            advice(0.0)
            old = venv.unwrapped.action_masks()
            advice(1.0)
            a_new, a_old = pol.act(obs, masks), pol.act(obs, old)
            np.testing.assert_array_equal(a_new, a_old)
            assert not (masks & ~old).any(), "the advice only ever removes choices"
            seen["decisions"] += len(obs)
            seen["differ"] += int((masks != old).any(axis=1).sum())
            return a_new

    rollout_batch(venv.unwrapped, Both(), list(range(10000, 10016)))
    assert seen["differ"] > 0.1 * seen["decisions"]
