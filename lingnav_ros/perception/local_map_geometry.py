"""Grid geometry for the local map (perception/local_map.py): polyline sampling, disk sweeps
over a cell mask, where camera rays meet the floor, and scrolling arrays. Pure numpy."""
from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from lingnav_core.camera import CameraMount, Intrinsics, floor_hits, pixel_rays_base


class GridIndex(Protocol):
    """How a square grid sits in odom: `res` metres per cell, `n` cells a side, and `origin`,
    the odom cell index of cell [0, 0]. The local map is one; the sweeps below need no more."""

    res: float
    n: int
    origin: np.ndarray


def densify(path_xy: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every <= step_m along a polyline [N,2], with their arc length (vectorised)."""
    p = np.asarray(path_xy, dtype=float).reshape(-1, 2)
    if p.shape[0] == 1:
        return p.copy(), np.zeros(1)
    seg = np.hypot(*np.diff(p, axis=0).T)
    n = np.maximum(np.ceil(seg / step_m).astype(np.int64), 1)
    idx = np.repeat(np.arange(seg.size), n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + 1
    t = (k / n[idx])[:, None]
    pts = p[idx] + (p[idx + 1] - p[idx]) * t
    s = np.concatenate([[0.0], np.cumsum(seg)])[idx] + seg[idx] * t[:, 0]
    return np.vstack([p[:1], pts]), np.concatenate([[0.0], s])


def ray_samples(cam_xy, end_xy: np.ndarray, length: np.ndarray, reach: np.ndarray, step_m: float):
    """Points every `step_m` along each 2D ray from the camera, up to `reach` of its `length`:
    (x, y, fraction of the ray, ray index), or None when there are none."""
    steps = np.maximum(np.ceil(reach / step_m).astype(np.int64), 0)
    total = int(steps.sum())
    if total == 0:
        return None
    ray = np.repeat(np.arange(steps.size), steps)
    start = np.cumsum(steps) - steps
    k = np.arange(total) - np.repeat(start, steps)
    s = (k + 1.0) * (reach[ray] / np.maximum(steps[ray], 1))  # up to and including `reach`
    frac = s / np.maximum(length[ray], 1e-6)
    sx = cam_xy[0] + (end_xy[ray, 0] - cam_xy[0]) * frac
    sy = cam_xy[1] + (end_xy[ray, 1] - cam_xy[1]) * frac
    return sx, sy, frac, ray


def first_hit(m: GridIndex, path: np.ndarray, s: np.ndarray, mask: np.ndarray, radius_m: float,
               outside_hits: bool = False) -> float:
    """Arc length at which a disk of `radius_m` moved along `path` first overlaps a `mask` cell
    (a cell counts when its centre is within radius + half a cell of the disk's centre)."""
    if path.shape[0] == 0:
        return 0.0
    rows = np.flatnonzero(disk_hits(m, path, mask, radius_m, outside_hits))
    return float(s[rows[0]]) if rows.size else math.inf


def disk_hits(m: GridIndex, points: np.ndarray, mask: np.ndarray, radius_m: float,
              outside_hits: bool = False) -> np.ndarray:
    """Per point [N,>=2]: does a disk of `radius_m` there overlap a `mask` cell?"""
    r = int(math.ceil(radius_m / m.res)) + 1
    off = np.arange(-r, r + 1)
    oi, oj = (a.ravel() for a in np.meshgrid(off, off, indexing="ij"))
    keep = np.hypot(oi, oj) <= r + 1.5  # corners can never be within reach
    oi, oj = oi[keep], oj[keep]
    base_i = np.floor(points[:, 0] / m.res).astype(np.int64) - m.origin[0]
    base_j = np.floor(points[:, 1] / m.res).astype(np.int64) - m.origin[1]
    ci, cj = base_i[:, None] + oi[None, :], base_j[:, None] + oj[None, :]
    cx = (ci + m.origin[0] + 0.5) * m.res - points[:, :1]
    cy = (cj + m.origin[1] + 0.5) * m.res - points[:, 1:2]
    near = cx * cx + cy * cy <= (radius_m + 0.5 * m.res) ** 2
    inside = (ci >= 0) & (ci < m.n) & (cj >= 0) & (cj < m.n)
    hit = mask[np.clip(ci, 0, m.n - 1), np.clip(cj, 0, m.n - 1)] & inside
    if outside_hits:
        hit |= ~inside
    return (hit & near).any(axis=1)


def floor_view(intr: Intrinsics, mount: CameraMount, stride: int, shape: tuple[int, int], near_m: float):
    """Where each strided pixel's ray meets the floor (base xy [h, w, 2], NaN if never), and
    which of them look at the floor within `near_m` of the base."""
    h, w = shape
    vs, us = np.mgrid[0:h, 0:w].astype(float) * stride
    floor = floor_hits(pixel_rays_base(us, vs, intr, mount), mount)
    sel = np.hypot(floor[..., 0], floor[..., 1]) <= near_m  # False where NaN: never meets the floor
    return sel, floor


def scrolled(a: np.ndarray, di: int, dj: int, blank) -> np.ndarray:
    """`a` seen from an origin moved by (di, dj) cells; cells that scroll in are `blank`."""
    out = np.full_like(a, blank)
    n0, n1 = a.shape
    if abs(di) >= n0 or abs(dj) >= n1:
        return out
    src_i = slice(max(di, 0), n0 + min(di, 0))
    dst_i = slice(max(-di, 0), n0 + min(-di, 0))
    src_j = slice(max(dj, 0), n1 + min(dj, 0))
    dst_j = slice(max(-dj, 0), n1 + min(-dj, 0))
    out[dst_i, dst_j] = a[src_i, src_j]
    return out
