"""The phone and its user: app sessions, other screen use, charging habits, network,
motion, thermal state and force-quit (Low Power Mode / Battery Saver follows the
battery level: ``battery.py``).

Rates come from the user archetype's hour-of-day tables (``ph``) and parameters
(``pf``), calibrated to USER_FACTS.md (rows cited in ``configs/users/*.yaml``).
Each device differs from its archetype: at reset ``draw_device`` draws its own user
and battery (how often and how long it is used, when its day starts, how it charges,
its Wi-Fi, its battery's drain and charging speeds; configuration ``heterogeneity``)
into its own state slots (``S_U_*``, ``S_DRAIN_*``, ...), from the USER stream, so that
iOS and Android of one seed meet the same user. Sessions are a glance or a
shifted-Pareto tail (``screen_session``, ``app_session``). Each handler changes device
state and logs it; the kernel then re-evaluates the scheduler's gates and any running
window.
"""

from __future__ import annotations

import math

import numpy as np

from bgenv.core.battery import set_low_power, topup_if_below
from bgenv.core.eventlog import log_event
from bgenv.core.jit import kjit
from bgenv.core.layout import (
    EV_APP_CLOSE,
    EV_BEDTIME,
    EV_CHARGE_STOP,
    EV_DROP_END,
    EV_SCREEN_OFF,
    EV_TOPUP,
    EVK_APP_CLOSE,
    EVK_APP_OPEN,
    EVK_CHARGE_START,
    EVK_CHARGE_STOP,
    EVK_DROP,
    EVK_FORCE_QUIT,
    EVK_NETWORK,
    EVK_SCREEN,
    EVK_THERMAL,
    H_NONE,
    H_WIFI,
    I_APP_FG,
    I_CHARGING,
    I_DROP,
    I_FORCE_QUIT,
    I_HOUR,
    I_LPM_ALWAYS,
    I_NET_BASE,
    I_OFF,
    I_OPT_CHARGING,
    I_OVERNIGHT,
    I_SCREEN,
    I_THERMAL,
    I_TR_ON,
    I_U_SHIFT,
    KIND_REFRESH,
    KIND_SYNC,
    M_FRESH_OPENS,
    M_OPENS,
    NET_CELL,
    NET_NONE,
    NET_WIFI,
    P_APP_GLANCE_MEAN_S,
    P_APP_GLANCE_MIN_S,
    P_APP_GLANCE_P,
    P_APP_GLANCE_SD,
    P_APP_SESSION_MAX_S,
    P_APP_SESSION_MEAN_S,
    P_APP_SESSION_MIN_S,
    P_APP_TAIL_A,
    P_BEDTIME_H,
    P_CHARGE_JITTER_S,
    P_CHARGE_OFF,
    P_CHARGE_ON,
    P_CHARGE_ON_HI,
    P_CHARGE_ON_LO,
    P_CLIP_SD,
    P_DRAIN_OFF,
    P_DRAIN_ON,
    P_DRAIN_RHO,
    P_DROP_MEAN_S,
    P_FORCE_QUIT_PROB,
    P_FQ_HABIT,
    P_FQ_HABIT_MULT,
    P_GAP_SHAPE,
    P_GAP_SPREAD,
    P_HET,
    P_K_SIZE,
    P_LPM_ACCEPT,
    P_LPM_ACCEPT_SD,
    P_LPM_ALWAYS,
    P_LPM_OFF_HI,
    P_LPM_OFF_LO,
    P_LPM_ON_HI,
    P_LPM_ON_LO,
    P_MIN_ITEM_UNITS,
    P_MUTATIONS_PER_OPEN,
    P_OPT_CHARGING,
    P_OPT_SHARE,
    P_OVERNIGHT_PROB,
    P_OVN_MISS,
    P_OVN_OCC,
    P_PLUG_HI_HI,
    P_PLUG_HI_LO,
    P_PLUG_JITTER,
    P_PLUG_L10,
    P_PLUG_L20,
    P_PLUG_LOW_MIN,
    P_PLUG_NOW_LEVEL,
    P_PLUG_P10,
    P_PLUG_P20,
    P_PLUGIN_HABIT,
    P_PLUGIN_HABIT_HI,
    P_PLUGIN_HABIT_LO,
    P_PLUGIN_OTHER,
    P_PLUGINS_PER_DAY,
    P_REFRESH_FOREGROUND,
    P_SCREEN_APP,
    P_SCREEN_GLANCE_MEAN_S,
    P_SCREEN_GLANCE_MIN_S,
    P_SCREEN_GLANCE_P,
    P_SCREEN_SESSION_MEAN_S,
    P_SCREEN_SQ,
    P_SESSION_MAX_S,
    P_SESSION_MIN_S,
    P_SESSION_TAIL_A,
    P_SIG_APP,
    P_SIG_CHARGE,
    P_SIG_DRAIN_OFF,
    P_SIG_DRAIN_ON,
    P_SIG_SCREEN,
    P_SIG_SESSION,
    P_SLEEP_MAX_H,
    P_SLEEP_SD_H,
    P_TH_CHARGE_MULT,
    P_TH_DOWN,
    P_TH_SCREEN_MULT,
    P_TH_UP,
    P_TH_WORK_MULT,
    P_TOPUP_DURATION_S,
    P_WAKE_H,
    P_WIFI_CAP_MEAN,
    P_WIFI_MEAN,
    P_WIFI_SD,
    S_APP_SESSION_LEN,
    S_BATT,
    S_CHARGE_OFF,
    S_CHARGE_ON,
    S_CHARGE_PLAN_STOP,
    S_DRAIN_OFF,
    S_DRAIN_ON,
    S_DROP_START,
    S_EV,
    S_LAST_MOTION,
    S_LAST_OPEN,
    S_LPM_F_OFF,
    S_LPM_F_ON,
    S_PLUG_BASE,
    S_PLUG_THR,
    S_SCREEN_OFF_SINCE,
    S_T,
    S_U_APP_GLANCE,
    S_U_APP_SCALE,
    S_U_APP_TAIL,
    S_U_BEDTIME_H,
    S_U_FQ_PROB,
    S_U_GAP_K,
    S_U_GAP_SCALE,
    S_U_LPM_ACCEPT,
    S_U_OVERNIGHT_P,
    S_U_PLUGINS_PER_DAY,
    S_U_SCREEN_SCALE,
    S_U_SCREEN_TAIL,
    S_U_WAKE_H,
    S_U_WIFI_DOWN,
    S_U_WIFI_UP,
    S_UNPLUG_T,
    THERMAL_CRITICAL,
    TR_LOW_POWER,
)
from bgenv.core.reward import reward_open
from bgenv.core.rng import SYS, USER, expo, normal, poisson, uniform
from bgenv.core.workload import DONE_EPS, add_item, complete_units, pending_units

INF = np.inf


SQRT3 = math.sqrt(3.0)
# The screen-on time that pauses the screen-on clock, as a share of sessions/hour x mean
# session: sessions are shorter than their mean where an app open or the horizon ends them and
# spill over the hour. Measured without heterogeneity (commuter and heavy, 100 devices x 28 d:
# 0.78 and 0.70 of the first-order deficit), so that the tables' sessions/day are met.
ON_SEEN = 0.7


# --- the device's own user and battery (drawn at reset) ----------------------------
@kjit(inline="always")
def _z(pf, si, rng) -> float:
    """A standard normal draw of the user's stream, clipped to +- ``clip_sd``."""
    c = pf[P_CLIP_SD]
    return min(c, max(-c, normal(si, rng, USER)))


@kjit(inline="always")
def spread(m: float, sd: float, u: float) -> float:
    """A share with mean ``m`` and sd ``sd`` from uniform ``u``: uniform over
    ``m +- min(sqrt(3) sd, m, 1 - m)``, so it stays in [0, 1] (0 and 1 stay degenerate)."""
    w = min(SQRT3 * sd, m, 1.0 - m)
    return m + w * (2.0 * u - 1.0)


@kjit
def gamma(z: float) -> float:
    """The gamma function for z > 0 (Stirling's series after raising z to >= 10; relative
    error ~1e-15). Not ``math.gamma``: compiled and in Python that one differs in the last
    bit, this one gives the same result both ways."""
    prod = 1.0
    while z < 10.0:
        prod *= z
        z += 1.0
    inv = 1.0 / z
    inv2 = inv * inv
    series = inv * (
        1.0 / 12.0
        - inv2
        * (
            1.0 / 360.0
            - inv2 * (1.0 / 1260.0 - inv2 * (1.0 / 1680.0 - inv2 * (1.0 / 1188.0 - inv2 * 691.0 / 360360.0)))
        )
    )
    return math.exp((z - 0.5) * math.log(z) - z + 0.9189385332046728 + series) / prod


@kjit
def tail_scale(mean: float, p: float, glance_mean: float, lo: float, alpha: float, cap: float) -> float:
    """Scale s, s, of the Lomax (shifted-Pareto) tail ``lo + Lomax(s, alpha)``, capped at
    ``cap``, that gives the session mixture (a glance of mean ``glance_mean`` with
    probability ``p``, else the tail) the mean ``mean``: a fixed point of
    E[min(L, c)] = s / (alpha - 1) (1 - (1 + c / s)^(1 - alpha)), c = cap - lo."""
    if p >= 1.0:
        return 1.0
    c = cap - lo
    target = min((mean - p * glance_mean) / (1.0 - p) - lo, 0.5 * c)
    if target <= 1e-3:
        return 1e-3  # the mean is below what glances and the minimum give: sessions at the minimum
    s = (alpha - 1.0) * target
    for _ in range(60):
        s = (alpha - 1.0) * target / (1.0 - math.pow(1.0 + c / s, 1.0 - alpha))
    return s


@kjit
def draw_device(pf, sf, si, rng) -> None:
    """This device's own user and battery, drawn around the archetype's and the battery
    model's values (``heterogeneity``; off: the centres, and only the top-up threshold is
    drawn, as before heterogeneity). Every draw is the user's (USER stream) and made on
    every platform, so that iOS and Android of one seed meet the same user."""
    het = pf[P_HET] != 0.0
    # normal draws: screen sessions/day, app opens/day, session length (U1, U9-U10), sleep
    # offset (U7), drain off and on, charging (U12-U13); uniforms for the rest
    z_screen = z_app = z_sess = z_sleep = z_off = z_on = z_charge = 0.0
    u_gap = u_glance = u_ratio = u_lpm_on = u_lpm_off = 0.5
    u_ovn = u_plug_habit = u_plug_rate = u_opt = u_always = u_accept = u_wifi = u_fq = 0.0
    if het:
        z_screen = _z(pf, si, rng)
        z_app = _z(pf, si, rng)
        z_sess = _z(pf, si, rng)
        z_sleep = _z(pf, si, rng)
        z_off = _z(pf, si, rng)
        z_on = _z(pf, si, rng)
        z_charge = _z(pf, si, rng)
        u_gap = uniform(si, rng, USER)
        u_glance = uniform(si, rng, USER)
        u_ratio = uniform(si, rng, USER)
        u_lpm_on = uniform(si, rng, USER)
        u_lpm_off = uniform(si, rng, USER)
        u_ovn = uniform(si, rng, USER)
        u_plug_habit = uniform(si, rng, USER)
        u_plug_rate = uniform(si, rng, USER)
        u_opt = uniform(si, rng, USER)
        u_always = uniform(si, rng, USER)
        u_accept = uniform(si, rng, USER)
        u_wifi = uniform(si, rng, USER)
        u_fq = uniform(si, rng, USER)
    # U1: sessions per day and session length, independent; U9-U10: this app's opens
    sf[S_U_SCREEN_SCALE] = math.exp(pf[P_SIG_SCREEN] * z_screen)
    sf[S_U_APP_SCALE] = math.exp(pf[P_SIG_APP] * z_app)
    length = math.exp(pf[P_SIG_SESSION] * z_sess)
    # U2, U6, U8: the session mixtures, scaled to the device's means
    p = pf[P_SCREEN_GLANCE_P]
    sf[S_U_SCREEN_TAIL] = tail_scale(
        pf[P_SCREEN_SESSION_MEAN_S] * length,
        p,
        pf[P_SCREEN_GLANCE_MEAN_S],
        pf[P_SESSION_MIN_S],
        pf[P_SESSION_TAIL_A],
        pf[P_SESSION_MAX_S],
    )
    p = spread(pf[P_APP_GLANCE_P], pf[P_APP_GLANCE_SD], u_glance) if het else pf[P_APP_GLANCE_P]
    sf[S_U_APP_GLANCE] = p
    sf[S_U_APP_TAIL] = tail_scale(
        pf[P_APP_SESSION_MEAN_S] * length,
        p,
        pf[P_APP_GLANCE_MEAN_S],
        pf[P_APP_SESSION_MIN_S],
        pf[P_APP_TAIL_A],
        pf[P_APP_SESSION_MAX_S],
    )
    # U1, U5: the screen-on clock runs only while the screen is off, so a device on screen
    # a share f of an hour starts a share f fewer sessions; its rate is raised by c so that it
    # starts the sessions/day its tables say: c (1 - A c - B) = 1, A c the share of the time
    # the screen is on in its own sessions, B in this app's (per hour, averaged over them;
    # ON_SEEN: the share of that nominal time that pauses the clock, measured)
    a = ON_SEEN * sf[S_U_SCREEN_SCALE] * pf[P_SCREEN_SQ] * pf[P_SCREEN_SESSION_MEAN_S] * length
    b = ON_SEEN * sf[S_U_APP_SCALE] * pf[P_SCREEN_APP] * pf[P_APP_SESSION_MEAN_S] * length
    c = 1.0
    for _ in range(30):
        c = min(3.0, 1.0 / max(1.0 - b - a * c, 1.0 / 3.0))
    sf[S_U_SCREEN_SCALE] *= c
    # U2: gaps between screen sessions, Weibull of mean 1 in the hourly rate's time
    k = min(1.0, max(0.05, pf[P_GAP_SHAPE] + pf[P_GAP_SPREAD] * (2.0 * u_gap - 1.0)))
    sf[S_U_GAP_K] = k
    sf[S_U_GAP_SCALE] = 1.0 / gamma(1.0 + 1.0 / k)
    # U7: the device's day (use, sleep, charging) shifted by its offset
    m = pf[P_SLEEP_MAX_H]
    off = min(m, max(-m, pf[P_SLEEP_SD_H] * z_sleep))
    si[I_U_SHIFT] = int(np.floor(off + 0.5))
    sf[S_U_BEDTIME_H] = (pf[P_BEDTIME_H] + off) % 24.0
    sf[S_U_WAKE_H] = (pf[P_WAKE_H] + off) % 24.0
    # U15: overnight charging habit, daytime plug-ins
    p = pf[P_OVERNIGHT_PROB]
    if het:
        p = 1.0 - (1.0 - p) * pf[P_OVN_MISS] if u_ovn < p else p * pf[P_OVN_OCC]
    sf[S_U_OVERNIGHT_P] = p
    rate = pf[P_PLUGINS_PER_DAY]
    if het:
        q = pf[P_PLUGIN_HABIT]
        lo = pf[P_PLUGIN_HABIT_LO]
        hi = pf[P_PLUGIN_HABIT_HI]
        norm = q * 0.5 * (lo + hi) + (1.0 - q) * pf[P_PLUGIN_OTHER]
        mult = lo + (hi - lo) * u_plug_rate if u_plug_habit < q else pf[P_PLUGIN_OTHER]
        rate = rate * mult / norm if norm > 0.0 else 0.0
    sf[S_U_PLUGINS_PER_DAY] = rate
    # U16: optimised charging; U17: Low Power Mode habits; U22: force-quit habit
    si[I_OPT_CHARGING] = 1 if pf[P_OPT_CHARGING] != 0.0 and (not het or u_opt < pf[P_OPT_SHARE]) else 0
    si[I_LPM_ALWAYS] = 1 if het and u_always < pf[P_LPM_ALWAYS] else 0
    p = pf[P_LPM_ACCEPT]
    sf[S_U_LPM_ACCEPT] = spread(p, pf[P_LPM_ACCEPT_SD], u_accept) if het else p
    p = pf[P_FORCE_QUIT_PROB]
    if het:
        q = pf[P_FQ_HABIT]
        mult = pf[P_FQ_HABIT_MULT]
        if u_fq < q:
            p *= mult
        else:
            p *= (1.0 - q * mult) / (1.0 - q) if q < 1.0 else 0.0
    sf[S_U_FQ_PROB] = min(1.0, p)
    # U19-U20: the device's daily share of time on Wi-Fi, from the archetype's hourly shares
    m = pf[P_WIFI_MEAN]
    cap = pf[P_WIFI_CAP_MEAN]
    w = m
    if het:
        half = min(SQRT3 * pf[P_WIFI_SD], m, cap - m)
        w = m + half * (2.0 * u_wifi - 1.0)
    sf[S_U_WIFI_DOWN] = w / m if (w < m and m > 0.0) else 1.0
    sf[S_U_WIFI_UP] = (w - m) / (cap - m) if w > m else 0.0
    # U12-U13: drain and charging speeds; U18: Low Power Mode's effect on drain
    rho = pf[P_DRAIN_RHO]
    z_on = rho * z_off + math.sqrt(max(0.0, 1.0 - rho * rho)) * z_on
    sf[S_DRAIN_OFF] = pf[P_DRAIN_OFF] * math.exp(pf[P_SIG_DRAIN_OFF] * z_off)
    sf[S_DRAIN_ON] = pf[P_DRAIN_ON] * math.exp(pf[P_SIG_DRAIN_ON] * z_on)
    sf[S_CHARGE_OFF] = pf[P_CHARGE_OFF] * math.exp(pf[P_SIG_CHARGE] * z_charge)
    if het:
        ratio = pf[P_CHARGE_ON_LO] + (pf[P_CHARGE_ON_HI] - pf[P_CHARGE_ON_LO]) * u_ratio
        sf[S_CHARGE_ON] = sf[S_CHARGE_OFF] * ratio
    else:
        sf[S_CHARGE_ON] = pf[P_CHARGE_ON]
    sf[S_LPM_F_ON] = pf[P_LPM_ON_LO] + (pf[P_LPM_ON_HI] - pf[P_LPM_ON_LO]) * u_lpm_on
    sf[S_LPM_F_OFF] = pf[P_LPM_OFF_LO] + (pf[P_LPM_OFF_HI] - pf[P_LPM_OFF_LO]) * u_lpm_off
    # U14: the top-up threshold
    sf[S_PLUG_BASE] = draw_plug_threshold(pf, si, rng)
    sf[S_PLUG_THR] = sf[S_PLUG_BASE]


@kjit(inline="always")
def user_hour(si) -> int:
    """The hour of the archetype's tables the device lives in now (its day shifted, U7)."""
    return (si[I_HOUR] - si[I_U_SHIFT]) % 24


@kjit(inline="always")
def gap_hazard(sf, si, rng) -> float:
    """The remaining hazard of the screen-on clock after a screen session starts: a
    Weibull gap of mean 1 in the hourly rate's time (U2; shape 1: exponential)."""
    e = -math.log(1.0 - uniform(si, rng, USER))
    return sf[S_U_GAP_SCALE] * math.pow(e, 1.0 / sf[S_U_GAP_K])


@kjit(inline="always")
def gap_hazard_after(sf, si, rng, consumed: float) -> float:
    """The screen-on clock's gap (as ``gap_hazard``) drawn again given that ``consumed``
    of it has already passed: the Weibull's tail beyond it, ``s·((c/s)^k + E)^(1/k)`` with
    ``E`` a unit exponential (U2). The remaining hazard is the result less ``consumed``."""
    scale = sf[S_U_GAP_SCALE]
    shape = sf[S_U_GAP_K]
    e = -math.log(1.0 - uniform(si, rng, USER))
    return scale * math.pow(math.pow(consumed / scale, shape) + e, 1.0 / shape)


# --- sessions -----------------------------------------------------------------
@kjit(inline="always")
def _session(
    si, rng, p: float, glance_lo: float, glance_mean: float, lo: float, scale: float, alpha: float, cap: float
):
    """A glance (``glance_lo`` + exponential, mean ``glance_mean``) with probability ``p``,
    else ``lo`` + Lomax(``scale``, ``alpha``) capped at ``cap``, s."""
    if uniform(si, rng, USER) < p:
        return glance_lo + expo(si, rng, USER, max(glance_mean - glance_lo, 0.0))
    tail = scale * (math.pow(1.0 - uniform(si, rng, USER), -1.0 / alpha) - 1.0)
    return min(lo + tail, cap)


@kjit(inline="always")
def screen_session(pf, sf, si, rng) -> float:
    """Length of an other screen session, s: a glance or a shifted-Pareto tail (U2)."""
    return _session(
        si,
        rng,
        pf[P_SCREEN_GLANCE_P],
        pf[P_SCREEN_GLANCE_MIN_S],
        pf[P_SCREEN_GLANCE_MEAN_S],
        pf[P_SESSION_MIN_S],
        sf[S_U_SCREEN_TAIL],
        pf[P_SESSION_TAIL_A],
        pf[P_SESSION_MAX_S],
    )


@kjit(inline="always")
def app_session(pf, sf, si, rng) -> float:
    """Length of an app session, s: a glance or a shifted-Pareto tail (U6, U8)."""
    return _session(
        si,
        rng,
        sf[S_U_APP_GLANCE],
        pf[P_APP_GLANCE_MIN_S],
        pf[P_APP_GLANCE_MEAN_S],
        pf[P_APP_SESSION_MIN_S],
        sf[S_U_APP_TAIL],
        pf[P_APP_TAIL_A],
        pf[P_APP_SESSION_MAX_S],
    )


@kjit
def draw_plug_threshold(pf, si, rng) -> float:
    """The level at which this user tops up (U14): the ``plug_at_10_share`` group between
    ``plug_low_min`` and ``plug_at_10_level``, the ``plug_at_20_share`` group up to
    ``plug_at_20_level``, the rest in ``plug_worry_range``; uniform in each (without
    heterogeneity each of the first two groups at its highest level)."""
    u = uniform(si, rng, USER)
    v = uniform(si, rng, USER)
    het = pf[P_HET] != 0.0
    if u < pf[P_PLUG_P10]:
        lo = pf[P_PLUG_LOW_MIN] if het else pf[P_PLUG_L10]
        return lo + (pf[P_PLUG_L10] - lo) * v
    if u < pf[P_PLUG_P10] + pf[P_PLUG_P20]:
        lo = pf[P_PLUG_L10] if het else pf[P_PLUG_L20]
        return lo + (pf[P_PLUG_L20] - lo) * v
    return pf[P_PLUG_HI_LO] + (pf[P_PLUG_HI_HI] - pf[P_PLUG_HI_LO]) * v


@kjit
def next_daily(t: float, hour: float, si, rng, jitter: float) -> float:
    """Next occurrence after ``t`` of an hour of day, with uniform +-jitter s."""
    day = np.floor(t / 86400.0)
    x = day * 86400.0 + hour * 3600.0 + jitter * (2.0 * uniform(si, rng, USER) - 1.0)
    while x <= t:
        x += 86400.0
    return x


# --- app and screen -------------------------------------------------------
@kjit
def app_open(pf, sf, si, items, rng, ev, tts) -> bool:
    """The user opens this app. Returns whether the data shown was fresh."""
    t = sf[S_T]
    fresh = pending_units(si, items, KIND_REFRESH) <= DONE_EPS
    sf[M_OPENS] += 1.0
    if fresh:
        sf[M_FRESH_OPENS] += 1.0
    reward_open(pf, sf, fresh)
    if pf[P_REFRESH_FOREGROUND] != 0.0 and si[I_NET_BASE] != NET_NONE and si[I_DROP] == 0:
        # the first screen loads content in the foreground; it earns no background value
        complete_units(sf, si, items, rng, tts, KIND_REFRESH, pending_units(si, items, KIND_REFRESH), False)
    was_on = si[I_SCREEN] != 0
    si[I_SCREEN] = 2
    si[I_APP_FG] = 1
    si[I_FORCE_QUIT] = 0
    sf[S_EV + EV_SCREEN_OFF] = INF
    length = app_session(pf, sf, si, rng)
    sf[S_APP_SESSION_LEN] = length
    sf[S_EV + EV_APP_CLOSE] = t + length
    sf[S_LAST_OPEN] = t
    log_event(sf, si, ev, EVK_APP_OPEN, 1.0 if fresh else 0.0, pending_units(si, items, -1), sf[S_BATT], length)
    if not was_on:
        log_event(sf, si, ev, EVK_SCREEN, 1.0, 1.0, sf[S_BATT], 0.0)
    return fresh


@kjit
def app_close(pf, sf, si, items, rng, ev, keep_screen: bool) -> bool:
    """The user leaves the app; edits made in the session queue up as sync mutations.
    The screen goes off with it, unless ``keep_screen`` (a replayed trace's screen is
    still on: the user goes on with other use). Returns True when the app was
    force-quit (it then gets no chance to schedule)."""
    t = sf[S_T]
    sf[S_EV + EV_APP_CLOSE] = INF
    si[I_APP_FG] = 0
    if keep_screen:
        si[I_SCREEN] = 1
    else:
        si[I_SCREEN] = 0
        sf[S_SCREEN_OFF_SINCE] = t
    m = poisson(si, rng, USER, pf[P_MUTATIONS_PER_OPEN])
    for _ in range(m):
        add_item(pf, sf, si, items, ev, KIND_SYNC, item_units(pf, si, rng, KIND_SYNC))
    fq = uniform(si, rng, USER) < sf[S_U_FQ_PROB]
    log_event(sf, si, ev, EVK_APP_CLOSE, m, pending_units(si, items, -1), sf[S_BATT], 1.0 if fq else 0.0)
    if not keep_screen:
        log_event(sf, si, ev, EVK_SCREEN, 0.0, 1.0, sf[S_BATT], 0.0)
    if fq:
        si[I_FORCE_QUIT] = 1
        log_event(sf, si, ev, EVK_FORCE_QUIT, 0.0, 0.0, 0.0, 0.0)
    return fq


@kjit(inline="always")
def screen_on(pf, sf, si, rng, ev) -> None:
    """Other phone use (not this app) turns the screen on."""
    si[I_SCREEN] = 1
    sf[S_EV + EV_SCREEN_OFF] = sf[S_T] + screen_session(pf, sf, si, rng)
    log_event(sf, si, ev, EVK_SCREEN, 1.0, 0.0, sf[S_BATT], 0.0)


@kjit(inline="always")
def screen_off(sf, si, ev) -> None:
    """The screen turns off (other use ends)."""
    sf[S_EV + EV_SCREEN_OFF] = INF
    si[I_SCREEN] = 0
    sf[S_SCREEN_OFF_SINCE] = sf[S_T]
    log_event(sf, si, ev, EVK_SCREEN, 0.0, 0.0, sf[S_BATT], 0.0)


@kjit(inline="always")
def motion(sf) -> None:
    """The device moved: idle timers restart from now."""
    sf[S_LAST_MOTION] = sf[S_T]


# --- network ----------------------------------------------------------------
@kjit(inline="always")
def network_change(pf, ph, sf, si, rng, ev, hour: int) -> None:
    """The underlying network changes: a new state from the shares of the archetype's
    ``hour`` (the device's own, ``user_hour``), its Wi-Fi share moved to the device's
    daily share (U19, U20)."""
    u = uniform(si, rng, USER)
    none = ph[H_NONE, hour]
    wifi = ph[H_WIFI, hour]
    wifi = wifi * sf[S_U_WIFI_DOWN] + (1.0 - none - wifi) * sf[S_U_WIFI_UP]
    if u < none:
        net = NET_NONE
    elif u < none + wifi:
        net = NET_WIFI
    else:
        net = NET_CELL
    if net != si[I_NET_BASE]:
        si[I_NET_BASE] = net
        log_event(sf, si, ev, EVK_NETWORK, net, 0.0, 0.0, 0.0)


@kjit(inline="always")
def network_drop(pf, sf, si, rng, ev) -> None:
    """A short connectivity drop begins (the underlying network stays as it is); its
    length is exponential around ``drop_mean_s``."""
    si[I_DROP] = 1
    length = expo(si, rng, USER, pf[P_DROP_MEAN_S])
    sf[S_DROP_START] = sf[S_T]
    sf[S_EV + EV_DROP_END] = sf[S_T] + length
    log_event(sf, si, ev, EVK_DROP, 1.0, si[I_NET_BASE], length, 0.0)


@kjit(inline="always")
def network_drop_end(sf, si, ev) -> None:
    """The connectivity drop ends: the underlying network is back."""
    si[I_DROP] = 0
    sf[S_EV + EV_DROP_END] = INF
    log_event(sf, si, ev, EVK_DROP, 0.0, si[I_NET_BASE], sf[S_T] - sf[S_DROP_START], 0.0)


# --- thermal -----------------------------------------------------------------
@kjit(inline="always")
def thermal_rates(pf, si, work_cpu: float):
    """(rate up, rate down) in 1/s for the four-level thermal state."""
    lvl = si[I_THERMAL]
    up = 0.0
    if lvl < THERMAL_CRITICAL:
        mult = 1.0 + pf[P_TH_CHARGE_MULT] * si[I_CHARGING] + pf[P_TH_SCREEN_MULT] * (si[I_SCREEN] > 0)
        mult += pf[P_TH_WORK_MULT] * work_cpu
        up = pf[P_TH_UP] * mult
    down = pf[P_TH_DOWN] if lvl > 0 else 0.0
    return up, down


@kjit
def thermal_step(pf, sf, si, rng, ev, work_cpu: float) -> None:
    """The thermal state moves one level up or down (odds by the two rates, ``work_cpu`` the
    CPU fraction of the chunk in flight)."""
    up, down = thermal_rates(pf, si, work_cpu)
    if up + down <= 0.0:
        return
    if uniform(si, rng, SYS) * (up + down) < up:
        si[I_THERMAL] += 1
    else:
        si[I_THERMAL] -= 1
    log_event(sf, si, ev, EVK_THERMAL, si[I_THERMAL], 0.0, 0.0, 0.0)


# --- charging ------------------------------------------------------------------
@kjit
def start_charging(pf, sf, si, ev, until: float, overnight: bool) -> None:
    """The user plugs in until time ``until`` (s); an overnight session keeps the later of
    the planned unplug times. A top-up charge still plugged in at bedtime becomes the
    overnight charge: logged as a ``charge_start`` with ``continued`` set (no new plug-in).
    A phone shut down with its battery empty starts again (``kernel._shutdown``)."""
    si[I_OFF] = 0
    if si[I_CHARGING] == 0:
        si[I_CHARGING] = 1
        log_event(sf, si, ev, EVK_CHARGE_START, sf[S_BATT], 1.0 if overnight else 0.0, until - sf[S_T], 0.0)
    elif overnight and si[I_OVERNIGHT] == 0:
        plan = max(until, sf[S_CHARGE_PLAN_STOP])
        log_event(sf, si, ev, EVK_CHARGE_START, sf[S_BATT], 1.0, plan - sf[S_T], 1.0)
    if overnight:
        si[I_OVERNIGHT] = 1
    sf[S_CHARGE_PLAN_STOP] = max(until, sf[S_CHARGE_PLAN_STOP]) if overnight else until
    sf[S_EV + EV_CHARGE_STOP] = sf[S_CHARGE_PLAN_STOP]
    sf[S_EV + EV_TOPUP] = INF


@kjit
def bedtime(pf, sf, si, rng, ev) -> None:
    """Daily bedtime: most users charge overnight (U15) until about their wake time."""
    t = sf[S_T]
    jit = pf[P_CHARGE_JITTER_S]
    sf[S_EV + EV_BEDTIME] = next_daily(t + 3600.0, sf[S_U_BEDTIME_H], si, rng, jit)
    if uniform(si, rng, USER) < sf[S_U_OVERNIGHT_P]:
        start_charging(pf, sf, si, ev, next_daily(t, sf[S_U_WAKE_H], si, rng, jit), True)


@kjit
def topup(pf, sf, si, rng, ev) -> None:
    """The user plugs in during the day after the battery fell below their threshold."""
    start_charging(pf, sf, si, ev, sf[S_T] + expo(si, rng, SYS, pf[P_TOPUP_DURATION_S]), False)


@kjit
def daytime_plugin(pf, sf, si, rng, ev) -> bool:
    """The user plugs in by day whatever the level (desk, car; U15), unless already on
    the charger. The length is the user's draw, made either way (the user's world must
    not depend on the charger, which the battery and so the app decide). Returns
    whether the phone was plugged in."""
    length = expo(si, rng, USER, pf[P_TOPUP_DURATION_S])
    if si[I_CHARGING] != 0:
        return False
    start_charging(pf, sf, si, ev, sf[S_T] + length, False)
    return True


@kjit
def stop_charging(pf, sf, si, rng, ev) -> None:
    """The user unplugs. The top-up threshold moves for the next discharge (U14), and a
    user who keeps Low Power Mode on turns it on again (U17)."""
    sf[S_EV + EV_CHARGE_STOP] = INF
    if si[I_CHARGING] == 0:
        return
    si[I_CHARGING] = 0
    si[I_OVERNIGHT] = 0
    sf[S_UNPLUG_T] = sf[S_T]
    log_event(sf, si, ev, EVK_CHARGE_STOP, sf[S_BATT], 0.0, 0.0, 0.0)
    sigma = pf[P_PLUG_JITTER]
    if pf[P_HET] != 0.0 and sigma > 0.0:
        thr = sf[S_PLUG_BASE] * math.exp(sigma * normal(si, rng, SYS))
        sf[S_PLUG_THR] = min(0.95, max(pf[P_PLUG_NOW_LEVEL] + 0.01, thr))
    topup_if_below(pf, sf, si, rng)
    if si[I_LPM_ALWAYS] != 0 and (si[I_TR_ON] >> TR_LOW_POWER) & 1 == 0:  # unless a trace replays it
        set_low_power(sf, si, ev, True)


@kjit(inline="always")
def work_arrival(pf, sf, si, items, rng, ev, kind: int) -> None:
    """A background work item of ``kind`` arrives (uploads, new content, heavy jobs)."""
    if kind == KIND_REFRESH:
        units = pf[P_K_SIZE + kind]  # a fetch costs the same whatever was published
    else:
        units = item_units(pf, si, rng, kind)
    add_item(pf, sf, si, items, ev, kind, units)


@kjit(inline="always")
def item_units(pf, si, rng, kind: int) -> float:
    """Size of a new item, work units: exponential around the kind's mean, at least
    ``workload.min_item_units``."""
    return max(pf[P_MIN_ITEM_UNITS], expo(si, rng, USER, pf[P_K_SIZE + kind]))
