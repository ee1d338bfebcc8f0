"""The request mask's advice against senseless resubmissions (``kernel.write_masks``,
``windows.resubmit_senseless``): an option is masked out exactly while the very same
request is pending in its slot and already eligible (a resubmission could only replace it
and reset its timer, row 42), and allowed again once it is granted or replaced; the env
still accepts the resubmission and prices it as before."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_env

from bgenv.core import layout as L
from bgenv.envs.actions import ActionTable

# platform -> (option that goes pending, another option of its slot, option of another slot)
CASES = {
    "ios": ("refresh", None, "processing+power"),
    "android": ("job+power", "job+network", "expedited"),
}
ANDROID_SAME_SLOT = ("job+power", "job+network+power")  # both slot 0 on Android, both wait for power


def _req_mask(env) -> np.ndarray:
    return env.action_masks()[: int(env.action_space.nvec[0])]


def _reqs(env) -> np.ndarray:
    return env.sim.reqs[0]


def _step(env, table: ActionTable, option: str | int = 0, delay_s: float = 0.0):
    return env.step(table.action(option, delay_s=delay_s))


def _to_background_decision(env, table: ActionTable) -> None:
    """Step (stopping windows at once, asking nothing) until the app decides in the
    background with nothing pending."""
    for _ in range(500):
        if env.sim.phase() == L.PH_BACKGROUND and not _reqs(env)[:, L.RQ_ACTIVE].any():
            return
        _step(env, table)
    raise AssertionError("no background decision with nothing pending")


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_pending_request_masks_itself_until_granted(platform):
    env = make_env(platform, horizon_days=7)
    table = ActionTable.from_env(env)
    env.reset(seed=3)
    pend, same_slot, other = CASES[platform]
    o_pend, o_other = table.option(pend), table.option(other)
    slot = table.slot(o_pend)
    _to_background_decision(env, table)
    visible_only = [table.option(o) for o in ("fgs", "uidt+network") if table.has(o)]
    assert np.delete(_req_mask(env), visible_only).all(), "nothing pending: every request option is allowed"
    _step(env, table, pend, 0.0)  # earliest = now: eligible at once
    checked = 0
    for _ in range(2000):
        r = _reqs(env)[slot]
        m = _req_mask(env)
        if r[L.RQ_ACTIVE] == 0.0:
            break  # granted: the slot is free again
        t = env.sim.time_s()
        assert r[L.RQ_EARLIEST] <= t
        assert not m[o_pend], "the same request pending and eligible: resubmitting only resets it"
        assert m[o_other], "another slot is unaffected"
        if same_slot is not None:
            assert m[table.option(same_slot)], "another option of the slot changes the request"
        checked += 1
        trunc = _step(env, table)[3]
        assert not trunc
    else:
        raise AssertionError("the request was never granted")
    assert checked >= 1
    assert _req_mask(env)[o_pend], "granted (one-off): allowed again"


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_future_earliest_date_keeps_the_option(platform):
    """A pending request whose earliest-begin date is ahead can be moved earlier: allowed."""
    env = make_env(platform, horizon_days=7)
    table = ActionTable.from_env(env)
    env.reset(seed=4)
    pend = CASES[platform][0]
    o_pend = table.option(pend)
    slot = table.slot(o_pend)
    _to_background_decision(env, table)
    _step(env, table, pend, 8 * 3600.0)
    r = _reqs(env)[slot]
    assert r[L.RQ_ACTIVE] == 1.0 and r[L.RQ_EARLIEST] > env.sim.time_s()
    assert _req_mask(env)[o_pend]


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_replacing_by_another_option_of_the_slot(platform):
    """processing+power (iOS) / job+power (Android) pending and eligible: masked; another
    option of the same slot (processing / job+network+power) replaces it, which flips the
    two bits."""
    env = make_env(platform, horizon_days=7)
    table = ActionTable.from_env(env)
    env.reset(seed=5)
    first, second = ("processing+power", "processing") if platform == "ios" else ANDROID_SAME_SLOT
    o1, o2 = table.option(first), table.option(second)
    slot = table.slot(o1)
    assert table.slot(o2) == slot
    _to_background_decision(env, table)
    _step(env, table, first, 0.0)
    if _reqs(env)[slot, L.RQ_ACTIVE] == 0.0 or env.sim.phase() != L.PH_BACKGROUND:
        pytest.fail("scenario: the power request should still be pending at the next background decision")
    m = _req_mask(env)
    assert not m[o1] and m[o2]
    _step(env, table, second, 0.0)
    r = _reqs(env)[slot]
    assert r[L.RQ_ACTIVE] == 1.0 and int(r[L.RQ_TYPE]) == int(env.sim.pf[L.P_OPT_TYPE + o2])
    assert (r[L.RQ_POWER], r[L.RQ_NET]) == ((0.0, 0.0) if platform == "ios" else (1.0, 1.0))
    m = _req_mask(env)
    assert m[o1] and not m[o2]


def test_resubmission_is_still_accepted_and_priced():
    """The mask is advice: the env replaces the request as before (timer reset, counted)."""
    env = make_env("ios", horizon_days=7)
    table = ActionTable.from_env(env)
    env.reset(seed=3)
    _to_background_decision(env, table)
    _step(env, table, "refresh", 0.0)
    slot = table.slot(table.option("refresh"))
    if _reqs(env)[slot, L.RQ_ACTIVE] == 0.0:
        pytest.fail("scenario: the refresh should still be pending")
    assert not _req_mask(env)[table.option("refresh")]
    before = env.metrics()["requests"]
    _step(env, table, "refresh", 0.0)
    assert env.metrics()["requests"] == before + 1
