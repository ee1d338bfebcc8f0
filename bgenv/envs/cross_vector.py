"""``bgenv/CrossPlatform-v1`` batched: ``num_envs`` devices driven by intents.

``gym.make_vec("bgenv/CrossPlatform-v1", num_envs=N, vectorization_mode="vector_entry_point",
scenario=...)`` (or ``fleet="mixed"``: iOS and Android devices in one batch) builds
:class:`CrossPlatformVectorEnv`: the native batched env
(:class:`~bgenv.envs.vector.BackgroundSchedulingVectorEnv`, one compiled simulator for
all devices, same-step autoreset, the same infos) with intent actions translated per
device and the observation extended by ``platform_android`` and ``os_version``
(:mod:`bgenv.envs.crossplatform`). The translation is two numpy gathers per step, on the
``[platform, intent]`` table and each device's platform code, so a batch whose devices
run different platforms is translated the same way as one of a single platform.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

from bgenv.config import Scenario, load_scenario
from bgenv.core.layout import PLATFORMS
from bgenv.envs.actions import ActionTable
from bgenv.envs.crossplatform import (
    CROSS_OBSERVATION_NAMES,
    INTENT_NAMES,
    check_common_bins,
    cross_observation_space,
    extra_features,
    intent_map,
    intent_table,
    parse_os_version,
    translate_actions,
    translate_masks,
)
from bgenv.envs.spaces import action_labels
from bgenv.envs.vector import BackgroundSchedulingVectorEnv, BatchStep, _int_actions
from bgenv.fleet import Fleet
from bgenv.registration import CROSS_DEFAULT_SCENARIO


class CrossPlatformVectorEnv(BackgroundSchedulingVectorEnv):
    """``num_envs`` phones stepped together with intent actions: all of one scenario (iOS
    or Android; ``ios_commuter`` by default), or drawn from a fleet of either or both
    platforms (see :class:`~bgenv.envs.cross_single.CrossPlatformEnv` for the spaces and
    the module docstring for the batch).

    Args:
        num_envs: number of devices.
        scenario: any iOS or Android scenario name or YAML path (or a ``Scenario``).
        fleet: instead of ``scenario``, a fleet (:mod:`bgenv.fleet`: a name from
            ``configs/fleets``, a path or a ``Fleet``) of one or both platforms
            (``mixed``: iOS and Android devices in one batch); each device draws its
            cohort at every reset, so its platform and OS version change with it.
        record_events, threads, **overrides: as the native batched env's.

    Attributes:
        device_platform: ``[N]`` int, each device's platform code (``bgenv.core.layout.PLATFORMS``)
            in its current episode.
        device_os_major: ``[N]`` int, each device's OS major version in its current episode.
        native_tables: ``{platform: ActionTable}`` of the native request options.
        action_table: the intent :class:`ActionTable` (``option_labels`` are the intents).

    Device ``i`` reset with seed ``s + i`` follows exactly ``gym.make("bgenv/CrossPlatform-v1")``
    reset with that seed (with a fleet: with the scenario the device drew, ``fleet.draw(s)``)
    under the same intent actions, and the native batched env under the translated ones.
    Infos are the native batched env's (with a fleet, ``cohort`` per device).
    """

    def __init__(
        self,
        num_envs: int,
        scenario: str | Path | Scenario | None = None,
        fleet: str | Path | Fleet | None = None,
        record_events: bool = False,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        threads: bool | None = None,
        **overrides: Any,
    ) -> None:
        if fleet is None:
            scenario = scenario or CROSS_DEFAULT_SCENARIO
            platform: str | None = (
                scenario.platform if isinstance(scenario, Scenario) else load_scenario(scenario, **overrides).platform
            )
        else:
            platform = None  # a fleet may mix platforms: the native batch's union action space
        super().__init__(
            num_envs,
            platform=platform,
            scenario=scenario,
            fleet=fleet,
            record_events=record_events,
            render_mode=render_mode,
            max_episode_steps=max_episode_steps,
            threads=threads,
            **overrides,
        )
        self._bind_intents()

    def _bind_intents(self) -> None:
        n = self.num_envs
        if self.fleet is None:
            assert self.platform is not None
            self.native_tables = {self.platform: ActionTable.from_params(self.params)}
            self.device_platform = np.full(n, PLATFORMS[self.platform], dtype=np.int64)
            self._cohort_platform = self.device_platform[:1].copy()
            self._cohort_os = np.array([parse_os_version(self.scenario_spec.profile.version)], dtype=np.int64)
            self.device_cohort = np.zeros(n, dtype=np.int64)  # one "cohort": the scenario
        else:
            self.native_tables = dict(self.tables)
            self._cohort_os = np.array(
                [parse_os_version(c.scenario.profile.version) for c in self.fleet.cohorts], dtype=np.int64
            )
        check_common_bins(list(self.native_tables.values()))
        self._imap = intent_map(self.native_tables)
        # the option part of the native masks: the union's in a mixed fleet
        self._n_native_options = int(getattr(self, "_union_nvec", self.single_action_space.nvec)[0])
        self.action_table = intent_table(next(iter(self.native_tables.values())))
        self._intent_nvec = np.asarray(self.action_table.nvec, dtype=np.int64)
        self.single_observation_space = cross_observation_space()
        self.single_action_space = spaces.MultiDiscrete(self._intent_nvec)
        self.observation_space = batch_space(self.single_observation_space, n)
        self.action_space = batch_space(self.single_action_space, n)
        self.observation_names = CROSS_OBSERVATION_NAMES
        labels = action_labels(self.params)
        labels["request"] = INTENT_NAMES
        self.action_labels = labels

    @property
    def device_os_major(self) -> np.ndarray:
        """``[N]`` int: each device's OS major version in its current episode."""
        return self._cohort_os[self.device_cohort]

    # -- Gymnasium API --------------------------------------------------------
    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = super().reset(seed=seed, options=options)
        return self._observe(obs, self.device_cohort), info

    def _advance(self, actions: Any) -> BatchStep:
        """Check intent actions against the intent space, translate them per device and
        step the native batch; the observations (also the final ones, with the cohort of
        the episode that ended) get the extra features."""
        a = _int_actions(actions, self.num_envs, self._intent_nvec, self.action_names)
        r = super()._advance(translate_actions(a, self.device_platform, self._imap))
        final_cohort = r.final_cohort if r.final_cohort is not None else self.device_cohort[r.final_idx]
        return r._replace(
            obs=self._observe(r.obs, self.device_cohort), final_obs=self._observe(r.final_obs, final_cohort)
        )

    def _observe(self, native_obs: np.ndarray, cohort: np.ndarray) -> np.ndarray:
        extra = extra_features(self._cohort_platform[cohort], self._cohort_os[cohort])
        return np.concatenate([native_obs, extra], axis=1)

    # -- extras ---------------------------------------------------------------
    def native_actions(self, actions: Any) -> np.ndarray:
        """The native batch's actions ``[N, 4]`` a batch of intent actions translates into."""
        a = _int_actions(actions, self.num_envs, self._intent_nvec, self.action_names)
        return translate_actions(a, self.device_platform, self._imap)

    def native_action_masks(self) -> np.ndarray:
        """The native batch's masks ``[N, sum(native nvec)]`` (the union layout in a mixed fleet)."""
        return super().action_masks()

    def action_masks(self) -> np.ndarray:
        """Boolean ``[N, sum(intent nvec)]``: per device, an intent is allowed where its
        native option is; the delay, chunk and work-kind parts are the native masks'."""
        return translate_masks(super().action_masks(), self.device_platform, self._imap, self._n_native_options)
