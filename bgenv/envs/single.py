"""The single-device Gymnasium environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from bgenv.config import Scenario
from bgenv.core import layout as L
from bgenv.core.params import CompiledParams, compile_params
from bgenv.core.sim import Simulator, write_jsonl
from bgenv.envs.common import deepcopy_env, load_platform_scenario
from bgenv.envs.spaces import ACTION_PARTS, OBSERVATION_NAMES, action_labels, action_space, observation_space
from bgenv.traces.trace import Trace
from bgenv.world import WORLD_METRICS, TraceWorld, make_world, world_metrics


class BackgroundSchedulingEnv(gym.Env):
    """An app deciding when to ask a mobile OS for background time and how to use it.

    ## Description

    The agent plays one app on one simulated phone over a horizon of days. The phone's
    user opens the app, uses other apps, charges the phone, moves between Wi-Fi and
    cellular, and sometimes turns on Low Power Mode or swipes the app away. Work for
    the app arrives over time (user edits to sync, uploads, new content to fetch,
    heavy processing). The agent asks the OS scheduler for background windows; the OS
    (an iOS 17+ or Android 14/15 profile by default) grants them when its gates allow,
    for a budget the app is not told, and adjusts its treatment of the app by its
    history. Time jumps from event to event: a step ends at the next moment the app
    gets to decide something.

    A step is one *decision point*:

    * ``background``: the user has just left the app; the app may submit a request.
    * ``window_start``: the OS has granted a window; the app may work or stop.
    * ``chunk_done``: a chunk inside the window has ended (saved, or failed because the
      network went away); the app may continue or stop and report completion.

    ## Action Space

    ``MultiDiscrete([n_request, n_delay, n_chunk, 5])``:

    * ``request``: 0 = submit nothing; otherwise a request type with constraints from
      the profile's ``request_options`` (iOS: app refresh, processing with
      requires-network / requires-external-power, a silent push from the app's server,
      a background URLSession upload ``transfer``, plain, ``+discretionary`` or
      ``+wifi`` only;
      Android: job with network / charging, expedited job, periodic job, high-priority
      push with or without a notification, alarm allowed while idle (exact only when
      the profile grants ``android.exact_alarm_permission``, else inexact),
      foreground service (also WorkManager's long-running work), user-initiated data
      transfer job ``uidt+network``).
      Resubmitting a type replaces its pending request and resets its timer. An iOS
      ``transfer`` hands every pending upload unit to the system, which sends it out of
      the app's process (radio energy only) when its rules allow (Wi-Fi, or cellular
      unless ``+wifi``; a discretionary one, and any created later than a few seconds
      after the user left, waits for Wi-Fi and power; created in the background it also
      waits out the resume rate limiter; a force-quit cancels it) and relaunches the app
      in a short ``transfer`` window when done. ``fgs`` and ``uidt`` are accepted (and
      unmasked) only as the user leaves the app; ``uidt`` takes no delay.
    * ``delay``: the earliest-begin delay (``actions.delay_bins_s``, seconds): a floor,
      never a target.
    * ``chunk``: inside a window, 0 = stop and report completion; otherwise the size in
      work units of the next checkpointed chunk (``actions.chunk_bins_units``). Bigger
      chunks save overhead but lose more on expiry and need more memory.
    * ``work_kind``: 0 = auto (by priority), else sync, upload, refresh, heavy.

    ``chunk`` and ``work_kind`` only matter inside a window; ``action_masks()`` marks the
    choices that make sense now (advice to the learner: every action in the space is
    accepted and priced as ever). A request option is masked out while Background App
    Refresh is off (iOS), while it needs the app visible and it is not (``fgs``,
    ``uidt``), and while submitting it would only replace the same pending request and
    reset its timer (row 42, the iOS sources' anti-pattern): the same option (same slot,
    type and constraints) is pending and already eligible (its earliest-begin date is no
    later than any delay choice would give). Another option of the slot (other
    constraints), a pending request whose earliest date is still ahead (a shorter delay
    moves it earlier), the OS's retry of a stopped job (replacing it resets the backoff)
    and a background ``transfer`` stay allowed; the option is back once the request is
    granted or replaced. ``delay`` matters only with a request, ``work_kind`` only with a
    chunk (or, outside a window, as an invalid action). A choice that does not make
    sense is handled as the platform would
    (a refused request, a no-op), penalised by ``reward.invalid_action`` and counted in
    the metrics (``invalid_actions``, ``requests_refused``); it never raises. A value
    outside the space raises ``ValueError``.

    ## Observation Space

    ``Box(54,)`` float32, every feature in [0, 1] (time of day in [-1, 1]); names in
    ``env.unwrapped.observation_names`` and meanings and units in ``docs/reference.md``.
    Device conditions the app can read (battery, charging, Low Power Mode, thermal
    state, network, Android standby bucket, Background App Refresh switch), the
    decision phase and running window, the backlog by kind, data staleness, the app's
    own recent history and its background transfer in flight (upload units handed to
    the system, running or waiting). Never the OS's hidden history score.

    ## Rewards

    The reward pays only for what the user gets. Per step, the sum since the previous
    step of: the value of sync, upload and heavy work saved in background windows (it
    reached the server or is done, seen or not); the value of content (refresh work)
    fetched in the background, paid when the user sees it at the next app open, never
    when fetched (content replaced by a later fetch before anyone saw it, or still unseen
    at the end, is worth nothing; content fetched while the app is on screen is shown at
    once); + a bonus (− a penalty) for each app open that finds fresh (stale) data;
    − battery weight × % of a full battery drawn by background work off the charger;
    − a tenth of that per % of background energy drawn on the charger (heat, slower
    charging, wear; cheap, never free); − a price per wake-up (each launch into a
    background window, alarm and push deliveries too); − penalties for expirations,
    kills, missed soft deadlines, throttled or refused requests, notifications and
    senseless actions. Formula and reasons: ``bgenv/core/reward.py``; weights: the
    scenario's ``reward`` section (``configs/defaults.yaml`` gives each one's reason).
    ``info["cost"]`` carries the battery fraction spent by background work off the
    charger in the step, apart from the reward, for constrained RL. The OS's hidden
    trust in the app (iOS) rises only with windows that saved work.

    ## Starting State

    07:00 on day 0 (``start_hour``), battery uniform in ``initial_battery``, the app
    installed with the engagement and last-open time of the user archetype. The first
    observation is a ``background`` decision at that instant: the app may submit its
    first request.

    ## Episode End

    Truncation when simulated time reaches ``horizon_days``; there is no terminal
    state. On that step ``info["metrics"]`` holds the episode metrics
    (``completion_rate``, ``work_arrived``, ``work_completed``, ``work_pending``,
    ``battery_cost``, ``windows_granted``, ``expirations``, ``kills``,
    ``throttled_requests``, ``retries_per_task``, ``time_to_success_s``,
    ``freshness_at_open``, and more; see ``docs/reference.md``).

    ## Info

    ``reset`` and every ``step`` return ``info`` with (``docs/reference.md``, "Info"):

    * ``t_s``: simulated seconds since the episode's reset (0 at reset).
    * ``dt_s``: simulated seconds since the previous decision (0 at reset). Decisions are
      event-driven, so it varies from about a second to many hours; summed over an
      episode it is the episode's simulated length (``horizon_days`` × 86400 s).
    * ``t``: simulated seconds since midnight of day 0 (the episode starts at
      ``start_hour``).
    * ``cost``: the step's battery fraction spent by background work (see Rewards).
    * ``phase``: the decision point (``background``, ``window_start``, ``chunk_done``;
      ``none`` on the truncating step).
    * ``metrics``: on the truncating step only (see Episode End).

    The batched env returns ``cost``, ``t``, ``t_s`` and ``dt_s`` as ``[N]`` arrays (a
    finished episode's last ones in ``info["final_info"]``), the Stable-Baselines3 VecEnv
    ``cost``, ``t_s`` and ``dt_s`` in each env's info dict.

    ## Arguments

    ``gym.make("bgenv/iOS-v1", scenario="ios_commuter", record_events=True, **overrides)``

    * ``scenario``: a name from ``configs/scenarios`` or a path to a YAML file.
    * ``record_events``: keep the event log (``env.unwrapped.events``).
    * ``render_mode``: ``None`` (default), ``"rgb_array"`` or ``"ansi"`` (see Rendering).
    * ``world``: ``None``/``"synthetic"`` (default: the user archetype), or a recorded
      trace to replay: ``"trace:mcm_iphone13"`` (shipped), a ``.npz`` path, a folder of
      ``.npz`` traces (one pool of windows) or :class:`bgenv.traces.Trace` objects
      (``bgenv.world``). Each episode is a window of a trace from a local midnight chosen
      by the env's random generator (``world_mode="random"``) or in order
      (``"sequential"``); the recorded channels drive the device (screen, app opens,
      plugged, start level, network, Low Power Mode / Battery Saver, temperature as the
      thermal state, and on Android Doze: the OS model's light/deep Doze follows the
      record while its own entry timers are off; on iOS a ``doze`` channel is ignored),
      the archetype the rest; by default the battery is simulated from the recorded
      start, ``world_battery="recorded"`` sets it to each recorded sample, and
      ``"anchored"`` to each recorded sample less the app's background energy drawn off
      the charger that the charger has not put back yet. ``reset`` returns
      ``info["world"]`` (the window and the name of its trace) and the episode metrics gain ``battery_gap_rms``,
      ``replayed_channels`` and ``off_share``.
    * ``**overrides``: deep-merged into the scenario, e.g. ``horizon_days=2`` or
      ``user={"force_quit_prob": 0.1}``.

    ## Rendering

    ``render()`` draws the episode so far from the event log (``bgenv.render``), over
    the whole horizon: ``"rgb_array"`` returns a timeline image ``(H, W, 3)`` uint8
    (battery with charging shaded, screen and app opens, network, standby bucket and
    Doze on Android, Low Power Mode / Battery Saver and thermal state, every request
    with its earliest-begin floor, every window as a bar coloured by outcome, the
    backlog; its size depends on the horizon only); ``"ansi"`` returns the same as
    compact text. Rendering needs ``record_events=True`` and costs nothing per step.
    ``bgenv timeline`` writes the picture of a whole episode as a PNG.

    ## Version History

    * v1: the reward pays for what users get, and known simulator bugs are fixed. Content
      fetched in the background is paid when the user sees it at an app open (unseen
      content is worth nothing); background energy on the charger is priced (0.1 of the
      battery price) and every launch into a background window costs ``reward.wake_up``;
      iOS trust rises only with windows that saved work; exact alarms on Android need
      ``SCHEDULE_EXACT_ALARM``, denied by default (the ``alarm`` option is otherwise an
      inexact allow-while-idle alarm: 7 per hour in Doze, counted by the bucket, deferred
      within its window; rows 51, 55, 57, 59). Fixes: light Doze counts from when the
      device became inactive (no negative durations); the overnight charging hold ends on
      time; iOS silent pushes wait for the network (row 65); a lost push costs no wake
      energy; the observation's network flags count the running window's Doze exemption;
      a top-up charge still plugged in at bedtime is logged as the overnight charge; the
      OS's own retry of a stopped job is logged (``retry`` records). ``info`` gains
      ``t_s`` and ``dt_s`` (simulated seconds since the reset and since the previous
      decision); episode metrics gain ``content_shown_units``, ``content_unseen_units``
      and ``energy_on_charger``. Background transfers (rows 71-81, 85, 86): iOS
      ``transfer`` options (background URLSession uploads out of process, relaunch on
      completion), Android ``uidt+network`` (user-initiated data transfer jobs: from the
      foreground only, no quota, Doze-exempt, 6 h, a notification); ``fgs``/``uidt``
      masked outside the foreground; both use request slot 5; observation 50 -> 54
      features (``window_transfer``, ``window_uidt``, ``transfer_units``,
      ``transfer_running``); metrics ``windows_transfer``, ``windows_uidt``,
      ``transfers_done``, ``transfer_units``, ``transfers_failed``; ``transfer`` records
      in the event log. The user model reproduces USER_FACTS in shape and spread:
      each device draws its own user and battery at reset (``heterogeneity``: use, day,
      charging habits, drain and charging speeds, Wi-Fi, Low Power Mode and force-quit
      habits), sessions are glances or a heavy tail, gaps Weibull, Low Power Mode lowers
      drain; a ``light`` archetype; ``screen`` records carry the battery level, a
      ``reset`` record opens each episode's log, drops are ``drop`` records. The request
      mask advises against resubmitting the same pending, already eligible request
      (it would only reset its timer, row 42); trajectories under given actions are
      unchanged.
      Additions that leave the synthetic world's trajectories unchanged: env copies
      (``copy.deepcopy``, ``pickle``), per-device scenarios in a batch (fleets), and
      ``world``: replay of a recorded trace (screen, app opens, plugged, start level,
      network, Low Power Mode, temperature as the thermal state, Android Doze); a
      replayed phone whose simulated battery runs empty before the recorded charger
      comes shuts down until it is plugged in (its motion and network sensing and its
      user's uploads hold meanwhile; ``power`` records in the event log, the episode
      metric ``off_share``).
    * v0: initial release.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "ansi"], "render_fps": 4}

    def __init__(
        self,
        platform: str = "ios",
        scenario: str | Path | Scenario | None = None,
        record_events: bool = True,
        render_mode: str | None = None,
        world: str | Path | Trace | None = None,
        world_mode: str = "random",
        world_battery: str = "simulate",
        **overrides: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}; got {render_mode!r}")
        if render_mode is not None and not record_events:
            raise ValueError(f"render_mode {render_mode!r} draws the event log: it needs record_events=True")
        self.render_mode = render_mode
        self.scenario_spec: Scenario = load_platform_scenario(platform, scenario, **overrides)
        self.params: CompiledParams = compile_params(self.scenario_spec)
        self.sim = Simulator(self.params, 1, record_events=record_events)
        spec = self.scenario_spec
        self.world: TraceWorld | None = make_world(world, spec, world_mode, world_battery)
        self._world_episode = 0  # episodes since the last seeded reset (sequential windows)
        self.world_window: dict[str, Any] | None = None  # the current episode's window of the trace
        self.observation_space = observation_space()
        self.action_space = action_space(self.params)
        self.observation_names = OBSERVATION_NAMES
        self.action_names = ACTION_PARTS
        self.action_labels = action_labels(self.params)
        self._nvec = self.params.nvec
        self._nvec_list = [int(x) for x in self._nvec]
        self._act = np.zeros((1, 4), dtype=np.int64)
        self._idx = np.zeros(1, dtype=np.int64)
        self._started = False
        self._t_s = 0.0  # t_s of the previous decision
        self._bind_views()

    def _bind_views(self) -> None:
        self._s0 = self.sim.sf[0]  # row views of the one device: cheaper reads per step
        self._n0 = self.sim.si[0]

    # -- copies -----------------------------------------------------------------
    # ``copy.deepcopy(env)`` and ``pickle`` give an env that continues the identical
    # trajectory (same actions -> same observations, rewards, infos, metrics, events).
    def __deepcopy__(self, memo: dict[int, Any]) -> BackgroundSchedulingEnv:
        return deepcopy_env(self, memo)

    def __getstate__(self) -> dict[str, Any]:
        d = self.__dict__.copy()
        d.pop("_s0", None)
        d.pop("_n0", None)
        return d

    def __setstate__(self, d: dict[str, Any]) -> None:
        self.__dict__.update(d)
        self._bind_views()

    # -- Gymnasium API --------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        if self.world is not None:
            self._world_reset(seed)
        self.sim.reset([seed], self._idx)
        self._started = True
        self._t_s = 0.0
        info = self._info()
        if self.world_window is not None:
            info["world"] = self.world_window
        return self.sim.obs[0].copy(), info

    def _world_reset(self, seed: int | None) -> None:
        """Load the next episode's window of the trace into the simulator."""
        w = self.world
        assert w is not None
        if seed is not None:
            self._world_episode = 0
        j = w.choose(self.np_random, self._world_episode)
        self._world_episode += 1
        w.load(self.sim, 0, j)
        self.world_window = w.describe(j)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        if not self._started:
            raise RuntimeError("call reset() before step()")
        n0 = self._n0
        if n0[L.I_DONE]:
            raise RuntimeError("the episode has ended (truncated at the horizon); call reset()")
        sim = self.sim
        sim.step_one(self._check_action(action))
        truncated = n0.item(L.I_DONE) != 0
        info = self._info()
        if truncated:
            info["metrics"] = self.metrics()
        return sim.obs[0].copy(), self._s0.item(L.S_REWARD), False, truncated, info

    def _check_action(self, action: Any) -> list[int]:
        """The action as 4 ints, or a ValueError naming what is wrong."""
        if type(action) is np.ndarray and action.dtype == np.int64 and action.shape == (4,):
            v = action.tolist()  # the common case (MultiDiscrete.sample(), a policy's output)
            n = self._nvec_list
            if 0 <= v[0] < n[0] and 0 <= v[1] < n[1] and 0 <= v[2] < n[2] and 0 <= v[3] < n[3]:
                return v
        a = np.asarray(action)
        if a.shape != (4,) or a.dtype.kind not in "iu":
            if a.shape == (4,) and a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
                a = a.astype(np.int64)
            else:
                raise ValueError(
                    f"action must be 4 integers {list(self.action_names)} within {self._nvec_list}; got {action!r}"
                )
        v = a.tolist()
        n = self._nvec_list
        if not (0 <= v[0] < n[0] and 0 <= v[1] < n[1] and 0 <= v[2] < n[2] and 0 <= v[3] < n[3]):
            bad = [f"{p}={x} (allowed 0..{m - 1})" for p, x, m in zip(self.action_names, v, n) if not 0 <= x < m]
            raise ValueError(f"action outside the action space: {', '.join(bad)}")
        return v

    def _info(self) -> dict[str, Any]:
        """The info of the state just reached (see ``INFO_KEYS``); moves on ``_t_s``."""
        s = self._s0
        t = s.item(L.S_T)
        t_s = t - s.item(L.S_T0)
        dt_s = t_s - self._t_s  # 0 at reset; as the batched env computes it
        self._t_s = t_s
        return {
            "cost": s.item(L.S_COST),
            "t": t,
            "t_s": t_s,
            "dt_s": dt_s,
            "phase": L.PHASE_NAMES[self._n0.item(L.I_PHASE)],
        }

    # -- extras -------------------------------------------------------------------
    def action_masks(self) -> np.ndarray:
        """Boolean mask over the concatenated MultiDiscrete choices (MaskablePPO's layout)."""
        return self.sim.masks(0)

    @property
    def events(self) -> list[dict[str, Any]]:
        """This episode's event log: records with ``t`` (simulated s), ``kind`` and fields."""
        return self.sim.events(0)

    def render(self) -> np.ndarray | str | None:
        """The episode so far as a timeline: an ``(H, W, 3)`` uint8 image
        (``render_mode="rgb_array"``), a string (``"ansi"``), or None without a render mode."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode: make the env with 'rgb_array' or 'ansi'")
            return None
        if not self._started:
            raise RuntimeError("call reset() before render()")
        from bgenv import render as R

        if self.render_mode == "ansi":
            return R.render_timeline_ansi(self)
        return R.render_timeline_rgb(self)

    def export_events(self, path: str | Path) -> None:
        """Write the event log as JSON lines."""
        write_jsonl(self.events, path)

    def metrics(self) -> dict[str, float]:
        """Episode metrics so far (the same dict ``info['metrics']`` holds at the end)."""
        m = self.sim.metrics(0)
        if self.world is not None:
            row = world_metrics(self.sim.sf[:1], self.sim.si[:1])[0]
            m.update(zip(WORLD_METRICS, row.tolist()))
        return m
