"""Image preprocessing exactly as the official NavDP agent does it: letterbox to 224 (scale, zero pad,
final resize; no crop), depth window 0.1-5 m, and the integer pixel-goal mask with its edge strips."""
from __future__ import annotations

import cv2
import numpy as np

IMAGE_PX = 224
DEPTH_MIN_M = 0.1
DEPTH_MAX_M = 5.0
GOAL_BOX_HALF_PX = 10  # 20 x 20 box
EDGE_STRIP_PX = 10


def _letterbox(img: np.ndarray, interpolation: int) -> np.ndarray:
    """Scale by 224/max(H, W) (as fx/fy factors, so OpenCV's sampling grid follows the factor, not the
    rounded size), zero-pad (224 - h) // 2 on both sides, then bilinear-resize to exactly 224 x 224.

    That last resize matters when the padding is odd (848x480 -> 127 rows + 2 x 48 = 223): the
    official agent stretches the padded image rather than padding one side more.
    """
    h, w = img.shape[:2]
    scale = IMAGE_PX / max(h, w)
    resized = cv2.resize(img, None, fx=scale, fy=scale, interpolation=interpolation)
    if resized.ndim < img.ndim:  # OpenCV drops a trailing channel axis of size 1
        resized = resized.reshape(*resized.shape, *img.shape[2:])
    pad_h = max((IMAGE_PX - resized.shape[0]) // 2, 0)
    pad_w = max((IMAGE_PX - resized.shape[1]) // 2, 0)
    pad = ((pad_h, pad_h), (pad_w, pad_w)) + ((0, 0),) * (resized.ndim - 2)
    padded = np.pad(resized, pad, mode="constant", constant_values=0)
    out = cv2.resize(padded, (IMAGE_PX, IMAGE_PX), interpolation=cv2.INTER_LINEAR)
    return out.reshape(IMAGE_PX, IMAGE_PX, *img.shape[2:])


def letterbox_rgb(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 -> 224x224x3 float32 in 0..1."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"RGB must be HxWx3 uint8, got {rgb.dtype} {rgb.shape}")
    return _letterbox(rgb, cv2.INTER_LINEAR).astype(np.float32) / 255.0


def letterbox_depth(depth_m: np.ndarray) -> np.ndarray:
    """HxW metres -> 224x224x3 float32, outside 0.1-5 m set to 0.

    NaN and +-inf become 0 before resizing (the official agent zeroes only +inf; NaN there would
    reach the network), so an unknown pixel reads as "no depth", like a hole in the sensor."""
    if depth_m.ndim != 2:
        raise ValueError(f"depth must be HxW, got shape {depth_m.shape}")
    d = np.nan_to_num(np.asarray(depth_m, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    d = _letterbox(d, cv2.INTER_LINEAR)
    d[(d > DEPTH_MAX_M) | (d < DEPTH_MIN_M)] = 0.0
    return np.repeat(d[:, :, None], 3, axis=2)


def pixel_goal_mask(u: int, v: int, height: int, width: int) -> np.ndarray:
    """Raw-size uint8 mask: a white 20x20 box centred on (u, v). Within 10 px of an edge (the tests
    are u-10 <= 0, v-10 <= 0, u+10 >= W, v+10 >= H, taken in that order: left, top, right, bottom)
    the box becomes a 10-px strip along that whole edge, as NavDP was trained."""
    if isinstance(u, (float, np.floating)) or isinstance(v, (float, np.floating)):
        raise TypeError(f"pixel goal must be integers, got ({u!r}, {v!r})")
    u, v = int(u), int(v)
    if not (0 <= u < width and 0 <= v < height):
        raise ValueError(f"pixel goal ({u}, {v}) is outside the {width}x{height} image")
    r = GOAL_BOX_HALF_PX
    mask = np.zeros((height, width), dtype=np.uint8)
    if u - r <= 0:
        mask[:, :EDGE_STRIP_PX] = 255
    elif v - r <= 0:
        mask[:EDGE_STRIP_PX, :] = 255
    elif u + r >= width:
        mask[:, width - EDGE_STRIP_PX:] = 255
    elif v + r >= height:
        mask[height - EDGE_STRIP_PX:, :] = 255
    else:
        mask[v - r:v + r, u - r:u + r] = 255
    return mask


def letterbox_mask(mask: np.ndarray) -> np.ndarray:
    """Raw mask -> 224x224 float32 0..1: nearest scale, pad, the same final bilinear resize as RGB,
    /255, mean over the three identical channels (the model saw exactly these values)."""
    m = _letterbox(np.repeat(mask[:, :, None], 3, axis=2), cv2.INTER_NEAREST).astype(np.float32) / 255.0
    return m.mean(axis=2)
