"""Evaluate hand-written policies and trained models on held-out seeds.

Every policy is evaluated the same way: ``episodes`` devices of the batched env
(:class:`bgenv.envs.vector.BackgroundSchedulingVectorEnv`), device ``k`` reset with seed
``seed + k``, stepped together until each has finished one full episode. Device ``k``
follows exactly the single env reset with that seed, so the numbers equal a loop over
``gym.make`` episodes, only faster, and every policy meets the same simulated user weeks.

Seeds: training uses seeds below :data:`EVAL_SEED_MIN` (``bgenv train`` checks it); final
evaluation (``bgenv eval``/``compare``) uses seeds from :data:`TEST_SEED` up; the periodic
evaluations during training use another held-out range from :data:`VALIDATION_SEED` up, so
choosing a checkpoint never looks at the test episodes.

A *policy spec* is a hand-written policy name (``guidelines``, ``random``, ...), an intent
policy name (``cross_guidelines``, ``cross_random``: ``agents.intent_policies``, run on
``bgenv/CrossPlatform-v1``, the scenario's platform through a cross-platform library's
intents, on the same seeds, so it pairs with the native policies), a planning
policy (``oracle``, ``planner``, optionally with knobs: ``agents.planning``), your own policy
class (``path/to/file.py:ClassName`` or ``package.module:ClassName``: ``agents.plugins``) or
the path of a trained model's ``.zip``; the model's observation-normalisation statistics are read
from ``vecnormalize.pkl`` beside it (or ``<name>_vecnormalize.pkl`` for a checkpoint).
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

import bgenv
from agents.intent_policies import INTENT_POLICIES, make_intent_policy
from agents.planning import PlanningPolicy, is_planner_spec, make_planner
from agents.plugins import is_plugin_spec, make_plugin, plugin_label
from agents.policies import POLICIES, make_policy
from bgenv.envs.crossplatform import CROSS, CROSS_OBSERVATION_NAMES
from bgenv.rollout import rollout_batch

EVAL_SEED_MIN = 10_000  # every seed from here up is held out of training
TEST_SEED = 10_000  # default first seed of bgenv eval / compare
VALIDATION_SEED = 50_000  # default first seed of the periodic evaluations during training
MAX_BATCH = 256  # devices simulated side by side in one evaluation batch
PAIRED_METRICS = ("episode_reward", "battery_cost", "completion_rate")  # paired against guidelines in compare
# the per-trace breakdown of a trace world (bgenv eval / compare --world)
TRACE_METRICS = ("completion_rate", "battery_cost", "episode_reward", "battery_gap_rms", "off_share")
REFERENCE_POLICIES = ("random", "fixed-interval", "charging-only", "greedy", "guidelines")


class PolicyLike(Protocol):
    """Anything that maps observations (and action masks) to actions."""

    name: str

    def act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray: ...


def check_eval_seed(seed: int) -> None:
    """Refuse evaluation seeds that training may have used."""
    if seed < EVAL_SEED_MIN:
        raise ValueError(
            f"evaluation seeds start at {EVAL_SEED_MIN} (seeds below are training seeds); got --seed {seed}"
        )


# ---------------------------------------------------------------------------
# trained models as policies
# ---------------------------------------------------------------------------
def stats_beside(model_path: Path) -> Path | None:
    """The ``VecNormalize`` statistics saved with a model: a checkpoint's
    ``<prefix>_vecnormalize_<steps>_steps.pkl`` (SB3's CheckpointCallback), then
    ``<stem>_vecnormalize.pkl`` (``best_model``), then the run's ``vecnormalize.pkl``."""
    stem = model_path.stem
    cands = []
    if stem.endswith("_steps"):
        prefix, _, steps = stem[: -len("_steps")].rpartition("_")
        cands.append(model_path.with_name(f"{prefix}_vecnormalize_{steps}_steps.pkl"))
    cands += [model_path.with_name(stem + "_vecnormalize.pkl"), model_path.with_name("vecnormalize.pkl")]
    return next((c for c in cands if c.is_file()), None)


def load_algo_model(path: str | Path):
    """Load a model saved by ``bgenv train`` (or any SB3 / sb3-contrib zip), trying each
    supported algorithm."""
    from stable_baselines3 import A2C, DQN, PPO

    classes: list[Any] = [PPO, A2C, DQN]
    try:
        from sb3_contrib import MaskablePPO

        classes.insert(0, MaskablePPO)
    except ImportError:  # pragma: no cover
        pass
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no model at {p}")
    algo = _algo_from_zip(p)
    errors = []
    for cls in classes:
        if algo and cls.__name__.lower() != algo:
            continue
        try:
            return cls.load(p, device="cpu")
        except Exception as e:  # a zip of another algorithm
            errors.append(f"{cls.__name__}: {e}")
    raise ValueError(f"{p} is not a model of {', '.join(c.__name__ for c in classes)}: {'; '.join(errors)}")


def _algo_from_zip(p: Path) -> str | None:
    """The algorithm recorded in ``run.yaml`` beside the model by ``bgenv train``."""
    run = p.parent / "run.yaml"
    if not run.is_file() and p.parent.name == "checkpoints":
        run = p.parent.parent / "run.yaml"
    if run.is_file():
        import yaml

        doc = yaml.safe_load(run.read_text()) or {}
        return {"ppo": "ppo", "a2c": "a2c", "dqn": "dqn", "maskable_ppo": "maskableppo"}.get(doc.get("algo", ""))
    return None


def is_maskable(model: Any) -> bool:
    """Whether ``model`` samples with action masks: sb3-contrib's MaskablePPO or a subclass
    (``agents.time_discount.TimeMaskablePPO``)."""
    try:
        from sb3_contrib import MaskablePPO
    except ImportError:  # pragma: no cover
        return False
    return isinstance(model, MaskablePPO)


class ModelPolicy:
    """A trained model as a policy: normalises observations with the statistics saved
    beside it, acts deterministically, uses action masks when the model takes them
    (MaskablePPO) and maps flat actions back to MultiDiscrete (DQN)."""

    def __init__(
        self,
        model: Any,
        nvec: Sequence[int],
        vecnormalize: Any | None = None,
        name: str = "model",
        deterministic: bool = True,
    ) -> None:
        import gymnasium as gym

        self.model = model
        self.deterministic = deterministic
        self.name = name
        self.nvec = np.asarray(nvec, dtype=np.int64)
        self.vecnormalize = vecnormalize
        self.flat = isinstance(model.action_space, gym.spaces.Discrete)
        self.masked = is_maskable(model)

    @classmethod
    def load(
        cls, path: str | Path, nvec: Sequence[int], name: str | None = None, deterministic: bool = True
    ) -> ModelPolicy:
        p = Path(path)
        model = load_algo_model(p)
        vn_path = stats_beside(p)
        vn = None
        if vn_path is not None:
            with vn_path.open("rb") as f:
                vn = pickle.load(f)
            vn.training = False
        return cls(model, nvec, vn, name=name or p.stem, deterministic=deterministic)

    def reset(self, seed: int | None = None) -> None:
        """Seed torch's generator, which samples the actions of a stochastic policy."""
        if seed is not None and not self.deterministic:
            import torch

            torch.manual_seed(seed)

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        if self.vecnormalize is None or not self.vecnormalize.norm_obs:
            return obs
        return self.vecnormalize.normalize_obs(obs)

    def act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        x = self.normalize(np.asarray(obs, dtype=np.float32))
        if self.masked:
            if mask is not None and self.flat:
                from bgenv.envs.wrappers import flat_mask

                mask = flat_mask(mask, self.nvec)
            a, _ = self.model.predict(x, deterministic=self.deterministic, action_masks=mask)
        else:
            a, _ = self.model.predict(x, deterministic=self.deterministic)
        a = np.asarray(a)
        if self.flat:
            from bgenv.envs.wrappers import unflatten

            a = unflatten(a, self.nvec)
        return a.astype(np.int64)


def uses_intents(policy: str | PolicyLike) -> bool:
    """Whether ``policy`` acts in intents (``bgenv/CrossPlatform-v1``): an intent policy's
    name, a policy object bound to an intent action table, or a trained model whose
    observation is the intent env's."""
    if isinstance(policy, str):
        return policy in INTENT_POLICIES
    if getattr(getattr(policy, "ctx", None), "platform", None) == CROSS:
        return True
    space = getattr(getattr(policy, "model", None), "observation_space", None)
    return getattr(space, "shape", None) == (len(CROSS_OBSERVATION_NAMES),)


def preload_model(spec: str, seed: int | None, deterministic: bool = True) -> ModelPolicy | None:
    """The trained model of a model spec, loaded before its env exists (its observation
    space tells whether it runs on ``bgenv/CrossPlatform-v1``: :func:`uses_intents`);
    :func:`bind_model` gives it the env's action parts. None for any other spec."""
    if (
        spec in POLICIES
        or spec in INTENT_POLICIES
        or is_planner_spec(spec)
        or is_plugin_spec(spec)
        or spec.endswith(".py")
        or not is_model_spec(spec)
    ):
        return None
    pol = ModelPolicy.load(spec, (), deterministic=deterministic)
    pol.reset(seed)
    return pol


def bind_model(pol: Any, env: Any) -> None:
    """Give a model loaded by :func:`preload_model` the action parts of ``env``."""
    if isinstance(pol, ModelPolicy) and len(pol.nvec) == 0:
        from bgenv.envs.actions import ActionTable

        pol.nvec = np.asarray(ActionTable.from_env(env).nvec, dtype=np.int64)


def env_id_of(policy: str, scenario: str | Path) -> str:
    """The env id a single-env episode of ``policy`` on ``scenario`` runs on:
    ``bgenv/CrossPlatform-v1`` for an intent policy, else the scenario's platform's."""
    from bgenv.registration import CROSS_ENV_ID, env_id_for

    return CROSS_ENV_ID if policy in INTENT_POLICIES else env_id_for(scenario)


def is_model_spec(spec: str) -> bool:
    return spec.endswith(".zip") or Path(spec).is_file()


def load_policy(spec: str, env: Any, seed: int | None = None, deterministic: bool = True) -> PolicyLike:
    """A policy from a spec: a hand-written name, a planning policy, a policy class
    (``file.py:Class`` or ``module:Class``, :mod:`agents.plugins`) or a trained model's ``.zip`` path.
    ``env`` is a single or batched bgenv env (for the action space). A model acts
    deterministically (its head's mode: the most likely choice of each action part for
    the independent heads, the most likely distinct action for the conditional head of
    :mod:`agents.distributions`) unless ``deterministic=False``, when it samples, seeded
    by ``seed``."""
    if spec in POLICIES:
        return make_policy(spec, env, seed=seed)
    if spec in INTENT_POLICIES:
        return make_intent_policy(spec, env, seed=seed)
    if is_planner_spec(spec):
        return make_planner(spec, env, seed=seed)
    if is_plugin_spec(spec):
        return make_plugin(spec, env, seed=seed)
    if spec.endswith(".py"):
        raise ValueError(f"{spec} is a Python file: name its policy class too, {spec}:ClassName")
    if is_model_spec(spec):
        from bgenv.envs.actions import ActionTable

        nvec = ActionTable.from_env(env).nvec
        pol = ModelPolicy.load(spec, nvec, deterministic=deterministic)
        pol.reset(seed)
        return pol
    raise ValueError(
        f"unknown policy '{spec}': use one of {', '.join([*POLICIES, *INTENT_POLICIES, *PlanningPolicy.NAMES])}, "
        "path/to/file.py:ClassName or package.module:ClassName (your own policy class), or the path of a model .zip"
    )


def policy_label(spec: str) -> str:
    """A short name for a policy spec in tables: the name, a policy class's name
    (:func:`agents.plugins.plugin_label`), or ``<run dir>/<file stem>``."""
    if spec in POLICIES or spec in INTENT_POLICIES or is_planner_spec(spec):
        return spec
    if is_plugin_spec(spec):
        return plugin_label(spec)
    p = Path(spec)
    return f"{p.parent.name}/{p.stem}" if p.parent.name else p.stem


# ---------------------------------------------------------------------------
# running episodes
# ---------------------------------------------------------------------------
@dataclass
class EpisodeResults:
    """Final ``info["metrics"]`` of each evaluated episode, in seed order; with a trace
    world, ``traces`` names the trace each episode replayed (empty otherwise)."""

    policy: str
    scenario: str
    seeds: list[int] = field(default_factory=list)
    metrics: list[dict[str, float]] = field(default_factory=list)
    traces: list[str] = field(default_factory=list)

    def values(self, key: str) -> np.ndarray:
        return np.array([m[key] for m in self.metrics], dtype=float)

    def by_trace(self, metrics: Sequence[str] = TRACE_METRICS) -> list[tuple[str, int, dict[str, tuple[float, float]]]]:
        """Rows ``(trace, episodes, {metric: (mean, ci95)})`` per replayed trace, in order
        of first appearance (empty without a trace world)."""
        if not self.traces:
            return []
        names = np.array(self.traces)
        rows = []
        for name in dict.fromkeys(self.traces):
            sel = names == name
            rows.append((name, int(sel.sum()), {m: mean_ci(self.values(m)[sel]) for m in metrics}))
        return rows

    def summary(self) -> dict[str, tuple[float, float]]:
        """Mean and 95 % confidence half-width per metric (Student's t; NaN episodes,
        e.g. freshness with no app opens, are left out)."""
        out: dict[str, tuple[float, float]] = {}
        for k in self.metrics[0]:
            out[k] = mean_ci(self.values(k))
        return out


# Student's t 97.5 % quantiles for 1..30 degrees of freedom
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


def t975(df: int) -> float:
    """Student's t 97.5 % quantile (two-sided 95 %): a table to 30 degrees of freedom, then
    the Cornish-Fisher expansion around the normal quantile (error < 1e-4)."""
    if df < 1:
        return math.nan
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def mean_ci(x: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of its 95 % confidence interval (Student's t); NaN values
    (e.g. freshness in an episode without app opens) are left out."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return math.nan, math.nan
    if len(x) == 1:
        return float(x[0]), math.nan
    half = t975(len(x) - 1) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return float(x.mean()), half


WORLD_ARGS = ("world", "world_mode", "world_battery")
TRACE_KEY = "world_trace"  # read from each device's final_info with a trace world
"""Keys of ``overrides`` that go to the env, not to the scenario."""


def evaluate(
    policy: str | PolicyLike,
    scenario: str | Path,
    episodes: int,
    seed: int,
    batch: int = MAX_BATCH,
    deterministic: bool = True,
    **overrides: Any,
) -> EpisodeResults:
    """``episodes`` full episodes of ``policy`` with seeds ``seed, seed+1, ...`` on the
    batched env (``batch`` devices at a time). ``policy`` is a spec or a policy object;
    ``deterministic`` applies to trained models given by path. An intent policy
    (:func:`uses_intents`) runs on ``bgenv/CrossPlatform-v1`` over the same scenario and
    seeds. ``overrides`` may hold the env's ``world``, ``world_mode`` and
    ``world_battery`` (``bgenv.world``: replay a trace or a folder of traces; episode ``k``
    replays the window its seed picks, ``EpisodeResults.traces`` names its trace; not with
    intent policies)."""
    from bgenv.envs.cross_vector import CrossPlatformVectorEnv
    from bgenv.envs.vector import BackgroundSchedulingVectorEnv
    from bgenv.fleet import fleet_of_spec, is_fleet_spec

    if is_fleet_spec(scenario):  # fleet:<name>: device k draws its scenario from seed + k
        from agents.population import evaluate_fleet

        if overrides:
            raise ValueError("scenario overrides do not apply to a fleet: put them in the fleet file's cohorts")
        res_f = evaluate_fleet(policy, fleet_of_spec(str(scenario)), episodes, seed, batch, deterministic)
        res_f.scenario = str(scenario)
        return res_f
    world = {k: overrides.pop(k) for k in WORLD_ARGS if k in overrides}  # the env's, not the scenario's
    platform = bgenv.load_scenario(scenario, **overrides).platform
    label = policy if isinstance(policy, str) else getattr(policy, "name", "policy")
    res = EpisodeResults(policy_label(label) if isinstance(policy, str) else label, str(scenario))
    done_total = 0
    pol: PolicyLike | None = None if isinstance(policy, str) else policy
    if isinstance(policy, str):  # a model is loaded first: its observation tells the env
        pol = preload_model(policy, seed, deterministic)
    intents = uses_intents(policy if pol is None else pol)
    while done_total < episodes:
        n = min(batch, episodes - done_total)
        if intents:
            if world:
                raise ValueError("a trace world replays on the native envs, not on bgenv/CrossPlatform-v1")
            env = CrossPlatformVectorEnv(n, scenario=scenario, record_events=False, **overrides)
        else:
            env = BackgroundSchedulingVectorEnv(
                n, platform=platform, scenario=scenario, record_events=False, **world, **overrides
            )
        bind_model(pol, env)
        if pol is None:
            pol = load_policy(str(policy), env, seed=seed, deterministic=deterministic)
        elif isinstance(policy, str) and hasattr(pol, "reset"):
            pol.reset(seed + done_total)
        seeds = [seed + done_total + k for k in range(n)]
        tw = getattr(env, "world", None)
        metrics = rollout_batch(env, pol, seeds, final_keys=(TRACE_KEY,) if tw is not None else ())
        if tw is not None:
            res.traces.extend(tw.labels[int(m.pop(TRACE_KEY))] for m in metrics)
        env.close()
        res.seeds.extend(seeds)
        res.metrics.extend(metrics)
        done_total += n
    return res


def run_episodes(policy_name: str, scenario: str, episodes: int, seed: int, **overrides: Any) -> EpisodeResults:
    """Alias of :func:`evaluate` for a policy spec (kept for existing callers)."""
    return evaluate(policy_name, scenario, episodes, seed, **overrides)


# ---------------------------------------------------------------------------
# comparisons
# ---------------------------------------------------------------------------
def normalized_score(reward: float, random_reward: float, guidelines_reward: float) -> float:
    """Episode reward on a scale where ``random`` scores 0 and ``guidelines`` 1 (as
    human-normalised Atari scores); above 1 beats the guidelines."""
    span = guidelines_reward - random_reward
    if not math.isfinite(span) or abs(span) < 1e-9:
        return math.nan
    return (reward - random_reward) / span


@dataclass
class Comparison:
    """Results of several policies on the same seeds, with scores normalised to
    ``guidelines`` (1) and ``random`` (0)."""

    scenario: str
    episodes: int
    seed: int
    results: list[EpisodeResults]
    anchors: dict[str, float]  # mean episode reward of random and guidelines
    references: dict[str, EpisodeResults] = field(default_factory=dict)  # random and guidelines' episodes

    def paired(
        self, res: EpisodeResults, metric: str = "episode_reward", reference: str = "guidelines"
    ) -> tuple[float, float, float]:
        """Paired difference ``res - reference`` in ``metric`` over the shared seeds: mean,
        95 % CI half-width (Student's t over the seeds) and the mean relative to the
        reference's mean (0.1 = 10 % above). A seed group counts the mean over its members
        on each seed (the spread between training seeds is in its IQM, not here)."""
        ref = self.references.get(reference) or next((r for r in self.results if r.policy == reference), None)
        if ref is None:
            raise KeyError(f"no {reference!r} results in this comparison")
        by_seed = dict(zip(ref.seeds, ref.values(metric)))
        members = getattr(res, "members", None) or [res]
        x = np.mean([m.values(metric) for m in members], axis=0)
        seeds = members[0].seeds
        if any(s not in by_seed for s in seeds):
            raise ValueError(f"{res.policy} and {reference} were not run on the same seeds")
        d = x - np.array([by_seed[s] for s in seeds])
        mean, half = mean_ci(d)
        base = float(np.nanmean(ref.values(metric)))
        return mean, half, (mean / abs(base) if base else math.nan)

    def scores(self) -> dict[str, tuple[float, float]]:
        """Per policy: mean normalised score and its 95 % CI (per-episode scores)."""
        r0, r1 = self.anchors["random"], self.anchors["guidelines"]
        out = {}
        for res in self.results:
            if hasattr(res, "score_iqm"):  # a seed group: IQM over seeds, half the bootstrap CI's width
                iqm, lo, hi = res.score_iqm(r0, r1)
                out[res.policy] = (iqm, (hi - lo) / 2)
                continue
            s = np.array([normalized_score(x, r0, r1) for x in res.values("episode_reward")])
            out[res.policy] = mean_ci(s)
        return out

    def rows(self) -> list[dict[str, Any]]:
        """Long-format rows (policy, metric, mean, ci95, n) for CSV."""
        rows = []
        scores = self.scores()
        for res in self.results:
            for k, (m, h) in res.summary().items():
                rows.append({"policy": res.policy, "metric": k, "mean": m, "ci95": h, "n": len(res.metrics)})
            m, h = scores[res.policy]
            rows.append(
                {"policy": res.policy, "metric": "score_vs_guidelines", "mean": m, "ci95": h, "n": len(res.metrics)}
            )
            if res.policy != "guidelines":
                for k in PAIRED_METRICS:
                    m, h, _ = self.paired(res, k)
                    n = len(res.seeds) if not hasattr(res, "members") else len(res.members[0].seeds)
                    rows.append({"policy": res.policy, "metric": f"{k}_vs_guidelines", "mean": m, "ci95": h, "n": n})
        return rows


def _longer_label(spec: str) -> str:
    """The next longer label of a spec: ``file.py:Class`` for a policy class,
    ``<dir>/<run dir>/<file stem>`` for a model path."""
    if is_plugin_spec(spec):
        return plugin_label(spec, long=True)
    p = Path(spec)
    return "/".join([*p.parent.parts[-2:], p.stem])


def disambiguate(policies: Sequence[str | PolicyLike], results: Sequence[EpisodeResults]) -> None:
    """Relabel results whose short labels clash (two policy classes of one name from
    different files, two ``model.zip`` in run directories of one name): a longer label
    (:func:`_longer_label`), then the full spec."""
    for relabel in (_longer_label, str):
        labels = [r.policy for r in results]
        for p, r in zip(policies, results):
            if isinstance(p, str) and labels.count(r.policy) > 1 and (is_plugin_spec(p) or is_model_spec(p)):
                r.policy = relabel(p)


def compare(
    policies: Sequence[str | PolicyLike],
    scenario: str | Path,
    episodes: int,
    seed: int,
    deterministic: bool = True,
    **overrides: Any,
) -> Comparison:
    """Evaluate every policy on the same seeds; ``random`` and ``guidelines`` are also run
    (if not listed) to anchor the normalised score. ``deterministic`` applies to models. A
    seed-group directory (``bgenv train --seeds``) is one entry
    (:func:`agents.seed_group.evaluate_group`); its score is the IQM over seeds with half the
    width of its 95 % stratified-bootstrap interval as ``ci95``."""
    from agents.seed_group import evaluate_group, is_group_spec

    results = [
        evaluate_group(p, scenario, episodes, seed, deterministic, **overrides)
        if isinstance(p, str) and is_group_spec(p)
        else evaluate(p, scenario, episodes, seed, deterministic=deterministic, **overrides)
        for p in policies
    ]
    disambiguate(policies, results)
    by_name = {r.policy: r for r in results}
    anchors, references = {}, {}
    for name in ("random", "guidelines"):
        r = by_name.get(name) or evaluate(name, scenario, episodes, seed, **overrides)
        anchors[name] = float(np.mean(r.values("episode_reward")))
        references[name] = r
    return Comparison(str(scenario), episodes, seed, results, anchors, references)
