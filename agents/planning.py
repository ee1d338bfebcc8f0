"""Planning on copies of the simulator: the ``oracle`` and ``planner`` reference policies.

At every decision of a device the policy scores a small set of candidate actions by
rolling out copies of the simulator from that very state: the candidate first, then the
base policy (``guidelines``) for ``lookahead_h`` simulated hours (or to the episode's
end), and takes the candidate with the highest summed reward over the lookahead
(undiscounted). The copies of every device and candidate run side by side as one batch of
a planning :class:`~bgenv.core.sim.Simulator` (``Simulator.load_devices``), stepped
together with one vectorised call of the base policy per step.

* ``oracle`` rolls out exact copies: the same random streams, so it knows the user's
  future (next app opens, charging, network, work arrivals) and the OS's draws. What it
  gets is an upper bound, in practice, on what a policy acting on observations can get
  (not a proof: a one-step lookahead over a base policy is not the optimum).
* ``planner`` rolls out ``samples`` copies whose random streams (both: the user's world
  and the OS's draws, which an app cannot know either) are re-drawn from fresh seeds,
  and averages: model-predictive control with the true model but no knowledge of the
  future. In each future the user's and the OS's random clocks (the next app open,
  screen session, daytime plug-in, work arrival, network change, the launch of each
  pending request) are re-drawn from what has happened so far (``Simulator.forget``:
  exact for the memoryless clocks, the Weibull tail for the gap since the screen went
  off), so the planner does not know when they will fire. Times the simulator schedules
  deterministically once drawn (the end of the current screen or app session or network
  drop, tonight's bedtime, the end of a charge) stay in the copies: the planner knows
  that much of the future, no more. Until ``clocks=keep`` became a knob the planner kept
  every clock as drawn, so it knew each one's next firing (the next app open among them);
  figures measured that way say ``clocks=keep``. All candidates of a device share the
  same ``samples`` futures (common random numbers), so their differences are not drowned
  in the futures' spread. With few futures the best of ~20 noisy estimates is
  biased upwards (the winner's curse: measured, a planner taking the plain argmax did
  worse than ``guidelines``), so the planner leaves the base action only for a candidate
  whose mean gain over it, paired future by future, exceeds ``margin_se`` standard
  errors.

Candidates (all unmasked, duplicates dropped, the base policy's own action always first,
so ties and a one-candidate set reproduce ``guidelines`` exactly):

* at a ``background`` decision: no request, and each offered request option with each
  delay of ``delays_s`` (rounded up to a delay bin);
* in a window (``window_start``, ``chunk_done``): the base policy's request with "stop
  and report completion", or with a chunk of each size of ``chunks_units`` (the largest
  bin not above it) of auto work kind.

``candidates="guidelines"`` keeps the base action only (no rollouts: ``guidelines``).

The policies need the simulator, not only observations: the rollout loops
(``bgenv.rollout.rollout`` and ``rollout_batch``) call ``policy.bind(env)`` before the
episode; ``act(obs, mask)`` then plans for every device of the bound env (``obs`` holds
one row per device, in order). Deterministic given ``seed`` (``reset(seed)``).

Use: ``bgenv compare --policies guidelines,planner,oracle``, ``bgenv eval --policy
oracle``, ``bgenv timeline --policy planner``. Knobs in a spec, ``:``-separated:
``planner:lookahead_h=24:samples=8``, ``oracle:delays_s=0/900/3600`` (``/`` separates list
values); knobs ``lookahead_h``, ``samples``, ``delays_s``, ``chunks_units``,
``candidates``, ``margin_se``, ``battery_price``, ``clocks``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from agents.policies import F, GuidelinesPolicy
from bgenv.core import layout as L
from bgenv.core.kernel import write_masks_batch
from bgenv.core.rng import stream_states
from bgenv.core.sim import Simulator
from bgenv.envs.actions import ActionTable

LOOKAHEAD_H = {"oracle": 12.0, "planner": 6.0}  # default lookahead, simulated hours (measured: docs/results.md)
SAMPLES = 8  # default re-seeded futures per candidate (planner)
DELAYS_S = (0.0, 3600.0)  # default delays tried with each request option at a background decision, s
CHUNKS_UNITS = (5.0, 20.0, 100.0)  # default chunk sizes tried in a window, work units
MARGIN_SE = 1.0  # planner: leave the base action only for a gain above this many standard errors


class PlanningPolicy:
    """Scores candidate actions by rollouts on copies of the bound env's simulator.

    Args:
        ctx: the env's action table.
        seed: seeds the re-drawn futures (``planner``); unused by ``oracle``.
        exact: True rolls out exact copies (``oracle``), False re-seeded ones (``planner``).
        lookahead_h: simulated hours each rollout runs after the decision (it stops at
            the first decision at or past that time, or at the episode's end); default
            12 for ``oracle``, 6 for ``planner`` (measured: longer lookaheads gained the
            oracle little and made the planner's estimates noisier).
        samples: re-seeded futures averaged per candidate (``planner``; ``oracle`` uses 1).
        delays_s: delays (s) tried with each request option at a ``background`` decision.
        chunks_units: chunk sizes (work units) tried in a window, besides stopping.
        candidates: ``"full"`` (the set above) or ``"guidelines"`` (the base action only).
        margin_se: ``planner``: a candidate replaces the base action only when its mean
            paired gain exceeds this many standard errors (0: plain argmax). ``oracle``
            (one exact future) takes the plain argmax.
        battery_price: an extra price the plan puts on battery, reward units per % of a
            full battery drawn by background work off the charger (the episode's
            ``battery_cost``), added to the reward's own ``battery_per_pct`` while
            choosing; 0 plans on the reward alone. With it the planners trace how much
            reward they give up to spend less battery (the results' battery-constrained
            headroom); the reward they are scored on is unchanged.
        clocks: ``planner``: ``"redraw"`` (default) re-draws, in each future, when the
            user's and the OS's random clocks fire next (the next app open, screen
            session, plug-in, work arrival, network change, launch of a pending request)
            from what has happened so far (``Simulator.forget``); ``"keep"`` keeps the
            times already drawn in the state, so the planner knows each clock's next
            firing (the planner before that knob existed: the figures measured with it
            say so).
    """

    NAMES: ClassVar[tuple[str, ...]] = ("oracle", "planner")

    def __init__(
        self,
        ctx: ActionTable,
        seed: int | None = None,
        *,
        exact: bool,
        lookahead_h: float | None = None,
        samples: int = SAMPLES,
        delays_s: tuple[float, ...] = DELAYS_S,
        chunks_units: tuple[float, ...] = CHUNKS_UNITS,
        candidates: str = "full",
        margin_se: float = MARGIN_SE,
        battery_price: float = 0.0,
        clocks: str = "redraw",
    ) -> None:
        if candidates not in ("full", "guidelines"):
            raise ValueError(f"candidates must be 'full' or 'guidelines'; got {candidates!r}")
        if clocks not in ("redraw", "keep"):
            raise ValueError(f"clocks must be 'redraw' or 'keep'; got {clocks!r}")
        self.name = "oracle" if exact else "planner"
        lookahead_h = LOOKAHEAD_H[self.name] if lookahead_h is None else lookahead_h
        if lookahead_h <= 0 or samples < 1:
            raise ValueError(f"lookahead_h must be > 0 and samples >= 1; got {lookahead_h}, {samples}")
        self.ctx = ctx
        self.exact = exact
        self.lookahead_h = float(lookahead_h)
        self.samples = 1 if exact else int(samples)
        self.candidates = candidates
        self.margin_se = float(margin_se)
        self.battery_price = float(battery_price)
        self.clocks = clocks
        self.base = GuidelinesPolicy(ctx)
        self.rng = np.random.default_rng(seed)
        self.sim: Simulator | None = None
        self._plan: Simulator | None = None
        nvec = list(ctx.nvec)
        self._starts = np.cumsum([0, *nvec[:-1]])
        self._delays = sorted({ctx.delay_at_least(d) for d in delays_s})
        self._chunks = sorted({ctx.chunk_at_most(c) for c in chunks_units})
        self.rollouts = 0  # rollouts run so far (for measurements)
        self.decisions = 0  # device decisions planned so far (with 2+ candidates)

    # -- the hooks of the rollout loops --------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def bind(self, env: Any) -> None:
        """Plan on ``env``'s simulator (a single or batched bgenv env, wrapped or not)."""
        self.sim = env.unwrapped.sim
        self._plan = None

    # -- acting --------------------------------------------------------------------
    def act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Actions ``[4]`` for the one device of a single env, or ``[N, 4]`` for the ``N``
        devices of a batched env (``obs`` row ``i`` is device ``i``'s observation)."""
        if self.sim is None:
            raise RuntimeError(f"{self.name} plans on the env's simulator: call bind(env) before act()")
        obs = np.asarray(obs)
        single = obs.ndim == 1
        o = np.atleast_2d(obs)
        if o.shape[0] != self.sim.num:
            raise ValueError(f"{self.name}: got {o.shape[0]} observations for a bound env of {self.sim.num} devices")
        m = np.atleast_2d(np.asarray(mask, dtype=bool)) if mask is not None else self._masks(self.sim, None)
        base = self.base.act(o, m)
        out = base.copy()
        if self.candidates == "full":
            cands = [self._candidates(o[i], m[i], base[i]) for i in range(len(o))]
            multi = [i for i, c in enumerate(cands) if len(c) > 1]
            if multi:
                out[multi] = self._choose([(i, cands[i]) for i in multi])
        return out[0] if single else out

    def _candidates(self, o: np.ndarray, m: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Candidate actions ``[k, 4]`` of one device, the base action first."""
        rows = [base]
        s0, s1, s2 = self._starts[0], self._starts[1], self._starts[2]
        if o[F["phase_background"]] > 0.5:
            rows.append(np.zeros(4, dtype=np.int64))
            for opt in range(1, self.ctx.nvec[0]):
                if not m[s0 + opt]:
                    continue
                for d in self._delays:
                    if m[s1 + d]:
                        rows.append(np.array([opt, d, 0, 0], dtype=np.int64))
        elif o[F["phase_window"]] > 0.5 or o[F["phase_chunk"]] > 0.5:
            rows.append(np.array([base[0], base[1], 0, 0], dtype=np.int64))
            for c in self._chunks:
                if m[s2 + c] and m[self._starts[3]]:
                    rows.append(np.array([base[0], base[1], c, 0], dtype=np.int64))
        out = np.stack(rows)
        _, first = np.unique(out, axis=0, return_index=True)
        return out[np.sort(first)]

    def _choose(self, work: list[tuple[int, np.ndarray]]) -> np.ndarray:
        """The best candidate of each ``(device, candidates)``: highest mean lookahead
        reward over the futures, the first (the base action) on ties."""
        sim = self.sim
        assert sim is not None
        ms = self.samples
        src, first, pair = [], [], []
        for j, (i, c) in enumerate(work):
            k = len(c)
            src.append(np.full(k * ms, i))
            first.append(np.repeat(c, ms, axis=0))
            pair.append(j * ms + np.tile(np.arange(ms), k))  # the future each rollout lives in
        src_a = np.concatenate(src)
        first_a = np.concatenate(first)
        states = None
        if not self.exact:
            seeds = self.rng.integers(0, 2**63, size=len(work) * ms)
            states = np.stack([stream_states(int(s)) for s in seeds])[np.concatenate(pair)]
        total = self._rollouts(src_a, first_a, states)
        self.rollouts += len(src_a)
        self.decisions += len(work)
        out = np.empty((len(work), 4), dtype=np.int64)
        pos = 0
        for j, (_, c) in enumerate(work):
            n = len(c) * ms
            r = total[pos : pos + n].reshape(len(c), ms)
            gain = r - r[0]  # paired with the base action in the same future
            mean = gain.mean(axis=1)
            if ms > 1 and self.margin_se > 0:
                se = gain.std(axis=1, ddof=1) / np.sqrt(ms)
                mean = np.where(mean > self.margin_se * se, mean, 0.0)
            out[j] = c[int(np.argmax(mean))]  # the base action (index 0, gain 0) unless one beats it
            pos += n
        return out

    def _rollouts(self, src: np.ndarray, first: np.ndarray, states: np.ndarray | None) -> np.ndarray:
        """Summed reward of each rollout (less ``battery_price`` per % of battery cost): a
        copy of device ``src[r]`` of the bound simulator (random streams set to
        ``states[r]`` when given) takes ``first[r]``, then follows the base policy until
        ``lookahead_h`` has passed or the episode ends."""
        sim = self.sim
        assert sim is not None
        n = len(src)
        plan = self._plan
        if plan is None or plan.num < n:
            plan = self._plan = Simulator(sim.params, max(n, 2 * (plan.num if plan else 0)), False, threads=False)
        idx = np.arange(n, dtype=np.int64)
        plan.load_devices(sim, src, idx)
        if states is not None:
            plan.set_streams(idx, states)
            if self.clocks == "redraw":
                plan.forget(idx)
        t_end = plan.sf[idx, L.S_T] + self.lookahead_h * 3600.0
        plan.step(first, idx)
        price = 100.0 * self.battery_price  # per fraction of a full battery
        total = plan.sf[idx, L.S_REWARD] - price * plan.sf[idx, L.S_COST]
        active = idx[(plan.si[idx, L.I_DONE] == 0) & (plan.sf[idx, L.S_T] < t_end)]
        while active.size:
            actions = self.base.act(plan.obs[active], self._masks(plan, active))
            plan.step(actions, active)
            total[active] += plan.sf[active, L.S_REWARD] - price * plan.sf[active, L.S_COST]
            active = active[(plan.si[active, L.I_DONE] == 0) & (plan.sf[active, L.S_T] < t_end[active])]
        return total

    @staticmethod
    def _masks(sim: Simulator, idx: np.ndarray | None) -> np.ndarray:
        """Action masks ``[len(idx), sum(nvec)]`` of devices ``idx`` (all when None)."""
        rows = np.arange(sim.num, dtype=np.int64) if idx is None else np.ascontiguousarray(idx, dtype=np.int64)
        out = np.empty((rows.shape[0], sim.mask_len), dtype=np.bool_)
        write_masks_batch(rows, sim.pidx, sim.pf_table, sim.sf, sim.si, sim.items, sim.reqs, out)
        return out


def is_planner_spec(spec: str) -> bool:
    """Whether ``spec`` names a planning policy (``oracle``, ``planner``, with knobs)."""
    return spec.split(":", 1)[0] in PlanningPolicy.NAMES


_KNOBS: dict[str, Any] = {
    "lookahead_h": float,
    "samples": int,
    "delays_s": lambda v: tuple(float(x) for x in v.split("/") if x),
    "chunks_units": lambda v: tuple(float(x) for x in v.split("/") if x),
    "candidates": str,
    "margin_se": float,
    "battery_price": float,
    "clocks": str,
}


def planner_kwargs(spec: str) -> tuple[bool, dict[str, Any]]:
    """``(exact, knobs)`` of a planning policy's spec (``oracle`` or ``planner`` with
    optional ``:key=value`` knobs): the keyword arguments of :class:`PlanningPolicy`
    besides ``ctx`` and ``seed``. A ValueError for an unknown name or knob."""
    name, *parts = spec.split(":")
    if name not in PlanningPolicy.NAMES:
        raise ValueError(f"unknown planning policy {name!r}; available: {', '.join(PlanningPolicy.NAMES)}")
    kw: dict[str, Any] = {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or key not in _KNOBS:
            raise ValueError(f"{spec!r}: knobs are key=value with key in {', '.join(_KNOBS)}; got {part!r}")
        kw[key] = _KNOBS[key](value)
    return name == "oracle", kw


def planner_from_spec(spec: str, ctx: ActionTable, seed: int | None = None) -> PlanningPolicy:
    """An unbound planning policy from a spec (:func:`planner_kwargs`) on the action table
    ``ctx``; call ``bind(env)`` before ``act``."""
    exact, kw = planner_kwargs(spec)
    pol = PlanningPolicy(ctx, seed, exact=exact, **kw)
    if ":" in spec:
        pol.name = spec
    return pol


def make_planner(spec: str, env: Any, seed: int | None = None) -> PlanningPolicy:
    """A planning policy from a spec, ``oracle`` or ``planner`` with optional knobs
    ``:key=value`` (``lookahead_h``, ``samples``, ``delays_s``, ``chunks_units`` with
    ``/``-separated values, ``candidates``), bound to ``env``."""
    pol = planner_from_spec(spec, ActionTable.from_env(env), seed)
    pol.bind(env)
    return pol


__all__ = ["PlanningPolicy", "is_planner_spec", "make_planner", "planner_from_spec", "planner_kwargs"]
