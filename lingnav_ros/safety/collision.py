"""Depth collision monitor on the path the robot is about to drive.

A minimum depth over a fixed image box only stops, ignores where the robot is going and stops it
in front of the very object it was sent to. Here the depth image is lifted to obstacle points on
the floor plane (lingnav_core/depth_points.py, as the local map and S1's geometric planner lift
it), the tracker's *predicted* path is swept with the robot's radius, and the distance along
that path to the first contact decides: a stop zone, a slowdown zone, or clear. Points belonging to the target
are ignored, so the final approach is never blocked by the target itself.

The current frame alone forgets an obstacle once it is below the camera's minimum range, so the
monitor also takes the rolling local map (perception/local_map.py): remembered obstacles count
like seen ones, and space the map does not know as free is never driven into faster than the
robot can stop within the free space it remembers. When the path's near field is mostly unknown
and the camera reads it mostly invalid, the status says "near field blind".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lingnav_core.angles import wrap
from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_core.depth_points import depth_to_base_points, in_height_band
from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.perception.local_map import LocalMap, densify, first_hit
from lingnav_ros.perception.planar_transforms import base_to_odom_xy


@dataclass(frozen=True)
class CollisionConfig:
    robot_radius_m: float = 0.2
    stop_distance_m: float = 0.15
    slowdown_distance_m: float = 0.6
    slowdown_ratio: float = 0.4
    min_height_m: float = 0.05
    max_height_m: float = 1.5
    depth_stride: int = 4
    max_range_m: float = 4.0
    target_clearance_m: float = 0.4
    grid_m: float = 0.04
    brake_decel_mps2: float = 0.8  # what the base can surely brake at (sim: 1.0 m/s^2)
    reaction_s: float = 0.25  # control period + command latency + frame age
    free_margin_m: float = 0.05  # the body stops this short of unknown space
    blind_side_m: float = 0.08  # cells this close to the body that the camera cannot see do not block
    near_field_m: float = 0.5  # path length ahead of the front that is the "near field"
    near_blind_fraction: float = 0.5  # unknown (map) and invalid (frame) shares that mean blind
    min_speed_mps: float = 0.03  # capped below this: stop


@dataclass(frozen=True)
class CollisionVerdict:
    action: str  # 'clear' | 'slow' | 'stop'
    speed_scale: float
    distance_to_contact_m: float  # along the predicted path, inf when none
    reason: str = ""
    speed_cap_mps: float = math.inf  # |v| limit: stop within the remembered free space
    free_distance_m: float = math.inf  # along the path to space the map does not know as free

    def apply(self, cmd: Command) -> Command:
        """Scale translation only: a round base turning in place sweeps no new area."""
        if self.action == "stop":
            return Command(0.0, cmd.w_radps)
        if self.action == "slow":
            v = cmd.v_mps * self.speed_scale
            return Command(math.copysign(min(abs(v), self.speed_cap_mps), v), cmd.w_radps)
        return cmd


def obstacles_from_depth(depth_m: np.ndarray, intr: Intrinsics, mount: CameraMount,
                         config: CollisionConfig) -> np.ndarray:
    """Obstacle points [M,2] (x, y) in the base frame at the depth stamp, thinned on a grid.

    Points below `min_height_m` are floor, above `max_height_m` pass over the robot; beyond
    `max_range_m` depth is too noisy to stop for.
    """
    pts, _ = depth_to_base_points(depth_m, intr, mount, stride=max(1, config.depth_stride))
    keep = in_height_band(pts[:, 2], config.min_height_m, config.max_height_m)
    keep &= np.hypot(pts[:, 0], pts[:, 1]) < config.max_range_m
    xy = pts[keep, :2]
    if xy.shape[0] == 0:
        return np.zeros((0, 2))
    cells = np.unique(np.round(xy / config.grid_m).astype(np.int64), axis=0)
    return cells.astype(float) * config.grid_m


def rollout(pose: Pose2D, cmd: Command, horizon_s: float, dt_s: float = 0.1) -> np.ndarray:
    """[N+1,3] path of a constant command, for moves that have no tracker prediction."""
    steps = max(1, int(math.ceil(horizon_s / dt_s)))
    out = np.zeros((steps + 1, 3))
    x, y, th = pose.x_m, pose.y_m, pose.theta_rad
    out[0] = (x, y, th)
    for i in range(1, steps + 1):
        x += cmd.v_mps * dt_s * math.cos(th)
        y += cmd.v_mps * dt_s * math.sin(th)
        th += cmd.w_radps * dt_s
        out[i] = (x, y, th)
    return out


class CollisionMonitor:
    def __init__(self, config: CollisionConfig) -> None:
        self.config = config

    def check(self, predicted_odom: np.ndarray, obstacles_odom: np.ndarray,
              target_odom_xy: tuple[float, float] | None = None, local_map: LocalMap | None = None,
              now_ns: int | None = None) -> CollisionVerdict:
        """`predicted_odom` [N,3] starts at the robot's current pose; obstacles [M,2] in odom (this
        frame's). With `local_map` (and `now_ns`), remembered obstacles and unknown space count too."""
        path = np.asarray(predicted_odom, dtype=float).reshape(-1, 3)
        if path.shape[0] == 0 or not np.all(np.isfinite(path)):
            return CollisionVerdict("stop", 0.0, 0.0, "no valid predicted path to check")
        obs = np.asarray(obstacles_odom, dtype=float).reshape(-1, 2)
        if local_map is None or now_ns is None:
            return self._contact(path, obs, target_odom_xy)
        remembered = _near_path(local_map.occupied_points(now_ns), path, self.config.robot_radius_m + 0.1)
        verdict = self._contact(path, np.concatenate([obs, remembered]), target_odom_xy)
        if verdict.action == "stop":
            return verdict
        return self._unknown(verdict, path, target_odom_xy, local_map, now_ns)

    def _contact(self, path: np.ndarray, obs: np.ndarray,
                 target_odom_xy: tuple[float, float] | None) -> CollisionVerdict:
        c = self.config
        if target_odom_xy is not None and obs.shape[0]:
            far = np.hypot(obs[:, 0] - target_odom_xy[0], obs[:, 1] - target_odom_xy[1]) > c.target_clearance_m
            obs = obs[far]
        if obs.shape[0] == 0:
            return CollisionVerdict("clear", 1.0, math.inf)
        pts, s = densify(path[:, :2], step_m=0.05)
        # clearance of every path point to the nearest obstacle point
        d = np.sqrt(((pts[:, None, :] - obs[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
        start = d[0]
        if start < c.robot_radius_m:
            # already touching: only moving closer is a contact, backing/turning away is allowed
            hits = np.nonzero(d < start - 0.01)[0]
        else:
            hits = np.nonzero(d < c.robot_radius_m)[0]
        if hits.size == 0:
            return CollisionVerdict("clear", 1.0, math.inf)
        dist = float(s[hits[0]])
        if dist <= c.stop_distance_m:
            return CollisionVerdict("stop", 0.0, dist, f"obstacle on the predicted path in {dist:.2f} m")
        if dist <= c.slowdown_distance_m:
            return CollisionVerdict("slow", c.slowdown_ratio, dist, f"obstacle on the predicted path in {dist:.2f} m")
        return CollisionVerdict("clear", 1.0, dist)


    def _unknown(self, verdict: CollisionVerdict, path: np.ndarray, target_odom_xy, local_map: LocalMap,
                 now_ns: int) -> CollisionVerdict:
        """Cap the speed by the free space the map remembers along the path; say when blind."""
        c = self.config
        if target_odom_xy is not None:  # the target's own cells are unknown/occupied: not a reason
            near_target = np.hypot(path[:, 0] - target_odom_xy[0], path[:, 1] - target_odom_xy[1]) \
                < c.target_clearance_m + c.robot_radius_m
            if near_target.any():
                path = path[: max(int(np.argmax(near_target)), 1)]
        free_m = unknown_distance(local_map, path, now_ns, c)
        if not math.isfinite(free_m):
            return verdict
        cap = stop_speed(max(free_m - c.free_margin_m, 0.0), c.brake_decel_mps2, c.reaction_s)
        blind = near_field_blind(local_map, path, now_ns, c)
        what = "near field blind" if blind else "unknown space ahead"
        reason = f"{what}: {free_m:.2f} m known free, speed <= {cap:.2f} m/s"
        if cap < c.min_speed_mps:
            return CollisionVerdict("stop", 0.0, verdict.distance_to_contact_m, reason, 0.0, free_m)
        scale = verdict.speed_scale if verdict.action == "slow" else 1.0
        return CollisionVerdict("slow", scale, verdict.distance_to_contact_m,
                                verdict.reason if verdict.action == "slow" and not blind else reason, cap, free_m)


def unknown_distance(local_map: LocalMap, path: np.ndarray, now_ns: int, c: CollisionConfig) -> float:
    """Arc length along `path` until the robot's body first covers a cell the map does not know
    as free (inf when it never does). Turning in place sweeps nothing new. Cells hugging the
    body that the camera cannot see from where it is now (outside its field of view) are left
    out: no front camera ever sees beside or behind its own robot, so counting them would forbid
    every move after a turn. Anything the camera looked at and read nothing from (a black box
    beside the path) still counts, as does everything in view."""
    p0 = path[0]
    disp = path[-1, :2] - p0[:2]
    if float(np.hypot(*disp)) < 1e-3:
        return math.inf
    not_free = ~local_map.free_mask(now_ns)
    mask, (i0, j0) = local_map.disk(float(p0[0]), float(p0[1]), c.robot_radius_m + c.blind_side_m)
    if mask is not None and local_map.camera_on_base is not None:
        mx, my, half_fov = local_map.camera_on_base
        cam_x, cam_y = base_to_odom_xy(np.array([[mx, my]]), Pose2D(*p0[:3]))[0]
        xs, ys = local_map.cell_centres()
        gx, gy = xs[i0:i0 + mask.shape[0]], ys[j0:j0 + mask.shape[1]]
        bearing = np.arctan2(gy[None, :] - cam_y, gx[:, None] - cam_x) - p0[2]
        unseen = np.abs(wrap(bearing)) > half_fov
        sub = not_free[i0:i0 + mask.shape[0], j0:j0 + mask.shape[1]]
        dark = local_map.dark_mask(now_ns)[i0:i0 + mask.shape[0], j0:j0 + mask.shape[1]]
        sub[mask & unseen & ~dark] = False
    pts, s = densify(path[:, :2], local_map.res)
    return first_hit(local_map, np.column_stack([pts, np.zeros(len(pts))]), s, not_free, c.robot_radius_m,
                     outside_hits=True)


def stop_speed(distance_m: float, decel_mps2: float, reaction_s: float) -> float:
    """The highest speed v with v * reaction + v^2 / (2 decel) <= distance."""
    if distance_m <= 0.0:
        return 0.0
    return decel_mps2 * (-reaction_s + math.sqrt(reaction_s ** 2 + 2.0 * distance_m / decel_mps2))


def near_field_blind(local_map: LocalMap, path: np.ndarray, now_ns: int, c: CollisionConfig) -> bool:
    """The path's `near_field_m` ahead of the robot's front is mostly not known free, and the
    camera's last view of that floor is mostly invalid (below the minimum range, a black
    surface, holes)."""
    pts, s = densify(path[:, :2], local_map.res)
    pts = pts[(s > c.robot_radius_m) & (s <= c.robot_radius_m + c.near_field_m)]
    if pts.shape[0] == 0:
        return False
    free = local_map.free_mask(now_ns)
    ix, iy, inside = local_map.cell_of(pts)
    unknown_share = float(np.mean(~(inside & free[ix, iy])))
    view = local_map.near_view
    if unknown_share <= c.near_blind_fraction or view is None or view.floor_xy_odom.shape[0] == 0:
        return False
    d = np.sqrt(((view.floor_xy_odom[:, None, :] - pts[None, ::2, :]) ** 2).sum(axis=2)).min(axis=1)
    seen = d <= c.robot_radius_m
    if not seen.any():
        return True  # the camera cannot even look there: nothing says it is free
    return float(np.mean(view.invalid[seen])) > c.near_blind_fraction


def _near_path(points: np.ndarray, path: np.ndarray, margin_m: float) -> np.ndarray:
    """Points inside the path's bounding box grown by `margin_m` (cheap pre-filter)."""
    if points.shape[0] == 0:
        return points
    lo, hi = path[:, :2].min(axis=0) - margin_m, path[:, :2].max(axis=0) + margin_m
    keep = np.all((points >= lo) & (points <= hi), axis=1)
    return points[keep]


def obstacles_to_odom(obstacles_base: np.ndarray, pose_at_depth: Pose2D) -> np.ndarray:
    return base_to_odom_xy(obstacles_base, pose_at_depth) if len(obstacles_base) else np.zeros((0, 2))
