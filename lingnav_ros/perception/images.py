"""sensor_msgs Image / CompressedImage to NumPy, safe under NumPy 2.

Humble's cv_bridge is built against NumPy 1 and fails with `_ARRAY_API not found` on NumPy 2
(a common Jetson trap), so the NumPy path is complete on its own; cv_bridge is used only when it
imports and works, and LINGNAV_FORCE_FALLBACKS is unset (lingnav_ros.fallbacks). The depth
encoding alone decides the units: reading 32FC1 metres as 16UC1 millimetres makes every
obstacle ~0 m away and blinds the collision check.
"""
from __future__ import annotations

import numpy as np

from lingnav_ros.fallbacks import optional_module

_BRIDGES: list = []  # the one CvBridge, made on first use


class ImageEncodingError(ValueError):
    """The image cannot be used: unknown encoding or inconsistent size. Reported, never raised
    through a callback."""


_COLOR_CHANNELS = {"rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1, "8UC1": 1, "8UC3": 3}
DEPTH_ENCODINGS = ("16UC1", "mono16", "32FC1")


def _bridge():
    """A CvBridge where cv_bridge imports and is not forced off; None means: the NumPy path."""
    cv_bridge = optional_module("cv_bridge")
    if cv_bridge is None:
        return None
    if not _BRIDGES:
        try:
            _BRIDGES.append(cv_bridge.CvBridge())
        except Exception:  # noqa: BLE001 - a broken install: use the NumPy path
            return None
    return _BRIDGES[0]


def cv_bridge_available() -> bool:
    return _bridge() is not None


def _rows(msg, dtype: np.dtype, channels: int) -> np.ndarray:
    """The pixel array of a raw Image, honouring `step` padding and byte order."""
    h, w = int(msg.height), int(msg.width)
    itemsize = np.dtype(dtype).itemsize
    row_bytes = w * channels * itemsize
    step = int(msg.step) if int(msg.step) > 0 else row_bytes
    data = msg.data
    try:
        buf = np.frombuffer(data, dtype=np.uint8)
    except TypeError:  # a plain list from a hand-built message
        buf = np.asarray(data, dtype=np.uint8)
    if h <= 0 or w <= 0:
        raise ImageEncodingError(f"empty image {w}x{h}")
    if step < row_bytes or buf.size < step * (h - 1) + row_bytes:
        raise ImageEncodingError(f"image data too short: {buf.size} bytes for {w}x{h} {msg.encoding} "
                                 f"step {step}")
    if buf.size < step * h:
        buf = np.concatenate([buf, np.zeros(step * h - buf.size, np.uint8)])
    rows = buf[: step * h].reshape(h, step)[:, :row_bytes]
    dt = np.dtype(dtype).newbyteorder(">" if msg.is_bigendian else "<")
    arr = np.ascontiguousarray(rows).view(dt).reshape(h, w, channels)
    return arr.astype(np.dtype(dtype).newbyteorder("="), copy=False)


def image_to_rgb(msg) -> np.ndarray:
    """A colour sensor_msgs/Image as H x W x 3 uint8 RGB."""
    enc = str(msg.encoding)
    if enc not in _COLOR_CHANNELS:
        raise ImageEncodingError(f"unsupported colour encoding '{enc}' (expected one of "
                                 f"{sorted(_COLOR_CHANNELS)})")
    arr = _rows(msg, np.uint8, _COLOR_CHANNELS[enc])
    if enc in ("bgr8", "bgra8"):
        arr = arr[:, :, 2::-1]
    elif enc in ("rgba8",):
        arr = arr[:, :, :3]
    elif arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return np.ascontiguousarray(arr[:, :, :3])


def compressed_to_rgb(msg) -> np.ndarray:
    """A sensor_msgs/CompressedImage (jpeg/png) as H x W x 3 uint8 RGB."""
    import cv2

    try:
        buf = np.frombuffer(msg.data, dtype=np.uint8)
    except TypeError:
        buf = np.asarray(msg.data, dtype=np.uint8)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
    if bgr is None:
        raise ImageEncodingError(f"cannot decode compressed image (format '{msg.format}', {buf.size} bytes)")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def depth_to_metres(msg, expected: str = "auto") -> np.ndarray:
    """A depth sensor_msgs/Image as H x W float32 metres; 0/NaN/inf become NaN (unknown).

    16UC1 (and mono16) is millimetres, 32FC1 is metres. `expected` other than 'auto' makes any
    other encoding an error, to catch a driver configured differently from the profile.
    """
    enc = str(msg.encoding)
    if enc not in DEPTH_ENCODINGS:
        raise ImageEncodingError(f"unsupported depth encoding '{enc}' (expected 16UC1 mm or 32FC1 m)")
    if expected not in ("auto", enc) and not (expected == "16UC1" and enc == "mono16"):
        raise ImageEncodingError(f"depth encoding '{enc}' but the camera profile says '{expected}'")
    raw = None
    bridge = _bridge()
    if bridge is not None:  # pragma: no cover - robot only
        try:
            raw = np.asarray(bridge.imgmsg_to_cv2(msg, desired_encoding="passthrough"))
        except Exception:  # NumPy-2 ABI failures surface at call time: use the NumPy path
            raw = None
    if raw is None:
        raw = _rows(msg, np.float32 if enc == "32FC1" else np.uint16, 1)[:, :, 0]
    depth = raw.astype(np.float32) if enc == "32FC1" else raw.astype(np.float32) * 0.001
    depth[~np.isfinite(depth) | (depth <= 0.0)] = np.nan
    return depth


def rgb_from_msg(msg) -> np.ndarray:
    """Image or CompressedImage to RGB; cv_bridge first where it works, NumPy otherwise."""
    if hasattr(msg, "format") and not hasattr(msg, "encoding"):
        return compressed_to_rgb(msg)
    bridge = _bridge()
    if bridge is not None and str(msg.encoding) in _COLOR_CHANNELS:  # pragma: no cover - robot only
        try:
            return np.ascontiguousarray(bridge.imgmsg_to_cv2(msg, desired_encoding="rgb8"))
        except Exception:  # cv_bridge's NumPy-2 failures surface only at call time
            pass
    return image_to_rgb(msg)


def rgb_to_image_fields(rgb: np.ndarray) -> dict:
    """Fields for a sensor_msgs/Image carrying `rgb` (rgb8), for the debug image."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return {"height": h, "width": w, "encoding": "rgb8", "is_bigendian": 0, "step": w * 3,
            "data": rgb.tobytes()}


def depth_to_image_fields(depth_m: np.ndarray, encoding: str) -> dict:
    """Fields for a depth sensor_msgs/Image in `encoding` (16UC1 mm or 32FC1 m); NaN becomes 0."""
    d = np.nan_to_num(np.asarray(depth_m, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    h, w = d.shape
    if encoding == "16UC1":
        data = np.clip(np.round(d * 1000.0), 0, 65535).astype("<u2")
        step = w * 2
    elif encoding == "32FC1":
        data = d.astype("<f4")
        step = w * 4
    else:
        raise ImageEncodingError(f"cannot write depth as '{encoding}'")
    return {"height": h, "width": w, "encoding": encoding, "is_bigendian": 0, "step": step,
            "data": data.tobytes()}


def match_depth_to_rgb(depth_m: np.ndarray, rgb_shape: tuple[int, ...]) -> np.ndarray:
    """Depth resampled (nearest, so no invented depths at edges) to the RGB size when a driver
    publishes them at different resolutions but registered to the same view."""
    h, w = int(rgb_shape[0]), int(rgb_shape[1])
    if depth_m.shape[:2] == (h, w):
        return depth_m
    rows = np.minimum((np.arange(h) * depth_m.shape[0] / h).astype(int), depth_m.shape[0] - 1)
    cols = np.minimum((np.arange(w) * depth_m.shape[1] / w).astype(int), depth_m.shape[1] - 1)
    return depth_m[rows[:, None], cols[None, :]]
