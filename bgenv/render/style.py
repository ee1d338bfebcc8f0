"""How the timeline shows things: colours, labels and text characters, in one place.

The picture (``bgenv.render.figure``) and the text timeline (``bgenv.render.ansi``)
both take their names, colours and characters from here; the states themselves are the
event log's (``bgenv.eventlog``, ``bgenv.core.layout``).
"""

from __future__ import annotations

from bgenv.eventlog import OUTCOMES

__all__ = [
    "BACKLOG_COLOR",
    "BATTERY_COLOR",
    "BUCKET_CHAR",
    "BUCKET_COLOR",
    "BUCKET_LABEL",
    "CHARGING_COLOR",
    "DOZE_CHAR",
    "DOZE_COLOR",
    "DOZE_LABEL",
    "LOW_POWER_COLOR",
    "NETWORK_CHAR",
    "NETWORK_COLOR",
    "NETWORK_LABEL",
    "NETWORK_STATES",
    "OFF_COLOR",
    "OUTCOMES",
    "OUTCOME_CHAR",
    "OUTCOME_COLOR",
    "OUTCOME_LABEL",
    "PLATFORM_NAME",
    "REFUSED_COLOR",
    "REQUEST_CHAR",
    "REQUEST_COLOR",
    "SCREEN_COLOR",
    "THERMAL_CHAR",
    "THERMAL_COLOR",
    "TYPE_LABEL",
    "low_power_name",
]

PLATFORM_NAME = {"ios": "iOS", "android": "Android"}

# -- windows (outcomes in legend order: eventlog.OUTCOMES) --------------------------------
OUTCOME_LABEL = {  # legend text
    "completed": "completed",
    "expired": "expired",
    "stopped": "stopped early (user / constraint)",
    "killed": "killed",
    "running": "running",
}
OUTCOME_COLOR = {
    "completed": "#2ca02c",
    "expired": "#ff7f0e",
    "stopped": "#e7ba52",
    "killed": "#d62728",
    "running": "#8c8c8c",
}
TYPE_LABEL = {  # row labels of the requests and windows lanes (layout.WT_NAMES)
    "refresh": "refresh",
    "processing": "processing",
    "job": "job",
    "expedited": "expedited",
    "health": "health research",
    "push": "push",
    "push_normal": "push (normal)",
    "alarm": "alarm",
    "fgs": "foreground svc",
    "transfer": "transfer relaunch",
    "uidt": "user-initiated job",
}

# -- device state bands -----------------------------------------------------------------
SCREEN_COLOR = {"other": "#c4c4c4", "app": "#6a51a3"}
NETWORK_STATES = ("none", "cellular", "wifi")
NETWORK_COLOR = {"none": "#f2f2f2", "cellular": "#9ecae1", "wifi": "#2171b5"}
NETWORK_LABEL = {"none": "no network", "cellular": "cellular", "wifi": "Wi-Fi"}
DOZE_COLOR = {
    "light_pre": "#ece9f4",
    "light_idle": "#b3acd9",
    "light_maintenance": "#d5edcc",
    "deep_idle": "#3f2a7a",
    "deep_maintenance": "#8fcf7f",
}
DOZE_LABEL = {
    "light_pre": "screen off, not idle yet",
    "light_idle": "light idle",
    "light_maintenance": "light maintenance",
    "deep_idle": "deep idle",
    "deep_maintenance": "deep maintenance",
}
BUCKET_COLOR = {
    "active": "#b8e186",
    "working_set": "#e6f5d0",
    "frequent": "#fee08b",
    "rare": "#fc8d59",
    "restricted": "#d73027",
}
BUCKET_LABEL = {
    "active": "active",
    "working_set": "working set",
    "frequent": "frequent",
    "rare": "rare",
    "restricted": "restricted",
}
THERMAL_COLOR = {"fair": "#fee391", "serious": "#fe9929", "critical": "#b35806"}
LOW_POWER_COLOR = "#8073ac"
CHARGING_COLOR = "#cdebc0"
OFF_COLOR = "#5a5a5a"  # a replayed phone shut down, its battery empty

# -- lines and marks ----------------------------------------------------------------------
BATTERY_COLOR = "#222222"
BACKLOG_COLOR = "#4a6fa5"
REQUEST_COLOR = "#37474f"
REFUSED_COLOR = "#d62728"


def low_power_name(platform: str) -> str:
    """What the platform calls its power-saving mode (the lane's title)."""
    return "Battery Saver" if platform == "android" else "Low Power Mode"


# -- text timeline: one character per state -------------------------------------------------
OUTCOME_CHAR = {"killed": "K", "expired": "E", "stopped": "S", "completed": "C", "running": "R"}
REQUEST_CHAR = {
    "refresh": "r",
    "processing": "p",
    "health": "h",
    "job": "j",
    "expedited": "x",
    "push": "u",
    "push_normal": "u",
    "alarm": "a",
    "fgs": "f",
    "transfer": "t",
    "uidt": "i",
}
NETWORK_CHAR = {"none": "-", "cellular": "c", "wifi": "W"}
DOZE_CHAR = {
    "active": "·",
    "light_pre": ":",
    "light_idle": "l",
    "light_maintenance": "m",
    "deep_idle": "D",
    "deep_maintenance": "M",
}
BUCKET_CHAR = {"active": "A", "working_set": "W", "frequent": "F", "rare": "R", "restricted": "X"}
THERMAL_CHAR = {"nominal": "·", "fair": "f", "serious": "s", "critical": "C"}
