"""Choosing actions by what they mean: the one action picker.

An env's action is ``MultiDiscrete([request, delay, chunk, work_kind])`` whose choices
depend on the scenario's profile (which request options it offers, its delay and chunk
bins). :class:`ActionTable` maps meanings to indices, so hand-written policies,
experiments and tests say ``table.option("job+network")`` or ``table.chunk(20)`` and
work on any profile that offers what they use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bgenv.core import layout as L
from bgenv.core.params import CompiledParams
from bgenv.envs.spaces import ACTION_PARTS, WORK_KIND_CHOICES

STOP = 0  # chunk choice 0: stop and report completion
AUTO = 0  # work-kind choice 0: the simulator picks the kind


@dataclass(frozen=True)
class ActionTable:
    """The meaning of every choice of an env's action space.

    Attributes:
        platform: ``"ios"`` or ``"android"``; ``"cross"`` for the intents of
            ``bgenv/CrossPlatform-v1`` (``bgenv.envs.crossplatform``).
        option_labels: request options (or intents); index 0 is ``"none"`` (no request).
        option_slots: the request slot (task identifier) each option uses; -1 for ``"none"``.
        delay_bins_s: earliest-begin delay of each delay choice, s.
        chunk_bins_units: work units of each chunk choice; index 0 is "stop and report
            completion".
        nvec: sizes of the action parts (``ACTION_PARTS``).
    """

    platform: str
    option_labels: tuple[str, ...]
    option_slots: tuple[int, ...]
    delay_bins_s: tuple[float, ...]
    chunk_bins_units: tuple[float, ...]
    nvec: tuple[int, ...]

    @classmethod
    def from_params(cls, cp: CompiledParams) -> ActionTable:
        """The table of a compiled scenario."""
        slots = (-1, *(int(cp.pf[L.P_OPT_SLOT + j]) for j in range(1, cp.n_options)))
        return cls(
            cp.platform,
            cp.option_labels,
            slots,
            cp.delay_bins_s,
            cp.chunk_bins_units,
            tuple(int(x) for x in cp.nvec),
        )

    @classmethod
    def from_env(cls, env: Any) -> ActionTable:
        """The table of an env (single or batched, wrapped or not): its ``action_table``
        when it has one (``bgenv/CrossPlatform-v1``: the intents), else its profile's."""
        u = env.unwrapped
        table = getattr(u, "action_table", None)
        return table if table is not None else cls.from_params(u.params)

    # -- request ---------------------------------------------------------------------
    def has(self, label: str) -> bool:
        """Whether the profile offers the request option ``label``."""
        return label in self.option_labels

    def option(self, label: str) -> int:
        """Index of the request option ``label`` (``"refresh"``, ``"job+network"``, ...);
        a ValueError naming the offered options when the profile has no such option."""
        if label not in self.option_labels:
            raise ValueError(f"no request option {label!r}; this profile offers {list(self.option_labels)}")
        return self.option_labels.index(label)

    def option_or_none(self, label: str) -> int:
        """Index of the request option ``label``, or 0 (no request) when it is not offered."""
        return self.option_labels.index(label) if label in self.option_labels else 0

    def slot(self, option: int) -> int:
        """The request slot (task identifier) request option ``option`` uses."""
        if not 0 < option < len(self.option_labels):
            raise ValueError(f"option {option} is not a request (1..{len(self.option_labels) - 1})")
        return self.option_slots[option]

    # -- delay -----------------------------------------------------------------------
    def delay(self, seconds: float) -> int:
        """Index of the delay bin of exactly ``seconds``; a ValueError when there is none."""
        if float(seconds) not in self.delay_bins_s:
            raise ValueError(f"no delay bin of {seconds:g} s; bins are {self.delay_bins_s}")
        return self.delay_bins_s.index(float(seconds))

    def delay_at_most(self, seconds: float) -> int:
        """Index of the largest delay bin not above ``seconds`` (0 when all are)."""
        idx = 0
        for i, d in enumerate(self.delay_bins_s):
            if d <= seconds:
                idx = i
        return idx

    def delay_at_least(self, seconds: float) -> int:
        """Index of the smallest delay bin not below ``seconds`` (the largest bin if none is)."""
        for i, d in enumerate(self.delay_bins_s):
            if d >= seconds:
                return i
        return len(self.delay_bins_s) - 1

    # -- chunk -----------------------------------------------------------------------
    def chunk(self, units: float) -> int:
        """Index of the chunk bin of exactly ``units`` work units; a ValueError when there is none."""
        if float(units) not in self.chunk_bins_units[1:]:
            raise ValueError(f"no chunk bin of {units:g} units; bins are {self.chunk_bins_units[1:]}")
        return self.chunk_bins_units.index(float(units), 1)

    def chunk_at_most(self, units: float) -> int:
        """Index of the largest chunk bin not above ``units`` (at least the smallest chunk)."""
        idx = 1
        for i, c in enumerate(self.chunk_bins_units[1:], start=1):
            if c <= units:
                idx = i
        return idx

    # -- work kind -------------------------------------------------------------------
    @staticmethod
    def kind(name: str) -> int:
        """Index of the work-kind choice ``name`` (``"auto"``, ``"sync"``, ``"upload"``, ...)."""
        return WORK_KIND_CHOICES.index(name)

    def action(
        self, request: str | int = 0, delay_s: float = 0.0, chunk: float | int = STOP, kind: str = "auto"
    ) -> np.ndarray:
        """An action array from meanings: request option label (or index), delay in s
        (a bin value), chunk in work units (``STOP``/0 to stop and report completion)
        and work kind name."""
        req = self.option(request) if isinstance(request, str) else int(request)
        ch = STOP if chunk == STOP else self.chunk(chunk)
        return np.array([req, self.delay(delay_s), ch, self.kind(kind)], dtype=np.int64)


__all__ = ["ACTION_PARTS", "AUTO", "STOP", "ActionTable"]
