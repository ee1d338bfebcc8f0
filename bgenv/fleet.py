"""Fleets: a population of phones and users, each device drawing its own scenario.

App teams ship one background strategy to many kinds of phones and users. A *fleet file*
(``configs/fleets/<name>.yaml``) describes such a population as weighted **cohorts**, each
a scenario (platform profile and OS version, phone maker, user archetype; any
``load_scenario`` overrides), plus **parameter ranges** for domain randomisation::

    name: mixed
    description: iOS and Android commuters, stock and aggressive-OEM Android phones
    randomize:                          # every cohort: uniform draws per device and episode
      initial_battery_low: [0.3, 0.9]   # hypothetical key names: any float field, dotted path
    cohorts:
      - name: ios_commuter
        weight: 0.5                     # share of the population (normalised over the cohorts)
        scenario: ios_commuter
      - name: android_oem_heavy
        weight: 0.1
        scenario: android_oem_commuter
        maker: xiaomi-like              # label for the per-cohort breakdown (default: the profile name)
        overrides: {user: heavy}
        randomize: {user.force_quit_prob: [0.0, 0.2]}

A range key is the dotted path of a float field of :class:`bgenv.config.Scenario`
(``user.engagement_per_day``, ``battery.capacity_factor``, ``heterogeneity.<field>``...);
both ends must give a valid scenario. Cohort ranges extend (and override) the fleet's.

**Drawing** (:meth:`Fleet.draw`): a device reset with seed ``s`` draws its cohort and its
range values from a generator of its own, seeded from ``s`` (independent of the
simulator's random streams), so ``gym.make(id, scenario=fleet.draw(s).scenario)`` reset
with seed ``s`` replays that device's episode exactly. A device that auto-resets without a
seed carries on its own generator.

Compiling a drawn scenario costs ~0.1 ms (``compile_params``); a cohort without ranges
is compiled once and shared. This module is in the config layer: it reads YAML into typed
objects and hands the core compiled tables; it never steps devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError, field_validator

from bgenv.config import ConfigError, Scenario, _Model, _read, config_path, load_scenario
from bgenv.core.params import CompiledParams, compile_params

FLEET_PREFIX = "fleet:"  # a "scenario" spec naming a fleet, e.g. fleet:android_makers (train, eval, compare)
FLEET_STREAM = 0xF1EE7  # mixed into a device's reset seed: the fleet draw's own generator
BATTERY_BANDS = ((0.0, 0.2, "0-20 %"), (0.2, 0.5, "20-50 %"), (0.5, 0.8, "50-80 %"), (0.8, 1.01, "80-100 %"))
COHORT_KEYS = ("cohort", "platform", "os_version", "maker", "archetype")


class CohortConfig(_Model):
    """One kind of phone and user in a fleet."""

    name: str = Field(description="cohort name (unique in the fleet)")
    weight: Annotated[float, Field(gt=0.0, description="share of the population (normalised over the cohorts)")]
    scenario: str = Field(description="scenario name (configs/scenarios) or YAML path")
    overrides: dict[str, Any] = Field(default_factory=dict, description="deep-merged into the scenario")
    maker: str = Field("", description="phone-maker label for breakdowns (default: the profile name)")
    randomize: dict[str, list[float]] = Field(
        default_factory=dict, description="dotted float field -> [low, high], drawn uniformly per device"
    )


class FleetConfig(_Model):
    """A fleet file: weighted cohorts and domain-randomisation ranges."""

    name: str = Field(description="fleet name")
    description: str = Field("", description="free text")
    cohorts: Annotated[list[CohortConfig], Field(min_length=1)]
    randomize: dict[str, list[float]] = Field(
        default_factory=dict, description="ranges applied to every cohort (a cohort's own override them)"
    )

    @field_validator("cohorts")
    @classmethod
    def _unique(cls, v: list[CohortConfig]) -> list[CohortConfig]:
        names = [c.name for c in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"cohort names must be unique; repeated: {', '.join(dup)}")
        return v


@dataclass(frozen=True)
class Cohort:
    """A compiled cohort: its base scenario, ranges and breakdown labels."""

    index: int
    name: str
    weight: float  # normalised share
    scenario: Scenario
    ranges: tuple[tuple[str, float, float], ...]
    labels: dict[str, str]
    params: CompiledParams | None  # compiled once when the cohort has no ranges


@dataclass(frozen=True)
class Draw:
    """What a device drew at a reset: its cohort, range values and scenario."""

    cohort: int
    values: dict[str, float]
    scenario: Scenario
    params: CompiledParams = field(repr=False)

    def __deepcopy__(self, memo: dict[int, Any]) -> Draw:
        return self  # read-only: env copies share their devices' draws


def _set_path(sc: BaseModel, path: Sequence[str], value: float) -> BaseModel:
    """``sc`` with the float field at ``path`` set to ``value`` (no re-validation: the
    range's ends were validated when the fleet was loaded)."""
    head, rest = path[0], path[1:]
    if rest:
        return sc.model_copy(update={head: _set_path(getattr(sc, head), rest, value)})
    return sc.model_copy(update={head: float(value)})


def _check_range(sc: Scenario, key: str, lohi: list[float], where: str) -> tuple[str, float, float]:
    if len(lohi) != 2 or not all(isinstance(x, (int, float)) for x in lohi) or lohi[0] > lohi[1]:
        raise ConfigError(f"{where}: randomize.{key} must be [low, high] numbers with low <= high; got {lohi!r}")
    path = key.split(".")
    obj: Any = sc
    for part in path:
        if not isinstance(obj, BaseModel) or part not in type(obj).model_fields:
            raise ConfigError(f"{where}: randomize.{key}: no such scenario field")
        obj = getattr(obj, part)
    if not isinstance(obj, float):
        raise ConfigError(f"{where}: randomize.{key}: only float fields can be randomised (it is {type(obj).__name__})")
    data = sc.model_dump()
    for end in lohi:
        d = data
        for part in path[:-1]:
            d = d[part]
        d[path[-1]] = float(end)
        try:
            Scenario.model_validate(data)
        except ValidationError as e:
            raise ConfigError(f"{where}: randomize.{key} = {end}: {e.errors()[0]['msg']}") from None
    return key, float(lohi[0]), float(lohi[1])


def fleet_path(name_or_path: str | Path) -> Path:
    """Path of a fleet given its name (``mixed``) or a YAML file path."""
    return config_path("fleets", name_or_path)


class Fleet:
    """A loaded fleet: cohorts compiled once, and the per-device draw.

    Args:
        config: the validated fleet file.
        source: where it came from (for messages).
    """

    def __init__(self, config: FleetConfig, source: str = "fleet") -> None:
        self.config = config
        self.name = config.name
        total = sum(c.weight for c in config.cohorts)
        cohorts = []
        for i, c in enumerate(config.cohorts):
            where = f"{source}: cohort '{c.name}'"
            try:
                sc = load_scenario(c.scenario, **c.overrides)
            except ConfigError as e:
                raise ConfigError(f"{where}: {e}") from None
            merged = {**config.randomize, **c.randomize}
            ranges = tuple(_check_range(sc, k, v, where) for k, v in sorted(merged.items()))
            labels = {
                "cohort": c.name,
                "platform": sc.platform,
                "os_version": f"{sc.platform} {sc.profile.version}".strip(),
                "maker": c.maker or sc.profile.name,
                "archetype": sc.user.archetype,
            }
            params = None if ranges else compile_params(sc)
            cohorts.append(Cohort(i, c.name, c.weight / total, sc, ranges, labels, params))
        self.cohorts: tuple[Cohort, ...] = tuple(cohorts)
        self.weights = np.array([c.weight for c in self.cohorts])
        self._cum = np.cumsum(self.weights)
        self.platforms = tuple(sorted({c.scenario.platform for c in self.cohorts}))

    @classmethod
    def load(cls, name_or_path: str | Path) -> Fleet:
        """Load and validate ``configs/fleets/<name>.yaml`` or a fleet YAML path."""
        path = fleet_path(name_or_path)
        data = _read(path)
        data.setdefault("name", path.stem)
        try:
            cfg = FleetConfig.model_validate(data)
        except ValidationError as e:
            msgs = "; ".join(f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors())
            raise ConfigError(f"{path}: {msgs}") from None
        return cls(cfg, str(path))

    @classmethod
    def of(cls, fleet: str | Path | Fleet) -> Fleet:
        """``fleet`` itself, or the fleet file it names."""
        return fleet if isinstance(fleet, Fleet) else cls.load(fleet)

    @property
    def randomised(self) -> bool:
        """Whether any cohort draws parameter values per device."""
        return any(c.ranges for c in self.cohorts)

    def generator(self, seed: int | None) -> np.random.Generator:
        """The fleet-draw generator of a device reset with ``seed`` (None: OS entropy)."""
        return np.random.default_rng(None if seed is None else [FLEET_STREAM, int(seed)])

    def draw_with(self, rng: np.random.Generator) -> Draw:
        """Draw a cohort (by weight) and its range values from ``rng``."""
        k = int(np.searchsorted(self._cum, rng.random() * self._cum[-1], side="right"))
        c = self.cohorts[min(k, len(self.cohorts) - 1)]
        if not c.ranges:
            assert c.params is not None
            return Draw(c.index, {}, c.scenario, c.params)
        values: dict[str, float] = {}
        sc: BaseModel = c.scenario
        for key, lo, hi in c.ranges:
            v = lo + (hi - lo) * rng.random()
            values[key] = v
            sc = _set_path(sc, key.split("."), v)
        assert isinstance(sc, Scenario)
        return Draw(c.index, values, sc, compile_params(sc))

    def draw(self, seed: int) -> Draw:
        """What a device reset with ``seed`` draws (its first episode after that reset)."""
        return self.draw_with(self.generator(seed))

    def labels(self, cohort: int) -> dict[str, str]:
        """Breakdown labels of cohort ``cohort``: cohort, platform, os_version, maker, archetype."""
        return self.cohorts[cohort].labels


def is_fleet_spec(spec: object) -> bool:
    """Whether a scenario spec names a fleet (``fleet:<name or path>``)."""
    return isinstance(spec, str) and spec.startswith(FLEET_PREFIX)


def fleet_of_spec(spec: str) -> str:
    """The fleet name or path of a ``fleet:<name or path>`` spec."""
    return spec[len(FLEET_PREFIX) :]


def battery_band(level: float) -> str:
    """The start-of-episode battery band a level (fraction) falls in, e.g. ``"20-50 %"``."""
    for lo, hi, name in BATTERY_BANDS:
        if lo <= level < hi:
            return name
    return BATTERY_BANDS[-1][2]
