"""Why an active mission holds the robot still, when nothing else says so.

A robot that stops must say why. The watchdog, collision monitor and server outages name their
own causes; this names the mission's: S2 being asked, someone standing in the way, S1's first
plan awaited, no safe path (before the timer turns it into a recovery) or the end of a plan
reached. The words come from `lingnav_ros.status_reasons`.
"""
from __future__ import annotations

from lingnav_ros.mission.episode import MissionConfig
from lingnav_ros.mission.states import MissionState, Reason

ASKING_S2 = "asking S2 where the target is"
FIRST_PLAN = "waiting for the first S1 plan"
PLAN_END = "at the end of the plan, waiting for the next one"


def hold_reason(state: MissionState, ep, config: MissionConfig, now_s: float) -> str:
    """`ep` is the mission's episode; empty while a move or turn runs (that is not a hold)."""
    if state == MissionState.QUERYING:
        return ASKING_S2
    if state != MissionState.APPROACHING or ep.moves or ep.primitive is not None:
        return ""
    if ep.holding_for_mover:
        return Reason.WAITING_FOR_MOVER
    if ep.no_safe_since_s is not None:
        return (f"{Reason.NO_SAFE_PATH} for {max(0.0, now_s - ep.no_safe_since_s):.1f} s (asking S2 again; "
                f"recovery after {config.no_safe_path_timeout_s:.0f} s)")
    return FIRST_PLAN if ep.plan is None else PLAN_END
