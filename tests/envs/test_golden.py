"""Golden trajectories: the simulator's behaviour must not change by a single bit.

RL results are reported on this code, so speed work (``bgenv/core``, the env adapters)
must keep every trajectory bit-identical for every seed and action sequence. Each case
runs the single env (``gym.make``) for a fixed number of steps from a fixed seed, with
actions drawn from a seeded generator (mostly valid under ``action_masks()``, one in
five anything in the space), resetting without a seed at each truncation so the
device's random streams carry on; and the batched env with ``N = 3`` devices seeded
``seed + i`` with the same per-device action streams across its same-step autoresets.
Hashed per device: observation bytes, rewards, costs, times, truncations, action masks,
``info["metrics"]`` at each episode end and the raw event log. The expected digests
are stored below (see there for their origin).

To print the digests of the current code: ``python tests/envs/test_golden.py``.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import ENV_IDS, pick

from bgenv.core import layout as L
from bgenv.core import sim as sim_module

N = 3  # devices of the batched env

# name -> (platform, scenario or None for the platform's default, overrides, seed, steps, job_bias)
# job_bias: share of steps whose request is forced to a job-type option (fills the
# Android execution ring so its wrap-around and quota paths are covered).
CASES: dict[str, tuple[str, str | None, dict[str, Any], int, int, float]] = {
    "ios_default": ("ios", None, {"horizon_days": 2}, 11, 3000, 0.0),
    "android_default": ("android", None, {"horizon_days": 2}, 12, 3000, 0.0),
    "ios_commuter": ("ios", "ios_commuter", {"horizon_days": 2}, 13, 3000, 0.0),
    "ios_night_owl": ("ios", "ios_night_owl", {"horizon_days": 2}, 14, 3000, 0.0),
    "ios_rare": ("ios", "ios_rare", {"horizon_days": 2}, 15, 3000, 0.0),
    "android_commuter": ("android", "android_commuter", {"horizon_days": 2}, 16, 3000, 0.0),
    "android_heavy": ("android", "android_heavy", {"horizon_days": 2}, 17, 3000, 0.0),
    "android_rare": ("android", "android_rare", {"horizon_days": 2}, 18, 3000, 0.0),
    "android16_commuter": ("android", "android16_commuter", {"horizon_days": 2}, 19, 3000, 0.0),
    "android_oem_commuter": ("android", "android_oem_commuter", {"horizon_days": 2}, 20, 3000, 0.0),
    # long episodes with many jobs: the 256-entry execution ring fills and wraps
    "android_heavy_jobs_30d": ("android", "android_heavy", {"horizon_days": 30}, 21, 4000, 0.7),
    "android_commuter_jobs_7d": ("android", "android_commuter", {}, 22, 4000, 0.7),
    "ios_commuter_7d": ("ios", "ios_commuter", {}, 23, 3000, 0.3),
}

# Digests computed from commit 73f45cb (before any speed work), then once more when the
# event log gained its ``level`` sample (at reset and every simulated hour): every part but
# the event log was checked unchanged then; and once more when the ``work_pending`` metric
# became the kernel's in-order sum of the backlog (numpy's pairwise sum differed from it by
# an ulp in some episodes): every part but the metrics was checked unchanged then; and once
# more for bgenv v1's simulator fixes, which change trajectories on purpose (light Doze
# counted from when the device becomes inactive, the charging hold ending on time, iOS silent
# pushes held while offline, no wake energy for a lost push, the Doze exemption in the
# observed network, and the new ``charge_start``/``retry`` records) together with its reward
# (content paid when seen, energy on the charger and wake-ups priced, trust only from useful
# windows, exact alarms behind their permission); and once more, still within v1, for its
# user model (per-device heterogeneity, session and gap shapes, Low Power Mode drain, the
# ``reset``/``drop`` records) and background transfers (new options, observation and
# metrics); and once more, still within v1, for the action masks, which now advise against
# resubmitting a pending request of the same type (row 42): the digests hash the masks and
# the tests' action picker reads them (with that mask bit off, every digest was unchanged);
# see the Version History in bgenv/envs/single.py.
# ``python tests/envs/test_golden.py`` prints them.
EXPECTED: dict[str, str] = {
    "ios_default": "ce0a42da4181d3a4e04535c00d90a017abefa31886363e177a1fd8301b29444a",  # 79 episodes
    "android_default": "831954878b45dbf549fa513e6fe821c76425bdb659eca01d0082a96b62cfd584",  # 17 episodes
    "ios_commuter": "ff71c8d733e211a9b4b8a3616a5b6a937f68fa938973f9f4612fd36d130db5d6",  # 78 episodes
    "ios_night_owl": "6c064c78f3f3edf1798746ca993eebf5e9f31b2c397a41a52a299b53379bf73d",  # 79 episodes
    "ios_rare": "8527a41ef2fba01d011d375c797925ad93689e38d6ad267f48fbeb2c503bfdb8",  # 768 episodes
    "android_commuter": "51dfca50afcc4b3c7e1211c3661f48e29b669ec01d89a82bc8c84c3aa5a420cc",  # 15 episodes
    "android_heavy": "79ea20524eb27caeacbb90f1ba6216e920c4c5928ebd3099b14efc1198708466",  # 10 episodes
    "android_rare": "c429a19db2548fb1ba725c2697699ddf99bc0bf2c84519695eaf9edaf32c5f43",  # 51 episodes
    "android16_commuter": "f94e35c6e402ebbe919a3090c8b33feff1a7ddee6bcc31e63f4a3717c1414895",  # 19 episodes
    "android_oem_commuter": "43737153e39f18c37e68ece81b02525438e3d3663730c96b51fdc5993337bb3c",  # 22 episodes
    "android_heavy_jobs_30d": "4318a30d09ee8f88a54b9ed43577edcd8ddcd25db0bb4baf2682f0f7856520ef",  # 1 episodes
    "android_commuter_jobs_7d": "ac85e789d04ec80be2b6ab522201671d6dc9002fb45becebea9ca49861a51198",  # 7 episodes
    "ios_commuter_7d": "d28f06589eb3c5e7a38a915181d2016067a2218adf201392ae9c4f963fb9b0a5",  # 25 episodes
}


class Trace:
    """Running hashes of everything one device shows, one stream per kind."""

    def __init__(self) -> None:
        self.h = {k: hashlib.sha256() for k in ("obs", "reward", "cost", "t", "trunc", "mask", "metrics", "events")}
        self.episodes = 0

    def step(self, obs: np.ndarray, reward: float, cost: float, t: float, trunc: bool) -> None:
        self.h["obs"].update(np.ascontiguousarray(obs, dtype=np.float32).tobytes())
        self.h["reward"].update(struct.pack("<d", reward))
        self.h["cost"].update(struct.pack("<d", cost))
        self.h["t"].update(struct.pack("<d", t))
        self.h["trunc"].update(b"1" if trunc else b"0")

    def obs(self, obs: np.ndarray) -> None:
        self.h["obs"].update(np.ascontiguousarray(obs, dtype=np.float32).tobytes())

    def mask(self, m: np.ndarray) -> None:
        self.h["mask"].update(np.asarray(m, dtype=np.bool_).tobytes())

    def metrics(self, m: dict[str, float]) -> None:
        self.episodes += 1
        for k in sorted(m):
            self.h["metrics"].update(f"{k}={float(m[k]).hex()};".encode())

    def events(self, rows: np.ndarray) -> None:
        self.h["events"].update(np.ascontiguousarray(rows, dtype=np.float64).tobytes())

    def digest(self) -> str:
        top = hashlib.sha256()
        for k in sorted(self.h):
            top.update(self.h[k].digest())
        return top.hexdigest()

    def parts(self) -> dict[str, str]:
        return {k: v.hexdigest()[:16] for k, v in self.h.items()}


def _job_opts(labels: dict[str, tuple[str, ...]], nvec: np.ndarray) -> np.ndarray:
    """Request options that submit a job-like request (Android jobs/expedited/periodic;
    on iOS every non-zero option)."""
    opts = [i for i, s in enumerate(labels["request"]) if i > 0 and ("job" in s or "expedited" in s)]
    if not opts:
        opts = list(range(1, int(nvec[0])))
    return np.asarray(opts, dtype=np.int64)


def run_single(name: str) -> Trace:
    platform, scenario, overrides, seed, steps, job_bias = CASES[name]
    env = gym.make(ENV_IDS[platform], scenario=scenario, record_events=True, **overrides)
    u_env = env.unwrapped
    nvec = np.asarray(u_env.action_space.nvec, dtype=np.int64)
    jobs = _job_opts(u_env.action_labels, nvec)
    rng = np.random.default_rng(1000 + seed)
    tr = Trace()
    obs, info = env.reset(seed=seed)
    tr.obs(obs)
    seen = 0
    for _ in range(steps):
        m = u_env.action_masks()
        tr.mask(m)
        a = pick(m, nvec, rng.random(6), jobs, job_bias)
        obs, r, term, trunc, info = env.step(a)
        assert not term
        tr.step(obs, r, info["cost"], info["t"], trunc)
        ev = u_env.sim.event_array(0)
        tr.events(ev[seen:])
        seen = len(ev)
        if trunc:
            tr.metrics(info["metrics"])
            obs, info = env.reset()
            tr.obs(obs)
            seen = 0
    env.close()
    return tr


def run_vector(name: str, record_events: bool = True, parallel: bool = False) -> list[Trace]:
    """The batched env's per-device traces; ``parallel`` runs even this small batch
    through the multithreaded kernel (``advance_batch_parallel``)."""
    platform, scenario, overrides = CASES[name][:3]
    env = gym.make_vec(
        ENV_IDS[platform],
        num_envs=N,
        vectorization_mode="vector_entry_point",
        scenario=scenario,
        record_events=record_events,
        **overrides,
    )
    sim = env.unwrapped.sim
    sim.threads = parallel
    saved_min = sim_module.PARALLEL_MIN
    sim_module.PARALLEL_MIN = 1 if parallel else saved_min
    try:
        return _run_vector(env, sim, name, record_events)
    finally:
        sim_module.PARALLEL_MIN = saved_min


def _run_vector(env: Any, sim: Any, name: str, record_events: bool) -> list[Trace]:
    seed, steps, job_bias = CASES[name][3:]
    nvec = np.asarray(env.single_action_space.nvec, dtype=np.int64)
    jobs = _job_opts(env.unwrapped.action_labels, nvec)
    rngs = [np.random.default_rng(1000 + seed + i) for i in range(N)]
    trs = [Trace() for _ in range(N)]
    seen = [0] * N
    if record_events:  # collect each finishing episode's last events before the autoreset clears them
        orig_reset = sim.reset

        def reset(seeds=None, idx=None):
            for i in range(N) if idx is None else idx:
                i = int(i)
                if sim.si[i, L.I_STEPS] > 0:
                    ev = sim.event_array(i)
                    trs[i].events(ev[seen[i] :])
                seen[i] = 0
            return orig_reset(seeds, idx)

        sim.reset = reset
    obs, infos = env.reset(seed=seed)
    for i in range(N):
        trs[i].obs(obs[i])
    for _ in range(steps):
        masks = env.unwrapped.action_masks()
        acts = np.zeros((N, 4), dtype=np.int64)
        for i in range(N):
            trs[i].mask(masks[i])
            acts[i] = pick(masks[i], nvec, rngs[i].random(6), jobs, job_bias)
        obs, rew, term, trunc, infos = env.step(acts)
        assert not term.any()
        for i in range(N):
            if trunc[i]:
                trs[i].step(infos["final_obs"][i], float(rew[i]), float(infos["cost"][i]), float(infos["final_info"]["t"][i]), True)  # fmt: skip
                trs[i].metrics({k: float(v[i]) for k, v in infos["metrics"].items() if not k.startswith("_")})
                trs[i].obs(obs[i])
            else:
                trs[i].step(obs[i], float(rew[i]), float(infos["cost"][i]), float(infos["t"][i]), False)
                if record_events:
                    ev = sim.event_array(i)
                    trs[i].events(ev[seen[i] :])
                    seen[i] = len(ev)
    env.close()
    return trs


def _single_without_events(tr: Trace) -> dict[str, str]:
    return {k: v for k, v in tr.parts().items() if k != "events"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_single_env_trajectory_is_unchanged(name):
    tr = run_single(name)
    assert tr.episodes >= 1
    assert tr.digest() == EXPECTED[name], tr.parts()


@pytest.mark.parametrize("name", ["ios_default", "android_default", "ios_rare", "android_oem_commuter", "android_commuter_jobs_7d"])  # fmt: skip
def test_batched_env_devices_match_the_single_env(name):
    platform, scenario, overrides, seed, steps, job_bias = CASES[name]
    trs = run_vector(name)
    quiet = run_vector(name, record_events=False)
    threaded = run_vector(name, record_events=False, parallel=True)
    for i in range(N):
        CASES[f"_dev{i}"] = (platform, scenario, overrides, seed + i, steps, job_bias)
        try:
            single = run_single(f"_dev{i}")
        finally:
            del CASES[f"_dev{i}"]
        assert trs[i].parts() == single.parts(), f"device {i}"
        assert _single_without_events(quiet[i]) == _single_without_events(single), f"device {i}, events off"
        assert _single_without_events(threaded[i]) == _single_without_events(single), f"device {i}, threaded"
    assert trs[0].digest() == EXPECTED[name]


def test_the_job_cases_wrap_the_execution_ring():
    """The long Android job case really exercises the ring's fold-on-overwrite path."""
    platform, scenario, overrides, seed, steps, job_bias = CASES["android_heavy_jobs_30d"]
    env = gym.make(ENV_IDS[platform], scenario=scenario, record_events=False, **overrides)
    u_env = env.unwrapped
    nvec = np.asarray(u_env.action_space.nvec, dtype=np.int64)
    jobs = _job_opts(u_env.action_labels, nvec)
    rng = np.random.default_rng(1000 + seed)
    env.reset(seed=seed)
    for _ in range(steps):
        a = pick(u_env.action_masks(), nvec, rng.random(6), jobs, job_bias)
        *_, trunc, _ = env.step(a)
        if trunc:
            break
    assert np.isfinite(u_env.sim.jobs[0, : L.NJOB, L.JB_START]).all()


if __name__ == "__main__":
    for case in CASES:
        t = run_single(case)
        print(f'    "{case}": "{t.digest()}",  # {t.episodes} episodes')
