"""What the single and the batched env share: the platform check of a scenario, and
copying an env."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from bgenv.config import Scenario, load_scenario
from bgenv.registration import DEFAULT_SCENARIO, ENV_ID_OF_PLATFORM


def load_platform_scenario(platform: str, scenario: str | Path | Scenario | None, **overrides: Any) -> Scenario:
    """The scenario for an env of ``platform`` (its default when ``scenario`` is None; a
    :class:`~bgenv.config.Scenario` object is used as it is, e.g. a fleet's draw), or a
    ValueError when the platform is unknown or the scenario is for the other one."""
    if platform not in DEFAULT_SCENARIO:
        raise ValueError(f"platform must be one of {sorted(DEFAULT_SCENARIO)}; got {platform!r}")
    if isinstance(scenario, Scenario):
        if overrides:
            raise ValueError("keyword overrides apply to a scenario name or file, not to a Scenario object")
        spec = scenario
    else:
        spec = load_scenario(scenario or DEFAULT_SCENARIO[platform], **overrides)
    if spec.platform != platform:
        raise ValueError(
            f"scenario '{spec.name}' is for {spec.platform}; use the {ENV_ID_OF_PLATFORM[spec.platform]} environment"
        )
    return spec


_SHARED = (
    "scenario_spec",
    "spec",
    "observation_names",
    "action_names",
    "action_labels",
    "metadata",
    "fleet",
    "tables",
    "_cohort_params",
    "world",  # a trace world: read-only (its cache of windows only grows, the same for every copy)
)


def deepcopy_env(env: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy`` of a bgenv env (single or batched): every attribute is deep-copied
    except the read-only ones, which are shared (the compiled scenario, its spec, the
    registration spec and the observation/action names and labels); the
    simulator is copied by ``Simulator.copy`` (its arrays, random streams and event log).
    The copy continues exactly as the original would. ``env._bind_views()`` then rebuilds
    views into the new simulator's arrays."""
    new = object.__new__(type(env))
    memo[id(env)] = new
    memo[id(env.params)] = env.params
    for k in _SHARED:
        v = env.__dict__.get(k)
        if v is not None:
            memo[id(v)] = v
    memo[id(env.sim)] = env.sim.copy()
    for k, v in env.__dict__.items():
        new.__dict__[k] = copy.deepcopy(v, memo)
    new._bind_views()
    return new
