"""Copies of the envs and of the simulator's devices.

A copy taken mid-episode (``copy.deepcopy`` or ``pickle``; the single env wrapped by
``gym.make`` and unwrapped, the batched env, the SB3 VecEnv; with and without the event
log) continues the identical trajectory: the same actions give the same observations,
rewards, infos, metrics and event log as the original, and stepping the copy leaves the
original where it was. ``Simulator.load_devices`` and ``reseed`` are the core's tools for
planning on copies (``agents.planning``)."""

from __future__ import annotations

import copy
import pickle

import gymnasium as gym
import numpy as np
import pytest
from helpers import ENV_IDS, pick

from agents.policies import GuidelinesPolicy
from bgenv.core import layout as L
from bgenv.core.rng import SYS, USER
from bgenv.core.sim import Simulator
from bgenv.envs.actions import ActionTable
from bgenv.envs.sb3 import BgenvVecEnv
from bgenv.envs.vector import BackgroundSchedulingVectorEnv

SEED = 321
PREFIX = 60  # steps before the copy is taken
AFTER = 300  # steps compared after it
DAYS = 5
# guidelines of each platform's default scenario, by the size of its request part
_GUIDES = {
    int(g.ctx.nvec[0]): g for g in (GuidelinesPolicy(ActionTable.from_env(gym.make(i))) for i in ENV_IDS.values())
}


def _copy(env, how: str):
    return copy.deepcopy(env) if how == "deepcopy" else pickle.loads(pickle.dumps(env))


def _actions(env, n: int, seed: int) -> np.ndarray:
    """Pre-drawn uniforms for ``_act`` (the same actions for the original and the copy)."""
    return np.random.default_rng(seed).random((n, 6))


def _act(obs: np.ndarray, mask: np.ndarray, nvec: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``guidelines``' action (a busy, realistic trajectory) or, 10 % of the time, ``pick``'s
    (any valid choice, sometimes a senseless one)."""
    if u[5] < 0.1:
        return pick(mask, nvec, u)
    return _GUIDES[int(nvec[0])].act(obs, mask)


def _run_single(env, u: np.ndarray) -> list[tuple]:
    """Step ``env`` with ``pick`` actions until ``u`` runs out or the episode ends; the
    trajectory as (obs, reward, truncated, info) and the final metrics and events."""
    base = env.unwrapped
    out = []
    obs = base.sim.obs[0].copy()
    for row in u:
        a = _act(obs, base.action_masks(), base.action_space.nvec, row)
        obs, r, _term, trunc, info = env.step(a)
        out.append((obs.tolist(), r, trunc, repr(info)))
        if trunc:
            break
    out.append(("end", repr(base.metrics()), repr(base.events) if base.sim.record_events else None))
    return out


@pytest.mark.parametrize(
    ("how", "record_events", "unwrapped"),
    [("deepcopy", True, False), ("pickle", False, True), ("deepcopy", False, True), ("pickle", True, False)],
)
def test_single_env_copy_continues_the_identical_trajectory(platform, how, record_events, unwrapped):
    def fresh():
        env = gym.make(ENV_IDS[platform], horizon_days=DAYS, record_events=record_events)
        env.reset(seed=SEED)
        _run_single(env, _actions(env, PREFIX, 1))
        return env.unwrapped if unwrapped else env

    after = _actions(None, AFTER, 2)
    reference = _run_single(fresh(), after)  # the trajectory the original would take
    assert len(reference) > 100  # enough steps compared (the episode may end within AFTER)
    original = fresh()
    c = _copy(original, how)
    assert c.unwrapped is not original.unwrapped and c.unwrapped.sim.sf is not original.unwrapped.sim.sf
    assert _run_single(c, after) == reference
    # stepping the copy did not move the original: it still takes the reference trajectory
    assert _run_single(original, after) == reference


def test_single_env_copy_after_the_episode_end_resets_as_the_original(platform):
    """Random streams carry over: a copy reset without a seed starts the same next episode."""
    env = gym.make(ENV_IDS[platform], horizon_days=1, record_events=False)
    env.reset(seed=SEED)
    _run_single(env, _actions(env, 10_000, 3))
    c = copy.deepcopy(env)
    o1, _ = env.reset()
    o2, _ = c.reset()
    assert np.array_equal(o1, o2)
    u = _actions(env, 200, 4)
    assert _run_single(c, u) == _run_single(env, u)


def _vec_actions(env, u: np.ndarray) -> np.ndarray:
    masks = env.action_masks()
    nvec = env.single_action_space.nvec
    return np.stack([_act(env.sim.obs[i], masks[i], nvec, u[i]) for i in range(env.num_envs)])


def _run_vec(env, u: np.ndarray) -> list[str]:
    """Step a batched env (its devices' episodes end and auto-reset along the way)."""
    out = []
    for rows in u:
        obs, r, _term, trunc, info = env.step(_vec_actions(env, rows))
        out.append(repr((obs.tolist(), r.tolist(), trunc.tolist(), info)))
    out.append(repr([env.metrics(i) for i in range(env.num_envs)]))
    if env.sim.record_events:
        out.append(repr([env.events(i) for i in range(env.num_envs)]))
    return out


@pytest.mark.parametrize(("how", "record_events"), [("deepcopy", True), ("pickle", False)])
def test_batched_env_copy_continues_the_identical_trajectory(platform, how, record_events):
    def fresh():
        env = BackgroundSchedulingVectorEnv(3, platform=platform, record_events=record_events, horizon_days=1)
        env.reset(seed=SEED)
        _run_vec(env, np.random.default_rng(5).random((PREFIX, 3, 6)))
        return env

    after = np.random.default_rng(6).random((150, 3, 6))  # crosses episode ends and auto-resets
    reference = _run_vec(fresh(), after)
    assert "final_obs" in "".join(reference)
    original = fresh()
    c = _copy(original, how)
    assert _run_vec(c, after) == reference
    assert _run_vec(original, after) == reference


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_sb3_vec_env_copy_continues_the_identical_trajectory(platform, how):
    def run(venv, u):
        out = []
        for rows in u:
            venv.step_async(_vec_actions(venv.venv, rows))
            obs, r, done, infos = venv.step_wait()
            out.append(repr((obs.tolist(), r.tolist(), done.tolist(), infos)))
        return out

    def fresh():
        venv = BgenvVecEnv(BackgroundSchedulingVectorEnv(2, platform=platform, horizon_days=1))
        venv.seed(SEED)
        venv.reset()
        run(venv, np.random.default_rng(7).random((PREFIX, 2, 6)))
        return venv

    after = np.random.default_rng(8).random((150, 2, 6))
    reference = run(fresh(), after)
    original = fresh()
    c = _copy(original, how)
    assert run(c, after) == reference
    assert run(original, after) == reference


# ---------------------------------------------------------------------------
# the core: one device's state into slots of another batch; re-seeding
# ---------------------------------------------------------------------------
def _stepped_env(platform: str, steps: int = PREFIX):
    env = gym.make(ENV_IDS[platform], horizon_days=DAYS, record_events=True).unwrapped
    env.reset(seed=SEED)
    _run_single(env, _actions(env, steps, 9))
    return env


def _follow(sim: Simulator, i: int, u: np.ndarray, nvec: np.ndarray) -> list[tuple]:
    """Step device ``i`` of ``sim`` alone with ``pick`` actions: (obs, reward) per step."""
    out = []
    idx = np.array([i])
    for row in u:
        if sim.si[i, L.I_DONE]:
            break
        sim.step(_act(sim.obs[i], sim.masks(i), nvec, row)[None, :], idx)
        out.append((sim.obs[i].tolist(), float(sim.sf[i, L.S_REWARD])))
    return out


def test_load_devices_copies_a_device_into_chosen_slots(platform):
    env = _stepped_env(platform)
    nvec = env.action_space.nvec
    u = _actions(env, 150, 10)
    reference = _follow(env.sim.copy(), 0, u, nvec)
    assert len(reference) > 50
    plan = Simulator(env.params, 4, record_events=False, threads=False)
    plan.reset([1, 2, 3, 4])
    plan.load_devices(env.sim, np.array([0, 0]), np.array([1, 3]))
    assert _follow(plan, 3, u, nvec) == reference
    assert _follow(plan, 1, u, nvec) == reference
    # the event log follows between simulators that both record it
    logged = Simulator(env.params, 2, record_events=True)
    logged.reset([1, 2])
    logged.load_devices(env.sim, np.array([0]), np.array([1]))
    assert logged.events(1) == env.sim.events(0)
    with pytest.raises(ValueError, match="differ in length"):
        plan.load_devices(env.sim, np.array([0]), np.array([0, 1]))


def test_reseed_redraws_the_chosen_streams_only(platform):
    env = _stepped_env(platform)
    nvec = env.action_space.nvec
    u = _actions(env, 150, 11)
    plan = Simulator(env.params, 4, record_events=False, threads=False)
    plan.load_devices(env.sim, np.zeros(4, dtype=np.int64), np.arange(4))
    before = plan.rng.copy()
    plan.reseed(np.array([1, 2]), [77, 77])
    plan.reseed(np.array([3]), [78], streams=(USER,))
    assert np.array_equal(plan.rng[0], before[0])
    assert np.array_equal(plan.rng[1], plan.rng[2]) and not np.array_equal(plan.rng[1], before[1])
    assert np.array_equal(plan.rng[3, SYS], before[3, SYS]) and not np.array_equal(plan.rng[3, USER], before[3, USER])
    same_seed = [_follow(plan, i, u, nvec) for i in (1, 2)]
    assert same_seed[0] == same_seed[1]  # the same seed, the same future
    assert _follow(plan, 0, u, nvec) != same_seed[0]  # another future than the original's


def test_forget_redraws_when_the_random_clocks_fire_from_what_is_known(platform):
    """``Simulator.forget`` re-draws each running hazard clock's next time from the
    device's own (re-seeded) streams; the same streams give the same redraw, and the
    deterministic times already scheduled stay."""
    env = _stepped_env(platform)
    plan = Simulator(env.params, 3, record_events=False, threads=False)
    plan.load_devices(env.sim, np.zeros(3, dtype=np.int64), np.arange(3))
    plan.reseed(np.array([1, 2]), [77, 77])
    plan.forget(np.array([1, 2]))
    hz = slice(L.S_EV, L.S_EV + L.NHZ)
    running = np.isfinite(plan.sf[0, hz])
    assert running.sum() >= 3  # app opens or screen sessions, arrivals, networks...
    assert np.array_equal(plan.sf[1, hz], plan.sf[2, hz])  # same streams, same redraw
    assert np.all(plan.sf[1, hz][running] != plan.sf[0, hz][running])  # every running clock moved
    assert np.all(plan.sf[1, hz][running] > plan.sf[1, L.S_T])
    assert np.array_equal(np.isfinite(plan.sf[1, hz]), running)  # stopped clocks stay stopped
    fixed = slice(L.S_EV + L.NHZ, L.S_EV + L.NEV)
    assert np.array_equal(plan.sf[1, fixed], plan.sf[0, fixed])


def test_forget_draws_exponential_waits_and_the_weibull_gaps_tail():
    """The redrawn waits have the right distributions: a memoryless clock's remaining
    hazard is a unit exponential whatever it was; the screen-on gap (Weibull, shape < 1)
    that has already run ``c`` continues as the Weibull's tail beyond ``c``, as rejection
    sampling from fresh gaps gives it (two-sample Kolmogorov-Smirnov distance)."""
    env = gym.make(ENV_IDS["ios"], horizon_days=DAYS).unwrapped
    env.reset(seed=SEED)
    n = 4000
    sim = Simulator(env.params, n, record_events=False, threads=False)
    sim.load_devices(env.sim, np.zeros(n, dtype=np.int64), np.arange(n))
    sim.reseed(np.arange(n), list(range(1000, 1000 + n)))
    shape, scale = sim.sf[0, L.S_U_GAP_K], sim.sf[0, L.S_U_GAP_SCALE]
    assert shape < 0.6
    c = scale * np.log(2.0) ** (1.0 / shape)  # the gap's median has passed
    sim.sf[:, L.S_HZ_GAP] = 50.0 * scale
    sim.sf[:, L.S_HZ_REM + L.EV_SCREEN_ON] = 50.0 * scale - c
    sim.sf[:, L.S_HZ_REM + L.EV_APP_OPEN] = 123.0
    sim.forget(np.arange(n))
    rem = sim.sf[:, L.S_HZ_REM + L.EV_SCREEN_ON]
    assert np.allclose(sim.sf[:, L.S_HZ_GAP] - rem, c)
    gaps = scale * np.random.default_rng(0).weibull(shape, 20 * n)
    tail = np.sort(gaps[gaps > c] - c)

    def ks(a: np.ndarray, b: np.ndarray) -> float:
        a = np.sort(a)
        x = np.concatenate([a, b])
        return float(np.max(np.abs(np.searchsorted(a, x, "right") / len(a) - np.searchsorted(b, x, "right") / len(b))))

    assert ks(rem, tail) < 0.04  # 5 % critical value at these sizes: ~0.024
    fresh = scale * np.random.default_rng(1).weibull(shape, n)
    assert ks(rem, np.sort(fresh)) > 0.15  # not a fresh gap: the tail is longer
    app = sim.sf[:, L.S_HZ_REM + L.EV_APP_OPEN]
    assert abs(app.mean() - 1.0) < 0.05 and abs(np.median(app) - np.log(2.0)) < 0.05
