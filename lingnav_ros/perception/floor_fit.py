"""Where the camera really is: the floor plane fitted in one depth image.

Camera height and tilt are the most common cause of trouble when a robot leaves the lab: with
the wrong pitch the floor looks like a slope, S1 sees obstacles everywhere, and the collision
monitor's height band cuts through the floor or lifts over boxes. The floor is in nearly every
frame, so the mount can be measured instead of trusted: RANSAC over the lower half of the image
for a plane whose normal is within `max_tilt_rad` of the configured "up" (walls and furniture
sides are not floor), a least-squares refit on its inliers, then height and pitch read off the
plane. `check_mount` compares them with the configured mount and words what to change.

Optical frame: x right, y down, z forward. A camera pitched down by p sees "up" as
(0, -cos p, -sin p), so p = atan2(-n_z, -n_y) for the upward unit normal n.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lingnav_core.camera import CameraMount, Intrinsics, backproject

MIN_POINTS = 200


@dataclass(frozen=True)
class FloorFitConfig:
    columns: int = 160  # depth is strided down to about this many columns
    min_range_m: float = 0.2
    max_range_m: float = 4.0
    inlier_tolerance_m: float = 0.02
    iterations: int = 100
    max_tilt_rad: float = math.radians(25.0)  # a floor normal this far from the configured up at most
    min_inlier_fraction: float = 0.15  # of the lower-half points
    max_points: int = 2500
    seed: int = 7


@dataclass(frozen=True)
class FloorFit:
    height_m: float  # camera above the floor plane
    pitch_rad: float  # positive looks down
    roll_rad: float
    inliers: int
    points: int  # lower-half points with valid depth in range


@dataclass(frozen=True)
class MountCheck:
    ok: bool
    message: str  # starts with "camera mount check:"
    fit: FloorFit | None


def _up_optical(pitch_rad: float) -> np.ndarray:
    return np.array([0.0, -math.cos(pitch_rad), -math.sin(pitch_rad)])


def _candidate_points(depth_m: np.ndarray, intr: Intrinsics, c: FloorFitConfig) -> np.ndarray:
    depth = np.asarray(depth_m, dtype=np.float32)
    lower = np.full_like(depth, np.nan)
    top = depth.shape[0] // 2
    lower[top:] = depth[top:]
    pts, _ = backproject(lower, intr, max(1, depth.shape[1] // c.columns))
    rng_m = np.linalg.norm(pts, axis=1) if pts.size else np.zeros(0)
    pts = pts[(rng_m >= c.min_range_m) & (rng_m <= c.max_range_m)]
    if len(pts) > c.max_points:
        pts = pts[np.random.default_rng(c.seed).choice(len(pts), c.max_points, replace=False)]
    return pts.astype(float)


def _plane(p: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Unit normal n and offset d with n . x + d = 0 through three points, n oriented so d > 0
    (the camera origin lies on the side n points to, i.e. n is "up" for a floor below it)."""
    n = np.cross(p[1] - p[0], p[2] - p[0])
    norm = float(np.linalg.norm(n))
    if norm < 1e-9:
        return None
    n = n / norm
    d = -float(n @ p[0])
    return (n, d) if d > 0 else (-n, -d)


def _refit(pts: np.ndarray) -> tuple[np.ndarray, float]:
    centroid = pts.mean(axis=0)
    _, _, vt = np.linalg.svd(pts - centroid, full_matrices=False)
    n = vt[-1]
    d = -float(n @ centroid)
    return (n, d) if d > 0 else (-n, -d)


def fit_floor(depth_m: np.ndarray, intr: Intrinsics, expected: CameraMount,
              config: FloorFitConfig = FloorFitConfig()) -> FloorFit | None:
    """The floor plane seen in `depth_m` (metres), or None when too little floor is visible."""
    c = config
    pts = _candidate_points(depth_m, intr, c)
    if len(pts) < MIN_POINTS:
        return None
    up = _up_optical(expected.pitch_rad)
    rng = np.random.default_rng(c.seed)
    best_mask, best_count = None, 0
    cos_tilt = math.cos(c.max_tilt_rad)
    for _ in range(c.iterations):
        plane = _plane(pts[rng.choice(len(pts), 3, replace=False)])
        if plane is None or float(plane[0] @ up) < cos_tilt:
            continue
        mask = np.abs(pts @ plane[0] + plane[1]) < c.inlier_tolerance_m
        count = int(mask.sum())
        if count > best_count:
            best_mask, best_count = mask, count
    if best_mask is None or best_count < max(MIN_POINTS // 2, c.min_inlier_fraction * len(pts)):
        return None
    n, d = _refit(pts[best_mask])
    inliers = np.abs(pts @ n + d) < c.inlier_tolerance_m
    if inliers.sum() >= 3:
        n, d = _refit(pts[inliers])
    return FloorFit(height_m=d, pitch_rad=math.atan2(-n[2], -n[1]), roll_rad=math.asin(float(np.clip(n[0], -1, 1))),
                    inliers=int(inliers.sum()), points=len(pts))


def check_mount(fit: FloorFit | None, configured: CameraMount, source: str, height_tolerance_m: float,
                pitch_tolerance_rad: float) -> MountCheck:
    """Measured against configured, with the parameter lines to set when they disagree.
    `source` says where the configured mount came from (parameters, TF, the camera/mount topic)."""
    if fit is None:
        return MountCheck(False, "camera mount check: no floor plane found in depth; point the camera at "
                                 "open floor and call lingnav/check_mount", None)
    dh = fit.height_m - configured.height_m
    dp = fit.pitch_rad - configured.pitch_rad
    seen = (f"floor puts the camera {fit.height_m:.3f} m high, pitched {math.degrees(fit.pitch_rad):.1f} deg "
            f"down; {source} say {configured.height_m:.3f} m, {math.degrees(configured.pitch_rad):.1f} deg")
    if abs(dh) <= height_tolerance_m and abs(dp) <= pitch_tolerance_rad:
        return MountCheck(True, f"camera mount check: ok ({seen})", fit)
    fix = f"set camera_height_m: {fit.height_m:.3f} and camera_pitch_rad: {fit.pitch_rad:.4f}"
    if source != "parameters":
        fix += f" (or correct the {source})"
    return MountCheck(False, f"camera mount check: {seen} ({dh:+.3f} m, {math.degrees(dp):+.1f} deg); {fix}", fit)
