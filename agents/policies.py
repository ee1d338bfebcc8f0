"""Hand-written scheduling policies behind one small interface.

A policy maps an observation (``[D]``) or a batch of observations (``[N, D]``) to
actions (``[4]`` or ``[N, 4]``) of the env's MultiDiscrete space: request option,
delay bin, chunk bin (0 = stop and report completion), work kind (0 = auto).
Policies read observations by feature name (``bgenv.envs.spaces.OBSERVATION_NAMES``)
and pick request options by their labels, so they work on any profile that offers
the request types they use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bgenv.envs.spaces import OBSERVATION_NAMES

F = {name: i for i, name in enumerate(OBSERVATION_NAMES)}
WORK_KINDS = ("sync", "upload", "refresh", "heavy")


@dataclass(frozen=True)
class ActionContext:
    """What a policy needs to know about an env's action space."""

    platform: str
    option_labels: tuple[str, ...]
    delay_bins_s: tuple[float, ...]
    chunk_bins_units: tuple[float, ...]  # index 0 is "stop"
    nvec: tuple[int, ...]

    @classmethod
    def from_env(cls, env) -> ActionContext:
        u = env.unwrapped
        cp = u.params
        return cls(cp.platform, cp.option_labels, cp.delay_bins_s, cp.chunk_bins_units, tuple(int(x) for x in cp.nvec))

    def option(self, label: str) -> int:
        """Index of a request option by label (``refresh``, ``job+network``, ...); 0 if absent."""
        return self.option_labels.index(label) if label in self.option_labels else 0

    def delay(self, seconds: float) -> int:
        """Index of the largest delay bin not above ``seconds``."""
        idx = 0
        for i, d in enumerate(self.delay_bins_s):
            if d <= seconds:
                idx = i
        return idx

    def chunk(self, units: float) -> int:
        """Index of the largest chunk bin not above ``units`` (at least the smallest chunk)."""
        idx = 1
        for i, c in enumerate(self.chunk_bins_units[1:], start=1):
            if c <= units:
                idx = i
        return idx


class Policy:
    """Observation -> action. Subclasses implement ``_act_one``; batches are mapped row by row
    unless a subclass vectorises."""

    name = "policy"

    def __init__(self, ctx: ActionContext, seed: int | None = None) -> None:
        self.ctx = ctx
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        obs = np.asarray(obs)
        if obs.ndim == 1:
            return self._act_one(obs, mask)
        masks = [None] * len(obs) if mask is None else mask
        return np.stack([self._act_one(o, m) for o, m in zip(obs, masks)])

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    # helpers shared by the rule-based policies
    @staticmethod
    def phase(o: np.ndarray) -> str:
        if o[F["phase_window"]] > 0.5:
            return "window_start"
        if o[F["phase_chunk"]] > 0.5:
            return "chunk_done"
        return "background"

    @staticmethod
    def window_elapsed_s(o: np.ndarray) -> float:
        return float(o[F["window_elapsed"]]) * 600.0

    @staticmethod
    def backlog(o: np.ndarray, kind: str) -> bool:
        return o[F[f"backlog_{kind}"]] > 0.0

    @staticmethod
    def has_net(o: np.ndarray) -> bool:
        return o[F["net_none"]] < 0.5


class RandomPolicy(Policy):
    """Uniform over the choices the action mask allows (over the whole space without a mask)."""

    name = "random"

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        out = np.zeros(4, dtype=np.int64)
        start = 0
        for d, n in enumerate(self.ctx.nvec):
            if mask is None:
                out[d] = self.rng.integers(n)
            else:
                ok = np.flatnonzero(mask[start : start + n])
                out[d] = self.rng.choice(ok) if len(ok) else 0
            start += n
        return out


class FixedIntervalPolicy(Policy):
    """The "run every 15 minutes, big chunks" anti-pattern: every decision asks for the
    main request type 15 min out and works in the biggest chunks until the OS stops it.
    (Seeds 001 and 004 warn against treating background time as a timer.)"""

    name = "fixed-interval"

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        req = self.ctx.option("refresh") if self.ctx.platform == "ios" else self.ctx.option("job+network")
        chunk = len(self.ctx.chunk_bins_units) - 1
        if self.phase(o) == "background":
            return np.array([req, self.ctx.delay(900), 0, 0])
        return np.array([0, 0, chunk, 0])


class GreedyPolicy(Policy):
    """Ask as soon as possible, every time, with the biggest chunks and never stop early."""

    name = "greedy"

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        ios = self.ctx.platform == "ios"
        req = self.ctx.option("refresh") if ios else self.ctx.option("expedited+network")
        chunk = len(self.ctx.chunk_bins_units) - 1
        if self.phase(o) == "background":
            return np.array([req, 0, 0, 0])
        if not any(self.backlog(o, k) for k in WORK_KINDS):
            return np.array([req, 0, 0, 0])
        return np.array([req, 0, chunk, 0])


class ChargingOnlyPolicy(Policy):
    """Defer everything to the charger: request processing / jobs that require external
    power, then work through the backlog in moderate chunks (seed 002: heavy work while
    the phone charges)."""

    name = "charging-only"

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        ios = self.ctx.platform == "ios"
        req = self.ctx.option("processing+network+power") if ios else self.ctx.option("job+network+power")
        if self.phase(o) == "background":
            pending = o[F["pending_slot1" if ios else "pending_slot0"]] > 0.5
            return np.array([0 if pending else req, 0, 0, 0])
        if not any(self.backlog(o, k) for k in WORK_KINDS) or self.window_elapsed_s(o) > 0.8 * self._budget():
            return np.array([0, 0, 0, 0])
        return np.array([0, 0, self.ctx.chunk(50), 0])

    def _budget(self) -> float:
        return 900.0 if self.ctx.platform == "ios" else 600.0


class GuidelinesPolicy(Policy):
    """The platforms' published best practice, as one rule set.

    * Request when the app goes to the background (seed 002: "schedule in
      sceneDidEnterBackground"), resubmitting at the start of each window so a next
      window is always pending.
    * Heavy work as processing / jobs that require external power (seeds 002, 004).
    * Small checkpointed chunks sized to stay well under the background memory limit
      and to fit the window (seed 002: "break work into chunks, save progress").
    * Stop and report completion before the expected expiry: ~20 s into a ~30 s iOS
      refresh, with margin in longer windows (seed 002: always call setTaskCompleted).
    * Back off after failures: after an expiration, kill or failed chunk, ask later,
      doubling with each recent failure (seed 004: exponential backoff).
    * Batch network work: on cellular, sync and refresh only; uploads wait for Wi-Fi
      (seeds 001, 004: prefer unmetered networks for bulk transfers).
    """

    name = "guidelines"
    REFRESH_STOP_S = 20.0  # row 38: ~30 s, with early expiries; keep a safety margin
    LONG_STOP_FRACTION = 0.8

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        ios = self.ctx.platform == "ios"
        ph = self.phase(o)
        failures = o[F["recent_expirations"]] + o[F["recent_kills"]] + o[F["recent_failed_chunks"]]
        # backoff: 0, 15 min, 30 min, 1 h ... as recent failures accumulate (x/(x+5) scale)
        level = int(min(4, round(failures / 0.1667)))
        # user edits sync promptly; everything else waits at least 15 min (Apple's sample
        # code and WorkManager's periodic minimum, row 19), doubling after failures
        base = 0.0 if self.backlog(o, "sync") else 900.0
        delay = self.ctx.delay(max(base, 0.0 if level == 0 else 900.0 * 2 ** (level - 1)))
        heavy = self.backlog(o, "heavy")
        if ios:
            main, main_slot = self.ctx.option("refresh"), "pending_slot0"
            power, power_slot = self.ctx.option("processing+power"), "pending_slot1"
        else:
            main, main_slot = self.ctx.option("job+network"), "pending_slot0"
            power, power_slot = self.ctx.option("expedited+network"), "pending_slot1"
            if heavy:
                power = self.ctx.option("job+power")
                main_slot = "pending_slot0"
        req = 0
        if ios and heavy and o[F[power_slot]] < 0.5:
            req = power
        elif o[F[main_slot]] < 0.5:
            req = main
        elif not ios and heavy and o[F["pending_slot0"]] < 0.5:
            req = self.ctx.option("job+power")
        if ph == "background":
            return np.array([req, delay, 0, 0])
        # inside a window
        elapsed = self.window_elapsed_s(o)
        wtype = "refresh" if o[F["window_refresh"]] > 0.5 else "long"
        budget = 30.0 if wtype == "refresh" else (900.0 if ios else 600.0)
        stop_at = self.REFRESH_STOP_S if wtype == "refresh" else self.LONG_STOP_FRACTION * budget
        kind = self._kind(o)
        if kind == 0 or elapsed >= stop_at:
            return np.array([req, delay, 0, 0])
        units = self._chunk_units(kind, wtype, stop_at - elapsed, ios)
        return np.array([req if ph == "window_start" else 0, delay, self.ctx.chunk(units), kind])

    def _kind(self, o: np.ndarray) -> int:
        """Work kind to run next (1-based as in the action), 0 = nothing sensible."""
        net = self.has_net(o)
        wifi = o[F["net_wifi"]] > 0.5
        charging = o[F["charging"]] > 0.5
        if net and self.backlog(o, "sync"):
            return 1
        if net and self.backlog(o, "refresh"):
            return 3
        if wifi and self.backlog(o, "upload"):
            return 2
        if self.backlog(o, "heavy") and (charging or o[F["window_processing"]] > 0.5):
            return 4
        return 0

    @staticmethod
    def _chunk_units(kind: int, wtype: str, time_left_s: float, ios: bool) -> float:
        # seconds per unit (configs/defaults.yaml) and an iOS-safe memory bound of ~45 MB
        sec = {1: 2.0, 2: 1.5, 3: 1.0, 4: 1.0}[kind]
        mem_cap = {1: 40.0, 2: 13.0, 3: 10.0, 4: 100.0}[kind] if ios else {1: 100.0, 2: 100.0, 3: 50.0, 4: 300.0}[kind]
        fit = max(1.0, (time_left_s * 0.5) / sec)  # a chunk uses at most half of the time left
        return min(fit, mem_cap)


POLICIES: dict[str, type[Policy]] = {
    p.name: p for p in (RandomPolicy, FixedIntervalPolicy, ChargingOnlyPolicy, GreedyPolicy, GuidelinesPolicy)
}


def make_policy(name: str, env, seed: int | None = None) -> Policy:
    """A hand-written policy by name, bound to ``env``'s action space."""
    if name not in POLICIES:
        raise ValueError(f"unknown policy '{name}'; available: {', '.join(POLICIES)}")
    return POLICIES[name](ActionContext.from_env(env), seed=seed)
