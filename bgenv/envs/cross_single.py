"""``bgenv/CrossPlatform-v1``: the single-device env whose actions are a cross-platform
library's intents (:mod:`bgenv.envs.crossplatform`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from bgenv.config import Scenario, load_scenario
from bgenv.core.layout import PLATFORMS
from bgenv.envs.actions import ActionTable
from bgenv.envs.crossplatform import (
    CROSS_OBSERVATION_NAMES,
    INTENT_NAMES,
    cross_observation_space,
    extra_features,
    intent_table,
    native_options,
    parse_os_version,
)
from bgenv.envs.single import BackgroundSchedulingEnv
from bgenv.envs.spaces import action_labels
from bgenv.registration import CROSS_DEFAULT_SCENARIO


class CrossPlatformEnv(BackgroundSchedulingEnv):
    """One app on one iOS or Android phone, driven through a cross-platform
    background-task library: the same actions and observations on both platforms.

    ## Description

    The native env of the scenario's platform (``bgenv/iOS-v1`` or ``bgenv/Android-v1``,
    :class:`~bgenv.envs.single.BackgroundSchedulingEnv`: same simulator, same user week
    under a seed, same reward, events, metrics and rendering), with the request part of
    the action replaced by the *intents* a cross-platform library offers, translated onto
    the platform's request options as the library does (``bgenv.envs.crossplatform``
    names the libraries and cites their code), and two observation features that tell the
    platform and OS version. A policy for this env runs unchanged on both platforms.

    ## Action Space

    ``MultiDiscrete([8, n_delay, n_chunk, 5])``: ``[intent, delay, chunk, work_kind]``.
    ``intent`` (``env.unwrapped.action_labels["request"]``) -> iOS / Android option:

    | intent | iOS | Android |
    |---|---|---|
    | 0 ``none`` | none | none |
    | 1 ``periodic_fetch`` | ``refresh`` | ``periodic+job+network`` |
    | 2 ``task`` | ``processing`` | ``job`` |
    | 3 ``task+network`` | ``processing+network`` | ``job+network`` |
    | 4 ``task+charging`` | ``processing+power`` | ``job+power`` |
    | 5 ``task+network+charging`` | ``processing+network+power`` | ``job+network+power`` |
    | 6 ``urgent`` | ``processing+network`` | ``expedited+network`` |
    | 7 ``transfer`` | ``transfer`` | ``uidt+network`` |

    Pushes, alarms, foreground services, plain expedited jobs and discretionary or
    Wi-Fi-only transfers are not offered (no cross-platform library maps them onto both
    platforms). ``delay``, ``chunk`` (0 = stop and report completion, the library's
    ``finish``) and ``work_kind`` are the native env's parts, unchanged. The translated
    action is handled exactly as the native env handles it (request slots, replacement,
    refusals, no-ops and their penalties); an action outside the space raises
    ``ValueError``. ``action_masks()``: an intent is allowed where its native option is
    (MaskablePPO's layout, ``8 + n_delay + n_chunk + 5`` booleans).

    ## Observation Space

    ``Box(56,)`` float32: the native env's 54 features, then ``platform_android`` (1 on
    Android, 0 on iOS) and ``os_version`` (the OS major version of the scenario's profile
    / 40, clipped to [0, 1]; the major version is the first number of the profile's
    ``version``: iOS ``"17+"`` -> 17, Android ``"14-15"`` -> 14, ``"16"`` -> 16). Names in
    ``env.unwrapped.observation_names``.

    ## Rewards

    The native env's reward, unchanged (``bgenv/core/reward.py``); ``info["cost"]`` as
    there.

    ## Starting State, Episode End, Info, Rendering

    As the native env's: truncation at ``horizon_days`` with ``info["metrics"]``, no
    terminal state; under the same seed, an episode equals the native env's episode under
    the translated actions.

    ## Arguments

    ``gym.make("bgenv/CrossPlatform-v1", scenario="android_commuter", **overrides)``:
    ``scenario`` is any iOS or Android scenario (default ``ios_commuter``); the other
    arguments are the native env's.

    ## Version History

    * v1: initial release, built on ``bgenv/iOS-v1`` and ``bgenv/Android-v1``
      (versioned with them: a new version of either gives a new version of this env).
    """

    def __init__(
        self,
        scenario: str | Path | Scenario | None = None,
        record_events: bool = True,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        scenario = scenario or CROSS_DEFAULT_SCENARIO
        platform = (
            scenario.platform if isinstance(scenario, Scenario) else load_scenario(scenario, **overrides).platform
        )
        super().__init__(
            platform=platform, scenario=scenario, record_events=record_events, render_mode=render_mode, **overrides
        )
        self.native_table = ActionTable.from_params(self.params)
        self.action_table = intent_table(self.native_table)
        self._intent_option = native_options(self.native_table)
        self._n_native_options = int(self.native_table.nvec[0])
        self.platform = platform
        self.os_major = parse_os_version(self.scenario_spec.profile.version)
        self._extra = extra_features(np.array([PLATFORMS[platform]]), np.array([self.os_major]))[0]
        self.observation_space = cross_observation_space()
        self.action_space = spaces.MultiDiscrete(np.asarray(self.action_table.nvec, dtype=np.int64))
        self.observation_names = CROSS_OBSERVATION_NAMES
        labels = action_labels(self.params)
        labels["request"] = INTENT_NAMES
        self.action_labels = labels
        self._nvec = np.asarray(self.action_table.nvec, dtype=np.int64)
        self._nvec_list = [int(x) for x in self._nvec]  # _check_action validates against the intent space

    # -- Gymnasium API --------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        obs, info = super().reset(seed=seed, options=options)
        return self._observe(obs), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        obs, reward, terminated, truncated, info = super().step(action)
        return self._observe(obs), reward, terminated, truncated, info

    def _check_action(self, action: Any) -> list[int]:
        """The intent action checked against the intent space, as the native action."""
        v = super()._check_action(action)
        v[0] = int(self._intent_option[v[0]])
        return v

    def _observe(self, native_obs: np.ndarray) -> np.ndarray:
        return np.concatenate([native_obs, self._extra])

    # -- extras -----------------------------------------------------------------
    def native_action(self, action: Any) -> np.ndarray:
        """The native env's action an intent action is translated into."""
        return np.asarray(self._check_action(action), dtype=np.int64)

    def action_masks(self) -> np.ndarray:
        """Boolean mask over the concatenated intent choices (MaskablePPO's layout): an
        intent is allowed where its native option is."""
        m = self.sim.masks(0)
        return np.concatenate([m[self._intent_option], m[self._n_native_options :]])
