"""The environment without the RL tooling: ``pip install bgenv`` (no extras) gives
working envs. A child interpreter that cannot import torch, Stable-Baselines3,
sb3-contrib, matplotlib or the ``agents`` package makes and steps both envs, single and
batched; and no module under ``bgenv/`` imports ``agents`` (that the core imports nothing
above it is checked in ``tests/core/test_names_and_slots.py``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import importlib.abc, sys

BLOCKED = ("torch", "stable_baselines3", "sb3_contrib", "matplotlib", "PIL", "tensorboard", "pandas", "agents")


class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: not in the light install)", name=name)
        return None


sys.meta_path.insert(0, Block())

import gymnasium as gym
import numpy as np

import bgenv

for env_id in ("bgenv/iOS-v1", "bgenv/Android-v1"):
    env = gym.make(env_id, horizon_days=1)
    obs, info = env.reset(seed=0)
    steps = 0
    done = False
    while not done:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        steps += 1
        done = terminated or truncated
    assert steps > 0 and "metrics" in info, env_id
    vec = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", horizon_days=1)
    vec.reset(seed=0)
    vec.step(np.zeros((2, 4), dtype=np.int64))
    print(env_id, steps)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
assert not leaked, leaked
"""


def test_envs_run_without_the_rl_tooling():
    res = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "bgenv/iOS-v1" in res.stdout and "bgenv/Android-v1" in res.stdout


def test_bgenv_never_imports_agents():
    offenders = []
    for path in sorted((ROOT / "bgenv").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] == "agents"]
    assert offenders == []
