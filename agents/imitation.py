"""Warm start by behaviour cloning: ``bgenv train --init-from guidelines`` (or ``planner``).

Before reinforcement learning starts, a new PPO / A2C / MaskablePPO model is taught to act
as a teacher, then RL carries on from there. The teacher is a hand-written policy
(:mod:`agents.policies`) or a planning policy of :mod:`agents.planning` (``planner``,
``oracle``, with knobs as in ``bgenv compare``: ``planner:samples=4:lookahead_h=3``).
A planning teacher plans on copies of the training env's own simulator devices (it is
bound to the batched bgenv env under the SB3 wrappers), so it sees their hidden state
(``planner``) or their future too (``oracle``), while the clone sees only the
observation: cloning a planner measures how much of its margin the observation and the
action design carry. A planning teacher is slow (measured on ``ios_commuter``, 8 devices, one
core: ~160 demonstration steps a second for ``planner``, ~300 for ``oracle``).

1. **Demonstrations** (:func:`collect_demonstrations`): the teacher drives the
   run's own batched training env (the ``VecNormalize``-wrapped SB3 VecEnv of
   :func:`agents.train.train`, its training devices, so training seeds only, below
   :data:`agents.evaluate.EVAL_SEED_MIN`) for a number of decision steps. The expert sees
   raw observations (``VecNormalize.get_original_obs()``) and the action masks
   (``env_method("action_masks")``). Stepping the env in training mode warms up its
   observation and reward statistics, so the clone sees inputs normalised as RL will; the
   recorded observations and rewards are normalised with the statistics as they stand
   at the end of the collection.
2. **Cloning** (:func:`clone`): a few epochs of Adam on minibatches minimising the negative
   log-likelihood of the expert's actions under the model's policy (with the masks for
   MaskablePPO), minus ``ent_coef`` times the policy's entropy, plus ``vf_coef`` times the
   squared error of the value head against the expert's discounted returns
   (:func:`discounted_returns`, on the normalised rewards, discounted per step by the
   model's ``gamma`` or, for a time-discounted model, by ``0.5 ** (dt_s / half-life)``;
   :func:`step_discounts_of`). A week ends by truncation, not in a terminal state, so a
   truncated episode's last return bootstraps from the value head's estimate of its
   terminal observation, and the unfinished episode at the end of the demonstrations from
   the estimate of the last observation (recomputed each epoch), as SB3 does in its
   rollouts.

3. **DAgger rounds** (optional, ``init_from_dagger_rounds``): the clone drives the env
   (its deterministic action, as ``bgenv eval`` plays it) while the teacher labels every
   state the clone reaches with its own action; the new steps join the demonstrations and
   the clone is trained again on all of them (Ross et al., 2011, "A reduction of imitation
   learning and structured prediction to no-regret online learning"). Plain cloning only
   sees the teacher's states, so the clone's errors lead it to states it never learned;
   DAgger teaches it those. The observation and reward statistics are frozen during these
   rounds, so every round is normalised as the clone was trained. Each round logs
   ``bc/dagger_agreement``: the share of the clone's own steps where it chose the teacher's
   action in every part (before retraining on them).

An expert action that the env's mask excludes (the hand-written policies do not always
respect the masks) would get a log-likelihood of about ``-1e8`` under a masked policy;
such rows are trained without their mask, and counted (:attr:`CloneSummary.masked_out_rows`).

Per epoch, ``bc/loss``, ``bc/accuracy`` (share of decision steps where the clone's most
likely action equals the expert's in all four parts), ``bc/entropy`` (nats, summed over
the parts) and ``bc/value_loss`` go to the run's logger (TensorBoard, x axis = epoch).

Knobs (keys of a ``configs/train`` entry, :data:`CONFIG_KEYS`; ``bgenv train --init-from``
and ``--init-steps`` override the first two)::

    init_from: guidelines       # the teacher: a hand-written policy, planner or oracle (spec)
    init_from_steps: 50000      # decision steps of demonstrations (summed over the envs)
    init_from_epochs: 20
    init_from_lr: 0.001         # Adam's learning rate for the cloning
    init_from_batch_size: 256
    init_from_ent_coef: 0.0     # entropy bonus of the cloning loss
    init_from_vf_coef: 0.5      # weight of the value head's loss
    init_from_dagger_rounds: 0  # DAgger rounds after the cloning (0: plain cloning)
    init_from_dagger_steps: 0   # decision steps per round (0: as many as init_from_steps)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

# keys of a configs/train entry -> CloneSettings fields
CONFIG_KEYS: dict[str, str] = {
    "init_from": "policy",
    "init_from_steps": "steps",
    "init_from_epochs": "epochs",
    "init_from_lr": "learning_rate",
    "init_from_batch_size": "batch_size",
    "init_from_ent_coef": "ent_coef",
    "init_from_vf_coef": "vf_coef",
    "init_from_dagger_rounds": "dagger_rounds",
    "init_from_dagger_steps": "dagger_steps",
}
SUPPORTED_ALGOS = ("ppo", "a2c", "maskable_ppo")


@dataclass(frozen=True)
class CloneSettings:
    """How to warm-start a model by behaviour cloning.

    Attributes:
        policy: the teacher: a hand-written policy's name (:data:`agents.policies.POLICIES`,
            or an intent policy's for ``bgenv/CrossPlatform-v1``), your own class,
            ``file.py:ClassName`` (kept with the file's absolute path) or
            ``module:ClassName`` (:mod:`agents.plugins`), or a planning policy's spec
            (:func:`agents.planning.is_planner_spec`).
        steps: decision steps of demonstrations, summed over the env's devices.
        epochs: passes over the demonstrations.
        learning_rate: Adam's learning rate.
        batch_size: rows (decision steps) per minibatch.
        ent_coef: weight of the entropy bonus in the loss (0: plain maximum likelihood).
        vf_coef: weight of the value head's squared error in the loss.
        dagger_rounds: DAgger rounds after the cloning (module docstring; 0: none).
        dagger_steps: decision steps the clone drives per round (0: as many as ``steps``).
    """

    policy: str
    steps: int = 50_000
    epochs: int = 20
    learning_rate: float = 1e-3
    batch_size: int = 256
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    dagger_rounds: int = 0
    dagger_steps: int = 0

    def __post_init__(self) -> None:
        from agents.intent_policies import INTENT_POLICIES
        from agents.planning import is_planner_spec, planner_kwargs
        from agents.plugins import absolute_spec, is_plugin_spec, load_plugin_class
        from agents.policies import POLICIES

        if is_planner_spec(self.policy):
            try:
                planner_kwargs(self.policy)
            except ValueError as e:
                raise ValueError(f"init_from: {e}") from None
        elif is_plugin_spec(self.policy):  # your own class (agents.plugins): checked now, its file by absolute path
            load_plugin_class(self.policy)
            object.__setattr__(self, "policy", absolute_spec(self.policy))
        elif self.policy not in POLICIES and self.policy not in INTENT_POLICIES:
            raise ValueError(
                f"init_from: unknown policy {self.policy!r}; available: {', '.join([*POLICIES, *INTENT_POLICIES])}, "
                "oracle, planner or a policy class (path/to/file.py:ClassName, package.module:ClassName)"
            )
        for name in ("steps", "epochs", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"init_from {name} must be an integer >= 1; got {v!r}")
        for name in ("dagger_rounds", "dagger_steps"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"init_from {name} must be an integer >= 0; got {v!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"init_from learning rate must be > 0; got {self.learning_rate!r}")
        if not (self.ent_coef >= 0 and self.vf_coef >= 0):
            raise ValueError(f"init_from ent_coef and vf_coef must be >= 0; got {self.ent_coef!r}, {self.vf_coef!r}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def settings_from_entry(entry: dict[str, Any], where: str = "config") -> CloneSettings | None:
    """Pop the :data:`CONFIG_KEYS` of a training entry (in place) into settings; None when
    the entry has no ``init_from`` (then no other ``init_from_*`` key is allowed)."""
    given = {CONFIG_KEYS[k]: entry.pop(k) for k in list(entry) if k in CONFIG_KEYS}
    policy = given.get("policy")
    if policy is None:
        if given:
            raise ValueError(f"{where}: {', '.join(sorted(given))} given without init_from")
        return None
    types = {f.name: f.type for f in fields(CloneSettings)}
    for k, v in given.items():
        if types[k] == "int" and not (isinstance(v, int) and not isinstance(v, bool)):
            if isinstance(v, float) and v.is_integer():
                given[k] = int(v)
            else:
                raise ValueError(f"{where}.init_from_{k}: expected an integer; got {v!r}")
        elif types[k] == "float":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"{where}: expected a number for the {k} of init_from; got {v!r}")
            given[k] = float(v)
    given["policy"] = str(policy)
    try:
        return CloneSettings(**given)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


@dataclass
class Demonstrations:
    """What the expert did on the training env, ``T`` steps of ``N`` devices.

    Attributes:
        obs: ``[T, N, D]`` float32 observations, normalised as RL sees them.
        actions: ``[T, N, parts]`` int64 expert actions.
        masks: ``[T, N, sum(nvec)]`` bool action masks (True = allowed).
        rewards: ``[T, N]`` float32 rewards, normalised as RL sees them.
        raw_rewards: ``[T, N]`` float32 rewards as the env gave them.
        dones: ``[T, N]`` bool, the episode ended (was truncated) after this step.
        dt_s: ``[T, N]`` simulated seconds each step lasted (``info["dt_s"]``).
        terminal_obs: ``[T, N, D]`` float32, the normalised last observation of an episode
            that ended after step ``t`` (zeros elsewhere).
        last_obs: ``[N, D]`` float32, the normalised observation after the last step.
        nvec: choices of each action part.
        driver_actions: ``[T, N, parts]`` the actions that stepped the env when a driver
            (the clone, in a DAgger round) acted and the expert only labelled; else None.
    """

    obs: np.ndarray
    actions: np.ndarray
    masks: np.ndarray
    rewards: np.ndarray
    raw_rewards: np.ndarray
    dones: np.ndarray
    dt_s: np.ndarray
    terminal_obs: np.ndarray
    last_obs: np.ndarray
    nvec: np.ndarray
    driver_actions: np.ndarray | None = None

    def agreement(self) -> float:
        """Share of steps where the driver chose the expert's action in every part (NaN
        without a driver)."""
        if self.driver_actions is None:
            return float("nan")
        return float((self.driver_actions == self.actions).all(axis=-1).mean())

    def mask_allows(self) -> np.ndarray:
        """``[T, N]`` bool: the mask allows the expert's action in every part."""
        offsets = np.concatenate([[0], np.cumsum(self.nvec)[:-1]]).astype(np.int64)
        idx = self.actions + offsets
        return np.take_along_axis(self.masks, idx, axis=-1).all(axis=-1)


def _vec_normalize(env: Any) -> Any | None:
    from stable_baselines3.common.vec_env import VecNormalize, unwrap_vec_wrapper

    return unwrap_vec_wrapper(env, VecNormalize)


def _expert(env: Any, policy: str, ctx: Any, seed: int | None) -> Any:
    """The teacher acting on ``env`` with action table ``ctx``: a hand-written policy
    (:data:`agents.policies.POLICIES`, an intent policy for ``bgenv/CrossPlatform-v1``, or
    your own class, :mod:`agents.plugins`), or a planning policy
    (:func:`agents.planning.is_planner_spec`) bound to the simulator of ``env``'s batched
    bgenv env, whose devices are ``env``'s envs in order."""
    from agents.intent_policies import INTENT_POLICIES
    from agents.planning import is_planner_spec, planner_from_spec
    from agents.plugins import build_plugin, is_plugin_spec
    from agents.policies import POLICIES

    if is_planner_spec(policy):
        expert = planner_from_spec(policy, ctx, seed=seed)
        batched = env.get_attr("unwrapped")[0]  # the BackgroundSchedulingVectorEnv under the SB3 wrappers
        if getattr(batched, "sim", None) is None or batched.sim.num != env.num_envs:
            raise ValueError(f"{policy} needs a bgenv SB3 VecEnv (one simulator device per env) to plan on")
        expert.bind(batched)
        return expert
    if policy in POLICIES:
        return POLICIES[policy](ctx, seed=seed)
    if policy in INTENT_POLICIES:  # bgenv/CrossPlatform-v1
        return INTENT_POLICIES[policy](ctx, seed=seed)
    if is_plugin_spec(policy):
        return build_plugin(policy, ctx, seed=seed)
    raise ValueError(
        f"unknown policy {policy!r}; available: {', '.join([*POLICIES, *INTENT_POLICIES])}, oracle, planner "
        "or path/to/file.py:ClassName"
    )


Driver = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``driver(obs, masks) -> actions``: ``[N, D]`` observations as the env returns them
(normalised under ``VecNormalize``) and ``[N, sum(nvec)]`` masks to ``[N, parts]`` actions."""


def collect_demonstrations(
    env: Any, policy: str, steps: int, seed: int | None = None, driver: Driver | None = None
) -> Demonstrations:
    """Run ``policy`` (a hand-written policy's name, or a planning policy's spec such as
    ``planner`` or ``oracle:lookahead_h=6``, which plans on copies of ``env``'s simulator)
    on the (batched, possibly ``VecNormalize``-wrapped) SB3 training ``env`` for ``ceil(steps / n_envs)`` steps of every device, from a fresh
    ``reset()`` (the env's own seeds: a training env's are training seeds), and record
    what it saw and did. A ``VecNormalize`` env is stepped in training mode, so its
    statistics are updated; observations and rewards are then normalised with the final
    statistics.

    With a ``driver`` (a DAgger round) the driver's actions step the env and ``policy``
    only labels the states they reach: ``actions`` holds the teacher's choices and
    ``driver_actions`` the driver's. The ``VecNormalize`` statistics are left as they are
    (the env is stepped outside training mode and put back as it was)."""
    from bgenv.envs.actions import ActionTable

    vn = _vec_normalize(env)
    if vn is not None and not vn.training and driver is None:
        raise ValueError("collect_demonstrations needs the VecNormalize env in training mode")
    was_training = vn.training if vn is not None else False
    if vn is not None and driver is not None:
        vn.training = False
    try:  # bgenv/CrossPlatform-v1: the intent table
        table = env.get_attr("action_table")[0]
    except AttributeError:
        table = ActionTable.from_params(env.get_attr("params")[0])
    nvec = np.asarray(table.nvec, dtype=np.int64)
    if not hasattr(env.action_space, "nvec"):
        raise ValueError(
            f"behaviour cloning needs the env's MultiDiscrete action space; got {env.action_space} "
            f"(supported algorithms: {', '.join(SUPPORTED_ALGOS)})"
        )
    n = env.num_envs
    expert = _expert(env, policy, table, seed)
    t_len = max(1, -(-int(steps) // n))
    obs = env.reset()
    raw_obs = vn.get_original_obs() if vn is not None else obs
    d = raw_obs.shape[-1]
    out_obs = np.zeros((t_len, n, d), dtype=np.float32)
    out_term = np.zeros((t_len, n, d), dtype=np.float32)
    out_act = np.zeros((t_len, n, len(nvec)), dtype=np.int64)
    out_mask = np.zeros((t_len, n, int(nvec.sum())), dtype=bool)
    out_rew = np.zeros((t_len, n), dtype=np.float32)
    out_done = np.zeros((t_len, n), dtype=bool)
    out_dt = np.zeros((t_len, n), dtype=np.float64)
    out_driven = np.zeros((t_len, n, len(nvec)), dtype=np.int64) if driver is not None else None
    for t in range(t_len):
        masks = np.stack(env.env_method("action_masks")).astype(bool)
        actions = np.asarray(expert.act(raw_obs, masks), dtype=np.int64).reshape(n, len(nvec))
        out_obs[t] = raw_obs
        out_act[t] = actions
        out_mask[t] = masks
        if out_driven is not None:
            actions = np.asarray(driver(obs, masks), dtype=np.int64).reshape(n, len(nvec))
            out_driven[t] = actions
        nxt, rewards, dones, infos = env.step(actions)
        out_rew[t] = vn.get_original_reward() if vn is not None else rewards
        out_done[t] = dones
        out_dt[t] = [info.get("dt_s", 0.0) for info in infos]
        for i in np.flatnonzero(dones):
            term = np.asarray(infos[i]["terminal_observation"], dtype=np.float32)
            out_term[t, i] = vn.unnormalize_obs(term) if (vn is not None and vn.norm_obs) else term
        obs = nxt
        raw_obs = vn.get_original_obs() if vn is not None else nxt
    if vn is not None:
        vn.training = was_training
    norm_obs = (lambda x: vn.normalize_obs(x)) if (vn is not None and vn.norm_obs) else (lambda x: x)
    norm_rew = (lambda r: vn.normalize_reward(r)) if (vn is not None and vn.norm_reward) else (lambda r: r)
    return Demonstrations(
        obs=np.asarray(norm_obs(out_obs), dtype=np.float32),
        actions=out_act,
        masks=out_mask,
        rewards=np.asarray(norm_rew(out_rew), dtype=np.float32),
        raw_rewards=out_rew,
        dones=out_done,
        dt_s=out_dt,
        terminal_obs=np.asarray(norm_obs(out_term), dtype=np.float32),
        last_obs=np.asarray(norm_obs(raw_obs), dtype=np.float32),
        nvec=nvec,
        driver_actions=out_driven,
    )


def step_discounts_of(model: Any, dt_s: np.ndarray) -> np.ndarray:
    """Per-step discounts ``[T, N]`` the model's RL uses: ``0.5 ** (dt_s / (3600 *
    half_life_h))`` when the model discounts by simulated time (an attribute
    ``half_life_h`` that is not None), else its ``gamma`` on every step."""
    half_life = getattr(model, "half_life_h", None)
    if half_life is not None:
        from agents.time_discount import step_discounts

        return step_discounts(dt_s, float(half_life))
    return np.full(np.shape(dt_s), float(model.gamma), dtype=np.float32)


def discounted_returns(
    rewards: np.ndarray,
    discounts: np.ndarray,
    dones: np.ndarray,
    done_values: np.ndarray | None = None,
    last_values: np.ndarray | None = None,
) -> np.ndarray:
    """Discounted returns ``[T, N]`` of ``N`` parallel streams of ``T`` steps::

        R_t = r_t + d_t * (V_done_t   if the episode ended after step t
                           R_{t+1}    otherwise, with R_T = V_last)

    Args:
        rewards: ``[T, N]`` reward of each step.
        discounts: ``[T, N]`` discount of each step (``gamma``, or by simulated time).
        dones: ``[T, N]`` bool, the episode was truncated after step ``t``.
        done_values: ``[T, N]`` value of the truncated episode's terminal observation
            (read where ``dones``), or None for 0.
        last_values: ``[N]`` value of the observation after the last step, or None for 0.

    Returns:
        float32 ``[T, N]``.
    """
    r = np.asarray(rewards, dtype=np.float64)
    d = np.asarray(discounts, dtype=np.float64)
    done = np.asarray(dones, dtype=bool)
    t_len, n = r.shape
    vd = np.zeros((t_len, n)) if done_values is None else np.asarray(done_values, dtype=np.float64)
    nxt = np.zeros(n) if last_values is None else np.asarray(last_values, dtype=np.float64).reshape(n)
    out = np.zeros((t_len, n))
    for t in range(t_len - 1, -1, -1):
        nxt = r[t] + d[t] * np.where(done[t], vd[t], nxt)
        out[t] = nxt
    return out.astype(np.float32)


@dataclass
class CloneSummary:
    """How the cloning went (the last epoch's numbers; accuracy and entropy on all the
    demonstrations, with the masks RL uses).

    Attributes:
        policy: the cloned teacher (policy name or planner spec).
        demo_steps: decision steps of demonstrations (summed over the devices).
        epochs: passes over them.
        accuracy: share of steps where the clone's most likely action is the expert's in
            every part.
        part_accuracy: the same per action part (request, delay, chunk, kind).
        entropy: mean entropy of the clone's policy (nats, summed over the parts).
        loss: mean minibatch loss of the last epoch.
        value_loss: mean squared error of the value head of the last epoch.
        masked_out_rows: steps whose expert action the env's mask excluded (trained
            without the mask).
        expert_reward_per_step: the expert's mean raw reward per decision step.
        episodes: episodes that ended during the demonstrations.
        seconds: wall time of collection and cloning.
        dagger_agreement: per DAgger round, the share of the clone's own steps where it
            chose the teacher's action in every part (empty without DAgger).
    """

    policy: str
    demo_steps: int
    epochs: int
    accuracy: float
    part_accuracy: list[float]
    entropy: float
    loss: float
    value_loss: float
    masked_out_rows: int
    expert_reward_per_step: float
    episodes: int
    seconds: float
    dagger_agreement: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _is_maskable(model: Any) -> bool:
    from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy

    return isinstance(model.policy, MaskableActorCriticPolicy)


def check_supported(model: Any) -> None:
    """A ValueError unless ``model`` is an actor-critic (PPO, A2C, MaskablePPO) on a
    MultiDiscrete action space."""
    from gymnasium import spaces
    from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
    from stable_baselines3.common.policies import ActorCriticPolicy

    actor_critic = isinstance(model.policy, (ActorCriticPolicy, MaskableActorCriticPolicy))
    if not actor_critic or not isinstance(model.action_space, spaces.MultiDiscrete):
        raise ValueError(
            f"--init-from (behaviour cloning) supports {', '.join(SUPPORTED_ALGOS)} on the MultiDiscrete action "
            f"space; got {type(model).__name__} with {model.action_space}"
        )


def _evaluate(policy: Any, obs: Any, actions: Any, masks: Any, maskable: bool) -> tuple[Any, Any, Any]:
    if maskable:
        return policy.evaluate_actions(obs, actions, action_masks=masks)
    return policy.evaluate_actions(obs, actions)


def clone(
    model: Any,
    demos: Demonstrations | Sequence[Demonstrations],
    settings: CloneSettings,
    seed: int = 0,
    first_epoch: int = 1,
) -> CloneSummary:
    """Fit ``model``'s policy to the expert's actions and its value head to the expert's
    discounted returns (module docstring), on one block of demonstrations or several (the
    DAgger rounds': each block's returns are computed within it). Logs ``bc/*`` per epoch
    to ``model``'s logger when it has one, numbering the epochs from ``first_epoch``;
    returns the summary."""
    import torch as th

    check_supported(model)
    t0 = time.perf_counter()
    blocks = [demos] if isinstance(demos, Demonstrations) else list(demos)
    policy = model.policy
    maskable = _is_maskable(model)

    def flat(x: np.ndarray) -> np.ndarray:
        return x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])

    obs = th.as_tensor(np.concatenate([flat(b.obs) for b in blocks]))
    actions = th.as_tensor(np.concatenate([flat(b.actions) for b in blocks]))
    allowed = np.concatenate([flat(b.mask_allows()) for b in blocks])
    masks_np = np.concatenate([flat(b.masks) for b in blocks])
    masks_np[~allowed] = True  # an excluded expert action is trained without its mask
    masks = th.as_tensor(masks_np)
    rows = len(allowed)
    discounts = [step_discounts_of(model, b.dt_s) for b in blocks]
    optimizer = th.optim.Adam(policy.parameters(), lr=settings.learning_rate)
    max_grad_norm = getattr(model, "max_grad_norm", None)
    rng = np.random.default_rng(seed)
    logger = getattr(model, "_logger", None)
    policy.set_training_mode(True)
    loss_mean = value_loss_mean = float("nan")
    acc = ent = float("nan")
    part_acc: list[float] = []
    for epoch in range(1, settings.epochs + 1):
        targets = th.as_tensor(np.concatenate([_value_targets(policy, b, d) for b, d in zip(blocks, discounts)]))
        losses, vlosses = [], []
        for batch in np.array_split(rng.permutation(rows), max(1, rows // settings.batch_size)):
            b = th.as_tensor(batch)
            values, log_prob, entropy = _evaluate(policy, obs[b], actions[b], masks[b], maskable)
            value_loss = th.nn.functional.mse_loss(values.flatten(), targets[b])
            ent_term = entropy.mean() if entropy is not None else th.zeros(())
            loss = -log_prob.mean() - settings.ent_coef * ent_term + settings.vf_coef * value_loss
            optimizer.zero_grad()
            loss.backward()
            if max_grad_norm is not None:
                th.nn.utils.clip_grad_norm_(policy.parameters(), max_grad_norm)
            optimizer.step()
            losses.append(float(loss.item()))
            vlosses.append(float(value_loss.item()))
        loss_mean, value_loss_mean = float(np.mean(losses)), float(np.mean(vlosses))
        acc, part_acc, ent = _fit_quality(policy, obs, actions, masks, maskable)
        if logger is not None:
            logger.record("bc/loss", loss_mean)
            logger.record("bc/accuracy", acc)
            logger.record("bc/entropy", ent)
            logger.record("bc/value_loss", value_loss_mean)
            logger.dump(first_epoch + epoch - 1)
    policy.set_training_mode(False)
    return CloneSummary(
        policy=settings.policy,
        demo_steps=rows,
        epochs=settings.epochs,
        accuracy=acc,
        part_accuracy=part_acc,
        entropy=ent,
        loss=loss_mean,
        value_loss=value_loss_mean,
        masked_out_rows=int((~allowed).sum()),
        expert_reward_per_step=float(blocks[0].raw_rewards.mean()),
        episodes=int(sum(b.dones.sum() for b in blocks)),
        seconds=time.perf_counter() - t0,
        dagger_agreement=[b.agreement() for b in blocks[1:]],
    )


def _value_targets(policy: Any, demos: Demonstrations, discounts: np.ndarray) -> np.ndarray:
    """Flat ``[T * N]`` value targets of one block: its discounted returns, bootstrapping
    truncated episodes and the unfinished tail from the value head as it stands."""
    import torch as th

    t_len, n = demos.rewards.shape
    with th.no_grad():
        v_done = np.zeros((t_len, n), dtype=np.float32)
        if demos.dones.any():
            term = th.as_tensor(demos.terminal_obs[demos.dones])
            v_done[demos.dones] = policy.predict_values(term).numpy().reshape(-1)
        v_last = policy.predict_values(th.as_tensor(demos.last_obs)).numpy().reshape(-1)
    return discounted_returns(demos.rewards, discounts, demos.dones, v_done, v_last).reshape(t_len * n)


def _fit_quality(
    policy: Any, obs: Any, actions: Any, masks: Any, maskable: bool, chunk: int = 8192
) -> tuple[float, list[float], float]:
    """(all-parts accuracy, per-part accuracy, mean entropy) of the policy's most likely
    actions against the expert's, with the masks for a maskable policy."""
    import torch as th

    right = []
    ents = []
    with th.no_grad():
        for s in range(0, len(obs), chunk):
            o = obs[s : s + chunk]
            dist = (
                policy.get_distribution(o, action_masks=masks[s : s + chunk])
                if maskable
                else policy.get_distribution(o)
            )
            mode = dist.mode().reshape(len(o), -1)
            right.append((mode == actions[s : s + chunk]).numpy())
            ents.append(dist.entropy().numpy().reshape(-1))
    r = np.concatenate(right)
    return float(r.all(axis=1).mean()), [float(x) for x in r.mean(axis=0)], float(np.concatenate(ents).mean())


def behaviour_clone(model: Any, settings: CloneSettings, seed: int = 0) -> CloneSummary:
    """Collect ``settings.steps`` decision steps of ``settings.policy`` on ``model``'s own
    training env and clone them into ``model`` (:func:`collect_demonstrations`,
    :func:`clone`), then run ``settings.dagger_rounds`` DAgger rounds (module docstring).
    The env is left mid-episode; SB3's ``learn`` resets it."""
    check_supported(model)
    t0 = time.perf_counter()
    env = model.get_env()
    blocks = [collect_demonstrations(env, settings.policy, settings.steps, seed=seed)]
    summary = clone(model, blocks, settings, seed=seed)
    logger = getattr(model, "_logger", None)
    for r in range(1, settings.dagger_rounds + 1):
        steps = settings.dagger_steps or settings.steps
        block = collect_demonstrations(env, settings.policy, steps, seed=seed + r, driver=_driver(model))
        blocks.append(block)
        if logger is not None:
            logger.record("bc/dagger_agreement", block.agreement())
            logger.dump(settings.epochs * r)
        summary = clone(model, blocks, settings, seed=seed + r, first_epoch=settings.epochs * r + 1)
    summary.seconds = time.perf_counter() - t0
    return summary


def _driver(model: Any) -> Driver:
    """The model's deterministic action (its head's mode, as evaluation plays it)."""
    maskable = _is_maskable(model)

    def act(obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        if maskable:
            return model.predict(obs, deterministic=True, action_masks=masks)[0]
        return model.predict(obs, deterministic=True)[0]

    return act


__all__ = [
    "CONFIG_KEYS",
    "CloneSettings",
    "CloneSummary",
    "Demonstrations",
    "behaviour_clone",
    "check_supported",
    "clone",
    "collect_demonstrations",
    "discounted_returns",
    "settings_from_entry",
    "step_discounts_of",
]
