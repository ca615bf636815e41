"""Depth collision monitor on the path the robot is about to drive.

The field's check took the minimum depth over a fixed image box: it only stopped, ignored where
the robot was going and stopped the robot in front of the very object it was sent to (field note
10). Here the depth image is lifted to obstacle points on the floor plane, the tracker's
*predicted* path is swept with the robot's radius, and the distance along that path to the
first contact decides: a stop zone, a slowdown zone, or clear. Points belonging to the target
are ignored, so the final approach is never blocked by the target itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.perception.frames import base_to_odom_xy
from s1_server.camera import CameraMount, Intrinsics, backproject, optical_to_base


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


@dataclass(frozen=True)
class CollisionVerdict:
    action: str  # 'clear' | 'slow' | 'stop'
    speed_scale: float
    distance_to_contact_m: float  # along the predicted path, inf when none
    reason: str = ""

    def apply(self, cmd: Command) -> Command:
        """Scale forward motion only: a round base turning in place sweeps no new area."""
        if self.action == "stop":
            return Command(0.0, cmd.w_radps)
        if self.action == "slow":
            return Command(cmd.v_mps * self.speed_scale, cmd.w_radps)
        return cmd


def obstacles_from_depth(depth_m: np.ndarray, intr: Intrinsics, mount: CameraMount,
                         config: CollisionConfig) -> np.ndarray:
    """Obstacle points [M,2] (x, y) in the base frame at the depth stamp, thinned on a grid.

    Points below `min_height_m` are floor, above `max_height_m` pass over the robot; beyond
    `max_range_m` depth is too noisy to stop for.
    """
    pts_opt, _ = backproject(depth_m, intr, stride=max(1, config.depth_stride))
    if pts_opt.shape[0] == 0:
        return np.zeros((0, 2))
    pts = optical_to_base(pts_opt, mount)
    keep = (pts[:, 2] > config.min_height_m) & (pts[:, 2] < config.max_height_m)
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


def _densify(path_xy: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every <= step_m along the polyline, with their arc length."""
    pts = [path_xy[0]]
    s = [0.0]
    for a, b in zip(path_xy[:-1], path_xy[1:]):
        seg = float(np.hypot(*(b - a)))
        n = max(1, int(math.ceil(seg / step_m)))
        for k in range(1, n + 1):
            pts.append(a + (b - a) * (k / n))
            s.append(s[-1] + seg / n)
    return np.asarray(pts), np.asarray(s)


class CollisionMonitor:
    def __init__(self, config: CollisionConfig) -> None:
        self.config = config

    def check(self, predicted_odom: np.ndarray, obstacles_odom: np.ndarray,
              target_odom_xy: tuple[float, float] | None = None) -> CollisionVerdict:
        """`predicted_odom` [N,3] starts at the robot's current pose; obstacles [M,2] in odom."""
        c = self.config
        path = np.asarray(predicted_odom, dtype=float).reshape(-1, 3)
        obs = np.asarray(obstacles_odom, dtype=float).reshape(-1, 2)
        if path.shape[0] == 0 or not np.all(np.isfinite(path)):
            return CollisionVerdict("stop", 0.0, 0.0, "no valid predicted path to check")
        if target_odom_xy is not None and obs.shape[0]:
            far = np.hypot(obs[:, 0] - target_odom_xy[0], obs[:, 1] - target_odom_xy[1]) > c.target_clearance_m
            obs = obs[far]
        if obs.shape[0] == 0:
            return CollisionVerdict("clear", 1.0, math.inf)
        pts, s = _densify(path[:, :2], step_m=0.05)
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


def obstacles_to_odom(obstacles_base: np.ndarray, pose_at_depth: Pose2D) -> np.ndarray:
    return base_to_odom_xy(obstacles_base, pose_at_depth) if len(obstacles_base) else np.zeros((0, 2))
