"""``bgenv/CrossPlatform-v1``: a cross-platform library's intents over the native envs.

Concrete expectations: both env checkers pass; each intent maps onto the stated native
option index on each platform (and a profile lacking one is refused by name); the OS
version is parsed and scaled as documented; an intent episode is the native episode
under the translated actions (same seed: identical observations, rewards, metrics); the
masks translate; the batched env matches the single env device by device; and the
intent policy ``cross_guidelines`` runs through ``evaluate``.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

import bgenv  # noqa: F401  (registers the env ids)
from bgenv.envs.actions import ActionTable
from bgenv.envs.cross_single import CrossPlatformEnv
from bgenv.envs.cross_vector import CrossPlatformVectorEnv
from bgenv.envs.crossplatform import (
    CROSS_OBSERVATION_NAMES,
    INTENT_NAMES,
    intent_map,
    native_options,
    parse_os_version,
    translate_actions,
    translate_masks,
)
from bgenv.envs.spaces import OBSERVATION_NAMES
from bgenv.registration import CROSS_ENV_ID, ENV_ID_OF_PLATFORM

NATIVE_SCENARIO = {"ios": "ios_commuter", "android": "android_commuter"}
# intent -> native option index: none, periodic_fetch, task, task+network, task+charging,
# task+network+charging, urgent, transfer
EXPECTED_OPTIONS = {
    "ios": [0, 1, 2, 3, 4, 5, 3, 7],  # none refresh processing(+network)(+power)(+both) processing+network transfer
    "android": [0, 7, 1, 2, 3, 4, 6, 12],  # none periodic+job+network job ... expedited+network uidt+network
}


def _table(platform: str) -> ActionTable:
    return ActionTable.from_env(gym.make(ENV_ID_OF_PLATFORM[platform], scenario=NATIVE_SCENARIO[platform]))


# -- checkers -------------------------------------------------------------------------
@pytest.mark.parametrize("scenario", ["ios_commuter", "android_commuter"])
def test_gymnasium_env_checker(scenario):
    from gymnasium.utils.env_checker import check_env

    check_env(CrossPlatformEnv(scenario=scenario, horizon_days=1), skip_render_check=True)


@pytest.mark.parametrize("scenario", ["ios_commuter", "android_commuter"])
def test_sb3_env_checker(scenario):
    from stable_baselines3.common.env_checker import check_env

    check_env(CrossPlatformEnv(scenario=scenario, horizon_days=1), warn=True)


def test_registered_with_a_vector_entry_point():
    spec = gym.spec(CROSS_ENV_ID)
    assert spec.entry_point == "bgenv.envs.cross_single:CrossPlatformEnv"
    assert spec.vector_entry_point == "bgenv.envs.cross_vector:CrossPlatformVectorEnv"
    env = gym.make(CROSS_ENV_ID)  # default scenario: ios_commuter
    assert env.unwrapped.platform == "ios"
    assert env.action_space.nvec.tolist() == [8, 9, 9, 5]
    assert env.observation_space.shape == (56,)
    assert env.unwrapped.observation_names[-2:] == ("platform_android", "os_version")
    assert env.unwrapped.action_labels["request"] == INTENT_NAMES


# -- tables ---------------------------------------------------------------------------
@pytest.mark.parametrize("platform", ["ios", "android"])
def test_intent_map_concrete_indices(platform):
    table = _table(platform)
    assert native_options(table).tolist() == EXPECTED_OPTIONS[platform]
    labels = [table.option_labels[i] for i in native_options(table)]
    if platform == "ios":
        assert labels[1] == "refresh" and labels[6] == "processing+network" and labels[7] == "transfer"
    else:
        assert labels[1] == "periodic+job+network" and labels[6] == "expedited+network" and labels[7] == "uidt+network"


def test_intent_map_rows_by_platform_code():
    m = intent_map({"ios": _table("ios"), "android": _table("android")})
    assert m.tolist() == [EXPECTED_OPTIONS["ios"], EXPECTED_OPTIONS["android"]]
    only_ios = intent_map({"ios": _table("ios")})
    assert only_ios[1].tolist() == [-1] * 8


def test_profile_without_an_option_is_refused_by_name():
    t = _table("android")
    keep = [i for i, lab in enumerate(t.option_labels) if lab != "uidt+network"]
    short = dataclasses.replace(
        t,
        option_labels=tuple(t.option_labels[i] for i in keep),
        option_slots=tuple(t.option_slots[i] for i in keep),
        nvec=(len(keep), *t.nvec[1:]),
    )
    with pytest.raises(ValueError, match=r"intent 'transfer' maps to android option 'uidt\+network'"):
        native_options(short)


def test_translation_gathers_per_device():
    m = intent_map({"ios": _table("ios"), "android": _table("android")})
    acts = np.array([[6, 2, 3, 1], [6, 2, 3, 1], [1, 0, 0, 0], [7, 0, 0, 0]])
    code = np.array([0, 1, 0, 1])
    assert translate_actions(acts, code, m).tolist() == [[3, 2, 3, 1], [6, 2, 3, 1], [1, 0, 0, 0], [12, 0, 0, 0]]
    # masks in the union layout (13 options): device 0 iOS allows refresh only, device 1 Android uidt only
    native = np.zeros((2, 13 + 9 + 9 + 5), dtype=bool)
    native[0, 1] = True
    native[1, 12] = True
    native[:, 13] = True  # delay 0
    out = translate_masks(native, np.array([0, 1]), m, 13)
    assert out.shape == (2, 8 + 9 + 9 + 5)
    assert np.flatnonzero(out[0, :8]).tolist() == [1]
    assert np.flatnonzero(out[1, :8]).tolist() == [7]
    assert out[:, 8].all() and not out[:, 9:].any()


@pytest.mark.parametrize(
    ("version", "major"), [("17+", 17), ("14-15", 14), ("14-15 + OEM", 14), ("16", 16), ("iOS 26", 26)]
)
def test_os_version_parsing(version, major):
    assert parse_os_version(version) == major


def test_os_version_without_a_number_is_refused():
    with pytest.raises(ValueError, match="no major version"):
        parse_os_version("")


@pytest.mark.parametrize(
    ("scenario", "extra"),
    [("ios_commuter", [0.0, 17 / 40]), ("android_commuter", [1.0, 14 / 40]), ("android16_commuter", [1.0, 16 / 40])],
)
def test_platform_and_os_version_observed(scenario, extra):
    env = CrossPlatformEnv(scenario=scenario, horizon_days=1)
    obs, _ = env.reset(seed=1)
    np.testing.assert_allclose(obs[-2:], extra, rtol=1e-6)
    assert len(CROSS_OBSERVATION_NAMES) == len(OBSERVATION_NAMES) + 2 == obs.shape[0]


# -- episodes -----------------------------------------------------------------------------
@pytest.mark.parametrize("platform", ["ios", "android"])
def test_episode_equals_native_episode_under_translated_actions(platform):
    """Masked random intents (and 10 % anything in the space) on the intent env; the same
    translated actions on the native env give identical steps; the masks translate."""
    scenario = NATIVE_SCENARIO[platform]
    cross = CrossPlatformEnv(scenario=scenario, horizon_days=4, record_events=False)
    native = gym.make(ENV_ID_OF_PLATFORM[platform], scenario=scenario, horizon_days=4, record_events=False).unwrapped
    opts = np.array(EXPECTED_OPTIONS[platform])
    n_opt = int(native.action_space.nvec[0])
    rng = np.random.default_rng(7)
    o1, _ = cross.reset(seed=11)
    o2, _ = native.reset(seed=11)
    np.testing.assert_array_equal(o1[:-2], o2)
    done, steps, total = False, 0, 0.0
    while not done:
        cm, nm = cross.action_masks(), native.action_masks()
        np.testing.assert_array_equal(cm, np.concatenate([nm[opts], nm[n_opt:]]))
        if rng.random() < 0.1:
            a = cross.action_space.sample()
        else:
            a, start = np.zeros(4, dtype=np.int64), 0
            for p, n in enumerate(cross.action_space.nvec):
                a[p] = rng.choice(np.flatnonzero(cm[start : start + n]))
                start += n
        b = a.copy()
        b[0] = opts[a[0]]
        o1, r1, t1, tr1, i1 = cross.step(a)
        o2, r2, t2, tr2, i2 = native.step(b)
        np.testing.assert_array_equal(o1[:-2], o2)
        assert (r1, t1, tr1, i1["t"], i1["cost"]) == (r2, t2, tr2, i2["t"], i2["cost"])
        done, steps, total = t1 or tr1, steps + 1, total + r1
    assert i1["metrics"] == i2["metrics"]
    assert steps > 30 and i1["metrics"]["windows_granted"] > 0 and i1["metrics"]["invalid_actions"] > 0


def test_action_outside_the_intent_space_raises():
    env = CrossPlatformEnv(scenario="android_commuter", horizon_days=1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="request=8"):
        env.step(np.array([8, 0, 0, 0]))  # a native Android option index, not an intent


# -- batched ----------------------------------------------------------------------------
@pytest.mark.parametrize("scenario", ["ios_commuter", "android_commuter"])
def test_vector_env_matches_single_env_per_device(scenario):
    from agents.intent_policies import make_intent_policy
    from bgenv.rollout import rollout, rollout_batch

    venv = gym.make_vec(CROSS_ENV_ID, num_envs=3, vectorization_mode="vector_entry_point", scenario=scenario, horizon_days=2)  # fmt: skip
    assert isinstance(venv, CrossPlatformVectorEnv)
    assert venv.single_action_space.nvec.tolist() == [8, 9, 9, 5]
    obs, _ = venv.reset(seed=100)
    assert obs.shape == (3, 56) and venv.action_masks().shape == (3, 31)
    pol = make_intent_policy("cross_guidelines", venv)
    batch = rollout_batch(venv, pol, [100, 101, 102])
    single = CrossPlatformEnv(scenario=scenario, horizon_days=2, record_events=False)
    for k, seed in enumerate((100, 101, 102)):
        ep = rollout(single, make_intent_policy("cross_guidelines", single), seed)
        assert ep.metrics == batch[k]


def test_vector_env_final_observations_carry_the_extra_features():
    venv = CrossPlatformVectorEnv(2, scenario="android_commuter", horizon_days=1)
    venv.reset(seed=0)
    zero = np.zeros((2, 4), dtype=np.int64)
    seen = np.zeros(2, dtype=bool)
    for _ in range(10_000):
        obs, _, _, trunc, infos = venv.step(zero)
        for i in np.flatnonzero(trunc):
            assert infos["final_obs"][i].shape == (56,)
            np.testing.assert_allclose(infos["final_obs"][i][-2:], [1.0, 14 / 40], rtol=1e-6)
        seen |= trunc
        if seen.all():
            break
    assert seen.all()
    np.testing.assert_allclose(obs[:, -2:], [[1.0, 14 / 40]] * 2, rtol=1e-6)


def test_sb3_vec_env_of_intents():
    from bgenv.envs.sb3 import make_sb3_vec_env

    env = make_sb3_vec_env(CROSS_ENV_ID, n_envs=2, seed=0, scenario="android_commuter", horizon_days=1)
    obs = env.reset()
    assert obs.shape == (2, 56) and env.action_space.nvec.tolist() == [8, 9, 9, 5]
    assert np.asarray(env.env_method("action_masks")).shape == (2, 31)
    env.step(np.zeros((2, 4), dtype=np.int64))


# -- the intent policy through evaluate --------------------------------------------------------
def test_cross_guidelines_equals_guidelines_on_android():
    """On Android every request ``guidelines`` makes has an intent: the same weeks, the same results."""
    from agents.evaluate import evaluate

    a = evaluate("cross_guidelines", "android_commuter", 3, 10000, horizon_days=2)
    b = evaluate("guidelines", "android_commuter", 3, 10000, horizon_days=2)
    assert a.policy == "cross_guidelines" and a.seeds == b.seeds
    assert a.metrics == b.metrics


# -- a fleet of both platforms in one batch ------------------------------------------------------
def test_mixed_fleet_one_policy_in_one_batch():
    """iOS and Android devices of the ``mixed`` fleet in one batch under one intent policy:
    each device's week equals the single intent env's on the scenario it drew (same seed),
    and the intents translate per device."""
    from agents.intent_policies import make_intent_policy
    from bgenv.fleet import Fleet
    from bgenv.rollout import rollout, rollout_batch

    seeds = list(range(10000, 10012))
    venv = gym.make_vec(CROSS_ENV_ID, num_envs=len(seeds), vectorization_mode="vector_entry_point", fleet="mixed")
    assert isinstance(venv, CrossPlatformVectorEnv)
    assert venv.single_action_space.nvec.tolist() == [8, 9, 9, 5]
    obs, _ = venv.reset(seed=seeds)
    platforms = venv.device_platform.copy()
    assert set(platforms.tolist()) == {0, 1}  # both platforms in the batch
    np.testing.assert_array_equal(obs[:, -2], platforms)
    np.testing.assert_allclose(obs[:, -1], venv.device_os_major / 40, rtol=1e-6)
    # urgent work: processing+network (3) on iOS, expedited+network (6) on Android
    urgent = np.tile([6, 0, 0, 0], (len(seeds), 1))
    np.testing.assert_array_equal(venv.native_actions(urgent)[:, 0], np.where(platforms == 1, 6, 3))
    masks = venv.action_masks()
    native = venv.native_action_masks()
    assert masks.shape == (len(seeds), 31) and native.shape == (len(seeds), 36)
    for i, p in enumerate(platforms):
        opts = EXPECTED_OPTIONS["android" if p else "ios"]
        np.testing.assert_array_equal(masks[i, :8], native[i, opts])
    batch = rollout_batch(venv, make_intent_policy("cross_guidelines", venv), seeds)
    fleet = Fleet.load("mixed")
    for k in (0, 1, 2, 3, 4, 5):
        scenario = fleet.draw(seeds[k]).scenario
        single = CrossPlatformEnv(scenario=scenario, record_events=False)
        ep = rollout(single, make_intent_policy("cross_guidelines", single), seeds[k])
        assert single.platform == ("android" if platforms[k] else "ios")
        assert ep.metrics == batch[k]


def test_cross_guidelines_on_a_mixed_fleet_population():
    """``bgenv compare --fleet mixed``: the intent policy runs on every device; its Android
    weeks equal native ``guidelines``' (every Android request has an intent)."""
    from agents.population import evaluate_fleet

    a = evaluate_fleet("cross_guidelines", "mixed", 12, 10000)
    b = evaluate_fleet("guidelines", "mixed", 12, 10000)
    android = np.array([g == "android" for g in a.group_of("platform")])
    assert 0 < android.sum() < 12 and a.group_of("platform") == b.group_of("platform")
    for i in np.flatnonzero(android):
        assert a.metrics[i] == b.metrics[i]
