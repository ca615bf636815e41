"""A tiny ray-cast world for the navigator's tests: floor plus coloured boxes.

Unit tests render frames from it and ROS tests publish them as a synthetic RGB-D camera with
odometry integrated from cmd_vel, so the navigator sees consistent geometry at every pose.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lingnav_core.angles import wrap
from lingnav_core.camera import CameraMount, Intrinsics, optical_to_base_rotation
from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.rgbd_frame import RgbdFrame

FLOOR_RGB = (128, 128, 128)
BACKGROUND_RGB = (200, 200, 200)


@dataclass(frozen=True)
class Box:
    x_min: float
    x_max: float
    y_min: float
    y_max: float
    height_m: float
    rgb: tuple[int, int, int]

    @property
    def center(self) -> tuple[float, float]:
        return (0.5 * (self.x_min + self.x_max), 0.5 * (self.y_min + self.y_max))


@dataclass
class Scene:
    boxes: list[Box] = field(default_factory=list)
    intrinsics: Intrinsics = Intrinsics(100.0, 100.0, 79.5, 59.5, 160, 120)
    mount: CameraMount = CameraMount(height_m=0.4, pitch_rad=0.15, x_m=0.0, y_m=0.0)
    max_range_m: float = 8.0

    def render(self, pose: Pose2D) -> tuple[np.ndarray, np.ndarray]:
        """(rgb uint8 HxWx3, depth float32 metres with NaN where nothing is hit)."""
        intr = self.intrinsics
        vs, us = np.mgrid[0:intr.height, 0:intr.width].astype(float)
        d_opt = np.stack([(us - intr.cx) / intr.fx, (vs - intr.cy) / intr.fy, np.ones_like(us)], axis=-1)
        d_base = d_opt @ optical_to_base_rotation(self.mount.pitch_rad).T
        c, s = math.cos(pose.theta_rad), math.sin(pose.theta_rad)
        dx = c * d_base[..., 0] - s * d_base[..., 1]
        dy = s * d_base[..., 0] + c * d_base[..., 1]
        dz = d_base[..., 2]
        ox = pose.x_m + c * self.mount.x_m - s * self.mount.y_m
        oy = pose.y_m + s * self.mount.x_m + c * self.mount.y_m
        oz = self.mount.height_m
        t_best = np.full(us.shape, np.inf)
        rgb = np.empty(us.shape + (3,), np.uint8)
        rgb[:] = BACKGROUND_RGB
        with np.errstate(divide="ignore", invalid="ignore"):
            t_floor = np.where(dz < -1e-9, -oz / dz, np.inf)
        hit = t_floor < t_best
        t_best[hit] = t_floor[hit]
        rgb[hit] = FLOOR_RGB
        for box in self.boxes:
            t_box = _slab((ox, oy, oz), (dx, dy, dz), box)
            hit = t_box < t_best
            t_best[hit] = t_box[hit]
            rgb[hit] = box.rgb
        depth = np.where(t_best <= self.max_range_m, t_best, np.nan).astype(np.float32)
        return rgb, depth

    def frame(self, pose: Pose2D, stamp_s: float = 0.0) -> RgbdFrame:
        rgb, depth = self.render(pose)
        return RgbdFrame(stamp_s, rgb, depth, self.intrinsics, self.mount, pose)


def _slab(origin, direction, box: Box) -> np.ndarray:
    ox, oy, oz = origin
    dx, dy, dz = direction
    t_min = np.zeros_like(dx)
    t_max = np.full_like(dx, np.inf)
    for o, d, lo, hi in ((ox, dx, box.x_min, box.x_max), (oy, dy, box.y_min, box.y_max),
                         (oz, dz, 0.0, box.height_m)):
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = (lo - o) / d
            t2 = (hi - o) / d
        near = np.where(np.abs(d) < 1e-12, np.where((o >= lo) & (o <= hi), -np.inf, np.inf), np.minimum(t1, t2))
        far = np.where(np.abs(d) < 1e-12, np.where((o >= lo) & (o <= hi), np.inf, -np.inf), np.maximum(t1, t2))
        t_min = np.maximum(t_min, near)
        t_max = np.minimum(t_max, far)
    return np.where((t_max >= t_min) & (t_min > 1e-6), t_min, np.inf)


def integrate(pose: Pose2D, v_mps: float, w_radps: float, dt_s: float) -> Pose2D:
    th = pose.theta_rad + 0.5 * w_radps * dt_s
    new_th = pose.theta_rad + w_radps * dt_s
    return Pose2D(pose.x_m + v_mps * dt_s * math.cos(th), pose.y_m + v_mps * dt_s * math.sin(th),
                  wrap(new_th))
