"""Hand-built device state for the core's unit tests.

``device("ios_commuter")`` gives one device's arrays, named as in ``layout.py``, for a
scenario's compiled parameters, in a plain state the tests then change slot by slot:
mid-morning on day 1, unplugged at 50 %, screen off and still for two hours, on Wi-Fi,
the app in the background (opened an hour ago), Active bucket, no Doze, nominal
temperature, no request pending, no window; the device's own user and battery are the
archetype's and the battery model's (``device.draw_device`` without heterogeneity). The compiled rule functions are then
called on these arrays directly, so a broken rule fails at its own test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from bgenv.config import Scenario, load_scenario
from bgenv.core import layout as L
from bgenv.core.device import draw_device
from bgenv.core.params import compile_params
from bgenv.core.rng import NSTREAM, stream_states

T = 86400.0 + 10 * 3600.0  # 10:00 on day 1, s
HOUR = 10


@dataclass
class Device:
    """One device's state arrays (the per-device rows the kernel's functions take)."""

    t: ClassVar[float] = T  # the current time, s
    hour: ClassVar[int] = HOUR  # its hour of day
    sc: Scenario
    pf: np.ndarray
    ph: np.ndarray
    sf: np.ndarray
    si: np.ndarray
    items: np.ndarray
    reqs: np.ndarray
    jobs: np.ndarray
    rng: np.ndarray
    ev: np.ndarray
    tts: np.ndarray

    def request(self, slot: int, wt: int, net: bool = False, power: bool = False, earliest: float = 0.0) -> None:
        """A pending request of window type ``wt`` in ``slot``."""
        r = self.reqs[slot]
        r[:] = 0.0
        r[L.RQ_ACTIVE] = 1.0
        r[L.RQ_TYPE] = wt
        r[L.RQ_SUBMIT] = T - 60.0
        r[L.RQ_EARLIEST] = earliest
        r[L.RQ_NET] = float(net)
        r[L.RQ_POWER] = float(power)

    def window(self, wt: int, net: bool = False, power: bool = False) -> None:
        """A running window of type ``wt`` granted a minute ago."""
        self.si[L.I_WIN_ACTIVE] = 1
        self.si[L.I_WIN_TYPE] = wt
        self.si[L.I_WIN_NET] = int(net)
        self.si[L.I_WIN_POWER] = int(power)
        self.sf[L.S_WIN_START] = T - 60.0

    def execution(self, start: float, end: float, kind: int) -> None:
        """Append a past execution of ``kind`` (a JK_* code) to the time-quota ring."""
        h = int(self.si[L.I_JOB_HEAD + L.RING_JOBS])
        self.jobs[h, L.JB_START] = start
        self.jobs[h, L.JB_END] = end
        self.jobs[h, L.JB_KIND] = kind
        self.si[L.I_JOB_HEAD + L.RING_JOBS] = (h + 1) % L.NJOB


def build_device(scenario: str, **overrides: object) -> Device:
    sc = load_scenario(scenario, **overrides)
    cp = compile_params(sc)
    d = Device(
        sc=sc,
        pf=cp.pf.copy(),  # writable: a test may change a parameter
        ph=cp.ph.copy(),
        sf=np.zeros(L.NSF),
        si=np.zeros(L.NSI, dtype=np.int64),
        items=np.zeros((L.MAXI, L.NIF)),
        reqs=np.zeros((L.NSLOT, L.NRF)),
        jobs=np.full((L.NJOB + L.NCNT, L.NJF), np.inf),
        rng=stream_states(0).reshape(NSTREAM, L.NRS),
        ev=np.zeros((L.EV_BUF, L.NEVF)),
        tts=np.zeros(L.TTS_BUF),
    )
    sf, si = d.sf, d.si
    centre = d.pf.copy()
    centre[L.P_HET] = 0.0
    draw_device(centre, sf, si, d.rng.copy())  # the centres: no spread, the streams untouched
    for k in range(L.NEV):
        sf[L.S_EV + k] = np.inf
    sf[L.S_T] = T
    sf[L.S_T0] = T - 86400.0
    sf[L.S_BATT] = 0.5
    sf[L.M_BATT_MIN] = 0.5
    sf[L.S_PLUG_THR] = 0.3
    sf[L.S_HIST_B] = 1.0
    sf[L.S_HIST_E] = 3.0
    sf[L.S_HIST_T] = T
    sf[L.S_RECENT_T] = T
    sf[L.S_EJ_BONUS_T] = T
    sf[L.S_LAST_OPEN] = T - 3600.0
    sf[L.S_LAST_CLOSE] = T - 3000.0
    sf[L.S_LAST_REFRESH] = T - 3600.0
    sf[L.S_LAST_WINDOW_END] = -1e9
    sf[L.S_SCREEN_OFF_SINCE] = T - 7200.0
    sf[L.S_LAST_MOTION] = T - 7200.0
    sf[L.S_UNPLUG_T] = T - 7200.0
    sf[L.S_DOZE_NEXT] = np.inf
    sf[L.S_DEEP_AT] = np.inf
    si[L.I_HOUR] = HOUR
    si[L.I_NET_BASE] = L.NET_WIFI
    si[L.I_BUCKET] = L.BK_ACTIVE
    si[L.I_DOZE] = L.DZ_ACTIVE
    si[L.I_THERMAL] = L.THERMAL_NOMINAL
    si[L.I_EV_ON] = 0
    return d


@pytest.fixture
def device() -> Callable[..., Device]:
    """``device(scenario, **overrides)``: a fresh hand-built device (see the module docstring)."""
    return build_device
