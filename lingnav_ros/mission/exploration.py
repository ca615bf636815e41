"""When a full scan finds nothing: explore, as a person would, then say "not found".

Go where the camera has not looked: the exploration map (perception/exploration_map.py) gives
frontiers, free floor next to unknown; the one chosen is wide (an opening), near, and toward S2's
last hint. The robot drives there with the usual planners and safety (the frontier is an
approximate target: S1 gets a point goal, arrival by distance never fires), ignores S2's misses
on the way, and scans again on arrival. The point goal is not the frontier itself but the
farthest point in plain sight of the way there over the exploration map, planned again every
ROUTE_PERIOD_S: a frontier seen through a doorway lies behind the wall beside it, and S1 sent
straight at it met the wall until recoveries gave up (next_room lost 40 s so). A scan's
surroundings are marked searched and never chosen again. The search is bounded by explored area,
driven distance and time; at the bound, or with no frontier left, the mission fails with what was
done: "not found after exploring 42 m2 in 95 s".
"""
from __future__ import annotations

import math

import numpy as np

from lingnav_ros.control.types import Pose2D
from lingnav_ros.mission.states import MissionState, Reason
from lingnav_ros.mission.target import TargetEstimate
from lingnav_ros.perception.exploration_map import choose_frontier
from lingnav_ros.perception.rgbd_frame import RgbdFrame

FRONTIER_REACHED_M = 0.6  # this close to the chosen frontier: stop and scan
HINT_TURN_RAD = math.radians(60.0)  # S2's ← / → point this far off the current heading
ROUTE_PERIOD_S = 1.0  # the way to the frontier is planned again this often while driving there
ROUTE_CLEARANCE_MARGIN_M = 0.1  # the way keeps the robot's radius plus this from obstacles


def _aim_at(name: str, xy: tuple[float, float], stamp_s: float) -> TargetEstimate:
    """A point on the floor for S1 to head to: approximate, so arrival by distance never fires."""
    return TargetEstimate(name, np.array([xy[0], xy[1], 0.0]), (0, 0), stamp_s, approximate=True)


def exploration_bound(config, area_m2: float, driven_m: float, elapsed_s: float) -> str:
    """Which bound the exploration has reached ("" while none)."""
    if area_m2 >= config.explore_max_area_m2:
        return f"area bound {config.explore_max_area_m2:.0f} m2"
    if driven_m >= config.explore_max_distance_m:
        return f"distance bound {config.explore_max_distance_m:.0f} m"
    if elapsed_s >= config.explore_timeout_s:
        return f"time bound {config.explore_timeout_s:.0f} s"
    return ""


def hint_yaw(moves: list, yaw_rad: float) -> float | None:
    """The direction S2's search answer points to: its first move (a turn or a forward step)."""
    for step in moves:
        if step.kind == "rotate" and step.amount != 0.0:
            return yaw_rad + math.copysign(HINT_TURN_RAD, step.amount)
        if step.kind == "drive" and step.amount > 0.0:
            return yaw_rad
    return None


class ExplorationMixin:
    """Needs from the host: config, _ep, state, exploration_map, exploration_lock, _set, _end,
    _reset_tracker."""

    def _explore_or_fail(self, frame: RgbdFrame, now_s: float) -> None:
        """The scan here is complete: pick the next frontier, or fail with what was explored."""
        ep = self._ep
        name = ep.target_name or ep.instruction
        xmap = self.exploration_map
        if xmap is None or self.config.explore_timeout_s <= 0.0 or frame.pose is None:
            self._end(MissionState.FAILED, f"{Reason.SEARCH_EXHAUSTED}: looked all around (360 degrees) "
                      f"without seeing '{name}'", now_s)
            return
        pose = frame.pose
        with self.exploration_lock:
            xmap.mark_searched(pose.x_m, pose.y_m)
            area = xmap.explored_m2()
            frontiers = xmap.frontiers()
        if ep.explore_started_s is None:
            ep.explore_started_s, ep.explore_start_path_m = now_s, ep.path_length_m
        bound = exploration_bound(self.config, area, ep.path_length_m - ep.explore_start_path_m,
                                  now_s - ep.explore_started_s)
        goal = None if bound else choose_frontier(frontiers, pose, ep.hint_yaw_rad, xmap.res)
        if goal is None:
            self._not_found(area, bound or "no unexplored opening left", now_s)
            return
        self._head_for(goal.xy, name, frame.stamp_s, now_s)
        self._set(MissionState.APPROACHING, f"exploring: heading for an unexplored opening "
                  f"{math.hypot(goal.xy[0] - pose.x_m, goal.xy[1] - pose.y_m):.1f} m away ({area:.0f} m2 explored)")

    def _exploration_bounded(self, now_s: float) -> bool:
        """Checked every control tick while exploring (scanning or driving to a frontier), so the
        bound ends the search when it is reached, not after the next scan."""
        ep = self._ep
        if ep.explore_started_s is None or self.exploration_map is None:
            return False
        if not (self.state == MissionState.SEARCHING or ep.explore_goal is not None):
            return False
        with self.exploration_lock:
            area = self.exploration_map.explored_m2()
        bound = exploration_bound(self.config, area, ep.path_length_m - ep.explore_start_path_m,
                                  now_s - ep.explore_started_s)
        if bound:
            self._not_found(area, bound, now_s)
        return bool(bound)

    def _not_found(self, area_m2: float, why: str, now_s: float) -> None:
        ep = self._ep
        self._end(MissionState.FAILED, f"{Reason.SEARCH_EXHAUSTED}: '{ep.target_name or ep.instruction}' not found "
                  f"after exploring {area_m2:.0f} m2 in {now_s - ep.started_s:.0f} s ({why})", now_s)

    def _head_for(self, xy: tuple[float, float], name: str, stamp_s: float, now_s: float) -> None:
        ep = self._ep
        ep.set_frontier(xy)
        ep.target = _aim_at(name, xy, stamp_s)
        ep.fusion.clear()
        ep.moves = []
        ep.plan = None
        ep.detour = []
        ep.no_safe_since_s = None
        ep.recoveries = 0
        ep.search_started_s = None
        if ep.monitor is not None:
            ep.monitor.reset(now_s)
        self._reset_tracker()

    def _route_to_frontier(self, pose: Pose2D, now_s: float) -> None:
        """Aim S1 at the farthest point in plain sight of the way to the frontier; without a known
        way, at the frontier itself."""
        ep = self._ep
        if ep.explore_goal is None or self.exploration_map is None:
            return
        if ep.route_planned_s is not None and now_s - ep.route_planned_s < ROUTE_PERIOD_S:
            return
        ep.route_planned_s = now_s
        with self.exploration_lock:
            waypoint = self.exploration_map.waypoint_toward((pose.x_m, pose.y_m), ep.explore_goal,
                                                            self._route_clearance_m())
        aim = waypoint.xy if waypoint is not None else ep.explore_goal
        ep.route_left_m = waypoint.way_left_m if waypoint is not None else None
        ep.target = _aim_at(ep.target.name if ep.target is not None else ep.target_name, aim, now_s)

    def _route_clearance_m(self) -> float:
        """How far the ways over the exploration map keep the robot's centre from obstacles."""
        return self.config.robot_radius_m + ROUTE_CLEARANCE_MARGIN_M

    def _routed_detour(self, pose: Pose2D) -> list[tuple[float, float]]:
        """A recovery's way round what stopped the approach to a target, as far as the camera
        has seen the home: the corners of the cheapest way there, up to the one that sees the
        target. [] while exploring or when no way is known; the trail-and-side-step detour then.
        Out of a U-shaped trap the side step alone led back toward the trap (dead_end)."""
        ep = self._ep
        if self.exploration_map is None or ep.explore_goal is not None or ep.target is None:
            return []
        clearance_m = self._route_clearance_m()
        with self.exploration_lock:
            corners = self.exploration_map.corners_toward(
                (pose.x_m, pose.y_m), ep.target.xy, clearance_m,
                goal_radius_m=self.config.arrive_distance_m + clearance_m)
        reached_m = self.config.recovery().waypoint_reached_m
        while corners and math.hypot(corners[0][0] - pose.x_m, corners[0][1] - pose.y_m) < reached_m:
            corners.pop(0)
        return corners

    def _frontier_reached(self, pose: Pose2D, now_s: float, why: str = "") -> bool:
        """At the frontier (or given up on it, `why`): scan here next. False while driving on."""
        ep = self._ep
        if ep.explore_goal is None:
            return False
        if not why and math.hypot(ep.explore_goal[0] - pose.x_m, ep.explore_goal[1] - pose.y_m) > FRONTIER_REACHED_M:
            return False
        if why and self.exploration_map is not None:
            with self.exploration_lock:
                self.exploration_map.mark_searched(*ep.explore_goal)  # unreachable from here: not again
        ep.set_frontier(None)
        ep.target = None
        ep.plan = None
        ep.detour = []
        ep.s2_needed = True
        ep.min_frame_stamp_s = now_s
        self._reset_tracker()
        self._set(MissionState.SEARCHING, f"exploring: looking around {'here' if not why else 'here; ' + why}")
        return True
