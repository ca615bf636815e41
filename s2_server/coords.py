"""Model coordinates -> pixels of the image the robot sent.

Qwen3-VL grounds in relative 0..1000 coordinates; Qwen2.5-VL and Qwen2-VL in absolute pixels
of the (resized) image the model was fed. The convention comes from the model family, never
from guessing at the numbers: [300, 200] is a valid point in both.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

RELATIVE = "relative_1000"
ABSOLUTE = "absolute_pixels"

# Points this far outside the frame (in 0..1000 units) are model garbage, not rounding.
_OUT_OF_RANGE_SLACK = 50.0


@dataclass(frozen=True)
class CoordFrame:
    """How to read a model's point: its convention and the image sizes involved."""

    convention: str
    image_w: int  # received image
    image_h: int
    model_w: int = 0  # resized input the model saw (absolute convention)
    model_h: int = 0


def to_norm(x: float, y: float, frame: CoordFrame) -> tuple[float, float] | None:
    """Model point -> 0..1000 normalised point, or None when it is unusable."""
    if not (isinstance(x, (int, float)) and isinstance(y, (int, float))) or isinstance(x, bool) or isinstance(y, bool):
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    if frame.convention == ABSOLUTE:
        if frame.model_w <= 0 or frame.model_h <= 0:
            return None
        x, y = 1000.0 * x / frame.model_w, 1000.0 * y / frame.model_h
    lo, hi = -_OUT_OF_RANGE_SLACK, 1000.0 + _OUT_OF_RANGE_SLACK
    if not (lo <= x <= hi and lo <= y <= hi):
        return None
    return (min(max(x, 0.0), 1000.0), min(max(y, 0.0), 1000.0))


def norm_to_pixel(nx: float, ny: float, width: int, height: int) -> tuple[int, int]:
    """0..1000 -> integer pixel inside a width x height image (NavDP needs integer indices)."""
    u = int(round(nx / 1000.0 * (width - 1)))
    v = int(round(ny / 1000.0 * (height - 1)))
    return (min(max(u, 0), width - 1), min(max(v, 0), height - 1))


def pixel_to_norm(u: float, v: float, width: int, height: int) -> tuple[float, float]:
    return (1000.0 * u / max(width - 1, 1), 1000.0 * v / max(height - 1, 1))


def smart_resize(height: int, width: int, factor: int = 28, min_pixels: int = 56 * 56,
                 max_pixels: int = 28 * 28 * 1280) -> tuple[int, int]:
    """(height, width) the Qwen-VL image processor feeds the model: both multiples of `factor`
    (patch x merge: 28 for Qwen2/2.5-VL, 32 for Qwen3-VL), aspect kept, pixel count bounded.

    An absolute-pixel model answers in this grid, so a remote Qwen2.5-VL (OpenAI backend) is read
    against it, not against the size we sent.
    """
    if height <= 0 or width <= 0:
        raise ValueError("image size must be positive")
    h = max(factor, round(height / factor) * factor)
    w = max(factor, round(width / factor) * factor)
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(factor, math.floor(height / beta / factor) * factor)
        w = max(factor, math.floor(width / beta / factor) * factor)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = math.ceil(height * beta / factor) * factor
        w = math.ceil(width * beta / factor) * factor
    return h, w

