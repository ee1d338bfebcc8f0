"""iOS usage-driven scheduling (PLATFORM_FACTS row 46 and the observed warm-up): a fresh
install gets few refresh windows, and an app opened every day at 8:00 gets its refresh
shortly before 8:00."""

from __future__ import annotations

import numpy as np
from helpers import always, make_env

from bgenv.eventlog import of_kind
from bgenv.fidelity.scenarios import HOMOGENEOUS
from bgenv.rollout import rollout

AT_8 = [0.0] * 24
AT_8[8] = 1.0  # the user opens the app once between 8:00 and 9:00 every day, never otherwise
# (on every device: no per-device shift of the day or of the opens a day)


def _grant_hours(engagement: float, seeds: range, days: float = 14.0) -> tuple[list[float], list[int]]:
    hours: list[float] = []
    counts: list[int] = []
    for seed in seeds:
        user = {
            "app_opens_per_hour": AT_8,
            "engagement_per_day": engagement,
            "force_quit_prob": 0.0,
            "last_open_ago_s": 86400.0,
        }
        env = make_env("ios", horizon_days=days, user=user, heterogeneity=HOMOGENEOUS)
        rollout(env, always(env, "refresh"), seed)  # always one pending
        t = np.array([e["t"] for e in of_kind(env.events, "grant")])
        hours += ((t / 3600.0) % 24.0).tolist()
        counts.append(len(t))
    return hours, counts


def test_refresh_comes_shortly_before_the_daily_8am_open():
    hours, _ = _grant_hours(8.0, range(3))
    by_hour = np.histogram(hours, bins=24, range=(0, 24))[0]
    assert by_hour.argmax() in (7, 8)
    assert by_hour[7] > 0.35 * len(hours)  # the hour before the open holds over a third
    assert by_hour[7] > 10 * np.median(by_hour)


def test_a_fresh_install_gets_far_fewer_windows_and_warms_up():
    # At the calibrated launch rate (O1: a few windows a day, none on many days for a
    # fresh install) one run holds too few windows: counts are summed over many seeds.
    _, fresh = _grant_hours(0.0, range(10))
    _, used = _grant_hours(8.0, range(10))
    assert sum(fresh) * 2.5 < sum(used)
    user = {"app_opens_per_hour": AT_8, "engagement_per_day": 0.0, "force_quit_prob": 0.0}
    first = last = 0
    for seed in range(30):
        env = make_env("ios", horizon_days=14, user=user, heterogeneity=HOMOGENEOUS)
        rollout(env, always(env, "refresh"), seed)
        days = np.array([e["t"] for e in of_kind(env.events, "grant")]) / 86400.0
        first += int((days < 3.29).sum())
        last += int(((days >= 11.29) & (days < 14.29)).sum())
    assert last >= 20
    assert 2 * first < last  # warm-up: far more windows in the last three days than in the first three
