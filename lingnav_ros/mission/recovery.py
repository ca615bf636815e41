"""Getting out of traps without stalling silently: progress monitoring, plan checks, detours.

A greedy approach with no memory drives into a U-shaped obstacle and stays there; a planner that
flips between a good path, a stub too short to move and no path at all keeps a robot still for
minutes while every stub resets its timers. The mission therefore:
  - watches progress toward what it is driving to (target or detour waypoint): no gain of
    `min_progress_m` within `progress_timeout_s` is a stall;
  - reads every S1 plan as forward / in-place turn / reverse / stub: a stub (shorter than the
    tracker's goal tolerance) is no plan, and never resets the no-safe-path timer;
  - on a stall marks the dead end in its memory and drives the exploration map's way round it
    (mission/exploration.py) or, where that map knows none, backs out along its own trail and
    steps to the side it knows least, then resumes the approach, refusing candidates that lead back into
    marked dead ends (the next usable candidate above the stop threshold is taken instead);
    after `max_recoveries` it fails with a reason that says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lingnav_ros.mission.dead_end_memory import VisitMemory, blocked_fraction, visited_along


@dataclass(frozen=True)
class RecoveryConfig:
    progress_timeout_s: float = 15.0
    min_progress_m: float = 0.3
    max_recoveries: int = 3
    backout_m: float = 1.2
    side_step_m: float = 1.5
    dead_end_radius_m: float = 0.45
    waypoint_reached_m: float = 0.4
    min_plan_length_m: float = 0.25
    max_blocked_fraction: float = 0.15
    plan_turn_max_rad: float = math.pi / 2.0
    reverse_max_m: float = 0.4
    turn_memory_s: float = 12.0  # an S1 turn that undoes one made this recently is refused


class ProgressMonitor:
    """Stalled when the distance to the goal has not dropped by `min_progress_m` for `timeout_s`."""

    def __init__(self, timeout_s: float, min_progress_m: float) -> None:
        self.timeout_s = timeout_s
        self.min_progress_m = min_progress_m
        self.best_m = math.inf
        self.since_s: float | None = None

    def reset(self, now_s: float | None = None) -> None:
        self.best_m = math.inf
        self.since_s = now_s

    def update(self, distance_m: float, now_s: float) -> bool:
        if not math.isfinite(distance_m):
            return False
        if self.since_s is None or distance_m <= self.best_m - self.min_progress_m:
            self.best_m = min(distance_m, self.best_m)
            self.since_s = now_s
            return False
        self.best_m = min(self.best_m, distance_m) if self.best_m == math.inf else self.best_m
        return now_s - self.since_s > self.timeout_s

    def stalled_for_s(self, now_s: float) -> float:
        return 0.0 if self.since_s is None else now_s - self.since_s


def classify_path(path: np.ndarray, min_length_m: float) -> str:
    """'forward' | 'turn' | 'reverse' | 'stub' for a plan in the base frame (x forward, y left, yaw)."""
    p = np.asarray(path, dtype=float)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 3 or not np.all(np.isfinite(p)):
        return "stub"
    xy = np.vstack([[0.0, 0.0], p[:, :2]])
    length = float(np.hypot(*np.diff(xy, axis=0).T).sum())
    reach = float(np.hypot(p[:, 0], p[:, 1]).max())
    if p[:, 0].min() < -0.1 and p[:, 0].max() <= 0.05:
        return "reverse"
    if reach < 0.1 and abs(float(p[-1, 2])) >= 0.3:
        return "turn"
    if length < min_length_m:
        return "stub"
    return "forward"


def path_clear_of_dead_ends(path_odom: np.ndarray, memory: VisitMemory, max_blocked_fraction: float) -> bool:
    """False for a path whose waypoints beyond 0.5 m from its start (not where the robot stands)
    lie in marked dead-end cells more than `max_blocked_fraction` of the time."""
    path = np.asarray(path_odom, dtype=float)
    if len(path) == 0:
        return True
    away = np.hypot(path[:, 0] - path[0, 0], path[:, 1] - path[0, 1]) > 0.5
    return blocked_fraction(memory, path[away]) <= max_blocked_fraction


def detour_waypoints(x_m: float, y_m: float, goal_xy: tuple[float, float], memory: VisitMemory,
                     attempt: int, cfg: RecoveryConfig) -> list[tuple[float, float]]:
    """Back out along the trail, then step sideways to the side least visited; the side
    alternates with `attempt` when both are alike."""
    back = memory.point_back_along_trail(cfg.backout_m) or (x_m, y_m)
    heading = math.atan2(goal_xy[1] - back[1], goal_xy[0] - back[0])
    scores = []
    for sign in (1.0, -1.0):
        side = heading + sign * math.pi / 2.0
        score = visited_along(memory, back[0], back[1], side) \
            + 2 * visited_along(memory, back[0], back[1], heading + sign * math.pi / 4.0)
        if memory.free_distance_m(back[0], back[1], side, cfg.side_step_m) < cfg.side_step_m:
            score += 20  # a remembered obstacle on that side (shared local map)
        scores.append(score)
    if scores[0] == scores[1]:
        sign = 1.0 if attempt % 2 == 0 else -1.0
    else:
        sign = 1.0 if scores[0] < scores[1] else -1.0
    side = heading + sign * math.pi / 2.0
    step = (back[0] + cfg.side_step_m * math.cos(side), back[1] + cfg.side_step_m * math.sin(side))
    waypoints = []
    if math.hypot(back[0] - x_m, back[1] - y_m) > cfg.waypoint_reached_m:
        waypoints.append((float(back[0]), float(back[1])))
    waypoints.append((float(step[0]), float(step[1])))
    return waypoints


def mark_dead_end(memory: VisitMemory, x_m: float, y_m: float, goal_xy: tuple[float, float],
                  cfg: RecoveryConfig) -> None:
    """A capsule from the stall point toward the goal: paths through it lead back into the trap."""
    heading = math.atan2(goal_xy[1] - y_m, goal_xy[0] - x_m)
    for k in range(3):
        ahead = k * cfg.dead_end_radius_m
        memory.mark_blocked(x_m + ahead * math.cos(heading), y_m + ahead * math.sin(heading), cfg.dead_end_radius_m)
