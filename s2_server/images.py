"""Upload decoding and model-input resizing for S2 (no ROS, no PIL: OpenCV only)."""
from __future__ import annotations

import cv2
import numpy as np


class ImageDecodeError(ValueError):
    pass


def decode_rgb(data: bytes) -> np.ndarray:
    """JPEG/PNG bytes -> H x W x 3 uint8 RGB. Raises ImageDecodeError on anything else."""
    if not data:
        raise ImageDecodeError("image is empty")
    buf = np.frombuffer(data, dtype=np.uint8)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if bgr is None or bgr.ndim != 3 or bgr.shape[0] < 2 or bgr.shape[1] < 2:
        raise ImageDecodeError("image is not a decodable JPEG or PNG")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def round_to_multiple(value: int, multiple: int = 32) -> int:
    return max(multiple, int(round(value / multiple)) * multiple)


def resize_for_model(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
