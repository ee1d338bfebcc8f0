"""pytest configuration for the bgenv suite.

The numba kernel compiles on first use (about two minutes on one core, then cached on
disk), so the suite keeps the number of processes small (``pytest -n 2``), compiles it
once before the workers start (below), and most tests run short horizons (one to three
simulated days).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import helpers` in every import mode

# No example database: the suite must not write outside tests/ and stays reproducible
# from the seeds hypothesis prints on failure.
settings.register_profile("bgenv", database=None, deadline=None, print_blob=True)
settings.load_profile("bgenv")


# Every compiled entry point the suite uses (single env, batch, threaded batch, masks, the
# metrics at an episode's end), run once in a child process of the xdist controller.
_COMPILE = """
import gymnasium as gym
import bgenv
env = gym.make("bgenv/iOS-v1", horizon_days=0.25)
env.reset(seed=0)
done = False
while not done:
    _, _, term, trunc, _ = env.step(env.action_space.sample())
    done = term or trunc
venv = gym.make_vec("bgenv/Android-v1", num_envs=64, vectorization_mode="vector_entry_point", threads=True,
                    horizon_days=0.25)
venv.reset(seed=0)
for _ in range(40):
    venv.step(venv.action_space.sample())
venv.unwrapped.action_masks()
"""


def pytest_configure(config: pytest.Config) -> None:
    """With ``-n 2`` on a cold cache both workers (and the notebooks' kernels they start)
    compiled the kernel at once, two or three times over on two cores; compiled here once
    before the workers start, they all load it from the cache."""
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return  # an xdist worker, or a serial run: tests compile as they go
    subprocess.run([sys.executable, "-c", _COMPILE], check=True, cwd=Path(__file__).resolve().parents[1])


@pytest.fixture(params=["ios", "android"])
def platform(request) -> str:
    return request.param
