"""What the app observes (``bgenv/core/observation.py``) on hand-built state: the
network flags say what network the app may use now, as its chunks get it (rows 26, 27)."""

from __future__ import annotations

import numpy as np
import pytest

from bgenv.core import layout as L
from bgenv.core.observation import FEATURE_NAMES, NOBS, write_obs


def net_flags(d) -> tuple[float, float, float]:
    """(net_none, net_cellular, net_wifi) of the device's observation."""
    obs = np.zeros(NOBS, dtype=np.float32)
    write_obs(d.pf, d.sf, d.si, d.items, d.reqs, obs)
    return tuple(float(obs[FEATURE_NAMES.index(f"net_{n}")]) for n in ("none", "cellular", "wifi"))


NONE, WIFI = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)


@pytest.mark.parametrize(
    "wt, exempt",
    [(L.WT_EXPEDITED, True), (L.WT_PUSH, True), (L.WT_ALARM, True), (L.WT_FGS, True), (L.WT_JOB, False)],
)
def test_a_window_exempt_from_doze_sees_the_network_its_chunks_get(device, wt, exempt):
    d = device("android_commuter")  # on Wi-Fi
    d.si[L.I_DOZE] = L.DZ_DEEP_IDLE  # #26: no network for the app in Doze idle ...
    assert net_flags(d) == NONE
    d.window(wt, net=True)  # ... but inside an exempt window (android.yaml doze_exempt) it has it
    assert net_flags(d) == (WIFI if exempt else NONE)


def test_a_push_exemption_gives_the_app_the_network_in_doze(device):
    d = device("android_commuter")
    d.si[L.I_DOZE] = L.DZ_LIGHT_IDLE
    d.si[L.I_TEMP_EXEMPT] = 1  # #27: a high-priority push exempted the app for a while
    assert net_flags(d) == WIFI
    d.si[L.I_DROP] = 1  # a connectivity drop: no network, exempt or not
    assert net_flags(d) == NONE


def test_a_past_window_type_gives_no_exemption(device):
    d = device("android_commuter")
    d.si[L.I_DOZE] = L.DZ_DEEP_IDLE
    d.si[L.I_WIN_TYPE] = L.WT_EXPEDITED  # the last window was expedited, none runs now
    assert net_flags(d) == NONE
