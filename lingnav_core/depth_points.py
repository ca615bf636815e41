"""Depth image to base-frame points, once for the collision monitor, the local map and the planner.

The three must agree on what the camera saw: a point the planner's occupancy grid calls an
obstacle and the collision monitor calls floor makes the robot stop in front of a plan it was
just given. So the lifting (which pixels count, the stride, the mount) and the obstacle height
band live here, and each caller keeps only its own range rule and what it does with the points.
"""
from __future__ import annotations

import math

import numpy as np

from lingnav_core.camera import CameraMount, Intrinsics, backproject, optical_to_base


def depth_to_base_points(depth_m: np.ndarray, intr: Intrinsics, mount: CameraMount, stride: int = 1,
                         max_depth_m: float = math.inf) -> tuple[np.ndarray, np.ndarray]:
    """Base-frame points [N,3] of every `stride`-th pixel with usable depth, and the mask [H',W']
    over the strided grid saying which pixels those are (row-major, as the points are ordered).

    Usable: finite, positive and at most `max_depth_m` (optical z, as the sensor measures it).
    Everything else is unknown, never free space. Intrinsics for another resolution are scaled.
    """
    if int(stride) < 1:
        raise ValueError(f"depth stride must be >= 1, got {stride}")
    pts_opt, valid = backproject(depth_m, intr, stride=int(stride))
    if math.isfinite(max_depth_m):
        near = pts_opt[:, 2] <= max_depth_m
        pts_opt = pts_opt[near]
        valid[valid] = near
    return optical_to_base(pts_opt, mount), valid


def in_height_band(z_m: np.ndarray, min_height_m: float, max_height_m: float) -> np.ndarray:
    """Which heights above the floor are obstacles: below the band is floor, above it the robot
    passes under. Both limits count as obstacle."""
    z = np.asarray(z_m)
    return (z >= min_height_m) & (z <= max_height_m)
