"""User-model calibration: every row of USER_FACTS.md (U1-U22) against fleets of simulated
phones, as the spec ``docs/sources/user_model_targets_v1.md`` proposes (part (d) of each row).

* :mod:`~bgenv.calibration.fleet`: simulate a population (the batched env with event logs,
  one held-out seed per phone, an app that asks for nothing) and summarise each phone's
  log through :mod:`bgenv.eventlog`;
* :mod:`~bgenv.calibration.statistics`: the statistics by name (:data:`STATISTICS`);
* :mod:`~bgenv.calibration.report`: ``configs/calibration.yaml`` (rows, statistics, bands,
  populations, the default mix), the bootstrap intervals and ``docs/calibration.md``.
"""

from bgenv.calibration.report import CONFIG, DIFFERS, MATCHES, NOT_MEASURED, load, measure, render, row_status, run
from bgenv.calibration.statistics import STATISTICS

__all__ = [
    "CONFIG",
    "DIFFERS",
    "MATCHES",
    "NOT_MEASURED",
    "STATISTICS",
    "load",
    "measure",
    "render",
    "row_status",
    "run",
]
