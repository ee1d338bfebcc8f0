"""Hand-written policies for ``bgenv/CrossPlatform-v1``: actions are a cross-platform
library's intents (``bgenv.envs.crossplatform.INTENT_NAMES``), not a platform's request
options, and one policy object answers a batch of iOS and Android devices at once.

``cross_guidelines`` is :class:`~agents.policies.GuidelinesPolicy` written in intents, so
that comparing the two on the same seeds measures what the common API costs
(docs/platforms.md, "One policy for both platforms"). ``cross_random`` is uniform over the intent
choices the mask allows.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from agents.policies import GuidelinesPolicy, Policy, RandomPolicy
from bgenv.envs.actions import ActionTable
from bgenv.envs.crossplatform import EXTRA_OBSERVATION_NAMES
from bgenv.envs.spaces import OBSERVATION_NAMES

PLATFORM_ANDROID = len(OBSERVATION_NAMES) + EXTRA_OBSERVATION_NAMES.index("platform_android")


class _GuidelinesInIntents(GuidelinesPolicy):
    """:class:`GuidelinesPolicy` for one platform, choosing intents: its request rules
    pick the intent that the library maps onto the option ``guidelines`` picks (same
    request slot, so its "is it pending" checks read the same features); the work rules
    (kind, chunk, stop time) are unchanged. ``ctx`` is the intent table with ``platform``
    set to the platform these rows run."""

    def __init__(self, ctx: ActionTable, seed: int | None = None) -> None:
        super().__init__(ctx, seed)
        o = ctx.option
        self.opt_transfer = 0
        self.opt_uidt = 0
        if self.ios:
            self.opt_refresh = o("periodic_fetch")  # BGAppRefreshTask, as guidelines' refresh
            self.opt_processing = o("task+charging")  # processing+power
            self.opt_push = 0  # no intent: a silent push is the server's, no library maps it
            # guidelines' transfer+wifi: the library's transfer is the plain one (cellular allowed)
            self.opt_transfer = o("transfer") if self.USE_TRANSFERS else 0
        else:
            self.opt_periodic = o("periodic_fetch")  # periodic+job+network
            self.opt_expedited = o("urgent")  # expedited+network
            self.opt_power_job = o("task+charging")  # job+power
            self.opt_job = o("task")
            self.opt_uidt = o("transfer") if (self.USE_TRANSFERS and self.USE_UIDT) else 0


class CrossGuidelinesPolicy(Policy):
    """``guidelines`` (``agents.policies.GuidelinesPolicy``: every rule and source there)
    with the requests a cross-platform library offers.

    Each row is answered by the platform's own rules, read from the ``platform_android``
    feature, as an app on a cross-platform library branches on ``Platform.OS``:

    * iOS: periodic fetch 15 min out (``refresh``), a one-off task that needs charging kept
      pending (``processing+power``), uploads as a large transfer when the user leaves the
      app; guidelines' silent pushes have no intent (the server sends them, per platform)
      and are left out, and the transfer is the library's plain one (cellular allowed),
      not guidelines' Wi-Fi-only one.
    * Android: periodic fetch at the bucket's period (``periodic+job+network``), the user's
      edits as urgent work (``expedited+network``), a one-off task that needs charging
      (``job+power``): the same requests as ``guidelines``.

    Inside a window (which kind, chunk size, when to stop) the rules are ``guidelines``',
    unchanged. Vectorised: one pass per platform over the rows of that platform.
    """

    name = "cross_guidelines"

    def __init__(self, ctx: ActionTable, seed: int | None = None) -> None:
        super().__init__(ctx, seed)
        self.rules = {p: _GuidelinesInIntents(dataclasses.replace(ctx, platform=p), seed) for p in ("ios", "android")}

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return self.act(o, mask)

    def act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Intent actions ``[4]`` for one observation ``[D]``, or ``[N, 4]`` for a batch."""
        obs = np.asarray(obs)
        single = obs.ndim == 1
        o = np.atleast_2d(obs).astype(np.float64)
        m = None if mask is None else np.atleast_2d(np.asarray(mask)).astype(bool)
        out = np.zeros((len(o), 4), dtype=np.int64)
        android = o[:, PLATFORM_ANDROID] > 0.5
        for platform, rows in (("ios", ~android), ("android", android)):
            if rows.any():
                out[rows] = self.rules[platform]._act_batch(o[rows], None if m is None else m[rows])
        return out[0] if single else out


class CrossRandomPolicy(RandomPolicy):
    """Uniform over the intent choices the mask allows (the chance baseline in intents)."""

    name = "cross_random"


INTENT_POLICIES: dict[str, type[Policy]] = {p.name: p for p in (CrossGuidelinesPolicy, CrossRandomPolicy)}


def make_intent_policy(name: str, env: Any, seed: int | None = None) -> Policy:
    """An intent policy by name, bound to a ``bgenv/CrossPlatform-v1`` env (single or batched)."""
    if name not in INTENT_POLICIES:
        raise ValueError(f"unknown intent policy {name!r}; available: {', '.join(INTENT_POLICIES)}")
    table = getattr(env.unwrapped, "action_table", None)
    if table is None:
        raise ValueError(f"intent policy {name!r} needs a bgenv/CrossPlatform-v1 env (its intent action table)")
    return INTENT_POLICIES[name](table, seed=seed)
