"""The kernel as plain Python: under ``NUMBA_DISABLE_JIT=1`` numba's ``njit`` returns the
undecorated functions, so the simulator can be stepped through with ``pdb`` or
``print``. A child interpreter with the JIT off runs short seeded episodes on both
platforms (the single env across an episode end, and a batch through the threaded
kernel across its autoresets); they must equal the compiled runs of this process bit
for bit: observations, rewards, times, action masks, event logs and metrics.

The child's half by hand:
``NUMBA_DISABLE_JIT=1 python tests/core/test_pure_python.py OUT.npz``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import ENV_IDS, pick

ROOT = Path(__file__).resolve().parents[2]
SEED = 5
N = 3  # devices of the batch
BATCH_STEPS = 120  # with horizon_days=0.5: every device truncates and restarts at least once


def trajectories() -> dict[str, np.ndarray]:
    """Everything the episodes showed, per platform, as arrays named ``<platform>_<what>``."""
    from bgenv.core import sim as sim_module

    out: dict[str, np.ndarray] = {}
    for platform in ("ios", "android"):
        # the single env: a 2-day episode, then 20 steps into the next one (no new seed)
        env = gym.make(ENV_IDS[platform], horizon_days=2, record_events=True).unwrapped
        nvec = env.action_space.nvec
        rng = np.random.default_rng(SEED)
        obs, info = env.reset(seed=SEED)
        rows: dict[str, list] = {"obs": [obs], "rew": [], "t": [info["t"]], "mask": []}
        after = None
        while after is None or after < 20:
            m = env.action_masks()
            obs, r, _, trunc, info = env.step(pick(m, nvec, rng.random(5)))
            rows["mask"].append(m)
            rows["obs"].append(obs)
            rows["rew"].append(r)
            rows["t"].append(info["t"])
            if trunc:
                out[f"{platform}_events"] = env.sim.event_array(0).copy()
                out[f"{platform}_metrics"] = np.array(list(info["metrics"].values()))
                obs, info = env.reset()
                rows["obs"].append(obs)
                after = 0
            elif after is not None:
                after += 1
        out[f"{platform}_events_next"] = env.sim.event_array(0).copy()
        for k, v in rows.items():
            out[f"{platform}_{k}"] = np.array(v)

        # the batch, through the threaded kernel (prange is range without the JIT)
        vec = gym.make_vec(
            ENV_IDS[platform], num_envs=N, vectorization_mode="vector_entry_point", horizon_days=0.5, threads=True
        ).unwrapped
        saved = sim_module.PARALLEL_MIN
        sim_module.PARALLEL_MIN = 1
        try:
            obs, _ = vec.reset(seed=SEED)
            seen, trunc_n = [obs], 0
            for _ in range(BATCH_STEPS):
                acts = np.stack([pick(m, nvec, rng.random(5)) for m in vec.action_masks()])
                obs, rew, _, trunc, infos = vec.step(acts)
                seen += [obs, rew, infos["t"]]
                trunc_n += int(trunc.sum())
        finally:
            sim_module.PARALLEL_MIN = saved
        out[f"{platform}_batch"] = np.concatenate([np.ravel(x).astype(np.float64) for x in seen])
        out[f"{platform}_batch_truncations"] = np.array(trunc_n)
    return out


def test_the_kernel_runs_as_plain_python_with_the_compiled_results(tmp_path):
    path = tmp_path / "pure.npz"
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}  # fmt: skip
    start = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", __file__, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "jit off" in res.stdout, res.stdout
    assert time.monotonic() - start < 60, "keep the pure-Python run short"
    pure = dict(np.load(path))
    compiled = trajectories()
    assert sorted(pure) == sorted(compiled)
    for k, v in compiled.items():
        assert pure[k].shape == v.shape, k
        assert pure[k].tobytes() == v.tobytes(), k  # bit for bit
    for platform in ("ios", "android"):
        assert len(compiled[f"{platform}_events"]) > 100
        assert compiled[f"{platform}_batch_truncations"] >= N


def test_the_core_calls_the_c_library_for_transcendental_functions():
    """``np.exp`` and friends on a scalar run numpy's SIMD routines in plain Python, which
    can differ from the C library's (what the compiled kernel calls) in the last bit:
    the core's functions use ``math.*`` (module-level constants may use numpy: they are
    computed once, by Python, in both modes)."""
    pattern = re.compile(r"^\s+.*\bnp\.(exp|expm1|exp2|log|log1p|log2|log10|sin|cos|tan|arc\w+|sinh|cosh|tanh|power|cbrt|hypot)\(")  # fmt: skip
    found = [
        f"{p.name}:{i}: {line.strip()}"
        for p in sorted((ROOT / "bgenv" / "core").glob("*.py"))
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.match(line)
    ]
    assert not found, "use math.* in the kernel:\n" + "\n".join(found)


if __name__ == "__main__":  # the child: NUMBA_DISABLE_JIT=1 python tests/core/test_pure_python.py OUT.npz
    import numba

    from bgenv.core.kernel import advance_batch

    np.savez(sys.argv[1], **trajectories())
    pure = numba.config.DISABLE_JIT and not hasattr(advance_batch, "overloads")
    print("jit off" if pure else "jit on")
