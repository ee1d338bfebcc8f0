"""Hand-written scheduling policies behind one small interface.

A policy maps an observation (``[D]``) or a batch of observations (``[N, D]``) to
actions (``[4]`` or ``[N, 4]``) of the env's MultiDiscrete space: request option,
delay bin, chunk bin (0 = stop and report completion), work kind (0 = auto). The
action mask (``[sum(nvec)]`` or ``[N, sum(nvec)]``, MaskablePPO's layout) is optional.
Policies read observations by feature name (``bgenv.envs.spaces.OBSERVATION_NAMES``)
and pick request options by their labels, so they work on any profile that offers
the request types they use.

Every policy's docstring states the rule it encodes and the passage of the source
documents it comes from, cited by the short name in brackets (title, public address and
a one-line description of each in ``docs/sources/README.md``):

* [Graphlet]: "Background Job Execution" (flowchart and FAQ), Graphlet,
  https://graphlet.xyz/diagrams/mobile/background-job-execution;
* [Hoomanely]: "Background Execution Is a Privilege, Not a Feature", Hoomanely tech
  blog, https://tech.hoomanely.com/background-execution-is-a-privilege-not-a-feature;
* [BackgroundTasks]: "BackgroundTasks Framework: Running Code When Your App Isn't
  Active" (author and publisher not given; no public address found);
* [Xamarin]: "Backgrounding in Xamarin.iOS", Microsoft Xamarin documentation,
  https://learn.microsoft.com/previous-versions/xamarin/ios/app-fundamentals/backgrounding/;
* [CodePushGo]: "A Developer's Guide to Background Task Manager", Martin Donadieu,
  CodePushGo blog, https://codepushgo.com/blog/background-task-manager/.

Platform limits cite rows of ``docs/sources/PLATFORM_FACTS.md`` ("row N").

All policies here are stateless (an action depends only on the observation, the mask
and, for ``random``, the random generator), so a batch is answered row by row with the
same result as one call per row.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from bgenv.core.layout import KIND_HEAVY, KIND_NAMES, KIND_REFRESH, KIND_SYNC, KIND_UPLOAD
from bgenv.envs.actions import ActionTable
from bgenv.envs.spaces import OBSERVATION_NAMES, age_hours, backlog_units, window_elapsed_s

F = {name: i for i, name in enumerate(OBSERVATION_NAMES)}
WORK_KINDS = KIND_NAMES  # the action's work_kind is the index here + 1 (0 = auto)
SYNC, UPLOAD, REFRESH, HEAVY = KIND_SYNC, KIND_UPLOAD, KIND_REFRESH, KIND_HEAVY


class Policy:
    """Observation -> action. Subclasses implement ``_act_one`` (one observation ``[D]``
    and its mask ``[sum(nvec)]`` or None); ``act`` maps a batch ``[N, D]`` (masks
    ``[N, sum(nvec)]``) row by row unless a subclass vectorises."""

    name = "policy"

    def __init__(self, ctx: ActionTable, seed: int | None = None) -> None:
        self.ctx = ctx
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Actions ``[4]`` for one observation ``[D]``, or ``[N, 4]`` for a batch ``[N, D]``."""
        obs = np.asarray(obs)
        if obs.ndim == 1:
            return self._act_one(obs, None if mask is None else np.asarray(mask))
        masks = [None] * len(obs) if mask is None else np.asarray(mask)
        if len(obs) == 0:
            return np.zeros((0, 4), dtype=np.int64)
        return np.stack([self._act_one(o, m) for o, m in zip(obs, masks)])

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    # helpers shared by the rule-based policies
    @staticmethod
    def phase(o: np.ndarray) -> str:
        if o[F["phase_window"]] > 0.5:
            return "window_start"
        if o[F["phase_chunk"]] > 0.5:
            return "chunk_done"
        return "background"

    @staticmethod
    def window_elapsed_s(o: np.ndarray) -> float:
        return float(window_elapsed_s(o[F["window_elapsed"]]))

    @staticmethod
    def backlog(o: np.ndarray, kind: str) -> bool:
        return o[F[f"backlog_{kind}"]] > 0.0

    @staticmethod
    def has_net(o: np.ndarray) -> bool:
        return o[F["net_none"]] < 0.5


class RandomPolicy(Policy):
    """Uniform over the choices the action mask allows (over the whole space without a mask).

    Rule: none; the chance baseline. It ignores what the sources call the core of the
    problem ([Hoomanely]: "Background execution is not guaranteed. It is
    opportunistic."): it asks for anything at any time and cuts work at random. It
    follows the mask, so it never makes a senseless choice, only bad ones.
    """

    name = "random"

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        out = np.zeros(4, dtype=np.int64)
        start = 0
        for d, n in enumerate(self.ctx.nvec):
            if mask is None:
                out[d] = self.rng.integers(n)
            else:
                ok = np.flatnonzero(mask[start : start + n])
                out[d] = self.rng.choice(ok) if len(ok) else 0
            start += n
        return out


class FixedIntervalPolicy(Policy):
    """The "run every 15 minutes, big chunks" anti-pattern.

    Rule: at every decision ask for the main request type (iOS app refresh, Android
    job with network) with a 15-minute earliest begin, and inside a window work in the
    biggest chunks until the OS stops it. It ignores the mask (big chunks even when
    nothing is workable count as senseless actions).

    Sources: [Hoomanely] names it as the thing not to do ("Design intent-based background
    work, not time-based work. Instead of: “Run every 15 minutes” Think: “Run when
    network is available, battery is sufficient, and the system allows it”"; anti-patterns
    "Long-running background loops", "Assuming scheduled time == execution time");
    [CodePushGo] shows the timer version ("setting up a recurring task to sync app data every
    30 minutes") and the platform floor ("a minimum frequency of around 15 minutes").
    """

    name = "fixed-interval"

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        req = (
            self.ctx.option_or_none("refresh") if self.ctx.platform == "ios" else self.ctx.option_or_none("job+network")
        )
        chunk = len(self.ctx.chunk_bins_units) - 1
        if self.phase(o) == "background":
            return np.array([req, self.ctx.delay_at_most(900), 0, 0])
        return np.array([0, 0, chunk, 0])


class GreedyPolicy(Policy):
    """Ask as soon as possible, every time, with the biggest chunks and never stop early.

    Rule: at every decision submit the most immediate request type (iOS app refresh,
    Android expedited job) with no delay, and work in the biggest chunks while anything
    is pending; stop only when the backlog is empty. It ignores the mask.

    Sources: the mistakes [Graphlet] lists ("scheduling too-frequent refresh intervals (which
    the OS will throttle)", "not persisting partial progress before the window
    expires") and [CodePushGo] warns against ("Don't just run tasks constantly ... Trying to
    run tasks more frequently than that is a surefire way to drain the battery and get
    your app restricted by the OS"); [BackgroundTasks]: "Keep tasks focused and fast".
    """

    name = "greedy"

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        ios = self.ctx.platform == "ios"
        req = self.ctx.option_or_none("refresh") if ios else self.ctx.option_or_none("expedited+network")
        chunk = len(self.ctx.chunk_bins_units) - 1
        if self.phase(o) == "background":
            return np.array([req, 0, 0, 0])
        if not any(self.backlog(o, k) for k in WORK_KINDS):
            return np.array([req, 0, 0, 0])
        return np.array([req, 0, chunk, 0])


class ChargingOnlyPolicy(Policy):
    """Defer everything to the charger.

    Rule: keep one processing task (iOS) / job (Android) that requires external power
    and network pending; inside its window work through the backlog (auto order) in
    50-unit chunks and stop at 80 % of the nominal window (15 min iOS processing,
    10 min Android job) or when nothing is left. Nothing runs off the charger.

    Sources: [BackgroundTasks]: "When requiresExternalPower is true, the system waits until the
    device is plugged in — which typically means overnight, when the user is sleeping
    and the device is on a charger. This is the ideal window for heavy computation."
    and [CodePushGo]: "schedule non-essential updates for when the device is charging". It
    applies to all work what the sources recommend for heavy, non-urgent work only.
    """

    name = "charging-only"

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        ios = self.ctx.platform == "ios"
        req = (
            self.ctx.option_or_none("processing+network+power") if ios else self.ctx.option_or_none("job+network+power")
        )
        if self.phase(o) == "background":
            pending = o[F["pending_slot1" if ios else "pending_slot0"]] > 0.5
            return np.array([0 if pending else req, 0, 0, 0])
        if not any(self.backlog(o, k) for k in WORK_KINDS) or self.window_elapsed_s(o) > 0.8 * self._budget():
            return np.array([0, 0, 0, 0])
        return np.array([0, 0, self.ctx.chunk_at_most(50), 0])

    def _budget(self) -> float:
        return 900.0 if self.ctx.platform == "ios" else 600.0


class GuidelinesPolicy(Policy):
    """The platforms' published best practice from the sources, as one rule set.

    The rules read only the observation (and the mask, when given); nothing about the
    OS's hidden score, the window's budget or the user's future. Where the sources give a
    number it is used; other numbers are the app's own engineering (its work speed and
    memory per work unit, ``WORK_*`` below) or documented platform limits (rows of
    ``docs/sources/PLATFORM_FACTS.md``). Vectorised: a batch ``[N, D]`` is answered in one
    pass.

    **When to ask.**

    * Keep the main request pending: submit it when the app goes to the background and
      at the start of each of its windows, never replace a pending one ([BackgroundTasks]: "The
      best time to schedule a refresh is when the user backgrounds the app";
      "schedule the next refresh at the beginning of your handler"; "Only schedule when
      transitioning to background or when no pending request exists" because
      resubmitting "resets the scheduling timer"). iOS: a ``BGAppRefreshTask`` 15 min
      out. Android: a WorkManager periodic job with network at the 15-min minimum
      ([CodePushGo]: "a minimum frequency of around 15 minutes"; [Hoomanely]: "Run when network
      is available"); 30 min in the Frequent bucket, 1 h in Rare, 4 h in Restricted,
      where the quotas allow fewer runs (rows 1, 5, 6; [Graphlet]: "scheduling
      too-frequent refresh intervals (which the OS will throttle)"), at least 1 h under
      Battery Saver.
    * Heavy work as a processing task / job that requires power ([BackgroundTasks]: "Heavy
      computation (ML, indexing, export) | BGProcessingTask with requiresExternalPower:
      true"; [Graphlet]: "BGProcessingTask can run for several minutes but only when the
      device is charging and idle"). The request stays pending, because it only ever
      runs on the charger, where it costs no battery. iOS: a processing task that
      requires power. Android: a job that requires charging, at once when heavy work
      waits, otherwise 1 h out: it also catches up on content and uploads while
      the phone charges, when job quotas are waived (row 9; [CodePushGo]: "schedule
      non-essential updates for when the device is charging"). Hourly, not every
      15 min: the periodic job already keeps content fresh, and every launch costs a
      wake-up on the charger too (Android vitals counts wake-ups against an app; v1
      prices each one).
    * Time-sensitive work by push ([BackgroundTasks]: "Time-sensitive updates ... Use push
      notifications instead — background tasks have no timing guarantees"; "If your
      sync is triggered by remote changes rather than a timer, explore push
      notifications for server-initiated wake-ups"). iOS: when the user's edits wait to
      be synced or new content waits on the server, the app's server sends a silent
      push, never more than one per 30 min (row 45: "not more than two or three per
      hour"); while the user is active (opened the app in the last 8 hours) it keeps
      one coming, so content is fresh at the next open. The push cadence is the
      server's, bounded by Apple's rate (row 45), and does not back off after the
      device's own failures (that backoff is for the app's retried requests, below):
      a push window that saves work is what restores the OS's trust after
      expirations (v1: trust rises only with windows that saved work). A push is a
      hint ([Hoomanely]: "Push as a Hint, Not a Guarantee"): nothing depends on its
      arrival.
      Android: the user's edits go out in an expedited job (row 14), the API for
      short, important work that must not wait for the next periodic run.
    * Back off after failures: after recent expirations, kills or lost chunks the app's
      next scheduler request (iOS refresh, Android periodic job) waits twice as long per
      failure, up to 16x ([CodePushGo]: "exponential
      backoff—if a network call fails, wait a minute, then two, then four, and so on.
      Just be sure to cap the retries").
    * The request mask: a candidate request is skipped when the mask rules it out
      (Background App Refresh off, an Android option that needs the app visible). The
      mask's advice against resubmitting the same pending request (``write_masks``,
      added after these rules were measured) never changes a choice: the rules above
      already never resubmit a pending main, processing, push, periodic, expedited or
      power request (each asks only when its slot is empty), and a background transfer
      or user-initiated job is asked for as the user leaves the app, when its slot is
      free in practice. This is tested decision by decision against the masks without
      that advice (``tests/agents/test_policies.py``), so the baseline is unchanged.

    **How to work.**

    * Most valuable and most urgent first: the user's edits (sync), then content for
      the next open, then uploads, then heavy processing. Uploads only on Wi-Fi or on
      the charger ([CodePushGo]: "schedule non-essential updates for when the device is
      charging or connected to Wi-Fi"); heavy work only in processing windows (iOS)
      or on the charger (Android), and in a job without power only when it has waited
      more than a day and the battery is healthy ([CodePushGo]: "waiting to run them when the
      device has a stable network connection or sufficient battery life"). Non-urgent
      work (uploads, heavy) stops at a "fair" thermal state (row 48).
    * Small checkpointed chunks ([Hoomanely]: "Break work into: Small chunks, Check pointed
      steps, Graceful early termination"): each chunk fits the memory budget ([BackgroundTasks]:
      "expect a ~50MB limit for refresh tasks. Exceeding it causes an immediate jetsam
      kill"), is small enough for the expiration handler to cancel within its grace
      period ([Graphlet]: "On expiration, the app must save partial progress and signal
      task completion"), and is sized to end before the stop time.
    * Stop and report completion before the expected expiry ([BackgroundTasks]: "you must call
      setTaskCompleted(success:)"; "a 5-second refresh is better than a 25-second one
      that risks expiration"): at 20 s in an iOS app refresh (~30 s, row 38), 25 s in a
      silent push (30 s, row 45), at 12.5 min in a processing task (it "runs for
      minutes", row 39), and
      with a margin before Android's job limits (10 min, 30 min on the charger; an
      expedited job's guaranteed 3 min; row 15). Report completion as soon as nothing
      useful is left.
    * Batch network work ([BackgroundTasks]: "Batch your network calls"): one window drains all
      pending network work it can, rather than one window per item.

    **Uploads by background transfer** (``USE_TRANSFERS``; env v1, rows 71-81).

    * iOS: uploads go to a background URLSession ([Hoomanely]: "Background URLSession |
      Reliable uploads/downloads"; [BackgroundTasks]: "Use URLSession background transfer —
      it has its own system-managed scheduling and survives app termination"). When the app goes to the background with
      uploads not yet handed over, it creates the upload tasks then, while it still counts
      as in the foreground (a task created later is discretionary and waits for the
      resume rate limiter, rows 74, 75), Wi-Fi only (allowsExpensiveNetworkAccess = NO,
      row 78; [CodePushGo]: "connected to Wi-Fi"). Its windows no longer chunk uploads
      the transfer holds; the relaunch that reports a transfer done (row 72) is handled
      like a silent push (stop by 25 s).
    * Android: user-initiated data transfer jobs (14+, rows 79-81) are for transfers the
      user starts (row 79, source UIDT); the simulated uploads (logs,
      telemetry, media) arrive on their own, so ``guidelines`` keeps them in its periodic
      and charger jobs (``USE_UIDT`` off). Measured on 64 held-out weeks: a UIDT as the
      user leaves with >= ``UIDT_MIN_UNITS`` of uploads was worse (-4.9 ± 4.8 reward a week:
      a notification and a wake-up per job for uploads the jobs did anyway).
    """

    name = "guidelines"

    # --- the app's own work profile (what its engineers measured; configs/defaults.yaml) ---
    # sync, upload, refresh, heavy: s per unit on Wi-Fi at nominal speed; MB per unit in one chunk
    WORK_S_PER_UNIT: ClassVar[np.ndarray] = np.array([2.0, 1.5, 1.0, 1.0])
    WORK_MB_PER_UNIT: ClassVar[np.ndarray] = np.array([0.5, 1.5, 2.0, 0.2])
    BASE_MB = 25.0  # the app's suspended footprint, MB
    CHUNK_OVERHEAD_S = 0.5  # saving a checkpoint, s
    CELLULAR_SLOWDOWN = 1.5  # network work is this much slower on cellular
    # (thermal level, work speed factor): performance reduced at serious, minimum at critical (row 48)
    THERMAL_SPEED: ClassVar[tuple[tuple[float, float], ...]] = ((2.0 / 3.0, 0.6), (1.0, 0.3))
    # chunk memory budget, MB: [BackgroundTasks] "expect a ~50MB limit" on iOS, with a margin
    MEMORY_BUDGET_MB: ClassVar[dict[str, float]] = {"ios": 45.0, "android": 150.0}
    MAX_CHUNK_UNITS = 20.0  # cancelled within ~2.5 s (0.5 s + 0.1 s/unit), inside a ~5 s grace

    # --- when to stop (s since the window started) ---
    REFRESH_STOP_S = 20.0  # row 38: ~30 s, sometimes less; [BackgroundTasks]: short is better
    PUSH_STOP_S = 25.0  # row 45: 30 s to handle a silent push
    PROCESSING_STOP_S = 750.0  # row 39: "runs for minutes"; 12.5 min (10 min cut heavy work short)
    JOB_STOP_S = 540.0  # row 15: 10 min per job
    JOB_CHARGING_STOP_S = 1620.0  # row 15: up to 30 min while the quota is waived (charging)
    EXPEDITED_STOP_S = 160.0  # rows 14, 15: an expedited job is guaranteed 3 min
    ANDROID_PUSH_STOP_S = 15.0  # a high-priority message gets ~20 s
    ALARM_STOP_S = 7.0  # an alarm receiver gets ~10 s
    FGS_STOP_S = 1620.0  # a foreground service: stop well inside 30 min
    TRANSFER_STOP_S = 25.0  # iOS relaunch for a background transfer: handled like a silent push (30 s)
    UIDT_STOP_S = 19800.0  # a user-initiated job: stop well inside its 6 h guarantee (row 81)

    # --- background transfers ---
    USE_TRANSFERS = True  # iOS background URLSession / Android user-initiated jobs for uploads
    USE_UIDT = False  # Android: a user-initiated job for uploads as the user leaves (measured worse: off)
    UIDT_MIN_UNITS = 20.0  # ... for at least one media item's worth of uploads
    TRANSFER_OPTION = "transfer+wifi"  # iOS: Wi-Fi only ([CodePushGo]; allowsExpensiveNetworkAccess = NO, row 78)

    # --- when to ask ---
    REFRESH_DELAY_S = 900.0  # [CodePushGo]: ~15 min floor; content was just fetched at the open
    PERIODIC_S_BY_BUCKET: ClassVar[tuple[float, ...]] = (900.0, 900.0, 1800.0, 3600.0, 14400.0)  # active .. restricted
    PUSH_SPACING_S = 1800.0  # row 45: about 2 silent pushes an hour at most (the server's cadence: no backoff)
    CHARGER_POLL_S = 3600.0  # Android: a job that requires charging, 1 h out, always pending
    ACTIVE_USER_H = 8.0  # iOS: keep content fresh by push while the user opened the app this recently
    HEAVY_WAIT_H = 24.0  # heavy work older than this may run off the charger (Android) ...
    HEAVY_MIN_BATTERY = 0.6  # ... when the battery is at least this full
    MAX_BACKOFF_DOUBLINGS = 4  # exponential backoff capped at 16x

    def __init__(self, ctx: ActionTable, seed: int | None = None) -> None:
        super().__init__(ctx, seed)
        self.ios = ctx.platform == "ios"
        nvec = list(ctx.nvec)
        self._mask_start = np.cumsum([0, *nvec[:-1]])
        self._chunk_units = np.asarray(ctx.chunk_bins_units, dtype=float)
        o = ctx.option_or_none
        use = self.USE_TRANSFERS
        self.opt_transfer = o(self.TRANSFER_OPTION) if (self.ios and use) else 0
        self.opt_uidt = o("uidt+network") if (not self.ios and use and self.USE_UIDT) else 0
        if self.ios:
            self.opt_refresh = o("refresh")
            self.opt_processing = o("processing+power")
            self.opt_push = o("push")
        else:
            self.opt_periodic = o("periodic+job+network")
            self.opt_expedited = o("expedited+network")
            self.opt_power_job = o("job+power")
            self.opt_job = o("job")

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return self.act(o, mask)

    # ------------------------------------------------------------------------------
    def act(self, obs: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Actions ``[4]`` for one observation ``[D]``, or ``[N, 4]`` for a batch ``[N, D]``."""
        obs = np.asarray(obs)
        single = obs.ndim == 1
        o = np.atleast_2d(obs).astype(np.float64)
        m = None if mask is None else np.atleast_2d(np.asarray(mask)).astype(bool)
        out = self._act_batch(o, m)
        return out[0] if single else out

    def _act_batch(self, o: np.ndarray, m: np.ndarray | None) -> np.ndarray:
        n = len(o)
        out = np.zeros((n, 4), dtype=np.int64)
        if n == 0:
            return out
        col = o.T  # feature-major view: col[F[name]] is one feature for every row
        in_window = (col[F["phase_window"]] > 0.5) | (col[F["phase_chunk"]] > 0.5)
        units = backlog_units(o[:, [F[f"backlog_{k}"] for k in WORK_KINDS]])
        units[units < 1e-6] = 0.0
        kind, chunk = self._work(o, col, units, in_window, m)
        out[:, 2] = chunk
        out[:, 3] = np.where(chunk > 0, kind + 1, 0)
        sync_here = in_window & (chunk > 0) & (kind == SYNC)
        req, delay = self._request(o, col, units, in_window, sync_here, m)
        out[:, 0] = req
        out[:, 1] = delay
        return out

    # --- inside a window: what to work on, in which chunk, and when to stop ------------
    def _work(
        self, o: np.ndarray, col: np.ndarray, units: np.ndarray, in_window: np.ndarray, m: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(kind index 0..3, chunk bin) per row; chunk 0 = stop and report completion."""
        n = len(o)
        net = col[F["net_none"]] < 0.5
        wifi = col[F["net_wifi"]] > 0.5
        cellular = col[F["net_cellular"]] > 0.5
        charging = col[F["charging"]] > 0.5
        cool = col[F["thermal"]] < 1.0 / 6.0  # nominal; "fair" stops non-urgent work (row 48)
        if m is not None:
            start = self._mask_start[3]
            workable = m[:, start + 1 : start + 5].copy()
        else:
            workable = units > 0.0
            workable[:, UPLOAD] &= self._free_uploads(col, units) > 0.0
            workable[:, :3] &= net[:, None]
        processing = col[F["window_processing"]] > 0.5
        if self.ios:
            heavy_ok = processing
        else:
            waited = age_hours(col[F["oldest_age"]]) >= self.HEAVY_WAIT_H
            healthy = (col[F["battery"]] >= self.HEAVY_MIN_BATTERY) & (col[F["low_power"]] < 0.5)
            heavy_ok = charging | (waited & healthy)
        uidt = col[F["window_uidt"]] > 0.5  # a user-initiated job exists for the uploads: any network
        allowed = np.stack(
            [
                np.ones(n, dtype=bool),  # sync: the user's edits, always
                ((wifi | charging) & cool) | uidt,  # uploads: unmetered or on the charger
                np.ones(n, dtype=bool),  # content for the next open
                heavy_ok & cool,
            ],
            axis=1,
        )
        cand = workable & allowed
        kind = np.full(n, -1)
        for k in (HEAVY, UPLOAD, REFRESH, SYNC):  # the last assignment wins: sync first
            kind[cand[:, k]] = k
        # time left before this window type's stop time
        elapsed = window_elapsed_s(col[F["window_elapsed"]])
        stop_at = self._stop_time(col, charging)
        left = stop_at - elapsed
        # chunk size: the biggest bin that fits time, memory and the expiration grace
        k = np.maximum(kind, 0)
        pending = units[np.arange(n), k]
        speed = np.ones(n)
        for level, factor in self.THERMAL_SPEED:
            speed[col[F["thermal"]] >= level - 1e-6] = factor
        slow = np.where(cellular & (k != HEAVY), self.CELLULAR_SLOWDOWN, 1.0)
        eff = np.minimum(self._chunk_units[None, 1:], pending[:, None])  # units a bin would take
        dur = self.CHUNK_OVERHEAD_S + eff * (self.WORK_S_PER_UNIT[k] * slow / speed)[:, None]
        mem = self.BASE_MB + eff * self.WORK_MB_PER_UNIT[k][:, None]
        fits = (dur <= left[:, None]) & (mem <= self.MEMORY_BUDGET_MB[self.ctx.platform])
        fits &= eff <= self.MAX_CHUNK_UNITS
        if m is not None:
            start = self._mask_start[2]
            fits &= m[:, start + 1 : start + len(self._chunk_units)]
        nbins = fits.shape[1]
        best = np.where(fits.any(axis=1), nbins - np.argmax(fits[:, ::-1], axis=1), 0)
        chunk = np.where(in_window & (kind >= 0), best, 0)
        return kind, chunk

    @staticmethod
    def _free_uploads(col: np.ndarray, units: np.ndarray) -> np.ndarray:
        """Upload units not yet handed to an iOS background transfer (0 handed on Android)."""
        held = backlog_units(col[F["transfer_units"]])
        return np.maximum(0.0, units[:, UPLOAD] - held)

    def _stop_time(self, col: np.ndarray, charging: np.ndarray) -> np.ndarray:
        """Seconds after the window start at which to have reported completion."""
        n = col.shape[1]
        stop = np.full(n, self.PUSH_STOP_S if self.ios else self.JOB_STOP_S)
        if self.ios:
            stop[col[F["window_refresh"]] > 0.5] = self.REFRESH_STOP_S
            stop[col[F["window_processing"]] > 0.5] = self.PROCESSING_STOP_S
            stop[col[F["window_push"]] > 0.5] = self.PUSH_STOP_S
            stop[col[F["window_transfer"]] > 0.5] = self.TRANSFER_STOP_S
            return stop
        stop[charging] = self.JOB_CHARGING_STOP_S
        stop[col[F["window_expedited"]] > 0.5] = self.EXPEDITED_STOP_S
        stop[col[F["window_push"]] > 0.5] = self.ANDROID_PUSH_STOP_S
        stop[col[F["window_alarm"]] > 0.5] = self.ALARM_STOP_S
        stop[col[F["window_fgs"]] > 0.5] = self.FGS_STOP_S
        stop[col[F["window_uidt"]] > 0.5] = self.UIDT_STOP_S
        return stop

    # --- what to ask for ------------------------------------------------------------
    def _request(
        self,
        o: np.ndarray,
        col: np.ndarray,
        units: np.ndarray,
        in_window: np.ndarray,
        sync_here: np.ndarray,
        m: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(request option, delay bin) per row: the most important missing request."""
        n = len(o)
        failures = np.zeros(n)
        for f in ("recent_expirations", "recent_kills", "recent_failed_chunks"):
            y = np.clip(col[F[f]], 0.0, 0.99)
            failures += 5.0 * y / (1.0 - y)  # x/(x+5) -> x: failures in about the last day
        backoff = 2.0 ** np.minimum(np.floor(failures + 0.5), self.MAX_BACKOFF_DOUBLINGS)
        net = col[F["net_none"]] < 0.5
        saver = col[F["low_power"]] > 0.5
        pending = [col[F[f"pending_slot{j}"]] > 0.5 for j in range(4)]
        cands: list[tuple[int, np.ndarray, np.ndarray]] = []  # (option, wanted, delay s), by priority
        leaving = col[F["phase_background"]] > 0.5  # the app has just gone to the background
        free_up = self._free_uploads(col, units)
        # uploads by background transfer: right after the main request (it is usually pending);
        # option 0 (not offered or not used) is skipped
        if self.ios:  # row 74: created as the user leaves, so not discretionary
            transfer = (self.opt_transfer, leaving & (free_up > 0.0), np.zeros(n))
        else:  # row 79: only while the app is visible
            transfer = (self.opt_uidt, leaving & (free_up >= self.UIDT_MIN_UNITS) & net, np.zeros(n))
        if self.ios:
            since_window_s = age_hours(col[F["since_window"]]) * 3600.0
            since_open_h = age_hours(col[F["since_open"]])
            cands.append((self.opt_refresh, ~pending[0], self.REFRESH_DELAY_S * backoff))
            cands.append(transfer)
            reason = (units[:, SYNC] > 0) | (units[:, REFRESH] > 0) | (since_open_h < self.ACTIVE_USER_H)
            spacing = np.full(n, self.PUSH_SPACING_S)  # the server's cadence: no device backoff
            # the next push no sooner than the spacing after this window (in a window) or
            # after the last one (when leaving the app; rounded down to a delay bin)
            left = np.maximum(0.0, spacing - since_window_s)
            bins = np.asarray(self.ctx.delay_bins_s)
            left = bins[np.searchsorted(bins, left, side="right") - 1]
            wait = np.where(in_window, spacing, left)
            cands.append((self.opt_push, ~pending[3] & reason & net & ~saver, wait))
            cands.append((self.opt_processing, ~pending[1], np.zeros(n)))
        else:
            bucket = np.clip(np.rint(col[F["standby_bucket"]] * 4.0).astype(int), 0, 4)
            period = np.asarray(self.PERIODIC_S_BY_BUCKET)[bucket]
            period = np.where(saver, np.maximum(period, 3600.0), period)
            cands.append((self.opt_periodic, ~pending[2], period * backoff))
            cands.append(transfer)
            sync_left = (units[:, SYNC] > 0) & ~sync_here
            cands.append((self.opt_expedited, ~pending[1] & sync_left & net, np.zeros(n)))
            # on the charger: heavy work at once, otherwise a catch-up run every 15 min
            heavy = units[:, HEAVY] > 0
            cands.append((self.opt_power_job, ~pending[0], np.where(heavy, 0.0, self.CHARGER_POLL_S)))
        req = np.zeros(n, dtype=np.int64)
        delay = np.zeros(n, dtype=np.int64)
        done = np.zeros(n, dtype=bool)
        opt_start = self._mask_start[0]
        for opt, wanted, wait_s in cands:
            if opt <= 0:
                continue  # the profile does not offer this request type
            sel = wanted & ~done
            if m is not None:
                sel &= m[:, opt_start + opt]
            if not sel.any():
                continue
            req[sel] = opt
            delay[sel] = [self.ctx.delay_at_least(w) for w in wait_s[sel]]
            done |= sel
        return req, delay


POLICIES: dict[str, type[Policy]] = {
    p.name: p for p in (RandomPolicy, FixedIntervalPolicy, ChargingOnlyPolicy, GreedyPolicy, GuidelinesPolicy)
}


def make_policy(name: str, env: Any, seed: int | None = None) -> Policy:
    """A hand-written policy by name, bound to ``env``'s action space."""
    if name not in POLICIES:
        raise ValueError(f"unknown policy '{name}'; available: {', '.join(POLICIES)}")
    return POLICIES[name](ActionTable.from_env(env), seed=seed)
