"""Traces shipped with bgenv (``bgenv/traces/data/``), by name.

``mcm_iphone13``: 38 days of an iPhone 13 Pro Max's battery level, charger and battery
temperature (Dec 2025 - Feb 2026, UTC-6), with the screen state in the last 44 h; derived
from Mark Miller's public sysdiagnose records (CC BY 4.0; credit, licence and the changes
in ``bgenv/traces/data/NOTICE``; rebuilt by :mod:`bgenv.traces.make_sample`).
"""

from __future__ import annotations

from pathlib import Path

from bgenv.traces.trace import Trace

DATA_DIR = Path(__file__).resolve().parent / "data"
SAMPLES: tuple[str, ...] = ("mcm_iphone13",)
"""Names of the shipped traces."""


def sample_path(name: str) -> Path:
    """Path of the shipped trace ``name``."""
    if name not in SAMPLES:
        raise ValueError(f"unknown sample trace {name!r}; shipped: {list(SAMPLES)}")
    return DATA_DIR / f"{name}.npz"


def load_sample(name: str = "mcm_iphone13") -> Trace:
    """The shipped trace ``name`` (see the module docstring)."""
    return Trace.load(sample_path(name))
