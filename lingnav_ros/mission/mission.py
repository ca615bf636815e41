"""The mission state machine: one instruction from start to ARRIVED / FAILED / STOPPED / ESTOP.

It is driven by three kinds of events that the node delivers from different threads: control
ticks (20 Hz), S2 decisions and S1 plans. All methods take the node-clock time `now_s`, so the
same logic runs on wall time, sim time and replayed bags, and unit tests drive it directly.

S2 is asked at the start, again every `s2_requery_period_s` while approaching, whenever S1
reports no safe path, and after every search or move step: an answer asked once at the start
is about a view the robot soon leaves.
A new instruction starts a new episode; answers that belong to an older episode are dropped.

While approaching it never stalls silently (recovery.py): plans too short to move are no plans,
S1's in-place turns and short reverses run as closed-loop primitives, a stall (no progress for
`progress_timeout_s`, or no safe path for `no_safe_path_timeout_s`) marks the dead end and
backs out along the trail to try another way, and only after `max_recoveries` does it fail. The
3D target is kept in odom as long as it is plausible: S2 not seeing it counts only while it
should be in plain view.
"""
from __future__ import annotations

import math
import threading

from lingnav_core.s2_decision import TURN_STEP_RAD
from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.mission.approach import ApproachMixin
from lingnav_ros.mission.arrival import final_steps
from lingnav_ros.mission.blocker_wait import BlockerWait
from lingnav_ros.mission.dead_end_memory import LocalMapMemory, TrailMemory
from lingnav_ros.mission.episode import (  # noqa: F401 (re-exported: the node and tests import them here)
    ControlOutput,
    Episode,
    MissionConfig,
    MissionStatus,
    PlanRecord,
    S1Request,
    S2Request,
)
from lingnav_ros.mission.exploration import ExplorationMixin, hint_yaw
from lingnav_ros.mission.hold_reason import hold_reason
from lingnav_ros.mission.moves import REVERSE_SYMBOL, MoveStep, PrimitiveFactory, steps_from_arrows, steps_from_tasks
from lingnav_ros.mission.object_memory import ObjectMemory, recall_phrase
from lingnav_ros.mission.recovery import ProgressMonitor
from lingnav_ros.mission.scan_coverage import horizontal_fov_rad, steer_scan, toward_lost_target
from lingnav_ros.mission.sequence import StepPlan
from lingnav_ros.mission.states import MOTION_STATES, TERMINAL_STATES, MissionState, Reason
from lingnav_ros.mission.target import TargetEstimate, expected_in_view, horizontal_distance, lift_pixel
from lingnav_ros.mission.target_fusion import bearing_error_rad
from lingnav_ros.perception.rgbd_frame import RgbdFrame

REVISIT_LOOK_M = 1.2  # closer than this to where the target was, a miss means it is not there
FACE_FIRST_RAD = math.radians(45.0)  # a remembered target further round than this: turn to it first
FACE_LOST_RAD = math.radians(70.0)  # a kept target out of view further round than this: S1 cannot reach it
MOVER_HORIZON_M = 1.5  # a moving obstacle this far ahead of the robot blocks it
MOVER_MARGIN_M = 0.15  # ... within the robot's radius plus this on each side


class Mission(ApproachMixin, ExplorationMixin):
    def __init__(self, config: MissionConfig, tracker, primitives: PrimitiveFactory, local_map=None,
                 local_map_lock=None, exploration_map=None) -> None:
        """`local_map`: the navigator's perception.local_map.LocalMap (with the lock its depth
        updates hold), so that dead-end memory and obstacle memory are one grid;
        without it the mission keeps visits itself."""
        self.config = config
        self.local_map = local_map
        self.local_map_lock = local_map_lock
        # what the camera has seen, for exploring (exploration.py); updated under the map's lock
        self.exploration_map = exploration_map
        self.exploration_lock = local_map_lock if local_map_lock is not None else threading.Lock()
        self.tracker = tracker
        self.primitives = primitives
        self._lock = threading.RLock()
        self.state = MissionState.IDLE
        self.reason = ""
        self.episode = 0
        self._ep = Episode()
        self._token = 0
        self.estop = False
        self.s2_calls = 0
        self.s1_calls = 0
        self.s2_latency_s = math.nan
        self.s1_latency_s = math.nan
        self.last_decision = None
        self.last_decision_frame: RgbdFrame | None = None
        self.transitions: list[tuple[MissionState, str]] = []
        self.objects = ObjectMemory()  # every object S2 grounded since start (object_memory.py)
        self.steps = StepPlan()  # the running instruction's steps (sequence.py)
        self._last_pose: Pose2D | None = None
        self._blocker = BlockerWait(config.moving_obstacle_wait_s, 2.0 * config.moving_obstacle_wait_s)

    # ------------------------------------------------------------------ commands in
    def start(self, instruction: str, now_s: float, timeout_s: float = 0.0) -> bool:
        """Begin (or preempt with) a new instruction. Refused while the e-stop is engaged."""
        with self._lock:
            if self.estop:
                return False
            self.episode += 1
            self.steps = StepPlan.of(instruction)
            self.s2_calls = self.s1_calls = 0
            self.s2_latency_s = self.s1_latency_s = math.nan
            self.last_decision = None
            self._blocker = BlockerWait(self.config.moving_obstacle_wait_s, 2.0 * self.config.moving_obstacle_wait_s)
            self._begin_step(now_s, now_s, timeout_s if timeout_s > 0 else self.config.mission_timeout_s, 0.0, "")
            return True

    def _begin_step(self, now_s: float, started_s: float, timeout_s: float, path_length_m: float,
                    reason: str) -> None:
        """Run the current step (sequence.py) as an episode of its own; the mission's clock,
        timeout and driven length go on."""
        self._ep = Episode(instruction=self.steps.current, started_s=started_s, timeout_s=timeout_s,
                           monitor=ProgressMonitor(self.config.progress_timeout_s, self.config.min_progress_m),
                           memory=self._new_memory(now_s), path_length_m=path_length_m,
                           last_pose=self._last_pose)
        self._reset_tracker()
        self._set(MissionState.QUERYING, reason)
        self._recall(now_s)

    def _recall(self, now_s: float) -> None:
        """"go back to the red chair": drive to where it was seen, no search; S2 must still see
        it there before ARRIVED (one remembered point is not an agreed estimate)."""
        ep = self._ep
        phrase = recall_phrase(ep.instruction)
        remembered = self.objects.find(phrase) if phrase else None
        if remembered is None:
            return
        ep.target_name = remembered.label
        ep.recalled = True
        ep.target = ep.fusion.add(TargetEstimate(remembered.label, remembered.point_odom, (0, 0), now_s, False),
                                  self._last_pose or Pose2D(0.0, 0.0, 0.0))
        if ep.monitor is not None:
            ep.monitor.reset(now_s)
        if self._last_pose is not None and abs(bearing_error_rad(ep.target, self._last_pose)) > FACE_FIRST_RAD:
            # behind or beside: S1 plans in the camera's view, so face it first
            ep.start_moves([MoveStep("rotate", bearing_error_rad(ep.target, self._last_pose), "face")],
                           recovery=True)
        self._set(MissionState.APPROACHING, f"going back to the '{remembered.label}' seen at "
                  f"({remembered.xy[0]:.1f}, {remembered.xy[1]:.1f}) m")

    def _new_memory(self, now_s: float) -> TrailMemory:
        memory = (TrailMemory() if self.local_map is None
                  else LocalMapMemory(self.local_map, self.local_map_lock, robot_radius_m=self.config.robot_radius_m))
        memory.set_time(now_s)
        return memory

    def cancel(self, now_s: float, reason: str = Reason.CANCELLED) -> None:
        with self._lock:
            if self.state not in TERMINAL_STATES:
                self._end(MissionState.STOPPED, reason, now_s)

    def fail(self, reason: str, now_s: float) -> None:
        with self._lock:
            if self.state not in TERMINAL_STATES:
                self._end(MissionState.FAILED, reason, now_s)

    def set_estop(self, engaged: bool, now_s: float) -> None:
        """Latched: engaging stops everything; releasing leaves the robot STOPPED, never resumes."""
        with self._lock:
            if engaged and not self.estop:
                self.estop = True
                self._end(MissionState.ESTOP, Reason.ESTOP, now_s)
            elif not engaged and self.estop:
                self.estop = False
                self._end(MissionState.STOPPED, Reason.ESTOP_RELEASED, now_s)

    # ------------------------------------------------------------------ S2
    def s2_request(self, now_s: float, frame_stamp_s: float) -> S2Request | None:
        """A query to send now with a frame stamped `frame_stamp_s`, or None if none is due."""
        with self._lock:
            ep = self._ep
            if self.state not in (MissionState.QUERYING, MissionState.SEARCHING, MissionState.APPROACHING):
                return None
            if ep.s2_inflight is not None or ep.primitive is not None or ep.moves:
                return None
            if frame_stamp_s < ep.min_frame_stamp_s:
                return None
            if self.state == MissionState.APPROACHING:
                due = ep.s2_forced or now_s - ep.last_query_s >= self.config.s2_requery_period_s
            else:
                due = ep.s2_needed
            if not due:
                return None
            self._token += 1
            ep.s2_inflight = self._token
            ep.s2_needed = ep.s2_forced = False
            ep.last_query_s = now_s
            context = {"episode": self.episode, "query_index": self.s2_calls,
                       "previous_target": ep.target_name or None,
                       "instruction_moves_done": ep.instruction_moves_done,
                       "search_turned_deg": round(math.degrees(ep.search_turned_rad), 1),
                       "search_covered_deg": round(ep.coverage.covered_deg(), 1)}
            return S2Request(self._token, self.episode, ep.instruction, context)

    def on_s2_decision(self, request: S2Request, decision, frame: RgbdFrame, now_s: float,
                       latency_s: float | None = None) -> None:
        with self._lock:
            if request.episode != self.episode or self._ep.s2_inflight != request.token:
                return
            self._ep.s2_inflight = None
            self.s2_calls += 1
            self.s2_latency_s = latency_s if latency_s is not None else float(decision.latency_ms) / 1000.0
            self.last_decision = decision
            self.last_decision_frame = frame
            if self.state in TERMINAL_STATES:
                return
            self._apply_decision(decision, frame, now_s)

    def on_s2_error(self, request: S2Request, error: Exception, now_s: float) -> None:
        """S2 rejected the request or answered garbage. A server that is away never lands here:
        the navigator holds and retries, and calls `fail` only after its outage limit."""
        with self._lock:
            if request.episode != self.episode or self._ep.s2_inflight != request.token:
                return
            self._ep.s2_inflight = None
            self.fail(f"{Reason.S2_REJECTED}: {error}", now_s)

    def _apply_decision(self, decision, frame: RgbdFrame, now_s: float) -> None:
        ep = self._ep
        tasks = list(getattr(decision, "tasks", None) or [])
        first_goal = next((i for i, t in enumerate(tasks) if t.task == "pixel_point" or t.is_stop), None)
        leading = [t for t in (tasks if first_goal is None else tasks[:first_goal]) if t.is_move]
        trailing = [] if first_goal is None else [t for t in tasks[first_goal + 1:] if t.is_move]
        target_name = decision.target or ""
        if target_name:
            ep.target_name = target_name
        # Moves before the goal, or moves with no target at all, are the instruction's own steps
        # ("turn left 90 degrees, then ..."); moves about a target that is not visible are search.
        instruction_moves = bool(leading) and (first_goal is not None or not target_name)
        if instruction_moves and not ep.instruction_moves_done:
            self._begin_moves(steps_from_tasks(leading), MissionState.EXECUTING_MOVE, now_s, instruction=True)
            return
        if decision.kind == "stop" or (first_goal is not None and tasks[first_goal].is_stop):
            self._arrive(Reason.ARRIVED_S2, now_s)
            return
        if decision.kind == "pixel" and decision.visible and decision.point_2d_pixel is not None:
            self._target_seen(decision.point_2d_pixel, frame, target_name, now_s)
            return
        if instruction_moves and not target_name:
            # a moves-only instruction whose moves are already done
            self._end(MissionState.ARRIVED, Reason.MOVES_DONE, now_s)
            return
        if self._keep_target_through_miss(frame) or self._look_where_it_was(frame, now_s):
            self._face_target_out_of_view(frame)
            return
        if ep.explore_goal is not None and self.state == MissionState.APPROACHING:
            return  # on the way to a frontier: S2 not seeing it yet is expected
        self._search(self._search_moves(decision, leading, trailing, instruction_moves), frame, now_s)

    def _target_seen(self, pixel, frame: RgbdFrame, target_name: str, now_s: float) -> None:
        """S2 sees the target at `pixel`: lift it to odom and approach it."""
        ep = self._ep
        u, v = (int(round(c)) for c in pixel)
        estimate = lift_pixel(u, v, frame, target_name)
        if estimate is None:
            ep.s2_forced = ep.s2_needed = True  # no odometry at that stamp: ask again
            return
        ep.target = ep.fusion.add(estimate, frame.pose)
        if not estimate.approximate:
            self.objects.remember(target_name or ep.target_name, estimate.point_odom, frame.stamp_s)
        ep.lost_queries = ep.hidden_queries = 0
        ep.revisited = False
        ep.set_frontier(None)
        ep.search_started_s = None
        ep.search_turned_rad = 0.0
        if self.state != MissionState.APPROACHING:
            ep.plan = None
            ep.no_safe_since_s = None
            ep.detour = []
            if ep.monitor is not None:
                ep.monitor.reset(now_s)
            self._reset_tracker()
            self._set(MissionState.APPROACHING, "")

    def _keep_target_through_miss(self, frame: RgbdFrame) -> bool:
        """Keep the 3D target while it is plausible: out of view, occluded, or while backing out
        of a dead end, S2 cannot see it; only misses in plain view count against it."""
        ep = self._ep
        if self.state != MissionState.APPROACHING or ep.target is None or ep.target.approximate:
            return False
        hidden = bool(ep.detour) or not expected_in_view(ep.target, frame)
        if hidden and ep.hidden_queries < self.config.target_hold_queries:
            ep.hidden_queries += 1
            return True
        if not hidden and ep.lost_queries < self.config.lost_target_queries:
            ep.lost_queries += 1
            return True
        return False

    def _look_where_it_was(self, frame: RgbdFrame, now_s: float) -> bool:
        """A target known in odom (agreed sightings, or remembered) that S2 no longer sees is
        still where it was: drive there and look once more before searching."""
        ep = self._ep
        if self.state != MissionState.APPROACHING or ep.target is None or frame.pose is None:
            return False
        if not (ep.fusion.agreed or ep.recalled) or horizontal_distance(ep.target, frame.pose) < REVISIT_LOOK_M:
            return False  # there, and still not seen: it is not there
        if not ep.revisited:
            ep.revisited = True
            self._set(MissionState.APPROACHING, f"out of sight: driving to where "
                      f"'{ep.target_name or ep.instruction}' was seen")
        ep.lost_queries = ep.hidden_queries = 0
        return True

    def _face_target_out_of_view(self, frame: RgbdFrame) -> None:
        """A kept target that lies well beside or behind the camera: turn to it first. S1 plans in
        the camera's view, so a goal far off its axis gets paths that lead away (a turn taken to
        avoid someone, then forward arcs along the wall instead of back through the doorway)."""
        ep = self._ep
        if ep.detour or ep.explore_goal is not None or ep.target is None or frame.pose is None \
                or not (ep.fusion.agreed or ep.recalled) or ep.moves or ep.primitive is not None:
            return
        turn = bearing_error_rad(ep.target, frame.pose)
        if abs(turn) > FACE_LOST_RAD:
            ep.start_moves([MoveStep("rotate", turn, "face")], recovery=True)

    def _search_moves(self, decision, leading: list, trailing: list, instruction_moves: bool) -> list[MoveStep]:
        """S2's moves about a target it cannot see, always with a turn so the search looks around."""
        search_moves = steps_from_tasks(trailing) if trailing else []
        if not search_moves and not leading:
            search_moves = steps_from_arrows(getattr(decision, "navigation", "") or "")
        if not search_moves and leading and not instruction_moves:
            search_moves = steps_from_tasks(leading)
        if not any(s.kind == "rotate" for s in search_moves):
            search_moves.append(MoveStep("rotate", TURN_STEP_RAD * self.config.search_turn_steps, "←"))
        return search_moves

    def _search(self, moves: list[MoveStep], frame: RgbdFrame, now_s: float) -> None:
        """Look on: S2's turn, unless it would only face headings already seen (scan_coverage).
        A scan that has faced every heading ends the search."""
        ep = self._ep
        if ep.search_started_s is None:
            ep.search_started_s = now_s
            ep.search_turned_rad = 0.0
            ep.coverage.clear()
        if frame.pose is not None:
            hfov = horizontal_fov_rad(frame.intrinsics)
            ep.coverage.mark(frame.pose.theta_rad, hfov)
            ep.hint_yaw_rad = hint_yaw(moves, frame.pose.theta_rad)
            if ep.coverage.complete:
                self._explore_or_fail(frame, now_s)
                return
            moves = steer_scan(moves, ep.coverage, frame.pose.theta_rad, hfov)
            if ep.target is not None:
                moves = toward_lost_target(moves, bearing_error_rad(ep.target, frame.pose), hfov)
        ep.target = None
        ep.fusion.clear()
        ep.plan = None
        ep.detour = []
        self._begin_moves(moves, MissionState.SEARCHING, now_s, instruction=False)

    def _arrive(self, reason: str, now_s: float) -> None:
        """Arrived: first turn to face the target and close to `arrive_distance_m` of it (when its
        fused position is agreed), then ARRIVED (arrival.py)."""
        ep = self._ep
        target = ep.target if ep.target is not None and not ep.target.approximate else None
        steps = final_steps(target, ep.last_pose, self.config.arrive_distance_m,
                            self.config.arrive_heading_tolerance_rad, drive=ep.fusion.agreed)
        if not steps:
            self._end(MissionState.ARRIVED, reason, now_s)
            return
        ep.arrival_reason = reason
        self._reset_tracker()
        ep.start_moves(steps, recovery=True)

    def _begin_moves(self, steps: list[MoveStep], state: MissionState, now_s: float, instruction: bool) -> None:
        self._ep.start_moves(steps, instruction=instruction)
        self._set(state, "")

    # ------------------------------------------------------------------ S1
    def on_s1_error(self, request: S1Request, error: Exception, now_s: float) -> None:
        """A plan that failed; `s1_error_limit` of them in a row fail the mission. A remote S1
        that is away is the navigator's outage to ride out, not an error counted here."""
        with self._lock:
            if request.episode != self.episode or self.state in TERMINAL_STATES:
                return
            self._ep.s1_errors += 1
            self._ep.plan = None
            if self._ep.s1_errors >= self.config.s1_error_limit:
                self._end(MissionState.FAILED, f"{Reason.S1_FAILED}: {error}", now_s)

    # ------------------------------------------------------------------ control
    def control(self, now_s: float, pose: Pose2D, last_cmd: Command, dt_s: float) -> ControlOutput:
        with self._lock:
            ep = self._ep
            if ep.last_pose is not None and self.state in MOTION_STATES:
                ep.path_length_m += math.hypot(pose.x_m - ep.last_pose.x_m, pose.y_m - ep.last_pose.y_m)
            ep.last_pose = self._last_pose = pose
            if self.state in TERMINAL_STATES:
                return _idle()
            if self.state in MOTION_STATES:
                ep.memory.set_time(now_s)
                ep.memory.mark_visited(pose.x_m, pose.y_m)
            if now_s - ep.started_s > ep.timeout_s:
                self._end(MissionState.FAILED, f"{Reason.TIMEOUT} after {ep.timeout_s:.0f} s", now_s)
                return _idle()
            if self._exploration_bounded(now_s):
                return _idle()
            if self.state == MissionState.SEARCHING and ep.search_started_s is not None \
                    and now_s - ep.search_started_s > self.config.search_timeout_s:
                self._end(MissionState.FAILED, f"{Reason.SEARCH_EXHAUSTED}: not found within "
                          f"{self.config.search_timeout_s:.0f} s", now_s)
                return _idle()
            if ep.moves or ep.primitive is not None:
                return self._step_moves(now_s, pose, last_cmd, dt_s)
            if self.state == MissionState.APPROACHING:
                if self._frontier_reached(pose, now_s):
                    return _hold()
                self._route_to_frontier(pose, now_s)
                self._hold_timers_behind_mover(now_s, pose)
                if not self._check_progress(now_s, pose):
                    return _idle() if self.state in TERMINAL_STATES else _hold()
                return self._track(now_s, pose, last_cmd)
            return _hold()

    def _hold_timers_behind_mover(self, now_s: float, pose: Pose2D) -> None:
        """Waiting behind someone who walked into the way is not a stall (mission/blocker_wait.py)."""
        ep = self._ep
        was = ep.holding_for_mover
        blocked = ep.memory.moving_obstacle_ahead(pose.x_m, pose.y_m, pose.theta_rad, MOVER_HORIZON_M,
                                                  self.config.robot_radius_m + MOVER_MARGIN_M,
                                                  self.config.moving_obstacle_wait_s)
        ep.holding_for_mover = self._blocker.update(blocked, now_s)
        if ep.holding_for_mover:
            if ep.monitor is not None:
                ep.monitor.reset(now_s)
            if ep.no_safe_since_s is not None:
                ep.no_safe_since_s = now_s
            if not was:
                self._set(MissionState.APPROACHING, Reason.WAITING_FOR_MOVER)
        elif was and self.reason == Reason.WAITING_FOR_MOVER:
            self._set(MissionState.APPROACHING, "")  # the way cleared (or the wait ran out): on with the approach

    def _step_moves(self, now_s: float, pose: Pose2D, last_cmd: Command, dt_s: float) -> ControlOutput:
        ep = self._ep
        if ep.primitive is None:
            ep.primitive_step = ep.moves.pop(0)
            ep.primitive = self.primitives.make(ep.primitive_step)
            ep.primitive.start(pose)
            ep.primitive_started_s = now_s
        result = ep.primitive.step(pose, last_cmd, dt_s)
        if result.done:
            done_step = ep.primitive_step
            ep.primitive = None
            ep.primitive_step = None
            if self.state == MissionState.SEARCHING and done_step is not None and done_step.kind == "rotate":
                ep.search_turned_rad += abs(done_step.amount)
            if not ep.moves:
                self._moves_finished(now_s)
            return ControlOutput(self.state not in TERMINAL_STATES, Command(0.0, 0.0), None, "hold")
        if now_s - ep.primitive_started_s > self.config.primitive_timeout_s:
            step = ep.primitive_step
            done_fraction = 1.0 - abs(float(result.error)) / max(abs(step.amount), 1e-6) if step else 0.0
            if done_fraction < 0.5 and not ep.moves_are_recovery:
                # the base did not really move: blocked, or commands are not reaching it
                self._end(MissionState.FAILED, f"{Reason.MOVE_FAILED}: {step} reached {done_fraction:.0%} "
                          f"within {self.config.primitive_timeout_s:.0f} s", now_s)
                return _idle()
            # close enough (e.g. settling around the tolerance under heavy latency): take what was
            # done and let the next S2 query judge the new view
            ep.primitive = None
            ep.primitive_step = None
            if self.state == MissionState.SEARCHING and step.kind == "rotate":
                ep.search_turned_rad += abs(step.amount) * done_fraction
            if not ep.moves:
                self._moves_finished(now_s)
            return ControlOutput(self.state not in TERMINAL_STATES, Command(0.0, 0.0), None, "hold")
        reverse = ep.primitive_step is not None and ep.primitive_step.symbol == REVERSE_SYMBOL
        return ControlOutput(True, result.command, None, "primitive", reverse=reverse)

    def _moves_finished(self, now_s: float) -> None:
        ep = self._ep
        ep.min_frame_stamp_s = now_s  # the next query or plan must see the world after the move
        if ep.arrival_reason:
            self._end(MissionState.ARRIVED, ep.arrival_reason, now_s)
            return
        if ep.moves_are_recovery:
            ep.moves_are_recovery = False
            ep.plan = None
            return
        ep.s2_needed = True
        if ep.moves_are_instruction:
            ep.instruction_moves_done = True
            self._set(MissionState.QUERYING, "")

    # ------------------------------------------------------------------ views
    @property
    def target(self) -> TargetEstimate | None:
        return self._ep.target

    @property
    def detour(self) -> list[tuple[float, float]]:
        return list(self._ep.detour)

    @property
    def plan_record(self) -> PlanRecord | None:
        return self._ep.plan

    @property
    def instruction(self) -> str:
        return self._ep.instruction

    @property
    def active(self) -> bool:
        return self.state not in TERMINAL_STATES

    def hold_reason(self, now_s: float) -> str:
        """Why the mission holds the robot still now (empty while it moves or is idle)."""
        with self._lock:
            return hold_reason(self.state, self._ep, self.config, now_s)

    def status(self, now_s: float) -> MissionStatus:
        with self._lock:
            ep = self._ep
            dist = (horizontal_distance(ep.target, ep.last_pose)
                    if ep.target is not None and ep.last_pose is not None else math.nan)
            plan_age = now_s - ep.plan.stamp_s if ep.plan is not None and len(ep.plan.path_odom) else math.nan
            end = ep.ended_s if ep.ended_s is not None else now_s
            return MissionStatus(self.state, self.reason, self.steps.instruction or ep.instruction, ep.target_name,
                                 dist, self.s2_latency_s, self.s1_latency_s, plan_age, self.s2_calls,
                                 self.s1_calls, max(0.0, end - ep.started_s) if self.episode else 0.0,
                                 ep.path_length_m, self.episode, ep.recoveries, self.steps.index,
                                 self.steps.count, ep.instruction)

    # ------------------------------------------------------------------ internals
    def _set(self, state: MissionState, reason: str) -> None:
        if state != self.state or reason != self.reason:
            self.transitions.append((state, reason))
            del self.transitions[:-100]
        self.state = state
        self.reason = reason

    def _end(self, state: MissionState, reason: str, now_s: float) -> None:
        ep = self._ep
        ep.moves = []
        ep.primitive = None
        ep.primitive_step = None
        ep.plan = None
        ep.s2_inflight = None
        ep.ended_s = now_s
        if state == MissionState.ARRIVED and self.steps.has_next:
            self._begin_step(now_s, ep.started_s, ep.timeout_s, ep.path_length_m,
                             self.steps.advance(state.name, reason))
            return
        self._set(state, self.steps.qualify(reason))

    def _reset_tracker(self) -> None:
        reset = getattr(self.tracker, "reset", None)
        if callable(reset):
            reset()


def _idle() -> ControlOutput:
    return ControlOutput(False, Command(0.0, 0.0), None, "idle")


def _hold() -> ControlOutput:
    return ControlOutput(True, Command(0.0, 0.0), None, "hold")
