"""The platform-fidelity table: every numbered fact of PLATFORM_FACTS.md, how bgenv
models it, and what a small simulation of bgenv measures.

Each entry of :data:`FACTS` (one per fact row, in the file's numbering) and of
:data:`OBSERVED` (the "observed behaviour developers complain about" list) names the
config keys or code that model the fact, the test that checks it
(``tests/test_fidelity.py``) and an *experiment*: a function that runs a few small
episodes through the public API (``gym.make``, ``env.unwrapped.events``,
``env.unwrapped.metrics()``) and returns a :class:`Measurement` (a short value for the
table, a dict the tests assert on, and a status). Facts that bgenv does not model carry
the reason instead. Experiments are deterministic (fixed seeds) and cached per process,
so the tests and the document share one run of each.

``bgenv fidelity`` (``make fidelity``) runs every experiment and writes
``docs/fidelity.md``. The measured column always comes from the simulations.

Statuses:

* ``modelled``: the measurement agrees with the documented value.
* ``partial``: what bgenv models agrees; part of the fact is not modelled (said why).
* ``differs``: bgenv's behaviour differs from the documented value (a known mismatch
  or a simulator bug; the measured value says how).
* ``not modelled`` / ``not modelled yet``: no simulation; the reason is given.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import yaml

import bgenv  # noqa: F401  (importing the package registers the environment ids)
from bgenv.config import CONFIG_DIR, DEFAULT_SLOT, PERIODIC_SLOT, ConfigError, load_scenario

MODELLED = "modelled"
PARTIAL = "partial"
DIFFERS = "differs"
NOT_MODELLED = "not modelled"
NOT_YET = "not modelled yet"
STATUSES = (MODELLED, PARTIAL, DIFFERS, NOT_MODELLED, NOT_YET)

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "fidelity.md"
TEST_FILE = "tests/test_fidelity.py"
REGENERATE = "bgenv fidelity"


@dataclass(frozen=True)
class Measurement:
    """What an experiment measured: ``value`` for the table, ``data`` for the tests."""

    value: str
    data: dict[str, Any] = field(default_factory=dict)
    status: str = MODELLED

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")


@dataclass(frozen=True)
class Fact:
    """One row of the fidelity table."""

    row: int | str
    fact: str
    documented: str
    model: str  # config keys in configs/profiles/*.yaml or the code that models it
    test: str = ""  # test function in tests/test_fidelity.py
    experiment: Callable[[], Measurement] | None = None
    reason: str = ""  # why the fact is not modelled (no experiment)
    needs_types: tuple[str, ...] = ()  # request types that must exist in some profile

    @property
    def node_id(self) -> str:
        return f"{TEST_FILE}::{self.test}" if self.test else ""

    def evaluate(self) -> Measurement:
        """Run the experiment (cached), or say why there is none."""
        missing = [t for t in self.needs_types if t not in profile_request_types()]
        if missing:
            return Measurement(
                f"no request option of type {', '.join(missing)} in configs/profiles/*.yaml", status=NOT_YET
            )
        if self.experiment is None:
            return Measurement(self.reason, status=NOT_MODELLED)
        return self.experiment()


@functools.cache
def profile_request_types() -> frozenset[str]:
    """Request types offered by any profile in ``configs/profiles`` (their ``request_options``)."""
    types: set[str] = set()
    for path in sorted((CONFIG_DIR / "profiles").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for o in data.get("request_options") or []:
            if isinstance(o, dict) and "type" in o:
                types.add(str(o["type"]))
    return frozenset(types)


# ---------------------------------------------------------------------------
# Building environments
# ---------------------------------------------------------------------------
ENV_ID = {"ios": "bgenv/iOS-v0", "android": "bgenv/Android-v0"}
SCENARIO = {
    "ios": "ios_commuter",
    "android": "android_commuter",
    "android-16": "android16_commuter",
    "android-aggressive-oem": "android_oem_commuter",
}
ZERO_24 = [0.0] * 24
ONE_24 = [1.0] * 24
H = 3600.0
DAY = 86400.0

# A user who never touches the phone (no opens, no screen, no motion, no charging), on
# Wi-Fi all the time and never accepting Low Power Mode / Battery Saver.
ABSENT = {
    "app_opens_per_hour": ZERO_24,
    "screen_sessions_per_hour": ZERO_24,
    "motion_per_hour": ZERO_24,
    "overnight_charge_prob": 0.0,
    "force_quit_prob": 0.0,
    "low_power_accept_prob": 0.0,
    "plug_at_10_share": 1.0,
    "plug_at_20_share": 0.0,
    "wifi_share": ONE_24,
    "no_network_share": ZERO_24,
    "drops_per_hour": 0.0,
    "mutations_per_open": 0.0,
}
# A battery that barely drains: the phone stays unplugged for days without a top-up.
STEADY_BATTERY = {
    "drain_screen_off_pct_per_h": 0.05,
    "drain_screen_on_pct_per_h": 0.05,
    "background_cpu_pct_per_h": 0.0,
    "radio_cellular_pct_per_h": 0.0,
    "radio_wifi_pct_per_h": 0.0,
    "window_wake_pct": 0.0,
}
COOL = {"step_up_per_h": 0.0}  # the thermal state stays nominal
ENDLESS_HEAVY = {"heavy_per_day": 2000.0}  # ~7 units/s of heavy work (a window does 1/s): never runs out
# Hours since the last app open that put an Android app in each bucket at t0 (row 31)
BUCKET_AGO_H = {"active": 0.0, "working_set": 13.0, "frequent": 25.0, "rare": 49.0, "restricted": 193.0}


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def make_env(which: str, **overrides: Any):
    """``gym.make`` the environment of profile ``which`` (a key of :data:`SCENARIO`, whose
    commuter scenario it starts from) with the event log on; returns the unwrapped env."""
    platform = "ios" if which == "ios" else "android"
    env = gym.make(ENV_ID[platform], scenario=SCENARIO[which], record_events=True, **overrides)
    return env.unwrapped


def quiet_android(
    profile: str = "android",
    *,
    bucket: str = "active",
    hours: float = 24.0,
    doze: bool = False,
    user: dict | None = None,
    android: dict | None = None,
    windows: dict | None = None,
    thermal: dict | None = None,
    **overrides: Any,
):
    """An Android phone lying unplugged and untouched, in ``bucket`` for the whole run,
    with endless heavy work, a battery that barely drains, a nominal thermal state and
    (unless ``doze``) Doze off, so the quota under test is the only thing in the way."""
    prof: dict[str, Any] = {"android": _merge({"doze": {"enabled": doze}}, android or {})}
    if windows:
        prof["windows"] = windows
    return make_env(
        profile,
        horizon_days=hours / 24.0,
        initial_battery=[1.0, 1.0],
        user={**ABSENT, "last_open_ago_s": BUCKET_AGO_H[bucket] * H, **(user or {})},
        battery=STEADY_BATTERY,
        thermal=thermal or COOL,
        workload=_merge(ENDLESS_HEAVY, overrides.pop("workload", {})),
        profile=prof,
        **overrides,
    )


# ---------------------------------------------------------------------------
# Actions and policies
# ---------------------------------------------------------------------------
KIND = {"auto": 0, "sync": 1, "upload": 2, "refresh": 3, "heavy": 4}
Policy = Callable[[Any, np.ndarray, dict], Sequence[int]]


def option(env, label: str) -> int:
    """Index of the request option labelled ``label`` (``env.action_labels['request']``)."""
    return env.action_labels["request"].index(label)


def delay_bin(env, seconds: float) -> int:
    return env.params.delay_bins_s.index(float(seconds))


def chunk_bin(env, units: float) -> int:
    return env.params.chunk_bins_units.index(float(units))


def slot_of(env, opt: int) -> int:
    """The request slot (task identifier) option ``opt`` uses."""
    o = env.scenario_spec.profile.request_options[opt - 1]
    if o.slot is not None:
        return o.slot
    return PERIODIC_SLOT if o.periodic else DEFAULT_SLOT[o.type]


def feature(env, obs: np.ndarray, name: str) -> float:
    return float(obs[env.observation_names.index(name)])


def backlog(env, obs: np.ndarray, kind: str) -> float:
    """Pending units of ``kind`` read from the observation (log1p(units)/log1p(1000))."""
    return math.expm1(feature(env, obs, f"backlog_{kind}") * math.log1p(1000.0))


IN_WINDOW = ("window_start", "chunk_done")


def keeper(
    env,
    label: str,
    *,
    delay_s: float = 0.0,
    first_delay_s: float | None = None,
    work: tuple[str, float] | None = None,
) -> Policy:
    """Keep a request of option ``label`` pending at every decision (submitted with
    ``delay_s``, the first one with ``first_delay_s``); inside windows, work in chunks
    of ``work = (kind, units)`` while there is enough of it (until the window ends),
    else report completion at once."""
    opt = option(env, label)
    pending = env.observation_names.index(f"pending_slot{slot_of(env, opt)}")
    state = {"first": True}

    def policy(env, obs, info):
        req, d = 0, 0
        if obs[pending] == 0.0:
            req = opt
            wait = first_delay_s if (state["first"] and first_delay_s is not None) else delay_s
            d = delay_bin(env, wait)
            state["first"] = False
        if info["phase"] in IN_WINDOW and work is not None:
            kind, units = work
            if backlog(env, obs, kind) >= units + 1.0:
                return [req, d, chunk_bin(env, units), KIND[kind]]
        return [req, d, 0, 0]

    return policy


def run(env, seed: int, policy: Policy, max_steps: int = 2_000_000) -> dict[str, float]:
    """Reset with ``seed``, follow ``policy(env, obs, info)`` to the horizon, return the metrics."""
    obs, info = env.reset(seed=seed)
    for _ in range(max_steps):
        obs, _, terminated, truncated, info = env.step(np.asarray(policy(env, obs, info), dtype=np.int64))
        if terminated or truncated:
            return info["metrics"]
    raise RuntimeError("episode did not reach its horizon")


# ---------------------------------------------------------------------------
# Reading the event log
# ---------------------------------------------------------------------------
@dataclass
class Window:
    """A background window from its ``grant`` to the event that ended it."""

    type: str
    start: float
    budget: float
    bucket: str | None
    attempt: int
    end: float = math.inf
    how: str = ""  # complete / expire / kill
    reason: str = ""
    fg: bool = False  # the app was on screen when it started
    state: dict[str, Any] = field(default_factory=dict)  # device state at the grant

    @property
    def length(self) -> float:
        return self.end - self.start


TRACKED = {
    "doze": ("state", "active"),
    "thermal": ("level", "nominal"),
    "low_power": ("on", False),
    "network": ("network", None),
}


def end_time(env) -> float:
    """The simulated time the episode has reached, s since midnight of day 0."""
    return env.scenario_spec.start_hour * H + env.metrics()["simulated_days"] * DAY


def log(env) -> tuple[list[dict[str, Any]], float]:
    """The event log and the time it ends (windows still open then end there)."""
    return env.events, end_time(env)


def windows(events: Iterable[dict[str, Any]], t_end: float = math.inf) -> list[Window]:
    """Every window in the log, with the device state (Doze, thermal, Low Power Mode,
    charging, screen, network) at its grant; a window still open at ``t_end`` ends there."""
    out: list[Window] = []
    cur: Window | None = None
    st: dict[str, Any] = {k: v for k, (_, v) in TRACKED.items()}
    st.update(charging=False, screen=False, fg=False, screen_off_at=-math.inf, last_open=-math.inf)
    for e in events:
        k = e["kind"]
        if k in TRACKED:
            st[k] = e[TRACKED[k][0]]
        elif k == "charge_start":
            st["charging"] = True
        elif k == "charge_stop":
            st["charging"] = False
        elif k == "screen":
            st["screen"] = e["on"]
            if not e["on"]:
                st["screen_off_at"] = e["t"]
        elif k == "app_open":
            st["fg"] = True
            st["last_open"] = e["t"]
        elif k == "app_close":
            st["fg"] = False
        elif k == "grant":
            cur = Window(e["type"], e["t"], e["budget_s"], e["bucket"], e["attempt"], fg=st["fg"], state=dict(st))
            out.append(cur)
        elif k in ("complete", "expire", "kill") and cur is not None and cur.how == "":
            cur.end, cur.how, cur.reason = e["t"], k, e.get("reason", "")
    if cur is not None and cur.how == "":
        cur.end, cur.how = t_end, "open"
    return out


def state_timeline(events: Iterable[dict[str, Any]], kind: str, key: str, initial: Any) -> list[tuple[float, Any]]:
    out = [(-math.inf, initial)]
    out += [(e["t"], e[key]) for e in events if e["kind"] == kind]
    return out


def seconds_in(
    events: Sequence[dict[str, Any]], t0: float, t_end: float, kind: str, key: str, initial: Any
) -> dict[Any, float]:
    """Seconds spent in each value of the state logged by ``kind`` events (field ``key``)
    between ``t0`` and ``t_end``."""
    out: dict[Any, float] = {}
    tl = [(t0, initial), *((e["t"], e[key]) for e in events if e["kind"] == kind), (t_end, None)]
    for (t, v), (t2, _) in itertools.pairwise(tl):
        out[v] = out.get(v, 0.0) + t2 - t
    return out


def max_rolling_time(intervals: Sequence[tuple[float, float]], w: float) -> float:
    """Largest total length of ``intervals`` inside any window of ``w`` seconds."""
    best = 0.0
    cands = {e for _, e in intervals} | {s + w for s, _ in intervals}
    for t in cands:
        lo = t - w
        best = max(best, sum(max(0.0, min(e, t) - max(s, lo)) for s, e in intervals))
    return best


def max_rolling_count(times: Sequence[float], w: float) -> int:
    """Largest number of ``times`` inside any closed window of ``w`` seconds."""
    t = np.sort(np.asarray(times, dtype=float))
    if len(t) == 0:
        return 0
    return int(max(np.searchsorted(t, t + w, side="right") - np.arange(len(t))))


def max_rolling_sessions(intervals: Sequence[tuple[float, float]], w: float, gap: float) -> int:
    """Largest number of sessions (executions less than ``gap`` apart merge) starting
    inside any window of ``w`` seconds."""
    iv = sorted(intervals)
    best = 0
    for i, (s0, _) in enumerate(iv):
        sess, prev_end = 0, None
        for s, e in iv[i:]:
            if s > s0 + w:
                break
            if prev_end is None or s - prev_end >= gap:
                sess += 1
            prev_end = e
        best = max(best, sess)
    return best


def _iv(ws: Iterable[Window], *types: str) -> list[tuple[float, float]]:
    return [(w.start, w.end) for w in ws if not types or w.type in types]


def _fmt_s(x: float) -> str:
    return f"{x:.0f} s"


def _yes(ok: bool, *, fallback: str = DIFFERS) -> str:
    return MODELLED if ok else fallback


# ---------------------------------------------------------------------------
# Android job quotas (rows 1-15)
# ---------------------------------------------------------------------------
QUOTA_WINDOW_H = {"android": {"active": 0.0, "working_set": 2.0, "frequent": 8.0, "rare": 24.0}}
QUOTA_WINDOW_H["android-16"] = {"active": 1.0, "working_set": 4.0, "frequent": 12.0, "rare": 24.0}
# Horizons that keep the app in its bucket from t0 to the end (BUCKET_AGO_H, row 31)
BUCKET_HOURS = {"active": 6.0, "working_set": 10.0, "frequent": 22.0, "rare": 72.0, "restricted": 7.0}
# Charging all night from t0 = 00:00 to 07:00 (overnight charging, no jitter)
CHARGING_NIGHT = {"overnight_charge_prob": 1.0, "charge_jitter_s": 0.0, "bedtime_hour": 23.0, "wake_hour": 7.0}
FAST_JOBS = {"job": {"launch_rate_per_h": 36000.0}}  # a ready job starts within ~0.1 s


@functools.cache
def job_run(
    profile: str = "android",
    bucket: str = "rare",
    *,
    hours: float | None = None,
    long_jobs: bool = True,
    fast: bool = False,
    charging: bool = False,
    label: str = "job",
    screen_per_h: float = 0.0,
    seed: int = 0,
) -> tuple[Window, ...]:
    """Windows of a run that keeps a ``label`` request pending all the time, in ``bucket``,
    unplugged (or charging all night, from 00:00). ``long_jobs``: each window works in
    20-unit heavy chunks until it ends (a first job request waits 1 h for work to
    arrive); else it reports completion at once. ``fast``: jobs start ~0.1 s after they
    may. ``screen_per_h``: the user turns the screen on for other apps this often."""
    hours = BUCKET_HOURS[bucket] if hours is None else hours
    extra: dict[str, Any] = {}
    user: dict[str, Any] = {"screen_sessions_per_hour": [screen_per_h] * 24}
    if charging:
        user.update(CHARGING_NIGHT)
        extra["start_hour"] = 0.0
    env = quiet_android(profile, bucket=bucket, hours=hours, user=user, windows=FAST_JOBS if fast else None, **extra)
    work = ("heavy", 20.0) if long_jobs else None
    first = 3600.0 if long_jobs and label.startswith("job") else None  # expedited: no delay (row 14)
    run(env, seed, keeper(env, label, first_delay_s=first, work=work))
    return tuple(windows(*log(env)))


def _quota_of(profile: str, bucket: str) -> dict[str, float]:
    ws = job_run(profile, bucket)
    iv = _iv(ws, "job")
    w = QUOTA_WINDOW_H[profile][bucket] * H or 2 * H  # active: look at any 2 h
    return {
        "window_h": w / H,
        "max_in_window_s": max_rolling_time(iv, w),
        "max_in_2_windows_s": max_rolling_time(iv, 2 * w),
        "max_sessions_in_window": max_rolling_sessions(iv, w, 5.0),
        "max_budget_s": max(x.budget for x in ws),
        "buckets": sorted({x.bucket for x in ws}),
        "jobs": len(iv),
    }


def row01() -> Measurement:
    d = {b: _quota_of("android", b) for b in ("active", "working_set", "frequent", "rare")}
    ok = d["active"]["max_in_window_s"] > 3000.0
    for b in ("working_set", "frequent", "rare"):
        ok &= 570.0 <= d[b]["max_in_window_s"] <= 600.0 + 1e-6 and d[b]["max_in_2_windows_s"] > 700.0
    short = {"working_set": "working 2 h", "frequent": "frequent 8 h", "rare": "rare 24 h"}
    value = "; ".join(f"{short[b]}: ≤ {_fmt_s(d[b]['max_in_window_s'])}" for b in short)
    value += f"; active: {_fmt_s(d['active']['max_in_window_s'])} in 2 h (unlimited)"
    return Measurement(value, d, _yes(ok))


def row02() -> Measurement:
    d = {p: {b: _quota_of(p, b) for b in ("active", "working_set", "frequent")} for p in ("android-16", "android")}
    a16, a15 = d["android-16"], d["android"]
    ok = 1140.0 <= a16["active"]["max_in_window_s"] <= 1200.0 + 1e-6 and a15["active"]["max_in_window_s"] > 1200.0
    for b in ("working_set", "frequent"):
        w = QUOTA_WINDOW_H["android-16"][b] * H
        d["android"][b]["max_in_16_window_s"] = max_rolling_time(_iv(job_run("android", b), "job"), w)
        ok &= 570.0 <= a16[b]["max_in_window_s"] <= 600.0 + 1e-6 < d["android"][b]["max_in_16_window_s"]
    value = (
        f"16: active ≤ {_fmt_s(a16['active']['max_in_window_s'])}/60 min, working ≤ "
        f"{_fmt_s(a16['working_set']['max_in_window_s'])}/4 h, frequent ≤ {_fmt_s(a16['frequent']['max_in_window_s'])}"
        f"/12 h (14/15 in the same windows: {_fmt_s(a15['active']['max_in_window_s'])}, "
        f"{_fmt_s(a15['working_set']['max_in_16_window_s'])}, {_fmt_s(a15['frequent']['max_in_16_window_s'])})"
    )
    return Measurement(value, d, _yes(ok))


@functools.cache
def foreground_run(profile: str) -> tuple[Window, ...]:
    """The app on screen most of the time (10 h sessions), Active bucket, a job kept
    pending and worked until it ends."""
    env = quiet_android(
        profile,
        bucket="active",
        hours=8.0,
        user={"app_opens_per_hour": ONE_24, "app_session_mean_s": 36000.0, "session_min_s": 10.0},
    )
    run(env, 0, keeper(env, "job", first_delay_s=3600.0, work=("heavy", 20.0)))
    return tuple(windows(*log(env)))


def row03() -> Measurement:
    d = {}
    for p in ("android", "android-16"):
        ws = foreground_run(p)
        fg = _iv([w for w in ws if w.fg], "job")
        d[p] = {"fg_jobs": len(fg), "max_fg_job_s_per_h": max_rolling_time(fg, H)}
    ok = d["android"]["max_fg_job_s_per_h"] > 1500.0 and d["android-16"]["max_fg_job_s_per_h"] <= 1200.0 + 1e-6
    value = (
        f"jobs started on screen, job time per 60 min: 14/15 {_fmt_s(d['android']['max_fg_job_s_per_h'])} "
        f"(not counted), 16 {_fmt_s(d['android-16']['max_fg_job_s_per_h'])} (counted: Active 20 min/60 min); "
        "jobs alongside a foreground service not modelled (one window at a time)"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


def row04() -> Measurement:
    ws = job_run("android", "active", hours=12.0)
    iv = _iv(ws, "job", "expedited")
    total = sum(e - s for s, e in iv)
    d = {"job_s_in_12h": total, "max_in_24h_s": max_rolling_time(iv, DAY), "last_end_h": (iv[-1][1] - iv[0][0]) / H}
    ok = 14370.0 <= d["max_in_24h_s"] <= 14400.0 + 1e-6
    return Measurement(f"Active app, endless jobs: {_fmt_s(d['max_in_24h_s'])} in 24 h, then none", d, _yes(ok))


COUNT_WINDOW_H = {"active": 1.0 / 6.0, "working_set": 2.0, "frequent": 8.0, "rare": 24.0, "restricted": 24.0}
DOC_JOB_COUNT = {"active": 75, "working_set": 120, "frequent": 200, "rare": 48, "restricted": 10}
DOC_SESSION_COUNT = {"active": 75, "working_set": 10, "frequent": 8, "rare": 3, "restricted": 1}


def _counts(bucket: str, fast: bool) -> dict[str, Any]:
    hours = 1.0 if bucket == "active" else None
    ws = job_run("android", bucket, hours=hours, long_jobs=False, fast=fast, charging=bucket == "restricted")
    iv = _iv(ws, "job")
    w = COUNT_WINDOW_H[bucket] * H
    return {
        "jobs": len(iv),
        "max_jobs_in_window": max_rolling_count([s for s, _ in iv], w),
        "max_sessions_in_window": max_rolling_sessions(iv, w, 5.0),
        "max_jobs_per_minute": max_rolling_count([s for s, _ in iv], 60.0),
    }


def row05() -> Measurement:
    d = {b: _counts(b, fast=True) for b in DOC_JOB_COUNT}
    ok = all(d[b]["max_jobs_in_window"] == DOC_JOB_COUNT[b] for b in ("working_set", "rare", "restricted"))
    ok &= d["frequent"]["max_jobs_in_window"] <= 200
    active_ok = d["active"]["max_jobs_in_window"] <= 75
    value = "jobs one at a time, ~0.1 s apart: " + ", ".join(
        f"{b} {d[b]['max_jobs_in_window']}" for b in DOC_JOB_COUNT if b != "active"
    )
    value += (
        " per window (without concurrent jobs the session count stops them first); active: "
        f"{d['active']['max_jobs_in_window']} per 10-min window "
        + ("(Active's 75 enforced)" if active_ok else "(Active's 75 exceeded)")
    )
    return Measurement(value, d, DIFFERS if not active_ok else _yes(ok))


def row06() -> Measurement:
    d = {b: _counts(b, fast=False) for b in DOC_SESSION_COUNT if b != "active"}
    d["rare_long_jobs"] = _quota_of("android", "rare")["max_sessions_in_window"]
    ok = all(d[b]["max_sessions_in_window"] == DOC_SESSION_COUNT[b] for b in d if b != "rare_long_jobs")
    ok &= d["rare_long_jobs"] == 3
    value = ", ".join(f"{b} {d[b]['max_sessions_in_window']}" for b in DOC_SESSION_COUNT if b != "active")
    value += " per window; active: per 10-min window (see row 5)"
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


def row07() -> Measurement:
    d = {b: _counts(b, fast=True)["max_jobs_per_minute"] for b in ("active", "working_set", "rare")}
    ok = all(v == 20 for v in d.values())
    return Measurement(f"at most {max(d.values())} jobs in any 60 s (jobs ~0.1 s apart, every bucket)", d, _yes(ok))


def _quota_left_at_grants(ws: Sequence[Window], w: float, quota: float) -> list[float]:
    iv = _iv(ws, "job")
    out = []
    for i, (s, _) in enumerate(iv):
        used = sum(max(0.0, min(e, s) - max(a, s - w)) for a, e in iv[:i])
        out.append(quota - used)
    return out


def row08() -> Measurement:
    ws = job_run("android", "working_set", fast=True)
    left = _quota_left_at_grants(ws, 2 * H, 600.0)
    resumed = [x for x in left if x < 600.0 - 1e-6]
    d = {"grants": len(left), "resumed": len(resumed), "min_left_s": min(resumed) if resumed else math.nan}
    ok = bool(resumed) and 30.0 <= d["min_left_s"] < 31.0
    return Measurement(f"jobs resume with ≥ {d['min_left_s']:.1f} s of quota left (working bucket)", d, _yes(ok))


def row09() -> Measurement:
    ws = job_run("android", "rare", charging=True, hours=24.0)  # on the charger 00:00-07:00, then not
    on = [w for w in ws if w.state["charging"]]
    off = [w for w in ws if not w.state["charging"]]
    d = {
        "job_s_charging": sum(w.length for w in on),
        "job_s_after_unplug": sum(w.length for w in off),
        "budgets_charging_s": sorted({round(w.budget, 3) for w in on}),
        "sessions_charging": max_rolling_sessions(_iv(on), DAY, 5.0),
    }
    waived = d["job_s_charging"] > 3600.0
    counted = d["job_s_after_unplug"] < 570.0  # AOSP does not count time on the charger (Timer.shouldTrackLocked)
    value = (
        f"rare bucket: {_fmt_s(d['job_s_charging'])} of jobs in 7 h on the charger; after unplugging, "
        f"{_fmt_s(d['job_s_after_unplug'])} in 17 h "
        + ("(charger time counted against the quota)" if counted else "(charger time not counted, as in AOSP)")
    )
    return Measurement(value, d, DIFFERS if counted or not waived else MODELLED)


def row10() -> Measurement:
    charging = job_run("android", "restricted", charging=True)
    unplugged = job_run("android", "restricted", hours=24.0)
    iv = _iv(charging, "job")
    d = {
        "unplugged_jobs": len(_iv(unplugged, "job")),
        "charging_jobs": len(iv),
        "first_job_s": iv[0][0] if iv else math.nan,  # t0 = 00:00, screen off since t0
        "max_job_s_in_24h": max_rolling_time(iv, DAY),
        "max_sessions_in_24h": max_rolling_sessions(iv, DAY, 5.0),
        "budgets_s": sorted({round(w.budget, 3) for w in charging}),
    }
    rules = d["unplugged_jobs"] == 0 and d["charging_jobs"] >= 1 and d["max_sessions_in_24h"] <= 1
    rules &= d["first_job_s"] >= 4260.0  # idle: screen off for idle_after_screen_off_s
    quota = d["max_job_s_in_24h"] <= 600.0 + 1e-6
    value = (
        f"restricted: no jobs unplugged; on the charger only after idle, {d['max_sessions_in_24h']} session, "
        f"{_fmt_s(d['max_job_s_in_24h'])} of jobs in 24 h (granted budget {_fmt_s(max(d['budgets_s'], default=0))})"
    )
    return Measurement(value, d, MODELLED if rules and quota else DIFFERS)


EJ_QUOTA_DOC = {"active": 1800.0, "working_set": 1800.0, "frequent": 600.0, "rare": 600.0, "restricted": 300.0}


def _ej(profile: str, bucket: str, screen_per_h: float = 0.0) -> dict[str, Any]:
    ws = job_run(profile, bucket, label="expedited", screen_per_h=screen_per_h, hours=6.0)
    ej = [w for w in ws if w.type == "expedited"]
    return {
        "ej_s": sum(w.length for w in ej),
        "ej_windows": len(ej),
        "ej_budgets_s": [round(w.budget, 3) for w in ej if w.length > 0.0],
        "regular_after": sum(1 for w in ws if w.type == "job"),
        "regular_s": sum(w.length for w in ws if w.type == "job"),
    }


def row11() -> Measurement:
    d = {b: _ej("android", b) for b in EJ_QUOTA_DOC}
    d["android-16 working_set"] = _ej("android-16", "working_set")
    ok = all(abs(d[b]["ej_s"] - q) < 1.0 for b, q in EJ_QUOTA_DOC.items())
    ok &= abs(d["android-16 working_set"]["ej_s"] - 900.0) < 1.0
    value = ", ".join(f"{b.replace('_set', '')} {_fmt_s(d[b]['ej_s'])}" for b in EJ_QUOTA_DOC)
    value += f"; 16 working {_fmt_s(d['android-16 working_set']['ej_s'])} (expedited time in 6 h, endless requests)"
    return Measurement(value, d, _yes(ok))


def row12() -> Measurement:
    quiet = _ej("android", "rare")
    screen = _ej("android", "rare", screen_per_h=4.0)
    d = {"ej_s_no_screen": quiet["ej_s"], "ej_s_other_apps_on_screen": screen["ej_s"]}
    value = (
        f"rare app never opened: {_fmt_s(d['ej_s_no_screen'])} of expedited time in 6 h; with the screen on for "
        f"other apps ~4×/h: {_fmt_s(d['ej_s_other_apps_on_screen'])}"
    )
    differs = d["ej_s_other_apps_on_screen"] > d["ej_s_no_screen"] + 1.0
    value += " (other apps' screen time credited)" if differs else " (only the app's own time on top earns quota)"
    return Measurement(value, d, DIFFERS if differs else MODELLED)


def row13() -> Measurement:
    d = {b: _ej("android", b) for b in ("active", "rare")}
    ok = d["active"]["regular_after"] > 0 and abs(d["active"]["ej_s"] - 1800.0) < 1.0
    ok &= d["rare"]["regular_after"] > 0 and d["rare"]["regular_s"] <= 600.0 + 1e-6
    value = (
        f"expedited requests past the quota run as regular jobs: active {d['active']['regular_after']} jobs "
        f"({_fmt_s(d['active']['regular_s'])}), rare {d['rare']['regular_after']} ({_fmt_s(d['rare']['regular_s'])}, "
        "within the rare job quota)"
    )
    return Measurement(value, d, _yes(ok))


def first_submission(env, label: str, delay_s: float) -> dict[str, Any]:
    """Reset (seed 0), submit ``label`` with ``delay_s`` at t0; the request or refusal logged."""
    _, info = env.reset(seed=0)
    t0 = info["t"]
    env.step(np.array([option(env, label), delay_bin(env, delay_s), 0, 0]))
    return next(e for e in env.events if e["kind"] in ("request", "refused") and e["t"] == t0)


def row14() -> Measurement:
    env = quiet_android(hours=2.0)
    delayed = first_submission(env, "expedited", 60.0)
    prompt = first_submission(env, "expedited", 0.0)
    env_power = make_env(
        "android",
        horizon_days=2.0 / 24.0,
        profile={"request_options": [{"type": "expedited", "requires_power": True}, {"type": "job"}]},
    )
    power = first_submission(env_power, "expedited+power", 0.0)
    try:
        load_scenario("android_commuter", profile={"request_options": [{"type": "expedited", "periodic": True}]})
        periodic = "accepted"
    except ConfigError:
        periodic = "config error"
    budgets = [b for bk in EJ_QUOTA_DOC for b in _ej("android", bk)["ej_budgets_s"]]
    d = {
        "with_delay": (delayed["kind"], delayed.get("reason")),
        "no_delay": (prompt["kind"], prompt.get("reason")),
        "with_power": (power["kind"], power.get("reason")),
        "periodic": periodic,
        "min_budget_s": min(budgets),
        "max_budget_s": max(budgets),
    }
    ok = d["with_delay"] == ("refused", "invalid") and d["with_power"] == ("refused", "invalid")
    ok &= d["no_delay"] == ("request", None) and periodic == "config error" and d["min_budget_s"] >= 180.0
    value = (
        f"with a delay or a power constraint: refused ({delayed.get('reason')}); periodic: {periodic}; "
        f"budgets granted {_fmt_s(d['min_budget_s'])}-{_fmt_s(d['max_budget_s'])}"
    )
    return Measurement(value, d, _yes(ok))


def row15() -> Measurement:
    unplugged = job_run("android", "active")
    charging = job_run("android", "rare", charging=True, hours=24.0)
    budgets = [b for bk in EJ_QUOTA_DOC for b in _ej("android", bk)["ej_budgets_s"]]
    d = {
        "job_budget_unplugged_s": max(w.budget for w in unplugged if w.type == "job"),
        "job_longest_unplugged_s": max(w.length for w in unplugged if w.type == "job"),
        "job_budget_charging_s": max(w.budget for w in charging if w.state["charging"]),
        "job_longest_charging_s": max(w.length for w in charging if w.state["charging"]),
        "ej_min_budget_s": min(budgets),
    }
    ok = d["job_budget_unplugged_s"] == 600.0 and d["job_longest_unplugged_s"] == 600.0
    ok &= d["job_budget_charging_s"] == 1800.0 and d["ej_min_budget_s"] >= 180.0
    value = (
        f"regular job stopped at {_fmt_s(d['job_longest_unplugged_s'])} unplugged, "
        f"{_fmt_s(d['job_longest_charging_s'])} on the charger; expedited ≥ {_fmt_s(d['ej_min_budget_s'])}; "
        "no job priorities (high-priority 5 min not modelled)"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


@functools.cache
def backoff_run(initial_s: float = 30.0, policy: str = "exponential") -> tuple[tuple[int, float], ...]:
    """(attempt, delay from the stop to the retry) of a job that always overruns its 20 s
    budget and is rescheduled by the OS (row 17); the app submits it once."""
    env = quiet_android(
        hours=24.0,
        windows={"job": {"budget_s": 20.0, "launch_rate_per_h": 3.6e6}},
        android={"backoff": {"initial_s": initial_s, "policy": policy}},
    )
    opt = option(env, "job")

    def overrun(env, obs, info):
        if info["phase"] == "background":
            return [opt, delay_bin(env, 3600.0), 0, 0]
        if backlog(env, obs, "heavy") >= 21.0:
            return [0, 0, chunk_bin(env, 20.0), KIND["heavy"]]  # 20.5 s: never fits 20 s
        return [0, 0, 0, 0]

    run(env, 0, overrun)
    ws = windows(*log(env))
    return tuple((w.attempt, round(w.start - prev.end, 1)) for prev, w in itertools.pairwise(ws) if w.attempt > 0)


def row17() -> Measurement:
    exp = backoff_run()
    clamped = backoff_run(initial_s=5.0)
    linear = backoff_run(policy="linear")
    d = {"exponential": list(exp), "initial_5_s": list(clamped), "linear": list(linear)}
    ok = all(x == min(30.0 * 2 ** (n - 1), 18000.0) for n, x in exp) and len(exp) >= 11
    ok &= all(x == min(10.0 * 2 ** (n - 1), 18000.0) for n, x in clamped) and len(clamped) >= 12
    ok &= all(x == min(30.0 * n, 18000.0) for n, x in linear) and len(linear) >= 10
    value = (
        f"exponential: {', '.join(f'{x:g}' for _, x in exp)} s; initial 5 s → "
        f"{', '.join(f'{x:g}' for _, x in clamped[:4])}, … s; linear: {', '.join(f'{x:g}' for _, x in linear[:4])}, … s"
    )
    return Measurement(value, d, _yes(ok))


@functools.cache
def periodic_run(interval_s: float = 60.0, awake: bool = True, hours: float = 6.0) -> dict[str, Any]:
    """A ``periodic+job+network`` request submitted once at t0 (07:00, or 00:00 on the
    charger when ``awake``), each run reporting completion at once."""
    extra: dict[str, Any] = {"start_hour": 0.0, "user": CHARGING_NIGHT} if awake else {}
    env = quiet_android(hours=hours, doze=True, **extra)
    opt = option(env, "periodic+job+network")

    def once(env, obs, info):
        return [opt if info["phase"] == "background" else 0, delay_bin(env, interval_s), 0, 0]

    run(env, 0, once)
    req = next(e for e in env.events if e["kind"] == "request")
    grants = [w.start for w in windows(*log(env))]
    return {"submitted": req["t"], "first_earliest_s": req["earliest_begin_s"] - req["t"], "grants": grants}


def row19() -> Measurement:
    r = periodic_run()
    rel = [g - r["submitted"] for g in r["grants"]]
    per_interval = np.bincount([int(x // 900.0) for x in rel], minlength=int(6 * H // 900)).tolist()
    gaps = np.diff(r["grants"])
    d = {
        "first_earliest_s": r["first_earliest_s"],
        "runs": len(rel),
        "runs_per_interval": per_interval,
        "in_last_flex": sum(1 for x in rel if x % 900.0 >= 600.0 - 1e-6),
        "median_gap_s": float(np.median(gaps)),
        "min_gap_s": float(gaps.min()),
    }
    ok = abs(d["first_earliest_s"] - 600.0) < 1e-6 and set(per_interval) == {1}
    ok &= d["in_last_flex"] >= 0.95 * d["runs"]
    value = (
        f"60 s interval raised to 900 s, flex 300 s: {d['runs']} runs in 6 h, one per 15-min interval, "
        f"{d['in_last_flex']} in the last 5 min; median spacing {_fmt_s(d['median_gap_s'])}"
    )
    return Measurement(value, d, _yes(ok))


@functools.cache
def schedule_burst() -> dict[str, Any]:
    """A window whose app calls schedule() at every 1 ms chunk until one is refused."""
    env = quiet_android(
        hours=2.0,
        workload={"chunk_overhead_s": 0.0, "kinds": {"heavy": {"seconds_per_unit": 0.001}}},
    )
    opt = option(env, "job")
    refused = env.observation_names.index("request_refused")
    state = {"done": False}

    def burst(env, obs, info):
        if info["phase"] == "background":
            return [opt, delay_bin(env, 3600.0), 0, 0]
        if obs[refused] == 1.0:
            state["done"] = True
        if state["done"] or backlog(env, obs, "heavy") < 2.0:
            return [0, 0, 0, 0]
        return [opt, 0, chunk_bin(env, 1.0), KIND["heavy"]]

    run(env, 0, burst)
    calls = [e for e in env.events if e["kind"] in ("request", "refused")]
    first_refusal = next(e for e in calls if e["kind"] == "refused")
    minute = [e for e in calls if first_refusal["t"] - 60.0 < e["t"] <= first_refusal["t"]]
    return {
        "accepted_in_minute": sum(1 for e in minute if e["kind"] == "request"),
        "refusal": (first_refusal["type"], first_refusal["reason"]),
        "max_pending_slots": len({slot_of(env, o) for o in range(1, len(env.action_labels["request"]))}),
    }


def row22() -> Measurement:
    d = dict(schedule_burst())
    ws, limited = alarm_run("active", 2.0, paced=False)  # exact alarms ~0.1 s apart
    d["alarms_before_refusal"] = len(ws)
    d["alarm_requests_rate_limited"] = limited
    ok = d["accepted_in_minute"] == 250 and d["refusal"] == ("job", "rate_limited")
    alarms_counted = limited > 0
    value = (
        f"{d['accepted_in_minute']} schedule() calls accepted in a minute, the next refused ({d['refusal'][1]}); "
        + (
            f"exact alarms count against it too ({d['alarms_before_refusal']} then refused); "
            if alarms_counted
            else f"exact alarms, pushes and foreground services do not ({d['alarms_before_refusal']} alarms accepted); "
        )
        + f"pending jobs: at most one per request slot ({d['max_pending_slots']} slots), so 150 is never reached"
    )
    return Measurement(value, d, DIFFERS if alarms_counted or not ok else PARTIAL)


# ---------------------------------------------------------------------------
# Android Doze, buckets, network, thermal state, Battery Saver (rows 23-36)
# ---------------------------------------------------------------------------
@functools.cache
def doze_run(pending: bool = False, hours: float = 24.0) -> tuple[tuple[dict[str, Any], ...], tuple[Window, ...]]:
    """A phone lying still, unplugged, screen off from t0 (07:00): its Doze events and
    windows. ``pending``: a job+network request is kept pending (each run completes at once)."""
    env = quiet_android(hours=hours, doze=True)
    if pending:
        policy = keeper(env, "job+network")
    else:
        policy = lambda env, obs, info: [0, 0, 0, 0]  # noqa: E731
    run(env, 0, policy)
    evs, t_end = log(env)
    return tuple(e for e in evs if e["kind"] == "doze"), tuple(windows(evs, t_end))


def _doze_schedule(pending: bool) -> dict[str, Any]:
    doze, _ = doze_run(pending)
    t0 = 7 * H
    by = lambda state: [e for e in doze if e["state"] == state]  # noqa: E731
    return {
        "first_state": (doze[0]["state"], doze[0]["t"] - t0),
        "light_idle_at_s": by("light_idle")[0]["t"] - t0,
        "light_idle_s": [e["duration_s"] for e in by("light_idle")],
        "light_maintenance_s": sorted({e["duration_s"] for e in by("light_maintenance")}),
        "deep_idle_at_s": by("deep_idle")[0]["t"] - t0,
        "deep_idle_s": [e["duration_s"] for e in by("deep_idle")],
        "deep_maintenance_s": [e["duration_s"] for e in by("deep_maintenance")],
        "states": [e["state"] for e in doze],
    }


def row23() -> Measurement:
    d = {"no_jobs": _doze_schedule(False), "jobs_pending": _doze_schedule(True)}
    q = d["no_jobs"]
    ok = q["light_idle_at_s"] == 240.0 and q["light_idle_s"][:3] == [300.0, 600.0, 900.0]
    ok &= q["light_maintenance_s"] == [60.0] and d["jobs_pending"]["light_maintenance_s"] == [300.0]
    value = (
        f"light idle {q['light_idle_at_s']:g} s after screen-off, idles "
        f"{', '.join(f'{x / 60:g}' for x in q['light_idle_s'][:4])} min; maintenance "
        f"{q['light_maintenance_s'][0] / 60:g} min ({d['jobs_pending']['light_maintenance_s'][0] / 60:g} min with jobs pending)"
    )
    return Measurement(value, d, _yes(ok))


def row24() -> Measurement:
    d = _doze_schedule(False)
    ok = d["deep_idle_at_s"] == 3900.0
    return Measurement(f"deep Doze {d['deep_idle_at_s'] / 60:g} min after screen-off (still, unplugged)", d, _yes(ok))


def row25() -> Measurement:
    d = _doze_schedule(False)
    ok = d["deep_idle_s"][:4] == [3600.0, 7200.0, 14400.0, 21600.0] and set(d["deep_idle_s"][3:]) == {21600.0}
    ok &= d["deep_maintenance_s"][:2] == [300.0, 600.0] and set(d["deep_maintenance_s"][1:]) == {600.0}
    value = (
        f"deep idles {', '.join(f'{x / H:g}' for x in d['deep_idle_s'])} h; maintenance "
        f"{', '.join(f'{x / 60:g}' for x in d['deep_maintenance_s'])} min"
    )
    return Measurement(value, d, _yes(ok))


def row26() -> Measurement:
    _, ws = doze_run(pending=True)
    by_state: dict[str, int] = {}
    for w in ws:
        by_state[w.state["doze"]] = by_state.get(w.state["doze"], 0) + 1
    d = {"grants_by_doze_state": dict(sorted(by_state.items()))}
    idle = by_state.get("light_idle", 0) + by_state.get("deep_idle", 0)
    maint = by_state.get("light_maintenance", 0) + by_state.get("deep_maintenance", 0)
    ok = idle == 0 and maint > 0
    value = (
        f"job+network kept pending: {idle} runs in Doze idle, {maint} in maintenance windows; "
        "wakelocks and plain alarms not modelled"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


@functools.cache
def bucket_run() -> tuple[tuple[str, float], ...]:
    """(bucket, hours since the last open) of every bucket change of an app last opened
    1 h before t0 and never again, over 9 days."""
    env = quiet_android(hours=9 * 24.0, doze=True, user={"last_open_ago_s": H})
    run(env, 0, lambda env, obs, info: [0, 0, 0, 0])
    last_open = 7 * H - H
    return tuple((e["bucket"], round((e["t"] - last_open) / H, 6)) for e in env.events if e["kind"] == "bucket")


def row31() -> Measurement:
    got = bucket_run()
    d = {"transitions": list(got), "active_after_open_h": got[0][1] if got else math.nan}
    decay = list(got) == [("working_set", 12.0), ("frequent", 24.0), ("rare", 48.0), ("restricted", 192.0)]
    value = (
        f"{', '.join(f'{b} at {h:g} h' for b, h in got)} after the last open; after an open the app stays "
        f"active for {d['active_after_open_h']:g} h (documented: 1 h after an interaction)"
    )
    return Measurement(value, d, MODELLED if decay and d["active_after_open_h"] == 1.0 else DIFFERS)


@functools.cache
def rare_network_runs() -> dict[str, int]:
    out = {}
    for flag in (False, True):
        ws = job_run_custom("rare", 24.0, "job+network", android={"rare_bucket_blocks_network": flag})
        out[f"blocks_network={flag}"] = len(ws)
    return out


def job_run_custom(bucket: str, hours: float, label: str, *, seed: int = 0, **kw: Any) -> list[Window]:
    """Windows of a run that keeps ``label`` pending (each run completes at once)."""
    env = quiet_android(bucket=bucket, hours=hours, **kw)
    run(env, seed, keeper(env, label))
    return windows(*log(env))


def row32() -> Measurement:
    d = dict(rare_network_runs())
    d["oem_profile_blocks"] = load_scenario("android_oem_commuter").profile.android.rare_bucket_blocks_network
    d["stock_profile_blocks"] = load_scenario("android_commuter").profile.android.rare_bucket_blocks_network
    ok = d["blocks_network=True"] == 0 and d["blocks_network=False"] > 0
    value = (
        f"rare bucket, job+network kept pending for 24 h: {d['blocks_network=False']} runs (stock profile), "
        f"{d['blocks_network=True']} with rare_bucket_blocks_network (android-aggressive-oem)"
    )
    return Measurement(value, d, _yes(ok))


@functools.cache
def thermal_run() -> dict[str, dict[str, int]]:
    """Job and expedited requests kept pending on a phone whose thermal state climbs
    often; grants counted by thermal state."""
    env = quiet_android(hours=12.0, thermal={"step_up_per_h": 3.0, "step_down_per_h": 2.0})
    ej, job = option(env, "expedited"), option(env, "job")
    ej_slot = env.observation_names.index(f"pending_slot{slot_of(env, ej)}")
    job_slot = env.observation_names.index(f"pending_slot{slot_of(env, job)}")

    def both(env, obs, info):
        """Keep both requests pending: one is resubmitted at a window's start, the other
        after its one short chunk (1 unit of heavy work), then the window completes."""
        req = ej if obs[ej_slot] == 0.0 else job if obs[job_slot] == 0.0 else 0
        if info["phase"] == "window_start" and backlog(env, obs, "heavy") >= 2.0:
            return [req, 0, chunk_bin(env, 1.0), KIND["heavy"]]
        return [req, 0, 0, 0]

    run(env, 0, both)
    evs, t_end = log(env)
    out: dict[str, dict[str, int]] = {"job": {}, "expedited": {}}
    for w in windows(evs, t_end):
        lvl = w.state["thermal"]
        out[w.type][lvl] = out[w.type].get(lvl, 0) + 1
    hot_s = seconds_in(evs, 7 * H, t_end, "thermal", "level", "nominal")
    out["seconds_at"] = {k: int(hot_s.get(k, 0.0)) for k in ("nominal", "fair", "serious", "critical")}
    return out


def row35() -> Measurement:
    d = thermal_run()
    levels = ("nominal", "fair", "serious", "critical")
    ok = set(d["job"]) == {"nominal", "fair"} and set(d["expedited"]) == {"nominal", "fair", "serious"}
    ok &= d["seconds_at"]["critical"] > 0
    value = (
        f"regular jobs started at {'/'.join(k for k in levels if k in d['job'])}, expedited at "
        f"{'/'.join(k for k in levels if k in d['expedited'])}, none at critical "
        "(bgenv's 4 levels: fair ≈ LIGHT, serious ≈ MODERATE, critical ≈ SEVERE+; no job priorities)"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


@functools.cache
def saver_run() -> dict[str, Any]:
    """Battery Saver on from ~20 % (the user accepts the prompt), other apps on screen
    ~4 times an hour, this app opened ~once an hour for ~10 min; a job request kept pending."""
    env = make_env(
        "android",
        horizon_days=5.0 / 24.0,
        initial_battery=[0.205, 0.205],
        user={
            **ABSENT,
            "low_power_accept_prob": 1.0,
            "screen_sessions_per_hour": [4.0] * 24,
            "app_opens_per_hour": ONE_24,
            "app_session_mean_s": 900.0,
            "last_open_ago_s": 600.0,
        },
        thermal=COOL,
        workload=ENDLESS_HEAVY,
    )
    pol = keeper(env, "job")
    seen: list[float] = []  # net_none read at background decisions with Battery Saver on

    def policy(env, obs, info):
        if info["phase"] == "background" and feature(env, obs, "low_power") == 1.0:
            seen.append(feature(env, obs, "net_none"))
        return pol(env, obs, info)

    run(env, 0, policy)
    evs, t_end = log(env)
    saver = state_timeline(evs, "low_power", "on", False)

    def on_at(t: float) -> bool:
        return [v for tt, v in saver if tt <= t][-1]

    pre = [e for e in evs if e["kind"] == "doze" and e["state"] == "light_pre"]
    ws = windows(evs, t_end)
    return {
        "light_doze_after_s_saver_on": sorted({e["duration_s"] for e in pre if on_at(e["t"])}),
        "light_doze_after_s_saver_off": sorted({e["duration_s"] for e in pre if not on_at(e["t"])}),
        "jobs_saver_on_background": sum(1 for w in ws if w.state["low_power"] and not w.fg and not w.state["charging"]),
        "jobs_saver_on_foreground": sum(1 for w in ws if w.state["low_power"] and w.fg and not w.state["charging"]),
        "jobs_saver_off": sum(1 for w in ws if not w.state["low_power"]),
        "background_decisions_saver_on": len(seen),
        "net_none_share_saver_on": float(np.mean(seen)) if seen else math.nan,
        "on_screen_s_saver_on_job_pending": _on_screen_with_saver(evs, t_end),
    }


def _on_screen_with_saver(evs: Sequence[dict[str, Any]], t_end: float) -> float:
    """Seconds the app spent on screen, unplugged, with Battery Saver on (a job request
    was pending all the time in :func:`saver_run`: the policy resubmits at every decision)."""
    fg = lp = ch = False
    since = 0.0
    tot = 0.0
    for e in [*evs, {"t": t_end, "kind": "end"}]:
        if fg and lp and not ch:
            tot += e["t"] - since
        since = e["t"]
        if e["kind"] == "app_open":
            fg = True
        elif e["kind"] == "app_close":
            fg = False
        elif e["kind"] == "low_power":
            lp = e["on"]
        elif e["kind"] in ("charge_start", "charge_stop"):
            ch = e["kind"] == "charge_start"
    return tot


def row36() -> Measurement:
    d = saver_run()
    ok = d["light_doze_after_s_saver_on"] == [60.0] and d["light_doze_after_s_saver_off"] == [240.0]
    ok &= d["jobs_saver_on_background"] == 0 and d["net_none_share_saver_on"] == 1.0
    fg_blocked = d["jobs_saver_on_foreground"] == 0 and d["on_screen_s_saver_on_job_pending"] > 600.0
    value = (
        f"light Doze {d['light_doze_after_s_saver_on'][0]:g} s after screen-off (240 s without); background "
        "network none; no jobs on battery in the background; "
        + (
            f"none while the app is on screen either ({d['on_screen_s_saver_on_job_pending'] / 60:.0f} min)"
            if fg_blocked
            else f"{d['jobs_saver_on_foreground']} while the app was on screen"
        )
    )
    return Measurement(value, d, DIFFERS if fg_blocked or not ok else MODELLED)


# ---------------------------------------------------------------------------
# iOS (rows 38-50)
# ---------------------------------------------------------------------------
IOS_FAST_PROCESSING = {"launch_rate_per_h": 60.0, "usage_driven": False}  # enough windows to look at


@functools.cache
def ios_refresh_run(days: float = 3.0, seed: int = 0) -> dict[str, Any]:
    """The commuter on iOS: a refresh request resubmitted with a cycling earliest-begin
    delay whenever the app leaves the screen or a window starts; windows work in 5-unit
    chunks until they expire (never reporting completion while work is left)."""
    env = make_env("ios", horizon_days=days, user={"force_quit_prob": 0.0})
    opt = option(env, "refresh")
    cycle = [0.0, 60.0, 300.0, 900.0, 1800.0, 3600.0]
    k = [0]

    def policy(env, obs, info):
        req, d = 0, 0
        if info["phase"] in ("background", "window_start"):
            req, d = opt, delay_bin(env, cycle[k[0] % len(cycle)])
            k[0] += 1
        if info["phase"] in IN_WINDOW:
            m = env.action_masks()
            if m[sum(env.action_space.nvec[:2]) + chunk_bin(env, 5.0)]:  # some kind is workable
                return [req, d, chunk_bin(env, 5.0), KIND["auto"]]
        return [req, d, 0, 0]

    run(env, seed, policy)
    evs, t_end = log(env)
    floors = []
    latest = None
    replaced = 0
    for e in evs:
        if e["kind"] == "request":
            replaced += latest is not None
            latest = e
        elif e["kind"] == "grant":
            floors.append((e["t"], latest["t"], latest["earliest_begin_s"]))
            latest = None
    ws = windows(evs, t_end)
    return {"floors": floors, "windows": ws, "replaced": replaced}


def row38() -> Measurement:
    r = ios_refresh_run()
    ws = [w for w in r["windows"] if w.how != "open"]
    early = [w.budget for w in ws if w.budget <= 5.0]
    d = {
        "windows": len(ws),
        "max_budget_s": max(w.budget for w in ws),
        "min_budget_s": min(w.budget for w in ws),
        "max_length_s": max(w.length for w in ws),
        "early_expiries": len(early),
        "early_range_s": (min(early), max(early)) if early else None,
        "ends": sorted({(w.how, w.reason) for w in ws}),
    }
    ok = d["max_budget_s"] <= 30.0 and d["max_length_s"] <= 30.0 and early and 2.0 <= min(early) <= max(early) <= 5.0
    value = (
        f"{d['windows']} refresh windows: budgets {d['min_budget_s']:.1f}-{d['max_budget_s']:.1f} s "
        f"(30 s × history), {len(early)} early expiries at {d['early_range_s'][0]:.1f}-{d['early_range_s'][1]:.1f} s"
        if early
        else f"{d['windows']} refresh windows, no early expiry"
    )
    return Measurement(value, d, _yes(bool(ok)))


def row42() -> Measurement:
    r = ios_refresh_run()
    margins = [g - floor for g, _, floor in r["floors"]]
    ws = [w for w in r["windows"] if w.how != "open"]
    env = make_env("ios", horizon_days=0.1)
    slots = {o.type: slot_of(env, j + 1) for j, o in enumerate(env.scenario_spec.profile.request_options)}
    d = {
        "grants": len(margins),
        "min_margin_s": min(margins),
        "delayed_grants": sum(1 for g, sub, floor in r["floors"] if floor > sub),
        "replaced_requests": r["replaced"],
        "max_window_s": max(w.length for w in ws),
        "pending_slots": slots,
    }
    ok = d["min_margin_s"] >= 0.0 and d["delayed_grants"] >= 3 and d["max_window_s"] <= 35.0
    value = (
        f"{d['grants']} grants, none before the latest request's earliest begin (min margin "
        f"{d['min_margin_s']:.0f} s, {d['replaced_requests']} requests replaced); longest window "
        f"{d['max_window_s']:.1f} s; pending: 1 refresh + 1 processing (+1 health), not 10 processing"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


def ios_env(
    days: float, *, user: dict | None = None, processing: dict | None = None, profile: dict | None = None, **kw: Any
):
    """iOS, the commuter (never force-quitting), with plenty of heavy work; ``processing``
    overrides the processing window type, ``profile`` other profile keys."""
    prof: dict[str, Any] = dict(profile or {})
    if processing is not None:
        prof["windows"] = {"processing": processing}
    return make_env(
        "ios",
        horizon_days=days,
        user={"force_quit_prob": 0.0, **(user or {})},
        workload={"heavy_per_day": 48.0, "kinds": {"heavy": {"size_units": 500.0}}},
        profile=prof,
        **kw,
    )


@functools.cache
def processing_run(label: str, units: float = 20.0, days: float = 2.0, seed: int = 0, fast: bool = True) -> dict:
    """A processing request (``label``) kept pending by the commuter, who charges every
    night; each window works in ``units``-unit heavy chunks until it ends."""
    env = ios_env(days, user={"overnight_charge_prob": 1.0}, processing=IOS_FAST_PROCESSING if fast else None)
    run(env, seed, keeper(env, label, work=("heavy", units)))
    evs, t_end = log(env)
    ws = [w for w in windows(evs, t_end) if w.type == "processing"]
    screen_on = [e["t"] for e in evs if e["kind"] == "screen" and e["on"]]
    chunks = [e for e in evs if e["kind"] == "chunk"]
    return {"windows": ws, "screen_on": screen_on, "chunks": chunks}


@functools.cache
def processing_recent_use(days_since_open: float) -> int:
    """Processing windows in 2 days for an app last opened ``days_since_open`` days
    before t0 and not opened again (charging every night)."""
    env = ios_env(
        2.0,
        user={**ABSENT, "overnight_charge_prob": 1.0, "last_open_ago_s": days_since_open * DAY},
        processing=IOS_FAST_PROCESSING,
    )
    run(env, 0, keeper(env, "processing+power"))
    return sum(1 for w in windows(*log(env)) if w.type == "processing")


def row39() -> Measurement:
    r = processing_run("processing+power")
    ws = [w for w in r["windows"] if w.how != "open"]
    idle = [w.start - w.state["screen_off_at"] for w in ws]
    user_ends = [w for w in ws if w.reason == "user"]
    d = {
        "windows": len(ws),
        "min_screen_off_before_grant_s": min(idle),
        "screen_on_at_grant": sum(1 for w in ws if w.state["screen"]),
        "ended_by_user": len(user_ends),
        "user_ends_at_screen_on": all(any(abs(w.end - t) < 1e-6 for t in r["screen_on"]) for w in user_ends),
        "budget_s": sorted({w.budget for w in ws}),
        "windows_last_open_1_day": processing_recent_use(1.0),
        "windows_last_open_8_days": processing_recent_use(8.0),
    }
    ok = d["min_screen_off_before_grant_s"] >= 600.0 and d["screen_on_at_grant"] == 0 and d["ended_by_user"] > 0
    ok &= d["user_ends_at_screen_on"] and d["windows_last_open_8_days"] == 0 and d["windows_last_open_1_day"] > 0
    value = (
        f"granted only after ≥ {d['min_screen_off_before_grant_s'] / 60:.0f} min of screen-off, budget "
        f"{d['budget_s'][-1] / 60:g} min; {d['ended_by_user']} stopped the moment the screen came on; app last "
        f"opened 8 days ago: {d['windows_last_open_8_days']} windows (1 day ago: {d['windows_last_open_1_day']})"
    )
    return Measurement(value, d, _yes(ok))


@functools.cache
def processing_power_share(label: str, fast: bool) -> dict[str, float]:
    r = processing_run(label, days=3.0, fast=fast)
    ws = r["windows"]
    return {"windows": len(ws), "share_on_charger": sum(w.state["charging"] for w in ws) / max(1, len(ws))}


def row40() -> Measurement:
    d = {
        "power_yes": processing_power_share("processing+power", True),
        "power_no": processing_power_share("processing", True),
        "power_no_default_rate": processing_power_share("processing", False),
    }
    ok = d["power_yes"]["share_on_charger"] == 1.0 and d["power_no"]["share_on_charger"] >= 0.9
    ok &= d["power_no"]["windows"] > 0
    value = (
        f"requiresExternalPower=YES: {d['power_yes']['share_on_charger']:.0%} of windows on the charger; NO: "
        f"{d['power_no']['share_on_charger']:.0%} ({d['power_no']['windows']} windows; unplugged rate × 0.02)"
    )
    return Measurement(value, d, _yes(ok))


def row41() -> Measurement:
    no = processing_run("processing", units=100.0)
    yes = processing_run("processing+power", units=100.0)
    kills = [w for w in no["windows"] if w.reason == "cpu"]
    d = {
        "cpu_kills": len(kills),
        "kill_after_s": sorted({round(w.length, 6) for w in kills}),
        "saved_100_unit_chunks_no_power": sum(1 for c in no["chunks"] if c["units"] == 100.0 and c["saved"]),
        "cpu_kills_power": sum(1 for w in yes["windows"] if w.reason == "cpu"),
        "saved_100_unit_chunks_power": sum(1 for c in yes["chunks"] if c["units"] == 100.0 and c["saved"]),
    }
    ok = d["cpu_kills"] > 0 and d["kill_after_s"] == [60.0] and d["saved_100_unit_chunks_no_power"] == 0
    ok &= d["cpu_kills_power"] == 0 and d["saved_100_unit_chunks_power"] > 0
    value = (
        f"100 % CPU without requiresExternalPower: {d['cpu_kills']} kills, each after {d['kill_after_s'][0]:g} s; "
        f"with it: {d['cpu_kills_power']} kills"
    )
    return Measurement(value, d, _yes(ok))


@functools.cache
def history_runs(seeds: int = 3, days: float = 3.0) -> dict[str, dict[str, float]]:
    """Refresh windows of an app that never reports completion (always expires) and of
    one that reports it at once."""
    out = {}
    for name in ("expiring", "prompt"):
        n, budgets, expirations = 0, [], 0.0
        for seed in range(seeds):
            env = ios_env(days)
            opt = option(env, "refresh")

            def policy(env, obs, info, name=name, opt=opt):
                if name == "expiring" and info["phase"] in IN_WINDOW and backlog(env, obs, "heavy") >= 21.0:
                    return [opt, 0, chunk_bin(env, 20.0), KIND["heavy"]]
                return [opt, 0, 0, 0]

            m = run(env, seed, policy)
            ws = [w for w in windows(env.events) if w.type == "refresh"]
            n += len(ws)
            budgets += [w.budget for w in ws]
            expirations += m["expirations"]
        out[name] = {"windows": n, "mean_budget_s": float(np.mean(budgets)), "expirations": expirations}
    return out


def row43() -> Measurement:
    d = history_runs()
    e, p = d["expiring"], d["prompt"]
    ok = e["windows"] <= 0.6 * p["windows"] and e["mean_budget_s"] < p["mean_budget_s"] and p["expirations"] == 0
    value = (
        f"never reporting completion: {e['windows']} windows, mean budget {e['mean_budget_s']:.1f} s; reporting "
        f"at once: {p['windows']} windows, {p['mean_budget_s']:.1f} s (3 × 3 days)"
    )
    return Measurement(value, d, _yes(ok))


@functools.cache
def bar_off_run() -> dict[str, Any]:
    env = ios_env(1.0, user={"background_refresh_off_prob": 1.0})
    labels = env.action_labels["request"][1:]
    k = [0]

    def policy(env, obs, info):
        k[0] += 1
        return [1 + k[0] % len(labels), 0, 0, 0]

    run(env, 0, policy)
    refused = [e for e in env.events if e["kind"] == "refused"]
    return {
        "submissions": k[0],
        "refused": len(refused),
        "reasons": sorted({e["reason"] for e in refused}),
        "grants": sum(1 for e in env.events if e["kind"] == "grant"),
    }


@functools.cache
def health_run() -> dict[str, int]:
    """Processing and health-research requests kept pending together (health added to
    the action table by a profile override), completing at once, 3 days."""
    env = ios_env(
        3.0,
        user={"overnight_charge_prob": 1.0},
        profile={"request_options": [{"type": "processing"}, {"type": "health"}]},
    )
    proc, health = keeper(env, "processing"), keeper(env, "health")
    slot = env.observation_names.index(f"pending_slot{slot_of(env, option(env, 'health'))}")

    def both(env, obs, info):
        return health(env, obs, info) if obs[slot] == 0.0 else proc(env, obs, info)

    run(env, 0, both)
    ws = windows(env.events)
    return {t: sum(1 for w in ws if w.type == t) for t in ("processing", "health")}


def row44() -> Measurement:
    d = {"bar_off": bar_off_run(), "health_vs_processing": health_run()}
    b, h = d["bar_off"], d["health_vs_processing"]
    ok = b["refused"] == b["submissions"] and b["reasons"] == ["unavailable"] and b["grants"] == 0
    ok &= h["health"] > h["processing"]
    value = (
        f"Background App Refresh off: {b['refused']}/{b['submissions']} submissions refused ({b['reasons'][0]}); "
        f"health research {h['health']} windows vs processing {h['processing']} (3 days); "
        "BGContinuedProcessingTask not modelled"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


@functools.cache
def low_battery_run(seeds: int = 3) -> dict[str, Any]:
    """Refresh kept pending while the battery runs down from ~30 % to a top-up at 10 %
    (the user never accepts Low Power Mode); the level the app reads at each window."""
    levels: list[tuple[float, bool]] = []
    batt_min = 1.0
    for seed in range(seeds):
        env = ios_env(
            2.0,
            initial_battery=[0.3, 0.35],
            user={
                "low_power_accept_prob": 0.0,
                "overnight_charge_prob": 0.0,
                "plug_at_10_share": 1.0,
                "plug_at_20_share": 0.0,
            },
        )
        opt = option(env, "refresh")

        def policy(env, obs, info, opt=opt):
            if info["phase"] == "window_start":
                levels.append((feature(env, obs, "battery"), feature(env, obs, "charging") == 1.0))
            return [opt, 0, 0, 0]

        m = run(env, seed, policy)
        batt_min = min(batt_min, m["battery_min"])
    below = [b for b, charging in levels if b < 0.2 and not charging]
    return {
        "windows": len(levels),
        "windows_below_20_unplugged": len(below),
        "lowest_unplugged_level": min(b for b, charging in levels if not charging),
        "battery_min": batt_min,
    }


def row46() -> Measurement:
    d = low_battery_run()
    ok = d["windows_below_20_unplugged"] == 0 and d["windows"] > 0 and d["battery_min"] < 0.2
    value = (
        f"{d['windows_below_20_unplugged']} of {d['windows']} refresh windows below 20 % unplugged, at "
        f"{d['lowest_unplugged_level']:.2%} (battery fell to {d['battery_min']:.0%}); Low Power Mode, usage, "
        "force-quit, the switch and energy history gate too (rows 43, 44, 47, 50); no data budget"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


@functools.cache
def low_power_run(seeds: int = 2) -> dict[str, Any]:
    grants_in, grants_out, lpm_s = 0, 0, 0.0
    offs = []
    for seed in range(seeds):
        env = ios_env(
            1.0,
            initial_battery=[0.21, 0.22],
            user={
                "low_power_accept_prob": 1.0,
                "overnight_charge_prob": 1.0,
                "plug_at_10_share": 1.0,
                "plug_at_20_share": 0.0,
            },
        )
        run(env, seed, keeper(env, "refresh"))
        evs, t_end = log(env)
        for w in windows(evs, t_end):
            if w.type == "refresh":
                grants_in += w.state["low_power"]
                grants_out += not w.state["low_power"]
        lpm_s += seconds_in(evs, 7 * H, t_end, "low_power", "on", False).get(True, 0.0)
        offs += [e["battery"] for e in evs if e["kind"] == "low_power" and not e["on"]]
    return {"refresh_in_lpm": grants_in, "refresh_outside": grants_out, "lpm_h": lpm_s / H, "off_at": offs}


def row47() -> Measurement:
    d = low_power_run()
    ok = d["refresh_in_lpm"] == 0 and d["refresh_outside"] > 0 and d["lpm_h"] > 6.0
    ok &= bool(d["off_at"]) and all(abs(x - 0.8) < 1e-3 for x in d["off_at"])
    value = (
        f"{d['refresh_in_lpm']} refresh windows in {d['lpm_h']:.0f} h of Low Power Mode ({d['refresh_outside']} "
        f"outside); it turned off at {', '.join(f'{x:.0%}' for x in d['off_at'])} while charging"
    )
    return Measurement(value, d, _yes(ok))


@functools.cache
def ios_thermal_run() -> dict[str, Any]:
    env = ios_env(
        2.0, user={"overnight_charge_prob": 1.0}, processing=IOS_FAST_PROCESSING, thermal={"step_up_per_h": 1.0}
    )
    run(env, 0, keeper(env, "processing+power", work=("heavy", 20.0)))
    evs, t_end = log(env)
    ws = windows(evs, t_end)
    heat = {e["t"] for e in evs if e["kind"] == "thermal" and e["level"] != "nominal"}
    levels: dict[str, int] = {}
    for w in ws:
        levels[w.state["thermal"]] = levels.get(w.state["thermal"], 0) + 1
    return {
        "grants_by_level": levels,
        "stopped_by_heat": sum(1 for w in ws if w.reason == "constraint" and w.end in heat),
        "hot_h": sum(
            v for k, v in seconds_in(evs, 7 * H, t_end, "thermal", "level", "nominal").items() if k != "nominal"
        )
        / H,
    }


def row48() -> Measurement:
    d = ios_thermal_run()
    ok = set(d["grants_by_level"]) == {"nominal"} and d["stopped_by_heat"] > 0 and d["hot_h"] > 1.0
    value = (
        f"processing windows start only at nominal ({d['grants_by_level'].get('nominal', 0)}, {d['hot_h']:.0f} h "
        f"above it); {d['stopped_by_heat']} stopped when the state rose to fair; slower work at serious/critical "
        "only matters for Android expedited work"
    )
    return Measurement(value, d, _yes(ok))


def ios_upload_env():
    """iOS for one day, always on Wi-Fi, plenty of upload work, refresh windows of a fixed
    120 s (the jetsam experiments of row 49, shared with the tests)."""
    return make_env(
        "ios",
        horizon_days=1.0,
        user={"drops_per_hour": 0.0, "wifi_share": ONE_24, "no_network_share": ZERO_24, "force_quit_prob": 0.0},
        workload={"uploads_per_hour": [4.0] * 24, "kinds": {"upload": {"size_units": 100.0}}},
        profile={
            "windows": {"refresh": {"early_expiry_prob": 0.0, "budget_s": 120.0}},
            "history": {"duration_weight": 0.0},
        },
    )


@functools.cache
def jetsam_run(units: float) -> dict[str, Any]:
    env = ios_upload_env()
    run(env, 0, keeper(env, "refresh", work=("upload", units)))
    evs, t_end = log(env)
    ws = windows(evs, t_end)
    return {
        "kills": sorted((w.reason, round(w.length, 6)) for w in ws if w.how == "kill"),
        "expirations_in_killed": sum(
            1 for e in evs if e["kind"] == "expire" and any(w.start <= e["t"] <= w.end for w in ws if w.how == "kill")
        ),
        "saved_chunks": sum(1 for e in evs if e["kind"] == "chunk" and e["saved"] and e["units"] == units),
    }


def row49() -> Measurement:
    big, small = jetsam_run(50.0), jetsam_run(5.0)
    d = {"chunk_50_units": big, "chunk_5_units": small}
    kill_at = (0.5 + 50 * 1.5) * (50.0 - 25.0) / 75.0  # memory crosses 50 MB part-way through the chunk
    ok = big["kills"] and {r for r, _ in big["kills"]} == {"memory"} and big["expirations_in_killed"] == 0
    ok = bool(ok) and all(abs(x - kill_at) < 1e-6 for _, x in big["kills"]) and big["saved_chunks"] == 0
    ok &= not small["kills"] and small["saved_chunks"] > 0
    value = (
        f"upload chunk of 100 MB (25 + 50 × 1.5): {len(big['kills'])} jetsam kills at {kill_at:.2f} s, no expiration "
        f"callback; 32.5 MB chunks: {small['saved_chunks']} saved, no kill"
    )
    return Measurement(value, d, _yes(ok))


@functools.cache
def force_quit_run(seeds: int = 3) -> dict[str, int]:
    held = after = quits = 0
    for seed in range(seeds):
        env = ios_env(2.0, user={"force_quit_prob": 0.5})
        run(env, seed, lambda env, obs, info: [option(env, "refresh"), 0, 0, 0])
        quit_at = None
        pending = False
        for e in env.events:
            if e["kind"] == "force_quit":
                quit_at, quits, held = e["t"], quits + 1, held + pending
            elif e["kind"] == "app_open":
                quit_at = None
            elif e["kind"] == "request":
                pending = True
            elif e["kind"] == "grant":
                pending = False
                after += quit_at is not None
    return {"force_quits": quits, "with_request_pending": held, "grants_after_quit": after}


def row50() -> Measurement:
    d = force_quit_run()
    ok = d["grants_after_quit"] == 0 and d["with_request_pending"] > 0
    value = (
        f"{d['force_quits']} force-quits ({d['with_request_pending']} with a refresh pending): "
        f"{d['grants_after_quit']} windows until the app was opened again"
    )
    return Measurement(value, d, _yes(ok))


# ---------------------------------------------------------------------------
# Push messages, exact alarms, foreground services (rows 27-29, 33, 34, 37, 45)
# ---------------------------------------------------------------------------
@functools.cache
def push_exemption_run(job_delay_s: float) -> dict[str, Any]:
    """Still phone, Doze on: a high-priority push (with a notification) arrives 4 h after
    t0, deep in Doze; its window schedules a job+network ``job_delay_s`` later."""
    env = quiet_android(hours=10.0, doze=True, user={"last_open_ago_s": 600.0})
    push, job = option(env, "push+notification"), option(env, "job+network")

    def policy(env, obs, info):
        if info["phase"] == "background":
            return [push, delay_bin(env, 14400.0), 0, 0]
        if feature(env, obs, "window_push") > 0.5:
            return [job, delay_bin(env, job_delay_s), 0, 0]
        return [0, 0, 0, 0]

    run(env, 0, policy)
    ws = windows(*log(env))
    p = next(w for w in ws if w.type == "push")
    j = next((w for w in ws if w.type == "job"), None)
    return {
        "doze_at_push": p.state["doze"],
        "job_after_push_s": (j.start - p.start) if j else math.nan,
        "doze_at_job": j.state["doze"] if j else None,
    }


def row27() -> Measurement:
    d = {f"job_{int(x)}_s_after": push_exemption_run(x) for x in (0.0, 300.0, 900.0)}
    now, edge, later = d["job_0_s_after"], d["job_300_s_after"], d["job_900_s_after"]
    ok = now["doze_at_push"] == "deep_idle" and now["doze_at_job"] == "deep_idle" and now["job_after_push_s"] < 300.0
    ok &= later["doze_at_job"] == "deep_maintenance"
    edge_ok = edge["doze_at_job"] != "deep_idle"
    value = (
        f"push in deep Doze: a job scheduled from it ran {now['job_after_push_s']:.0f} s later, still in deep idle; "
        f"jobs eligible 300 s (as the exemption ends) or 900 s after it waited for the maintenance window "
        f"({edge['job_after_push_s'] / 60:.0f} and {later['job_after_push_s'] / 60:.0f} min)"
    )
    return Measurement(value, d, MODELLED if ok and edge_ok else DIFFERS)


ALARM_DOC = {"active": 720, "working_set": 10, "frequent": 2, "rare": 1, "restricted": 1}


PACED_ALARMS = {"alarm": {"launch_rate_per_h": 1800.0}}  # ~2 s apart: under 250 schedule() calls a minute


@functools.cache
def alarm_run(bucket: str, hours: float, doze: bool = False, paced: bool = True) -> tuple[tuple[Window, ...], int]:
    """Alarm windows of a run that keeps an exact alarm pending (each completes at
    once), and how many alarm requests were refused by the schedule() rate limit."""
    env = quiet_android(bucket=bucket, hours=hours, doze=doze, windows=PACED_ALARMS if paced else None)
    run(env, 0, keeper(env, "alarm"))
    limited = sum(1 for e in env.events if e["kind"] == "refused" and e["reason"] == "rate_limited")
    return tuple(w for w in windows(*log(env)) if w.type == "alarm"), limited


def row28() -> Measurement:
    hours = {"active": 2.0, "working_set": 3.0, "frequent": 3.0, "rare": 3.0, "restricted": 30.0}
    d = {}
    for b, h in hours.items():
        starts = [w.start for w in alarm_run(b, h)[0]]
        d[b] = max_rolling_count(starts, DAY if b == "restricted" else H)
    ok = d == ALARM_DOC
    value = (
        ", ".join(f"{b} {n}" for b, n in d.items() if b != "restricted") + f" per hour; restricted {d['restricted']}"
    )
    return Measurement(value + " per 24 h (exact alarms kept pending, ~2 s apart)", d, _yes(ok))


def row29() -> Measurement:
    ws = alarm_run("active", 12.0, doze=True)[0]
    idle = [w.start for w in ws if w.state["doze"] in ("light_idle", "deep_idle")]
    d = {"alarms_in_idle": len(idle), "max_per_hour_in_idle": max_rolling_count(idle, H)}
    ok = d["max_per_hour_in_idle"] == 72
    return Measurement(f"at most {d['max_per_hour_in_idle']} alarms per hour while in Doze idle", d, _yes(ok))


PUSH_CAP_DOC = {"frequent": 10, "rare": 5, "restricted": 5}


@functools.cache
def push_run(bucket: str, label: str, hours: float) -> tuple[Window, ...]:
    env = quiet_android(bucket=bucket, hours=hours)
    run(env, 0, keeper(env, label))
    return tuple(w for w in windows(*log(env)) if w.type.startswith("push"))


def row33() -> Measurement:
    hours = {"frequent": 22.0, "rare": 30.0, "restricted": 30.0}
    d = {}
    for b, h in hours.items():
        ws = push_run(b, "push+notification", h)
        d[b] = {
            "max_high_per_24h": max_rolling_count([w.start for w in ws if w.type == "push"], DAY),
            "normal": sum(1 for w in ws if w.type == "push_normal"),
        }
    ws = push_run("active", "push+notification", 6.0)
    d["active"] = {"high": sum(1 for w in ws if w.type == "push"), "normal": sum(1 for w in ws if w.type != "push")}
    ok = all(d[b]["max_high_per_24h"] == n and d[b]["normal"] > 0 for b, n in PUSH_CAP_DOC.items())
    ok &= d["active"]["normal"] == 0
    value = ", ".join(f"{b} {d[b]['max_high_per_24h']}" for b in PUSH_CAP_DOC)
    value += " high-priority per day, then normal priority; active: uncapped"
    return Measurement(value, d, _yes(ok))


def row34() -> Measurement:
    silent = push_run("active", "push", 6.0)
    shown = push_run("active", "push+notification", 6.0)
    types = [w.type for w in silent]
    first_normal = types.index("push_normal") if "push_normal" in types else None
    d = {
        "high_before_downgrade": first_normal,
        "normal_after": types.count("push_normal"),
        "high_after_downgrade": types[first_normal:].count("push") if first_normal is not None else 0,
        "with_notification_normal": sum(1 for w in shown if w.type == "push_normal"),
    }
    ok = first_normal is not None and d["high_after_downgrade"] == 0 and d["with_notification_normal"] == 0
    value = (
        f"no notification: {first_normal} high-priority pushes, then all normal priority (7-day decayed count); "
        f"with a notification: {d['with_notification_normal']} downgraded"
    )
    return Measurement(value, d, _yes(ok))


@functools.cache
def fgs_run() -> dict[str, Any]:
    """A user who opens the app a few times between 07:00 and 08:00 only: a foreground
    service is started on leaving the app and works until it ends; a job window also
    tries to start one from the background."""
    opens = [0.0] * 24
    opens[7] = 3.0
    env = quiet_android(hours=24.0, user={"app_opens_per_hour": opens, "last_open_ago_s": 600.0})
    fgs, job = option(env, "fgs"), option(env, "job")
    state = {"started": False}

    def policy(env, obs, info):
        if info["phase"] == "background":
            if info["t"] == 7 * H:
                return [job, delay_bin(env, 0.0), 0, 0]  # t0: the app was not just left
            if not state["started"]:
                state["started"] = True
                return [fgs, 0, 0, 0]
            return [0, 0, 0, 0]
        if feature(env, obs, "window_job") > 0.5:
            return [fgs, 0, 0, 0]  # from a job window: the app is in the background
        if backlog(env, obs, "heavy") >= 51.0:
            return [0, 0, chunk_bin(env, 50.0), KIND["heavy"]]
        return [0, 0, 0, 0]

    run(env, 0, policy)
    evs, t_end = log(env)
    fg = [w for w in windows(evs, t_end) if w.type == "fgs"]
    refused = [e["reason"] for e in evs if e["kind"] == "refused" and e["type"] == "fgs"]
    return {
        "refused_from_background": sorted(set(refused)),
        "fgs_windows": [(round(w.budget, 3), round(w.length, 3), w.how, w.reason) for w in fg],
    }


def row37() -> Measurement:
    d = fgs_run()
    ok = d["refused_from_background"] == ["background_start"] and d["fgs_windows"]
    ok = bool(ok) and d["fgs_windows"][0][0] == 21600.0 and d["fgs_windows"][0][1] <= 21600.0
    first = d["fgs_windows"][0] if d["fgs_windows"] else (0, 0, "", "")
    value = (
        f"from the background: refused ({', '.join(d['refused_from_background'])}); on leaving the app: budget "
        f"{first[0] / H:g} h, ended after {first[1] / H:.2f} h ({first[2]})"
    )
    return Measurement(value, d, _yes(ok))


@functools.cache
def silent_push_run() -> dict[str, Any]:
    env = make_env("ios", horizon_days=2.0, user={"force_quit_prob": 0.0})
    run(env, 0, keeper(env, "push"))  # resubmitted at every decision (a dropped push waits for the next)
    evs, t_end = log(env)
    ws = [w for w in windows(evs, t_end) if w.type == "push"]
    dropped = [e for e in evs if e["kind"] == "refused" and e["reason"] == "push_dropped"]
    return {
        "delivered": len(ws),
        "dropped": len(dropped),
        "max_per_hour": max_rolling_count([w.start for w in ws], H),
        "budgets_s": sorted({round(w.budget, 3) for w in ws}),
    }


def row45() -> Measurement:
    d = silent_push_run()
    ok = d["max_per_hour"] == 3 and d["dropped"] > 0 and max(d["budgets_s"]) <= 30.0
    value = (
        f"at most {d['max_per_hour']} silent pushes per hour, {d['dropped']} of {d['dropped'] + d['delivered']} "
        f"never delivered, {'-'.join(f'{b:g}' for b in sorted({min(d['budgets_s']), max(d['budgets_s'])}))} s to "
        "handle; energy use does not change the push rate"
    )
    return Measurement(value, d, PARTIAL if ok else DIFFERS)


# ---------------------------------------------------------------------------
# Observed behaviour developers complain about (the list at the end of PLATFORM_FACTS.md)
# ---------------------------------------------------------------------------
@functools.cache
def refresh_per_day(scenario: str, delay_s: float = 0.0, days: float = 7.0) -> float:
    """Refresh windows per day for an app that keeps a refresh request pending (submitted
    with an earliest begin ``delay_s`` ahead) and reports completion at once."""
    env = gym.make(ENV_ID["ios"], scenario=scenario, record_events=True, horizon_days=days).unwrapped
    m = run(env, 0, keeper(env, "refresh", delay_s=delay_s))
    return m["windows_refresh"] / days


def obs1() -> Measurement:
    d = {
        "ios_commuter": refresh_per_day("ios_commuter"),
        "ios_commuter_15_min_floor": refresh_per_day("ios_commuter", 900.0),
        "ios_rare": refresh_per_day("ios_rare"),
    }
    ok = d["ios_commuter"] <= 3.0
    value = (
        f"a refresh always pending, 7 days: commuter (8 opens/day) {d['ios_commuter']:.1f} windows/day "
        f"({d['ios_commuter_15_min_floor']:.1f} with a 15-min earliest begin), rare user {d['ios_rare']:.1f}/day"
    )
    return Measurement(value, d, _yes(ok))


def obs2() -> Measurement:
    d = processing_power_share("processing", False)
    ok = d["share_on_charger"] >= 0.9 if d["windows"] else True
    value = (
        f"requiresExternalPower = NO, default launch rate: {d['windows']} window(s) in 3 days, "
        f"{d['share_on_charger']:.0%} on the charger"
    )
    return Measurement(value, d, _yes(ok))


def obs3() -> Measurement:
    cpu, refresh = row41(), row38()
    d = {"cpu_kill_after_s": cpu.data["kill_after_s"], "early_refresh_expiry_s": refresh.data["early_range_s"]}
    ok = cpu.status == MODELLED and refresh.status == MODELLED
    value = f"processing CPU-killed after {d['cpu_kill_after_s'][0]:g} s; early refresh expiries at " + (
        f"{d['early_refresh_expiry_s'][0]:.1f}-{d['early_refresh_expiry_s'][1]:.1f} s (rows 41, 38)"
    )
    return Measurement(value, d, _yes(ok))


def obs4() -> Measurement:
    mem, fq = row49(), row50()
    d = {"memory": mem.data, "force_quit": fq.data}
    ok = mem.status == MODELLED and fq.status == MODELLED
    value = (
        f"jetsam at 50 MB with no expiration callback; after a force-quit {fq.data['grants_after_quit']} windows "
        "until the next open (rows 49, 50)"
    )
    return Measurement(value, d, _yes(ok))


def obs5() -> Measurement:
    r = periodic_run(interval_s=900.0, awake=False, hours=24.0)
    gaps = [round(float(g) / H, 2) for g in np.diff(r["grants"])]
    long_gaps = [g for g in gaps if g > 0.5]
    d = {"runs": len(r["grants"]), "gaps_over_30_min_h": long_gaps}
    ok = len(long_gaps) >= 3 and long_gaps[:3] == sorted(long_gaps[:3]) and long_gaps[0] >= 1.0
    value = (
        f"15-min periodic job on a phone left still, unplugged: {len(r['grants'])} runs in 24 h, gaps of "
        f"{', '.join(f'{g:.1f}' for g in long_gaps)} h"
    )
    return Measurement(value, d, _yes(ok))


@functools.cache
def oem_run(profile: str) -> dict[str, Any]:
    env = make_env(profile, horizon_days=2.0, user={"force_quit_prob": 0.0}, workload=ENDLESS_HEAVY)
    run(env, 0, keeper(env, "job", work=("heavy", 20.0)))
    ws = windows(*log(env))
    return {
        "windows": len(ws),
        "unplugged_long_after_open": sum(
            1 for w in ws if not w.state["charging"] and not w.fg and w.start - w.state["last_open"] > 600.0
        ),
        "oem_kills": sum(1 for w in ws if w.reason == "oem"),
    }


def obs6() -> Measurement:
    d = {"android": oem_run("android"), "android-aggressive-oem": oem_run("android-aggressive-oem")}
    oem = d["android-aggressive-oem"]
    ok = oem["unplugged_long_after_open"] == 0 and oem["oem_kills"] > 0
    ok &= d["android"]["unplugged_long_after_open"] > 0 and d["android"]["oem_kills"] == 0
    value = (
        f"android-aggressive-oem: {oem['oem_kills']} jobs killed 10 min after the app was left, no job started "
        f"unplugged later than that (stock profile: {d['android']['unplugged_long_after_open']} such jobs)"
    )
    return Measurement(value, d, _yes(ok))


def obs7() -> Measurement:
    d = {"job_timeout_s": row15().data["job_longest_unplugged_s"], "expedited_max_s": row14().data["max_budget_s"]}
    ok = d["job_timeout_s"] == 600.0 and d["expedited_max_s"] <= 330.0
    value = (
        f"regular jobs stopped at {_fmt_s(d['job_timeout_s'])}; expedited jobs run up to "
        f"{_fmt_s(d['expedited_max_s'])} while their quota lasts (observed: cut at ~5 min)"
    )
    return Measurement(value, d, _yes(ok))


def obs8() -> Measurement:
    r = periodic_run(interval_s=0.0)
    gaps = np.diff(r["grants"])
    d = {"first_earliest_s": r["first_earliest_s"], "median_gap_s": float(np.median(gaps)), "runs_in_6h": len(gaps) + 1}
    ok = d["first_earliest_s"] == 600.0 and 840.0 <= d["median_gap_s"] <= 960.0
    value = f"a 0-s periodic request runs every {d['median_gap_s'] / 60:.0f} min ({d['runs_in_6h']} runs in 6 h)"
    return Measurement(value, d, _yes(ok))


def obs9() -> Measurement:
    m = row34()
    return Measurement(m.value + " (row 34)", m.data, m.status)


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------
FACTS: tuple[Fact, ...] = (
    Fact(1, "Job time quota per standby bucket",
         "10 min per rolling window: Active unlimited, Working 2 h, Frequent 8 h, Rare 24 h, Restricted 24 h",
         "`android.quota_s`, `android.quota_window_h` (scheduler.quota_gate)",
         "test_row_01_rare_bucket_on_battery_holds_10_min_and_3_sessions_per_24h", row01),
    Fact(2, "Android 16 quota changes",
         "Active 20 min per 60 min; Working window 4 h; Frequent 12 h; Rare/Restricted unchanged",
         "profile `android-16`: `android.quota_s`, `android.quota_window_h`",
         "test_row_02_android_16_quota_windows", row02),
    Fact(3, "Jobs started on screen / with a foreground service",
         "not counted against quota before 16; counted from 16",
         "`android.count_foreground_jobs` (windows.grant_window)",
         "test_row_03_on_screen_jobs_count_from_android_16", row03),
    Fact(4, "Total job time cap, all buckets", "4 h per 24 h",
         "`android.total_cap_s`, `android.total_cap_window_h`",
         "test_row_04_total_cap_4_h_per_24_h", row04),
    Fact(5, "Job count per window", "Active 75, Working 120, Frequent 200, Rare 48, Restricted 10",
         "`android.job_count` (one window at a time, no concurrent jobs)",
         "test_row_05_job_counts_per_window", row05),
    Fact(6, "Session count per window (jobs < 5 s apart merge)",
         "Active 75, Working 10, Frequent 8, Rare 3, Restricted 1",
         "`android.session_count`, `android.session_gap_s`",
         "test_row_06_session_counts_per_window", row06),
    Fact(7, "Rate limit, every bucket", "20 jobs and 20 sessions per minute", "`android.rate_per_minute`",
         "test_row_07_rate_limit_20_jobs_per_minute", row07),
    Fact(8, "Back-in-quota buffer", "≥ 30 s of quota needed before jobs resume", "`android.quota_buffer_s`",
         "test_row_08_jobs_resume_with_30_s_of_quota", row08),
    Fact(9, "Quota waived", "while charging", "`android.charging_waives_quota`, `android.run_limit_waived_s`",
         "test_row_09_10_charging_lifts_the_quota_but_not_restricted_rules", row09),
    Fact(10, "Restricted bucket out of quota",
         "job needs charging + idle + battery-not-low (+ network if requested)",
         "scheduler.launch_rate restricted rule: charging, `idle_after_screen_off_s`, `low_battery_level`",
         "test_row_09_10_charging_lifts_the_quota_but_not_restricted_rules", row10),
    Fact(11, "Expedited-job quota per 24 h", "Active 30 min, Working 30 (16: 15), Frequent 10, Rare 10, Restricted 5",
         "`android.expedited_quota_s`, `android.expedited_window_h`",
         "test_row_11_expedited_quota_per_bucket", row11),
    Fact(12, "Expedited quota refill", "+10 s per 30 s on screen; +15 s per interaction",
         "`android.expedited_refill_per_screen_s`, `android.expedited_refill_per_open_s` (scheduler.ej_earn)",
         "test_row_12_expedited_quota_refill", row12),
    Fact(13, "Expedited job out of quota", "runs as a regular job, or schedule() fails",
         "scheduler.effective_type (`android.expedited_min_s`)",
         "test_row_13_14_expedited_rules_and_fallback", row13),
    Fact(14, "Expedited job rules",
         "network/storage constraints only; no delay, not periodic; guaranteed ≥ 3 min",
         "windows.submit_request (refused `invalid`), config: periodic only for `job`; `android.expedited_min_s`",
         "test_row_13_14_expedited_rules_and_fallback", row14),
    Fact(15, "Per-job run time",
         "10 min; 12+: regular 10 min, high-priority 5 min, expedited 3 min; up to 30 min when quota waived",
         "`windows.job.budget_s`, `android.run_limit_waived_s`, `android.expedited_min_s`",
         "test_row_15_per_job_run_time", row15),
    Fact(17, "Backoff",
         "exponential 30 s default; min 10 s; max 5 h; linear init·n, exponential init·2^(n−1); clamped",
         "`android.backoff`, `android.reschedule_on_stop`",
         "test_row_17_backoff_delays", row17),
    Fact(19, "Periodic minimum and flex",
         "interval ≥ 15 min; flex ≥ max(5 min, 5 %); raised silently; runs once in the last flex of each interval",
         "`android.periodic_min_interval_s`, `android.flex_min_s`, `android.flex_min_fraction`; option `periodic`",
         "test_row_19_one_minute_periodic_runs_every_15_minutes", row19),
    Fact(22, "Hard limits", "150 pending jobs; 250 schedule() calls per minute, then an exception",
         "`android.schedule_per_minute` (refused `rate_limited`); one pending request per slot",
         "test_row_22_schedule_rate_limit", row22),
    Fact(23, "Light Doze", "~60 s after screen-off (+3 min pre-idle); idle 5 → 10 → 15 min; maintenance 1–5 min",
         "`android.doze.light_after_s`, `light_idle_s`, `light_maintenance_s`",
         "test_row_23_24_25_doze_schedule_of_a_still_phone", row23),
    Fact(24, "Deep Doze entry", "stationary, unplugged, screen off ≈ 65 min", "`android.doze.deep_after_s`",
         "test_row_23_24_25_doze_schedule_of_a_still_phone", row24),
    Fact(25, "Deep Doze schedule", "idle 1 h → 2 h → 4 h → 6 h, then every 6 h; maintenance 5 → 10 min",
         "`android.doze.deep_idle_s`, `android.doze.deep_maintenance_s`",
         "test_row_23_24_25_doze_schedule_of_a_still_phone", row25),
    Fact(26, "Doze effects", "network off, wakelocks ignored, jobs and alarms held until a maintenance window",
         "scheduler.launch_rate / effective_net; `windows.*.doze_exempt`",
         "test_row_26_jobs_wait_for_maintenance_windows", row26),
    Fact(27, "Temporary Doze exemption", "high-priority push: up to 5 min", "`android.push_doze_exemption_s`",
         "test_row_27_push_opens_a_5_minute_doze_exemption", row27, needs_types=("push",)),
    Fact(28, "Alarms per hour by bucket", "Active 720, Working 10, Frequent 2, Rare 1; Restricted 1 per 24 h",
         "`android.alarms_per_window`, `android.alarm_window_h`",
         "test_row_28_29_alarm_limits", row28, needs_types=("alarm",)),
    Fact(29, "Alarms during Doze", "72 per hour (targets 12+)", "`android.alarms_per_hour_in_doze`",
         "test_row_28_29_alarm_limits", row29, needs_types=("alarm",)),
    Fact(31, "Bucket decay with no usage",
         "Active → Working 12 h → Frequent 24 h → Rare 48 h → Restricted 8 days; an interaction = Active for 1 h",
         "`android.bucket_after_h` (hours since the last app open)",
         "test_row_31_bucket_decay", row31),
    Fact(32, "Network in Rare and below", "background network may be blocked",
         "`android.rare_bucket_blocks_network` (off on stock, on in `android-aggressive-oem`)",
         "test_row_32_rare_bucket_network_block", row32),
    Fact(33, "High-priority push caps", "Frequent 10/day, Rare 5/day, Restricted 5/day; over → normal priority",
         "`android.push_caps_per_day`", "test_row_33_34_push_caps_and_downgrade", row33, needs_types=("push",)),
    Fact(34, "High-priority push downgrade", "no notification shown → normal priority (7-day history)",
         "`android.push_downgrade_after`", "test_row_33_34_push_caps_and_downgrade", row34, needs_types=("push",)),
    Fact(35, "Thermal limits on jobs",
         "LIGHT blocks low-priority jobs; MODERATE only expedited and running high-priority; SEVERE+ no jobs",
         "`windows.job.thermal_max: fair`, `windows.expedited.thermal_max: serious`; `thermal.*`",
         "test_row_35_thermal_limits_on_jobs", row35),
    Fact(36, "Battery Saver",
         "background apps treated as Restricted; background network blocked; Doze ~60 s after screen-off",
         "`low_power_on_level`, `android.doze.battery_saver_light_after_s`; restricted rule, effective_net",
         "test_row_36_battery_saver", row36),
    Fact(37, "Foreground services", "can't start from background (12+); dataSync 6 h per 24 h (15+), then onTimeout",
         "`android.fgs_quota_s`, `android.fgs_window_h`, `android.fgs_start_grace_s`",
         "test_row_37_foreground_service", row37, needs_types=("fgs",)),
    Fact(38, "BGAppRefreshTask run time", "up to ~30 s; production reports of expiry after 2–5 s",
         "`windows.refresh.budget_s`, `early_expiry_prob`, `early_expiry_range_s`; `history.duration_weight`",
         "test_row_38_42_refresh_floor_and_run_time", row38),
    Fact(39, "BGProcessingTask",
         "minutes, only while idle; stopped when the user starts using the device; needs use in the past week",
         "`windows.processing.needs_idle`, `budget_s`; `idle_after_screen_off_s`; `ios.processing_recent_use_days`",
         "test_row_39_processing_only_while_idle", row39),
    Fact(40, "requiresExternalPower / requiresNetworkConnectivity",
         "default NO; power = YES: only on external power, no CPU monitor; NO: the system may still wait for power",
         "request options `requires_power`/`requires_network`; `windows.processing.unplugged_rate_mult`",
         "test_row_40_41_external_power_and_cpu_monitor", row40),
    Fact(41, "CPU monitor", "processing without external power killed at 80 % CPU over 60 s",
         "`ios.cpu_kill_s`, `ios.cpu_kill_fraction`",
         "test_row_40_41_external_power_and_cpu_monitor", row41),
    Fact(42, "earliestBeginDate, pending requests",
         "a floor, never a target; ≤ 1 refresh + 10 processing pending; resubmitting replaces and resets the timer",
         "windows.submit_request; one pending request per slot (config.DEFAULT_SLOT)",
         "test_row_38_42_refresh_floor_and_run_time", row42),
    Fact(43, "setTaskCompleted not called",
         "the system may kill the app; task marked unsuccessful; future scheduling degraded",
         "`history.expiration_loss`, `kill_loss`, `rate_exponent`, `duration_weight`; `grace_s`",
         "test_row_43_not_completing_degrades_scheduling", row43),
    Fact(44, "Scheduling errors, newer types",
         "`unavailable` when BAR is off; BGHealthResearchTask = processing with elevated priority; "
         "BGContinuedProcessingTask starts at once",
         "user `background_refresh_off_prob` (refused `unavailable`); `windows.health`",
         "test_row_44_background_app_refresh_off_and_health", row44),
    Fact(45, "Silent push",
         "low priority, no delivery guarantee, 2–3 per hour; 30 s to handle; heavy energy use → fewer wakes",
         "`ios.silent_push_per_hour`, `ios.silent_push_drop_prob`, `windows.push.budget_s`",
         "test_row_45_silent_push", row45, needs_types=("push",)),
    Fact(46, "What gates background runs",
         "battery < 20 %, Low Power Mode, usage, force-quit, BAR switch, energy and data budgets, rate limiting",
         "`low_battery_level`, `low_battery_gate` (and rows 43, 44, 47, 50)",
         "test_row_46_low_battery_gate", row46),
    Fact(47, "Low Power Mode", "pauses discretionary work incl. networking and app refresh; off at ~80 %",
         "`windows.*.blocked_by_low_power`, `low_power_off_level`",
         "test_row_47_no_refresh_in_low_power_mode", row47),
    Fact(48, "Thermal states", "fair: non-urgent background work stops; serious: reduced; critical: minimum",
         "`windows.*.thermal_max: nominal`; `thermal.speed_serious`, `thermal.speed_critical`",
         "test_row_48_ios_thermal_state", row48),
    Fact(49, "Memory", "no per-task limit; jetsam the most common kill; aim < 50 MB; no expiration callback",
         "`memory_limit_mb`; workload `base_memory_mb`, `memory_mb_per_unit`",
         "test_row_49_jetsam", row49),
    Fact(50, "Force-quit", "swiping the app away stops its background tasks", "`force_quit_stops_work`",
         "test_row_50_force_quit", row50),
)  # fmt: skip

OBSERVED: tuple[Fact, ...] = (
    Fact("O1", "iOS tasks fire rarely in production", "1–2 a day, sometimes none; warms up over days of use",
         "`windows.refresh.launch_rate_per_h`, `usage_driven`; `history.*`", "test_observed_ios_refresh_rate", obs1),
    Fact("O2", "iOS processing only while charging", "even with requiresExternalPower = NO",
         "`windows.processing.unplugged_rate_mult`", "test_row_40_41_external_power_and_cpu_monitor", obs2),
    Fact("O3", "Processing CPU-killed, refresh expiring early", "after about a minute; after 2–5 s",
         "rows 41, 38", "test_row_40_41_external_power_and_cpu_monitor", obs3),
    Fact("O4", "Memory kills and force-quit", "killed at tens of MB; force-quit ends scheduling", "rows 49, 50",
         "test_row_49_jetsam", obs4),
    Fact("O5", "Android periodic work stalls overnight", "gaps of 1, 2, 4 h (the Doze schedule)", "rows 19, 25",
         "test_observed_periodic_work_stalls_in_doze", obs5),
    Fact("O6", "OEM battery killers stop WorkManager", "even with battery optimisation disabled",
         "profile `android-aggressive-oem`: `android.oem_killer`, `android.oem_recent_open_s`",
         "test_observed_oem_killer", obs6),
    Fact("O7", "Hard job timeouts", "10-minute job timeouts; expedited syncs cut at about 5 minutes", "row 15",
         "test_row_15_per_job_run_time", obs7),
    Fact("O8", "Short periodic intervals raised", "a 10-second periodic request silently becomes 15 minutes",
         "row 19", "test_row_19_one_minute_periodic_runs_every_15_minutes", obs8),
    Fact("O9", "High-priority push downgraded", "silently, when no notification is shown", "row 34",
         "test_row_33_34_push_caps_and_downgrade", obs9, needs_types=("push",)),
)  # fmt: skip

ALL_FACTS: tuple[Fact, ...] = FACTS + OBSERVED
MISSING_ROWS = (16, 18, 20, 21, 30)  # PLATFORM_FACTS.md has no such rows


def fact(row: int | str) -> Fact:
    return next(f for f in ALL_FACTS if f.row == row)


# ---------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------
def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render(results: dict[int | str, Measurement] | None = None, facts: Sequence[Fact] = ALL_FACTS) -> str:
    """The markdown table of ``facts`` (evaluating them unless ``results`` has them)."""
    results = dict(results or {})
    for f in facts:
        if f.row not in results:
            results[f.row] = f.evaluate()
    counts = {s: sum(1 for f in facts if results[f.row].status == s) for s in STATUSES}
    head = (
        "# bgenv platform-fidelity table\n\n"
        f"Generated by `{REGENERATE}` (`make fidelity`) from small simulations of bgenv; do not edit by hand. "
        f"Regenerate with `{REGENERATE}`. The measured column comes from the experiments in `bgenv/fidelity.py` "
        f"(fixed seeds), which `{TEST_FILE}` runs too and asserts on. Rows are those of PLATFORM_FACTS.md "
        f"(it has no rows {', '.join(map(str, MISSING_ROWS))}); the `O` rows are its list of observed behaviour.\n\n"
        "Statuses: **modelled** (the measurement agrees with the documented value), **partial** (what bgenv "
        "models agrees; part of the fact is not modelled), **differs** (bgenv differs from the documented value: "
        "a known mismatch or a simulator bug, described in the measured value), **not modelled** / "
        "**not modelled yet** (no simulation; the reason is given).\n\n"
        + ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
        + f" ({len(facts)} rows).\n"
    )
    cols = ["Row", "Fact", "Documented value", "How bgenv models it", "Test", "Measured value", "Status"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for f in facts:
        m = results[f.row]
        test = f"`{f.node_id}`" if f.test else "—"
        cells = [str(f.row), f.fact, f.documented, f.model, test, m.value, m.status]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    sections = [head]
    numbered = [ln for ln, f in zip(lines[2:], facts) if isinstance(f.row, int)]
    observed = [ln for ln, f in zip(lines[2:], facts) if not isinstance(f.row, int)]
    if numbered:
        sections.append("## Platform facts\n\n" + "\n".join([*lines[:2], *numbered]) + "\n")
    if observed:
        sections.append("## Observed behaviour\n\n" + "\n".join([*lines[:2], *observed]) + "\n")
    return "\n".join(sections)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", default=None, help="where to write the table (default: docs/fidelity.md of the source tree)"
    )
    p.add_argument(
        "--rows",
        default=None,
        help="comma-separated rows to run (e.g. 1,6,O5); prints the table and writes it only with --out",
    )


def main(argv: Sequence[str] | None = None, *, args: argparse.Namespace | None = None) -> int:
    """``bgenv fidelity``: run every experiment and write ``docs/fidelity.md``."""
    if args is None:
        p = argparse.ArgumentParser(prog="bgenv fidelity", description=__doc__.split("\n\n")[0])
        add_arguments(p)
        args = p.parse_args(argv)
    facts: Sequence[Fact] = ALL_FACTS
    if args.rows:
        wanted = {r.strip() for r in args.rows.split(",") if r.strip()}
        facts = [f for f in ALL_FACTS if str(f.row) in wanted]
        unknown = wanted - {str(f.row) for f in facts}
        if unknown:
            raise ValueError(f"unknown rows: {', '.join(sorted(unknown))}")
    text = render(facts=facts)
    out = args.out if args.out is not None else (None if args.rows else DOC_PATH)
    if out is None:
        print(text)
        return 0
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text, encoding="utf-8")
    summary = text.split("\n\n")[3].strip()
    print(f"wrote {out}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
