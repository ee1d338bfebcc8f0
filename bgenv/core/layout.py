"""Index layout of the simulator's flat arrays.

The simulator keeps every device's state in a few preallocated NumPy arrays so that
the same compiled code steps one device or a batch of thousands (see ``kernel.py``).
This module names every slot. Constants are plain ints: numba freezes them at compile
time, so a named slot costs nothing in the hot path.

Arrays (``N`` = number of devices in the batch). Each has one name, used in every
signature and body of the core: the batched functions (``*_batch``) take the arrays
below, and the per-device functions take device ``i``'s row of the same array under
the same name (``sf`` is ``sf[i]``, float64 ``[NSF]``, inside ``advance``).

* ``pf``    float64 ``[NP]``                frozen parameters, compiled from a validated scenario
* ``ph``    float64 ``[NH, 24]``            hour-of-day tables (rates per hour, shares)
* ``sf``    float64 ``[N, NSF]``            float state: clock, battery, hazard clocks, event
                                            times, history, metric accumulators (``S_*``, ``M_*``)
* ``si``    int64   ``[N, NSI]``            integer state: screen, network, charging, phases,
                                            counters (``I_*``)
* ``items`` float64 ``[N, MAXI, NIF]``      the backlog, one row per work item (``IT_*``)
* ``reqs``  float64 ``[N, NSLOT, NRF]``     pending scheduler requests, one row per slot (``RQ_*``)
* ``jobs``  float64 ``[N, NJOB + NCNT, NJF]`` two rings: recent executions (time quotas) and
                                            recent alarm/push deliveries (counted limits) (``JB_*``)
* ``rng``   uint64  ``[N, 2, NRS]``         each device's two PCG64 random streams (see ``rng.py``)
* ``ev``    float64 ``[N, EV_BUF, NEVF]``   event-log records awaiting collection
* ``tts``   float64 ``[N, TTS_BUF]``        time-to-success samples of completed items
* ``obs``   float32 ``[N, NOBS]``           observations (``observation.py``)
* ``acts``  int64   ``[N, 4]``              actions: request option, delay bin, chunk bin, work kind
* ``mask``  bool    ``[N, sum(nvec)]``      action masks (``kernel.write_masks``)
"""

from __future__ import annotations


def first_of_run(table: tuple[str, ...], names: tuple[str, ...], what: str) -> int:
    """Position in ``table`` of the first of ``names``, which must follow each other there
    (the compiled writers fill such runs in a loop); an ImportError naming ``what`` if not."""
    first = table.index(names[0])
    if table[first : first + len(names)] != names:
        raise ImportError(f"{what} {names} must be consecutive")
    return first


class _Counter:
    """Hands out consecutive slot indices."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, width: int = 1) -> int:
        start = self.n
        self.n += width
        return start


# ---------------------------------------------------------------------------
# Enumerations shared by the core, the adapters and the tooling. Each code is
# written once, on the line that gives its name (``_Names``); the name tables
# (``*_NAMES``) and the name -> code maps the configuration validates against
# (``WINDOW_TYPES``, ``THERMAL_LEVELS``, ``PLATFORMS``) are read off them.
# ---------------------------------------------------------------------------
class _Names:
    """Hands out consecutive codes of one enumeration and keeps each code's name."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, name: str) -> int:
        self.names.append(name)
        return len(self.names) - 1

    def codes(self) -> dict[str, int]:
        """Name -> code."""
        return {name: code for code, name in enumerate(self.names)}


_pl = _Names()
PLATFORM_IOS = _pl("ios")
PLATFORM_ANDROID = _pl("android")
PLATFORM_NAMES = tuple(_pl.names)
PLATFORMS = _pl.codes()

_net = _Names()
NET_NONE = _net("none")
NET_CELL = _net("cellular")
NET_WIFI = _net("wifi")
NET_NAMES = tuple(_net.names)

_th = _Names()
THERMAL_NOMINAL = _th("nominal")
THERMAL_FAIR = _th("fair")
THERMAL_SERIOUS = _th("serious")
THERMAL_CRITICAL = _th("critical")
THERMAL_NAMES = tuple(_th.names)
THERMAL_LEVELS = _th.codes()

# Work kinds (backlog item kinds)
_kind = _Names()
KIND_SYNC = _kind("sync")
KIND_UPLOAD = _kind("upload")
KIND_REFRESH = _kind("refresh")
KIND_HEAVY = _kind("heavy")
KIND_NAMES = tuple(_kind.names)
NKIND = len(KIND_NAMES)

# Window (request) types
_wt = _Names()
WT_REFRESH = _wt("refresh")  # iOS BGAppRefreshTask
WT_PROCESSING = _wt("processing")  # iOS BGProcessingTask
WT_JOB = _wt("job")  # Android regular job (JobScheduler / WorkManager)
WT_EXPEDITED = _wt("expedited")  # Android expedited job
WT_HEALTH = _wt("health")  # iOS BGHealthResearchTask: processing with elevated priority (row 44)
WT_PUSH = _wt("push")  # iOS silent push / Android high-priority push (rows 27, 33, 34, 45)
WT_PUSH_NORMAL = _wt("push_normal")  # Android push delivered at normal priority (over its cap or downgraded)
WT_ALARM = _wt("alarm")  # Android alarm allowed while idle: exact with the permission (#51), else inexact
WT_FGS = _wt("fgs")  # Android dataSync foreground service, user-visible (row 37)
# --- background transfers (rows 71-81) ---
WT_TRANSFER = _wt("transfer")  # iOS: the app relaunched to handle a background URLSession's completion (rows 71-72)
WT_UIDT = _wt("uidt")  # Android 14+ user-initiated data transfer job (rows 79-81)
WT_NAMES = tuple(_wt.names)
NWT = len(WT_NAMES)
WINDOW_TYPES = _wt.codes()

# Request slots (task identifiers): one pending request per slot. A request option
# without a ``slot`` of its own takes its type's slot, a periodic job PERIODIC_SLOT.
# (push_normal has none: it is how the OS delivers a downgraded push, never requested.)
NSLOT = 6
PERIODIC_SLOT = 2
_SLOT_OF = {
    WT_REFRESH: 0,
    WT_PROCESSING: 1,
    WT_JOB: 0,
    WT_EXPEDITED: 1,
    WT_HEALTH: 2,
    WT_PUSH: 3,
    WT_ALARM: 4,
    WT_FGS: 5,
    # background transfers share slot 5 (no new launch clock, so no random draw moves):
    # on iOS it is free (no foreground service); on Android a user-initiated job and a
    # foreground service are both started from the visible app and launch at once
    WT_TRANSFER: 5,
    WT_UIDT: 5,
}
DEFAULT_SLOT = {WT_NAMES[wt]: slot for wt, slot in _SLOT_OF.items()}

# Kinds of execution kept in the ring ``jobs`` (for quotas, caps and rate limits)
# Executions with a duration (quotas by time) go in the first ring; deliveries that
# are only counted (alarms, pushes) in the second, so floods of one cannot evict the other.
JK_JOB = 0
JK_EJ = 1
JK_OTHER = 2  # refresh / processing / health (iOS): recorded, never counted
JK_FGS = 3
JK_ALARM = 4  # second ring from here
JK_PUSH = 5  # a high-priority (or iOS silent) push that shows a notification
JK_PUSH_SILENT = 6  # ... that shows none (row 34)
JK_NONE = -1  # not recorded (normal-priority pushes count against nothing)
JK_FIRST_COUNTED = JK_ALARM
_JOB_KIND_OF = {
    WT_REFRESH: JK_OTHER,
    WT_PROCESSING: JK_OTHER,
    WT_JOB: JK_JOB,
    WT_EXPEDITED: JK_EJ,
    WT_HEALTH: JK_OTHER,
    WT_PUSH: JK_PUSH,
    WT_PUSH_NORMAL: JK_NONE,
    WT_ALARM: JK_ALARM,
    WT_FGS: JK_FGS,
    WT_TRANSFER: JK_OTHER,  # iOS: recorded, never counted
    WT_UIDT: JK_OTHER,  # row 79: user-initiated jobs are not subject to quotas
}
WT_JOB_KIND = tuple(_JOB_KIND_OF[wt] for wt in range(NWT))  # indexed by window type

# Decision phases: why the agent is being asked to act
_ph = _Names()
PH_NONE = _ph("none")  # episode over / not started
PH_BACKGROUND = _ph("background")  # the app has just gone to the background
PH_WINDOW = _ph("window_start")  # the OS has just granted a background window
PH_CHUNK = _ph("chunk_done")  # a chunk inside a window has just ended (saved or failed)
PHASE_NAMES = tuple(_ph.names)
NPHASE = len(PHASE_NAMES)

# Doze states (Android)
_dz = _Names()
DZ_ACTIVE = _dz("active")
DZ_LIGHT_PRE = _dz("light_pre")
DZ_LIGHT_IDLE = _dz("light_idle")
DZ_LIGHT_MAINT = _dz("light_maintenance")
DZ_DEEP_IDLE = _dz("deep_idle")
DZ_DEEP_MAINT = _dz("deep_maintenance")
DOZE_NAMES = tuple(_dz.names)

# Standby buckets (Android)
_bk = _Names()
BK_ACTIVE = _bk("active")
BK_WORKING = _bk("working_set")
BK_FREQUENT = _bk("frequent")
BK_RARE = _bk("rare")
BK_RESTRICTED = _bk("restricted")
BUCKET_NAMES = tuple(_bk.names)
NBUCKET = len(BUCKET_NAMES)
# Doze's schedules of idle and maintenance periods (rows 23, 25): steps per schedule; the
# last step repeats (the configuration's lists have these lengths)
NLIGHT_IDLE = 3
NDEEP_IDLE = 4
NDEEP_MAINT = 2

# Why a window ended
_end = _Names()
END_COMPLETE = _end("complete")  # the app reported completion
END_EXPIRED = _end("expired")  # the window's time budget ran out
END_USER = _end("user")  # the user started using the device (iOS processing)
END_CONSTRAINT = _end("constraint")  # a constraint stopped holding (network, power, Doze, thermal)
END_KILL_MEMORY = _end("memory")  # chunk exceeded the background memory limit (jetsam): no expiration
END_KILL_GRACE = _end("grace")  # expiration handler did not finish within the grace period
END_KILL_CPU = _end("cpu")  # iOS CPU monitor: processing without external power
END_KILL_FORCE_QUIT = _end("force_quit")  # the user swiped the app away
END_KILL_OEM = _end("oem")  # a phone maker's battery killer stopped the app
END_NAMES = tuple(_end.names)
END_NONE = -1  # the window goes on

# Event-log kinds
EVK_REQUEST = 0
EVK_GRANT = 1
EVK_CHUNK = 2
EVK_EXPIRE = 3
EVK_KILL = 4
EVK_COMPLETE = 5
EVK_APP_OPEN = 6
EVK_APP_CLOSE = 7
EVK_CHARGE_START = 8
EVK_CHARGE_STOP = 9
EVK_DOZE = 10
EVK_BUCKET = 11
EVK_NETWORK = 12
EVK_THERMAL = 13
EVK_LOW_POWER = 14
EVK_SCREEN = 15
EVK_ARRIVAL = 16
EVK_FORCE_QUIT = 17
EVK_DEADLINE = 18
EVK_REFUSED = 19
EVK_LEVEL = 20  # a sample of the battery and the backlog: at reset and every simulated hour
EVK_RETRY = 21  # Android rescheduled a stopped job by itself with backoff (no app request)
EVK_TRANSFER = 22  # an iOS background transfer changed state (TX_* codes below)
EVK_RESET = 23  # a new episode: the device state the reset drew (once, before the episode's other records)
EVK_DROP = 24  # a short connectivity drop starts (on=1) or ends (on=0); the underlying network is unchanged
EVK_POWER = 25  # the phone shut down, its battery empty (on=0), or started again (on=1); replayed chargers only
# Names and the meaning of the four payload fields a, b, c, d of each kind
EVENT_SCHEMA: dict[int, tuple[str, tuple[str, ...]]] = {
    EVK_REQUEST: ("request", ("type", "earliest_begin_s", "requires_network", "requires_power")),
    EVK_GRANT: ("grant", ("type", "budget_s", "bucket", "attempt")),
    EVK_CHUNK: ("chunk", ("work_kind", "units", "saved", "duration_s")),
    EVK_EXPIRE: ("expire", ("type", "reason", "lost_units", "window_s")),
    EVK_KILL: ("kill", ("type", "reason", "lost_units", "window_s")),
    EVK_COMPLETE: ("complete", ("type", "units_done", "window_s", "backlog_units")),
    EVK_APP_OPEN: ("app_open", ("fresh", "backlog_units", "battery", "session_s")),
    EVK_APP_CLOSE: ("app_close", ("new_items", "backlog_units", "battery", "force_quit")),
    # continued: not a plug-in, the top-up charge going on at bedtime became the overnight one
    EVK_CHARGE_START: ("charge_start", ("battery", "overnight", "planned_s", "continued")),
    EVK_CHARGE_STOP: ("charge_stop", ("battery", "unused", "unused2", "unused3")),
    EVK_DOZE: ("doze", ("state", "duration_s", "unused", "unused2")),
    EVK_BUCKET: ("bucket", ("bucket", "unused", "unused2", "unused3")),
    # the underlying network (Wi-Fi, cellular or none) changed; short drops are ``drop`` records
    EVK_NETWORK: ("network", ("network", "unused", "unused2", "unused3")),
    EVK_THERMAL: ("thermal", ("level", "unused", "unused2", "unused3")),
    EVK_LOW_POWER: ("low_power", ("on", "battery", "unused", "unused2")),
    # battery: the level (fraction of full) when the screen turned on or off
    EVK_SCREEN: ("screen", ("on", "app", "battery", "unused")),
    EVK_ARRIVAL: ("arrival", ("work_kind", "units", "coalesced", "deadline_s")),
    EVK_FORCE_QUIT: ("force_quit", ("unused", "unused1", "unused2", "unused3")),
    EVK_DEADLINE: ("deadline", ("work_kind", "remaining_units", "age_s", "unused")),
    EVK_REFUSED: ("refused", ("type", "reason", "unused", "unused2")),
    EVK_LEVEL: ("level", ("battery", "backlog_units", "charging", "unused")),
    # the OS's own request: logged at the stop of the window it reschedules (type), to run
    # from earliest_begin_s (stop + backoff, row 17) as retry number attempt
    EVK_RETRY: ("retry", ("type", "earliest_begin_s", "attempt", "unused")),
    # state: a TX_* code; units: upload units in the transfer; network: the one it runs on
    # (NET_* code, 0 while waiting); discretionary: 1 when it waits for Wi-Fi and power (row 74)
    EVK_TRANSFER: ("transfer", ("state", "units", "network", "discretionary")),
    # the state at reset, before the episode's other records (screen, low_power, charging:
    # 0/1; thermal: the thermal level, decoded to its name)
    EVK_RESET: ("reset", ("screen", "thermal", "low_power", "charging")),
    # on=1 at the start of a drop (duration_s: its planned length), on=0 at its end
    # (duration_s: how long it lasted); network: the underlying network it hides
    EVK_DROP: ("drop", ("on", "network", "duration_s", "unused")),
    # on=0 when the battery ran empty unplugged (kernel._shutdown), on=1 when the phone started
    # again (plugged in, or a forced recorded level above 0); battery: the level then
    EVK_POWER: ("power", ("on", "battery", "unused", "unused2")),
}
# States of an iOS background transfer in the event log (EVK_TRANSFER)
_tx = _Names()
TX_HANDED = _tx("handed")  # the app handed upload units to the system (a new transfer, or more units)
TX_RUNNING = _tx("running")  # the system is transferring (out of the app's process)
TX_WAITING = _tx("waiting")  # held: no (allowed) network, or discretionary and not on Wi-Fi + power
TX_DONE = _tx("done")  # every unit reached the server; the app is relaunched to handle it (row 72)
TX_CANCELLED = _tx("cancelled")  # the user force-quit the app (row 73): the units are back in the queue
TX_TIMED_OUT = _tx("timed_out")  # not done within timeoutIntervalForResource (row 77)
TX_NAMES = tuple(_tx.names)
# Reasons a request is refused at submission
_rf = _Names()
REFUSE_UNAVAILABLE = _rf("unavailable")  # iOS: Background App Refresh is off (row 44)
REFUSE_INVALID = _rf("invalid")  # Android: expedited job with a delay or power constraint (row 14)
REFUSE_RATE = _rf("rate_limited")  # Android: schedule() rate limit (row 22)
REFUSE_BACKGROUND = _rf("background_start")  # Android: a foreground service cannot start from the background (row 37)
REFUSE_DROPPED = _rf("push_dropped")  # iOS: a silent push was not delivered (row 45)
REFUSE_PERMISSION = _rf("permission")  # Android: a UIDT without RUN_USER_INITIATED_JOBS (row 79)
REFUSE_NAMES = tuple(_rf.names)
REFUSE_NONE = -1  # the request is accepted

# ---------------------------------------------------------------------------
# Buffers
# ---------------------------------------------------------------------------
MAXI = 64  # backlog rows per device; when full, arrivals coalesce into a row of the same kind
NJOB = 256  # ring of recent background executions, used for rolling-window quotas
NCNT = 1024  # ring of recent alarm and push deliveries, used for counted limits
RING_JOBS = 0
RING_COUNTED = 1
NRS = 4  # uint64 words of a random stream's state: 128-bit PCG64 state and increment
RS_STATE_HI = 0
RS_STATE_LO = 1
RS_INC_HI = 2
RS_INC_LO = 3
EV_BUF = 1024  # event records buffered per device before the host collects them
EV_MARGIN = 16
TTS_BUF = 2048  # time-to-success samples kept per episode (reservoir beyond that)

# ---------------------------------------------------------------------------
# Event clocks. The first NHZ are hazard clocks (next-reaction method: each keeps
# a unit-exponential remaining hazard consumed at its current rate); the rest are
# deterministic times. All live in sf[S_EV + k].
# ---------------------------------------------------------------------------
_e = _Counter()
EV_APP_OPEN = _e()
EV_SCREEN_ON = _e()
EV_NET = _e()
EV_DROP = _e()
EV_MOTION = _e()
EV_THERMAL = _e()
EV_ARR_UPLOAD = _e()
EV_ARR_REFRESH = _e()
EV_ARR_HEAVY = _e()
EV_PLUGIN = _e()  # the user plugs in by day, not for a low battery (U15)
EV_LAUNCH = _e(NSLOT)  # one launch clock per request slot
NHZ = _e.n
EV_HOUR = _e()
EV_HORIZON = _e()
EV_APP_CLOSE = _e()
EV_SCREEN_OFF = _e()
EV_DROP_END = _e()
EV_BEDTIME = _e()
EV_TOPUP = _e()
EV_CHARGE_STOP = _e()
EV_BATT = _e()
EV_DOZE = _e()
EV_BUCKET = _e()
EV_WIN_END = _e()
EV_CHUNK_END = _e()
EV_DEADLINE = _e()
EV_WAKE = _e()  # re-evaluate gates (earliest-begin floors, quota refills, idle thresholds)
EV_TRANSFER = _e()  # iOS background transfer: done (at the current speed), may start, or times out
EV_TRACE = _e()  # the next record of a replayed trace (``replay.py``; inf without a trace)
NEV = _e.n

# ---------------------------------------------------------------------------
# Float state sf[N, NSF]
# ---------------------------------------------------------------------------
_s = _Counter()
S_T = _s()  # simulated time, s since midnight of day 0
S_T0 = _s()  # episode start time, s
S_BATT = _s()  # battery level, fraction 0..1
S_BATT_RATE = _s()  # battery level change, fraction per s (signed)
S_HZ_REM = _s(NHZ)  # remaining unit-exponential hazard per hazard clock
S_HZ_RATE = _s(NHZ)  # current rate per hazard clock, 1/s
S_HZ_GAP = _s()  # the screen-on clock's current gap as drawn (unit hazard; kernel.forget conditions on it)
S_EV = _s(NEV)  # next time of every event clock, s (inf = none)
S_SCREEN_OFF_SINCE = _s()
S_LAST_MOTION = _s()
S_LAST_OPEN = _s()  # time of the last app open (-inf = never in this episode)
S_CHARGE_PLAN_STOP = _s()  # planned end of the current charge session
S_PLUG_THR = _s()  # this episode's top-up threshold, fraction
S_HIST_B = _s()  # hidden OS behaviour score 0..1 (never observed)
S_HIST_E = _s()  # hidden OS engagement estimate, app opens per day
S_HIST_T = _s()  # time the two above were last decayed
S_USAGE = _s(24)  # OS's learned hour-of-day histogram of app opens (weights grow with time)
S_USAGE_TOT = _s()
S_WIN_START = _s()
S_WIN_BUDGET = _s()  # granted window length, s (hidden from the app)
S_WIN_UNITS = _s()  # units saved in the current window
S_WIN_ENERGY = _s()  # battery fraction used by the current window (feeds the history score)
S_CHUNK_START = _s()
S_CHUNK_UNITS = _s()
S_CHUNK_MEM = _s()
S_CPU_UNPLUGGED = _s()  # s of high CPU without external power in this processing window
S_REWARD = _s()  # reward accumulated since the last step
S_COST = _s()  # battery cost accumulated since the last step, fraction of a full battery
S_LAST_WINDOW_END = _s()
S_LAST_REFRESH = _s()  # last time content was fetched (data staleness)
S_CONTENT_UNSEEN = _s()  # content units fetched in the background and not yet shown to the user
S_CONTENT_ITEM = _s()  # arrival time of the refresh item that content belongs to (its identity)
S_DOZE_T = _s()  # when the current Doze state began
S_BUCKET_T = _s()
S_DEEP_AT = _s()  # when deep Doze may begin (stationary, unplugged, screen off)
S_DOZE_NEXT = _s()  # end of the current Doze idle/maintenance period
S_UNPLUG_T = _s()
S_APP_SESSION_LEN = _s()
S_DROP_START = _s()  # when the current connectivity drop began
# The device's own user and battery, drawn at reset around the archetype's and the battery
# model's values (``device.draw_device``; configuration ``heterogeneity``)
S_U_SCREEN_SCALE = _s()  # factor on the archetype's other screen sessions per hour (U1)
S_U_APP_SCALE = _s()  # factor on the archetype's app opens per hour (U9-U10)
S_U_SCREEN_TAIL = _s()  # scale of the screen sessions' Pareto tail, s (U1, U2)
S_U_APP_TAIL = _s()  # scale of the app sessions' Pareto tail, s (U1, U6)
S_U_APP_GLANCE = _s()  # share of app sessions that are glances (U8)
S_U_GAP_K = _s()  # Weibull shape of the gaps between screen sessions (U2)
S_U_GAP_SCALE = _s()  # ... its scale for a mean gap of 1 in the hourly rate's time
S_U_BEDTIME_H = _s()  # the device's bedtime and wake hour (U7: shifted with its day)
S_U_WAKE_H = _s()
S_U_OVERNIGHT_P = _s()  # probability of charging on a given night (U15)
S_U_PLUGINS_PER_DAY = _s()  # plug-ins per day by day, not for a low battery (U15)
S_U_LPM_ACCEPT = _s()  # probability of accepting the Low Power Mode prompt (U17)
S_U_FQ_PROB = _s()  # probability of a force-quit when leaving the app (U22)
S_U_WIFI_DOWN = _s()  # factor on the hourly Wi-Fi share (<= 1; U19)
S_U_WIFI_UP = _s()  # ... or share of the time off Wi-Fi moved onto it (>= 0)
S_PLUG_BASE = _s()  # the device's top-up threshold; S_PLUG_THR moves around it from charge to charge (U14)
S_DRAIN_OFF = _s()  # battery drain with the screen off, fraction per s (U12)
S_DRAIN_ON = _s()
S_CHARGE_OFF = _s()  # charging speed with the screen off, fraction per s (U13)
S_CHARGE_ON = _s()
S_LPM_F_ON = _s()  # factor on the screen-on drain in Low Power Mode (U18)
S_LPM_F_OFF = _s()  # ... on the screen-off drain
S_RATE_APP = _s()  # this hour's rates of the device's hazard clocks, 1/s (set when the hour changes)
S_RATE_SCREEN = _s()
S_RATE_MOTION = _s()
S_RECENT = _s(5)  # decayed counts (1-day time constant): windows, completes, expirations, kills, chunks failed
S_RECENT_T = _s()
S_EJ_BONUS = _s()  # expedited-job quota earned by screen time and interactions, s (row 12)
S_EJ_BONUS_T = _s()
S_SCHED_WIN_T = _s()  # start of the current schedule() counting minute (row 22)
S_LAST_CLOSE = _s()  # when the user last left the app
S_TEMP_EXEMPT_UNTIL = _s()  # end of a temporary Doze exemption after a high-priority push (row 27)
# --- iOS background transfer (rows 71-77): one background session, out of the app's process ---
S_TX_UNITS = _s()  # upload units handed to the system (still pending in the backlog until done)
S_TX_WORK_S = _s()  # transfer time it needs at Wi-Fi speed, s (units x s/unit + per-transfer overhead)
S_TX_DONE_S = _s()  # ... of which done, s
S_TX_START = _s()  # it may not start before this time, s (earliest begin; resume rate limiter, row 75)
S_TX_TIMEOUT = _s()  # it fails at this time, s (timeoutIntervalForResource, row 77)
S_TX_DELAY = _s()  # the resume rate limiter's current delay, s (row 75)
S_TX_ENERGY = _s()  # energy of transfers since the app was last launched for one (feeds the history)
S_TX_LAST_UNITS = _s()  # units of the last transfer done (the relaunch window's units)
S_TR_LNEXT = _s()  # replay: time of the next recorded level sample to compare, s (inf: none; replay.py)
S_TR_REPAID = _s()  # replay, LEVEL_ANCHORED: the app's background energy off the charger recharged since, fraction
# Metric accumulators
M_ARRIVED = _s()  # work units
M_COMPLETED = _s()
M_COMPLETED_BG = _s()
M_ITEMS_ARRIVED = _s()
M_ITEMS_DONE = _s()
M_VALUE = _s()
M_ENERGY = _s()  # fraction of a full battery used by background work, all of it
M_BATTERY_COST = _s()  # ... of which drawn from the battery (not on the charger)
M_WINDOWS = _s()
M_WINDOWS_BY_TYPE = _s(NWT)
M_WINDOW_S = _s()
M_COMPLETES = _s()
M_EXPIRATIONS = _s()
M_KILLS = _s()
M_KILLS_MEMORY = _s()
M_REQUESTS = _s()
M_REFUSED = _s()
M_THROTTLED = _s()
M_RETRIES = _s()
M_CHUNKS = _s()
M_CHUNKS_LOST = _s()
M_UNITS_LOST = _s()
M_OPENS = _s()
M_FRESH_OPENS = _s()
M_CONTENT_SHOWN = _s()  # content units fetched in the background and shown at an app open
M_CONTENT_REPLACED = _s()  # ... replaced by a later fetch before anyone saw them
M_DEADLINES_MISSED = _s()
M_INVALID = _s()
M_BATT_MIN = _s()
M_SCREEN_S = _s()
M_CHARGING_S = _s()
M_WIFI_S = _s()
M_CELL_S = _s()
M_LOWPOWER_S = _s()
M_DEEP_DOZE_S = _s()
M_OFF_S = _s()  # shut down with the battery empty (kernel._shutdown; replayed chargers only)
M_REWARD = _s()
M_TX_DONE = _s()  # background transfers done
M_TX_UNITS = _s()  # upload units they delivered
M_TX_CANCELLED = _s()  # ... cancelled by a force-quit or timed out
M_TR_GAP2 = _s()  # replay: sum of (simulated - recorded battery level)^2 at the recorded samples, fraction^2
M_TR_GAPN = _s()  # ... samples compared
NSF = _s.n

# ---------------------------------------------------------------------------
# Integer state si[N, NSI]
# ---------------------------------------------------------------------------
_i = _Counter()
I_STATUS = _i()  # 0 ok (decision reached), 1 needs event-log flush, 2 episode over, 3 stuck
I_PHASE = _i()
I_RESUME = _i()  # 1 while an advance has been paused mid-way (action already applied)
I_DONE = _i()
I_RNG_DRAWS = _i(2)  # draws taken from each random stream so far (rng.USER, rng.SYS)
I_EV_N = _i()
I_EV_ON = _i()  # record events
I_TTS_N = _i()
I_STEPS = _i()
I_EVENTS = _i()  # events processed this episode (performance diagnostics)
I_SCREEN = _i()  # 0 off, 1 on (other use), 2 on in this app
I_APP_FG = _i()
I_CHARGING = _i()
I_OFF = _i()  # 1 while the phone is shut down: its battery ran empty unplugged (until it is plugged in)
I_OVERNIGHT = _i()
I_NET_BASE = _i()
I_DROP = _i()
I_THERMAL = _i()
I_LOWPOWER = _i()
I_FORCE_QUIT = _i()
I_BAR_OFF = _i()
I_DOZE = _i()
I_DOZE_STEP = _i()  # index into the light/deep idle schedules
I_BUCKET = _i()
I_WIN_ACTIVE = _i()
I_WIN_SLOT = _i()
I_WIN_TYPE = _i()
I_WIN_ID = _i()
I_WIN_NET = _i()  # the running window's request required network
I_WIN_POWER = _i()  # ... required external power
I_CHUNK_ACTIVE = _i()
I_CHUNK_KIND = _i()  # -1 = several kinds (auto)
I_CHUNK_NET = _i()
I_CHUNK_FATE = _i()  # 0 completes, 4 memory kill at EV_CHUNK_END
I_LAST_CHUNK_OK = _i()
I_LAST_END = _i()  # how the last window ended
I_LAST_REFUSED = _i()
I_JOB_HEAD = _i(2)  # next row to write in each ring
I_BACKOFF_N = _i()
I_HOUR = _i()
I_NITEMS = _i()
I_SCHED_N = _i()
I_ITEMS_HI = _i()  # rows at or past this index of the backlog table are all empty (scans stop there)
I_ITEMS_DIRTY = _i()  # the backlog changed: the next soft deadline must be recomputed
I_TEMP_EXEMPT = _i()
I_WIN_NOTIFY = _i()
I_TX_ACTIVE = _i()  # an iOS background transfer is in flight
I_TX_DISC = _i()  # ... discretionary (row 74)
I_TX_CELL = _i()  # ... allowed on cellular (allowsExpensiveNetworkAccess, row 78)
I_TX_NET = _i()  # ... the network it runs on now (NET_NONE while it waits)
I_U_SHIFT = _i()  # the device's day runs this many hours later than the archetype's tables (U7)
I_OPT_CHARGING = _i()  # the device has optimised overnight charging on (U16)
I_LPM_ALWAYS = _i()  # the user keeps Low Power Mode on: on again at every unplug (U17)
# replay of a recorded trace (``replay.py``); the host sets the first three before a reset
I_TRACE = _i()  # 1: this device's episodes replay its records in the trace pool ``tr``
I_TR_OFF = _i()  # where they start in the pool (row of ``tr``)
I_TR_N = _i()  # records from there on
I_TR_FORCE = _i()  # what a recorded level sample does: LEVEL_COMPARED, LEVEL_SET or LEVEL_ANCHORED
I_TR_LN = _i()  # level samples only compared, after the I_TR_N records (0 when forced: they are records)
I_TR_LPOS = _i()  # next of those samples to compare
I_TR_POS = _i()  # next record to apply
I_TR_ON = _i()  # bit TR_* set: that channel is replayed now (recorded, not NaN)
I_TR_SEEN = _i()  # bit TR_* set: that channel was replayed at some time in this episode
I_TR_SCREEN = _i()  # the recorded screen state now (0/1; -1 unknown)
I_TR_BLOCK = _i()  # bit k set: event clock k is a synthetic driver of a channel replayed now (replay.blocked)
NSI = _i.n

# Item fields items[N, MAXI, NIF]
_f = _Counter()
IT_ACTIVE = _f()
IT_KIND = _f()
IT_REM = _f()  # remaining work units
IT_SIZE = _f()
IT_ARRIVE = _f()  # s
IT_DEADLINE = _f()  # absolute soft deadline, s
IT_WINDOWS = _f()  # windows that worked on it
IT_LAST_WIN = _f()
IT_OVERDUE = _f()
NIF = _f.n

# Request slot fields reqs[N, NSLOT, NRF]
_r = _Counter()
RQ_ACTIVE = _r()
RQ_TYPE = _r()
RQ_SUBMIT = _r()
RQ_EARLIEST = _r()
RQ_NET = _r()
RQ_POWER = _r()
RQ_ATTEMPT = _r()
RQ_THROTTLED = _r()  # already counted as throttled
RQ_PERIOD = _r()  # periodic interval, s (0 = one-off)
RQ_FLEX = _r()  # periodic flex, s
RQ_NOTIFY = _r()  # push: shows a notification (user-visible)
NRF = _r.n

# Job ring fields jobs[N, NJOB, NJF]
JB_START = 0
JB_END = 1
JB_KIND = 2  # a JK_* code
NJF = 3

# Trace records tr[n, NTRF] (replay.py), one pool shared by the devices (device i reads rows
# I_TR_OFF ...): time (s since midnight of day 0), channel, value.
# The channel codes follow bgenv.traces.CHANNELS.
NTRF = 3
TR_SCREEN = 0
TR_APP = 1
TR_PLUGGED = 2
TR_LEVEL = 3
TR_NETWORK = 4
TR_LOW_POWER = 5
TR_DOZE = 6
TR_TEMPERATURE = 7
LEVEL_COMPARED = 0  # I_TR_FORCE: the level is simulated; each recorded sample is only compared with it
LEVEL_SET = 1  # ... the level is set to each recorded sample
LEVEL_ANCHORED = 2  # ... set to each sample minus the app's background energy off the charger not yet recharged
TR_NAMES = ("screen_on", "app_open", "plugged", "battery_level", "network", "low_power", "doze", "temperature_c")
TR_REPLAYED = (TR_SCREEN, TR_APP, TR_PLUGGED, TR_LEVEL, TR_NETWORK, TR_LOW_POWER, TR_DOZE, TR_TEMPERATURE)  # replayed
# (Doze on Android with Doze on only: bgenv.world drops it elsewhere, the kernel ignores it)

# Event record fields ev[N, EV_BUF, NEVF]
NEVF = 6  # t, kind, a, b, c, d

# ---------------------------------------------------------------------------
# Hour-of-day tables ph[NH, 24]
# ---------------------------------------------------------------------------
H_APP_OPENS = 0  # app opens of this app per hour
H_SCREEN = 1  # other screen-on sessions per hour
H_WIFI = 2  # share of time on Wi-Fi
H_NONE = 3  # share of time with no network
H_MOTION = 4  # motion events per hour (break device idle)
H_UPLOAD = 5  # upload items generated per hour
H_PUBLISH = 6  # new server content per hour (makes the app's data stale)
# derived by params.compile_params, so the event loop reads rates instead of dividing:
H_APP_OPENS_PER_S = 7  # H_APP_OPENS / 3600
H_SCREEN_PER_S = 8  # H_SCREEN / 3600
H_MOTION_PER_S = 9  # H_MOTION / 3600
H_UPLOAD_PER_S = 10  # H_UPLOAD / 3600
H_PUBLISH_PER_S = 11  # H_PUBLISH / 3600
H_PLUGIN_PER_S = 12  # daytime plug-ins per s per plug-in a day: waking hours only (U15)
NH = 13

# ---------------------------------------------------------------------------
# Parameters pf[NP]. Filled by ``params.compile_params`` from a validated Scenario;
# each slot's meaning, unit and source row are documented on the config field.
# ---------------------------------------------------------------------------
MAX_OPTS = 14  # request options in an action table
MAX_BINS = 12  # delay or chunk-size bins
_p = _Counter()
P_PLATFORM = _p()
P_HORIZON_S = _p()
P_START_HOUR = _p()
P_BATT_INIT_LO = _p()
P_BATT_INIT_HI = _p()
# user
P_APP_SESSION_MEAN_S = _p()
P_SCREEN_SESSION_MEAN_S = _p()
P_SESSION_MIN_S = _p()
P_NET_DWELL_S = _p()
P_NET_CHANGE_PER_S = _p()  # derived: 1 / P_NET_DWELL_S
P_DROPS_PER_S = _p()
P_DROP_MEAN_S = _p()
P_BEDTIME_H = _p()
P_WAKE_H = _p()
P_CHARGE_JITTER_S = _p()
P_OVERNIGHT_PROB = _p()
P_PLUG_P10 = _p()
P_PLUG_P20 = _p()
P_PLUG_L10 = _p()  # level the first group of top-ups waits for (U14)
P_PLUG_L20 = _p()  # level the second group waits for (U14)
P_PLUG_HI_LO = _p()
P_PLUG_HI_HI = _p()
P_TOPUP_DELAY_S = _p()
P_PLUG_NOW_LEVEL = _p()  # the user plugs in at once at this level
P_TOPUP_DURATION_S = _p()
P_LPM_ACCEPT = _p()
P_FORCE_QUIT_PROB = _p()
P_BAR_OFF_PROB = _p()
P_MUTATIONS_PER_OPEN = _p()
P_HEAVY_PER_S = _p()
P_INIT_ENGAGEMENT = _p()  # opens/day the OS believes at t0 (0 = fresh install)
P_INIT_LAST_OPEN_AGO_S = _p()
P_SCREEN_GLANCE_P = _p()  # sessions: a glance or a shifted-Pareto tail (U2, U6, U8)
P_SCREEN_GLANCE_MIN_S = _p()
P_SCREEN_GLANCE_MEAN_S = _p()
P_SESSION_TAIL_A = _p()
P_SESSION_MAX_S = _p()
P_GAP_SHAPE = _p()
P_APP_GLANCE_P = _p()
P_APP_GLANCE_MIN_S = _p()
P_APP_GLANCE_MEAN_S = _p()
P_APP_SESSION_MIN_S = _p()
P_APP_TAIL_A = _p()
P_APP_SESSION_MAX_S = _p()
P_PLUGINS_PER_DAY = _p()
P_WIFI_MEAN = _p()  # derived: the daily mean of the hourly Wi-Fi share
P_WIFI_CAP_MEAN = _p()  # derived: the daily mean of 1 - the no-network share
P_SCREEN_SQ = _p()  # derived: sum of squared screen sessions per hour / (3600 x their sum)
P_SCREEN_APP = _p()  # derived: sum of screen sessions x app opens per hour / (3600 x the first's sum)
# heterogeneity: how devices differ (drawn at reset)
P_HET = _p()  # 1 = draw per-device values
P_SIG_SCREEN = _p()
P_SIG_APP = _p()
P_SIG_SESSION = _p()
P_GAP_SPREAD = _p()
P_SLEEP_SD_H = _p()
P_SLEEP_MAX_H = _p()
P_APP_GLANCE_SD = _p()
P_SIG_DRAIN_OFF = _p()
P_SIG_DRAIN_ON = _p()
P_DRAIN_RHO = _p()
P_SIG_CHARGE = _p()
P_CHARGE_ON_LO = _p()
P_CHARGE_ON_HI = _p()
P_CLIP_SD = _p()
P_PLUG_LOW_MIN = _p()
P_PLUG_JITTER = _p()
P_OVN_MISS = _p()
P_OVN_OCC = _p()
P_PLUGIN_HABIT = _p()
P_PLUGIN_HABIT_LO = _p()
P_PLUGIN_HABIT_HI = _p()
P_PLUGIN_OTHER = _p()
P_OPT_SHARE = _p()
P_LPM_ALWAYS = _p()
P_LPM_ACCEPT_SD = _p()
P_WIFI_SD = _p()
P_FQ_HABIT = _p()
P_FQ_HABIT_MULT = _p()
# battery
P_DRAIN_OFF = _p()  # fraction per s
P_DRAIN_ON = _p()
P_CHARGE_OFF = _p()
P_CHARGE_ON = _p()
P_CPU_DRAIN = _p()  # fraction per s at full background CPU
P_RADIO_CELL = _p()  # fraction per network work unit on cellular
P_RADIO_WIFI = _p()
P_WAKE_ENERGY = _p()  # fraction of a full battery to launch the app for a window
P_OPT_CHARGING = _p()
P_OPT_HOLD = _p()
P_OPT_FINISH_S = _p()
P_LPM_ON_LO = _p()  # [low, high] factor on the screen-on drain in Low Power Mode (U18)
P_LPM_ON_HI = _p()
P_LPM_OFF_LO = _p()  # ... on the screen-off drain
P_LPM_OFF_HI = _p()
# thermal
P_TH_UP = _p()  # per s, base rate of a step up
P_TH_DOWN = _p()  # per s, rate of a step down
P_TH_CHARGE_MULT = _p()
P_TH_SCREEN_MULT = _p()
P_TH_WORK_MULT = _p()
P_TH_SPEED_SERIOUS = _p()
P_TH_SPEED_CRITICAL = _p()
P_TH_REPLAY_C = _p(3)  # replayed trace: battery temperature from which fair, serious, critical, °C
P_REPLAY_NIGHT_H = _p()  # replayed trace: a charge spanning this hour of day is overnight
# workload, per kind
P_K_SIZE = _p(NKIND)  # mean work units per item
P_K_VALUE = _p(NKIND)  # value per work unit
P_K_NET = _p(NKIND)  # 1 = needs network
P_K_DEADLINE = _p(NKIND)  # soft deadline after arrival, s
P_K_CPU = _p(NKIND)  # CPU fraction while working on it
P_K_MEM = _p(NKIND)  # MB per work unit in a chunk
P_K_SEC = _p(NKIND)  # s per work unit at nominal speed on Wi-Fi
P_K_PRIORITY = _p(NKIND)  # rank used by 'auto' (lower first)
P_CELL_SLOWDOWN = _p()
P_MIN_ITEM_UNITS = _p()
P_CHUNK_OVERHEAD_S = _p()
P_BASE_MEM_MB = _p()
P_CANCEL_S = _p()
P_CANCEL_PER_UNIT_S = _p()
P_REFRESH_FOREGROUND = _p()
# action tables
P_NOPTS = _p()
P_OPT_SLOT = _p(MAX_OPTS)
P_OPT_TYPE = _p(MAX_OPTS)
P_OPT_NET = _p(MAX_OPTS)
P_OPT_POWER = _p(MAX_OPTS)
P_OPT_PERIODIC = _p(MAX_OPTS)
P_OPT_NOTIFY = _p(MAX_OPTS)
P_NDELAY = _p()
P_DELAY_BINS = _p(MAX_BINS)
P_NCHUNK = _p()
P_CHUNK_BINS = _p(MAX_BINS)
# 1 = the request mask advises against a senseless resubmission (``kernel.write_masks``);
# always 1 from the profile, 0 only in tests comparing with the masks before that advice
P_MASK_RESUBMIT = _p()
# scheduler profile: common
P_MEM_LIMIT_MB = _p()
P_GRACE_S = _p()
P_LOW_BATT = _p()
P_LOW_BATT_GATE = _p()
P_LPM_ON_THR = _p()
P_LPM_OFF_THR = _p()
P_LPM_ON_THR2 = _p()  # a second prompt after a refused one (-1: none)
P_FORCE_QUIT_STOPS = _p()
P_IDLE_SCREEN_OFF_S = _p()
P_IDLE_STATIONARY_S = _p()
# per window type
P_WT_BUDGET = _p(NWT)
P_WT_RATE = _p(NWT)
P_WT_NEEDS_IDLE = _p(NWT)
P_WT_NEEDS_BG = _p(NWT)
P_WT_EARLY_P = _p(NWT)
P_WT_EARLY_LO = _p(NWT)
P_WT_EARLY_HI = _p(NWT)
P_WT_THERMAL_MAX = _p(NWT)
P_WT_LPM_BLOCKS = _p(NWT)
P_WT_UNPLUGGED_MULT = _p(NWT)
P_WT_USAGE_DRIVEN = _p(NWT)
P_WT_DOZE_EXEMPT = _p(NWT)
P_WT_QUOTA = _p(NWT)
# history (hidden score)
P_HB_INIT = _p()
P_HB_COMPLETE = _p()
P_HB_EXPIRE = _p()
P_HB_KILL = _p()
P_HB_ENERGY = _p()  # per fraction of a full battery
P_HB_TAU_S = _p()
P_HB_GAMMA = _p()
P_HB_DURATION = _p()  # how much a poor score shortens windows (0..1)
P_HE_TAU_S = _p()
P_HE_HALF = _p()
P_USAGE_TAU_S = _p()
P_USAGE_FLOOR = _p()
P_USAGE_NOW_WEIGHT = _p()
P_USAGE_MAX_FACTOR = _p()
P_RECENT_USE_S = _p()
P_CPU_KILL_S = _p()
P_CPU_KILL_FRAC = _p()
# Android
P_BUCKET_THR_S = _p(NBUCKET - 1)  # hours since the last open at which each bucket after active begins
P_QUOTA_S = _p(NBUCKET)
P_COUNT_FG_JOBS = _p()
P_EJ_REFILL_SCREEN = _p()  # s of expedited quota per s on screen
P_EJ_REFILL_OPEN = _p()  # s of expedited quota per interaction
P_OEM_KILLER = _p()
P_OEM_RECENT_S = _p()
P_PERIODIC_MIN_S = _p()
P_FLEX_MIN_S = _p()
P_FLEX_MIN_FRAC = _p()
P_PUSH_CAP = _p(NBUCKET)  # high-priority pushes per day per bucket (row 33)
P_PUSH_DOWNGRADE = _p()  # silent high-priority pushes (7-day decayed) before downgrade (row 34)
P_PUSH_EXEMPT_S = _p()  # temporary Doze exemption after a high-priority push, s (row 27)
P_ALARM_COUNT = _p(NBUCKET)  # alarms per window per bucket (row 28)
P_ALARM_WIN_S = _p(NBUCKET)
P_ALARM_DOZE_PER_H = _p()  # exact allow-while-idle alarms per hour while idle (rows 29, 55)
P_EXACT_ALARM = _p()  # 1 = the app holds SCHEDULE_EXACT_ALARM (row 51): alarms are exact
P_ALARM_COMPAT_PER_H = _p()  # inexact allow-while-idle alarms per hour while idle (row 55)
P_ALARM_WINDOW_FRAC = _p()  # inexact alarm: delivery window as a share of the delay (row 59)
P_ALARM_WINDOW_MAX_S = _p()  # ... capped at this, s
P_ALARM_MIN_FUTURITY_S = _p()  # ... and none for delays shorter than this, s
P_FGS_QUOTA_S = _p()  # dataSync foreground service time per window (row 37)
P_FGS_WIN_S = _p()
P_FGS_START_GRACE_S = _p()  # how long after leaving the app it may still start one
P_PUSH_PER_H = _p()  # iOS silent pushes delivered per hour (row 45)
P_PUSH_DROP = _p()  # iOS: probability a silent push is not delivered
P_QUOTA_WIN_S = _p(NBUCKET)
P_JOB_COUNT = _p(NBUCKET)
P_SESSION_COUNT = _p(NBUCKET)
P_SESSION_GAP_S = _p()
P_RATE_PER_MIN = _p()
P_QUOTA_BUFFER_S = _p()
P_QUOTA_CHARGING_WAIVED = _p()
P_TOTAL_CAP_S = _p()
P_TOTAL_CAP_WIN_S = _p()
P_EJ_QUOTA_S = _p(NBUCKET)
P_EJ_WIN_S = _p()
P_EJ_MIN_S = _p()
P_RUN_LIMIT_WAIVED_S = _p()
P_BACKOFF_INIT_S = _p()
P_BACKOFF_MAX_S = _p()
P_BACKOFF_EXP = _p()
P_RESCHEDULE_ON_STOP = _p()
P_DOZE_ON = _p()
P_LIGHT_AFTER_S = _p()
P_LIGHT_IDLE_S = _p(NLIGHT_IDLE)
P_LIGHT_MAINT_MIN_S = _p()
P_LIGHT_MAINT_MAX_S = _p()
P_DEEP_AFTER_S = _p()
P_DEEP_IDLE_S = _p(NDEEP_IDLE)
P_DEEP_MAINT_S = _p(NDEEP_MAINT)
P_SAVER_DOZE_AFTER_S = _p()
P_RARE_NET_BLOCK = _p()
P_SCHEDULE_PER_MIN = _p()
# reward weights
P_W_VALUE = _p()
P_W_FRESH = _p()
P_W_STALE = _p()
P_W_BATTERY = _p()  # per % of a full battery drawn off the charger
P_W_CHARGER = _p()  # per % of a full battery of background energy drawn on the charger
P_W_WAKE = _p()  # per launch of the app into a background window (alarm and push deliveries too)
P_W_EXPIRE = _p()
P_W_KILL = _p()
P_W_DEADLINE = _p()
P_W_THROTTLE = _p()
P_W_INVALID = _p()
P_W_NOTIFY = _p()  # per notification shown to the user (push with notification, foreground service)
# background transfers (rows 71-81)
P_OPT_DISC = _p(MAX_OPTS)  # iOS transfer option: discretionary (row 74)
P_OPT_CELL = _p(MAX_OPTS)  # iOS transfer option: allowed on cellular (allowsExpensiveNetworkAccess, row 78)
P_TX_OVERHEAD_S = _p()  # transfer time per transfer on top of its units, s (request and response)
P_TX_FG_GRACE_S = _p()  # a transfer created this soon after the user left counts as created in the foreground, s
P_TX_DELAY0_S = _p()  # resume rate limiter: first delay, s (row 75)
P_TX_DELAY_MAX_S = _p()  # ... cap on its doubling, s
P_TX_TIMEOUT_S = _p()  # timeoutIntervalForResource, s (row 77)
P_TX_DISC_POWER = _p()  # 1 = a discretionary transfer waits for external power as well as Wi-Fi (row 74)
P_UIDT_PERMISSION = _p()  # 1 = the app holds RUN_USER_INITIATED_JOBS (row 79)
NP = _p.n
