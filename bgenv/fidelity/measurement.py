"""What an experiment returns: the :class:`Measurement` record and the statuses of a row.

Statuses:

* ``modelled``: the measurement agrees with the documented value.
* ``partial``: what bgenv models agrees; part of the fact is not modelled (said why).
* ``differs``: bgenv's behaviour differs from the documented value (a known mismatch
  or a simulator bug; the measured value says how).
* ``not modelled`` / ``not modelled yet``: no simulation; the reason is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MODELLED = "modelled"
PARTIAL = "partial"
DIFFERS = "differs"
NOT_MODELLED = "not modelled"
NOT_YET = "not modelled yet"
STATUSES = (MODELLED, PARTIAL, DIFFERS, NOT_MODELLED, NOT_YET)


@dataclass(frozen=True)
class Measurement:
    """What an experiment measured: ``value`` for the table, ``data`` for the tests."""

    value: str
    data: dict[str, Any] = field(default_factory=dict)
    status: str = MODELLED

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")


def agrees(ok: bool, *, otherwise: str = DIFFERS) -> str:
    """``modelled`` when the measurement agrees with the documented value, else ``otherwise``."""
    return MODELLED if ok else otherwise
