"""Keeping S2's target right while S2 is slow.

S2 answers seconds later about an image the robot has since moved away from. Its pixel is
lifted to 3D with the depth *of the query frame* and the odometry *at the query stamp*, stored
in odom, and projected into every new frame: a PixelGoal while it is in view, a PointGoal in the
base frame when it is behind or outside the image.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lingnav_core.camera import base_to_pixel, mount_translation, pixel_rays_base, pixel_to_base, robust_depth_at
from lingnav_core.s1_plan import PixelGoal, PointGoal
from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.planar_transforms import base_to_odom_xy, odom_to_base_xy
from lingnav_ros.perception.rgbd_frame import RgbdFrame

FALLBACK_RANGE_M = 2.0


@dataclass(frozen=True)
class TargetEstimate:
    name: str
    point_odom: np.ndarray  # (x, y, z) metres, z above the floor
    pixel: tuple[int, int]  # where S2 pointed, in the query image
    stamp_s: float  # stamp of the query image
    approximate: bool  # no depth at the pixel: direction is right, range is a guess

    @property
    def xy(self) -> tuple[float, float]:
        return float(self.point_odom[0]), float(self.point_odom[1])


def lift_pixel(u: int, v: int, frame: RgbdFrame, name: str = "") -> TargetEstimate | None:
    """3D odom point seen at pixel (u, v) of `frame`; None without a pose at the frame stamp."""
    if frame.pose is None:
        return None
    h, w = frame.depth_m.shape[:2]
    u = int(min(max(int(u), 0), w - 1))
    v = int(min(max(int(v), 0), h - 1))
    approximate = False
    depth = robust_depth_at(frame.depth_m, u, v, radius_px=4)
    if not math.isfinite(depth):
        depth = robust_depth_at(frame.depth_m, u, v, radius_px=max(8, w // 40))
    if math.isfinite(depth):
        p_base = pixel_to_base(u, v, depth, frame.intrinsics, frame.mount)
    else:
        p_base = _ray_guess(u, v, frame)
        approximate = True
    if p_base is None:
        return None
    xy = base_to_odom_xy(p_base[None, :2], frame.pose)[0]
    return TargetEstimate(name, np.array([xy[0], xy[1], p_base[2]]), (u, v), frame.stamp_s, approximate)


def _ray_guess(u: int, v: int, frame: RgbdFrame) -> np.ndarray:
    """Where the pixel's ray meets the floor, or a point FALLBACK_RANGE_M along it."""
    origin = mount_translation(frame.mount)
    direction = pixel_rays_base(u, v, frame.intrinsics, frame.mount)
    direction /= np.linalg.norm(direction)
    if direction[2] < -1e-3:
        t = min(-origin[2] / direction[2], FALLBACK_RANGE_M / max(1e-6, math.hypot(*direction[:2])))
    else:
        t = FALLBACK_RANGE_M / max(1e-6, math.hypot(*direction[:2]))
    return origin + t * direction


def target_in_base(target: TargetEstimate, pose: Pose2D) -> np.ndarray:
    xy = odom_to_base_xy(target.point_odom[None, :2], pose)[0]
    return np.array([xy[0], xy[1], target.point_odom[2]])


def horizontal_distance(target: TargetEstimate, pose: Pose2D) -> float:
    return math.hypot(target.point_odom[0] - pose.x_m, target.point_odom[1] - pose.y_m)


def goal_for_frame(target: TargetEstimate, frame: RgbdFrame, margin_px: int = 2) -> PixelGoal | PointGoal | None:
    """The target as S1 should see it in `frame` (integer pixels: S1's API takes whole pixels)."""
    if frame.pose is None:
        return None
    p_base = target_in_base(target, frame.pose)
    uv, in_front = base_to_pixel(p_base[None, :], frame.intrinsics, frame.mount)
    h, w = frame.rgb.shape[:2]
    u, v = float(uv[0, 0]), float(uv[0, 1])
    if bool(in_front[0]) and margin_px <= u < w - margin_px and margin_px <= v < h - margin_px:
        return PixelGoal(int(round(u)), int(round(v)))
    return PointGoal(float(p_base[0]), float(p_base[1]))


def expected_in_view(target: TargetEstimate, frame: RgbdFrame, max_range_m: float = 5.0,
                     occlusion_margin_m: float = 0.4) -> bool:
    """Should S2 see the target in `frame`? Not when it projects outside the image, lies beyond
    `max_range_m`, or something nearer stands in front of it (depth at its pixel well short of
    it). Only misses while it should be seen make the 3D estimate implausible."""
    if frame.pose is None:
        return False
    goal = goal_for_frame(target, frame, margin_px=8)
    if not isinstance(goal, PixelGoal):
        return False
    p_base = target_in_base(target, frame.pose)
    distance = math.hypot(float(p_base[0]), float(p_base[1]))
    if distance > max_range_m:
        return False
    depth = robust_depth_at(frame.depth_m, goal.u, goal.v, radius_px=4)
    if math.isfinite(depth) and depth < distance - occlusion_margin_m:
        return False  # occluded
    return True
