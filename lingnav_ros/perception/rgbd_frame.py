"""One synchronised RGB-D observation with everything needed to use it later."""
from __future__ import annotations

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
