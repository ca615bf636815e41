"""Wire format of the field's S1 API: JPEG RGB and uint16 PNG depth (metres x 10000), B frames
stacked vertically. Shared by the server and the client so both sides agree byte for byte."""
from __future__ import annotations

import cv2
import numpy as np

DEPTH_SCALE = 10000.0  # uint16 units per metre: 0.1 mm resolution, 6.55 m range


class CodecError(ValueError):
    pass


def encode_rgb_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise CodecError("JPEG encoding failed")
    return buf.tobytes()


def encode_depth_png(depth_m: np.ndarray) -> bytes:
    d = np.nan_to_num(np.asarray(depth_m, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    d = np.clip(d * DEPTH_SCALE, 0, 65535).astype(np.uint16)
    ok, buf = cv2.imencode(".png", d)
    if not ok:
        raise CodecError("PNG encoding failed")
    return buf.tobytes()


def decode_rgb(data: bytes) -> np.ndarray:
    if not data:
        raise CodecError("image is empty")
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise CodecError("image is not a decodable JPEG/PNG")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def decode_depth(data: bytes) -> np.ndarray:
    if not data:
        raise CodecError("depth is empty")
    raw = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise CodecError("depth is not a decodable PNG")
    if raw.ndim != 2 or raw.dtype != np.uint16:
        raise CodecError(f"depth must be a single-channel uint16 PNG, got {raw.dtype} with shape {raw.shape}")
    return raw.astype(np.float32) / DEPTH_SCALE


def split_batch(stacked: np.ndarray, batch_size: int, what: str) -> list[np.ndarray]:
    if batch_size < 1 or stacked.shape[0] % batch_size:
        raise CodecError(f"{what} height {stacked.shape[0]} is not a multiple of batch_size {batch_size}")
    return np.split(stacked, batch_size, axis=0)
