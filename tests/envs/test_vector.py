"""The batched env (``gym.make_vec(..., vectorization_mode="vector_entry_point")``) and
its Stable-Baselines3 VecEnv: API, equivalence with the single env device by device,
same-step autoreset, action validation, and training with PPO and MaskablePPO.

Correctness only: the throughput figures are ``bgenv bench``'s business."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from helpers import ENV_IDS, pick
from stable_baselines3.common.vec_env import DummyVecEnv

from bgenv.envs.sb3 import BgenvVecEnv, make_sb3_vec_env
from bgenv.envs.vector import BackgroundSchedulingVectorEnv

SEED = 100
N = 3


def make_vec(platform: str, num_envs: int = N, **overrides) -> BackgroundSchedulingVectorEnv:
    env = gym.make_vec(ENV_IDS[platform], num_envs=num_envs, vectorization_mode="vector_entry_point", **overrides)
    assert isinstance(env, BackgroundSchedulingVectorEnv)
    return env


# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------
def test_make_vec_builds_the_batched_env_with_its_spaces(platform):
    env = make_vec(platform, horizon_days=1)
    single = gym.make(ENV_IDS[platform], horizon_days=1).unwrapped
    assert env.num_envs == N
    assert env.platform == platform
    assert env.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert env.single_observation_space == single.observation_space
    nobs = len(single.observation_names)
    assert env.single_action_space == single.action_space
    assert env.observation_space.shape == (N, nobs)
    assert env.action_space.shape == (N, 4)
    assert env.observation_names == single.observation_names
    assert env.action_labels == single.action_labels
    assert env.spec is not None and env.spec.id == ENV_IDS[platform]

    obs, info = env.reset(seed=SEED)
    assert obs.shape == (N, nobs) and obs.dtype == np.float32
    assert env.observation_space.contains(obs)
    assert info["cost"].shape == (N,) and info["_cost"].all()
    env.action_space.seed(0)
    for _ in range(30):
        obs, rew, term, trunc, info = env.step(env.action_space.sample())
        assert obs.shape == (N, nobs) and obs.dtype == np.float32
        assert env.observation_space.contains(obs)
        assert rew.shape == (N,) and rew.dtype == np.float64
        assert term.shape == trunc.shape == (N,) and term.dtype == trunc.dtype == np.bool_
        assert not term.any()
        assert info["cost"].shape == (N,) and info["cost"].dtype == np.float64
        assert info["t"].shape == (N,)
        assert ("metrics" in info) == bool(trunc.any())
    masks = env.action_masks()
    nvec = env.single_action_space.nvec
    assert masks.shape == (N, int(nvec.sum())) and masks.dtype == np.bool_
    env.close()


def test_step_before_reset_raises():
    env = BackgroundSchedulingVectorEnv(2, horizon_days=1)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros((2, 4), dtype=np.int64))


def test_scenario_for_the_other_platform_is_refused():
    with pytest.raises(ValueError, match="Android-v1"):
        make_vec("ios", scenario="android_commuter")
    with pytest.raises(ValueError, match="platform"):
        BackgroundSchedulingVectorEnv(2, platform="symbian")


def test_out_of_space_batch_action_raises_naming_env_and_part():
    env = BackgroundSchedulingVectorEnv(N, platform="ios", horizon_days=1)
    env.reset(seed=SEED)
    ok = np.zeros((N, 4), dtype=np.int64)
    bad = ok.copy()
    bad[2, 2] = 9  # chunk has 9 bins: 0..8
    state = env.sim.sf.copy()
    with pytest.raises(ValueError, match=r"env 2 .*chunk=9 \(allowed 0\.\.8\)"):
        env.step(bad)
    assert np.array_equal(env.sim.sf, state)  # a refused batch steps no device
    bad = ok.copy()
    bad[1, 0] = -1
    with pytest.raises(ValueError, match=r"env 1 .*request=-1"):
        env.step(bad)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros((N, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match="integers"):
        env.step(ok + 0.5)
    # integral floats and nested lists are accepted
    env.step(ok.astype(np.float32))
    env.step(ok.tolist())


def test_reset_seeds_int_list_and_mask():
    env = BackgroundSchedulingVectorEnv(N, horizon_days=1)
    a, _ = env.reset(seed=SEED)
    b, _ = env.reset(seed=[SEED + i for i in range(N)])
    assert np.array_equal(a, b)
    singles = [gym.make(ENV_IDS["ios"], horizon_days=1) for _ in range(N)]
    for i, s in enumerate(singles):
        assert np.array_equal(s.reset(seed=SEED + i)[0], a[i])
    # only the masked device restarts
    for _ in range(3):
        env.step(np.ones((N, 4), dtype=np.int64))
    before, _ = env.step(np.ones((N, 4), dtype=np.int64))[:2]
    obs, _ = env.reset(seed=SEED, options={"reset_mask": np.array([False, True, False])})
    assert np.array_equal(obs[1], a[1])
    assert np.array_equal(obs[[0, 2]], before[[0, 2]])


# ---------------------------------------------------------------------------
# Device i of a batch is the single env with seed SEED + i
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("horizon_days", [1, 2])
def test_device_i_reproduces_the_single_env_across_autoresets(platform, horizon_days):
    env = make_vec(platform, horizon_days=horizon_days)
    nvec = env.single_action_space.nvec
    cap = 3000
    draws = [np.random.default_rng(1000 + i).random((cap, 5)) for i in range(N)]

    # the batch, recording what each device saw, until every device is into its third episode
    obs, info = env.reset(seed=SEED)
    seen = {"obs": [obs], "masks": [], "act": [], "rew": [], "cost": [], "trunc": [], "final": []}
    finished = np.zeros(N, dtype=int)
    for k in range(cap):
        if finished.min() >= 2:
            break
        masks = env.action_masks()
        act = np.stack([pick(masks[i], nvec, draws[i][k]) for i in range(N)])
        obs, rew, _term, trunc, info = env.step(act)
        final = {}
        if trunc.any():
            assert info["_final_obs"].tolist() == trunc.tolist()
            assert info["_metrics"].tolist() == trunc.tolist()
            assert info["_final_info"].tolist() == trunc.tolist()
            for i in np.flatnonzero(trunc):
                assert info["final_info"]["phase"][i] == "none"
                assert info["final_info"]["cost"][i] == info["cost"][i]
                m = {key: info["metrics"][key][i] for key in info["metrics"] if not key.startswith("_")}
                assert all(info["metrics"][f"_{key}"][i] for key in m)
                final[int(i)] = (info["final_obs"][i], m, info["final_info"]["t"][i])
            for i in np.flatnonzero(~trunc):
                assert info["final_obs"][i] is None
        for key, val in (("masks", masks), ("act", act), ("rew", rew), ("cost", info["cost"]), ("trunc", trunc)):
            seen[key].append(val)
        seen["obs"].append(obs)
        seen["final"].append(final)
        finished += trunc
    steps = len(seen["act"])
    assert finished.min() >= 2, "every device should finish two episodes"

    # each device replayed by a single env (event log on, unlike the batch)
    episodes_seen = 0
    for i in range(N):
        single = gym.make(ENV_IDS[platform], horizon_days=horizon_days)
        s_obs, s_info = single.reset(seed=SEED + i)
        assert np.array_equal(s_obs, seen["obs"][0][i])
        for k in range(steps):
            assert np.array_equal(single.unwrapped.action_masks(), seen["masks"][k][i]), (i, k)
            s_obs, s_rew, s_term, s_trunc, s_info = single.step(seen["act"][k][i])
            assert s_rew == seen["rew"][k][i], (i, k)
            assert s_info["cost"] == seen["cost"][k][i], (i, k)
            assert not s_term
            assert s_trunc == seen["trunc"][k][i], (i, k)
            if s_trunc:
                final_obs, metrics, final_t = seen["final"][k][i]
                assert np.array_equal(s_obs, final_obs)
                assert final_t == s_info["t"]
                np.testing.assert_equal(metrics, s_info["metrics"])
                episodes_seen += 1
                s_obs, s_info = single.reset()  # no seed: the device's streams carry on
            assert np.array_equal(s_obs, seen["obs"][k + 1][i]), (i, k)
    assert episodes_seen == finished.sum()


# ---------------------------------------------------------------------------
# Stable-Baselines3
# ---------------------------------------------------------------------------
def test_sb3_vec_env_matches_dummy_vec_env_of_single_envs(platform):
    """SB3's episode-end conventions: the same obs, rewards, dones, terminal
    observations and TimeLimit flags as DummyVecEnv over single envs."""
    ours = BgenvVecEnv(BackgroundSchedulingVectorEnv(N, platform=platform, horizon_days=1))
    ref = DummyVecEnv([lambda: gym.make(ENV_IDS[platform], horizon_days=1) for _ in range(N)])
    assert ours.seed(7) == ref.seed(7)
    assert ours.observation_space == ref.observation_space
    assert ours.action_space == ref.action_space
    o1, o2 = ours.reset(), ref.reset()
    assert np.array_equal(o1, o2)
    rng = np.random.default_rng(0)
    nvec = ours.action_space.nvec
    dones_seen = 0
    for _ in range(2000):
        if dones_seen >= N:
            break
        act = rng.integers(0, nvec, size=(N, 4))
        o1, r1, d1, i1 = ours.step(act)
        o2, r2, d2, i2 = ref.step(act)
        assert o1.dtype == o2.dtype and r1.dtype == r2.dtype and d1.dtype == d2.dtype
        assert np.array_equal(o1, o2) and np.array_equal(r1, r2) and np.array_equal(d1, d2)
        assert isinstance(i1, list) and len(i1) == N
        for a, b in zip(i1, i2):
            assert a["cost"] == b["cost"]
            assert a["TimeLimit.truncated"] == b["TimeLimit.truncated"]
            assert ("terminal_observation" in a) == ("terminal_observation" in b)
            if "terminal_observation" in a:
                assert a["TimeLimit.truncated"] is True
                assert np.array_equal(a["terminal_observation"], b["terminal_observation"])
                np.testing.assert_equal(a["metrics"], b["metrics"])
                dones_seen += 1
        masks = ours.env_method("action_masks")
        assert isinstance(masks, list) and len(masks) == N
        assert np.array_equal(np.stack(masks), np.stack(ref.env_method("action_masks")))
        assert np.array_equal(ours.action_masks(), np.stack(masks))
    assert dones_seen >= N
    assert ours.has_attr("action_masks")
    assert ours.get_attr("render_mode") == [None] * N
    assert ours.env_method("metrics", indices=[1])[0].keys() == ref.env_method("metrics", indices=[1])[0].keys()


def test_large_batches_use_the_threads_by_default_with_the_same_results():
    """From 256 devices the batch steps on numba's threads (when there are 2+), a chunk
    of devices at a time; the trajectories equal the one-thread batch's exactly."""
    import numba

    from bgenv.core import sim as sim_module

    n = sim_module.AUTO_THREADS_MIN
    envs = {
        mode: gym.make_vec(
            "bgenv/Android-v1", num_envs=n, vectorization_mode="vector_entry_point", horizon_days=1, threads=mode
        )
        for mode in (None, False)
    }
    assert envs[None].unwrapped.sim.threads == (numba.get_num_threads() > 1)
    assert envs[False].unwrapped.sim.threads is False
    assert gym.make_vec("bgenv/Android-v1", num_envs=n - 1, vectorization_mode="vector_entry_point").unwrapped.sim.threads is False  # fmt: skip
    rng = np.random.default_rng(0)
    nvec = envs[False].unwrapped.single_action_space.nvec
    out = {mode: [env.reset(seed=3)[0]] for mode, env in envs.items()}
    truncations = 0
    for _ in range(60):
        a = rng.integers(0, nvec, size=(n, len(nvec)))
        for mode, env in envs.items():
            obs, rew, _, trunc, info = env.step(a)
            out[mode] += [obs, rew, info["t"]]
        truncations += int(trunc.sum())
    for x, y in zip(out[None], out[False]):
        assert np.array_equal(x, y)
    assert truncations > 0  # same-step autoresets were part of it


def test_a_process_forked_after_threaded_steps_still_steps_its_batches():
    """GNU OpenMP aborts a forked child that starts threads after its parent did; a child
    forked after threaded batch steps steps its own batches on one thread instead, with
    the same results."""
    import multiprocessing as mp

    from bgenv.core import sim as sim_module

    n = sim_module.AUTO_THREADS_MIN

    def make(**kw):
        return gym.make_vec("bgenv/Android-v1", num_envs=n, vectorization_mode="vector_entry_point", horizon_days=1, **kw)  # fmt: skip

    nvec = make(threads=False).unwrapped.single_action_space.nvec
    actions = np.random.default_rng(1).integers(0, nvec, size=(5, n, len(nvec)))

    def run(env) -> list[np.ndarray]:
        out = [env.reset(seed=7)[0]]
        out += [env.step(a)[0] for a in actions]
        return out

    parent = run(make())  # the threaded kernel runs here (when numba has 2+ threads)

    def child(q) -> None:
        q.put(run(make()))

    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=child, args=(q,))
    p.start()
    got = q.get(timeout=120)
    p.join(60)
    assert p.exitcode == 0
    expected = run(make(threads=False))
    for x, y, z in zip(got, expected, parent):
        assert np.array_equal(x, y) and np.array_equal(x, z)


def test_ppo_trains_on_the_sb3_vec_env():
    from stable_baselines3 import PPO

    env = make_sb3_vec_env("bgenv/iOS-v1", n_envs=4, seed=0, horizon_days=1)
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=128, n_epochs=1, device="cpu", seed=0)
    model.learn(total_timesteps=512)
    assert model.num_timesteps >= 512
    assert len(model.ep_info_buffer) > 0  # VecMonitor saw whole episodes
    assert all(np.isfinite(ep["r"]) for ep in model.ep_info_buffer)


def test_maskable_ppo_reads_and_obeys_the_masks():
    from sb3_contrib import MaskablePPO

    class Spy(BgenvVecEnv):
        """Records the masks MaskablePPO asks for and the actions it then takes."""

        def __init__(self, venv):
            super().__init__(venv)
            self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
            self._last_masks = None

        def env_method(self, method_name, *args, indices=None, **kwargs):
            out = super().env_method(method_name, *args, indices=indices, **kwargs)
            if method_name == "action_masks":
                self._last_masks = np.stack(out)
            return out

        def step_async(self, actions):
            self.pairs.append((self._last_masks, np.asarray(actions).copy()))
            super().step_async(actions)

    env = Spy(BackgroundSchedulingVectorEnv(4, platform="android", horizon_days=1))
    env.seed(0)
    model = MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=128, n_epochs=1, device="cpu", seed=0)
    model.learn(total_timesteps=256)
    assert len(env.pairs) >= 256 // 4
    nvec = env.action_space.nvec
    offsets = np.concatenate([[0], np.cumsum(nvec)[:-1]])
    restricted = 0
    for masks, actions in env.pairs:
        assert masks is not None, "MaskablePPO stepped without reading masks"
        for m, a in zip(masks, actions):
            assert m[offsets + a].all(), "an action outside its mask"
        restricted += int((~masks).any())
    assert restricted > 0  # some masks did forbid something


# ---------------------------------------------------------------------------
# bgenv bench (a smoke test of the report's shape, not of its figures)
# ---------------------------------------------------------------------------
def test_bench_json_report_has_every_section(capsys):
    import json

    from agents import bench

    argv = ["--seconds", "0.02", "--rounds", "1", "--n-envs", "8", "--ppo-envs", "2", "--ppo-steps", "512"]
    assert bench.main([*argv, "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert {"machine", "warm_up_s", "single", "vector", "ppo", "horizon", "reset"} <= rep.keys()
    assert rep["machine"]["cores"] >= 1 and rep["machine"]["gymnasium"] == gym.__version__
    for sec, n in (("single", 2), ("vector", 3), ("ppo", 6)):
        assert len(rep[sec]["comparisons"]) == n
        for c in rep[sec]["comparisons"]:
            assert c["ours_value"] > 0 and c["reference_value"] > 0
            assert c["ratio"] == pytest.approx(c["ours_value"] / c["reference_value"])
    assert set(rep["horizon"]["horizons"]) == {"1 d", "7 d", "30 d"}
    assert rep["horizon"]["horizons"]["7 d"]["ratio_to_7d"] == 1.0
    assert rep["vector"]["memory"]["array_bytes_per_env"] > 0
    assert rep["reset"]["single_reset_continue_us"] > 0
    assert "FusedMlpPolicy" in rep["ppo"]["comparisons"][1]["ours"]
    last = rep["ppo"]["comparisons"][5]  # the conditional head against the fused one
    assert "ConditionalMlpPolicy" in last["ours"] and "FusedMlpPolicy" in last["reference"]
    text = bench.format_report(rep)
    assert "(a) single env" in text and "(e) reset cost and memory" in text


def test_bench_replay_section_reports_both_speeds(capsys):
    import json

    from agents import bench

    argv = ["--seconds", "0.02", "--rounds", "1", "--n-envs", "4", "--sections", "replay", "--json"]
    assert bench.main(argv) == 0
    rep = json.loads(capsys.readouterr().out)["replay"]
    comps = rep["comparisons"]
    assert len(comps) == 8  # the shipped trace, then the replayed synthetic weeks: four rows each
    ref = "synthetic ios_commuter"
    for ours, rows in (("trace mcm_iphone13 (iOS)", comps[:4]), ("4 synthetic weeks replayed", comps[4:])):
        wall, cpu, days, events = rows
        assert wall["ours"] == ours and wall["reference"] == ref
        for c in (wall, cpu):
            assert c["ours_value"] > 0 and c["reference_value"] > 0 and c["target"] == 1.0
            assert c["ratio"] == pytest.approx(c["ours_value"] / c["reference_value"])
            # one round: the paired ratio is that round's ratio
            assert c["paired"]["median"] == c["paired"]["min"] == c["paired"]["max"] == pytest.approx(c["ratio"])
        for c in (days, events):  # derived from the step rate, not timed in rounds
            assert c["target"] is None and c["ours_value"] > 0 and c["paired"] is None
        # the same work measured three ways: the derived rates are the step rate times a step's share
        per_ev = rep["events_per_step"]
        assert events["ratio"] == pytest.approx(wall["ratio"] * per_ev[ours] / per_ev[ref])
    assert all(v > 0 for v in rep["events_per_step"].values()) and len(rep["events_per_step"]) == 3
    text = bench.format_report({"replay": rep} | _bench_head())
    assert "(b3) trace replay vs synthetic world" in text and "kernel events per env-step" in text
    assert "paired rounds" in text and "synthetic weeks replayed" in text


def test_recorded_synthetic_weeks_replay_every_user_channel():
    """The bench's recorded weeks: one episode's window each, replaying the screen, app
    opens, charger, level, network and Low Power Mode of the synthetic user."""
    import gymnasium as gym

    from agents import bench

    weeks = bench._recorded_weeks(2)
    assert [w.name for w in weeks] == ["ios_commuter_20000", "ios_commuter_20001"]
    assert all(w.days() == pytest.approx(8.5) for w in weeks)
    env = gym.make("bgenv/iOS-v1", world=weeks, world_mode="sequential")
    _, info = env.reset(seed=0)
    assert set(info["world"]["channels"]) >= {"screen_on", "app_open", "plugged", "battery_level", "network"}
    assert env.unwrapped.world.starts.size == 2  # one window per recorded week


def _bench_head() -> dict:
    """The report keys ``format_report`` needs besides its sections."""
    return {
        "machine": {"platform": "p", "cpu": "c", "cores": 1, "cores_usable": 1},
        "settings": {"rounds": 1, "seconds_per_round": 0.02, "n_envs": 4, "ppo_steps": 1, "ppo_envs": 1},
        "warm_up_s": {},
        "total_s": 0.0,
    }
