"""Training configs: rl-baselines3-zoo's YAML hyperparameter files, read into typed objects.

A file in ``configs/train/`` has one entry per env id, exactly as a zoo file
(``hyperparams/ppo.yml``), so ``python -m rl_zoo3.train --algo ppo --env bgenv/iOS-v1
--gym-packages bgenv -conf configs/train/ppo.yaml`` reads the same numbers as
``bgenv train --config configs/train/ppo.yaml``. Besides the env ids, a file may hold a
top-level ``algo:`` key (the zoo ignores keys that are not env ids); without it the algorithm
is the file's stem (``ppo.yaml`` -> ``ppo``).

Zoo conventions understood here: ``n_envs``, ``n_timesteps``, ``policy``, ``normalize``
(bool, dict or the string ``"dict(norm_obs=True, norm_reward=False)"``), ``policy_kwargs``
(dict or string such as ``"dict(net_arch=[64, 64])"``), ``env_wrapper`` (dotted class
path), schedules ``lin_<value>`` (linear decay from value to 0), and every other key as a
keyword of the algorithm's constructor.

Keys that are bgenv's own (rl-baselines3-zoo would pass them to the algorithm and fail, so
files meant for the zoo leave them out):

* ``fused_head`` (bool, default true): ``policy: MlpPolicy`` of PPO, A2C and MaskablePPO on a
  MultiDiscrete action space trains with the fused action head of
  :mod:`agents.distributions` (same network and distribution, about twice the steps per
  second); ``fused_head: false`` keeps SB3's stock head.
* ``discount_half_life_h`` (hours, PPO, A2C and MaskablePPO): discount by simulated time,
  ``gamma_t = 0.5 ** (dt_s / half-life)`` per step, in GAE, the truncation bootstrap and
  the reward normalisation (:mod:`agents.time_discount`), instead of ``gamma`` per decision
  (a file may not give both).
* ``battery_budget`` (a fraction of a full battery per simulated week, or a hand-written
  policy's name such as ``guidelines``: its weekly battery cost on the run's validation
  episodes), ``battery_budget_lr`` and ``battery_budget_price`` (the starting price): train
  against a battery budget with a learned battery price (:mod:`agents.battery_budget`).
* ``action_head``: ``conditional`` (the default for MaskablePPO) or ``independent`` (the
  default for PPO and A2C; :data:`DEFAULT_ACTION_HEAD`). With the fused head,
  ``conditional`` builds :class:`~agents.distributions.ConditionalMlpPolicy` /
  :class:`~agents.distributions.ConditionalMaskableMlpPolicy` (the delay counts only with a
  request, the work kind only with a chunk; the deterministic action is the joint most
  likely one), ``independent`` the fused head of independent parts that models trained
  before it use. ``fused_head: false`` means SB3's stock head, whose parts are independent,
  whatever ``action_head`` says.
* ``init_from`` (a hand-written policy name, PPO, A2C and MaskablePPO) and its knobs
  ``init_from_steps``, ``init_from_epochs``, ``init_from_lr``, ``init_from_batch_size``,
  ``init_from_ent_coef``, ``init_from_vf_coef``: warm start a new model by behaviour
  cloning of that policy before RL (:mod:`agents.imitation`; ``bgenv train --init-from``).
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from agents.imitation import CloneSettings

ALGOS = ("ppo", "a2c", "dqn", "maskable_ppo")
ZOO_KEYS = ("n_envs", "n_timesteps", "policy", "normalize", "policy_kwargs", "env_wrapper")
ACTION_HEADS = ("conditional", "independent")
DEFAULT_ACTION_HEAD = {"maskable_ppo": "conditional"}
"""``action_head`` when the config does not say: conditional for MaskablePPO, independent
otherwise (measured at 300k steps: the conditional head did at least as well with
MaskablePPO on iOS and Android, not with PPO on Android; docs/training.md)."""
SCHEDULE_KEYS = ("learning_rate", "clip_range", "clip_range_vf")


class HyperparamError(ValueError):
    """A training config that cannot be used, with the file and key at fault."""


def algo_class(algo: str) -> type:
    """The stable-baselines3 / sb3-contrib class of ``algo`` (``ppo``, ``a2c``, ``dqn``,
    ``maskable_ppo``)."""
    if algo == "ppo":
        from stable_baselines3 import PPO

        return PPO
    if algo == "a2c":
        from stable_baselines3 import A2C

        return A2C
    if algo == "dqn":
        from stable_baselines3 import DQN

        return DQN
    if algo == "maskable_ppo":
        from sb3_contrib import MaskablePPO

        return MaskablePPO
    raise HyperparamError(f"unknown algo '{algo}'; available: {', '.join(ALGOS)}")


def linear_schedule(initial: float) -> Callable[[float], float]:
    """SB3 schedule: ``progress_remaining`` (1 -> 0) times ``initial``."""

    def schedule(progress_remaining: float) -> float:
        return progress_remaining * initial

    schedule.initial = initial  # type: ignore[attr-defined]
    return schedule


_SAFE_CALLS = {"dict": dict, "list": list, "tuple": tuple}


def _literal(text: str, where: str) -> Any:
    """A zoo-style Python literal such as ``"dict(net_arch=[64, 64])"``, without ``eval``:
    only literals and ``dict``/``list``/``tuple`` calls, plus ``nn.<Activation>`` names."""

    def conv(node: ast.AST) -> Any:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _SAFE_CALLS:
            args = [conv(a) for a in node.args]
            kwargs = {k.arg: conv(k.value) for k in node.keywords}
            return _SAFE_CALLS[node.func.id](*args, **kwargs)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("nn", "th"):
            from torch import nn

            return getattr(nn, node.attr)
        if isinstance(node, ast.Dict):
            return {conv(k): conv(v) for k, v in zip(node.keys, node.values)}
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [conv(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -conv(node.operand)
        if isinstance(node, ast.Constant):
            return node.value
        raise HyperparamError(f"{where}: unsupported expression {ast.unparse(node)!r}")

    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise HyperparamError(f"{where}: not a Python literal: {text!r}") from e
    return conv(tree.body)


def import_object(path: str) -> Any:
    """``package.module.Name`` -> the object."""
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as e:
        raise HyperparamError(f"cannot import {path!r}: {e}") from e


@dataclass
class TrainConfig:
    """One algorithm's settings for one env id, from a zoo-style YAML file.

    Attributes:
        algo: ``ppo``, ``a2c``, ``dqn`` or ``maskable_ppo``.
        env_id: ``bgenv/iOS-v1`` or ``bgenv/Android-v1``.
        n_envs: devices simulated side by side (one batched env).
        n_timesteps: default training budget in env steps (decision points).
        policy: SB3 policy name (``MlpPolicy``).
        normalize_kwargs: ``VecNormalize`` keywords, or None for no normalisation.
        env_wrapper: dotted path of a wrapper applied to the env (e.g. the flat-action
            wrapper DQN needs), or None.
        algo_kwargs: every other key, passed to the algorithm's constructor (schedules
            and ``policy_kwargs`` already converted).
        raw: the entry as written in the file (for logging and ``run.yaml``).
        source: the file it came from.
        fused_head: train ``MlpPolicy`` with the fused MultiDiscrete action head
            (:meth:`policy_for`); False keeps SB3's stock head.
        half_life_h: discount by simulated time with this half-life (hours), or None for
            SB3's per-step ``gamma``. ``algo_kwargs`` then holds ``half_life_h`` for the
            time-discounted class (:meth:`algo_class`).
        battery_budget: weekly battery budget of the run (fraction of a full battery, or
            a hand-written policy's name), or None for none (:mod:`agents.battery_budget`).
        battery_budget_lr: the budget's price step (None: the module's default).
        battery_budget_price: the price the run starts from (reward units per % of
            battery; None: 0).
        action_head: ``conditional`` or ``independent`` parts of the fused head (see the
            module docstring).
        init: behaviour-cloning warm start of a new model
            (:class:`~agents.imitation.CloneSettings`, the ``init_from*`` keys), or None.
    """

    algo: str
    env_id: str
    n_envs: int
    n_timesteps: int
    policy: str
    normalize_kwargs: dict[str, Any] | None
    env_wrapper: str | None
    algo_kwargs: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    fused_head: bool = True
    half_life_h: float | None = None
    battery_budget: float | str | None = None
    battery_budget_lr: float | None = None
    battery_budget_price: float | None = None
    action_head: str = "independent"
    init: CloneSettings | None = None

    def algo_class(self) -> type:
        """The class to train: the algorithm's, or its time-discounted version
        (:data:`agents.time_discount.TIME_DISCOUNTED`) when ``half_life_h`` is set."""
        if self.half_life_h is None:
            return algo_class(self.algo)
        from agents.time_discount import TIME_DISCOUNTED

        return TIME_DISCOUNTED[self.algo]

    def wrap_normalize(self, venv: Any) -> Any:
        """``venv`` wrapped in ``VecNormalize`` (or, with ``half_life_h``,
        :class:`~agents.time_discount.TimeVecNormalize`) as the file asks; ``venv`` itself
        without ``normalize``."""
        if self.normalize_kwargs is None:
            return venv
        if self.half_life_h is None:
            from stable_baselines3.common.vec_env import VecNormalize

            return VecNormalize(venv, **self.normalize_kwargs)
        from agents.time_discount import TimeVecNormalize

        return TimeVecNormalize(venv, half_life_h=self.half_life_h, **self.normalize_kwargs)

    def policy_for(self, action_space: Any) -> str | type:
        """The policy to build for ``action_space``: ``policy`` as written, except that
        ``MlpPolicy`` of PPO, A2C and MaskablePPO on a MultiDiscrete space becomes
        :class:`~agents.distributions.FusedMlpPolicy` /
        :class:`~agents.distributions.FusedMaskableMlpPolicy` when ``fused_head``, or their
        conditional versions (:class:`~agents.distributions.ConditionalMlpPolicy`, ...)
        when ``action_head`` is ``conditional``."""
        from gymnasium import spaces

        if not (self.fused_head and self.policy == "MlpPolicy" and isinstance(action_space, spaces.MultiDiscrete)):
            return self.policy
        from agents.distributions import CONDITIONAL_POLICIES, FUSED_POLICIES

        table = CONDITIONAL_POLICIES if self.action_head == "conditional" else FUSED_POLICIES
        return table.get(self.algo, self.policy)

    def hparams(self) -> dict[str, float | int | str | bool]:
        """Flat scalar view for TensorBoard's HParams tab."""
        out: dict[str, float | int | str | bool] = {"algo": self.algo, "n_envs": self.n_envs, "policy": self.policy}
        out["normalize"] = str(self.raw.get("normalize", False))
        out["fused_head"] = self.fused_head
        out["discount_half_life_h"] = self.half_life_h if self.half_life_h is not None else "none"
        out["action_head"] = self.action_head
        out["init_from"] = self.init.policy if self.init is not None else "none"
        if self.init is not None:
            for k, v in self.init.as_dict().items():
                if k != "policy":
                    out[f"init_from_{k}"] = v
        for k, v in self.raw.items():
            if k in (
                "n_envs",
                "policy",
                "normalize",
                "n_timesteps",
                "fused_head",
                "discount_half_life_h",
                "action_head",
            ):
                continue
            if k.startswith("init_from"):
                continue
            out[k] = v if isinstance(v, (int, float, str, bool)) else str(v)
        return out


def load_train_config(path: str | Path, env_id: str, n_envs: int | None = None) -> TrainConfig:
    """Read the entry for ``env_id`` from a zoo-style YAML file (a ``default`` entry is
    used when the id has none, as the zoo does). ``n_envs`` overrides the file."""
    p = Path(path)
    if not p.is_file():
        raise HyperparamError(f"training config not found: {p}")
    with p.open() as f:
        doc = yaml.safe_load(f) or {}
    if not isinstance(doc, dict):
        raise HyperparamError(f"{p}: expected a mapping of env ids to hyperparameters")
    algo = str(doc.get("algo", p.stem)).lower().replace("-", "_")
    if algo not in ALGOS:
        raise HyperparamError(f"{p}: algo '{algo}' unknown; set a top-level 'algo:' key to one of {', '.join(ALGOS)}")
    entry = doc.get(env_id, doc.get("default"))
    if entry is None:
        ids = [k for k in doc if k != "algo"]
        raise HyperparamError(f"{p}: no entry for '{env_id}' (entries: {', '.join(map(str, ids))})")
    raw = dict(entry)
    hp = dict(entry)
    where = f"{p}:{env_id}"
    n = int(n_envs if n_envs is not None else hp.pop("n_envs", 1))
    hp.pop("n_envs", None)
    if n < 1:
        raise HyperparamError(f"{where}: n_envs must be >= 1; got {n}")
    n_timesteps = int(float(hp.pop("n_timesteps", 1e6)))
    policy = str(hp.pop("policy", "MlpPolicy"))
    fused_head = hp.pop("fused_head", True)
    if not isinstance(fused_head, bool):
        raise HyperparamError(f"{where}.fused_head: expected true or false; got {fused_head!r}")
    half_life = hp.pop("discount_half_life_h", None)
    if half_life is not None:
        if isinstance(half_life, bool) or not isinstance(half_life, (int, float)) or not half_life > 0:
            raise HyperparamError(f"{where}.discount_half_life_h: expected hours > 0; got {half_life!r}")
        if algo not in ("ppo", "a2c", "maskable_ppo"):
            raise HyperparamError(f"{where}.discount_half_life_h: only ppo, a2c and maskable_ppo discount by time")
        if "gamma" in hp:
            raise HyperparamError(
                f"{where}: give either gamma (discount per decision) or discount_half_life_h (per simulated "
                "time), not both"
            )
        half_life = float(half_life)
    budget = hp.pop("battery_budget", None)
    budget_lr = hp.pop("battery_budget_lr", None)
    budget_price = hp.pop("battery_budget_price", None)
    if budget is not None:
        if isinstance(budget, bool) or not (
            isinstance(budget, str) or (isinstance(budget, (int, float)) and budget > 0)
        ):
            raise HyperparamError(
                f"{where}.battery_budget: expected a fraction of a battery per week > 0 or a policy name; got {budget!r}"
            )
        budget = budget if isinstance(budget, str) else float(budget)
    if budget_lr is not None:
        if isinstance(budget_lr, bool) or not isinstance(budget_lr, (int, float)) or not budget_lr > 0:
            raise HyperparamError(f"{where}.battery_budget_lr: expected a number > 0; got {budget_lr!r}")
        if budget is None:
            raise HyperparamError(f"{where}.battery_budget_lr: set battery_budget too")
        budget_lr = float(budget_lr)
    if budget_price is not None:
        if isinstance(budget_price, bool) or not isinstance(budget_price, (int, float)) or not budget_price >= 0:
            raise HyperparamError(f"{where}.battery_budget_price: expected a number >= 0; got {budget_price!r}")
        if budget is None:
            raise HyperparamError(f"{where}.battery_budget_price: set battery_budget too")
        budget_price = float(budget_price)
    action_head = hp.pop("action_head", DEFAULT_ACTION_HEAD.get(algo, "independent"))
    if action_head not in ACTION_HEADS:
        raise HyperparamError(f"{where}.action_head: expected one of {', '.join(ACTION_HEADS)}; got {action_head!r}")
    from agents.imitation import settings_from_entry

    try:
        init = settings_from_entry(hp, where)
    except ValueError as e:
        raise HyperparamError(str(e)) from None
    if init is not None and algo not in ("ppo", "a2c", "maskable_ppo"):
        raise HyperparamError(f"{where}.init_from: behaviour cloning warm-starts ppo, a2c and maskable_ppo; not {algo}")
    norm = hp.pop("normalize", False)
    normalize_kwargs: dict[str, Any] | None
    if isinstance(norm, str):
        norm = _literal(norm, f"{where}.normalize")
    if norm is True:
        normalize_kwargs = {}
    elif not norm:
        normalize_kwargs = None
    elif isinstance(norm, dict):
        normalize_kwargs = dict(norm)
    else:
        raise HyperparamError(f"{where}.normalize: expected a bool or a dict; got {norm!r}")
    if normalize_kwargs is not None and "gamma" in hp:
        normalize_kwargs.setdefault("gamma", float(hp["gamma"]))
    if "policy_kwargs" in hp and isinstance(hp["policy_kwargs"], str):
        hp["policy_kwargs"] = _literal(hp["policy_kwargs"], f"{where}.policy_kwargs")
    for key in SCHEDULE_KEYS:
        v = hp.get(key)
        if isinstance(v, str):
            if not v.startswith("lin_"):
                raise HyperparamError(f"{where}.{key}: a schedule must look like 'lin_3e-4'; got {v!r}")
            hp[key] = linear_schedule(float(v[4:]))
    if "train_freq" in hp and isinstance(hp["train_freq"], list):
        hp["train_freq"] = tuple(hp["train_freq"])
    wrapper = hp.pop("env_wrapper", None)
    if isinstance(wrapper, list):
        if len(wrapper) != 1:
            raise HyperparamError(f"{where}.env_wrapper: one wrapper is supported; got {wrapper}")
        wrapper = wrapper[0]
    for bad in ("frame_stack", "callback", "vec_env_wrapper"):
        if bad in hp:
            raise HyperparamError(f"{where}.{bad}: not supported by bgenv train (use rl_zoo3 for it)")
    cls = algo_class(algo)
    import inspect

    allowed = set(inspect.signature(cls.__init__).parameters) - {"self", "policy", "env"}
    unknown = sorted(set(hp) - allowed)
    if unknown:
        raise HyperparamError(f"{where}: {cls.__name__} has no parameter(s) {', '.join(unknown)}")
    if half_life is not None:
        hp["half_life_h"] = half_life
    return TrainConfig(
        algo=algo,
        env_id=env_id,
        n_envs=n,
        n_timesteps=n_timesteps,
        policy=policy,
        normalize_kwargs=normalize_kwargs,
        env_wrapper=str(wrapper) if wrapper else None,
        algo_kwargs=hp,
        raw=raw,
        source=str(p),
        fused_head=fused_head,
        half_life_h=half_life,
        battery_budget=budget,
        battery_budget_lr=budget_lr,
        battery_budget_price=budget_price,
        action_head=action_head,
        init=init,
    )
