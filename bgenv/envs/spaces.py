"""Observation and action spaces, the names of their parts, and the inverse of the
observation's scalings (raw quantities from an observation, for hand-written policies)."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from bgenv.core.layout import KIND_NAMES
from bgenv.core.observation import AGE_FULL_H, BACKLOG_FULL_UNITS, FEATURES, WINDOW_ELAPSED_FULL_S
from bgenv.core.params import CompiledParams

OBSERVATION_NAMES: tuple[str, ...] = tuple(f[0] for f in FEATURES)
ACTION_PARTS: tuple[str, ...] = ("request", "delay", "chunk", "work_kind")
WORK_KIND_CHOICES: tuple[str, ...] = ("auto", *KIND_NAMES)

# The single env's ``info`` (of ``reset`` and every ``step``): key -> (unit, meaning).
INFO_KEYS: dict[str, tuple[str, str]] = {
    "t": ("s", "simulated time of the returned observation, since midnight of day 0"),
    "t_s": ("s", "simulated time since the episode's reset (0 at reset)"),
    "dt_s": (
        "s",
        "simulated time since the previous decision (0 at reset; from a second to many hours, "
        "as decisions are event-driven); summed over an episode, its simulated length",
    ),
    "cost": (
        "fraction of a full battery",
        "battery spent by background work off the charger in the step, apart from the reward "
        "(for constrained RL; 0 at reset)",
    ),
    "phase": ("", "the decision point: `background`, `window_start`, `chunk_done` (`none` on the last step)"),
    "metrics": ("", "on the truncating step only: the episode metrics (below)"),
}


def observation_space() -> spaces.Box:
    low = np.array([f[3] for f in FEATURES], dtype=np.float32)
    high = np.array([f[4] for f in FEATURES], dtype=np.float32)
    return spaces.Box(low=low, high=high, dtype=np.float32)


def action_space(cp: CompiledParams) -> spaces.MultiDiscrete:
    return spaces.MultiDiscrete(cp.nvec)


def action_labels(cp: CompiledParams) -> dict[str, tuple[str, ...]]:
    """Human-readable meaning of every choice in each action part."""
    return {
        "request": cp.option_labels,
        "delay": tuple(f"{d:g} s" for d in cp.delay_bins_s),
        "chunk": ("stop and report completion", *(f"{c:g} units" for c in cp.chunk_bins_units[1:])),
        "work_kind": WORK_KIND_CHOICES,
    }


_LOG_AGE = float(np.log1p(AGE_FULL_H))
_LOG_BACKLOG = float(np.log1p(BACKLOG_FULL_UNITS))


def backlog_units(x: np.ndarray | float) -> np.ndarray:
    """Pending work units from ``backlog_*`` observations (``log1p(units)/log1p(1000)``,
    clipped at 1: a full feature reads as 1000 units or more)."""
    return np.expm1(np.clip(x, 0.0, 1.0) * _LOG_BACKLOG)


def age_hours(x: np.ndarray | float) -> np.ndarray:
    """Hours from ``oldest_age``, ``staleness`` and ``since_*`` observations
    (``log1p(hours)/log1p(336)``, clipped at two weeks)."""
    return np.expm1(np.asarray(x) * _LOG_AGE)


def window_elapsed_s(x: np.ndarray | float) -> np.ndarray:
    """Seconds since the running window started, from ``window_elapsed`` (``s/600``, clipped)."""
    return np.asarray(x) * WINDOW_ELAPSED_FULL_S
