"""Scenario loading: names, files, overrides and the ConfigError messages for bad input."""

from __future__ import annotations

import gymnasium as gym
import pytest
from helpers import ENV_IDS, SCENARIOS, make_env

from bgenv import ConfigError, load_scenario
from bgenv.config import available
from bgenv.core.params import compile_params


def test_every_shipped_scenario_loads_and_compiles():
    assert tuple(available("scenarios")) == tuple(sorted(SCENARIOS))
    for name in SCENARIOS:
        sc = load_scenario(name)
        assert sc.platform == ("ios" if name.startswith("ios") else "android")
        cp = compile_params(sc)
        assert cp.nvec.tolist()[1:] == [9, 9, 5]


def test_defaults_and_profile_numbers_used_by_the_mechanics_tests():
    """The mechanics tests rely on these defaults (rows cited)."""
    ios = load_scenario("ios_commuter")
    assert ios.profile.memory_limit_mb == 50.0  # row 49
    assert ios.workload.base_memory_mb == 25.0
    assert ios.workload.kinds.upload.memory_mb_per_unit == 1.5
    assert ios.profile.grace_s == 5.0
    assert ios.workload.cancel_s == 0.5 and ios.workload.cancel_per_unit_s == 0.1
    assert ios.profile.windows["refresh"].budget_s == 30.0  # row 38
    assert ios.profile.ios.cpu_kill_s == 60.0 and ios.profile.ios.cpu_kill_fraction == 0.8  # row 41
    andr = load_scenario("android_commuter")
    assert andr.profile.android.backoff.policy == "exponential"
    assert andr.profile.android.backoff.initial_s == 30.0  # row 17
    assert andr.profile.android.backoff.max_s == 18000.0  # row 17: 5 h
    assert andr.profile.android.bucket_after_h == [12.0, 24.0, 48.0, 192.0]  # row 31
    doze = andr.profile.android.doze
    assert doze.deep_after_s == 3900.0  # row 24
    assert doze.deep_idle_s == [3600.0, 7200.0, 14400.0, 21600.0]  # row 25
    assert doze.light_idle_s == [300.0, 600.0, 900.0]  # row 23


def test_keyword_overrides_are_deep_merged():
    sc = load_scenario(
        "ios_commuter",
        horizon_days=1,
        user={"force_quit_prob": 0.25},
        profile={"windows": {"refresh": {"early_expiry_prob": 0.0}}},
        reward={"kill": 7.0},
    )
    assert sc.horizon_days == 1.0
    assert sc.user.force_quit_prob == 0.25
    assert sc.user.archetype == "commuter"  # the rest of the archetype is kept
    assert sc.profile.windows["refresh"].early_expiry_prob == 0.0
    assert sc.profile.windows["refresh"].budget_s == 30.0  # sibling keys kept
    assert "processing" in sc.profile.windows
    assert sc.reward.kill == 7.0 and sc.reward.expiration == 1.0


def test_scenario_from_a_yaml_path(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text("profile: android\nuser: heavy\nhorizon_days: 2\n")
    sc = load_scenario(p)
    assert sc.name == "mine" and sc.platform == "android" and sc.horizon_days == 2.0
    env = make_env("android", scenario=str(p))
    env.reset(seed=0)
    assert env.scenario_spec.user.archetype == "heavy"


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
def test_unknown_scenario_name():
    with pytest.raises(ConfigError, match="unknown scenario 'no_such_scenario'") as e:
        load_scenario("no_such_scenario")
    assert "ios_commuter" in str(e.value)  # lists what is available
    for env_id in ENV_IDS.values():
        with pytest.raises(ConfigError, match="no_such_scenario"):
            gym.make(env_id, scenario="no_such_scenario")


def test_missing_yaml_file(tmp_path):
    p = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError, match=r"absent\.yaml"):
        load_scenario(p)


def test_scenario_for_the_other_platform_is_rejected():
    with pytest.raises(ValueError, match="Android-v1"):
        gym.make("bgenv/iOS-v1", scenario="android_commuter")
    with pytest.raises(ValueError, match="iOS-v1"):
        gym.make("bgenv/Android-v1", scenario="ios_commuter")


def _write(tmp_path, text: str):
    p = tmp_path / "bad_scenario.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "key", "what"),
    [
        (
            "profile: ios\nuser: commuter\nhorizon_dayz: 2\n",
            "horizon_dayz",
            "allowed keys here: name, description, horizon_days",
        ),
        (
            "profile: ios\nuser: {base: commuter, force_quit_probability: 0.1}\n",
            "user.force_quit_probability",
            "force_quit_prob",
        ),
        (
            "profile: {base: ios, windows: {refresh: {budget: 3}}}\nuser: commuter\n",
            "profile.windows.refresh.budget",
            "budget_s",
        ),
        ("profile: ios\nuser: commuter\nhorizon_days: a week\n", "horizon_days", "valid number"),
        ("profile: ios\nuser: commuter\ninitial_battery: 0.5\n", "initial_battery", "valid list"),
        (
            "profile: ios\nuser: {base: commuter, force_quit_prob: 1.5}\n",
            "user.force_quit_prob",
            "less than or equal to 1",
        ),
        ("profile: {base: ios, memory_limit_mb: -5}\nuser: commuter\n", "profile.memory_limit_mb", "greater than 0"),
        ("profile: ios\nuser: commuter\nhorizon_days: 0\n", "horizon_days", "greater than 0"),
        ("profile: ios\nuser: commuter\nreward: {kill: -1}\n", "reward.kill", "greater than or equal to 0"),
        ("profile: ios\nuser: commuter\nreward: {kill: .nan}\n", "reward.kill", "finite"),
        ("profile: ios\nuser: commuter\nreward: {battery_per_pct: .inf}\n", "reward.battery_per_pct", "finite"),
    ],
    ids=[
        "unknown-top-level-key",
        "unknown-user-key",
        "unknown-window-key",
        "wrong-type-string",
        "wrong-type-scalar-for-list",
        "out-of-range-probability",
        "out-of-range-memory",
        "out-of-range-horizon",
        "negative-weight",
        "nan-reward-weight",
        "inf-reward-weight",
    ],
)
def test_bad_scenario_file_names_file_and_key(tmp_path, text, key, what):
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_scenario(p)
    msg = str(e.value)
    assert str(p) in msg
    assert f"'{key}'" in msg
    assert what in msg


def test_bad_scenario_file_through_gym_make(tmp_path):
    p = _write(tmp_path, "profile: ios\nuser: commuter\nreward: {kill: .nan}\n")
    with pytest.raises(ConfigError, match=r"reward\.kill"):
        gym.make("bgenv/iOS-v1", scenario=str(p))


def test_boolean_for_a_number_is_not_silently_coerced(tmp_path):
    """``horizon_days: true`` is a typo, not one day: a wrong type gets a clear error,
    never a silent conversion."""
    p = _write(tmp_path, "profile: ios\nuser: commuter\nhorizon_days: true\n")
    with pytest.raises(ConfigError, match="horizon_days"):
        load_scenario(p)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("- profile\n- user\n", "expected a mapping"),
        ("profile: [ios\n", "not valid YAML"),
        ("profile: windows_phone\nuser: commuter\n", "unknown profile 'windows_phone'"),
        ("profile: ios\nuser: nobody\n", "unknown user 'nobody'"),
        ("user: commuter\n", "missing key 'profile'"),
    ],
    ids=["not-a-mapping", "yaml-syntax", "unknown-profile", "unknown-user", "missing-profile"],
)
def test_malformed_scenario_files(tmp_path, text, what):
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=what):
        load_scenario(p)


def test_bad_keyword_override_names_the_key():
    with pytest.raises(ConfigError) as e:
        load_scenario("ios_commuter", reward={"kill": float("nan")})
    assert "keyword overrides" in str(e.value) and "'reward.kill'" in str(e.value)
    with pytest.raises(ConfigError, match="unknown key 'bogus'"):
        load_scenario("ios_commuter", bogus=1)
    with pytest.raises(ConfigError, match="'horizon_days'"):
        gym.make("bgenv/Android-v1", horizon_days=-1)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"user": {"force_quit_prob": 2.0}}, "user.force_quit_prob"),
        ({"user": {"no_such_user_key": 1}}, "user.no_such_user_key"),
        ({"profile": {"memory_limit_mb": -1.0}}, "profile.memory_limit_mb"),
    ],
    ids=["user-out-of-range", "user-unknown-key", "profile-out-of-range"],
)
def test_bad_profile_or_user_keyword_override_is_blamed_on_the_override(overrides, key):
    """A bad value passed as a keyword override must be reported as coming from the
    keyword overrides, not from the scenario file (which is fine)."""
    with pytest.raises(ConfigError) as e:
        load_scenario("ios_commuter", **overrides)
    msg = str(e.value)
    assert f"'{key}'" in msg
    assert "keyword overrides" in msg, msg
    assert "ios_commuter.yaml" not in msg, msg
