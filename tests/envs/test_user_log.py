"""What the event log tells of the user and the phone (the records a calibration of the
user model reads): the state at reset, the battery level at each screen change, and
connectivity drops as records of their own, apart from changes of the network."""

from __future__ import annotations

import pytest
from helpers import make_env

from bgenv import eventlog as EL
from bgenv.core import layout as L
from bgenv.envs.actions import STOP
from bgenv.rollout import rollout


def _events(platform: str, seed: int, days: float = 2.0, **overrides):
    env = make_env(platform, horizon_days=days, **overrides)
    rollout(env, lambda env, obs, info: [0, 0, STOP, 0], seed)
    return env, env.events


def test_the_record_table_names_the_new_fields():
    assert L.EVENT_SCHEMA[L.EVK_SCREEN] == ("screen", ("on", "app", "battery", "unused"))
    assert L.EVENT_SCHEMA[L.EVK_RESET] == ("reset", ("screen", "thermal", "low_power", "charging"))
    assert L.EVENT_SCHEMA[L.EVK_DROP] == ("drop", ("on", "network", "duration_s", "unused"))
    assert L.EVENT_SCHEMA[L.EVK_NETWORK][1][0] == "network"
    assert all(f.startswith("unused") for f in L.EVENT_SCHEMA[L.EVK_NETWORK][1][1:])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_episode_opens_with_a_reset_record_of_its_state(platform, seed):
    _, evs = _events(platform, seed, days=0.5)
    resets = [i for i, e in enumerate(evs) if e["kind"] == "reset"]
    assert resets == [0]
    r = evs[0]
    assert set(r) == {"t", "kind", "screen", "thermal", "low_power", "charging"}
    assert r["thermal"] in L.THERMAL_NAMES
    assert isinstance(r["screen"], bool) and isinstance(r["charging"], bool)
    # what it says holds until the episode's own records say otherwise
    plugged = [e for e in evs[1:] if e["t"] == r["t"] and e["kind"] == "charge_start"]
    assert r["charging"] == bool(plugged)
    for channel, field in (("low_power", "low_power"), ("screen", "screen")):
        assert EL.changes(evs[:1], channel) == [
            (r["t"], ("on" if channel == "low_power" else "other") if r[field] else "off")
        ]


def test_screen_records_carry_the_battery_level(platform):
    _, evs = _events(platform, 3)
    screens = EL.of_kind(evs, "screen")
    assert len(screens) > 50
    # the level at a screen record lies on the battery line through the other records
    level = {e["t"]: e["battery"] for e in evs if e["kind"] in ("app_open", "app_close")}
    checked = 0
    for e in screens:
        assert 0.0 <= e["battery"] <= 1.0
        if e["t"] in level:
            assert e["battery"] == pytest.approx(level[e["t"]], abs=1e-12)
            checked += 1
    assert checked > 5


def test_drops_are_records_of_their_own_and_the_network_channel_reads_none_during_them(platform):
    _, evs = _events(platform, 5, days=3.0, user={"drops_per_hour": 3.0})
    drops = EL.of_kind(evs, "drop")
    starts = [e for e in drops if e["on"]]
    ends = [e for e in drops if not e["on"]]
    assert len(starts) >= 20 and len(ends) >= len(starts) - 1
    for a, b in zip(starts, ends):
        assert b["t"] >= a["t"]
        assert b["duration_s"] == pytest.approx(b["t"] - a["t"], abs=1e-6)
        assert a["duration_s"] == pytest.approx(b["duration_s"], abs=1e-6)  # no drop ends early today
        assert a["network"] in ("wifi", "cellular")
        # the channel: "none" inside the drop, the underlying network after it
        mid = 0.5 * (a["t"] + b["t"])
        assert EL.value_at(evs, "network", mid) == "none"
        if b["t"] > a["t"]:
            assert EL.value_at(evs, "network", b["t"]) == b["network"]
    # network records are changes of the underlying network only: never "none" for a drop
    nets = EL.of_kind(evs, "network")
    assert all(set(e) == {"t", "kind", "network"} for e in nets)
    # a window's device state says the same as the channel
    for w in EL.windows(evs):
        assert w.state.network == EL.value_at(evs, "network", w.start_s) or w.start_s in {e["t"] for e in evs[1:]}


# The records of the user's world: what the user does and where the phone is, never what
# the OS or the app does. The USER random stream draws all of them (rng.py).
USER_WORLD = ("screen", "app_open", "network", "drop")


def _user_world(platform: str, user: str, seed: int) -> list[tuple]:
    from agents.policies import make_policy

    env = make_env(platform, horizon_days=3.0, user=user)
    rollout(env, make_policy("guidelines", env), seed)  # background work: the battery differs
    return [
        (e["t"], e["kind"], e.get("on"), e.get("app"), e.get("network")) for e in env.events if e["kind"] in USER_WORLD
    ]


@pytest.mark.parametrize("user", ["commuter", "heavy"])
def test_ios_and_android_of_one_archetype_and_seed_share_the_users_world(user):
    """Paired comparisons across platforms: the same archetype and seed give the same
    screen sessions, app opens, network and drops on iOS and on Android, whatever the
    OS and the app do (every per-device draw of the user comes from the USER stream,
    in the same order on both platforms)."""
    for seed in (0, 7):
        ios, android = _user_world("ios", user, seed), _user_world("android", user, seed)
        assert len(ios) > 200
        assert [e[1:] for e in ios] == [e[1:] for e in android]
        # the same times, but for the last bits: the hazard clocks integrate over every
        # event, the OS's too
        assert [e[0] for e in ios] == pytest.approx([e[0] for e in android], abs=1e-6, rel=0)
