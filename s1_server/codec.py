"""Wire format of the official S1 (NavDP) API: JPEG colour and uint16 PNG depth (metres x 10000), B frames
stacked vertically. Shared by the server and the client so both sides agree byte for byte.

Colour: existing robot clients call `cv2.imencode` on whatever array they hold, and the official
server hands its agent exactly the array the client encoded. NavDP's own clients hold RGB arrays,
so with `client_color="rgb"` (the default) the planner gets the decoded array as it is and sees
RGB, as the model was trained. The LingNav Jetson client encodes BGR camera arrays; those bytes
are an ordinary true-colour JPEG, exactly what PIL, a browser or a camera would write from an RGB
picture. For both, `client_color="bgr"` swaps after decoding so the planner still sees RGB.
"""
from __future__ import annotations

import cv2
import numpy as np

DEPTH_SCALE = 10000.0  # uint16 units per metre: 0.1 mm resolution, 6.55 m range
CLIENT_COLORS = ("rgb", "bgr")
DEFAULT_CLIENT_COLOR = "rgb"


class CodecError(ValueError):
    pass


def encode_rgb_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """JPEG of an RGB array as NavDP's own clients send it: `cv2.imencode` of the array, no swap.

    A server with the default `client_color="rgb"` (ours, and the official one) hands its planner
    this very array, so the model sees RGB. Image viewers show such a file with red and blue swapped.
    """
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise CodecError("JPEG encoding failed")
    return buf.tobytes()


def encode_depth_png(depth_m: np.ndarray) -> bytes:
    """uint16 PNG of depth x DEPTH_SCALE; NaN and infinities (unknown) become 0. OpenCV's default
    PNG settings (level 1, run-length strategy) are its fastest that still compress."""
    d = np.asarray(depth_m, dtype=np.float32) * np.float32(DEPTH_SCALE)  # the one float copy
    d[~np.isfinite(d)] = 0.0
    np.clip(d, 0.0, 65535.0, out=d)
    ok, buf = cv2.imencode(".png", d.astype(np.uint16))
    if not ok:
        raise CodecError("PNG encoding failed")
    return buf.tobytes()


def _imdecode(data: bytes, flags: int) -> np.ndarray | None:
    try:
        return cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as err:  # a corrupt file is the client's problem, never a 500
        raise CodecError(f"image could not be decoded: {str(err).strip()[:120]}") from err


def decode_rgb(data: bytes, client_color: str = DEFAULT_CLIENT_COLOR, what: str = "image") -> np.ndarray:
    """The RGB array for the planner (H x W x 3 uint8), following the client's colour convention."""
    if client_color not in CLIENT_COLORS:
        raise ValueError(f"client_color must be one of {CLIENT_COLORS}, not {client_color!r}")
    if not data:
        raise CodecError(f"{what} is empty")
    array = _imdecode(data, cv2.IMREAD_COLOR)
    if array is None:
        raise CodecError(f"{what} is not a decodable JPEG/PNG")
    if client_color == "bgr":
        return cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    return array  # exactly the array the client passed to cv2.imencode


def decode_depth(data: bytes) -> np.ndarray:
    if not data:
        raise CodecError("depth is empty")
    raw = _imdecode(data, cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise CodecError("depth is not a decodable PNG")
    if raw.ndim != 2 or raw.dtype != np.uint16:
        raise CodecError(f"depth must be a single-channel uint16 PNG, got {raw.dtype} with shape {raw.shape}")
    return raw.astype(np.float32) / DEPTH_SCALE


def split_batch(stacked: np.ndarray, batch_size: int, what: str) -> list[np.ndarray]:
    if batch_size < 1 or stacked.shape[0] % batch_size:
        raise CodecError(f"{what} height {stacked.shape[0]} is not a multiple of batch_size {batch_size}")
    return np.split(stacked, batch_size, axis=0)
