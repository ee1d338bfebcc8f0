"""The user model's mechanisms on hand-built state (USER_FACTS U1-U22, the design in
docs/sources/user_model_targets_v1.md): per-device draws at reset (``draw_device``), the
session mixtures, Weibull gaps, Low Power Mode's effect on drain, charging habits. The
fleet statistics a calibration measures from event logs are the calibration tests'."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bgenv.core import layout as L
from bgenv.core.battery import background_power, battery_rate, threshold_crossed
from bgenv.core.device import (
    app_session,
    daytime_plugin,
    draw_device,
    gamma,
    gap_hazard,
    screen_session,
    stop_charging,
    tail_scale,
)
from bgenv.core.params import PCT_PER_H
from bgenv.core.rng import NSTREAM, stream_states

N_DEVICES = 4000


def fleet(d, n: int = N_DEVICES) -> tuple[np.ndarray, np.ndarray]:
    """``draw_device`` for ``n`` seeds with the device's parameters: the float and the
    integer state of each (rows)."""
    sf = np.zeros((n, L.NSF))
    si = np.zeros((n, L.NSI), dtype=np.int64)
    for i in range(n):
        draw_device(d.pf, sf[i], si[i], stream_states(i).reshape(NSTREAM, L.NRS))
    return sf, si


def test_without_heterogeneity_every_device_is_the_centre(device):
    d = device("ios_commuter", heterogeneity={"enabled": False})
    u, b = d.sc.user, d.sc.battery
    sf, si = fleet(d, 20)
    assert (si[:, L.I_RNG_DRAWS] == 2).all()  # only the top-up threshold is drawn (as in v0)
    for col, want in (
        (L.S_U_SCREEN_SCALE, None),
        (L.S_DRAIN_OFF, b.drain_screen_off_pct_per_h * PCT_PER_H),
        (L.S_DRAIN_ON, b.drain_screen_on_pct_per_h * PCT_PER_H),
        (L.S_CHARGE_OFF, b.charge_screen_off_pct_per_h * PCT_PER_H),
        (L.S_CHARGE_ON, b.charge_screen_on_pct_per_h * PCT_PER_H),
        (L.S_U_OVERNIGHT_P, u.overnight_charge_prob),
        (L.S_U_LPM_ACCEPT, u.low_power_accept_prob),
        (L.S_U_FQ_PROB, u.force_quit_prob),
        (L.S_U_PLUGINS_PER_DAY, u.daytime_plugins_per_day),
        (L.S_U_BEDTIME_H, u.bedtime_hour),
        (L.S_U_APP_SCALE, 1.0),
        (L.S_U_WIFI_DOWN, 1.0),
        (L.S_U_WIFI_UP, 0.0),
    ):
        assert np.all(sf[:, col] == sf[0, col])
        if want is not None:
            assert sf[0, col] == pytest.approx(want, rel=1e-12), L
    assert (si[:, L.I_U_SHIFT] == 0).all() and (si[:, L.I_LPM_ALWAYS] == 0).all()
    assert (si[:, L.I_OPT_CHARGING] == 1).all()
    # the low-power factors are the middle of their ranges
    assert sf[0, L.S_LPM_F_ON] == pytest.approx(np.mean(b.low_power_drain_screen_on))


def test_drawn_drain_and_charging_speeds_have_the_configured_medians_and_spreads(device):
    """U12, U13: log-normal around the battery model's medians, correlated drains, the
    screen-on charging speed a share of the screen-off one."""
    d = device("android_commuter")
    b, h = d.sc.battery, d.sc.heterogeneity
    sf, _ = fleet(d)
    off = sf[:, L.S_DRAIN_OFF] / PCT_PER_H
    on = sf[:, L.S_DRAIN_ON] / PCT_PER_H
    chg = sf[:, L.S_CHARGE_OFF] / PCT_PER_H
    assert np.median(off) == pytest.approx(b.drain_screen_off_pct_per_h, rel=0.05)
    assert np.median(on) == pytest.approx(b.drain_screen_on_pct_per_h, rel=0.05)
    assert np.median(chg) == pytest.approx(b.charge_screen_off_pct_per_h, rel=0.05)
    z90 = 1.2815515655446004
    assert np.quantile(off, 0.9) / np.quantile(off, 0.1) == pytest.approx(
        math.exp(2 * z90 * h.drain_screen_off_sigma), rel=0.1
    )
    assert np.corrcoef(np.log(off), np.log(on))[0, 1] == pytest.approx(h.drain_correlation, abs=0.05)
    ratio = sf[:, L.S_CHARGE_ON] / sf[:, L.S_CHARGE_OFF]
    assert ratio.min() >= h.charge_screen_on_ratio[0] and ratio.max() <= h.charge_screen_on_ratio[1]
    # clipped at clip_sd: no device beyond
    assert np.abs(np.log(off / b.drain_screen_off_pct_per_h)).max() <= h.clip_sd * h.drain_screen_off_sigma + 1e-9


def test_drawn_top_up_thresholds_follow_the_survey(device):
    """U14: 13 % at most 10 %, 34 % at most 20 % (cumulative), mean ~38 %, continuous."""
    d = device("ios_commuter")
    sf, _ = fleet(d)
    thr = sf[:, L.S_PLUG_BASE]
    assert np.array_equal(thr, sf[:, L.S_PLUG_THR])
    assert np.mean(thr <= 0.10) == pytest.approx(0.13, abs=0.02)
    assert np.mean(thr <= 0.20) == pytest.approx(0.34, abs=0.025)
    assert thr.mean() == pytest.approx(0.38, abs=0.015)
    low = thr[thr <= 0.10]
    assert low.min() >= d.sc.heterogeneity.plug_low_min and len(np.unique(low)) == len(low)


def test_drawn_habits_keep_the_archetypes_means(device):
    """U15 (overnight habit), U17 (prompt acceptance, always-on), U22 (force-quit habit),
    U19 (Wi-Fi share), U1/U9 (rate factors of median 1), U7 (sleep offsets)."""
    d = device("ios_commuter")
    u, h = d.sc.user, d.sc.heterogeneity
    sf, si = fleet(d)
    p = u.overnight_charge_prob
    want = p * (1 - (1 - p) * h.overnight_miss) + (1 - p) * p * h.overnight_occasional
    assert sf[:, L.S_U_OVERNIGHT_P].mean() == pytest.approx(want, abs=0.02)
    assert np.mean(sf[:, L.S_U_OVERNIGHT_P] > 0.9) == pytest.approx(p, abs=0.03)
    assert sf[:, L.S_U_LPM_ACCEPT].mean() == pytest.approx(u.low_power_accept_prob, abs=0.01)
    m = u.low_power_accept_prob  # uniform around it, kept in [0, 1]
    assert sf[:, L.S_U_LPM_ACCEPT].std() == pytest.approx(min(h.low_power_accept_sd, m / 3**0.5), abs=0.01)
    assert si[:, L.I_LPM_ALWAYS].mean() == pytest.approx(h.low_power_always_share, abs=0.01)
    fq = sf[:, L.S_U_FQ_PROB]
    assert fq.mean() == pytest.approx(u.force_quit_prob, rel=0.1)
    assert np.quantile(fq, 0.95) >= 5 * np.median(fq)
    assert np.median(sf[:, L.S_U_SCREEN_SCALE]) > 1.0  # raised for the time the screen is on
    assert np.median(sf[:, L.S_U_APP_SCALE]) == pytest.approx(1.0, abs=0.05)
    off = (sf[:, L.S_U_BEDTIME_H] - u.bedtime_hour + 12.0) % 24.0 - 12.0
    assert off.std() == pytest.approx(h.sleep_offset_sd_h, rel=0.1)
    assert np.abs(off).max() <= h.sleep_offset_max_h + 1e-9
    assert np.all(np.abs(si[:, L.I_U_SHIFT] - off) <= 0.5 + 1e-9)
    # the daily Wi-Fi share of each device, from its factors on the hourly shares
    wifi, none = np.array(u.wifi_share), np.array(u.no_network_share)
    share = [np.mean(wifi * s[L.S_U_WIFI_DOWN] + (1 - none - wifi) * s[L.S_U_WIFI_UP]) for s in sf]
    assert np.mean(share) == pytest.approx(wifi.mean(), abs=0.01)
    assert np.std(share) == pytest.approx(h.wifi_share_sd, abs=0.015)
    # daytime plug-ins: a habit of most devices, the archetype's rate on average
    assert sf[:, L.S_U_PLUGINS_PER_DAY].mean() == pytest.approx(u.daytime_plugins_per_day, rel=0.05)


@pytest.mark.parametrize(
    ("user", "slot", "value"),
    [
        ({"force_quit_prob": 0.0}, L.S_U_FQ_PROB, 0.0),
        ({"overnight_charge_prob": 1.0}, L.S_U_OVERNIGHT_P, 1.0),
        ({"overnight_charge_prob": 0.0}, L.S_U_OVERNIGHT_P, 0.0),
        ({"low_power_accept_prob": 1.0}, L.S_U_LPM_ACCEPT, 1.0),
        ({"daytime_plugins_per_day": 0.0}, L.S_U_PLUGINS_PER_DAY, 0.0),
        ({"wifi_share": [1.0] * 24, "no_network_share": [0.0] * 24}, L.S_U_WIFI_DOWN, 1.0),
    ],
)
def test_a_sure_or_impossible_habit_stays_so_on_every_device(device, user, slot, value):
    d = device("ios_commuter", user=user)
    sf, _ = fleet(d, 200)
    assert (sf[:, slot] == value).all()


def test_the_gamma_function_is_math_gamma_to_the_last_bits():
    for z in (0.3, 1.0, 1.5, 2.0, 2.2222, 3.5, 11.0, 21.0):
        assert gamma(z) == pytest.approx(math.gamma(z), rel=1e-14)


@pytest.mark.parametrize(
    ("mean", "p", "lo", "alpha", "cap"),
    [(105.0, 0.35, 15.0, 1.4, 10800.0), (72.0, 0.35, 8.0, 1.35, 7200.0), (60.0, 0.0, 10.0, 2.0, 600.0)],
)
def test_the_tail_scale_gives_the_mixture_its_mean_under_the_cap(mean, p, lo, alpha, cap):
    glance = 5.0
    s = tail_scale(mean, p, glance, lo, alpha, cap)
    c = cap - lo
    tail_mean = s / (alpha - 1.0) * (1.0 - (1.0 + c / s) ** (1.0 - alpha))  # E[min(Lomax, c)]
    assert p * glance + (1.0 - p) * (lo + tail_mean) == pytest.approx(mean, rel=1e-9)


def _sessions(d, fn, n: int = 200_000) -> np.ndarray:
    rng = stream_states(3).reshape(NSTREAM, L.NRS)
    return np.array([fn(d.pf, d.sf, d.si, rng) for _ in range(n)])


def test_screen_sessions_are_many_glances_and_a_heavy_tail(device):
    """U2: ~a third of sessions under 15 s, a median near half a minute, p99 some forty
    times the median, and the configured mean (the centre device of the commuter)."""
    d = device("ios_commuter")
    x = _sessions(d, screen_session)
    u = d.sc.user
    assert np.mean(x < 15.0) == pytest.approx(0.31, abs=0.02)
    assert 25.0 <= np.median(x) <= 35.0
    assert np.quantile(x, 0.99) / np.median(x) >= 30.0
    assert x.mean() == pytest.approx(u.screen_session_mean_s, rel=0.05)
    assert x.min() >= u.screen_glance_s[0] and x.max() <= u.session_max_s
    # the tail is a shifted Pareto: a Lomax fit above 60 s gives the configured index
    t = x[x > 60.0] - 60.0
    s = np.median(t) / (2 ** (1 / u.session_tail_index) - 1)  # the Lomax scale from the median
    assert 1.0 / np.mean(np.log1p(t / s)) == pytest.approx(u.session_tail_index, rel=0.1)


def test_app_sessions_are_short_mostly(device):
    """U6, U8: ~40-50 % of app sessions under 15 s (Ferreira: ~40 %), ~20 % under 5 s;
    the commuter's centre (56 s) is below U6's pooled 72 s, which docs/calibration.md checks."""
    d = device("ios_commuter")
    x = _sessions(d, app_session)
    assert 0.38 <= np.mean(x < 15.0) <= 0.50  # the U6/U8 band of docs/sources/user_model_targets_v1.md
    assert 0.15 <= np.mean(x < 5.0) <= 0.35
    assert 10.0 <= np.median(x) <= 25.0
    assert x.mean() == pytest.approx(d.sc.user.app_session_mean_s, rel=0.05)


def test_gaps_between_screen_sessions_are_weibull_of_mean_one(device):
    """U2: the screen-on clock's remaining hazard after a session starts is a Weibull gap
    of mean 1 in the hourly rate's time, shape < 1: CV > 1.5 (an exponential has 1)."""
    d = device("ios_commuter")
    rng = stream_states(5).reshape(NSTREAM, L.NRS)
    for k in (0.45, 1.0):
        d.sf[L.S_U_GAP_K] = k
        d.sf[L.S_U_GAP_SCALE] = 1.0 / gamma(1.0 + 1.0 / k)
        x = np.array([gap_hazard(d.sf, d.si, rng) for _ in range(200_000)])
        cv = math.sqrt(math.gamma(1 + 2 / k) / math.gamma(1 + 1 / k) ** 2 - 1)
        assert x.mean() == pytest.approx(1.0, rel=0.03 if k < 1 else 0.01)
        assert x.std() / x.mean() == pytest.approx(cv, rel=0.05)


def test_low_power_mode_lowers_the_drain_by_the_devices_factors(device):
    """U18: a matched pair, the same device with Low Power Mode off and on."""
    d = device("ios_commuter")
    d.sf[L.S_LPM_F_ON], d.sf[L.S_LPM_F_OFF] = 0.8, 0.9
    for screen, factor, drain in ((0, 0.9, L.S_DRAIN_OFF), (1, 0.8, L.S_DRAIN_ON)):
        d.si[L.I_SCREEN] = screen
        d.si[L.I_LOWPOWER] = 0
        normal = battery_rate(d.pf, d.sf, d.si, background_power(d.pf, d.si))
        d.si[L.I_LOWPOWER] = 1
        low = battery_rate(d.pf, d.sf, d.si, background_power(d.pf, d.si))
        assert normal == -d.sf[drain]
        assert low == pytest.approx(factor * normal, rel=1e-12)
    d.si[L.I_CHARGING] = 1  # charging is not slowed
    assert battery_rate(d.pf, d.sf, d.si, 0.0) == d.sf[L.S_CHARGE_ON]


@pytest.mark.parametrize(("scenario", "second"), [("ios_commuter", True), ("android_commuter", False)])
def test_ios_prompts_again_at_10_percent_after_a_refusal(device, scenario, second):
    d = device(scenario)
    d.sf[L.S_U_LPM_ACCEPT] = 1.0
    d.sf[L.S_BATT] = 0.10
    threshold_crossed(d.pf, d.sf, d.si, d.rng, d.ev, -1e-5)
    assert d.si[L.I_LOWPOWER] == int(second)


def test_a_daytime_plug_in_draws_its_length_whether_or_not_it_plugs_in(device):
    """U15: the plug-in is the user's; its draw is made even on the charger, so the user's
    stream does not depend on the charger (which the battery, and so the app, decides)."""
    d = device("ios_commuter")
    draws = d.si[L.I_RNG_DRAWS]
    assert daytime_plugin(d.pf, d.sf, d.si, d.rng, d.ev)
    assert d.si[L.I_CHARGING] == 1 and d.si[L.I_OVERNIGHT] == 0 and d.sf[L.S_EV + L.EV_CHARGE_STOP] > d.t
    assert d.si[L.I_RNG_DRAWS] == draws + 1
    assert not daytime_plugin(d.pf, d.sf, d.si, d.rng, d.ev)  # already on the charger
    assert d.si[L.I_RNG_DRAWS] == draws + 2
    # the hazard runs in waking hours only (an hour after waking to an hour before bed)
    u = d.sc.user
    ph = d.ph[L.H_PLUGIN_PER_S]
    assert ph.sum() * 3600.0 == pytest.approx(1.0)
    assert ph[3] == 0.0 and ph[12] > 0.0 and ph[int(u.bedtime_hour) - 1] == 0.0


def test_unplugging_below_the_threshold_plugs_in_again_and_keeps_low_power_on(device):
    """U14: unplugged below the (moved) threshold, the user tops up after the usual delay
    without a crossing; U17: a user who keeps Low Power Mode on turns it on at unplug."""
    d = device("ios_commuter")
    d.si[L.I_CHARGING] = 1
    d.si[L.I_LPM_ALWAYS] = 1
    d.sf[L.S_PLUG_BASE] = d.sf[L.S_PLUG_THR] = 0.6
    stop_charging(d.pf, d.sf, d.si, d.rng, d.ev)  # at 50 %
    assert d.si[L.I_CHARGING] == 0 and d.si[L.I_LOWPOWER] == 1
    assert d.sf[L.S_PLUG_THR] != 0.6  # it moves from charge to charge
    assert d.t < d.sf[L.S_EV + L.EV_TOPUP] < np.inf
