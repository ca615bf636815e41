"""How well a run stopped: distance to the target's surface and heading error, from the simulator's
ground truth (the sim knows the target's geometry), and the suite's share of good arrivals.

A good arrival ends within `DISTANCE_TOLERANCE_M` of the navigator's `arrive_distance_m` (robot
centre to the surface) and faces the target's centre within `HEADING_TOLERANCE_DEG`.
"""
from __future__ import annotations

import math

from lingnav_core.angles import wrap
from lingnav_ros.navigator_params import NavigatorParams
from lingnav_ros.sim.world import World

DISTANCE_TOLERANCE_M = 0.15
HEADING_TOLERANCE_DEG = 15.0


def heading_error_deg(world: World, label: str, x_m: float, y_m: float, theta_rad: float) -> float:
    """Unsigned angle between the robot's heading and the direction to the target's centre
    (NaN without such a target or a finite pose)."""
    target = world.find(label) if label else None
    if target is None or not all(math.isfinite(v) for v in (x_m, y_m, theta_rad)):
        return float("nan")
    if math.hypot(target.x_m - x_m, target.y_m - y_m) < 1e-6:
        return float("nan")
    return abs(math.degrees(wrap(math.atan2(target.y_m - y_m, target.x_m - x_m) - theta_rad)))


def score_arrival(result, world: World, navigator_overrides: dict) -> None:
    """Fill a run result's heading error and the arrive distance the navigator used."""
    result.arrive_distance_m = float(navigator_overrides.get("arrive_distance_m",
                                                             NavigatorParams().arrive_distance_m))
    result.heading_error_deg = heading_error_deg(world, world.target_label, *result.final_pose)


def surface_distance_m(shape, x_m: float, y_m: float) -> float:
    """Horizontal distance from a point to a world shape's surface (0 inside a box)."""
    if shape.kind == "cylinder":
        return max(0.0, math.hypot(x_m - shape.x_m, y_m - shape.y_m) - shape.radius_m)
    c, s = math.cos(shape.yaw_rad), math.sin(shape.yaw_rad)
    dx, dy = x_m - shape.x_m, y_m - shape.y_m
    lx, ly = c * dx + s * dy, -s * dx + c * dy  # in the box's own axes
    return math.hypot(max(abs(lx) - 0.5 * shape.size_x_m, 0.0), max(abs(ly) - 0.5 * shape.size_y_m, 0.0))


def score_steps(world: World, step_ends: list, final_pose: tuple, success_radius_m: float) -> list[dict]:
    """Each target of a sequence against where its step ended (the last one: the final pose);
    a step that never ended has no distance and is not ok."""
    count = len(world.target_labels)
    rows = []
    for i, label in enumerate(world.target_labels):
        shape = world.find(label)
        if i < count - 1:
            pose = step_ends[i] if i < len(step_ends) else None
        else:
            pose = final_pose if len(step_ends) >= count - 1 else None
        distance = surface_distance_m(shape, pose[0], pose[1]) if shape is not None and pose is not None \
            and all(math.isfinite(v) for v in pose[:2]) else float("nan")
        rows.append({"step": i + 1, "target": label, "distance_m": round(distance, 3),
                     "ok": bool(math.isfinite(distance) and distance <= success_radius_m)})
    return rows


def arrival_ok(distance_m: float, heading_deg: float, arrive_distance_m: float) -> bool:
    return (math.isfinite(distance_m) and math.isfinite(heading_deg)
            and abs(distance_m - arrive_distance_m) <= DISTANCE_TOLERANCE_M
            and heading_deg <= HEADING_TOLERANCE_DEG)


def arrival_share(runs: list) -> tuple[float, int]:
    """(share of ARRIVED runs that stopped well, number of ARRIVED runs); runs carry
    final_state, target_distance_m, heading_error_deg and arrive_distance_m."""
    arrived = [r for r in runs if r.final_state == "ARRIVED" and math.isfinite(r.target_distance_m)]
    if not arrived:
        return float("nan"), 0
    good = sum(arrival_ok(r.target_distance_m, r.heading_error_deg, r.arrive_distance_m) for r in arrived)
    return good / len(arrived), len(arrived)
