"""iOS background transfers: a background URLSession's upload task (PLATFORM_FACTS rows 71-78).

The app hands its pending upload units to the system, which sends them from its own
process (row 71): the app need not run, no CPU is used, only the radio of the network
the transfer runs on (``battery.transfer_power``, priced as all background energy). One
background session per app: a request while a transfer is in flight adds the upload
units that arrived since to it. The units stay in the backlog, reserved (``S_TX_UNITS``,
never worked by chunks), until the transfer is done; then they are completed at once,
paid as uploads saved in the background (``reward.reward_work``), and the app is
relaunched in the background to handle the completion (row 72): a short window of type
``transfer`` that costs a wake-up and counts for the app's history, with the transfer's
energy (``S_TX_ENERGY``) and its units.

Rules:

* a transfer runs on Wi-Fi, or on cellular when it allows expensive networks
  (``allows_cellular``, row 78); a *discretionary* one waits for Wi-Fi and external
  power (row 74) and is paused by Low Power Mode (row 47); a transfer created in the
  background (later than ``transfer_foreground_grace_s`` after the user left) is always
  discretionary (row 74);
* a transfer created in the background starts only after the resume rate limiter's
  delay, which starts at 60 s, doubles at each relaunch and returns to 0 when the user
  opens the app (row 75);
* a force-quit cancels it (row 73): the units go back to the queue and no relaunch
  follows; a system kill of the app (jetsam) does not touch it;
* it fails after ``timeoutIntervalForResource`` (7 days, row 77); a network outage only
  pauses it.

Units: work units (the upload kind's seconds per unit on Wi-Fi, slower on cellular by
``workload.cellular_slowdown``), seconds, fractions of a full battery.
"""

from __future__ import annotations

import numpy as np

from bgenv.core.battery import spend_transfer, transfer_power
from bgenv.core.eventlog import log_event
from bgenv.core.jit import kjit
from bgenv.core.layout import (
    EV_LAUNCH,
    EVK_TRANSFER,
    I_APP_FG,
    I_CHARGING,
    I_LOWPOWER,
    I_OFF,
    I_TX_ACTIVE,
    I_TX_CELL,
    I_TX_DISC,
    I_TX_NET,
    KIND_UPLOAD,
    M_TX_CANCELLED,
    M_TX_DONE,
    M_TX_UNITS,
    NET_CELL,
    NET_NONE,
    NET_WIFI,
    P_CELL_SLOWDOWN,
    P_K_SEC,
    P_OPT_CELL,
    P_OPT_DISC,
    P_TX_DELAY0_S,
    P_TX_DELAY_MAX_S,
    P_TX_DISC_POWER,
    P_TX_FG_GRACE_S,
    P_TX_OVERHEAD_S,
    P_TX_TIMEOUT_S,
    RQ_ACTIVE,
    RQ_ATTEMPT,
    RQ_EARLIEST,
    RQ_FLEX,
    RQ_NET,
    RQ_NOTIFY,
    RQ_PERIOD,
    RQ_POWER,
    RQ_SUBMIT,
    RQ_THROTTLED,
    RQ_TYPE,
    S_HZ_REM,
    S_LAST_CLOSE,
    S_T,
    S_TX_DELAY,
    S_TX_DONE_S,
    S_TX_ENERGY,
    S_TX_LAST_UNITS,
    S_TX_START,
    S_TX_TIMEOUT,
    S_TX_UNITS,
    S_TX_WORK_S,
    S_WIN_ENERGY,
    S_WIN_UNITS,
    TX_CANCELLED,
    TX_DONE,
    TX_HANDED,
    TX_RUNNING,
    TX_TIMED_OUT,
    TX_WAITING,
    WT_TRANSFER,
)
from bgenv.core.reward import reward_work
from bgenv.core.rng import SYS, expo
from bgenv.core.scheduler import effective_net
from bgenv.core.workload import complete_units, pending_units

INF = np.inf
TX_SLOT = 5  # layout.DEFAULT_SLOT["transfer"]: the relaunch's request slot
DONE_TOL_S = 1e-6  # a transfer this close to its end is done, s


@kjit(inline="always")
def created_in_background(pf, sf, si) -> bool:
    """A task created now counts as created in the background (rows 74, 75): the app is
    not on screen and the user left it more than ``transfer_foreground_grace_s`` ago."""
    return si[I_APP_FG] == 0 and sf[S_T] - sf[S_LAST_CLOSE] > pf[P_TX_FG_GRACE_S]


@kjit
def transfer_submit(pf, sf, si, items, ev, opt: int, delay: float) -> None:
    """The app creates upload tasks in its background session with request option ``opt``
    and an earliest-begin ``delay`` (s, a floor, row 76): every upload unit not yet
    handed over goes to the system. A new transfer takes the option's flags; a request
    while one is in flight adds the units to it (its flags and start stay)."""
    t = sf[S_T]
    free = max(0.0, pending_units(si, items, KIND_UPLOAD) - sf[S_TX_UNITS])
    background = created_in_background(pf, sf, si)
    if si[I_TX_ACTIVE] == 0:
        si[I_TX_ACTIVE] = 1
        si[I_TX_DISC] = 1 if (pf[P_OPT_DISC + opt] != 0.0 or background) else 0  # row 74
        si[I_TX_CELL] = 1 if pf[P_OPT_CELL + opt] != 0.0 else 0
        si[I_TX_NET] = NET_NONE
        sf[S_TX_UNITS] = 0.0
        sf[S_TX_WORK_S] = pf[P_TX_OVERHEAD_S]
        sf[S_TX_DONE_S] = 0.0
        start = t + delay
        if background:
            start += sf[S_TX_DELAY]  # row 75: the resume rate limiter
        sf[S_TX_START] = start
        sf[S_TX_TIMEOUT] = t + pf[P_TX_TIMEOUT_S]  # row 77
    sf[S_TX_UNITS] += free
    sf[S_TX_WORK_S] += free * pf[P_K_SEC + KIND_UPLOAD]
    log_event(sf, si, ev, EVK_TRANSFER, TX_HANDED, sf[S_TX_UNITS], 0.0, float(si[I_TX_DISC]))


@kjit(inline="always")
def transfer_net(pf, sf, si) -> int:
    """The network the transfer in flight may run on now (NET_NONE: it waits)."""
    if si[I_TX_ACTIVE] == 0 or sf[S_T] < sf[S_TX_START] or si[I_OFF] != 0:
        return NET_NONE  # (a phone shut down holds its transfer: kernel._shutdown)
    net = effective_net(pf, si, True)
    if net == NET_NONE:
        return NET_NONE
    if si[I_TX_DISC] != 0:
        if net != NET_WIFI or si[I_LOWPOWER] != 0:  # rows 74, 47
            return NET_NONE
        if pf[P_TX_DISC_POWER] != 0.0 and si[I_CHARGING] == 0:  # row 74
            return NET_NONE
    elif net == NET_CELL and si[I_TX_CELL] == 0:  # row 78
        return NET_NONE
    return net


@kjit(inline="always")
def _slowdown(pf, net: int) -> float:
    return pf[P_CELL_SLOWDOWN] if net == NET_CELL else 1.0


@kjit
def transfer_update(pf, sf, si, ev) -> None:
    """Re-decide whether the transfer runs (after every change of state); logs each
    switch between running and waiting."""
    if si[I_TX_ACTIVE] == 0:
        return
    net = transfer_net(pf, sf, si)
    if net != si[I_TX_NET]:
        si[I_TX_NET] = net
        state = TX_WAITING if net == NET_NONE else TX_RUNNING
        log_event(sf, si, ev, EVK_TRANSFER, state, sf[S_TX_UNITS], float(net), float(si[I_TX_DISC]))


@kjit(inline="always")
def transfer_progress(pf, sf, si, dt: float) -> None:
    """Move the running transfer ``dt`` s on and spend its radio energy."""
    net = si[I_TX_NET]
    if si[I_TX_ACTIVE] == 0 or net == NET_NONE:
        return
    sf[S_TX_DONE_S] += dt / _slowdown(pf, net)
    spend_transfer(pf, sf, si, transfer_power(pf, si) * dt)


@kjit(inline="always")
def transfer_next(pf, sf, si) -> float:
    """Next time the transfer needs attention, s: its end at the current speed, the end
    of its start delay, or its timeout (inf when none is in flight)."""
    if si[I_TX_ACTIVE] == 0:
        return INF
    t = sf[S_T]
    nxt = sf[S_TX_TIMEOUT]
    net = si[I_TX_NET]
    if net != NET_NONE:
        nxt = min(nxt, t + max(0.0, sf[S_TX_WORK_S] - sf[S_TX_DONE_S]) * _slowdown(pf, net))
    elif t < sf[S_TX_START]:
        nxt = min(nxt, sf[S_TX_START])
    return nxt


@kjit(inline="always")
def _clear(si) -> None:
    si[I_TX_ACTIVE] = 0
    si[I_TX_NET] = NET_NONE
    si[I_TX_DISC] = 0
    si[I_TX_CELL] = 0


@kjit(inline="always")
def _relaunch(sf, si, reqs, rng) -> None:
    """Ask for the background launch that delivers the session's events (row 72); an app
    on screen gets them at once, with no launch."""
    if si[I_APP_FG] != 0:
        return
    s = TX_SLOT
    reqs[s, RQ_ACTIVE] = 1.0
    reqs[s, RQ_TYPE] = WT_TRANSFER
    reqs[s, RQ_SUBMIT] = sf[S_T]
    reqs[s, RQ_EARLIEST] = sf[S_T]
    reqs[s, RQ_PERIOD] = 0.0
    reqs[s, RQ_FLEX] = 0.0
    reqs[s, RQ_NOTIFY] = 0.0
    reqs[s, RQ_NET] = 0.0
    reqs[s, RQ_POWER] = 0.0
    reqs[s, RQ_ATTEMPT] = 0.0
    reqs[s, RQ_THROTTLED] = 0.0
    sf[S_HZ_REM + EV_LAUNCH + s] = expo(si, rng, SYS, 1.0)


@kjit
def transfer_event(pf, sf, si, items, reqs, rng, ev, tts) -> None:
    """The transfer's clock fired: done (its units are completed and paid, the app is
    relaunched), timed out (row 77: the units go back to the queue, the app is relaunched
    to learn of the failure) or only its start delay ended (``transfer_update`` starts it)."""
    if si[I_TX_ACTIVE] == 0:
        return
    t = sf[S_T]
    if si[I_TX_NET] != NET_NONE and sf[S_TX_DONE_S] >= sf[S_TX_WORK_S] - DONE_TOL_S:
        units = sf[S_TX_UNITS]
        done = complete_units(sf, si, items, rng, tts, KIND_UPLOAD, units, True)
        reward_work(pf, sf, KIND_UPLOAD, done)
        sf[M_TX_DONE] += 1.0
        sf[M_TX_UNITS] += done
        sf[S_TX_LAST_UNITS] = done
        log_event(sf, si, ev, EVK_TRANSFER, TX_DONE, done, float(si[I_TX_NET]), float(si[I_TX_DISC]))
    elif t >= sf[S_TX_TIMEOUT]:
        sf[M_TX_CANCELLED] += 1.0
        sf[S_TX_LAST_UNITS] = 0.0
        log_event(sf, si, ev, EVK_TRANSFER, TX_TIMED_OUT, sf[S_TX_UNITS], 0.0, float(si[I_TX_DISC]))
    else:
        return
    sf[S_TX_UNITS] = 0.0
    _clear(si)
    _relaunch(sf, si, reqs, rng)


@kjit
def transfer_force_quit(sf, si, ev) -> None:
    """The user force-quit the app: the system cancels its background transfers (row 73);
    the units go back to the queue, and no relaunch follows."""
    if si[I_TX_ACTIVE] == 0:
        return
    sf[M_TX_CANCELLED] += 1.0
    log_event(sf, si, ev, EVK_TRANSFER, TX_CANCELLED, sf[S_TX_UNITS], 0.0, float(si[I_TX_DISC]))
    sf[S_TX_UNITS] = 0.0
    _clear(si)


@kjit(inline="always")
def transfer_open(sf) -> None:
    """The user brought the app to the front: the resume rate limiter's delay is 0 again (row 75)."""
    sf[S_TX_DELAY] = 0.0


@kjit(inline="always")
def transfer_relaunched(pf, sf) -> None:
    """The app was launched for its session's events: the window carries the transfer's
    units and energy into the history (rows 67, 72), and the resume rate limiter's delay
    doubles (60 s the first time, row 75)."""
    sf[S_WIN_UNITS] = sf[S_TX_LAST_UNITS]
    sf[S_TX_LAST_UNITS] = 0.0
    sf[S_WIN_ENERGY] += sf[S_TX_ENERGY]
    sf[S_TX_ENERGY] = 0.0
    d = sf[S_TX_DELAY]
    sf[S_TX_DELAY] = min(pf[P_TX_DELAY_MAX_S], pf[P_TX_DELAY0_S] if d <= 0.0 else 2.0 * d)
