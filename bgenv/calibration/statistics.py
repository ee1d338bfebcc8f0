"""The statistics of the calibration, by name: each maps a fleet of :class:`Device` to one
number (NaN when the log cannot tell it).

:data:`STATISTICS` is the registry ``configs/calibration.yaml`` names; each entry has the
function and a short description with its unit for the document. A statistic reads only
the :class:`~bgenv.calibration.fleet.Device` summaries, so resampling the devices (the
bootstrap of :mod:`~bgenv.calibration.report`) is cheap; values per device are cached on
the device.

Conventions: "per-device" statistics take one value per phone (its mean over its
episode) and a quantile over phones; "pooled" statistics put every phone's sessions
together. Days are the episode's length in days; local hours are those of the simulated
clock (``t`` mod 86,400 s).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bgenv.calibration.fleet import DAY, Device, H

Fleet = Sequence[Device]
NAN = float("nan")


@dataclass(frozen=True)
class Statistic:
    """A named statistic: ``fn(fleet, centre)`` (``centre``: the population's configured
    centre where the statistic compares with it, else None) and what it measures."""

    fn: Callable[[Fleet, float | None], float]
    text: str


STATISTICS: dict[str, Statistic] = {}


def statistic(text: str) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Register ``fn`` under its name with the description ``text``."""

    def deco(fn: Callable[..., float]) -> Callable[..., float]:
        STATISTICS[fn.__name__] = Statistic(fn, text)
        return fn

    return deco


def _cached(d: Device, key: str, make: Callable[[], object]) -> object:
    if key not in d.cache:
        d.cache[key] = make()
    return d.cache[key]


def _q(x: np.ndarray, q: float) -> float:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(np.quantile(x, q)) if x.size else NAN


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else (NAN if a == 0 else float("inf"))


# ---------------------------------------------------------------------------
# Per-device values
# ---------------------------------------------------------------------------
def interactions_per_day(d: Device) -> float:
    """Screen sessions per day (this app's opens that turn the screen on included)."""
    return d.sessions.shape[0] / d.days


def session_mean_s(d: Device) -> float:
    """Mean device session length, s."""
    return float(d.sessions[:, 1].mean()) if d.sessions.shape[0] else NAN


def screen_h_per_day(d: Device) -> float:
    """Screen-on time, h per day."""
    return float(d.sessions[:, 1].sum()) / H / d.days


def app_opens_per_day(d: Device) -> float:
    """This app's opens per day."""
    return d.app_sessions.shape[0] / d.days


def _gaps(d: Device) -> np.ndarray:
    """Gaps between screen sessions (screen off to the next on) that start in 07-22 h, s."""

    def make() -> np.ndarray:
        s = d.sessions
        if s.shape[0] < 2:
            return np.zeros(0)
        ends = s[:-1, 0] + s[:-1, 1]
        gaps = s[1:, 0] - ends
        hour = (ends % DAY) / H
        return gaps[(hour >= 7) & (hour < 22) & (gaps > 0)]

    return _cached(d, "gaps", make)  # type: ignore[return-value]


def weibull_shape(x: np.ndarray) -> float:
    """Maximum-likelihood Weibull shape k of positive samples ``x`` (Newton on the
    profile likelihood: 1/k + mean(ln x) - sum(x^k ln x) / sum(x^k) = 0)."""
    x = np.asarray(x, dtype=float)
    if x.size < 10:
        return NAN
    lx = np.log(x / np.median(x))  # scale-free: the shape does not depend on the unit
    k = 1.0
    for _ in range(100):
        w = np.exp(k * lx)
        s0, s1, s2 = w.sum(), (w * lx).sum(), (w * lx * lx).sum()
        g = 1.0 / k + lx.mean() - s1 / s0
        dg = -1.0 / k**2 - (s2 / s0 - (s1 / s0) ** 2)
        step = g / dg
        k_new = k - step
        if k_new <= 0:
            k_new = k / 2
        if abs(k_new - k) < 1e-9:
            k = k_new
            break
        k = k_new
    return float(k)


def _device(fleet: Fleet, fn: Callable[[Device], float], key: str) -> np.ndarray:
    return np.array([_cached(d, key, lambda d=d: fn(d)) for d in fleet], dtype=float)


def _pooled(fleet: Fleet, what: str) -> np.ndarray:
    if what == "other":
        parts = [d.sessions[d.sessions[:, 2] == 0, 1] for d in fleet]
    elif what == "app":
        parts = [d.app_sessions[:, 1] for d in fleet]
    else:
        raise ValueError(what)
    return np.concatenate(parts) if parts else np.zeros(0)


# ---------------------------------------------------------------------------
# U1, U3-U5: interactions and screen time
# ---------------------------------------------------------------------------
@statistic("per-device interactions/day, 1st percentile")
def interactions_p01(fleet: Fleet, centre: float | None = None) -> float:
    return _q(_device(fleet, interactions_per_day, "ipd"), 0.01)


@statistic("per-device interactions/day, 10th percentile")
def interactions_p10(fleet: Fleet, centre: float | None = None) -> float:
    return _q(_device(fleet, interactions_per_day, "ipd"), 0.10)


@statistic("per-device interactions/day, median")
def interactions_median(fleet: Fleet, centre: float | None = None) -> float:
    return _q(_device(fleet, interactions_per_day, "ipd"), 0.5)


@statistic("per-device interactions/day, mean")
def interactions_mean(fleet: Fleet, centre: float | None = None) -> float:
    return float(np.mean(_device(fleet, interactions_per_day, "ipd")))


@statistic("per-device interactions/day, 90th percentile")
def interactions_p90(fleet: Fleet, centre: float | None = None) -> float:
    return _q(_device(fleet, interactions_per_day, "ipd"), 0.90)


@statistic("per-device interactions/day, 99th percentile")
def interactions_p99(fleet: Fleet, centre: float | None = None) -> float:
    return _q(_device(fleet, interactions_per_day, "ipd"), 0.99)


@statistic("per-device interactions/day, max / min")
def interactions_max_over_min(fleet: Fleet, centre: float | None = None) -> float:
    x = _device(fleet, interactions_per_day, "ipd")
    return _ratio(float(x.max()), float(x.min()))


@statistic("per-device mean session length, 1st percentile, s")
def session_mean_p01(fleet: Fleet, centre: float | None = None) -> float:
    return _q(_device(fleet, session_mean_s, "msl"), 0.01)


@statistic("per-device mean session length, 99th percentile, s")
def session_mean_p99(fleet: Fleet, centre: float | None = None) -> float:
    return _q(_device(fleet, session_mean_s, "msl"), 0.99)


@statistic("Spearman rank correlation of per-device interactions/day and mean session length")
def spearman_count_length(fleet: Fleet, centre: float | None = None) -> float:
    a = _device(fleet, interactions_per_day, "ipd")
    b = _device(fleet, session_mean_s, "msl")
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return NAN
    ra = np.argsort(np.argsort(a[ok])).astype(float)
    rb = np.argsort(np.argsort(b[ok])).astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


@statistic("per-device screen time, median, h/day")
def screen_time_median_h(fleet: Fleet, centre: float | None = None) -> float:
    return _q(_device(fleet, screen_h_per_day, "sh"), 0.5)


@statistic("per-device screen time, median, min/day")
def screen_time_median_min(fleet: Fleet, centre: float | None = None) -> float:
    return 60.0 * _q(_device(fleet, screen_h_per_day, "sh"), 0.5)


@statistic("share of screen sessions that unlock the phone")
def unlocked_share(fleet: Fleet, centre: float | None = None) -> float:
    return NAN  # the event log does not tell an unlock from a lock-screen glance


# ---------------------------------------------------------------------------
# U2: shape of sessions and gaps
# ---------------------------------------------------------------------------
@statistic("pooled other-use screen sessions: share < 15 s")
def screen_session_share_below_15s(fleet: Fleet, centre: float | None = None) -> float:
    x = _pooled(fleet, "other")
    return float(np.mean(x < 15.0)) if x.size else NAN


@statistic("pooled other-use screen sessions: median, s")
def screen_session_median_s(fleet: Fleet, centre: float | None = None) -> float:
    return _q(_pooled(fleet, "other"), 0.5)


@statistic("pooled other-use screen sessions: p99 / median")
def screen_session_p99_over_median(fleet: Fleet, centre: float | None = None) -> float:
    x = _pooled(fleet, "other")
    return _ratio(_q(x, 0.99), _q(x, 0.5)) if x.size else NAN


def pareto_tail_index(x: np.ndarray, threshold: float) -> float:
    """Tail index α of the samples above ``threshold``: the maximum-likelihood fit of a
    generalised Pareto distribution to the excesses ``x - threshold`` (peaks over a
    threshold; a shifted Pareto / Lomax of index α has excesses of shape ξ = 1/α), so
    α = 1/ξ. The fit maximises the profile likelihood in θ = ξ/σ (Grimshaw 1993):
    ξ(θ) = mean(log(1 + θy)), l(θ) = -log ξ(θ) + log θ - 1 - ξ(θ) per sample. NaN under
    50 samples or for a tail with no heavy part (ξ <= 0)."""
    from scipy.optimize import minimize_scalar

    y = np.asarray(x, dtype=float)
    y = y[y > threshold] - threshold
    if y.size < 50:
        return NAN
    m = float(y.mean())

    def neg(log_theta: float) -> float:
        theta = np.exp(log_theta) / m
        xi = float(np.log1p(theta * y).mean())
        return -(-np.log(xi) + np.log(theta) - 1.0 - xi)

    r = minimize_scalar(neg, bounds=(np.log(1e-4), np.log(1e4)), method="bounded", options={"xatol": 1e-6})
    xi = float(np.log1p(np.exp(r.x) / m * y).mean())
    return 1.0 / xi if xi > 0 else NAN


@statistic(
    "pooled other-use screen sessions > 60 s: Pareto tail index α (generalised-Pareto fit to the excess over 60 s)"
)
def screen_session_tail_index(fleet: Fleet, centre: float | None = None) -> float:
    return pareto_tail_index(_pooled(fleet, "other"), 60.0)


@statistic("gaps between screen sessions starting 07-22 h: per-device Weibull shape (MLE), median")
def gap_weibull_shape(fleet: Fleet, centre: float | None = None) -> float:
    return _q(_device(fleet, lambda d: weibull_shape(_gaps(d)), "gk"), 0.5)


@statistic("gaps between screen sessions starting 07-22 h: per-device coefficient of variation, median")
def gap_cv(fleet: Fleet, centre: float | None = None) -> float:
    def cv(d: Device) -> float:
        g = _gaps(d)
        return float(g.std() / g.mean()) if g.size > 10 else NAN

    return _q(_device(fleet, cv, "gcv"), 0.5)


# ---------------------------------------------------------------------------
# U6, U8: app sessions
# ---------------------------------------------------------------------------
@statistic("pooled app sessions: mean, s")
def app_session_mean_s(fleet: Fleet, centre: float | None = None) -> float:
    x = _pooled(fleet, "app")
    return float(x.mean()) if x.size else NAN


@statistic("pooled app sessions: median, s")
def app_session_median_s(fleet: Fleet, centre: float | None = None) -> float:
    return _q(_pooled(fleet, "app"), 0.5)


@statistic("pooled app sessions: share < 15 s")
def app_session_share_below_15s(fleet: Fleet, centre: float | None = None) -> float:
    x = _pooled(fleet, "app")
    return float(np.mean(x < 15.0)) if x.size else NAN


@statistic("pooled app sessions: share < 5 s")
def app_session_share_below_5s(fleet: Fleet, centre: float | None = None) -> float:
    x = _pooled(fleet, "app")
    return float(np.mean(x < 5.0)) if x.size else NAN


@statistic("per-device share of app sessions < 15 s (devices with >= 10 sessions): p90 - p10")
def app_short_share_spread(fleet: Fleet, centre: float | None = None) -> float:
    def share(d: Device) -> float:
        x = d.app_sessions[:, 1]
        return float(np.mean(x < 15.0)) if x.size >= 10 else NAN

    v = _device(fleet, share, "ass")
    return _q(v, 0.9) - _q(v, 0.1)


# ---------------------------------------------------------------------------
# U7: daily rhythm
# ---------------------------------------------------------------------------
def _hourly(fleet: Fleet) -> np.ndarray:
    counts = np.zeros(24)
    for d in fleet:
        h = _cached(
            d,
            "hourly",
            lambda d=d: np.bincount(((d.sessions[:, 0] % DAY) // H).astype(int), minlength=24)[:24].astype(float),
        )
        counts += h  # type: ignore[operator]
    return counts


@statistic("screen-on counts per local hour, pooled: quietest / busiest hour")
def hourly_min_over_max(fleet: Fleet, centre: float | None = None) -> float:
    c = _hourly(fleet)
    return _ratio(float(c.min()), float(c.max()))


@statistic("screen-on counts per local hour, pooled: quietest hour (h)")
def hourly_argmin(fleet: Fleet, centre: float | None = None) -> float:
    return float(np.argmin(_hourly(fleet)))


@statistic("screen-on counts per local hour, pooled: busiest hour (h)")
def hourly_argmax(fleet: Fleet, centre: float | None = None) -> float:
    return float(np.argmax(_hourly(fleet)))


@statistic("screen-on counts per local hour, pooled: 07 h / 05 h")
def hourly_07_over_05(fleet: Fleet, centre: float | None = None) -> float:
    c = _hourly(fleet)
    return _ratio(float(c[7]), float(c[5]))


# ---------------------------------------------------------------------------
# U9-U10: this app's opens
# ---------------------------------------------------------------------------
@statistic("per-device app opens/day: median / the archetype's configured opens/day")
def app_opens_median_over_centre(fleet: Fleet, centre: float | None = None) -> float:
    if not centre:
        return NAN
    return _q(_device(fleet, app_opens_per_day, "aod"), 0.5) / centre


@statistic("per-device app opens/day: p90 / p10")
def app_opens_p90_over_p10(fleet: Fleet, centre: float | None = None) -> float:
    x = _device(fleet, app_opens_per_day, "aod")
    return _ratio(_q(x, 0.9), _q(x, 0.1))


@statistic("share of device-weeks (7 full days) with at least one app open")
def weeks_with_open_share(fleet: Fleet, centre: float | None = None) -> float:
    hit, n = 0, 0
    for d in fleet:
        weeks = int(d.days // 7)
        for w in range(weeks):
            a, b = d.t0 + w * 7 * DAY, d.t0 + (w + 1) * 7 * DAY
            n += 1
            hit += int(np.any((d.app_sessions[:, 0] >= a) & (d.app_sessions[:, 0] < b)))
    return hit / n if n else NAN


# ---------------------------------------------------------------------------
# U12-U13: battery drain and charge rates
# ---------------------------------------------------------------------------
def _rate(d: Device, screen: int, charging: int, below: float | None = None) -> float:
    """Realised level change over the device's intervals in one state (Low Power Mode
    off), %/h: total change over total time; NaN under 1 h of such intervals."""
    iv = d.intervals
    sel = (iv[:, 3] == screen) & (iv[:, 4] == charging) & (iv[:, 5] == 0)
    if below is not None:  # both ends below (with a margin: the optimised-charging hold sits at 80 %)
        sel &= (iv[:, 6] < below - 0.01) & (iv[:, 6] + iv[:, 2] < below - 0.01)
    dt = iv[sel, 1].sum()
    if dt < H:
        return NAN
    return float(iv[sel, 2].sum() / dt * H * 100.0)


@statistic("per-device drain with the screen off, unplugged, no background work: median, %/h")
def drain_off_median(fleet: Fleet, centre: float | None = None) -> float:
    return -_q(_device(fleet, lambda d: _rate(d, 0, 0), "doff"), 0.5)


@statistic("per-device drain with the screen off: p90 / p10")
def drain_off_p90_over_p10(fleet: Fleet, centre: float | None = None) -> float:
    x = -_device(fleet, lambda d: _rate(d, 0, 0), "doff")
    return _ratio(_q(x, 0.9), _q(x, 0.1))


@statistic("per-device drain with the screen on, unplugged: median, %/h")
def drain_on_median(fleet: Fleet, centre: float | None = None) -> float:
    return -_q(_device(fleet, lambda d: _rate(d, 1, 0), "don"), 0.5)


@statistic("per-device charge rate, screen off, below 80 %: median, %/h")
def charge_off_median(fleet: Fleet, centre: float | None = None) -> float:
    return _q(_device(fleet, lambda d: _rate(d, 0, 1, below=0.8), "coff"), 0.5)


# ---------------------------------------------------------------------------
# U14-U16: plugging in
# ---------------------------------------------------------------------------
@statistic("drawn top-up thresholds: mean, fraction")
def plug_threshold_mean(fleet: Fleet, centre: float | None = None) -> float:
    return float(np.mean([d.plug_threshold for d in fleet]))


@statistic("drawn top-up thresholds: share <= 10 %")
def plug_threshold_share_le_10(fleet: Fleet, centre: float | None = None) -> float:
    return float(np.mean([d.plug_threshold <= 0.10 + 1e-9 for d in fleet]))


@statistic("drawn top-up thresholds: share <= 20 %")
def plug_threshold_share_le_20(fleet: Fleet, centre: float | None = None) -> float:
    return float(np.mean([d.plug_threshold <= 0.20 + 1e-9 for d in fleet]))


def _daytime_levels(fleet: Fleet) -> np.ndarray:
    parts = [d.plugins[d.plugins[:, 2] == 0, 1] for d in fleet]
    return np.concatenate(parts) if parts else np.zeros(0)


@statistic("daytime (not overnight) plug-ins: share at <= 10 %")
def daytime_plugins_share_le_10(fleet: Fleet, centre: float | None = None) -> float:
    x = _daytime_levels(fleet)
    return float(np.mean(x <= 0.10)) if x.size else NAN


@statistic("daytime plug-ins at <= 10 %: share of them at <= 2 %")
def daytime_plugins_le_2_of_le_10(fleet: Fleet, centre: float | None = None) -> float:
    x = _daytime_levels(fleet)
    x = x[x <= 0.10]
    return float(np.mean(x <= 0.02)) if x.size else NAN


def _daily_plugins_median(d: Device) -> float:
    first = int(np.ceil(d.t0 / DAY))
    last = int(np.floor(d.t_end / DAY))  # full calendar days [first, last)
    if last <= first:
        return NAN
    days = np.floor(d.plugins[:, 0] / DAY).astype(int)
    counts = np.bincount(days[(days >= first) & (days < last)] - first, minlength=last - first)
    return float(np.median(counts))


@statistic("share of devices whose median plug-ins per day (overnight included) is >= 2")
def share_devices_two_plugins_a_day(fleet: Fleet, centre: float | None = None) -> float:
    v = _device(fleet, _daily_plugins_median, "dpm")
    return float(np.mean(v >= 2))


def _overnight_nights_share(d: Device) -> float:
    nights = round(d.days)
    if not nights or not d.overnight.shape[0]:
        return 0.0
    idx = np.floor((d.overnight[:, 0] - 12 * H) / DAY).astype(int)
    first = int(np.floor((d.t0 - 12 * H) / DAY))
    return len({int(i) for i in idx if first <= i < first + nights}) / nights


@statistic("share of devices charging overnight on >= 50 % of nights")
def share_devices_overnight_half(fleet: Fleet, centre: float | None = None) -> float:
    v = _device(fleet, _overnight_nights_share, "ons")
    return float(np.mean(v >= 0.5))


def _long_overnight(fleet: Fleet) -> np.ndarray:
    parts = [d.overnight[d.overnight[:, 1] > 5 * H] for d in fleet]
    return np.concatenate(parts) if parts else np.zeros((0, 4))


@statistic("overnight charges > 5 h: time at 78-82 % / length, median")
def overnight_hold_share_median(fleet: Fleet, centre: float | None = None) -> float:
    x = _long_overnight(fleet)
    return float(np.median(x[:, 2] / x[:, 1])) if x.shape[0] else NAN


@statistic("overnight charges > 5 h: share unplugged at >= 95 %")
def overnight_unplug_full_share(fleet: Fleet, centre: float | None = None) -> float:
    x = _long_overnight(fleet)
    return float(np.mean(x[:, 3] >= 0.95 - 1e-9)) if x.shape[0] else NAN


# ---------------------------------------------------------------------------
# U17: battery saver
# ---------------------------------------------------------------------------
@statistic("share of unplugged time with Low Power Mode / Battery Saver on")
def lpm_unplugged_share(fleet: Fleet, centre: float | None = None) -> float:
    return _ratio(sum(d.lpm_unplugged_s for d in fleet), sum(d.unplugged_s for d in fleet))


@statistic("share of discharge periods (unplug to plug) with Low Power Mode on at some time")
def lpm_discharge_period_share(fleet: Fleet, centre: float | None = None) -> float:
    return _ratio(sum(d.discharge_with_lpm for d in fleet), sum(d.discharge_periods for d in fleet))


# ---------------------------------------------------------------------------
# U19-U20: network
# ---------------------------------------------------------------------------
def _share(s: dict[str, float], key: str) -> float:
    tot = sum(s.values())
    return s.get(key, 0.0) / tot if tot > 0 else NAN


@statistic("per-device share of time on Wi-Fi: mean")
def wifi_share_mean(fleet: Fleet, centre: float | None = None) -> float:
    return float(np.mean(_device(fleet, lambda d: _share(d.network_s, "wifi"), "wifi")))


@statistic("per-device share of time on Wi-Fi: p90 - p10")
def wifi_share_spread(fleet: Fleet, centre: float | None = None) -> float:
    x = _device(fleet, lambda d: _share(d.network_s, "wifi"), "wifi")
    return _q(x, 0.9) - _q(x, 0.1)


def _app_net(fleet: Fleet, key: str) -> float:
    tot = sum(sum(d.app_network_w.values()) for d in fleet)
    return sum(d.app_network_w.get(key, 0.0) for d in fleet) / tot if tot > 0 else NAN


@statistic(
    "network the app can use (Doze idle counted as none), per battery-level change as GreenHub samples: Wi-Fi share"
)
def app_network_wifi(fleet: Fleet, centre: float | None = None) -> float:
    return _app_net(fleet, "wifi")


@statistic("network the app can use, per battery-level change: cellular share")
def app_network_cellular(fleet: Fleet, centre: float | None = None) -> float:
    return _app_net(fleet, "cellular")


@statistic("network the app can use, per battery-level change: none share")
def app_network_none(fleet: Fleet, centre: float | None = None) -> float:
    return _app_net(fleet, "none")


# ---------------------------------------------------------------------------
# U21: thermal state
# ---------------------------------------------------------------------------
def _thermal(fleet: Fleet, levels: tuple[str, ...]) -> float:
    tot = sum(sum(d.thermal_s.values()) for d in fleet)
    return sum(d.thermal_s.get(v, 0.0) for d in fleet for v in levels) / tot if tot > 0 else NAN


@statistic("share of time at thermal serious or critical, pooled")
def thermal_serious_critical_share(fleet: Fleet, centre: float | None = None) -> float:
    return _thermal(fleet, ("serious", "critical"))


@statistic("share of time at thermal critical, pooled")
def thermal_critical_share(fleet: Fleet, centre: float | None = None) -> float:
    return _thermal(fleet, ("critical",))


# ---------------------------------------------------------------------------
# U22: force-quit
# ---------------------------------------------------------------------------
def _fq_rate(d: Device) -> float:
    return d.force_quits / d.closes if d.closes else NAN


@statistic("per-device force-quits per app close: mean")
def force_quit_rate_mean(fleet: Fleet, centre: float | None = None) -> float:
    x = _device(fleet, _fq_rate, "fq")
    return float(np.nanmean(x)) if np.isfinite(x).any() else NAN


@statistic("per-device force-quits per app close: p90 / median")
def force_quit_top_decile_over_median(fleet: Fleet, centre: float | None = None) -> float:
    x = _device(fleet, _fq_rate, "fq")
    return _ratio(_q(x, 0.9), _q(x, 0.5))


# ---------------------------------------------------------------------------
# U18: Low Power Mode's effect on drain (matched pairs)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    """One seed run with Low Power Mode off and on: s until the level reached 20 %."""

    off_s: float
    on_s: float

    @property
    def ratio(self) -> float:
        return self.on_s / self.off_s if np.isfinite(self.on_s) and np.isfinite(self.off_s) and self.off_s > 0 else NAN


@statistic("matched pairs from a full battery, no charging: time to 20 % with Low Power Mode on / off, median")
def lpm_time_to_20_ratio(fleet: Sequence[Pair], centre: float | None = None) -> float:
    return _q(np.array([p.ratio for p in fleet]), 0.5)


@statistic("matched pairs: share of devices whose time to 20 % is >= 5 % longer with Low Power Mode on")
def lpm_share_5pct_longer(fleet: Sequence[Pair], centre: float | None = None) -> float:
    r = np.array([p.ratio for p in fleet])
    r = r[np.isfinite(r)]
    return float(np.mean(r >= 1.05)) if r.size else NAN
