"""The mission's approach: S1 plans in, tracker commands out, and recovery from dead ends.

Split from mission.py (the state machine) so each stays readable; `Mission` mixes this in and
owns the lock, the episode and the state. See recovery.py for why each rule exists.
"""
from __future__ import annotations

import math

import numpy as np

from lingnav_core.s1_plan import PointGoal, S1Plan
from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.mission.arrival import ARRIVE_SLACK_M
from lingnav_ros.mission.episode import ControlOutput, PlanRecord, S1Request
from lingnav_ros.mission.moves import REVERSE_SYMBOL, MoveStep
from lingnav_ros.mission.recovery import classify_path, detour_waypoints, mark_dead_end, path_clear_of_dead_ends
from lingnav_ros.mission.states import MissionState, Reason
from lingnav_ros.mission.target import goal_for_frame, horizontal_distance
from lingnav_ros.perception.planar_transforms import base_to_odom_xy, odom_to_base_xy, plan_to_odom
from lingnav_ros.perception.rgbd_frame import RgbdFrame


class ApproachMixin:
    """Needs from the host: config, _lock, _ep, state, episode, s1_calls, s1_latency_s, tracker,
    _set, _end, _arrive, _reset_tracker, steps, _frontier_reached, _routed_detour."""

    def s1_request(self, frame: RgbdFrame) -> S1Request | None:
        """The goal S1 should plan for in `frame` (a detour waypoint while backing out of a dead
        end, else the target), or None when no plan is wanted."""
        with self._lock:
            ep = self._ep
            if self.state != MissionState.APPROACHING or ep.target is None or frame.pose is None:
                return None
            if ep.moves or ep.primitive is not None or frame.stamp_s < ep.min_frame_stamp_s:
                return None
            if ep.detour:
                xy = odom_to_base_xy(np.array([ep.detour[0]]), frame.pose)[0]
                return S1Request(self.episode, PointGoal(float(xy[0]), float(xy[1])), detour=True,
                                 step=self.steps.index)
            goal = goal_for_frame(ep.target, frame)
            return None if goal is None else S1Request(self.episode, goal, step=self.steps.index)

    def on_s1_plan(self, request: S1Request, plan: S1Plan, frame: RgbdFrame, now_s: float) -> None:
        with self._lock:
            if request.episode != self.episode or request.step != self.steps.index or frame.pose is None:
                return
            self.s1_calls += 1
            self.s1_latency_s = float(plan.latency_s)
            ep = self._ep
            if self.state != MissionState.APPROACHING or ep.moves or ep.primitive is not None \
                    or frame.stamp_s < ep.min_frame_stamp_s or request.detour != bool(ep.detour):
                return  # planned for a view or a goal that is gone
            ep.s1_errors = 0
            cands = np.asarray(plan.candidates, dtype=float)
            cands_odom = (np.stack([plan_to_odom(c, frame.pose) for c in cands]) if cands.size
                          else np.zeros((0, 0, 3)))
            kind = "stub" if plan.no_safe_path else classify_path(plan.best, self.config.min_plan_length_m)
            if kind == "stub" and not plan.no_safe_path and self._near_target(frame.pose):
                # the tracker cannot get closer than its tolerance: this is as close as it gets
                self._arrive(f"{Reason.ARRIVED_DISTANCE} (plan shorter than "
                             f"{self.config.min_plan_length_m:.2f} m)", now_s)
                return
            if not plan.no_safe_path:
                for index, path in self._usable_order(plan, cands):
                    if self._follow(plan, index, path, cands_odom, frame, now_s):
                        ep.no_safe_since_s = None
                        return
            # No safe path, a stub too short to move, a reverse into unknown space, or only paths
            # back into a dead end: hold, never send the "least bad" candidate to the controller
            # (it is still unsafe), and let the timer run (stubs never reset it).
            ep.plan = PlanRecord(plan, np.zeros((0, 3)), cands_odom, frame.stamp_s, now_s)
            if ep.no_safe_since_s is None:
                ep.no_safe_since_s = now_s
                ep.s2_forced = True
            if now_s - ep.no_safe_since_s > self.config.no_safe_path_timeout_s:
                self._recover(now_s, frame.pose, f"{Reason.NO_SAFE_PATH} for "
                              f"{now_s - ep.no_safe_since_s:.1f} s (last plan: {kind})")

    def _usable_order(self, plan: S1Plan, cands: np.ndarray):
        """S1's choice first, then the other candidates above the stop threshold, best first."""
        yield -1, np.asarray(plan.best, dtype=float)
        values = np.asarray(plan.values, dtype=float).reshape(-1)
        if len(values) != len(cands):
            return
        for i in np.argsort(-values, kind="stable"):
            if values[i] >= self.config.s1_stop_threshold and int(i) != int(plan.chosen_index):
                yield int(i), cands[i]

    def _follow(self, plan: S1Plan, index: int, path: np.ndarray, cands_odom: np.ndarray,
                frame: RgbdFrame, now_s: float) -> bool:
        """Act on one candidate if it is usable: track a forward path that does not lead back
        into a dead end, turn in place, or back off over driven ground."""
        ep = self._ep
        kind = classify_path(path, self.config.min_plan_length_m)
        cfg = self.config.recovery()
        if kind == "turn":
            turn = float(np.clip(path[-1, 2], -cfg.plan_turn_max_rad, cfg.plan_turn_max_rad))
            last = ep.last_s1_turn
            if last is not None and last[0] * turn < 0.0 and now_s - last[1] < cfg.turn_memory_s:
                return False  # it would undo the last turn: left, right, left... is a stall
            ep.last_s1_turn = (turn, now_s)
            self._begin_recovery_moves([MoveStep("rotate", turn, "S1 turn")])
            return True
        if kind == "reverse":
            if not self._behind_was_driven(frame.pose):
                return False
            back = min(float(-path[:, 0].min()), self.config.recovery_reverse_m)
            self._begin_recovery_moves([MoveStep("drive", -back, REVERSE_SYMBOL)])
            return True
        if kind != "forward":
            return False
        path_odom = plan_to_odom(path, frame.pose)
        if not ep.detour and not path_clear_of_dead_ends(path_odom, ep.memory, cfg.max_blocked_fraction):
            return False
        ep.plan = PlanRecord(plan, path_odom, cands_odom, frame.stamp_s, now_s)
        return True

    def _check_progress(self, now_s: float, pose: Pose2D) -> bool:
        """Advance the detour and watch progress; False when a recovery (or failure) began."""
        ep = self._ep
        if ep.target is None or ep.monitor is None:
            return True
        if ep.detour and math.hypot(ep.detour[0][0] - pose.x_m, ep.detour[0][1] - pose.y_m) \
                < self.config.recovery().waypoint_reached_m:
            ep.detour.pop(0)
            ep.plan = None
            ep.monitor.reset(now_s)
            if not ep.detour:
                self._set(MissionState.APPROACHING, f"resuming the approach after recovery {ep.recoveries}")
        goal = ep.detour[0] if ep.detour else ep.target.xy
        distance_m = math.hypot(goal[0] - pose.x_m, goal[1] - pose.y_m)
        if not ep.detour and ep.explore_goal is not None and ep.route_left_m is not None:
            distance_m = ep.route_left_m  # toward a frontier: the aim moves on, the way shortens
        if ep.monitor.update(distance_m, now_s):
            toward = "detour waypoint" if ep.detour else \
                "unexplored opening" if ep.explore_goal is not None else f"'{ep.target_name or ep.instruction}'"
            self._recover(now_s, pose, f"{Reason.NO_PROGRESS} toward the {toward} for "
                          f"{ep.monitor.stalled_for_s(now_s):.0f} s")
            return False
        return True

    def _recover(self, now_s: float, pose: Pose2D, why: str) -> None:
        """Mark the dead end, then back out along the trail and step aside; fail when the
        recoveries are used up."""
        ep = self._ep
        ep.recoveries += 1
        if ep.explore_goal is not None and ep.recoveries > self.config.max_recoveries:
            self._frontier_reached(pose, now_s, why=f"could not reach the opening ({why})")
            return
        if ep.recoveries > self.config.max_recoveries or ep.target is None:
            self._end(MissionState.FAILED, f"{why}; {self.config.max_recoveries} recoveries did not help", now_s)
            return
        cfg = self.config.recovery()
        mark_dead_end(ep.memory, pose.x_m, pose.y_m, ep.target.xy, cfg)
        ep.detour = self._routed_detour(pose) or \
            detour_waypoints(pose.x_m, pose.y_m, ep.target.xy, ep.memory, ep.recoveries, cfg)
        ep.plan = None
        ep.no_safe_since_s = None
        self._reset_tracker()
        if ep.monitor is not None:
            ep.monitor.reset(now_s)
        steps = [MoveStep("drive", -self.config.recovery_reverse_m, REVERSE_SYMBOL)] \
            if self._behind_was_driven(pose) and self.config.recovery_reverse_m > 0 else []
        if steps:
            self._begin_recovery_moves(steps)
        self._set(MissionState.APPROACHING, f"recovery {ep.recoveries}/{self.config.max_recoveries}: {why}")

    def _begin_recovery_moves(self, steps: list[MoveStep]) -> None:
        self._ep.start_moves(steps, recovery=True)

    def _behind_was_driven(self, pose: Pose2D) -> bool:
        back = base_to_odom_xy(np.array([[-self.config.recovery_reverse_m - 0.1, 0.0]]), pose)[0]
        return self._ep.memory.visits(float(back[0]), float(back[1])) > 0

    def _near_target(self, pose: Pose2D) -> bool:
        ep = self._ep
        return ep.target is not None and ep.fusion.agreed and not ep.detour and \
            horizontal_distance(ep.target, pose) < self.config.arrive_distance_m + 2.0 * self.config.min_plan_length_m

    def _track(self, now_s: float, pose: Pose2D, last_cmd: Command) -> ControlOutput:
        ep = self._ep
        if ep.target is not None and ep.fusion.agreed \
                and horizontal_distance(ep.target, pose) < self.config.arrive_distance_m + ARRIVE_SLACK_M:
            self._arrive(Reason.ARRIVED_DISTANCE, now_s)
            return _hold()
        if ep.plan is None or len(ep.plan.path_odom) < 2:
            return _hold()
        out = self.tracker.compute(pose, last_cmd, ep.plan.path_odom)
        if out.goal_reached or out.controller == "stop":
            return ControlOutput(True, Command(0.0, 0.0), out.predicted, "hold", True, ep.plan.stamp_s)
        return ControlOutput(True, out.command, out.predicted, "tracker", True, ep.plan.stamp_s)


def _hold() -> ControlOutput:
    return ControlOutput(True, Command(0.0, 0.0), None, "hold")


def _idle() -> ControlOutput:
    return ControlOutput(False, Command(0.0, 0.0), None, "idle")
