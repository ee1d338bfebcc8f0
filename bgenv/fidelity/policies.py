"""The apps the fidelity experiments simulate: small policies and probes.

A policy here is a ``decide(env, obs, info) -> action`` function for
:func:`bgenv.rollout.rollout`; actions are chosen by meaning through
:class:`bgenv.envs.actions.ActionTable`. :func:`keeper` keeps one request pending at
every decision (the app most experiments need), :func:`refresh_app` resubmits a
refresh request and may let its windows expire, :func:`idle` never asks for anything,
:func:`first_submission` submits one request at reset and reads back what the OS made
of it. :func:`feature` and :func:`backlog` read the observation by name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bgenv.envs.actions import ActionTable
from bgenv.envs.spaces import backlog_units
from bgenv.eventlog import Event, of_kind
from bgenv.rollout import Decide

# Decision phases inside a window (the app may work in chunks).
IN_WINDOW = ("window_start", "chunk_done")


def feature(env: Any, obs: np.ndarray, name: str) -> float:
    """The observation feature ``name`` (``env.observation_names``)."""
    return float(obs[env.observation_names.index(name)])


def backlog(env: Any, obs: np.ndarray, kind: str) -> float:
    """Pending units of work kind ``kind`` read from the observation (log1p(units)/log1p(1000))."""
    return float(backlog_units(feature(env, obs, f"backlog_{kind}")))


def idle(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
    """Never request anything; report completion at once in any window."""
    return [0, 0, 0, 0]


def keeper(
    env: Any,
    label: str,
    *,
    delay_s: float = 0.0,
    first_delay_s: float | None = None,
    work: tuple[str, float] | None = None,
) -> Decide:
    """Keep a request of option ``label`` pending at every decision (submitted with
    ``delay_s``, the first one with ``first_delay_s``); inside windows, work in chunks
    of ``work = (kind, units)`` while there is enough of it (until the window ends),
    else report completion at once."""
    table = ActionTable.from_env(env)
    opt = table.option(label)
    pending = env.observation_names.index(f"pending_slot{table.slot(opt)}")
    state = {"first": True}

    def policy(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        req, d = 0, 0
        if obs[pending] == 0.0:
            req = opt
            wait = first_delay_s if (state["first"] and first_delay_s is not None) else delay_s
            d = table.delay(wait)
            state["first"] = False
        if info["phase"] in IN_WINDOW and work is not None:
            kind, units = work
            if backlog(env, obs, kind) >= units + 1.0:
                return [req, d, table.chunk(units), table.kind(kind)]
        return [req, d, 0, 0]

    return policy


def refresh_app(env: Any, *, expiring: bool) -> Decide:
    """Resubmit a refresh request at every decision; an ``expiring`` app works in 20-unit
    heavy chunks while there is enough work (so its windows expire), else it saves one
    1-unit heavy chunk and reports completion (a window that did some work: an empty one
    earns the OS's trust no more than an expiry does, ``scheduler.history_event``)."""
    table = ActionTable.from_env(env)
    opt = table.option("refresh")
    work = [opt, 0, table.chunk(20.0), table.kind("heavy")]
    a_little = [opt, 0, table.chunk(1.0), table.kind("heavy")]

    def policy(env: Any, obs: np.ndarray, info: dict[str, Any]) -> list[int]:
        if expiring and info["phase"] in IN_WINDOW and backlog(env, obs, "heavy") >= 21.0:
            return work
        if not expiring and info["phase"] == "window_start" and backlog(env, obs, "heavy") >= 2.0:
            return a_little
        return [opt, 0, 0, 0]

    return policy


def first_submission(env: Any, label: str, delay_s: float) -> Event:
    """Reset (seed 0), submit ``label`` with ``delay_s`` at t0; the request or refusal logged."""
    table = ActionTable.from_env(env)
    _, info = env.reset(seed=0)
    t0 = info["t"]
    env.step(np.array([table.option(label), table.delay(delay_s), 0, 0]))
    return next(e for e in of_kind(env.events, "request", "refused") if e["t"] == t0)
