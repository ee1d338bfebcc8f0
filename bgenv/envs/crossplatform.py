"""One action space for both platforms: the intents of a cross-platform background-task
library, and their translation onto each platform's request options.

``bgenv/CrossPlatform-v1`` (:mod:`bgenv.envs.cross_single`, :mod:`bgenv.envs.cross_vector`)
offers the agent what a cross-platform library offers an app developer, not the platform
APIs: its action is ``MultiDiscrete([intent, delay, chunk, work_kind])``, where ``intent``
is one of :data:`INTENT_NAMES` and ``delay``, ``chunk`` and ``work_kind`` are the native
env's parts unchanged (the same delay and chunk bins on every profile; checked). This
module holds the tables and the translation only (numpy, no simulator):

* :data:`NATIVE_OPTION`: intent -> request option label of each platform's profile, the
  mapping the libraries below implement;
* :func:`intent_map`: those labels as indices of a profile's :class:`ActionTable`, and the
  ``[platform, intent]`` index array the envs gather from (a profile lacking an option is
  a ValueError naming it);
* :func:`translate_actions`, :func:`translate_masks`: intent actions -> native actions, and
  native masks -> intent masks, per device by numpy gathers (no loop over devices);
* :func:`parse_os_version` and :func:`extra_features`: the two observation features the
  intent env adds to the native observation (``platform_android``, ``os_version``).

**The mapping followed** (cited by the short name in brackets, as ``docs/sources/README.md``):

* [RNBackgroundFetch] react-native-background-fetch 4.4.2 by Transistor Software,
  https://github.com/transistorsoft/react-native-background-fetch (API:
  https://fetch.transistorsoft.com/react-native/BackgroundFetch). Its API is the core of
  the table: ``BackgroundFetch.configure({minimumFetchInterval})`` schedules the periodic
  fetch: an iOS ``BGAppRefreshTask`` (``TSBackgroundFetch registerAppRefreshTask``) and an
  Android periodic JobScheduler job; ``BackgroundFetch.scheduleTask({taskId, delay,
  periodic: false, requiresNetworkConnectivity, requiresCharging})`` schedules a one-off
  task: on iOS a ``BGProcessingTask`` whose ``requiresNetworkConnectivity`` and
  ``requiresExternalPower`` are those two flags (``ios/RNBackgroundFetch/RNBackgroundFetch.mm``,
  ``scheduleTask`` -> ``scheduleProcessingTaskWithIdentifier:...requiresExternalPower:
  requiresCharging requiresNetworkConnectivity:``), on Android a one-off JobScheduler job
  with ``requiredNetworkType`` / ``requiresCharging``; ``delay`` is the earliest begin
  (the native ``delay`` part); ``BackgroundFetch.finish(taskId)`` is "stop and report
  completion" (``chunk`` 0).
* [FlutterWorkmanager] workmanager 0.5.1 (Flutter Community),
  https://github.com/fluttercommunity/flutter_workmanager (tag ``0.5.1``), for *urgent
  work*, which react-native-background-fetch does not offer: ``registerOneOffTask(...,
  outOfQuotaPolicy: ...)`` makes an expedited WorkManager request on Android (its 0.5.0-dev.8
  change log: "Add support for expedited background work (a ``OutOfQuotaPolicy`` needs to
  be specified)"); here ``expedited+network``, as urgent work is the user's edits, which
  need the network. iOS has no expedited tier: the same call submits a
  ``BGProcessingTaskRequest`` whose ``requiresNetworkConnectivity`` is set for a connected
  network type (``ios/Classes/SwiftWorkmanagerPlugin.swift``, ``RegisterOneOffTask``), so
  urgent work on iOS is ``processing+network``, the same request as a one-off task with
  network (later versions run an iOS one-off task with ``beginBackgroundTask`` while the
  app is still up, which bgenv does not model).
* [BackgroundDownloader] background_downloader 9.5 (Flutter),
  https://pub.dev/packages/background_downloader, for the *large transfer*: an
  ``UploadTask`` runs in a background ``URLSession`` on iOS (``transfer``: not
  discretionary, cellular allowed, the library's defaults) and, with ``priority: 0`` on
  Android 14+, as a user-initiated data transfer job (``uidt+network``; its 9.5.0 change
  log: "Introduces Android User Initiated Data Transfer (UIDT), triggered when task
  priority is set to 0"). Its ``requiresWiFi`` variant is left out: the Android profiles
  have no unmetered user-initiated job.

**Left out**, because no cross-platform library above offers them for both platforms:
silent and high-priority push (server-side, per platform), Android alarms
(react-native-background-fetch's Android-only ``forceAlarmManager``), foreground
services, a plain expedited job without network, and iOS discretionary / Wi-Fi-only
transfers. The native envs keep all of them; the cost of going without them is what
docs/platforms.md ("One policy for both platforms") measures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
from gymnasium import spaces

from bgenv.core.layout import PLATFORM_NAMES, PLATFORMS
from bgenv.envs.actions import ActionTable
from bgenv.envs.spaces import OBSERVATION_NAMES, observation_space

CROSS = "cross"  # the ``platform`` of the intent env's ActionTable

# (intent, what the app asks the library for)
INTENTS: tuple[tuple[str, str], ...] = (
    ("none", "ask for nothing (wait)"),
    ("periodic_fetch", "periodic fetch with a minimum interval: BackgroundFetch.configure({minimumFetchInterval})"),
    ("task", "one-off task: BackgroundFetch.scheduleTask({periodic: false})"),
    ("task+network", "one-off task that needs the network (requiresNetworkConnectivity)"),
    ("task+charging", "one-off task that needs external power (requiresCharging)"),
    ("task+network+charging", "one-off task that needs both"),
    ("urgent", "urgent work: workmanager registerOneOffTask with an out-of-quota policy (expedited)"),
    ("transfer", "large upload handed to the system: background_downloader UploadTask, priority 0"),
)
INTENT_NAMES: tuple[str, ...] = tuple(i[0] for i in INTENTS)
N_INTENTS = len(INTENT_NAMES)

# intent -> native request option label, per platform (the module docstring gives the source of each)
NATIVE_OPTION: dict[str, dict[str, str]] = {
    "ios": {
        "none": "none",
        "periodic_fetch": "refresh",  # BGAppRefreshTask
        "task": "processing",  # BGProcessingTask
        "task+network": "processing+network",
        "task+charging": "processing+power",  # requiresExternalPower
        "task+network+charging": "processing+network+power",
        "urgent": "processing+network",  # no expedited tier on iOS: a one-off task with network
        "transfer": "transfer",  # background URLSession, library defaults
    },
    "android": {
        "none": "none",
        "periodic_fetch": "periodic+job+network",  # periodic JobScheduler job; a fetch needs the network
        "task": "job",
        "task+network": "job+network",
        "task+charging": "job+power",
        "task+network+charging": "job+network+power",
        "urgent": "expedited+network",  # setExpedited
        "transfer": "uidt+network",  # user-initiated data transfer job (14+)
    },
}

# --- observation -----------------------------------------------------------------------
OS_VERSION_FULL = 40.0  # os_version = major / 40 (assumption: room for both platforms' next releases)
EXTRA_FEATURES: tuple[tuple[str, str, str, float, float], ...] = (
    # (name, meaning, unit, low, high), as bgenv.core.observation.FEATURES
    ("platform_android", "the device runs Android (0: iOS)", "0/1", 0.0, 1.0),
    (
        "os_version",
        "OS major version of the device's profile (the first number of its version string: iOS '17+' -> 17, "
        "Android '14-15' -> 14, '16' -> 16)",
        f"major/{OS_VERSION_FULL:g}, clipped to [0, 1]",
        0.0,
        1.0,
    ),
)
EXTRA_OBSERVATION_NAMES: tuple[str, ...] = tuple(f[0] for f in EXTRA_FEATURES)
CROSS_OBSERVATION_NAMES: tuple[str, ...] = (*OBSERVATION_NAMES, *EXTRA_OBSERVATION_NAMES)


def parse_os_version(version: str) -> int:
    """The OS major version of a profile's ``version`` string: its first integer, the
    oldest version the profile describes (``"17+"`` -> 17, ``"14-15"`` -> 14,
    ``"14-15 + OEM"`` -> 14, ``"16"`` -> 16); a ValueError when it has none."""
    m = re.search(r"\d+", version or "")
    if m is None:
        raise ValueError(f"profile version {version!r} has no major version number")
    return int(m.group())


def os_version_feature(major: int | np.ndarray) -> np.ndarray:
    """The ``os_version`` feature: ``major / OS_VERSION_FULL`` clipped to [0, 1]."""
    return np.clip(np.asarray(major, dtype=np.float64) / OS_VERSION_FULL, 0.0, 1.0).astype(np.float32)


def extra_features(platform_code: np.ndarray, os_major: np.ndarray) -> np.ndarray:
    """``[N, 2]`` float32: ``platform_android`` and ``os_version`` per device, from the
    platform codes (``bgenv.core.layout.PLATFORMS``) and OS major versions ``[N]``."""
    code = np.asarray(platform_code)
    return np.stack(
        [(code == PLATFORMS["android"]).astype(np.float32), os_version_feature(np.asarray(os_major))], axis=1
    )


def cross_observation_space() -> spaces.Box:
    """The native observation space with the two features of :data:`EXTRA_FEATURES` appended."""
    native = observation_space()
    low = np.concatenate([native.low, np.array([f[3] for f in EXTRA_FEATURES], dtype=np.float32)])
    high = np.concatenate([native.high, np.array([f[4] for f in EXTRA_FEATURES], dtype=np.float32)])
    return spaces.Box(low=low, high=high, dtype=np.float32)


# --- actions ---------------------------------------------------------------------------
def native_options(table: ActionTable) -> np.ndarray:
    """``[N_INTENTS]`` int64: the request option index of each intent on ``table``'s
    profile; a ValueError naming the intent and the option when the profile lacks it."""
    if table.platform not in NATIVE_OPTION:
        raise ValueError(f"no intent mapping for platform {table.platform!r}; have {sorted(NATIVE_OPTION)}")
    labels = NATIVE_OPTION[table.platform]
    out = np.zeros(N_INTENTS, dtype=np.int64)
    for i, intent in enumerate(INTENT_NAMES):
        label = labels[intent]
        if not table.has(label):
            raise ValueError(
                f"intent {intent!r} maps to {table.platform} option {label!r}, which this profile does not "
                f"offer (it offers {list(table.option_labels)})"
            )
        out[i] = table.option(label)
    return out


def intent_map(tables: Mapping[str, ActionTable]) -> np.ndarray:
    """``[len(PLATFORMS), N_INTENTS]`` int64: row ``PLATFORMS[p]`` holds the native option
    of each intent for the profile of platform ``p`` in ``tables``; rows of platforms not
    in ``tables`` are -1 (no device of that platform can use them)."""
    out = np.full((len(PLATFORM_NAMES), N_INTENTS), -1, dtype=np.int64)
    for platform, table in tables.items():
        out[PLATFORMS[platform]] = native_options(table)
    return out


def check_common_bins(tables: Sequence[ActionTable]) -> None:
    """The intent env keeps the native delay, chunk and work-kind parts: every profile
    must have the same bins (a ValueError naming the differing bins otherwise)."""
    first = tables[0]
    for t in tables[1:]:
        if t.delay_bins_s != first.delay_bins_s or t.chunk_bins_units != first.chunk_bins_units:
            raise ValueError(
                "profiles with other delay or chunk bins cannot share the intent action space: "
                f"{first.platform} {first.delay_bins_s} / {first.chunk_bins_units}, "
                f"{t.platform} {t.delay_bins_s} / {t.chunk_bins_units}"
            )
        if tuple(t.nvec[1:]) != tuple(first.nvec[1:]):
            raise ValueError(f"action parts differ: {first.nvec} vs {t.nvec}")


def intent_table(native: ActionTable) -> ActionTable:
    """The :class:`ActionTable` of the intent action space: ``option_labels`` are the
    intents (``table.option("urgent")``), ``platform`` is ``"cross"``, ``option_slots`` are
    all -1 (an intent's request slot depends on the platform), the delay and chunk bins
    and the other parts are ``native``'s."""
    return ActionTable(
        CROSS,
        INTENT_NAMES,
        (-1,) * N_INTENTS,
        native.delay_bins_s,
        native.chunk_bins_units,
        (N_INTENTS, *(int(x) for x in native.nvec[1:])),
    )


def translate_actions(actions: np.ndarray, platform_code: np.ndarray, imap: np.ndarray) -> np.ndarray:
    """Intent actions ``[N, 4]`` -> native actions ``[N, 4]`` (int64, a new array): the
    intent of device ``i`` becomes ``imap[platform_code[i], intent]``; delay, chunk and
    work kind are kept. The actions must already be within the intent space."""
    out = np.array(actions, dtype=np.int64, copy=True)
    out[:, 0] = imap[platform_code, out[:, 0]]
    return out


def translate_masks(
    native_masks: np.ndarray, platform_code: np.ndarray, imap: np.ndarray, n_native_options: int
) -> np.ndarray:
    """Native masks ``[N, n_native_options + rest]`` (MaskablePPO's layout) -> intent masks
    ``[N, N_INTENTS + rest]``: an intent is allowed where its native option is; the delay,
    chunk and work-kind parts are copied."""
    opts = np.take_along_axis(native_masks, imap[platform_code], axis=1)
    return np.concatenate([opts, native_masks[:, n_native_options:]], axis=1)


__all__ = [
    "CROSS",
    "CROSS_OBSERVATION_NAMES",
    "EXTRA_FEATURES",
    "EXTRA_OBSERVATION_NAMES",
    "INTENTS",
    "INTENT_NAMES",
    "NATIVE_OPTION",
    "N_INTENTS",
    "OS_VERSION_FULL",
    "check_common_bins",
    "cross_observation_space",
    "extra_features",
    "intent_map",
    "intent_table",
    "native_options",
    "os_version_feature",
    "parse_os_version",
    "translate_actions",
    "translate_masks",
]
