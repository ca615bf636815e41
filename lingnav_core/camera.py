"""Pinhole camera geometry shared by S1, the navigator and the simulator.

Frames (REP 103 / REP 105):
- optical: z forward, x right, y down (what pixels and depth images live in);
- base: x forward, y left, z up, origin on the floor under the robot centre.
The camera is mounted `x_m` ahead of the base origin, `height_m` above the floor and pitched
down by `pitch_rad` (positive looks at the floor). Keeping every conversion here means the
planner, the navigator's target lifting and the simulator's renderer cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics for an image of `width` x `height` pixels."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def scaled_to(self, width: int, height: int) -> Intrinsics:
        """Intrinsics for the same camera at another resolution (same field of view)."""
        sx, sy = width / self.width, height / self.height
        return Intrinsics(self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy, width, height)

    def matrix4(self) -> np.ndarray:
        """The 4x4 intrinsic matrix the NavDP HTTP API expects."""
        k = np.eye(4)
        k[0, 0], k[1, 1], k[0, 2], k[1, 2] = self.fx, self.fy, self.cx, self.cy
        return k

    @classmethod
    def from_matrix(cls, k: np.ndarray, width: int, height: int) -> Intrinsics:
        k = np.asarray(k, dtype=float)
        return cls(float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2]), width, height)

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_rad: float) -> Intrinsics:
        f = 0.5 * width / np.tan(0.5 * hfov_rad)
        return cls(f, f, (width - 1) / 2.0, (height - 1) / 2.0, width, height)


@dataclass(frozen=True)
class CameraMount:
    """Where the camera sits on the base (used when TF is not available)."""

    height_m: float = 0.3
    pitch_rad: float = 0.0
    x_m: float = 0.0
    y_m: float = 0.0


def optical_to_base_rotation(pitch_rad: float) -> np.ndarray:
    """Rotation R with p_base = R @ p_optical (+ mount translation)."""
    # optical -> camera body (x fwd, y left, z up)
    body_from_optical = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    c, s = np.cos(pitch_rad), np.sin(pitch_rad)
    # pitching down by p rotates forward toward -z: a rotation about +y by +p
    base_from_body = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return base_from_body @ body_from_optical


def mount_translation(mount: CameraMount) -> np.ndarray:
    return np.array([mount.x_m, mount.y_m, mount.height_m])


def backproject(depth_m: np.ndarray, intr: Intrinsics, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Lift a depth image to optical-frame points.

    Returns (points [M,3], valid mask [H', W'] over the strided grid). Pixels with non-finite or
    non-positive depth are invalid: unknown, never free space.
    """
    d = np.asarray(depth_m, dtype=np.float32)[::stride, ::stride]
    h, w = d.shape
    if (intr.width, intr.height) != (depth_m.shape[1], depth_m.shape[0]):
        intr = intr.scaled_to(depth_m.shape[1], depth_m.shape[0])
    vs, us = np.mgrid[0:h, 0:w]
    us = us * stride
    vs = vs * stride
    valid = np.isfinite(d) & (d > 0.0)
    z = d[valid]
    x = (us[valid] - intr.cx) / intr.fx * z
    y = (vs[valid] - intr.cy) / intr.fy * z
    return np.stack([x, y, z], axis=1), valid


def optical_to_base(points_optical: np.ndarray, mount: CameraMount) -> np.ndarray:
    pts = np.asarray(points_optical, dtype=float).reshape(-1, 3)
    return pts @ optical_to_base_rotation(mount.pitch_rad).T + mount_translation(mount)


def base_to_optical(points_base: np.ndarray, mount: CameraMount) -> np.ndarray:
    pts = np.asarray(points_base, dtype=float).reshape(-1, 3)
    return (pts - mount_translation(mount)) @ optical_to_base_rotation(mount.pitch_rad)


def pixel_to_base(u: float, v: float, depth_m: float, intr: Intrinsics, mount: CameraMount) -> np.ndarray | None:
    """The base-frame point seen at pixel (u, v) with depth `depth_m`; None if depth is unusable."""
    if not np.isfinite(depth_m) or depth_m <= 0.0:
        return None
    p = np.array([(u - intr.cx) / intr.fx * depth_m, (v - intr.cy) / intr.fy * depth_m, depth_m])
    return optical_to_base(p, mount)[0]


def pixel_rays_base(u, v, intr: Intrinsics, mount: CameraMount) -> np.ndarray:
    """Base-frame directions [..., 3] of the rays through pixels (u, v) (scalars or arrays), with
    optical z scaled to 1; they start at the camera (`mount_translation`), not at the base."""
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    rays = np.stack([(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones_like(u)], axis=-1)
    return rays @ optical_to_base_rotation(mount.pitch_rad).T


def floor_hits(rays_base: np.ndarray, mount: CameraMount, min_descent: float = 1e-6) -> np.ndarray:
    """Base xy [..., 2] where rays from the camera meet the floor; NaN for a ray whose z falls by
    less than `min_descent` per unit of its length as given (level or upward: never, or too far)."""
    rays = np.asarray(rays_base, dtype=float)
    down = rays[..., 2] < -min_descent
    t = np.where(down, mount.height_m / np.maximum(-rays[..., 2], min_descent), np.nan)
    return np.stack([mount.x_m + t * rays[..., 0], mount.y_m + t * rays[..., 1]], axis=-1)


def base_to_pixel(points_base: np.ndarray, intr: Intrinsics, mount: CameraMount) -> tuple[np.ndarray, np.ndarray]:
    """Project base-frame points to pixels. Returns (uv [M,2] float, in_front mask [M])."""
    p = base_to_optical(points_base, mount)
    z = p[:, 2]
    in_front = z > 1e-6
    zs = np.where(in_front, z, 1.0)
    uv = np.stack([intr.fx * p[:, 0] / zs + intr.cx, intr.fy * p[:, 1] / zs + intr.cy], axis=1)
    return uv, in_front


def robust_depth_at(depth_m: np.ndarray, u: float, v: float, radius_px: int = 4) -> float:
    """Median of the valid depths in a small window: single pixels at object edges are noisy."""
    h, w = depth_m.shape[:2]
    ui, vi = int(round(u)), int(round(v))
    if not (0 <= ui < w and 0 <= vi < h):
        return float("nan")
    win = depth_m[max(0, vi - radius_px): vi + radius_px + 1, max(0, ui - radius_px): ui + radius_px + 1]
    good = win[np.isfinite(win) & (win > 0.0)]
    return float(np.median(good)) if good.size else float("nan")
