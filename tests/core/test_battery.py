"""The battery model (``bgenv/core/battery.py``) on hand-built state: rates from the
config's %/h, integration, background energy, and the behaviour thresholds (U12-U18)."""

from __future__ import annotations

import numpy as np
import pytest

from bgenv.core import layout as L
from bgenv.core.battery import (
    background_power,
    battery_rate,
    integrate,
    next_battery_event,
    next_crossing,
    spend,
    threshold_crossed,
    thresholds,
    wake_energy,
)

PCT_PER_H = 1.0 / (100.0 * 3600.0)  # %/h -> fraction per s


def rate(d) -> float:
    return float(battery_rate(d.pf, d.sf, d.si, background_power(d.pf, d.si)))


def test_drain_and_charge_rates_are_the_configs_percent_per_hour(device):
    d = device("ios_commuter")
    b = d.sc.battery
    assert rate(d) == -b.drain_screen_off_pct_per_h * PCT_PER_H
    d.si[L.I_SCREEN] = 1
    assert rate(d) == -b.drain_screen_on_pct_per_h * PCT_PER_H
    d.si[L.I_CHARGING] = 1
    assert rate(d) == b.charge_screen_on_pct_per_h * PCT_PER_H
    d.si[L.I_SCREEN] = 0
    assert rate(d) == b.charge_screen_off_pct_per_h * PCT_PER_H
    d.sf[L.S_BATT] = 1.0
    assert rate(d) == 0.0  # full


def test_background_work_adds_cpu_and_radio_power(device):
    d = device("ios_commuter")
    b = d.sc.battery
    d.si[L.I_CHUNK_ACTIVE] = 1
    d.si[L.I_CHUNK_KIND] = L.KIND_UPLOAD  # cpu_fraction 0.3
    d.si[L.I_CHUNK_NET] = L.NET_CELL
    power = (b.background_cpu_pct_per_h * 0.3 + b.radio_cellular_pct_per_h) * PCT_PER_H
    assert background_power(d.pf, d.si) == pytest.approx(power, rel=1e-12)
    assert rate(d) == pytest.approx(-(b.drain_screen_off_pct_per_h * PCT_PER_H + power), rel=1e-12)
    d.si[L.I_CHUNK_NET] = L.NET_WIFI
    wifi = (b.background_cpu_pct_per_h * 0.3 + b.radio_wifi_pct_per_h) * PCT_PER_H
    assert background_power(d.pf, d.si) == pytest.approx(wifi, rel=1e-12)


def test_optimised_overnight_charging_holds_the_level_until_the_last_hour(device):
    d = device("ios_commuter")
    d.si[L.I_CHARGING] = 1
    d.si[L.I_OVERNIGHT] = 1
    d.sf[L.S_BATT] = 0.8  # optimised_hold_level (U16)
    d.sf[L.S_CHARGE_PLAN_STOP] = d.t + 2 * 3600.0
    assert rate(d) == 0.0
    d.sf[L.S_CHARGE_PLAN_STOP] = d.t + 1800.0  # fills in the last hour before unplugging
    assert rate(d) > 0.0


def test_the_end_of_the_overnight_hold_is_the_next_battery_event(device):
    d = device("ios_commuter")
    d.si[L.I_CHARGING] = 1
    d.si[L.I_OVERNIGHT] = 1
    d.sf[L.S_BATT] = 0.8
    d.sf[L.S_CHARGE_PLAN_STOP] = d.t + 5 * 3600.0
    assert rate(d) == 0.0
    # held until optimised_finish_before_s (1 h, U16) before the planned unplug: not polled
    assert next_battery_event(d.pf, d.sf, d.si, 0.0) == d.t + 4 * 3600.0
    d.sf[L.S_T] = d.t + 4 * 3600.0  # then it charges at 36 %/h to full
    assert rate(d) == 36.0 * PCT_PER_H
    assert next_battery_event(d.pf, d.sf, d.si, rate(d)) == pytest.approx(d.sf[L.S_T] + 2000.0)
    d.si[L.I_OVERNIGHT] = 0  # a top-up charge holds nothing
    d.sf[L.S_T] = d.t
    assert next_battery_event(d.pf, d.sf, d.si, rate(d)) == next_crossing(d.pf, d.sf, rate(d))


def test_integration_clips_the_level_and_keeps_the_minimum(device):
    d = device("ios_commuter")
    d.sf[L.S_BATT_RATE] = -1e-4
    integrate(d.sf, 1000.0)
    assert d.sf[L.S_BATT] == 0.5 + -1e-4 * 1000.0
    assert d.sf[L.M_BATT_MIN] == d.sf[L.S_BATT]
    integrate(d.sf, 1e6)
    assert d.sf[L.S_BATT] == 0.0
    d.sf[L.S_BATT_RATE] = 1e-3
    integrate(d.sf, 1e6)
    assert (d.sf[L.S_BATT], d.sf[L.M_BATT_MIN]) == (1.0, 0.0)


def test_background_energy_is_a_battery_cost_only_off_the_charger(device):
    d = device("ios_commuter")
    spend(d.pf, d.sf, d.si, 0.01)
    assert (d.sf[L.M_ENERGY], d.sf[L.M_BATTERY_COST], d.sf[L.S_COST]) == (0.01, 0.01, 0.01)
    assert d.sf[L.S_REWARD] == -d.sc.reward.battery_per_pct * 100.0 * 0.01
    d.si[L.I_CHARGING] = 1
    spend(d.pf, d.sf, d.si, 0.01)
    assert (d.sf[L.M_ENERGY], d.sf[L.M_BATTERY_COST]) == (0.02, 0.01)


def test_the_thresholds_are_the_configs_levels(device):
    d = device("android_commuter")  # low battery 15 %, Battery Saver prompt 20 %, off at 90 %
    p, u, b = d.sc.profile, d.sc.user, d.sc.battery
    got = thresholds(d.pf, d.sf)
    assert got == (
        u.plug_now_level,
        0.3,  # this episode's top-up threshold (drawn at reset; set by the fixture)
        p.low_battery_level,
        p.low_power_on_level,
        -1.0,  # no second prompt on Android (iOS: 10 %)
        p.low_power_off_level,
        b.optimised_hold_level,
        1.0,
    )


def test_next_crossing_is_the_nearest_threshold_on_the_way(device):
    d = device("ios_commuter")
    r = -1e-5
    assert next_crossing(d.pf, d.sf, r) == d.t + (0.3 - 0.5) / r  # down to the top-up threshold
    d.sf[L.S_BATT] = 0.25
    assert next_crossing(d.pf, d.sf, r) == d.t + (0.2 - 0.25) / r  # iOS: the 20 % gate and LPM prompt
    d.sf[L.S_BATT] = 0.5
    assert next_crossing(d.pf, d.sf, -r) == d.t + (0.8 - 0.5) / -r  # up to LPM off / optimised hold
    assert next_crossing(d.pf, d.sf, 0.0) == np.inf


def test_reaching_the_plug_now_level_plugs_in_at_once(device):
    d = device("ios_commuter")
    d.sf[L.S_BATT] = d.sc.user.plug_now_level
    threshold_crossed(d.pf, d.sf, d.si, d.rng, d.ev, -1e-5)
    assert d.sf[L.S_EV + L.EV_TOPUP] == d.t


def test_reaching_the_top_up_threshold_schedules_a_top_up(device):
    d = device("ios_commuter")
    d.sf[L.S_BATT] = 0.3
    threshold_crossed(d.pf, d.sf, d.si, d.rng, d.ev, -1e-5)
    assert d.t < d.sf[L.S_EV + L.EV_TOPUP] < np.inf


def test_low_power_mode_prompt_going_down_and_switch_off_going_up(device):
    d = device("ios_commuter")
    d.sf[L.S_U_LPM_ACCEPT] = 1.0  # the user always accepts the prompt
    d.sf[L.S_BATT] = d.sc.profile.low_power_on_level
    threshold_crossed(d.pf, d.sf, d.si, d.rng, d.ev, 1e-5)
    assert d.si[L.I_LOWPOWER] == 0  # crossed going up: no prompt
    threshold_crossed(d.pf, d.sf, d.si, d.rng, d.ev, -1e-5)
    assert d.si[L.I_LOWPOWER] == 1  # U17
    d.si[L.I_CHARGING] = 1
    d.sf[L.S_BATT] = d.sc.profile.low_power_off_level
    threshold_crossed(d.pf, d.sf, d.si, d.rng, d.ev, 1e-5)
    assert d.si[L.I_LOWPOWER] == 0  # U18: off at 80 % on iOS


def test_wake_energy_drops_the_level_and_handles_the_thresholds_it_passes(device):
    d = device("ios_commuter")
    e = d.sc.battery.window_wake_pct / 100.0
    d.sf[L.S_U_LPM_ACCEPT] = 1.0
    d.sf[L.S_BATT] = 0.2 + e / 2.0  # the launch takes the level past the 20 % prompt
    wake_energy(d.pf, d.sf, d.si, d.rng, d.ev)
    assert d.sf[L.S_BATT] == 0.2 + e / 2.0 - e
    assert d.si[L.I_LOWPOWER] == 1
    assert d.sf[L.M_ENERGY] == e
    d.si[L.I_CHARGING] = 1
    wake_energy(d.pf, d.sf, d.si, d.rng, d.ev)
    assert d.sf[L.S_BATT] == 0.2 + e / 2.0 - e  # on the charger the level does not drop
    assert d.sf[L.M_ENERGY] == 2 * e
