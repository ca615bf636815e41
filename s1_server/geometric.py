"""A weight-free S1: candidate arcs checked against the depth image.

It is the demo's and the tests' S1, and a planner a lab can trust when no NavDP checkpoint is at
hand. Depth is back-projected with the camera mount into a floor grid around the robot: points
in the obstacle height band are obstacles, floor points are known free, and everything never
seen (NaN/zero depth, outside the view) is unknown, never free. Each candidate counts only up to
where it first gets closer than the robot radius to an obstacle or leaves known space.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from s1_server.camera import CameraMount, Intrinsics, backproject, optical_to_base, pixel_to_base, robust_depth_at
from s1_server.plan import (
    DEFAULT_STOP_THRESHOLD,
    NUM_WAYPOINTS,
    Goal,
    ImageGoal,
    NoGoal,
    PixelGoal,
    PointGoal,
    S1Error,
    S1Plan,
)


@dataclass(frozen=True)
class GeometricParams:
    robot_radius_m: float = 0.20
    # Extra clearance: obstacles leave the camera's view as the robot passes them, and the
    # planner keeps no map, so paths must not graze what it can see.
    clearance_margin_m: float = 0.12
    max_curvature_inv_m: float = 2.0  # tightest arc: 0.5 m radius
    num_arcs: int = 21
    num_clothoids: int = 8
    min_length_m: float = 0.6
    max_length_m: float = 3.0
    min_obstacle_height_m: float = 0.05
    max_obstacle_height_m: float = 1.5
    max_depth_m: float = 6.0
    depth_stride: int = 4
    grid_resolution_m: float = 0.05
    grid_forward_m: float = 6.0
    grid_side_m: float = 3.5
    blind_radius_m: float = 0.6  # below the camera's view: free unless an obstacle is seen there
    free_dilation_cells: int = 2
    progress_weight: float = 2.0
    clearance_weight: float = 1.0
    clearance_cap_m: float = 0.6
    curvature_weight: float = 0.15
    min_safe_length_m: float = 0.25
    goal_reached_m: float = 0.5
    unknown_goal_distance_m: float = 3.0
    blocked_penalty: float = 1.5  # a candidate that ends at an obstacle or unknown space is a dead end
    min_valid_depth_fraction: float = 0.05  # less valid depth than this: blind, nothing is safe
    stop_threshold: float = DEFAULT_STOP_THRESHOLD


UNSAFE_VALUE = -10.0


class GeometricPlanner:
    """Implements the S1 Planner protocol without weights."""

    def __init__(self, params: GeometricParams | None = None):
        self.params = params or GeometricParams()
        self._curvature_profiles = self._make_profiles()

    def reset(self) -> None:
        """Stateless: nothing to forget."""

    # ---------------------------------------------------------------- public API
    def plan(self, rgb: np.ndarray, depth_m: np.ndarray, intrinsics: Intrinsics, goal: Goal,
             mount: CameraMount | None = None) -> S1Plan:
        t0 = time.perf_counter()
        mount = mount or CameraMount()
        depth = _checked_depth(depth_m)
        if (intrinsics.width, intrinsics.height) != (depth.shape[1], depth.shape[0]):
            intrinsics = intrinsics.scaled_to(depth.shape[1], depth.shape[0])
        goal_xy = self.goal_in_base(goal, depth, intrinsics, mount)
        grid = self.occupancy(depth, intrinsics, mount)
        candidates = self.candidates(goal_xy)
        values, safe_len, clearances = self.score(candidates, grid, goal_xy)
        valid_fraction = float(np.mean(np.isfinite(depth) & (depth > 0.0)))
        if valid_fraction < self.params.min_valid_depth_fraction:
            values = np.full_like(values, UNSAFE_VALUE)
        best = int(np.argmax(values))
        trimmed = np.stack([_hold_after(c, n) for c, n in zip(candidates, safe_len)])
        if goal_xy is not None:
            trimmed = np.stack([_trim_at_goal(c, goal_xy, self.params.goal_reached_m) for c in trimmed])
        no_safe = bool(values[best] < self.params.stop_threshold)
        info = {"goal_base": None if goal_xy is None else [float(goal_xy[0]), float(goal_xy[1])],
                "path_length_m": _path_length(trimmed[best]),
                "min_clearance_m": float(clearances[best]), "valid_depth_fraction": valid_fraction}
        return S1Plan(best=trimmed[best], candidates=trimmed, values=values.astype(np.float32),
                      no_safe_path=no_safe, chosen_index=best, backend="geometric",
                      latency_s=time.perf_counter() - t0, info=info)

    # ---------------------------------------------------------------- goal
    def goal_in_base(self, goal: Goal, depth: np.ndarray, intr: Intrinsics, mount: CameraMount):
        if isinstance(goal, NoGoal):
            return None
        if isinstance(goal, PointGoal):
            if not (math.isfinite(goal.x_m) and math.isfinite(goal.y_m)):
                raise S1Error("point goal is NaN/inf")
            return np.array([goal.x_m, goal.y_m])
        if isinstance(goal, PixelGoal):
            u, v = int(goal.u), int(goal.v)
            if not (0 <= u < depth.shape[1] and 0 <= v < depth.shape[0]):
                raise S1Error(f"pixel goal ({u}, {v}) is outside the {depth.shape[1]}x{depth.shape[0]} image")
            d = robust_depth_at(depth, u, v)
            point = pixel_to_base(u, v, d, intr, mount) if math.isfinite(d) else None
            if point is None:
                point = self._ray_goal(u, v, intr, mount)
            return np.asarray(point[:2], dtype=float)
        if isinstance(goal, ImageGoal):
            raise S1Error("image goals need NavDP (cross-modal checkpoint); the geometric planner cannot match images")
        raise S1Error(f"unsupported goal type {type(goal).__name__}")

    def _ray_goal(self, u: int, v: int, intr: Intrinsics, mount: CameraMount) -> np.ndarray:
        """No depth at the pixel: where its ray meets the floor, else its bearing at a nominal range."""
        ray = optical_to_base(np.array([(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, 1.0]),
                              CameraMount(0.0, mount.pitch_rad))[0]
        if ray[2] < -1e-3:
            t = mount.height_m / -ray[2]
            hit = np.array([mount.x_m, mount.y_m]) + t * ray[:2]
            if np.hypot(*hit) <= self.params.max_depth_m:
                return hit
        bearing = math.atan2(ray[1], ray[0])
        r = self.params.unknown_goal_distance_m
        return np.array([r * math.cos(bearing), r * math.sin(bearing)])

    # ---------------------------------------------------------------- map
    def occupancy(self, depth: np.ndarray, intr: Intrinsics, mount: CameraMount) -> dict:
        p = self.params
        pts_opt, _ = backproject(depth, intr, stride=p.depth_stride)
        pts_opt = pts_opt[pts_opt[:, 2] <= p.max_depth_m]
        pts = optical_to_base(pts_opt, mount)
        res = p.grid_resolution_m
        nx, ny = int(p.grid_forward_m / res), int(2 * p.grid_side_m / res)
        ix = np.floor(pts[:, 0] / res).astype(int)
        iy = np.floor((pts[:, 1] + p.grid_side_m) / res).astype(int)
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        z = pts[:, 2]
        obstacle = np.zeros((nx, ny), dtype=bool)
        free = np.zeros((nx, ny), dtype=bool)
        is_obs = inside & (z >= p.min_obstacle_height_m) & (z <= p.max_obstacle_height_m)
        is_floor = inside & (z < p.min_obstacle_height_m)
        obstacle[ix[is_obs], iy[is_obs]] = True
        free[ix[is_floor], iy[is_floor]] = True
        # Everything seen through (between the camera and an obstacle) is free too; approximate it
        # by dilating the sparse floor hits, and add the blind zone below the camera.
        if p.free_dilation_cells > 0:
            free = ndimage.binary_dilation(free, iterations=p.free_dilation_cells)
        gx = (np.arange(nx) + 0.5) * res
        gy = (np.arange(ny) + 0.5) * res - p.grid_side_m
        blind = np.hypot(gx[:, None], gy[None, :]) <= p.blind_radius_m
        free |= blind
        free &= ~obstacle
        clearance = ndimage.distance_transform_edt(~obstacle) * res if obstacle.any() \
            else np.full((nx, ny), 10.0)
        return {"free": free, "clearance": clearance, "res": res, "side": p.grid_side_m, "shape": (nx, ny)}

    # ---------------------------------------------------------------- candidates
    def _make_profiles(self) -> np.ndarray:
        """Curvature along normalised arc length for each candidate: arcs, then curvature ramps."""
        p = self.params
        s = np.linspace(0.0, 1.0, NUM_WAYPOINTS)
        arcs = [np.full_like(s, k) for k in np.linspace(-p.max_curvature_inv_m, p.max_curvature_inv_m, p.num_arcs)]
        ramps = []
        for k in np.linspace(-p.max_curvature_inv_m, p.max_curvature_inv_m, p.num_clothoids // 2 + 2)[1:-1]:
            ramps.append(k * (1.0 - s))  # turn, then straighten: heads toward an offset goal
            ramps.append(k * (1.0 - 2.0 * s) * 1.5)  # lane-change-like S
        return np.array(arcs + ramps[: p.num_clothoids])

    def candidates(self, goal_xy: np.ndarray | None) -> np.ndarray:
        p = self.params
        dist = float(np.hypot(*goal_xy)) if goal_xy is not None else p.max_length_m
        length = min(max(dist * 1.15, p.min_length_m), p.max_length_m)
        ds = length / NUM_WAYPOINTS
        curv = self._curvature_profiles
        theta = np.cumsum(curv * ds, axis=1)
        x = np.cumsum(ds * np.cos(theta - curv * ds / 2), axis=1)
        y = np.cumsum(ds * np.sin(theta - curv * ds / 2), axis=1)
        return np.stack([x, y, theta], axis=2).astype(np.float32)

    # ---------------------------------------------------------------- scoring
    def score(self, cands: np.ndarray, grid: dict, goal_xy: np.ndarray | None):
        p = self.params
        res, side = grid["res"], grid["side"]
        nx, ny = grid["shape"]
        ix = np.floor(cands[:, :, 0] / res).astype(int)
        iy = np.floor((cands[:, :, 1] + side) / res).astype(int)
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        ixc, iyc = np.clip(ix, 0, nx - 1), np.clip(iy, 0, ny - 1)
        clear = np.where(inside, grid["clearance"][ixc, iyc], 0.0)
        known = inside & grid["free"][ixc, iyc]
        ok = (clear >= p.robot_radius_m + p.clearance_margin_m) & known
        # index of the first bad waypoint (24 when all are fine)
        first_bad = np.where(ok.all(axis=1), NUM_WAYPOINTS, np.argmin(ok, axis=1))
        k = cands.shape[0]
        values = np.empty(k)
        min_clear = np.empty(k)
        seg = np.hypot(np.diff(cands[:, :, 0], axis=1, prepend=0.0), np.diff(cands[:, :, 1], axis=1, prepend=0.0))
        for i in range(k):
            n = int(first_bad[i])
            safe_len = float(seg[i, :n].sum())
            end = cands[i, n - 1, :2] if n > 0 else np.zeros(2)
            c = float(clear[i, :n].min()) if n > 0 else 0.0
            min_clear[i] = c
            curv_pen = p.curvature_weight * float(np.abs(self._curvature_profiles[i]).mean())
            if goal_xy is None:
                progress = safe_len
                near_goal = False
            else:
                d0 = float(np.hypot(*goal_xy))
                progress = d0 - float(np.hypot(*(goal_xy - end)))
                near_goal = float(np.hypot(*(goal_xy - end))) <= p.goal_reached_m or d0 <= p.goal_reached_m
            if safe_len < p.min_safe_length_m and not near_goal:
                values[i] = UNSAFE_VALUE + progress
                continue
            blocked = p.blocked_penalty if (n < NUM_WAYPOINTS and not near_goal) else 0.0
            values[i] = (p.progress_weight * progress + p.clearance_weight * min(c, p.clearance_cap_m)
                         - curv_pen - blocked)
        return values, first_bad, min_clear


def _checked_depth(depth_m: np.ndarray) -> np.ndarray:
    d = np.asarray(depth_m)
    if d.ndim == 3 and d.shape[2] == 1:
        d = d[:, :, 0]
    if d.ndim != 2 or d.shape[0] < 2 or d.shape[1] < 2:
        raise S1Error(f"depth must be an H x W image, got shape {d.shape}")
    return d.astype(np.float32, copy=False)


def _hold_after(cand: np.ndarray, n_ok: int) -> np.ndarray:
    """Keep the safe prefix (minus one waypoint of margin) and hold its last pose."""
    n = max(int(n_ok) - 1, 1)
    out = cand.copy()
    out[n:] = cand[n - 1]
    return out


def _trim_at_goal(cand: np.ndarray, goal_xy: np.ndarray, reach_m: float) -> np.ndarray:
    """Hold the pose closest to the goal, so the robot does not overshoot it; paths that never
    come near the goal (a goal behind the robot) are kept whole."""
    d = np.hypot(cand[:, 0] - goal_xy[0], cand[:, 1] - goal_xy[1])
    i = int(np.argmin(d))
    if d[i] > reach_m:
        return cand
    out = cand.copy()
    out[i + 1:] = cand[i]
    return out


def _path_length(path: np.ndarray) -> float:
    return float(np.hypot(np.diff(path[:, 0], prepend=0.0), np.diff(path[:, 1], prepend=0.0)).sum())
