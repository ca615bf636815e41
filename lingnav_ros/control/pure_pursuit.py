"""Regulated pure pursuit: the MPC's fallback when a QP fails or runs out of time.

It needs no solver, always returns within microseconds, and obeys the same limits, so a solver
hiccup degrades tracking quality a little instead of stopping or jerking the robot.
"""
from __future__ import annotations

import math

import numpy as np

from lingnav_ros.control.limits import VelocityLimits
from lingnav_ros.control.reference import arc_lengths, lookahead_point, project
from lingnav_ros.control.types import Command, Pose2D


def pure_pursuit(pose: Pose2D, path: np.ndarray, limits: VelocityLimits, last: Command, dt_s: float,
                 lookahead_m: float = 0.4, min_turn_radius_m: float = 0.5,
                 slowdown_distance_m: float = 1.0) -> Command:
    xy = np.asarray(path, dtype=float)[:, :2]
    s = arc_lengths(xy)
    s0, _ = project(xy, s, np.array([pose.x_m, pose.y_m]))
    remaining = float(s[-1] - s0)
    target = lookahead_point(xy, min(s0 + lookahead_m, float(s[-1])))
    dx, dy = target[0] - pose.x_m, target[1] - pose.y_m
    c, si = math.cos(pose.theta_rad), math.sin(pose.theta_rad)
    x_r, y_r = c * dx + si * dy, -si * dx + c * dy
    dist2 = max(x_r * x_r + y_r * y_r, 1e-6)
    curvature = 2.0 * y_r / dist2
    v = limits.v_max_mps * min(1.0, remaining / slowdown_distance_m)
    # Regulation: slow down in tight turns so the yaw-rate limit is never the binding one.
    if abs(curvature) > 1.0 / min_turn_radius_m:
        v *= (1.0 / min_turn_radius_m) / abs(curvature)
    if abs(curvature) > 1e-6:
        v = min(v, limits.w_max_radps / abs(curvature))
    if x_r < 0.0:  # target behind: turn on the spot
        v = 0.0
        w = math.copysign(limits.w_max_radps, y_r if abs(y_r) > 1e-6 else 1.0)
    else:
        w = v * curvature
    return limits.rate_limit(Command(v, w), last, dt_s)
