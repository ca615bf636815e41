"""The planners' veto: S1 candidates checked against what the local map remembers.

S1 (NavDP or geometric, in-process or over HTTP) plans on the current frame only, so it can
send the robot into a box that has just left the camera's view or slipped under its minimum
range, or plan through a black box it cannot see at all. Before a plan reaches the tracker,
every candidate is swept with the robot's radius over the map's remembered obstacles and its
"dark" cells (looked at, read nothing, never seen free since); a candidate is cut where it
would touch one, and when the chosen
one is cut too short to be worth driving, the best-valued candidate that stays clear long enough
replaces it. If none does, the plan becomes `no_safe_path` (the robot stops and says why).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from lingnav_core.s1_plan import S1Plan
from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.local_map import LocalMap, densify
from lingnav_ros.perception.local_map_geometry import disk_hits
from lingnav_ros.perception.planar_transforms import plan_to_odom


@dataclass(frozen=True)
class VetoConfig:
    robot_radius_m: float = 0.2
    margin_m: float = 0.05  # remembered cells are 5 cm squares; keep a cell's width off them
    min_length_m: float = 0.25  # a cut candidate shorter than this does not move the robot usefully
    min_value: float = -3.0  # S1's stop threshold: candidates valued below it are never taken
    target_clearance_m: float = 0.4  # the target's own cells never veto the approach to it


@dataclass(frozen=True)
class VetoResult:
    plan: S1Plan
    vetoed: bool  # the chosen candidate changed, was cut, or the plan became no_safe_path
    reason: str
    safe_lengths_m: np.ndarray  # per candidate, along its own arc


def safe_lengths(candidates_odom: np.ndarray, local_map: LocalMap, now_ns: int, config: VetoConfig,
                 target_odom_xy: tuple[float, float] | None = None) -> np.ndarray:
    """Arc length of each candidate [K,N,3] (odom, all starting at the robot) before the robot
    disk meets a remembered obstacle. Cells already within reach of the start do not count:
    backing or turning away from what the robot stands next to is the collision monitor's call."""
    occ = local_map.occupied_mask(now_ns) | local_map.dark_mask(now_ns)
    out = np.full(len(candidates_odom), math.inf)
    if not occ.any() or len(candidates_odom) == 0:
        return out
    xs, ys = local_map.cell_centres()
    reach = config.robot_radius_m + config.margin_m
    start = np.asarray(candidates_odom)[0, 0, :2]
    occ = occ & (np.hypot(xs[:, None] - start[0], ys[None, :] - start[1]) > reach + local_map.res)
    if target_odom_xy is not None:
        occ = occ & (np.hypot(xs[:, None] - target_odom_xy[0], ys[None, :] - target_odom_xy[1])
                     > config.target_clearance_m)
    # every candidate's points in one sweep: one numpy pass instead of one per candidate
    # points every two cells; a hit may start up to one step before the point that sees it
    step = 2.0 * local_map.res
    parts = [densify(np.asarray(cand)[:, :2], step) for cand in candidates_odom]
    hits = disk_hits(local_map, np.concatenate([p for p, _ in parts]), occ, config.robot_radius_m + config.margin_m)
    start = 0
    for k, (pts, s) in enumerate(parts):
        rows = np.flatnonzero(hits[start:start + len(pts)])
        out[k] = max(float(s[rows[0]]) - step, 0.0) if rows.size else math.inf
        start += len(pts)
    return out


def veto_plan(plan: S1Plan, pose_at_image: Pose2D, local_map: LocalMap, now_ns: int,
              config: VetoConfig | None = None, target_odom_xy: tuple[float, float] | None = None) -> VetoResult:
    """`plan` (base frame at the image time) with remembered obstacles taken into account."""
    c = config or VetoConfig()
    cands = np.asarray(plan.candidates, dtype=float)
    if plan.no_safe_path or cands.ndim != 3 or cands.shape[0] == 0:
        return VetoResult(plan, False, "", np.zeros(0))
    origin = np.array([[pose_at_image.x_m, pose_at_image.y_m, pose_at_image.theta_rad]])
    cands_odom = np.stack([np.vstack([origin, plan_to_odom(cand, pose_at_image)]) for cand in cands])
    lengths = np.array([_arc_length(cand) for cand in cands])
    safe = safe_lengths(cands_odom, local_map, now_ns, c, target_odom_xy)
    values = np.asarray(plan.values, dtype=float).reshape(-1)
    if values.shape[0] != cands.shape[0]:
        values = np.zeros(cands.shape[0])
    worth = values >= c.min_value
    clear = (safe >= lengths) & worth
    long_enough = (safe >= c.min_length_m) & worth
    chosen = int(plan.chosen_index) if 0 <= int(plan.chosen_index) < len(cands) else int(np.argmax(values))
    if safe[chosen] >= lengths[chosen]:
        return VetoResult(plan, False, "", safe)
    trimmed = np.stack([_cut(cand, s) for cand, s in zip(cands, safe)]).astype(np.asarray(plan.candidates).dtype)
    # S1 valued the candidates without the remembered obstacle: prefer the best one that is
    # still whole, then the chosen one cut short, then the best one that is long enough cut
    if clear.any():
        index = int(np.flatnonzero(clear)[np.argmax(values[clear])])
        reason = (f"S1 path blocked at {safe[chosen]:.2f} m by a remembered obstacle or unseen space; "
                  f"took candidate {index} instead")
    elif long_enough[chosen]:
        index = chosen
        reason = f"S1 path cut at {safe[chosen]:.2f} m by a remembered obstacle or unseen space"
    elif long_enough.any():
        index = int(np.flatnonzero(long_enough)[np.argmax(values[long_enough])])
        reason = (f"S1 path blocked at {safe[chosen]:.2f} m by a remembered obstacle or unseen space; "
                  f"took candidate {index} cut at {safe[index]:.2f} m instead")
    else:
        info = {**plan.info, "map_veto": "every S1 candidate runs into a remembered obstacle or unseen space"}
        return VetoResult(dataclasses.replace(plan, candidates=trimmed, no_safe_path=True, info=info), True,
                          info["map_veto"], safe)
    info = {**plan.info, "map_veto": reason}
    new = dataclasses.replace(plan, best=trimmed[index].astype(np.asarray(plan.best).dtype), candidates=trimmed,
                              chosen_index=index, info=info)
    return VetoResult(new, True, reason, safe)


def _arc_length(path: np.ndarray) -> float:
    p = np.asarray(path, dtype=float)[:, :2]
    return float(np.hypot(p[0, 0], p[0, 1]) + np.hypot(*np.diff(p, axis=0).T).sum())


def _cut(path: np.ndarray, safe_m: float) -> np.ndarray:
    """Keep the waypoints before `safe_m` of arc length and hold the last one (the shape S1
    uses for a blocked candidate, so the tracker stops there)."""
    if not math.isfinite(safe_m):
        return path
    p = np.asarray(path, dtype=float)
    s = np.concatenate([[np.hypot(p[0, 0], p[0, 1])], np.hypot(*np.diff(p[:, :2], axis=0).T)]).cumsum()
    n = int(np.searchsorted(s, safe_m, side="right"))
    out = p.copy()
    if n == 0:
        out[:] = 0.0  # not even the first waypoint: stay where the robot is
        return out
    out[n:] = p[n - 1]
    return out
