"""``bgenv/CrossPlatform-v1`` batched: ``num_envs`` devices driven by intents.

``gym.make_vec("bgenv/CrossPlatform-v1", num_envs=N, vectorization_mode="vector_entry_point",
scenario=...)`` builds :class:`CrossPlatformVectorEnv`: the native batched env
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

from bgenv.config import load_scenario
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
from bgenv.registration import CROSS_DEFAULT_SCENARIO


class CrossPlatformVectorEnv(BackgroundSchedulingVectorEnv):
    """``num_envs`` phones of one scenario (iOS or Android; ``ios_commuter`` by default)
    stepped together with intent actions (see :class:`~bgenv.envs.cross_single.CrossPlatformEnv`
    for the spaces and the module docstring for the batch).

    Args:
        num_envs: number of devices.
        scenario: any iOS or Android scenario name or YAML path.
        record_events, threads, **overrides: as the native batched env's.

    Attributes:
        device_platform: ``[N]`` int, each device's platform code (``bgenv.core.layout.PLATFORMS``).
        os_major: ``[N]`` int, each device's OS major version.
        native_tables: ``{platform: ActionTable}`` of the native request options.
        action_table: the intent :class:`ActionTable` (``option_labels`` are the intents).

    Device ``i`` reset with seed ``s + i`` follows exactly ``gym.make("bgenv/CrossPlatform-v1")``
    reset with that seed under the same intent actions, and the native batched env under
    the translated ones.
    """

    def __init__(
        self,
        num_envs: int,
        scenario: str | Path | None = None,
        record_events: bool = False,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        threads: bool | None = None,
        **overrides: Any,
    ) -> None:
        scenario = scenario or CROSS_DEFAULT_SCENARIO
        platform = load_scenario(scenario, **overrides).platform
        super().__init__(
            num_envs,
            platform=platform,
            scenario=scenario,
            record_events=record_events,
            render_mode=render_mode,
            max_episode_steps=max_episode_steps,
            threads=threads,
            **overrides,
        )
        self._bind_intents()

    # -- what the native batch holds: per device platform, OS version and option table ------
    def _native_tables(self) -> dict[str, ActionTable]:
        """The native option table of each platform in the batch."""
        return {self.platform: ActionTable.from_params(self.params)}

    def _native_devices(self) -> tuple[np.ndarray, np.ndarray]:
        """``[N]`` platform codes and ``[N]`` OS major versions of the devices."""
        n = self.num_envs
        major = parse_os_version(self.scenario_spec.profile.version)
        return np.full(n, PLATFORMS[self.platform], dtype=np.int64), np.full(n, major, dtype=np.int64)

    def _bind_intents(self) -> None:
        tables = self._native_tables()
        check_common_bins(list(tables.values()))
        self.native_tables = tables
        self.device_platform, self.os_major = self._native_devices()
        self._imap = intent_map(tables)
        self._n_native_options = int(self._nvec[0])  # the option part of the native masks
        self.action_table = intent_table(next(iter(tables.values())))
        self._intent_nvec = np.asarray(self.action_table.nvec, dtype=np.int64)
        self._extra = extra_features(self.device_platform, self.os_major)
        self.single_observation_space = cross_observation_space()
        self.single_action_space = spaces.MultiDiscrete(self._intent_nvec)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_names = CROSS_OBSERVATION_NAMES
        labels = action_labels(self.params)
        labels["request"] = INTENT_NAMES
        self.action_labels = labels

    # -- Gymnasium API --------------------------------------------------------
    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = super().reset(seed=seed, options=options)
        return self._observe(obs, slice(None)), info

    def _advance(self, actions: Any) -> BatchStep:
        """Check intent actions against the intent space, translate them per device and
        step the native batch; the observations (also the final ones) get the extra features."""
        a = _int_actions(actions, self.num_envs, self._intent_nvec, self.action_names)
        r = super()._advance(translate_actions(a, self.device_platform, self._imap))
        return r._replace(obs=self._observe(r.obs, slice(None)), final_obs=self._observe(r.final_obs, r.final_idx))

    def _observe(self, native_obs: np.ndarray, rows: Any) -> np.ndarray:
        return np.concatenate([native_obs, self._extra[rows]], axis=1)

    # -- extras ---------------------------------------------------------------
    def native_actions(self, actions: Any) -> np.ndarray:
        """The native batch's actions ``[N, 4]`` a batch of intent actions translates into."""
        a = _int_actions(actions, self.num_envs, self._intent_nvec, self.action_names)
        return translate_actions(a, self.device_platform, self._imap)

    def native_action_masks(self) -> np.ndarray:
        """The native batch's masks ``[N, sum(native nvec)]``."""
        return super().action_masks()

    def action_masks(self) -> np.ndarray:
        """Boolean ``[N, sum(intent nvec)]``: per device, an intent is allowed where its
        native option is; the delay, chunk and work-kind parts are the native masks'."""
        return translate_masks(super().action_masks(), self.device_platform, self._imap, self._n_native_options)
