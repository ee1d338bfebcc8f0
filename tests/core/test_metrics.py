"""Episode metrics computed in the compiled core (``bgenv/core/metrics.py``): the
median matches numpy's, the row layout matches the names, and the books balance."""

from __future__ import annotations

import numpy as np
from helpers import make_env
from hypothesis import given, settings
from hypothesis import strategies as st

from bgenv.core import layout as L
from bgenv.core.metrics import METRIC_NAMES, METRICS, NMETRICS, median_of

_FINITE = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FINITE, min_size=0, max_size=60), st.integers(0, 3))
def test_median_is_numpys_bit_for_bit(values, repeat):
    a = np.array(values * (repeat + 1), dtype=np.float64)  # repeats: ties and even sizes
    scratch = np.empty(max(1, a.size))
    before = a.copy()
    got = median_of(a, a.size, scratch)
    if a.size == 0:
        assert np.isnan(got)
    else:
        assert got == np.median(a)
    np.testing.assert_array_equal(a, before)  # the input is left as it was


def test_median_of_small_cases():
    s = np.empty(8)
    assert median_of(np.array([3.0]), 1, s) == 3.0
    assert median_of(np.array([4.0, 1.0]), 2, s) == 2.5
    assert median_of(np.array([5.0, 1.0, 3.0, 2.0, 4.0]), 5, s) == 3.0
    assert median_of(np.array([7.0, 7.0, 1.0, 9.0]), 4, s) == 7.0
    assert median_of(np.array([2.0, 1.0, 99.0]), 2, s) == 1.5  # only the first k values count


def test_names_rows_and_window_types_agree():
    assert NMETRICS == len(METRICS) == 53  # 48 + windows_transfer, windows_uidt and three transfer metrics
    windows = [k.removeprefix("windows_") for k in METRIC_NAMES if k.startswith("windows_") and k != "windows_granted"]
    assert tuple(windows) == L.WT_NAMES
    assert METRIC_NAMES.index("windows_granted") + 1 == METRIC_NAMES.index(f"windows_{L.WT_NAMES[0]}")


def test_metrics_of_a_finished_episode_read_the_core_state(platform):
    env = make_env(platform, horizon_days=1)
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    nvec = env.action_space.nvec
    info = {}
    trunc = False
    while not trunc:
        _, _, _, trunc, info = env.step(rng.integers(0, nvec))
    m = info["metrics"]
    assert list(m) == list(METRIC_NAMES)
    sim = env.unwrapped.sim
    s, n = sim.sf[0], sim.si[0]
    assert m["work_arrived"] == s[L.M_ARRIVED] and m["episode_reward"] == s[L.M_REWARD]
    assert m["simulated_days"] == (s[L.S_T] - s[L.S_T0]) / 86400.0 == 1.0
    k = min(int(n[L.I_TTS_N]), L.TTS_BUF)
    assert k > 0 and m["time_to_success_s"] == np.median(sim.tts[0, :k])
    assert abs(m["work_arrived"] - m["work_completed"] - m["work_pending"]) <= 1e-9 * m["work_arrived"]
    assert m["work_pending"] == sim.pending_units(0)
    assert m["energy_on_charger"] == m["energy_total"] - m["battery_cost"]
    # content fetched in the background was either shown or never seen
    assert m["content_shown_units"] + m["content_unseen_units"] <= m["work_completed_background"] + 1e-9
    rows = sim.metrics_rows(np.array([0, 0]))
    assert rows.shape == (2, NMETRICS)
    np.testing.assert_array_equal(rows, [list(m.values())] * 2)  # NaN-aware
