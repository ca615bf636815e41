"""Planar frame changes between the robot base at some time and odom.

S1's trajectories are in the base frame *at the image stamp*; the tracker works in odom. The
pose used here must therefore be the odometry interpolated at that stamp (see odom_buffer).
"""
from __future__ import annotations

import math

import numpy as np

from lingnav_core.angles import wrap
from lingnav_ros.control.types import Pose2D


def base_to_odom_xy(points_xy: np.ndarray, pose: Pose2D) -> np.ndarray:
    p = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    c, s = math.cos(pose.theta_rad), math.sin(pose.theta_rad)
    return np.stack([pose.x_m + c * p[:, 0] - s * p[:, 1], pose.y_m + s * p[:, 0] + c * p[:, 1]], axis=1)


def odom_to_base_xy(points_xy: np.ndarray, pose: Pose2D) -> np.ndarray:
    p = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    dx, dy = p[:, 0] - pose.x_m, p[:, 1] - pose.y_m
    c, s = math.cos(pose.theta_rad), math.sin(pose.theta_rad)
    return np.stack([c * dx + s * dy, -s * dx + c * dy], axis=1)


def plan_to_odom(plan_base: np.ndarray, pose_at_image: Pose2D) -> np.ndarray:
    """[N,3] (x, y, yaw) in the base frame at image time -> [N,3] in odom."""
    p = np.asarray(plan_base, dtype=float).reshape(-1, 3)
    xy = base_to_odom_xy(p[:, :2], pose_at_image)
    yaw = wrap(p[:, 2] + pose_at_image.theta_rad)
    return np.concatenate([xy, yaw[:, None]], axis=1)


def odom_to_base_path(path_odom: np.ndarray, pose: Pose2D) -> np.ndarray:
    p = np.asarray(path_odom, dtype=float).reshape(-1, 3)
    xy = odom_to_base_xy(p[:, :2], pose)
    yaw = wrap(p[:, 2] - pose.theta_rad)
    return np.concatenate([xy, yaw[:, None]], axis=1)
