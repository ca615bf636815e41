"""One synchronised RGB-D observation with everything needed to use it later."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_ros.control.types import Pose2D


@dataclass(frozen=True)
class RgbdFrame:
    """RGB (H x W x 3 uint8) and depth (metres, NaN unknown) at `stamp_s`, with the intrinsics
    scaled to the received size (a camera may publish another size than it was calibrated at),
    the mount and the odom pose at that stamp."""

    stamp_s: float
    rgb: np.ndarray
    depth_m: np.ndarray
    intrinsics: Intrinsics
    mount: CameraMount
    pose: Pose2D | None
    frame_id: str = ""
    seq: int = 0


def checked_depth(depth_m, intr: Intrinsics, pose: Pose2D, grid: str) -> tuple[np.ndarray, Intrinsics]:
    """A depth image and the odom pose it was taken from, checked before `grid` (the name in the
    error) fuses them; -> the image as an array and the intrinsics scaled to its size."""
    d = np.asarray(depth_m)
    if d.ndim != 2 or d.shape[0] < 2 or d.shape[1] < 2:
        raise ValueError(f"depth must be an H x W image, got shape {d.shape}")
    if not all(math.isfinite(v) for v in (pose.x_m, pose.y_m, pose.theta_rad)):
        raise ValueError(f"pose for the {grid} is not finite")
    if (intr.width, intr.height) != (d.shape[1], d.shape[0]):
        intr = intr.scaled_to(d.shape[1], d.shape[0])
    return d, intr
