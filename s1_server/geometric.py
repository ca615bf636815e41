"""A weight-free S1: candidate paths checked against the depth image, answered in NavDP's shapes.

It is the demo's and the tests' S1, and a planner a lab can trust when no NavDP checkpoint is at
hand. Depth is back-projected with the camera mount into a floor grid around the robot: points
in the obstacle height band are obstacles, floor points are known free, and everything never
seen (NaN/zero depth, outside the view) is unknown, never free. Each candidate counts only up to
where it first gets closer than the robot radius (plus a margin) to an obstacle or leaves known
space.

Shapes: like NavDP it answers exactly 16 candidates of 24 waypoints ([16, 24, 3], values [16]).
It scores a larger pool (forward arcs and curvature ramps, two in-place turns, one short reverse)
and returns the 16 best, so a client that assumes NavDP's shapes works unchanged.

Values live on the NavDP critic's scale, so one `stop_threshold` means the same for both
backends (-0.5 in NavDP's client, -3 in the deployed pipeline). NavDP's critic learns the label
`-5 * (fraction of waypoints in collision) + 0.5 * (sum of clearance increments)`; here:

    value = -5 * f_blocked + 0.5 * (clear_end - clear_start) + goal_bonus
    f_blocked   fraction of the 24 waypoints at or past the first one closer than the robot
                radius + margin to an obstacle; waypoints that are only in unknown space (past
                the seen floor, before any obstacle) count 0.4 each (1.0 for a path that is safe
                for less than `min_safe_length_m`, or when the depth is blind)
    clear_*     clearance along the safe part, capped at `clearance_cap_m` (so the term is
                within +-0.3 and never turns a fully safe path into a stop)
    goal_bonus  0..1, a squashed progress + clearance - curvature score: it only orders paths
                of equal safety, toward the goal

So a fully safe path is worth about -0.15..+1.3, a path blocked for its last 10% about -0.5,
for its last 60% about -3, and a path that cannot move at all -5. Primitives are valued on the
same scale, between the two thresholds, so that they are a last resort: an in-place turn (all
xy 0, which NavDP's goal modes read as "stay") is worth -2.0 plus up to 0.35 for facing the goal
or the freer side (-2.5 when the robot is already within its margin of an obstacle, -5 when it
touches one), and beats only forward paths blocked for more than about half their length. With
the goal behind the robot (more than 90 degrees off) the turn toward it is a safe move worth
0.5..1.0, above every forward path (they all lead away). The 0.3 m reverse backs into space the
camera cannot see: -2.9, or -2.3 when the robot is within its margin of an obstacle ahead. A
permissive client (-3) therefore turns away from, or backs off, a wall it faces, while NavDP's
strict client (-0.5) stops there, as it would with NavDP.

Arrival (s1_server/geometric_arrival.py): once the goal is reached, a "stay" candidate (all
zeros) is worth -4 and everything that moves -5..-4.5, so both common thresholds end the approach.

No safe candidate: as the official server, it still answers all 16 candidates and the best
one as `trajectory`; the best value is then below the threshold, which is the client's stop
signal (`no_safe_path` is set too, for our own clients).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from lingnav_core.angles import wrap
from lingnav_core.camera import (
    CameraMount,
    Intrinsics,
    floor_hits,
    pixel_rays_base,
    pixel_to_base,
    robust_depth_at,
)
from lingnav_core.depth_points import depth_to_base_points, in_height_band
from lingnav_core.s1_plan import (
    DEFAULT_STOP_THRESHOLD,
    NUM_CANDIDATES,
    NUM_WAYPOINTS,
    Goal,
    ImageGoal,
    NoGoal,
    PixelGoal,
    PointGoal,
    S1Error,
    S1Plan,
)
from s1_server.geometric_arrival import foreground_point, goal_reached, trim_at_goal, with_stay


@dataclass(frozen=True)
class GeometricParams:
    robot_radius_m: float = 0.20
    # Extra clearance: obstacles leave the camera's view as the robot passes them, and the
    # planner keeps no map, so paths must not graze what it can see.
    clearance_margin_m: float = 0.12
    max_curvature_inv_m: float = 2.0  # tightest arc: 0.5 m radius
    num_arcs: int = 21
    num_clothoids: int = 8
    turn_in_place_rad: float = math.pi / 2.0
    reverse_m: float = 0.3
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
    goal_reached_m: float = 0.5  # paths are held at their pose closest to the goal within this
    # Arrival and pixel-goal snapping: s1_server/geometric_arrival.py
    arrive_radius_m: float = 0.35
    reach_m: float = 1.0
    min_approach_m: float = 0.15
    toward_cone_rad: float = math.radians(30.0)
    blocked_reach_m: float = 0.5  # NavDP's shortest useful path
    snap_fraction: float = 0.06  # of the image width, each side
    snap_rows_px: int = 6
    snap_min_gap_m: float = 0.3
    unknown_goal_distance_m: float = 3.0
    unknown_weight: float = 0.4  # a waypoint in unknown space weighs this much of a collision
    min_valid_depth_fraction: float = 0.05  # less valid depth than this: blind, nothing is safe
    stop_threshold: float = DEFAULT_STOP_THRESHOLD


# The NavDP critic's scale (module docstring): the label's collision weight and primitive values.
COLLISION_WEIGHT = 5.0
CLEARANCE_GAIN_WEIGHT = 0.5
UNSAFE_VALUE = -COLLISION_WEIGHT
TURN_VALUE = -2.0
TURN_TIGHT_VALUE = -2.5
REVERSE_VALUE = -2.9
REVERSE_OFF_WALL_VALUE = -2.3
TURN_BONUS_MAX = 0.35
GOAL_BEHIND_TURN_VALUE = 0.5


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
        forward = self.candidates(goal_xy)
        fwd_values, safe_len, clearances = self.score(forward, grid, goal_xy)
        arrived = goal_reached(forward, safe_len, goal_xy, isinstance(goal, PixelGoal), self.params)
        valid_fraction = float(np.mean(np.isfinite(depth) & (depth > 0.0)))
        trimmed = np.stack([_hold_after(c, n) for c, n in zip(forward, safe_len)])
        if goal_xy is not None:
            trimmed = np.stack([trim_at_goal(c, goal_xy, self.params.goal_reached_m) for c in trimmed])
        prims, prim_values, prim_kinds = self.primitives(grid, goal_xy, forward, fwd_values)
        pool = np.concatenate([trimmed, prims])
        values = np.concatenate([fwd_values, prim_values])
        kinds = ["forward"] * len(trimmed) + prim_kinds
        pool_clear = np.concatenate([clearances, np.full(len(prims), _clearance_at(grid, 0.0, 0.0))])
        if arrived:
            pool, values, kinds, pool_clear = with_stay(pool, values, kinds, pool_clear, _clearance_at(grid, 0.0, 0.0))
        if valid_fraction < self.params.min_valid_depth_fraction:
            arrived = False
            values = np.full_like(values, UNSAFE_VALUE)
        # NavDP's shapes: the 16 best of the pool, kept in pool order
        keep = np.sort(np.argsort(-values, kind="stable")[:NUM_CANDIDATES])
        cands, values = pool[keep].astype(np.float32), values[keep]
        best = int(np.argmax(values))
        # arrived is no dead end: our own clients read a "stay" plan with no_safe_path false as
        # "as close as it gets" (a plan too short to move), existing robot clients compare the value
        no_safe = bool(values[best] < self.params.stop_threshold) and not arrived
        info = {"goal_base": None if goal_xy is None else [float(goal_xy[0]), float(goal_xy[1])],
                "arrived": arrived,
                "path_length_m": _path_length(cands[best]), "kind": kinds[int(keep[best])],
                "min_clearance_m": float(pool_clear[int(keep[best])]), "valid_depth_fraction": valid_fraction}
        return S1Plan(best=cands[best], candidates=cands, values=values.astype(np.float32),
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
            if point is not None and point[2] >= self.params.min_obstacle_height_m:
                point = foreground_point(depth, u, v, d, intr, mount, point, self.params)
            if point is None:
                point = self._ray_goal(u, v, intr, mount)
            return np.asarray(point[:2], dtype=float)
        if isinstance(goal, ImageGoal):
            raise S1Error("image goals need NavDP (cross-modal checkpoint); the geometric planner cannot match images")
        raise S1Error(f"unsupported goal type {type(goal).__name__}")

    def _ray_goal(self, u: int, v: int, intr: Intrinsics, mount: CameraMount) -> np.ndarray:
        """No depth at the pixel: where its ray meets the floor, else its bearing at a nominal range."""
        ray = pixel_rays_base(u, v, intr, mount)
        hit = floor_hits(ray, mount, min_descent=1e-3)
        if np.isfinite(hit[0]) and np.hypot(*hit) <= self.params.max_depth_m:
            return hit
        bearing = math.atan2(ray[1], ray[0])
        r = self.params.unknown_goal_distance_m
        return np.array([r * math.cos(bearing), r * math.sin(bearing)])

    # ---------------------------------------------------------------- map
    def occupancy(self, depth: np.ndarray, intr: Intrinsics, mount: CameraMount) -> dict:
        p = self.params
        pts, _ = depth_to_base_points(depth, intr, mount, stride=p.depth_stride, max_depth_m=p.max_depth_m)
        res = p.grid_resolution_m
        nx, ny = int(p.grid_forward_m / res), int(2 * p.grid_side_m / res)
        ix = np.floor(pts[:, 0] / res).astype(int)
        iy = np.floor((pts[:, 1] + p.grid_side_m) / res).astype(int)
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        z = pts[:, 2]
        obstacle = np.zeros((nx, ny), dtype=bool)
        free = np.zeros((nx, ny), dtype=bool)
        is_obs = inside & in_height_band(z, p.min_obstacle_height_m, p.max_obstacle_height_m)
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
        """Values on the NavDP critic's scale (module docstring), safe waypoint counts, clearances."""
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
        # index of the first bad waypoint (24 when all are fine), and of the first too close to
        # an obstacle: beyond the seen floor the path is cut (unknown is never free) but only
        # collisions weigh fully, as in NavDP's critic label
        first_bad = np.where(ok.all(axis=1), NUM_WAYPOINTS, np.argmin(ok, axis=1))
        near = ~(clear >= p.robot_radius_m + p.clearance_margin_m)
        first_hit = np.where(near.any(axis=1), np.argmax(near, axis=1), NUM_WAYPOINTS)
        k = cands.shape[0]
        values = np.empty(k)
        min_clear = np.empty(k)
        seg = np.hypot(np.diff(cands[:, :, 0], axis=1, prepend=0.0), np.diff(cands[:, :, 1], axis=1, prepend=0.0))
        length = float(seg[0].sum())
        away_from_goal = None if goal_xy is None else \
            np.hypot(cands[:, :, 0] - goal_xy[0], cands[:, :, 1] - goal_xy[1]) > p.goal_reached_m
        for i in range(k):
            n = int(first_bad[i])
            safe_len = float(seg[i, :n].sum())
            end = cands[i, n - 1, :2] if n > 0 else np.zeros(2)
            c = float(clear[i, :n].min()) if n > 0 else 0.0
            min_clear[i] = c
            if goal_xy is not None and n > 0:
                # near the goal, what is close is the goal itself (a pixel goal sits on an
                # object): clearance there is no merit, or paths would swerve around the target
                away = away_from_goal[i, :n]
                c = float(clear[i, :n][away].min()) if away.any() else p.clearance_cap_m
            curv_pen = p.curvature_weight * float(np.abs(self._curvature_profiles[i]).mean())
            if goal_xy is None:
                progress, near_goal, reach = safe_len, False, length
            else:
                d0 = float(np.hypot(*goal_xy))
                progress = d0 - float(np.hypot(*(goal_xy - end)))
                near_goal = float(np.hypot(*(goal_xy - end))) <= p.goal_reached_m
                reach = max(d0, length)
            if near_goal:
                blocked = 0.0
            elif safe_len < p.min_safe_length_m:
                blocked = 1.0  # a stub: it cannot move the robot, so it must not look safe
            else:
                hit = max(int(first_hit[i]), n)
                blocked = ((NUM_WAYPOINTS - hit) + p.unknown_weight * (hit - n)) / NUM_WAYPOINTS
            cap = p.clearance_cap_m
            gain = (min(float(clear[i, n - 1]), cap) - min(float(clear[i, 0]), cap)) if n > 0 else 0.0
            if near_goal:
                gain = max(gain, 0.0)  # closing in on the goal's own object is no loss of clearance
            rank = p.progress_weight * progress + p.clearance_weight * min(c, cap) - curv_pen
            bonus = 0.5 + 0.5 * math.tanh(rank / (p.progress_weight * reach + p.clearance_weight * cap))
            values[i] = -COLLISION_WEIGHT * blocked + CLEARANCE_GAIN_WEIGHT * gain + bonus
        return values, first_bad, min_clear

    # ---------------------------------------------------------------- primitives
    def primitives(self, grid: dict, goal_xy: np.ndarray | None, forward: np.ndarray, fwd_values: np.ndarray):
        """In-place turns left/right and a short straight reverse, valued on the same scale, so
        that a robot facing a wall can leave it (module docstring)."""
        p = self.params
        here = _clearance_at(grid, 0.0, 0.0)
        touching = here < p.robot_radius_m
        tight = here < p.robot_radius_m + p.clearance_margin_m
        bearing = 0.0 if goal_xy is None else math.atan2(goal_xy[1], goal_xy[0])
        final_yaw = forward[:, -1, 2]
        paths, values, kinds = [], [], []
        for sign, name in ((1.0, "turn_left"), (-1.0, "turn_right")):
            yaw = sign * p.turn_in_place_rad * np.arange(1, NUM_WAYPOINTS + 1) / NUM_WAYPOINTS
            paths.append(np.stack([np.zeros(NUM_WAYPOINTS), np.zeros(NUM_WAYPOINTS), yaw], axis=1))
            side = final_yaw * sign > 0.1
            side_best = float(fwd_values[side].max()) if side.any() else UNSAFE_VALUE
            freer = min(max((side_best - UNSAFE_VALUE) / COLLISION_WEIGHT, 0.0), 1.0)
            facing = 0.0
            if goal_xy is not None:
                facing = max(0.0, abs(bearing) - abs(wrap(bearing - sign * p.turn_in_place_rad))) / math.pi
            if touching:
                values.append(UNSAFE_VALUE)
            elif goal_xy is not None and abs(bearing) > math.pi / 2.0 and facing > 0.0:
                # the goal is behind: turning toward it beats any forward path, which leads away
                values.append(GOAL_BEHIND_TURN_VALUE + facing)
            else:
                base = TURN_TIGHT_VALUE if tight else TURN_VALUE
                values.append(base + TURN_BONUS_MAX * (0.5 * freer + facing))
            kinds.append(name)
        x = -p.reverse_m * np.arange(1, NUM_WAYPOINTS + 1) / NUM_WAYPOINTS
        paths.append(np.stack([x, np.zeros(NUM_WAYPOINTS), np.zeros(NUM_WAYPOINTS)], axis=1))
        values.append(REVERSE_OFF_WALL_VALUE if tight else REVERSE_VALUE)
        kinds.append("reverse")
        return np.stack(paths).astype(np.float32), np.array(values), kinds


def _clearance_at(grid: dict, x_m: float, y_m: float) -> float:
    """Clearance of a point of the grid (the robot's own position lies on its back edge)."""
    nx, ny = grid["shape"]
    ix = min(max(int(math.floor(x_m / grid["res"])), 0), nx - 1)
    iy = min(max(int(math.floor((y_m + grid["side"]) / grid["res"])), 0), ny - 1)
    return float(grid["clearance"][ix, iy])


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


def _path_length(path: np.ndarray) -> float:
    return float(np.hypot(np.diff(path[:, 0], prepend=0.0), np.diff(path[:, 1], prepend=0.0)).sum())
