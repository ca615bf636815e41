"""Mission states (same numbers as lingnav_msgs/NavStatus) and failure reasons."""
from __future__ import annotations

from enum import IntEnum


class MissionState(IntEnum):
    IDLE = 0
    QUERYING = 1
    SEARCHING = 2
    APPROACHING = 3
    EXECUTING_MOVE = 4
    ARRIVED = 5
    FAILED = 6
    STOPPED = 7
    ESTOP = 8


TERMINAL_STATES = frozenset({MissionState.IDLE, MissionState.ARRIVED, MissionState.FAILED,
                             MissionState.STOPPED, MissionState.ESTOP})
MOTION_STATES = frozenset({MissionState.SEARCHING, MissionState.APPROACHING, MissionState.EXECUTING_MOVE})


class Reason:
    """Reason prefixes; the text after them says what exactly happened."""

    SEARCH_EXHAUSTED = "search exhausted"
    TIMEOUT = "timeout"
    S2_UNREACHABLE = "S2 server unreachable"
    S1_UNREACHABLE = "S1 server unreachable"
    S2_REJECTED = "S2 rejected the request"
    S1_FAILED = "S1 failed"
    NO_SAFE_PATH = "no safe path"
    NO_PROGRESS = "no progress"
    WAITING_FOR_MOVER = "waiting for a moving obstacle to clear the way"
    MOVE_FAILED = "move step failed"
    CANCELLED = "cancelled"
    PREEMPTED = "preempted by a new instruction"
    ESTOP = "e-stop engaged"
    ESTOP_RELEASED = "e-stop released"
    ARRIVED_S2 = "S2 says stop"
    ARRIVED_DISTANCE = "target within arrive distance"
    MOVES_DONE = "instruction moves completed"
