"""The last metre: stop `arrive_distance_m` from the target's surface, facing it.

The approach ends where S1's plans become too short to follow or S2 says stop, which left the
robot 0.7 to 0.9 m from the surface and often at an angle. Once the arrival is agreed (S2's stop,
or the fused target estimate close), the robot turns in place to face the fused point (a depth
reading on the target's surface, so its distance is the distance to the surface) and, when the
estimate is agreed by several sightings, drives straight to `arrive_distance_m` of it. Both are
closed-loop primitives on odometry, under the same safety layers as every command.
"""
from __future__ import annotations

import math

from lingnav_ros.control.types import Pose2D
from lingnav_ros.mission.moves import MoveStep
from lingnav_ros.mission.target import TargetEstimate
from lingnav_ros.mission.target_fusion import bearing_error_rad

ARRIVE_SLACK_M = 0.3  # the final drive starts this far out: the tracker slows near a plan end
MIN_FINAL_DRIVE_M = 0.05  # closer than this to arrive_distance_m is there already
MAX_FINAL_DRIVE_M = 1.0  # never a blind run: further than this and the approach was not done
FACE_BEFORE_DRIVE_RAD = 0.05  # straighten up before a drive so it ends in front of the target


def final_steps(target: TargetEstimate | None, pose: Pose2D | None, arrive_distance_m: float,
                heading_tolerance_rad: float, drive: bool) -> list[MoveStep]:
    """The turn (and, with `drive`, the straight drive) that ends the approach; [] when the robot
    already faces the target within half the tolerance, or nothing is known to face."""
    if target is None or pose is None:
        return []
    bearing = bearing_error_rad(target, pose)
    distance = math.hypot(target.point_odom[0] - pose.x_m, target.point_odom[1] - pose.y_m)
    if not (math.isfinite(bearing) and math.isfinite(distance)):
        return []
    forward = distance - arrive_distance_m
    steps: list[MoveStep] = []
    if drive and MIN_FINAL_DRIVE_M < forward <= MAX_FINAL_DRIVE_M:
        if abs(bearing) > FACE_BEFORE_DRIVE_RAD:
            steps.append(MoveStep("rotate", bearing, "face"))
        steps.append(MoveStep("drive", forward, "close in"))
    elif abs(bearing) > 0.5 * heading_tolerance_rad:
        steps.append(MoveStep("rotate", bearing, "face"))
    return steps
