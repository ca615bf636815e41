"""Turn a waypoint path into a time-parametrised reference the MPC horizon can follow.

S1 gives 24 waypoints with no timing. The horizon needs to know where the robot should be at
each step, so the path is resampled by arc length at the desired speed, starting where the
robot projects onto the path, slowing down over the last metre.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Reference:
    states: np.ndarray  # [N+1, 3] x, y, theta (theta unwrapped along the horizon)
    speeds_mps: np.ndarray  # [N] reference speed per step
    s0_m: float  # robot's projection on the path (arc length)
    remaining_m: float  # arc length from the projection to the path end
    cross_track_m: float


def validate_path(path: np.ndarray) -> str:
    """'' if usable, else why not (the tracker never moves on a bad reference)."""
    if path is None:
        return "no reference path"
    p = np.asarray(path, dtype=float)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        return "empty reference path"
    if not np.all(np.isfinite(p[:, :2])):
        return "reference path contains NaN/inf"
    return ""


def arc_lengths(xy: np.ndarray) -> np.ndarray:
    seg = np.linalg.norm(np.diff(xy, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)])


def project(xy: np.ndarray, s: np.ndarray, point: np.ndarray) -> tuple[float, float]:
    """(arc length of the nearest path point to `point`, distance to it)."""
    if len(xy) == 1:
        return 0.0, float(np.linalg.norm(point - xy[0]))
    a, b = xy[:-1], xy[1:]
    ab = b - a
    denom = np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12)
    t = np.clip(np.einsum("ij,ij->i", point - a, ab) / denom, 0.0, 1.0)
    closest = a + t[:, None] * ab
    d = np.linalg.norm(closest - point, axis=1)
    i = int(np.argmin(d))
    return float(s[i] + t[i] * np.sqrt(denom[i])), float(d[i])


def headings(xy: np.ndarray, fallback_yaw: np.ndarray | None) -> np.ndarray:
    """Tangent headings of a polyline; repeated points keep the previous heading."""
    n = len(xy)
    out = np.zeros(n)
    if n == 1:
        return np.array([fallback_yaw[0] if fallback_yaw is not None else 0.0])
    d = np.diff(xy, axis=0)
    seg_yaw = np.arctan2(d[:, 1], d[:, 0])
    valid = np.linalg.norm(d, axis=1) > 1e-6
    last = fallback_yaw[0] if fallback_yaw is not None else (seg_yaw[valid][0] if valid.any() else 0.0)
    for i in range(n - 1):
        if valid[i]:
            last = seg_yaw[i]
        out[i] = last
    out[-1] = last
    return np.unwrap(out)


def interpolate_at(xy: np.ndarray, yaw: np.ndarray, s: np.ndarray, query: np.ndarray) -> np.ndarray:
    x = np.interp(query, s, xy[:, 0])
    y = np.interp(query, s, xy[:, 1])
    # Heading of the segment each query falls on (piecewise constant): no blending across corners.
    idx = np.clip(np.searchsorted(s, query, side="right") - 1, 0, len(yaw) - 1)
    return np.stack([x, y, yaw[idx]], axis=1)


def build_reference(path: np.ndarray, position_xy: np.ndarray, horizon_steps: int, dt_s: float,
                    v_desired_mps: float, slowdown_distance_m: float = 1.0, v_approach_min_mps: float = 0.05,
                    ) -> Reference:
    p = np.asarray(path, dtype=float)
    xy = p[:, :2]
    keep = np.concatenate([[True], np.linalg.norm(np.diff(xy, axis=0), axis=1) > 1e-6])
    yaw_col = p[:, 2] if p.shape[1] > 2 else None
    xy = xy[keep]
    yaw_col = yaw_col[keep] if yaw_col is not None else None
    s = arc_lengths(xy)
    yaw = headings(xy, yaw_col)
    s0, cross = project(xy, s, np.asarray(position_xy, dtype=float))
    total = float(s[-1])
    query = np.empty(horizon_steps + 1)
    speeds = np.empty(horizon_steps)
    query[0] = s0
    for k in range(horizon_steps):
        remaining = total - query[k]
        v = v_desired_mps * min(1.0, max(remaining / slowdown_distance_m, 0.0))
        v = max(v, v_approach_min_mps) if remaining > 1e-3 else 0.0
        speeds[k] = v
        query[k + 1] = min(query[k] + v * dt_s, total)
    states = interpolate_at(xy, yaw, s, query) if len(xy) > 1 else np.tile([xy[0, 0], xy[0, 1], yaw[0]],
                                                                            (horizon_steps + 1, 1))
    return Reference(states, speeds, s0, total - s0, cross)


def lookahead_point(path: np.ndarray, s_m: float) -> np.ndarray:
    p = np.asarray(path, dtype=float)
    xy = p[:, :2]
    s = arc_lengths(xy)
    return np.array([np.interp(s_m, s, xy[:, 0]), np.interp(s_m, s, xy[:, 1])])
