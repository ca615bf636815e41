"""What the debug image and the candidate markers show, as plain NumPy/OpenCV.

The target as S2 saw it (re-projected into the current frame), S2's arrows and the chosen plan
projected onto the floor, so one glance at the image says whether the goal is right.
"""
from __future__ import annotations

import numpy as np

from lingnav_core.camera import CameraMount, Intrinsics, base_to_pixel
from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.planar_transforms import odom_to_base_xy

_ARROW_VECTORS = {"←": (-1, 0), "→": (1, 0), "↑": (0, -1), "↓": (0, 1)}


def value_colour(values: np.ndarray) -> np.ndarray:
    """[K,4] RGBA in 0..1: red for the worst critic value, green for the best."""
    v = np.asarray(values, dtype=float).reshape(-1)
    if v.size == 0:
        return np.zeros((0, 4))
    finite = np.isfinite(v)
    lo, hi = (v[finite].min(), v[finite].max()) if finite.any() else (0.0, 1.0)
    t = np.where(finite, (v - lo) / (hi - lo) if hi > lo else 1.0, 0.0)
    return np.stack([1.0 - t, t, np.zeros_like(t), np.full_like(t, 0.8)], axis=1)


def project_path(path_odom: np.ndarray, pose: Pose2D, intr: Intrinsics, mount: CameraMount) -> np.ndarray:
    """Pixels [M,2] of an odom path drawn on the floor, only the points in front of the camera."""
    p = np.asarray(path_odom, dtype=float).reshape(-1, 3)
    if p.shape[0] == 0:
        return np.zeros((0, 2))
    xy = odom_to_base_xy(p[:, :2], pose)
    pts = np.concatenate([xy, np.zeros((xy.shape[0], 1))], axis=1)
    uv, front = base_to_pixel(pts, intr, mount)
    return uv[front]


def draw_debug(rgb: np.ndarray, target_px: tuple[int, int] | None, navigation: str,
               plan_px: np.ndarray | None, label: str = "") -> np.ndarray:
    import cv2

    img = np.ascontiguousarray(rgb[:, :, ::-1].copy())  # draw in BGR
    h, w = img.shape[:2]
    if plan_px is not None and len(plan_px) > 1:
        pts = np.round(plan_px).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [pts], False, (0, 255, 0), 2)
    if target_px is not None:
        cv2.circle(img, (int(target_px[0]), int(target_px[1])), max(4, w // 60), (0, 0, 255), 2)
        cv2.drawMarker(img, (int(target_px[0]), int(target_px[1])), (0, 0, 255), cv2.MARKER_CROSS, max(8, w // 30), 2)
    x0, y0, step = 20, h - 20, max(24, w // 20)
    for i, ch in enumerate(ch for ch in (navigation or "") if ch in _ARROW_VECTORS):
        dx, dy = _ARROW_VECTORS[ch]
        cx = x0 + i * step + step // 2
        cv2.arrowedLine(img, (cx - dx * step // 3, y0 - dy * step // 3), (cx + dx * step // 3, y0 + dy * step // 3),
                        (255, 255, 0), 2, tipLength=0.4)
    if navigation.strip() == "stop":
        cv2.putText(img, "STOP", (x0, y0), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 255), 2)
    if label:
        cv2.putText(img, label, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    return np.ascontiguousarray(img[:, :, ::-1])
