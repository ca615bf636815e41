"""When has the geometric planner's goal been reached, and what does it answer then.

NavDP's clients end an approach when the best critic value falls below their `stop_threshold`
(-0.5 in NavDP's client, -3 in the deployed pipeline), so arrival must show on that scale.

The goal (a point goal, or a pixel goal's 3D point) is reached when it is closer than
`arrive_radius_m`; when it is within `reach_m`, roughly ahead (within `toward_cone_rad`: a
goal beside or behind needs a turn, not a stop), and no safe stretch of any candidate gets
`min_approach_m` closer (a target faced at the robot's clearance, a wall under a pixel goal); or,
for a pixel goal (however far its 3D point), when every candidate heading toward it
(final bearing within `toward_cone_rad`) is safe for less than `blocked_reach_m` (NavDP's 0.5 m:
shorter paths move nothing). The deployed pipeline keeps S2's first pixel while the robot moves, so
its ray soon passes beside the object it named: what blocks the way toward the pixel is that
object. (Our own navigator sends fresh pixels; in a dead end this holds it in front of the
barrier, and its no-safe-path timer backs it out along a detour of point goals, as before.)

Then a "stay" candidate (all zeros) is worth STAY_VALUE = -4, below both thresholds, and
everything that moves (arcs that leave the target, in-place turns, the reverse) is squeezed to
-5..-4.5 in its old order: both clients stop, and nothing outranks staying put. It is no dead
end: `no_safe_path` stays false and info["arrived"] is true, and our own navigator reads the
all-zero plan as "as close as it gets".

A pixel on a standing surface also snaps to the nearest object within `snap_fraction` of the
image width (`foreground_point`): near an object's silhouette, a pixel given a few frames ago
means the object, not the wall behind it.
"""
from __future__ import annotations

import math

import numpy as np

from lingnav_core.angles import wrap
from lingnav_core.camera import CameraMount, Intrinsics, pixel_to_base
from lingnav_core.s1_plan import NUM_WAYPOINTS

STAY_VALUE = -4.0
AWAY_VALUE_LOW = -5.0
AWAY_VALUE_SPAN = 0.5


def goal_reached(forward: np.ndarray, safe_len: np.ndarray, goal_xy: np.ndarray | None, pixel_goal: bool,
                 p) -> bool:
    """`forward` [K, 24, 3] candidates with `safe_len` [K] safe waypoints each; `p` GeometricParams."""
    if goal_xy is None:
        return False
    d0 = float(np.hypot(*goal_xy))
    if d0 <= p.arrive_radius_m:
        return True
    kept = np.maximum(np.asarray(safe_len, dtype=int) - 1, 0)  # the waypoints the planner keeps
    bearing = math.atan2(goal_xy[1], goal_xy[0])
    if d0 <= p.reach_m and abs(bearing) <= p.toward_cone_rad:  # ahead: a goal beside or behind needs a turn
        closest = d0
        for cand, m in zip(forward, kept):
            if m > 0:
                closest = min(closest, float(np.hypot(cand[:m, 0] - goal_xy[0], cand[:m, 1] - goal_xy[1]).min()))
        if d0 - closest < p.min_approach_m:
            return True
    if not pixel_goal:
        return False
    end_bearing = np.arctan2(forward[:, -1, 1], forward[:, -1, 0])
    toward = np.abs(wrap(end_bearing - bearing)) <= p.toward_cone_rad
    if not toward.any():
        return False
    seg = np.hypot(np.diff(forward[:, :, 0], axis=1, prepend=0.0), np.diff(forward[:, :, 1], axis=1, prepend=0.0))
    reach = np.array([float(seg[i, :m].sum()) for i, m in enumerate(kept)])
    return bool((reach[toward] < p.blocked_reach_m).all())


def with_stay(pool: np.ndarray, values: np.ndarray, kinds: list[str], clearances: np.ndarray, here_clear_m: float):
    """The pool after arrival: "stay" first at STAY_VALUE, every other candidate below it."""
    span = max(float(np.ptp(values)), 1e-9)
    moved = AWAY_VALUE_LOW + AWAY_VALUE_SPAN * (values - values.min()) / span
    stay = np.zeros((1, NUM_WAYPOINTS, 3), dtype=pool.dtype)
    return (np.concatenate([stay, pool]), np.concatenate([[STAY_VALUE], moved]), ["stay"] + list(kinds),
            np.concatenate([[here_clear_m], clearances]))


def foreground_point(depth: np.ndarray, u: int, v: int, d: float, intr: Intrinsics, mount: CameraMount,
                     point: np.ndarray, p) -> np.ndarray:
    """The nearest standing point within the snap strip around (u, v) that is at least
    `snap_min_gap_m` nearer than the pixel's own depth `d`; else `point` unchanged."""
    half_u = max(int(p.snap_fraction * depth.shape[1]), 1)
    u0, v0 = max(0, u - half_u), max(0, v - p.snap_rows_px)
    win = depth[v0: v + p.snap_rows_px + 1, u0: u + half_u + 1]
    good = np.isfinite(win) & (win > 0.0) & (win < d - p.snap_min_gap_m)
    if not good.any():
        return point
    rows, cols = np.nonzero(good)
    for k in np.argsort(win[good], kind="stable")[:8]:
        uu, vv = int(cols[k]) + u0, int(rows[k]) + v0
        cand = pixel_to_base(uu, vv, float(depth[vv, uu]), intr, mount)
        if cand is not None and p.min_obstacle_height_m <= cand[2] <= p.max_obstacle_height_m:
            return cand
    return point


def trim_at_goal(cand: np.ndarray, goal_xy: np.ndarray, reach_m: float) -> np.ndarray:
    """Hold the pose closest to the goal, so the robot does not overshoot it; paths that never
    come near the goal (a goal behind the robot) are kept whole."""
    d = np.hypot(cand[:, 0] - goal_xy[0], cand[:, 1] - goal_xy[1])
    i = int(np.argmin(d))
    if d[i] > reach_m:
        return cand
    out = cand.copy()
    out[i + 1:] = cand[i]
    return out
