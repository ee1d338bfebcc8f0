"""A faster action head for MultiDiscrete action spaces (PPO, A2C, MaskablePPO).

SB3's :class:`~stable_baselines3.common.distributions.MultiCategoricalDistribution` (what
``MlpPolicy`` uses for a MultiDiscrete space) builds one ``torch.distributions.Categorical``
per action part, validating its arguments, on every forward pass, and stacks the parts'
log-probabilities, entropies and samples. With bgenv's four parts and a small MLP that
Python overhead is about half of PPO's time per step. The distributions here compute the
same quantities on one padded tensor:

* the flat logits ``[B, sum(nvec)]`` are gathered into ``[B, parts, max(nvec)]``, the slots
  past each part's size set to ``-inf``;
* one normalisation over the last axis (``x - logsumexp(x)``, as ``Categorical`` does)
  gives every part's log-probabilities;
* ``log_prob(a)`` gathers ``a``'s entries and sums over parts; ``entropy()`` is
  ``-sum p log p`` over parts and choices (padding counted as 0); ``mode()`` is the argmax
  of each part; ``sample()`` is the Gumbel-max trick (argmax of ``log p + Gumbel noise``).

No ``torch.distributions`` object is built. ``log_prob``, ``entropy`` and ``mode`` (and
their gradients) equal SB3's to float tolerance (up to ties between almost equal logits in
``mode``). Samples follow the same distribution but are not the same random draws as
SB3's (one uniform per part and choice instead of ``torch.multinomial`` per part), so a
seeded run with the fused head is reproducible but differs from the same seed with the
stock head. (Float32 uniforms bound the Gumbel noise, so a choice more than ~21 nats less
likely than its part's best, probability below ~1e-9, is never drawn.) Actions are not
validated: an action outside ``nvec`` gives a log-probability of ``-inf`` or an index
error where the stock head raises a ``ValueError``.

The network layer (``proba_distribution_net``: one ``Linear(latent, sum(nvec))``) is SB3's,
so a fused policy's ``state_dict`` loads into a stock one and back.

Use it as any SB3 policy class (``bgenv train`` does for PPO, A2C and MaskablePPO unless
``fused_head: false``)::

    from agents.distributions import FusedMaskableMlpPolicy, FusedMlpPolicy
    model = PPO(FusedMlpPolicy, env)              # instead of PPO("MlpPolicy", env)
    model = MaskablePPO(FusedMaskableMlpPolicy, env)

The conditional head (:class:`ConditionalMlpPolicy`, :class:`ConditionalMaskableMlpPolicy`;
``action_head: conditional`` in a training config, MaskablePPO's default) keeps this layout
and parameters but counts the delay only with a request and the work kind only with a
chunk, in ``log_prob``, ``entropy`` and ``mode`` (the joint most likely distinct action);
see :class:`_ConditionalLayout`.

Saved models record the policy class by reference (``agents.distributions.FusedMlpPolicy``),
so ``PPO.load`` needs this module importable.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib.common.maskable.distributions import (
    MaskableCategorical,
    MaskableMultiCategoricalDistribution,
    MaybeMasks,
)
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from stable_baselines3.common.distributions import MultiCategoricalDistribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import Schedule
from torch.distributions import Categorical

# sb3-contrib's MaskableCategorical.apply_masking sets the logits of masked-out choices to
# this value (not -inf, so a part with every choice masked stays a uniform distribution).
MASKED_LOGIT = -1e8

SelfFused = TypeVar("SelfFused", bound="_FusedLayout")


class _FusedLayout:
    """The padded layout shared by both fused distributions.

    Attributes (built once from ``action_dims``, moved to the logits' device on first use):
        _n_parts: number of action parts.
        _width: the largest part's number of choices (the padded axis).
        _index: ``[parts * width]`` column of the flat logits behind each padded slot
            (padding slots repeat their part's first column), or None when every part has
            the same size (a plain reshape).
        _pad: ``[parts, width]`` bool, True on padding slots.
    """

    action_dims: list[int]

    def _init_layout(self, action_dims: list[int]) -> None:
        dims = [int(d) for d in action_dims]
        if not dims or min(dims) < 1:
            raise ValueError(f"every action part needs at least one choice; got {dims}")
        self._n_parts = len(dims)
        self._width = max(dims)
        offsets = np.concatenate([[0], np.cumsum(dims)[:-1]])
        slot = np.arange(self._width)
        index = np.where(slot[None, :] < np.array(dims)[:, None], offsets[:, None] + slot[None, :], offsets[:, None])
        self._pad = th.as_tensor(slot[None, :] >= np.array(dims)[:, None])
        self._index = None if not self._pad.any() else th.as_tensor(index.reshape(-1), dtype=th.long)
        self._flat_logits: th.Tensor | None = None
        self._masks: th.Tensor | None = None  # [B, parts, width], True = allowed
        self._logp: th.Tensor | None = None

    def _to_device(self, device: th.device) -> None:
        if self._pad.device != device:
            self._pad = self._pad.to(device)
            if self._index is not None:
                self._index = self._index.to(device)

    def _padded(self, flat: th.Tensor) -> th.Tensor:
        """``[B, sum(nvec)]`` -> ``[B, parts, width]`` (padding slots not yet filled)."""
        if self._index is None:
            return flat.reshape(flat.shape[0], self._n_parts, self._width)
        return flat.index_select(1, self._index).view(flat.shape[0], self._n_parts, self._width)

    def _set_logits(self, action_logits: th.Tensor) -> None:
        self._flat_logits = action_logits.reshape(-1, sum(self.action_dims))
        self._to_device(action_logits.device)
        self._masks = None
        self._logp = None

    @property
    def log_probs(self) -> th.Tensor:
        """``[B, parts, width]`` log-probability of every choice of every part (``-inf`` on
        padding slots; about ``-1e8`` on masked-out choices)."""
        if self._logp is None:
            if self._flat_logits is None:
                raise RuntimeError("set the distribution's parameters first (proba_distribution)")
            x = self._padded(self._flat_logits)
            if self._masks is not None:
                x = th.where(self._masks, x, th.tensor(MASKED_LOGIT, dtype=x.dtype, device=x.device))
            x = x.masked_fill(self._pad, float("-inf"))
            # x - logsumexp(x), as torch's Categorical normalises its logits (log_softmax
            # gives the same values but is slower on CPU for these short rows, and differs
            # from sb3-contrib where every choice of a part is masked out)
            self._logp = x - x.logsumexp(dim=-1, keepdim=True)
        return self._logp

    def _zero_in_entropy(self) -> th.Tensor:
        """Slots that contribute nothing to the entropy: padding (and masked-out choices)."""
        return self._pad if self._masks is None else self._pad | ~self._masks

    def log_prob(self, actions: th.Tensor) -> th.Tensor:
        """``[B]`` log-probability of ``actions`` (``[B, parts]``, any numeric dtype)."""
        a = actions.reshape(-1, self._n_parts).long().unsqueeze(-1)
        return self.log_probs.gather(2, a).squeeze(-1).sum(dim=1)

    def entropy(self) -> th.Tensor:
        """``[B]`` sum of the parts' entropies (nats)."""
        logp = self.log_probs
        return -(logp.exp() * logp.masked_fill(self._zero_in_entropy(), 0.0)).sum(dim=(1, 2))

    def sample(self) -> th.Tensor:
        """``[B, parts]`` one draw (Gumbel-max; torch's global generator)."""
        logp = self.log_probs
        # u >= tiny keeps the noise finite (>= -4.5), so a choice of probability 0 (padding,
        # masked out) can never win
        u = th.rand_like(logp).clamp_(min=th.finfo(logp.dtype).tiny)
        return th.argmax(logp - th.log(-th.log(u)), dim=-1)

    def mode(self) -> th.Tensor:
        """``[B, parts]`` most likely choice of each part."""
        return th.argmax(self.log_probs, dim=-1)

    def _part_logits(self) -> list[th.Tensor]:
        """Each part's ``[B, n]`` normalised logits (for the compatibility views)."""
        logp = self.log_probs
        return [logp[:, j, :n] for j, n in enumerate(self.action_dims)]


class FusedMultiCategoricalDistribution(_FusedLayout, MultiCategoricalDistribution):
    """SB3's :class:`MultiCategoricalDistribution` computed on one padded tensor (see the
    module docstring): same parameters and layer, same ``log_prob`` / ``entropy`` / ``mode``
    to float tolerance, samples from the same distribution with other random draws.

    Args:
        action_dims: number of choices of each action part (the MultiDiscrete ``nvec``).
    """

    def __init__(self, action_dims: list[int]) -> None:
        MultiCategoricalDistribution.__init__(self, [int(d) for d in action_dims])
        self._init_layout(self.action_dims)

    def proba_distribution(self: SelfFused, action_logits: th.Tensor) -> SelfFused:
        """Set the flat logits ``[B, sum(nvec)]``; the log-softmax is computed on first use."""
        self._set_logits(action_logits)
        return self

    @property  # type: ignore[override]
    def distribution(self) -> list[Categorical]:
        """One ``Categorical`` per part, built on demand (for code that inspects SB3's
        per-part distributions, e.g. ``kl_divergence``); training never builds them."""
        return [Categorical(logits=x) for x in self._part_logits()]


class FusedMaskableMultiCategoricalDistribution(_FusedLayout, MaskableMultiCategoricalDistribution):
    """sb3-contrib's :class:`MaskableMultiCategoricalDistribution` computed on one padded
    tensor. ``apply_masking(masks)`` works as sb3-contrib's: ``masks`` (bool or 0/1, tensor
    or array, ``[B, sum(nvec)]`` in any shape of that size) keeps the choices marked True
    and sets the others' logits to :data:`MASKED_LOGIT`; masked-out choices add nothing to
    the entropy; ``None`` removes the masks.

    Args:
        action_dims: number of choices of each action part (the MultiDiscrete ``nvec``).
    """

    def __init__(self, action_dims: list[int]) -> None:
        MaskableMultiCategoricalDistribution.__init__(self, [int(d) for d in action_dims])
        self._init_layout(self.action_dims)

    def proba_distribution(self: SelfFused, action_logits: th.Tensor) -> SelfFused:
        """Set the flat logits ``[B, sum(nvec)]`` (and drop any masks)."""
        self._set_logits(action_logits)
        return self

    def apply_masking(self, masks: MaybeMasks) -> None:
        """Mask out choices (see the class docstring); ``None`` restores the logits."""
        if self._flat_logits is None:
            raise RuntimeError("set the distribution's parameters first (proba_distribution)")
        self._logp = None
        if masks is None:
            self._masks = None
            return
        flat = th.as_tensor(masks, dtype=th.bool, device=self._flat_logits.device)
        self._masks = self._padded(flat.reshape(self._flat_logits.shape))

    @property
    def distributions(self) -> list[MaskableCategorical]:
        """One sb3-contrib ``MaskableCategorical`` per part, built on demand (for code that
        inspects them); training never builds them."""
        parts = self._part_logits()
        if self._masks is None:
            return [MaskableCategorical(logits=x) for x in parts]
        return [
            MaskableCategorical(logits=x, masks=self._masks[:, j, :n])
            for j, (x, n) in enumerate(zip(parts, self.action_dims))
        ]

    @distributions.setter
    def distributions(self, value: list[Any]) -> None:
        # sb3-contrib's __init__ assigns an empty list; nothing else may set it
        if value:
            raise AttributeError("distributions is a read-only view of the fused distribution")


# ---------------------------------------------------------------------------
# The conditional head: a part counts only where it has an effect
# ---------------------------------------------------------------------------
BGENV_GATES: tuple[tuple[int, int], ...] = ((0, 1), (2, 3))
"""bgenv's action layout (request, delay, chunk, work kind): the delay has an effect only
with a request (part 0 != 0), the work kind only with a chunk (part 2 != 0)."""


class _ConditionalLayout(_FusedLayout):
    """The fused padded layout with *gated* parts: for each ``(gate, part)`` pair of
    ``gates``, choice ``part`` has an effect only where choice ``gate`` is not 0.

    Over the distinct actions (an action whose gate is 0 is one action, whatever its gated
    part says, written with that part at 0):

    * ``sample()`` draws every part as the fused head does and writes 0 in a gated part
      whose gate is 0. Each distinct action keeps its probability (the gated part's draw
      was irrelevant), so in the env the distribution is unchanged, with one exception on
      bgenv without masks: a kind != 0 with chunk 0 outside a window, an invalid
      (penalised) action, is never produced (see :class:`ConditionalMlpPolicy`).
    * ``log_prob(a)`` sums the parts' log-probabilities, a gated part's only where its
      gate is not 0 (so a no-request action carries no random delay term).
    * ``entropy()`` is the entropy of the distribution over distinct actions:
      ``sum_j H(part j)`` with each gated part's entropy weighted by ``P(gate != 0)``,
      e.g. ``H(req) + P(req != 0) H(delay) + H(chunk) + P(chunk != 0) H(kind)``; masked-out
      choices have probability ~0 and add nothing.
    * ``mode()`` is the most likely distinct action: per pair, ``P(gate = 0)`` against
      ``max_{g>0} P(g) * max_d P(d)`` (the gated part independent of the gate), ties to
      gate 0 (the smaller choice wins every tie, as ``argmax`` does); ungated parts take
      their argmax.
    """

    _gates: tuple[tuple[int, int], ...]

    def _init_gates(self, gates: tuple[tuple[int, int], ...]) -> None:
        gates = tuple((int(g), int(p)) for g, p in gates)
        n = self._n_parts
        seen: set[int] = set()
        for g, p in gates:
            if not (0 <= g < n and 0 <= p < n) or g == p or p in seen or g in seen:
                raise ValueError(f"gates must pair distinct parts of 0..{n - 1}, each used once; got {gates}")
            seen |= {g, p}
        self._gates = gates

    def _gated_mask(self, actions: th.Tensor) -> th.Tensor:
        """``[B, parts]`` bool: whether each part of ``actions`` has an effect."""
        keep = th.ones_like(actions, dtype=th.bool)
        for g, p in self._gates:
            keep[:, p] = actions[:, g] != 0
        return keep

    def log_prob(self, actions: th.Tensor) -> th.Tensor:
        """``[B]`` log-probability of ``actions`` (``[B, parts]``) as a distinct action."""
        a = actions.reshape(-1, self._n_parts).long()
        lp = self.log_probs.gather(2, a.unsqueeze(-1)).squeeze(-1)
        return th.where(self._gated_mask(a), lp, th.zeros_like(lp)).sum(dim=1)

    def entropy(self) -> th.Tensor:
        """``[B]`` entropy (nats) of the distribution over distinct actions."""
        logp = self.log_probs
        h = -(logp.exp() * logp.masked_fill(self._zero_in_entropy(), 0.0)).sum(dim=2)  # [B, parts]
        weight = th.ones_like(h)
        for g, p in self._gates:
            weight[:, p] = -th.expm1(logp[:, g, 0])  # P(gate != 0)
        return (weight * h).sum(dim=1)

    def _canonical(self, a: th.Tensor) -> th.Tensor:
        for g, p in self._gates:
            a[:, p] = th.where(a[:, g] == 0, th.zeros_like(a[:, p]), a[:, p])
        return a

    def sample(self) -> th.Tensor:
        """``[B, parts]`` one draw; a gated part whose gate is 0 is written as 0."""
        return self._canonical(_FusedLayout.sample(self))

    def mode(self) -> th.Tensor:
        """``[B, parts]`` the most likely distinct action (gated part 0 where its gate is 0)."""
        logp = self.log_probs
        a = th.argmax(logp, dim=-1)
        for g, p in self._gates:
            best_g, arg_g = logp[:, g, 1:].max(dim=-1)  # padding is -inf: never the best
            joint = best_g + logp[:, p, :].max(dim=-1).values
            take = joint > logp[:, g, 0]
            a[:, g] = th.where(take, arg_g + 1, th.zeros_like(arg_g))
        return self._canonical(a)


class ConditionalMultiCategoricalDistribution(_ConditionalLayout, FusedMultiCategoricalDistribution):
    """The fused head with gated parts (see :class:`_ConditionalLayout`), for PPO / A2C.
    Same layer and parameters as SB3's MultiDiscrete head, so its ``state_dict`` loads into
    a stock or fused policy and back (only the meaning of ``log_prob`` / ``entropy`` /
    ``mode`` changes).

    Args:
        action_dims: number of choices of each action part (the MultiDiscrete ``nvec``).
        gates: ``(gate, part)`` pairs: ``part`` has an effect only where ``gate`` != 0.
    """

    def __init__(self, action_dims: list[int], gates: tuple[tuple[int, int], ...] = BGENV_GATES) -> None:
        FusedMultiCategoricalDistribution.__init__(self, action_dims)
        self._init_gates(gates)


class ConditionalMaskableMultiCategoricalDistribution(_ConditionalLayout, FusedMaskableMultiCategoricalDistribution):
    """The fused maskable head with gated parts (see :class:`_ConditionalLayout`), for
    MaskablePPO; masks as :class:`FusedMaskableMultiCategoricalDistribution`.

    Args:
        action_dims: number of choices of each action part (the MultiDiscrete ``nvec``).
        gates: ``(gate, part)`` pairs: ``part`` has an effect only where ``gate`` != 0.
    """

    def __init__(self, action_dims: list[int], gates: tuple[tuple[int, int], ...] = BGENV_GATES) -> None:
        FusedMaskableMultiCategoricalDistribution.__init__(self, action_dims)
        self._init_gates(gates)


def _multi_discrete_dims(space: spaces.Space) -> list[int] | None:
    """``nvec`` of a one-dimensional MultiDiscrete space, else None."""
    if isinstance(space, spaces.MultiDiscrete) and np.ndim(space.nvec) == 1:
        return [int(n) for n in space.nvec]
    return None


class FusedMlpPolicy(ActorCriticPolicy):
    """SB3's ``MlpPolicy`` (:class:`ActorCriticPolicy`, for PPO and A2C) with
    :class:`FusedMultiCategoricalDistribution` as the action head on a MultiDiscrete space;
    on any other space exactly the stock policy. Same constructor, same parameters."""

    def _build(self, lr_schedule: Schedule) -> None:
        dims = _multi_discrete_dims(self.action_space)
        if dims is not None and type(self.action_dist) is MultiCategoricalDistribution:
            self.action_dist = FusedMultiCategoricalDistribution(dims)
        super()._build(lr_schedule)


class FusedMaskableMlpPolicy(MaskableActorCriticPolicy):
    """sb3-contrib's ``MlpPolicy`` for MaskablePPO (:class:`MaskableActorCriticPolicy`) with
    :class:`FusedMaskableMultiCategoricalDistribution` as the action head on a
    MultiDiscrete space; on any other space exactly the stock policy."""

    def _build(self, lr_schedule: Schedule) -> None:
        dims = _multi_discrete_dims(self.action_space)
        if dims is not None and type(self.action_dist) is MaskableMultiCategoricalDistribution:
            self.action_dist = FusedMaskableMultiCategoricalDistribution(dims)
        super()._build(lr_schedule)


def _gated_dims(space: spaces.Space) -> list[int] | None:
    """``nvec`` of a MultiDiscrete space with bgenv's four parts, else None."""
    dims = _multi_discrete_dims(space)
    return dims if dims is not None and len(dims) == 4 else None


class ConditionalMlpPolicy(ActorCriticPolicy):
    """SB3's ``MlpPolicy`` for PPO and A2C with
    :class:`ConditionalMultiCategoricalDistribution` on bgenv's four-part MultiDiscrete
    action (request, delay, chunk, work kind): the delay counts only with a request, the
    work kind only with a chunk; on any other space exactly the stock policy.

    Without masks a kind != 0 with chunk 0 is an invalid (penalised) action outside a
    window and a no-op inside one: the head never samples it (a chunk-0 action is sent with
    kind 0, a valid no-op / stop everywhere), so the kind never has an effect with chunk 0
    and rightly adds nothing to the log-probability there. The policy cannot tell
    whether it is in a window anyway (the head sees no observation), and the chunk part
    alone still learns that a chunk outside a window is penalised."""

    def _build(self, lr_schedule: Schedule) -> None:
        dims = _gated_dims(self.action_space)
        if dims is not None and type(self.action_dist) is MultiCategoricalDistribution:
            self.action_dist = ConditionalMultiCategoricalDistribution(dims)
        super()._build(lr_schedule)


class ConditionalMaskableMlpPolicy(MaskableActorCriticPolicy):
    """sb3-contrib's ``MlpPolicy`` for MaskablePPO with
    :class:`ConditionalMaskableMultiCategoricalDistribution` on bgenv's four-part
    MultiDiscrete action. With bgenv's masks outside a window only kind 0 is allowed, and
    inside one chunk 0 stops the window whatever the kind: so the kind has an effect
    exactly when the chunk is not 0, as the gates say."""

    def _build(self, lr_schedule: Schedule) -> None:
        dims = _gated_dims(self.action_space)
        if dims is not None and type(self.action_dist) is MaskableMultiCategoricalDistribution:
            self.action_dist = ConditionalMaskableMultiCategoricalDistribution(dims)
        super()._build(lr_schedule)


CONDITIONAL_POLICIES: dict[str, type] = {
    "ppo": ConditionalMlpPolicy,
    "a2c": ConditionalMlpPolicy,
    "maskable_ppo": ConditionalMaskableMlpPolicy,
}
"""The conditional ``MlpPolicy`` of each algorithm of ``bgenv train`` that has one."""


def action_head_of(policy: Any) -> str:
    """``"conditional"`` when a policy object samples through a conditional head, else
    ``"independent"`` (fused or stock; :func:`is_fused` tells which)."""
    return "conditional" if isinstance(getattr(policy, "action_dist", None), _ConditionalLayout) else "independent"


FUSED_POLICIES: dict[str, type] = {"ppo": FusedMlpPolicy, "a2c": FusedMlpPolicy, "maskable_ppo": FusedMaskableMlpPolicy}
"""The fused ``MlpPolicy`` of each algorithm of ``bgenv train`` that has one."""


def is_fused(policy: Any) -> bool:
    """Whether a policy object samples through a fused distribution."""
    return isinstance(
        getattr(policy, "action_dist", None),
        (FusedMultiCategoricalDistribution, FusedMaskableMultiCategoricalDistribution),
    )
