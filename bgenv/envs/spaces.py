"""Observation and action spaces, and the names of their parts."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from bgenv.core.layout import KIND_NAMES
from bgenv.core.observation import FEATURES
from bgenv.core.params import CompiledParams

OBSERVATION_NAMES: tuple[str, ...] = tuple(f[0] for f in FEATURES)
ACTION_PARTS: tuple[str, ...] = ("request", "delay", "chunk", "work_kind")
WORK_KIND_CHOICES: tuple[str, ...] = ("auto", *KIND_NAMES)


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
