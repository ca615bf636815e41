"""Where a moving object (a person, another robot) is at a given simulated time.

An object walks along a polyline at a constant speed after `start_s` (standing at the first point
until then); with `loop` it turns back at each end and walks the path again, otherwise it stays at
the last point. Positions are a pure function of time, so a rerun of the same world sees the
same person in the same place at the same second.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PathMotion:
    points: tuple[tuple[float, float], ...]  # at least two
    speed_mps: float
    start_s: float = 0.0
    loop: bool = False

    def __post_init__(self) -> None:
        if len(self.points) < 2:
            raise ValueError("a path needs at least two points")
        if not (math.isfinite(self.speed_mps) and self.speed_mps > 0.0):
            raise ValueError("a path's speed_mps must be finite and > 0")

    @property
    def length_m(self) -> float:
        p = np.asarray(self.points, dtype=float)
        return float(np.hypot(*np.diff(p, axis=0).T).sum())

    def travelled_m(self, t_s: float) -> float:
        """Distance along the path at time t (folded back and forth when looping)."""
        s = max(0.0, t_s - self.start_s) * self.speed_mps
        total = self.length_m
        if total <= 0.0:
            return 0.0
        if not self.loop:
            return min(s, total)
        s = math.fmod(s, 2.0 * total)
        return s if s <= total else 2.0 * total - s

    def position(self, t_s: float) -> tuple[float, float]:
        p = np.asarray(self.points, dtype=float)
        seg = np.hypot(*np.diff(p, axis=0).T)
        s = self.travelled_m(t_s)
        for i, length in enumerate(seg):
            if s <= length or i == len(seg) - 1:
                f = 0.0 if length <= 0.0 else min(s / length, 1.0)
                x, y = p[i] + f * (p[i + 1] - p[i])
                return float(x), float(y)
            s -= length
        return float(p[-1, 0]), float(p[-1, 1])

    def velocity(self, t_s: float, dt_s: float = 0.05) -> tuple[float, float]:
        """Finite-difference velocity (m/s), for ground truth only."""
        x0, y0 = self.position(t_s - dt_s)
        x1, y1 = self.position(t_s + dt_s)
        return (x1 - x0) / (2 * dt_s), (y1 - y0) / (2 * dt_s)
