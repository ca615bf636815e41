"""Image preprocessing exactly as NavDP was trained: letterbox to 224 (scale + zero pad, no crop),
depth window 0.1-5 m, and the integer pixel-goal mask."""
from __future__ import annotations

import cv2
import numpy as np

IMAGE_PX = 224
DEPTH_MIN_M = 0.1
DEPTH_MAX_M = 5.0
GOAL_BOX_HALF_PX = 10  # 20 x 20 box
EDGE_STRIP_PX = 10


def _letterbox(img: np.ndarray, interpolation: int) -> np.ndarray:
    h, w = img.shape[:2]
    scale = IMAGE_PX / max(h, w)
    new_w, new_h = max(1, min(IMAGE_PX, round(w * scale))), max(1, min(IMAGE_PX, round(h * scale)))
    resized = cv2.resize(img, (new_w, new_h), interpolation=interpolation)
    top, left = (IMAGE_PX - new_h) // 2, (IMAGE_PX - new_w) // 2
    out = np.zeros((IMAGE_PX, IMAGE_PX, *img.shape[2:]), dtype=img.dtype)
    out[top:top + new_h, left:left + new_w] = resized.reshape(new_h, new_w, *img.shape[2:])
    return out


def letterbox_rgb(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 -> 224x224x3 float32 in 0..1."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"RGB must be HxWx3 uint8, got {rgb.dtype} {rgb.shape}")
    return _letterbox(rgb, cv2.INTER_LINEAR).astype(np.float32) / 255.0


def letterbox_depth(depth_m: np.ndarray) -> np.ndarray:
    """HxW metres -> 224x224x3 float32, outside 0.1-5 m (and NaN/inf) set to 0."""
    if depth_m.ndim != 2:
        raise ValueError(f"depth must be HxW, got shape {depth_m.shape}")
    d = np.nan_to_num(np.asarray(depth_m, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    d = _letterbox(d, cv2.INTER_LINEAR)
    d[(d > DEPTH_MAX_M) | (d < DEPTH_MIN_M)] = 0.0
    return np.repeat(d[:, :, None], 3, axis=2)


def pixel_goal_mask(u: int, v: int, height: int, width: int) -> np.ndarray:
    """Raw-size uint8 mask: a white 20x20 box centred on (u, v); where the box would leave the image,
    a 10-px strip on that edge (checked left, top, right, bottom) spanning the box's clipped extent."""
    if isinstance(u, (float, np.floating)) or isinstance(v, (float, np.floating)):
        raise TypeError(f"pixel goal must be integers, got ({u!r}, {v!r})")
    u, v = int(u), int(v)
    if not (0 <= u < width and 0 <= v < height):
        raise ValueError(f"pixel goal ({u}, {v}) is outside the {width}x{height} image")
    r = GOAL_BOX_HALF_PX
    mask = np.zeros((height, width), dtype=np.uint8)
    rows = slice(max(v - r, 0), min(v + r, height))
    cols = slice(max(u - r, 0), min(u + r, width))
    if u - r < 0:
        mask[rows, :EDGE_STRIP_PX] = 255
    elif v - r < 0:
        mask[:EDGE_STRIP_PX, cols] = 255
    elif u + r > width:
        mask[rows, width - EDGE_STRIP_PX:] = 255
    elif v + r > height:
        mask[height - EDGE_STRIP_PX:, cols] = 255
    else:
        mask[v - r:v + r, u - r:u + r] = 255
    return mask


def letterbox_mask(mask: np.ndarray) -> np.ndarray:
    """Raw mask -> 224x224 float32 0..1 (nearest resize, pad, /255, mean over channels)."""
    m = _letterbox(np.repeat(mask[:, :, None], 3, axis=2), cv2.INTER_NEAREST).astype(np.float32) / 255.0
    return m.mean(axis=2)
