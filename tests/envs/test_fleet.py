"""Fleets: per-device scenarios in one batch (bgenv.fleet, the batched env's ``fleet=``)."""

from __future__ import annotations

import copy
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from bgenv.config import ConfigError, available
from bgenv.core import layout as L
from bgenv.envs.vector import BackgroundSchedulingVectorEnv
from bgenv.fleet import Fleet, battery_band
from bgenv.registration import ENV_ID_OF_PLATFORM

SHORT = """
name: short
randomize:
  battery.background_cpu_pct_per_h: [10.0, 20.0]
cohorts:
  - {name: ios, weight: 2, scenario: ios_commuter, overrides: {horizon_days: 0.5}}
  - {name: stock, weight: 1, scenario: android_commuter, overrides: {horizon_days: 0.5}}
  - {name: oem, weight: 1, scenario: android_oem_commuter, maker: oem, overrides: {horizon_days: 0.5, user: heavy}}
"""


@pytest.fixture(scope="module")
def short_fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    p = tmp_path_factory.mktemp("fleet") / "short.yaml"
    p.write_text(SHORT)
    return Fleet.load(p)


def _fleet_text(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "f.yaml"
    p.write_text(text)
    return p


def test_shipped_fleets_load() -> None:
    assert {"android_makers", "ios_users", "mixed"} <= set(available("fleets"))
    for name in available("fleets"):
        fl = Fleet.load(name)
        assert abs(fl.weights.sum() - 1.0) < 1e-12
    mixed = Fleet.load("mixed")
    assert mixed.platforms == ("android", "ios")
    makers = {c.labels["maker"] for c in Fleet.load("android_makers").cohorts}
    assert makers == {"stock", "aggressive-oem"}


def test_cohort_labels_and_weights(short_fleet: Fleet) -> None:
    fl = short_fleet
    assert [c.name for c in fl.cohorts] == ["ios", "stock", "oem"]
    assert fl.weights.tolist() == [0.5, 0.25, 0.25]
    assert fl.labels(2) == {
        "cohort": "oem",
        "platform": "android",
        "os_version": "android 14-15 + OEM",
        "maker": "oem",
        "archetype": "heavy",
    }
    assert fl.labels(0)["maker"] == "ios"  # default: the profile's name
    assert fl.randomised


def test_draws_follow_the_weights_and_ranges(short_fleet: Fleet) -> None:
    draws = [short_fleet.draw(s) for s in range(2000)]
    share = np.bincount([d.cohort for d in draws], minlength=3) / len(draws)
    assert np.allclose(share, [0.5, 0.25, 0.25], atol=0.04)
    v = np.array([d.values["battery.background_cpu_pct_per_h"] for d in draws])
    assert v.min() >= 10.0 and v.max() <= 20.0 and abs(v.mean() - 15.0) < 0.3
    d = short_fleet.draw(7)
    assert d.scenario.battery.background_cpu_pct_per_h == d.values["battery.background_cpu_pct_per_h"]
    assert short_fleet.draw(7).values == d.values  # a seed always draws the same


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("randomize: {user.nope: [0, 1]}", "randomize.user.nope: no such scenario field"),
        ("randomize: {heterogeneity.enabled: [0, 1]}", "only float fields can be randomised"),
        ("randomize: {user.force_quit_prob: [0.5, 1.5]}", "randomize.user.force_quit_prob = 1.5"),
        ("randomize: {user.force_quit_prob: [0.5, 0.1]}", "low <= high"),
    ],
)
def test_bad_ranges_are_explained(tmp_path: Path, text: str, message: str) -> None:
    p = _fleet_text(tmp_path, f"name: bad\n{text}\ncohorts:\n  - {{name: a, weight: 1, scenario: ios_commuter}}\n")
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("[", r"\[")):
        Fleet.load(p)


def test_bad_fleet_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown fleet 'nope'; available: android_heldout, android_makers"):
        Fleet.load("nope")
    p = _fleet_text(
        tmp_path,
        "name: x\ncohorts:\n  - {name: a, weight: 1, scenario: ios_commuter}\n  - {name: a, weight: 1, scenario: ios_rare}\n",
    )
    with pytest.raises(ConfigError, match="cohort names must be unique; repeated: a"):
        Fleet.load(p)
    p = _fleet_text(tmp_path, "name: x\ncohorts:\n  - {name: a, weight: 1, scenario: nowhere}\n")
    with pytest.raises(ConfigError, match="cohort 'a': unknown scenario 'nowhere'"):
        Fleet.load(p)


def test_platform_of_a_native_fleet_env(short_fleet: Fleet) -> None:
    with pytest.raises(ValueError, match="has android/ios cohorts; this env simulates ios"):
        BackgroundSchedulingVectorEnv(2, platform="ios", fleet=short_fleet)
    with pytest.raises(ValueError, match="not both"):
        BackgroundSchedulingVectorEnv(2, platform="ios", fleet=short_fleet, scenario="ios_commuter")
    env = gym.make_vec("bgenv/Android-v1", num_envs=3, vectorization_mode="vector_entry_point", fleet="android_makers")
    assert env.unwrapped.single_action_space.nvec.tolist() == [13, 9, 9, 5]


def _run(env: BackgroundSchedulingVectorEnv, seed: int, steps: int) -> tuple[np.ndarray, list[np.ndarray], dict]:
    """Step with actions drawn from each device's own options; returns rewards
    ``[steps, N]``, the actions and the last step's infos."""
    n = env.num_envs
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    rewards, actions = [], []
    info: dict = {}
    for _ in range(steps):
        a = np.zeros((n, 4), dtype=np.int64)
        a[:, 0] = rng.integers(0, env._nvec[..., 0])
        a[:, 1] = rng.integers(0, 9, n)
        a[:, 2] = rng.integers(0, 4, n)
        _, r, _, tr, info = env.step(a)
        rewards.append(r)
        actions.append(a)
        if tr.any():
            break
    return np.array(rewards), actions, info


def test_device_replays_as_a_single_env_of_its_draw(short_fleet: Fleet) -> None:
    """Device i reset with seed s + i is the single env made with fleet.draw(s + i)."""
    env = BackgroundSchedulingVectorEnv(4, platform=None, fleet=short_fleet)
    rewards, actions, _ = _run(env, 40, 400)
    assert len({short_fleet.draw(40 + i).cohort for i in range(4)}) >= 2
    for i in range(4):
        d = short_fleet.draw(40 + i)
        assert env.device_cohort[i] == d.cohort or len(rewards) < 400  # the draw at reset
        single = gym.make(ENV_ID_OF_PLATFORM[d.scenario.platform], scenario=d.scenario).unwrapped
        single.reset(seed=40 + i)
        mine = [single.step(a[i])[1] for a in actions]
        np.testing.assert_array_equal(mine, rewards[:, i])


def test_mixed_batch_masks_and_actions(short_fleet: Fleet) -> None:
    env = BackgroundSchedulingVectorEnv(8, platform=None, fleet=short_fleet)
    env.reset(seed=3)
    assert env.mixed and env.single_action_space.nvec.tolist() == [13, 9, 9, 5]
    plat = env.device_platform
    assert set(plat.tolist()) == {L.PLATFORMS["ios"], L.PLATFORMS["android"]}
    masks = env.action_masks()
    assert masks.shape == (8, 36)
    for i in range(8):
        single = gym.make(
            ENV_ID_OF_PLATFORM[env.device_scenario(i).platform], scenario=env.device_scenario(i)
        ).unwrapped
        single.reset(seed=3 + i)
        own = single.action_masks()
        nopt = int(single.action_space.nvec[0])
        assert (masks[i, :nopt] == own[:nopt]).all() and not masks[i, nopt:13].any()
        assert (masks[i, 13:] == own[nopt:]).all()
    a = np.zeros((8, 4), dtype=np.int64)
    ios = int(np.flatnonzero(plat == L.PLATFORMS["ios"])[0])
    a[ios, 0] = 12  # an Android-only index on an iPhone
    with pytest.raises(
        ValueError, match=f"action of env {ios} outside the action space: request=12 \\(allowed 0..9\\)"
    ):
        env.step(a)


def test_autoreset_draws_again_and_reports_the_finished_cohort(short_fleet: Fleet) -> None:
    env = BackgroundSchedulingVectorEnv(16, platform=None, fleet=short_fleet)
    env.reset(seed=0)
    before = env.device_cohort.copy()
    start = env.battery_start.copy()
    assert ((start >= 0.6) & (start <= 1.0)).all()  # initial_battery [0.6, 1.0]
    a = np.zeros((16, 4), dtype=np.int64)
    for _ in range(5000):
        _, _, _, tr, info = env.step(a)
        if tr.any():
            break
    assert tr.any()
    fi = info["final_info"]
    idx = np.flatnonzero(tr)
    np.testing.assert_array_equal(fi["cohort"][idx], before[idx])
    np.testing.assert_array_equal(fi["battery_start"][idx], start[idx])
    np.testing.assert_array_equal(info["cohort"], env.device_cohort)
    # the next episodes carry on each device's own fleet generator
    rng = short_fleet.generator(int(idx[0]))
    short_fleet.draw_with(rng)
    assert env.device_cohort[idx[0]] == short_fleet.draw_with(rng).cohort


def test_fleet_env_copies_continue_identically(short_fleet: Fleet) -> None:
    env = BackgroundSchedulingVectorEnv(4, platform=None, fleet=short_fleet)
    env.reset(seed=11)
    a = np.zeros((4, 4), dtype=np.int64)
    for _ in range(30):
        env.step(a)
    twin = copy.deepcopy(env)
    for _ in range(2000):
        o1, r1, _, t1, _ = env.step(a)
        o2, r2, _, _, _ = twin.step(a)
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(r1, r2)
        if t1.any():
            np.testing.assert_array_equal(env.device_cohort, twin.device_cohort)
    assert twin.sim.pf_table is not env.sim.pf_table


def test_battery_bands() -> None:
    assert [battery_band(x) for x in (0.05, 0.2, 0.49, 0.5, 0.95, 1.0)] == [
        "0-20 %",
        "20-50 %",
        "20-50 %",
        "50-80 %",
        "80-100 %",
        "80-100 %",
    ]
