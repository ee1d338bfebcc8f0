"""Simulated time in every step's info: ``t_s`` (s since the episode's reset) and ``dt_s``
(s since the previous decision), in the single env, the batched env and the
Stable-Baselines3 VecEnv. Decisions are event-driven, so ``dt_s`` varies from a second to
many hours; over an episode it sums to the episode's simulated length."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from helpers import ENV_IDS, pick
from stable_baselines3.common.vec_env import DummyVecEnv

from bgenv.core import layout as L
from bgenv.envs.sb3 import BgenvVecEnv
from bgenv.envs.spaces import INFO_KEYS
from bgenv.envs.vector import BackgroundSchedulingVectorEnv

SEED = 40
N = 3
TOL = 1e-6  # s: a sum of a few hundred doubles of up to ~2e5 s


def episode_s(horizon_days: float) -> float:
    return horizon_days * 86400.0


def test_single_env_dt_s_sums_to_the_episode_time(platform):
    horizon = 2
    env = gym.make(ENV_IDS[platform], horizon_days=horizon).unwrapped
    nvec = env.action_space.nvec
    rng = np.random.default_rng(0)
    for episode in range(2):  # the second without a seed: the device's streams carry on
        _, info = env.reset(seed=SEED if episode == 0 else None)
        assert set(info) == set(INFO_KEYS) - {"metrics"}
        assert info["t_s"] == 0.0 and info["dt_s"] == 0.0
        t0 = info["t"]
        total, steps, long_gap = 0.0, 0, 0.0
        while True:
            *_, truncated, info = env.step(pick(env.action_masks(), nvec, rng.random(5)))
            steps += 1
            assert isinstance(info["t_s"], float) and isinstance(info["dt_s"], float)
            assert info["dt_s"] >= 0.0
            total += info["dt_s"]
            assert info["t_s"] == pytest.approx(total, abs=TOL)
            assert info["t_s"] == info["t"] - t0
            long_gap = max(long_gap, info["dt_s"])
            if truncated:
                break
        assert set(info) == set(INFO_KEYS)
        assert total == pytest.approx(episode_s(horizon), abs=TOL)
        assert total == pytest.approx(info["metrics"]["simulated_days"] * 86400.0, abs=TOL)
        assert info["t_s"] == episode_s(horizon)
        assert steps > 5 and long_gap > 3600.0  # not one step per event: hours pass between some decisions


def test_batched_env_time_follows_the_vector_conventions_and_the_single_env(platform):
    """``[N]`` arrays with all-True masks; a device reset in the step shows 0 and its last
    values are in ``final_info``; device ``i`` agrees with the single env step by step."""
    horizon = 0.5
    env = gym.make_vec(ENV_IDS[platform], num_envs=N, vectorization_mode="vector_entry_point", horizon_days=horizon)
    nvec = env.single_action_space.nvec
    rng = np.random.default_rng(1)
    _, info = env.reset(seed=SEED)
    for key in ("t_s", "dt_s"):
        assert info[key].shape == (N,) and info[key].dtype == np.float64 and info[f"_{key}"].all()
        assert (info[key] == 0.0).all()
    total = np.zeros(N)
    finished = np.zeros(N, dtype=int)
    acts, seen = [], []  # per step: the actions, and each device's (t_s, dt_s) of the transition
    while finished.min() < 2:
        a = np.stack([pick(m, nvec, rng.random(5)) for m in env.unwrapped.action_masks()])
        *_, trunc, info = env.step(a)
        for key in ("t_s", "dt_s"):
            assert info[key].shape == (N,) and info[f"_{key}"].all()
        t_s, dt_s = info["t_s"].copy(), info["dt_s"].copy()
        assert (dt_s >= 0.0).all()
        if trunc.any():
            fin = info["final_info"]
            assert fin["_t_s"].tolist() == fin["_dt_s"].tolist() == trunc.tolist()
            assert (t_s[trunc] == 0.0).all() and (dt_s[trunc] == 0.0).all()  # the new episodes
            assert (fin["t_s"][~trunc] == 0.0).all() and (fin["dt_s"][~trunc] == 0.0).all()
            t_s[trunc], dt_s[trunc] = fin["t_s"][trunc], fin["dt_s"][trunc]  # the finished step's
        total += dt_s
        np.testing.assert_allclose(t_s, total, rtol=0, atol=TOL)
        for i in np.flatnonzero(trunc):
            assert total[i] == pytest.approx(episode_s(horizon), abs=TOL)
            assert t_s[i] == episode_s(horizon)
            assert info["metrics"]["simulated_days"][i] * 86400.0 == pytest.approx(total[i], abs=TOL)
        total[trunc] = 0.0
        finished += trunc
        acts.append(a)
        seen.append((t_s, dt_s))

    for i in range(N):  # device i is the single env reset with SEED + i
        single = gym.make(ENV_IDS[platform], horizon_days=horizon).unwrapped
        single.reset(seed=SEED + i)
        for k, a in enumerate(acts):
            *_, truncated, s_info = single.step(a[i])
            assert (s_info["t_s"], s_info["dt_s"]) == (seen[k][0][i], seen[k][1][i]), (i, k)
            if truncated:
                single.reset()


def test_partial_reset_keeps_the_other_devices_clocks():
    env = BackgroundSchedulingVectorEnv(N, platform="android", horizon_days=1)
    env.reset(seed=SEED)
    a = np.zeros((N, 4), dtype=np.int64)
    for _ in range(3):
        _, _, _, _, info = env.step(a)
    before = info["t_s"].copy()
    _, info = env.reset(seed=SEED, options={"reset_mask": np.array([False, True, False])})
    assert info["t_s"].tolist() == [before[0], 0.0, before[2]]
    assert (info["dt_s"] == 0.0).all()
    _, _, _, _, info = env.step(a)
    sf = env.unwrapped.sim.sf
    assert info["t_s"].tolist() == (sf[:, L.S_T] - sf[:, L.S_T0]).tolist()
    assert info["dt_s"][0] == info["t_s"][0] - before[0]
    assert info["dt_s"][1] == info["t_s"][1]


def test_sb3_vec_env_time_matches_dummy_vec_env(platform):
    """SB3's convention: the info of a done step is the finished episode's last step's
    (``DummyVecEnv`` of single envs gives the same ``t_s``/``dt_s``); the new episode's
    reset info is in ``reset_infos``."""
    horizon = 0.5
    ours = BgenvVecEnv(BackgroundSchedulingVectorEnv(N, platform=platform, horizon_days=horizon))
    ref = DummyVecEnv([lambda: gym.make(ENV_IDS[platform], horizon_days=horizon) for _ in range(N)])
    ours.seed(SEED)
    ref.seed(SEED)
    ours.reset()
    ref.reset()
    for a, b in zip(ours.reset_infos, ref.reset_infos):
        assert (a["t_s"], a["dt_s"]) == (b["t_s"], b["dt_s"]) == (0.0, 0.0)
    rng = np.random.default_rng(2)
    nvec = ours.action_space.nvec
    total = np.zeros(N)
    dones = 0
    while dones < 2 * N:
        act = np.stack([pick(m, nvec, rng.random(5)) for m in ours.env_method("action_masks")])
        _, _, done, i1 = ours.step(act)
        _, _, _, i2 = ref.step(act)
        for i, (a, b) in enumerate(zip(i1, i2)):
            assert (a["t_s"], a["dt_s"]) == (b["t_s"], b["dt_s"]), i
            assert a["dt_s"] >= 0.0
            total[i] += a["dt_s"]
            assert a["t_s"] == pytest.approx(total[i], abs=TOL)
            if done[i]:
                assert total[i] == pytest.approx(episode_s(horizon), abs=TOL)
                assert a["metrics"]["simulated_days"] * 86400.0 == pytest.approx(total[i], abs=TOL)
                assert ours.reset_infos[i]["t_s"] == ours.reset_infos[i]["dt_s"] == 0.0
                total[i] = 0.0
                dones += 1
