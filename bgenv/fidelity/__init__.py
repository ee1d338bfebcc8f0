"""Platform fidelity: every numbered fact of PLATFORM_FACTS.md, how bgenv models it, and
what a small simulation of bgenv measures.

* :mod:`~bgenv.fidelity.facts`: the registry (:data:`ALL_FACTS`), one :class:`Fact` per
  row with its test and its experiment; :mod:`~bgenv.fidelity.measurement`: what an
  experiment returns and the statuses;
* the experiments by topic: :mod:`~bgenv.fidelity.android_quotas` (rows 1-15),
  :mod:`~bgenv.fidelity.android_job_rules` (17, 19, 22), :mod:`~bgenv.fidelity.android_doze`
  (23-26), :mod:`~bgenv.fidelity.android_push_alarms` (27-29, 33, 34, 37),
  :mod:`~bgenv.fidelity.android_conditions` (31, 32, 35, 36),
  :mod:`~bgenv.fidelity.ios_refresh` (38, 42, 43, 45), :mod:`~bgenv.fidelity.ios_processing`
  (39-41), :mod:`~bgenv.fidelity.ios_gates` (44, 46-50), :mod:`~bgenv.fidelity.observed`
  (O1-O9);
* what they share: :mod:`~bgenv.fidelity.scenarios` (the phones they run),
  :mod:`~bgenv.fidelity.policies` (the apps), :mod:`~bgenv.fidelity.analysis` (counts over
  rolling windows of time);
* :mod:`~bgenv.fidelity.report`: the Markdown document, written where the caller says.

Experiments run through the public API (``gym.make``, ``env.unwrapped.events`` read with
:mod:`bgenv.eventlog`, ``env.unwrapped.metrics()``), are deterministic (fixed seeds) and
cache their runs per process, so the tests and the document share one run of each.
"""

from bgenv.fidelity.facts import (
    ALL_FACTS,
    FACTS,
    MISSING_ROWS,
    MOVED_IN_ROWS,
    OBSERVED,
    TEST_FILE,
    Fact,
    fact,
    profile_request_types,
)
from bgenv.fidelity.measurement import (
    DIFFERS,
    MODELLED,
    NOT_MODELLED,
    NOT_YET,
    PARTIAL,
    STATUSES,
    Measurement,
)
from bgenv.fidelity.report import render, run, select, write
from bgenv.fidelity.scenarios import ios_env, ios_upload_env, make_env, quiet_android

__all__ = [
    "ALL_FACTS",
    "DIFFERS",
    "FACTS",
    "MISSING_ROWS",
    "MODELLED",
    "MOVED_IN_ROWS",
    "NOT_MODELLED",
    "NOT_YET",
    "OBSERVED",
    "PARTIAL",
    "STATUSES",
    "TEST_FILE",
    "Fact",
    "Measurement",
    "fact",
    "ios_env",
    "ios_upload_env",
    "make_env",
    "profile_request_types",
    "quiet_android",
    "render",
    "run",
    "select",
    "write",
]
