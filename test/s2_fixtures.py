"""Helpers for S2 tests and the S2 benchmark: free loopback ports and synthetic camera frames
painted like the simulator paints them."""
from __future__ import annotations

import socket

import numpy as np

from lingnav_core.colors import PALETTE

WALL_RGB = (200, 200, 200)  # light grey, as the simulator's walls
FLOOR_RGB = (110, 110, 110)  # darker grey floor


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def room_frame(width: int = 640, height: int = 480) -> np.ndarray:
    """An empty view: light grey wall above the horizon, darker grey floor below, slight noise."""
    rgb = np.empty((height, width, 3), np.uint8)
    horizon = int(height * 0.45)
    rgb[:horizon] = WALL_RGB
    rgb[horizon:] = FLOOR_RGB
    noise = np.random.default_rng(width * height).integers(-6, 7, rgb.shape)
    return np.clip(rgb.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def paint_box(rgb: np.ndarray, colour: str, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """Paint an object of a PALETTE colour with Lambert-like shading from 1.0 (left) to 0.5 (right)."""
    base = np.asarray(PALETTE[colour], np.float32)
    shade = np.linspace(1.0, 0.5, max(x1 - x0, 1), dtype=np.float32)[None, :, None]
    rgb[y0:y1, x0:x1] = np.clip(base[None, None, :] * shade, 0, 255).astype(np.uint8)
    return rgb
