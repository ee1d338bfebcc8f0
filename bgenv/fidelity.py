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

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import yaml

import bgenv  # noqa: F401  (importing the package registers the environment ids)
from bgenv.config import CONFIG_DIR, DEFAULT_SLOT, PERIODIC_SLOT

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
ENDLESS_HEAVY = {"heavy_per_day": 200.0}  # ~60 000 units of heavy work a day: never runs out
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
        thermal=COOL,
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
    seed: int = 0,
) -> tuple[Window, ...]:
    """Windows of a run that keeps a ``label`` request pending all the time, in ``bucket``,
    unplugged (or charging all night, from 00:00). ``long_jobs``: each window works in
    20-unit heavy chunks until it ends (the first request waits 1 h for work to arrive);
    else it reports completion at once. ``fast``: jobs start ~0.1 s after they may."""
    hours = BUCKET_HOURS[bucket] if hours is None else hours
    extra: dict[str, Any] = {}
    user: dict[str, Any] = {}
    if charging:
        user.update(CHARGING_NIGHT)
        extra["start_hour"] = 0.0
    env = quiet_android(profile, bucket=bucket, hours=hours, user=user, windows=FAST_JOBS if fast else None, **extra)
    work = ("heavy", 20.0) if long_jobs else None
    run(env, seed, keeper(env, label, first_delay_s=3600.0 if long_jobs else 0.0, work=work))
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
        f"(not counted), 16 {_fmt_s(d['android-16']['max_fg_job_s_per_h'])} (counted: Active 20 min/60 min)"
    )
    return Measurement(value, d, _yes(ok))


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
    value = ", ".join(f"{b} {d[b]['max_jobs_in_window']}" for b in DOC_JOB_COUNT if b != "active")
    value += (
        f" (frequent: 8 sessions × 20/min); active: {d['active']['max_jobs_in_window']} per 10 min "
        "(no Active limit in bgenv)"
    )
    return Measurement(value, d, DIFFERS if not active_ok else _yes(ok))


def row06() -> Measurement:
    d = {b: _counts(b, fast=False) for b in DOC_SESSION_COUNT if b != "active"}
    d["rare_long_jobs"] = _quota_of("android", "rare")["max_sessions_in_window"]
    ok = all(d[b]["max_sessions_in_window"] == DOC_SESSION_COUNT[b] for b in d if b != "rare_long_jobs")
    ok &= d["rare_long_jobs"] == 3
    value = ", ".join(f"{b} {d[b]['max_sessions_in_window']}" for b in DOC_SESSION_COUNT if b != "active")
    value += " per window; active: not limited (no Active window in bgenv)"
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
        f"{_fmt_s(d['job_s_after_unplug'])} in 17 h (charger time counts against the rolling quota)"
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
