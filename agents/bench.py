"""``bgenv bench``: throughput of bgenv next to CartPole, measured in one process.

Each comparison alternates its sides round by round (A, B, A, B, ...) and reports the
median of the rounds, so a load that comes and goes on the machine hits both sides
alike; the ratios are what to compare between machines, not the raw figures. Beside the
ratio of the medians each comparison prints the median and range of the round-by-round
ratios ("paired rounds"), the steadier of the two on a shared machine.

* ``single``: ``gym.make`` env steps/s with random actions
  (``gymnasium.utils.performance.benchmark_step``), bgenv iOS and Android vs CartPole-v1.
* ``vector``: ``gym.make_vec(..., vectorization_mode="vector_entry_point")`` env-steps/s
  with pre-sampled random actions, bgenv vs CartPole-v1 at the same ``num_envs``: iOS as
  made by default (numba's threads from 256 envs) and with ``threads=False``, Android.
* ``ppo``: SB3 PPO steps/s (same MLP and hyperparameters) on
  :class:`bgenv.envs.sb3.BgenvVecEnv` vs on ``make_vec_env("CartPole-v1")``, with SB3's
  ``MlpPolicy`` and with :class:`agents.distributions.FusedMlpPolicy`, and on a no-op env
  with bgenv's spaces (the policy's own cost) for each.
* ``fleet``: a fleet's batch against identical devices in its platform shares.
* ``replay``: batches replaying the shipped trace and recorded synthetic weeks against the
  synthetic world: env-steps/s, and simulated days and kernel events per second.
* ``horizon``: single-env steps/s and simulated days/s for several ``horizon_days``.
* ``reset``: µs per reset and memory per env.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform as _platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

SECTIONS = ("single", "vector", "fleet", "replay", "ppo", "horizon", "reset")
TARGETS = {"single": 0.5, "vector": 0.1, "ppo": 0.9, "fleet": 1 / 1.2, "replay": 1.0}
HORIZONS = (1, 7, 30)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seconds", type=float, default=1.0, help="duration of one timed round of one side (default 1)")
    p.add_argument("--rounds", type=int, default=3, help="rounds per comparison; the median is reported (default 3)")
    p.add_argument("--n-envs", type=int, default=1024, help="batch size of the vector comparison (default 1024)")
    p.add_argument("--ppo-steps", type=int, default=8192, help="PPO timesteps per round and side (default 8192)")
    p.add_argument("--ppo-envs", type=int, default=8, help="n_envs of the PPO comparison (default 8)")
    p.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch threads for the PPO comparison (default 1: a small MLP gains nothing from more, and "
        "several threads stall badly when other processes load the cores)",
    )
    p.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (default all)",
    )
    p.add_argument("--profile", action="store_true", help="also print cProfile's top functions of a single-env run")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _rss_bytes() -> int:
    """Resident set size of this process, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return _platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    import gymnasium
    import numba
    import numpy

    info: dict[str, Any] = {
        "platform": _platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": _platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "gymnasium": gymnasium.__version__,
    }
    try:
        import stable_baselines3
        import torch

        info["stable_baselines3"] = stable_baselines3.__version__
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover - both are dependencies
        pass
    return info


def _interleave(sides: dict[str, Callable[[int], float]], rounds: int) -> dict[str, dict[str, Any]]:
    """Run each side once per round, in turn; ``{side: {"median", "rounds"}}``."""
    got: dict[str, list[float]] = {name: [] for name in sides}
    for r in range(rounds):
        for name, fn in sides.items():
            got[name].append(fn(r))
    return {name: {"median": statistics.median(v), "rounds": v} for name, v in got.items()}


def _ratio(name: str, ours: str, ref: str, res: dict[str, dict[str, Any]], unit: str) -> dict[str, Any]:
    """One comparison: the ratio of the two sides' medians (what the target is judged on)
    and, when both sides ran the same interleaved rounds, ``paired``: the median and range
    of the round-by-round ratios (each round's two sides ran back to back, so a load that
    comes and goes cancels in it: the steadier figure on a shared machine)."""
    a, b = res[ours]["median"], res[ref]["median"]
    ratio = a / b if b else float("nan")
    target = TARGETS.get(name)
    ra, rb = res[ours].get("rounds") or [], res[ref].get("rounds") or []
    paired = None
    if ra and len(ra) == len(rb) and all(rb):
        per = [x / y for x, y in zip(ra, rb)]
        paired = {"median": statistics.median(per), "min": min(per), "max": max(per)}
    return {
        "ours": ours,
        "reference": ref,
        "unit": unit,
        "ours_value": a,
        "reference_value": b,
        "ratio": ratio,
        "paired": paired,
        "target": target,
        "meets_target": None if target is None else bool(ratio >= target),
    }


def _warm_up() -> dict[str, float]:
    """Build and step each env once: the numba kernel compiles (or loads its cache)."""
    import gymnasium as gym
    import numpy as np

    import bgenv  # noqa: F401  (registers the ids)

    out = {}
    for env_id in ("bgenv/iOS-v1", "bgenv/Android-v1"):
        t0 = time.perf_counter()
        env = gym.make(env_id, horizon_days=1)
        env.reset(seed=0)
        for _ in range(20):
            _, _, _, trunc, _ = env.step(env.action_space.sample())
            if trunc:
                env.reset()
        venv = gym.make_vec(env_id, num_envs=4, vectorization_mode="vector_entry_point", horizon_days=1)
        venv.reset(seed=0)
        for _ in range(20):
            venv.step(venv.action_space.sample())
        venv.unwrapped.action_masks()
        out[env_id] = time.perf_counter() - t0
    env = gym.make("CartPole-v1")
    env.reset(seed=0)
    env.step(env.action_space.sample())
    del np
    return out


# ---------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------
def bench_single(seconds: float, rounds: int) -> dict[str, Any]:
    import gymnasium as gym
    from gymnasium.utils.performance import benchmark_step

    envs = {name: gym.make(name) for name in ("bgenv/iOS-v1", "CartPole-v1", "bgenv/Android-v1")}
    for env in envs.values():  # the first steps run the env checker
        benchmark_step(env, target_duration=0.05, seed=0)  # type: ignore[arg-type]

    def side(env: gym.Env) -> Callable[[int], float]:
        return lambda r: benchmark_step(env, target_duration=seconds, seed=r)  # type: ignore[arg-type]

    res = _interleave({name: side(env) for name, env in envs.items()}, rounds)
    return {
        "raw": res,
        "comparisons": [
            _ratio("single", "bgenv/iOS-v1", "CartPole-v1", res, "steps/s"),
            _ratio("single", "bgenv/Android-v1", "CartPole-v1", res, "steps/s"),
        ],
    }


def _vector_side(env: Any, actions: Any, seconds: float, cpu: list[float] | None = None) -> Callable[[int], float]:
    """A round of ``env`` stepping ``actions`` for ``seconds``: env-steps per wall second.
    With ``cpu``, each round also appends its env-steps per CPU second of this process
    (``time.process_time``): on a shared machine the other jobs' load slows the wall clock
    of both sides, the CPU time much less."""
    n = env.num_envs

    def run(r: int) -> float:
        k = 0
        c0 = time.process_time()
        t0 = time.perf_counter()
        while True:
            env.step(actions[k % len(actions)])
            k += 1
            el = time.perf_counter() - t0
            if el >= seconds:
                if cpu is not None:
                    cpu.append(k * n / max(time.process_time() - c0, 1e-9))
                return k * n / el

    return run


def _started_vec(env_id: str, n_envs: int, rng: Any, **kwargs: Any) -> tuple[Any, Any]:
    """A ``make_vec`` env of ``n_envs`` reset and stepped three times, and 16 batches of
    random actions for it (drawn beforehand, so the timed loop only steps)."""
    import gymnasium as gym

    env = gym.make_vec(env_id, num_envs=n_envs, vectorization_mode="vector_entry_point", **kwargs)
    env.reset(seed=0)
    space = env.unwrapped.single_action_space
    if hasattr(space, "nvec"):
        actions = rng.integers(0, space.nvec, size=(16, n_envs, len(space.nvec)))
    else:
        actions = rng.integers(0, space.n, size=(16, n_envs))
    for k in range(3):
        env.step(actions[k])
    return env, actions


def bench_vector(seconds: float, rounds: int, n_envs: int) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    gc.collect()
    rss0 = _rss_bytes()
    ours, a_ours = _started_vec("bgenv/iOS-v1", n_envs, rng)
    rss1 = _rss_bytes()
    one, _ = _started_vec("bgenv/iOS-v1", n_envs, rng, threads=False)
    android, a_android = _started_vec("bgenv/Android-v1", n_envs, rng)
    ref, a_ref = _started_vec("CartPole-v1", n_envs, rng)
    threads = ours.unwrapped.sim.threads
    names = {
        "ios": "bgenv/iOS-v1" + (" (threads)" if threads else ""),
        "one": "bgenv/iOS-v1 threads=False",
        "android": "bgenv/Android-v1" + (" (threads)" if threads else ""),
    }
    res = _interleave(
        {
            names["ios"]: _vector_side(ours, a_ours, seconds),
            "CartPole-v1": _vector_side(ref, a_ref, seconds),
            names["one"]: _vector_side(one, a_ours, seconds),
            names["android"]: _vector_side(android, a_android, seconds),
        },
        rounds,
    )
    sim = ours.unwrapped.sim
    arrays = (sim.sf, sim.si, sim.items, sim.reqs, sim.jobs, sim.rng, sim.ev, sim.tts, sim.obs, sim.acts)
    memory = {
        "num_envs": n_envs,
        "array_bytes_per_env": sum(a.nbytes for a in arrays) / n_envs,
        "rss_growth_bytes_per_env": (rss1 - rss0) / n_envs if rss0 and rss1 else float("nan"),
    }
    for env in (ours, one, android, ref):
        env.close()
    return {
        "num_envs": n_envs,
        "threads_by_default": threads,
        "raw": res,
        "comparisons": [
            _ratio("vector", names["ios"], "CartPole-v1", res, "env-steps/s"),
            _ratio("vector", names["one"], "CartPole-v1", res, "env-steps/s"),
            _ratio("vector", names["android"], "CartPole-v1", res, "env-steps/s"),
        ],
        "memory": memory,
        "note": "the default steps batches of 256+ devices on numba's threads (one per core); threads=False "
        "is the same batch on one thread",
    }


def _started_fleet(fleet: Any, platform: str | None, n_envs: int, rng: Any) -> tuple[Any, Any]:
    """A fleet batch reset and stepped three times, and 16 batches of random actions
    whose request option is one every platform offers (a device's platform changes when
    it draws again at an autoreset)."""
    from bgenv.envs.vector import BackgroundSchedulingVectorEnv

    env = BackgroundSchedulingVectorEnv(n_envs, platform=platform, fleet=fleet)
    env.reset(seed=0)
    low = min(int(t.nvec[0]) for t in env.tables.values())
    actions = rng.integers(0, [low, 9, 9, 5], size=(16, n_envs, 4))
    for k in range(3):
        env.step(actions[k])
    return env, actions


def bench_fleet(seconds: float, rounds: int, n_envs: int) -> dict[str, Any]:
    """A fleet of both platforms (``mixed``: a table row per cohort), ``android_commuter``
    alone with a parameter range (a table row per device: the cost of per-device
    parameters by themselves) and a fleet with ranges (``android_makers``) against batches
    of identical ``ios_commuter`` / ``android_commuter`` devices, same random actions. The reference
    of the mixed fleet is the identical batches' cost mixed in the fleet's platform
    shares (seconds per device-step of each, weighted)."""
    import numpy as np

    from bgenv.core.layout import PLATFORMS

    rng = np.random.default_rng(0)
    mixed, a_mixed = _started_fleet("mixed", None, n_envs, rng)
    makers, a_makers = _started_fleet("android_makers", "android", n_envs, rng)
    from bgenv.fleet import CohortConfig, Fleet, FleetConfig

    one = FleetConfig(  # android_commuter alone with a parameter range: every device its own table row
        name="android_commuter_ranges",
        cohorts=[CohortConfig(name="android_commuter", weight=1.0, scenario="android_commuter")],
        randomize={"battery.background_cpu_pct_per_h": [14.0, 16.0]},
    )
    rows, a_rows = _started_fleet(Fleet(one), "android", n_envs, rng)
    ios, _ = _started_vec("bgenv/iOS-v1", n_envs, rng)
    android, _ = _started_vec("bgenv/Android-v1", n_envs, rng)
    same = rng.integers(0, [10, 9, 9, 5], size=(16, n_envs, 4))
    res = _interleave(
        {
            "fleet mixed (iOS + Android)": _vector_side(mixed, a_mixed, seconds),
            "bgenv/iOS-v1 ios_commuter": _vector_side(ios, same, seconds),
            "bgenv/Android-v1 android_commuter": _vector_side(android, same, seconds),
            "fleet android_makers (ranges)": _vector_side(makers, a_makers, seconds),
            "fleet android_commuter + range (a row per device)": _vector_side(rows, a_rows, seconds),
        },
        rounds,
    )
    share_ios = float(np.mean(mixed.device_platform == PLATFORMS["ios"]))
    t_ref = (
        share_ios / res["bgenv/iOS-v1 ios_commuter"]["median"]
        + (1 - share_ios) / res["bgenv/Android-v1 android_commuter"]["median"]
    )
    res["identical batches mixed as the fleet"] = {"median": 1.0 / t_ref, "rounds": []}
    per_device = {
        name: (env.sim.pf_table.nbytes + env.sim.ph_table.nbytes + env.sim.pidx.nbytes) / n_envs
        for name, env in (("mixed", mixed), ("android_makers", makers))
    }
    for env in (mixed, makers, rows, ios, android):
        env.close()
    return {
        "num_envs": n_envs,
        "raw": res,
        "comparisons": [
            _ratio("fleet", "fleet mixed (iOS + Android)", "identical batches mixed as the fleet", res, "env-steps/s"),
            _ratio(
                "fleet",
                "fleet android_commuter + range (a row per device)",
                "bgenv/Android-v1 android_commuter",
                res,
                "env-steps/s",
            ),
            _ratio(
                "fleet_control",
                "fleet android_makers (ranges)",
                "bgenv/Android-v1 android_commuter",
                res,
                "env-steps/s",
            ),
            _ratio("fleet_control", "fleet mixed (iOS + Android)", "bgenv/iOS-v1 ios_commuter", res, "env-steps/s"),
            _ratio(
                "fleet_control", "fleet mixed (iOS + Android)", "bgenv/Android-v1 android_commuter", res, "env-steps/s"
            ),
        ],
        "param_bytes_per_device": per_device,
        "ios_share": share_ios,
        "note": "target: a fleet costs at most 1.2x identical devices (ratio >= 0.833); the fleet's cohorts "
        "(light, rare, night-owl users, OEM phones) differ in events per step from the commuter batches, "
        "so part of any gap is the population, not the per-device parameters",
    }


def _null_vec_env(n_envs: int) -> Any:
    """An SB3 VecEnv with bgenv's spaces whose step costs nothing: PPO on it measures
    the policy's own cost for bgenv's observation and MultiDiscrete action spaces."""
    import numpy as np
    from stable_baselines3.common.vec_env import VecEnv

    from bgenv.envs.vector import BackgroundSchedulingVectorEnv

    probe = BackgroundSchedulingVectorEnv(1)

    class NullVecEnv(VecEnv):
        def __init__(self) -> None:
            super().__init__(n_envs, probe.single_observation_space, probe.single_action_space)
            self._obs = np.zeros((n_envs, *probe.single_observation_space.shape), dtype=np.float32)

        def reset(self):  # type: ignore[override]
            return self._obs.copy()

        def step_async(self, actions: Any) -> None:
            pass

        def step_wait(self):  # type: ignore[override]
            infos = [{"cost": 0.0, "TimeLimit.truncated": False} for _ in range(n_envs)]
            return self._obs.copy(), np.zeros(n_envs, dtype=np.float32), np.zeros(n_envs, dtype=bool), infos

        def close(self) -> None:
            pass

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            if attr_name == "render_mode":
                return [None] * n_envs
            raise AttributeError(attr_name)

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            pass

        def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:
            raise AttributeError(method_name)

        def env_is_wrapped(self, wrapper_class: Any, indices: Any = None) -> list[bool]:
            return [False] * n_envs

    return NullVecEnv()


def bench_ppo(rounds: int, total_steps: int, n_envs: int, torch_threads: int) -> dict[str, Any]:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from agents.distributions import ConditionalMlpPolicy, FusedMlpPolicy
    from bgenv.envs.sb3 import make_sb3_vec_env

    hp = {"n_steps": 256, "batch_size": 512, "n_epochs": 4, "device": "cpu", "verbose": 0}
    threads_before = torch.get_num_threads()
    torch.set_num_threads(torch_threads)

    def side(make: Callable[[int], Any], policy: Any = "MlpPolicy") -> Callable[[int], float]:
        def run(r: int) -> float:
            model = PPO(policy, make(r), seed=r, **hp)
            t0 = time.perf_counter()
            model.learn(total_timesteps=total_steps)
            el = time.perf_counter() - t0
            steps = model.num_timesteps
            model.get_env().close()
            return steps / el

        return run

    ours, ref, null = "bgenv/iOS-v1 (BgenvVecEnv)", "CartPole-v1 (DummyVecEnv)", "no-op env, bgenv's spaces"
    fused, fused_null = "bgenv/iOS-v1, FusedMlpPolicy", "no-op env, FusedMlpPolicy"
    fused_android = "bgenv/Android-v1, FusedMlpPolicy"
    conditional = "bgenv/iOS-v1, ConditionalMlpPolicy"
    sides = {
        ours: side(lambda r: make_sb3_vec_env("bgenv/iOS-v1", n_envs, seed=r)),
        ref: side(lambda r: make_vec_env("CartPole-v1", n_envs=n_envs, seed=r)),
        null: side(lambda r: _null_vec_env(n_envs)),
        fused: side(lambda r: make_sb3_vec_env("bgenv/iOS-v1", n_envs, seed=r), FusedMlpPolicy),
        fused_android: side(lambda r: make_sb3_vec_env("bgenv/Android-v1", n_envs, seed=r), FusedMlpPolicy),
        fused_null: side(lambda r: _null_vec_env(n_envs), FusedMlpPolicy),
        conditional: side(lambda r: make_sb3_vec_env("bgenv/iOS-v1", n_envs, seed=r), ConditionalMlpPolicy),
    }
    # warm-up: torch's first passes are slower
    PPO("MlpPolicy", make_vec_env("CartPole-v1", n_envs=n_envs, seed=0), seed=0, **hp).learn(n_envs * hp["n_steps"])
    PPO(FusedMlpPolicy, _null_vec_env(n_envs), seed=0, **hp).learn(n_envs * hp["n_steps"])
    try:
        res = _interleave(sides, rounds)
    finally:
        torch.set_num_threads(threads_before)
    comparisons = [
        _ratio("ppo", ours, ref, res, "timesteps/s"),
        _ratio("ppo", fused, ref, res, "timesteps/s"),
        _ratio("ppo", fused_android, ref, res, "timesteps/s"),
    ]
    # the conditional head (what ``bgenv train`` uses by default) against the fused one
    for a, b in ((ours, null), (fused, fused_null), (conditional, fused)):
        control = _ratio("ppo", a, b, res, "timesteps/s")
        control["target"] = control["meets_target"] = None
        comparisons.append(control)
    return {
        "n_envs": n_envs,
        "total_timesteps": total_steps,
        "torch_threads": torch_threads,
        "hyperparameters": {"policy": "MlpPolicy", **hp},
        "raw": res,
        "comparisons": comparisons,
        "note": "same MLP and hyperparameters on every side; FusedMlpPolicy (agents.distributions, what "
        "`bgenv train` uses) computes SB3's MultiCategorical distribution in one tensor instead of one "
        "torch Categorical per action part. The no-op env has bgenv's spaces and costs nothing to step: "
        "the ratios against it are the share of a PPO run the environment itself leaves to the learner",
    }


def bench_horizon(seconds: float, rounds: int) -> dict[str, Any]:
    import gymnasium as gym

    envs = {h: gym.make("bgenv/iOS-v1", horizon_days=h) for h in HORIZONS}
    sim_days: dict[int, list[float]] = {h: [] for h in HORIZONS}

    def side(h: int) -> Callable[[int], float]:
        env = envs[h]

        def run(r: int) -> float:  # benchmark_step's loop, also adding up simulated time
            _, info = env.reset(seed=r)
            t_prev = info["t"]
            steps = 0
            sim_s = 0.0
            t0 = time.perf_counter()
            while True:
                steps += 1
                _, _, term, trunc, info = env.step(env.action_space.sample())
                sim_s += info["t"] - t_prev
                t_prev = info["t"]
                if term or trunc:
                    t_prev = env.reset()[1]["t"]
                el = time.perf_counter() - t0
                if el > seconds:
                    sim_days[h].append(sim_s / 86400.0 / el)
                    return steps / el

        return run

    for h in HORIZONS:
        side(h)(0)  # warm-up (the checker's first steps)
        sim_days[h].clear()
    res = _interleave({f"{h} d": side(h) for h in HORIZONS}, rounds)
    ref = res["7 d"]["median"]
    rows = {
        f"{h} d": {
            "steps_per_s": res[f"{h} d"]["median"],
            "ratio_to_7d": res[f"{h} d"]["median"] / ref,
            "simulated_days_per_s": statistics.median(sim_days[h]),
            "rounds": res[f"{h} d"]["rounds"],
        }
        for h in HORIZONS
    }
    return {"horizons": rows}


def bench_reset(seconds: float, n_envs: int) -> dict[str, Any]:
    import gymnasium as gym
    import numpy as np

    budget = max(seconds / 2, 0.05)

    def per_call(fn: Callable[[int], Any]) -> float:
        fn(0)
        k = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < budget:
            fn(k)
            k += 1
        return (time.perf_counter() - t0) / k * 1e6

    env = gym.make("bgenv/iOS-v1")
    env.reset(seed=0)
    out = {
        "single_reset_continue_us": per_call(lambda k: env.reset()),
        "single_reset_seeded_us": per_call(lambda k: env.reset(seed=k)),
    }
    venv = gym.make_vec("bgenv/iOS-v1", num_envs=n_envs, vectorization_mode="vector_entry_point").unwrapped
    venv.reset(seed=0)
    sim = venv.sim
    idx = np.arange(n_envs)
    out["batch_reset_continue_us_per_env"] = per_call(lambda k: sim.reset(None, idx)) / n_envs
    out["batch_autoreset_us_per_env"] = per_call(lambda k: sim.reset(None, idx[: max(1, n_envs // 64)])) / max(
        1, n_envs // 64
    )
    out["batch_metrics_us_per_env"] = per_call(lambda k: sim.metrics(k % n_envs))
    out["batch_action_masks_us_per_env"] = per_call(lambda k: venv.action_masks()) / n_envs
    return out


def profile_single(seconds: float) -> str:
    import cProfile
    import io
    import pstats

    import gymnasium as gym

    env = gym.make("bgenv/iOS-v1")
    env.reset(seed=0)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    while time.perf_counter() - t0 < seconds:
        _, _, _, trunc, _ = env.step(env.action_space.sample())
        if trunc:
            env.reset()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    return buf.getvalue()


def _per_step(env: Any, actions: Any, steps: int = 256) -> tuple[float, float]:
    """Kernel events and simulated seconds per env-step (over the devices whose episode
    did not end in the step), untimed."""
    import numpy as np

    from bgenv.core import layout as L

    sim = env.unwrapped.sim
    events = done = 0
    sim_s = 0.0
    for k in range(steps):
        e0 = sim.si[:, L.I_EVENTS].copy()
        t0 = sim.sf[:, L.S_T].copy()
        env.step(actions[k % len(actions)])
        ok = (sim.si[:, L.I_EVENTS] >= e0) & (sim.sf[:, L.S_T] >= t0)  # the ended ones restarted their counts
        events += int((sim.si[ok, L.I_EVENTS] - e0[ok]).sum())
        sim_s += float((sim.sf[ok, L.S_T] - t0[ok]).sum())
        done += int(np.count_nonzero(ok))
    return events / max(done, 1), sim_s / max(done, 1)


def _recorded_weeks(n: int, seed: int = 20_000) -> list[Any]:
    """``n`` weeks of the synthetic ``ios_commuter`` recorded as traces
    (:func:`bgenv.traces.record.trace_from_events`: screen, app opens, charger, battery
    level, network, Low Power Mode), one user each (seeds ``seed``...), random actions;
    8.5 days each, so that one episode's window (from the first local midnight) fits."""
    import gymnasium as gym
    import numpy as np

    from bgenv.core import layout as L
    from bgenv.traces.record import trace_from_events

    weeks = []
    for k in range(n):
        env = gym.make("bgenv/iOS-v1", horizon_days=8.5, record_events=True)
        env.reset(seed=seed + k)
        rng = np.random.default_rng(seed + k)
        nvec = env.action_space.nvec
        done = False
        while not done:
            *_, done, _ = env.step(rng.integers(0, nvec))
        sim = env.unwrapped.sim
        t0, t1 = float(sim.sf[0, L.S_T0]), float(sim.sf[0, L.S_T])
        weeks.append(trace_from_events(env.unwrapped.events, t0, t1, name=f"ios_commuter_{seed + k}"))
        env.close()
    return weeks


def bench_replay(seconds: float, rounds: int, n_envs: int, weeks: int = 64) -> dict[str, Any]:
    """Batches replaying traces against the same batch in the synthetic world, same
    random actions, 7-day episodes, a window per device:

    * the shipped trace (``world="trace:mcm_iphone13"``): it drives the charger, the
      battery level and temperature (the screen in its last 44 h), the user model the rest;
    * ``weeks`` synthetic ``ios_commuter`` weeks recorded as traces and replayed: every
      channel the user model drives, except motion, comes from the record (what replaying
      a rich recording such as a batterystats history costs). Each autoreset draws its
      week (``world_mode="random"``, the default), as each synthetic autoreset draws a new
      user. (With ``"sequential"`` and ``n_envs`` a multiple of ``weeks``, device i would
      replay week i mod ``weeks`` every episode: a batch step is one step of every device,
      so a device held on a week with few decisions, a phone off for days, would add a
      long step to every batch step, and the batch's steps would be ~15 % longer than
      the same weeks make on average.)

    Issue 18's target: replay steps at least as fast (ratio >= 1), wall clock and CPU
    time. A step is a decision and a replayed phone has its own stretches without one, so
    the simulated days and kernel events per second are reported beside it (controls)."""
    import numpy as np

    rng = np.random.default_rng(0)
    recorded = _recorded_weeks(min(weeks, n_envs))
    shipped, actions = _started_vec("bgenv/iOS-v1", n_envs, rng, world="trace:mcm_iphone13")
    replayed, _ = _started_vec("bgenv/iOS-v1", n_envs, rng, world=recorded)
    synth, _ = _started_vec("bgenv/iOS-v1", n_envs, rng)
    ref = "synthetic ios_commuter"
    envs = {
        "trace mcm_iphone13 (iOS)": shipped,
        f"{len(recorded)} synthetic weeks replayed": replayed,
        ref: synth,
    }
    cpu: dict[str, list[float]] = {name: [] for name in envs}
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    res = _interleave({name: _vector_side(env, actions, seconds, cpu[name]) for name, env in envs.items()}, rounds)
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cpu_res = {f"{name}, CPU time": {"median": statistics.median(v), "rounds": v} for name, v in cpu.items()}
    per_step = {name: _per_step(env, actions) for name, env in envs.items()}
    # derived per round: simulated days and kernel events per wall second (the step rate
    # times the simulated time and the events a step covers)
    days = {f"{name}, simulated days": {"median": res[name]["median"] * per_step[name][1] / 86400.0} for name in envs}
    events = {f"{name}, kernel events": {"median": res[name]["median"] * per_step[name][0]} for name in envs}
    per_device = shipped.unwrapped.sim.tr.nbytes / n_envs  # one pool of every window, shared by the devices
    for env in envs.values():
        env.close()
    comparisons = []
    for name in list(envs)[:2]:
        comparisons += [
            _ratio("replay", name, ref, res, "env-steps/s"),
            _ratio("replay", f"{name}, CPU time", f"{ref}, CPU time", cpu_res, "env-steps/CPU-s"),
            _ratio("replay", f"{name}, simulated days", f"{ref}, simulated days", days, "sim-days/s")
            | {"target": None, "meets_target": None},
            _ratio("replay", f"{name}, kernel events", f"{ref}, kernel events", events, "events/s")
            | {"target": None, "meets_target": None},
        ]
    return {
        "num_envs": n_envs,
        "raw": res | cpu_res,
        "comparisons": comparisons,
        "events_per_step": {name: v[0] for name, v in per_step.items()},
        "simulated_s_per_step": {name: v[1] for name, v in per_step.items()},
        "load_average_1min": [load0, load1],
        "trace_bytes_per_device": per_device,
        "note": "a step is a decision: the recorded weeks decide as often as the synthetic users; the shipped "
        "trace's phone decides less often (shut down with its battery empty about a tenth of the time, until the "
        "recorded charger comes), so its step covers more simulated time and events; simulated days/s and kernel "
        "events/s compare the same work",
    }


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict[str, Any]:
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown bench sections {unknown}; choose from {list(SECTIONS)}")
    report: dict[str, Any] = {
        "machine": machine_info(),
        "settings": {
            "seconds_per_round": args.seconds,
            "rounds": args.rounds,
            "n_envs": args.n_envs,
            "ppo_steps": args.ppo_steps,
            "ppo_envs": args.ppo_envs,
            "torch_threads_ppo": args.torch_threads,
        },
    }
    t0 = time.perf_counter()
    report["warm_up_s"] = _warm_up()
    if "single" in sections:
        report["single"] = bench_single(args.seconds, args.rounds)
    if "vector" in sections:
        report["vector"] = bench_vector(args.seconds, args.rounds, args.n_envs)
    if "fleet" in sections:
        report["fleet"] = bench_fleet(args.seconds, args.rounds, args.n_envs)
    if "replay" in sections:
        report["replay"] = bench_replay(args.seconds, args.rounds, args.n_envs)
    if "ppo" in sections:
        report["ppo"] = bench_ppo(args.rounds, args.ppo_steps, args.ppo_envs, args.torch_threads)
    if "horizon" in sections:
        report["horizon"] = bench_horizon(args.seconds, args.rounds)
    if "reset" in sections:
        report["reset"] = bench_reset(args.seconds, args.n_envs)
    if args.profile:
        report["profile_single"] = profile_single(max(args.seconds, 1.0))
    report["total_s"] = time.perf_counter() - t0
    return report


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def format_report(rep: dict[str, Any]) -> str:
    m = rep["machine"]
    s = rep["settings"]
    lines = [
        "bgenv bench: medians of interleaved rounds (A, B, A, B, ...) in one process",
        f"machine: {m['platform']}; {m['cpu']}; {m['cores']} cores ({m['cores_usable']} usable)",
        "versions: "
        + ", ".join(
            f"{k} {m[k]}" for k in ("python", "numpy", "numba", "gymnasium", "stable_baselines3", "torch") if k in m
        )
        + (f"; torch threads by default {m['torch_threads']}" if "torch_threads" in m else "")
        + (f"; numba threads {m['numba_threads']} (batched env from 256 envs)" if "numba_threads" in m else ""),
        f"settings: {s['rounds']} rounds x {s['seconds_per_round']:g} s per side; vector n_envs {s['n_envs']}; "
        f"PPO {s['ppo_steps']} timesteps x n_envs {s['ppo_envs']}",
        "warm-up (kernel compile or cache load): " + ", ".join(f"{k} {v:.1f} s" for k, v in rep["warm_up_s"].items()),
        "",
    ]

    def comparisons(title: str, sec: dict[str, Any]) -> None:
        lines.append(title)
        for c in sec["comparisons"]:
            if c["target"] is None:
                verdict = "(control, no target)"
            else:
                verdict = f"(target >= {c['target']:g}) " + ("ok" if c["meets_target"] else "BELOW TARGET")
            p = c.get("paired")
            paired = "" if not p else f"; paired rounds {p['median']:.3f} [{p['min']:.3f}, {p['max']:.3f}]"
            lines.append(
                f"  {c['ours']:34s} {_num(c['ours_value']):>12s} {c['unit']}   vs {c['reference']:28s} "
                f"{_num(c['reference_value']):>12s}   ratio {c['ratio']:.3f} {verdict}{paired}"
            )
        if "note" in sec:
            lines.append(f"  note: {sec['note']}")
        lines.append("")

    if "single" in rep:
        comparisons("(a) single env, gym.make + benchmark_step, random actions", rep["single"])
    if "vector" in rep:
        v = rep["vector"]
        comparisons(f"(b) vector env, make_vec(vector_entry_point), num_envs={v['num_envs']}", v)
    if "fleet" in rep:
        f = rep["fleet"]
        comparisons(f"(b2) fleets, num_envs={f['num_envs']} (iOS share {f['ios_share']:.2f})", f)
        lines[-1:-1] = [
            "  scenario tables per device: "
            + ", ".join(f"{k} {v / 1024:.2f} KiB" for k, v in f["param_bytes_per_device"].items())
        ]
    if "replay" in rep:
        rp = rep["replay"]
        comparisons(f"(b3) trace replay vs synthetic world, num_envs={rp['num_envs']}", rp)
        ev = rp["events_per_step"]
        lines[-1:-1] = [
            "  kernel events per env-step: " + ", ".join(f"{k} {v:.2f}" for k, v in ev.items()),
            "  simulated time per env-step: "
            + ", ".join(f"{k} {v / 60:.1f} min" for k, v in rp["simulated_s_per_step"].items()),
            "  load average (1 min) before / after: " + " / ".join(f"{x:.2f}" for x in rp["load_average_1min"]),
            f"  trace records per device (the windows' pool, shared): {rp['trace_bytes_per_device'] / 1024:.2f} KiB",
        ]
    if "ppo" in rep:
        p = rep["ppo"]
        hp = p["hyperparameters"]
        comparisons(
            f"(c) SB3 PPO {hp['policy']}, n_envs={p['n_envs']}, n_steps={hp['n_steps']}, "
            f"batch_size={hp['batch_size']}, n_epochs={hp['n_epochs']}, device={hp['device']}, "
            f"torch threads {p['torch_threads']}",
            p,
        )
    if "horizon" in rep:
        lines.append("(d) single env (iOS) vs horizon_days")
        for name, row in rep["horizon"]["horizons"].items():
            lines.append(
                f"  {name:>5s}: {_num(row['steps_per_s']):>10s} steps/s   ratio to 7 d {row['ratio_to_7d']:.3f}   "
                f"{_num(row['simulated_days_per_s']):>8s} simulated days/s"
            )
        lines.append("")
    if "reset" in rep or "vector" in rep:
        lines.append("(e) reset cost and memory")
        r = rep.get("reset", {})
        labels = {
            "single_reset_continue_us": "single env reset() (streams carry on)",
            "single_reset_seeded_us": "single env reset(seed=k) (new random streams)",
            "batch_reset_continue_us_per_env": "batch reset of all devices, per device",
            "batch_autoreset_us_per_env": "batch autoreset of 1/64 of the devices, per device",
            "batch_metrics_us_per_env": "episode metrics of one device (read at autoreset)",
            "batch_action_masks_us_per_env": "batch action_masks(), per device",
        }
        for k, label in labels.items():
            if k in r:
                lines.append(f"  {label:52s} {r[k]:10.1f} µs")
        if "vector" in rep:
            mem = rep["vector"]["memory"]
            lines.append(f"  {'simulator arrays per env':52s} {mem['array_bytes_per_env'] / 1024:10.1f} KiB")
            lines.append(
                f"  {'RSS growth per env at N=' + str(mem['num_envs']):52s} "
                f"{mem['rss_growth_bytes_per_env'] / 1024:10.1f} KiB"
            )
        lines.append("")
    if "profile_single" in rep:
        lines.append("cProfile of the single env (gym.make), by own time:")
        lines.append(rep["profile_single"])
    lines.append(f"total {rep['total_s']:.0f} s")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, *, args: argparse.Namespace | None = None) -> int:
    """``bgenv bench``: print the report (``--json`` for JSON). ``args``: already parsed
    options (the ``bgenv`` CLI passes its namespace)."""
    if args is None:
        p = argparse.ArgumentParser(prog="bgenv bench", description=__doc__.split("\n\n")[0])
        add_arguments(p)
        args = p.parse_args(argv)
    rep = run(args)
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        print(format_report(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
