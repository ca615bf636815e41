"""The mission state machine: one instruction from start to ARRIVED / FAILED / STOPPED / ESTOP.

It is driven by three kinds of events that the node delivers from different threads: control
ticks (20 Hz), S2 decisions and S1 plans. All methods take the node-clock time `now_s`, so the
same logic runs on wall time, sim time and replayed bags, and unit tests drive it directly.

S2 is asked at the start, again every `s2_requery_period_s` while approaching, whenever S1
reports no safe path, and after every search or move step (field note 3: the field asked once).
A new instruction starts a new episode; answers that belong to an older episode are dropped.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.mission.moves import MoveStep, PrimitiveFactory, steps_from_arrows, steps_from_tasks
from lingnav_ros.mission.states import MOTION_STATES, TERMINAL_STATES, MissionState, Reason
from lingnav_ros.mission.target import TargetEstimate, goal_for_frame, horizontal_distance, lift_pixel
from lingnav_ros.perception.frame import RgbdFrame
from lingnav_ros.perception.frames import plan_to_odom
from s1_server.plan import PixelGoal, PointGoal, S1Plan, S1Unavailable
from s2_server.decision import TURN_STEP_RAD

FULL_TURN_RAD = 2.0 * math.pi


@dataclass(frozen=True)
class MissionConfig:
    s2_requery_period_s: float = 2.0
    arrive_distance_m: float = 0.7
    mission_timeout_s: float = 180.0
    search_timeout_s: float = 60.0
    search_turn_steps: int = 3
    no_safe_path_timeout_s: float = 8.0
    primitive_timeout_s: float = 20.0
    lost_target_queries: int = 2  # S2 misses tolerated while a 3D target is held
    s1_error_limit: int = 3  # consecutive non-network S1 errors before failing


@dataclass(frozen=True)
class S2Request:
    token: int
    episode: int
    instruction: str
    context: dict


@dataclass(frozen=True)
class S1Request:
    episode: int
    goal: PixelGoal | PointGoal


@dataclass(frozen=True)
class ControlOutput:
    active: bool  # False: idle or finished (publish zero once, then nothing)
    command: Command
    predicted: np.ndarray | None  # [N,3] odom path the command leads to, if the tracker made one
    source: str  # 'idle' | 'hold' | 'tracker' | 'primitive'
    needs_plan: bool = False
    plan_stamp_s: float | None = None


@dataclass
class MissionStatus:
    state: MissionState
    reason: str
    instruction: str
    target: str
    distance_to_target_m: float
    s2_latency_s: float
    s1_latency_s: float
    plan_age_s: float
    s2_calls: int
    s1_calls: int
    elapsed_s: float
    path_length_m: float
    episode: int


@dataclass
class _PlanRecord:
    plan: S1Plan
    path_odom: np.ndarray
    candidates_odom: np.ndarray
    stamp_s: float
    received_s: float


@dataclass
class _Episode:
    instruction: str = ""
    started_s: float = 0.0
    timeout_s: float = 0.0
    moves: list[MoveStep] = field(default_factory=list)
    primitive: Any = None
    primitive_step: MoveStep | None = None
    primitive_started_s: float = 0.0
    moves_are_instruction: bool = False
    instruction_moves_done: bool = False
    s2_needed: bool = True
    s2_forced: bool = False
    s2_inflight: int | None = None
    last_query_s: float = -math.inf
    min_frame_stamp_s: float = -math.inf
    search_started_s: float | None = None
    search_turned_rad: float = 0.0
    target: TargetEstimate | None = None
    target_name: str = ""
    lost_queries: int = 0
    plan: _PlanRecord | None = None
    no_safe_since_s: float | None = None
    s1_errors: int = 0
    path_length_m: float = 0.0
    last_pose: Pose2D | None = None
    ended_s: float | None = None


class Mission:
    def __init__(self, config: MissionConfig, tracker, primitives: PrimitiveFactory) -> None:
        self.config = config
        self.tracker = tracker
        self.primitives = primitives
        self._lock = threading.RLock()
        self.state = MissionState.IDLE
        self.reason = ""
        self.episode = 0
        self._ep = _Episode()
        self._token = 0
        self.estop = False
        self.s2_calls = 0
        self.s1_calls = 0
        self.s2_latency_s = math.nan
        self.s1_latency_s = math.nan
        self.last_decision = None
        self.last_decision_frame: RgbdFrame | None = None
        self.transitions: list[tuple[MissionState, str]] = []

    # ------------------------------------------------------------------ commands in
    def start(self, instruction: str, now_s: float, timeout_s: float = 0.0) -> bool:
        """Begin (or preempt with) a new instruction. Refused while the e-stop is engaged."""
        with self._lock:
            if self.estop:
                return False
            self.episode += 1
            self._ep = _Episode(instruction=instruction.strip(), started_s=now_s,
                                timeout_s=timeout_s if timeout_s > 0 else self.config.mission_timeout_s)
            self.s2_calls = self.s1_calls = 0
            self.s2_latency_s = self.s1_latency_s = math.nan
            self.last_decision = None
            self._reset_tracker()
            self._set(MissionState.QUERYING, "")
            return True

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
                       "search_turned_deg": round(math.degrees(ep.search_turned_rad), 1)}
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

    def on_s2_error(self, request: S2Request, error: Exception, now_s: float, unreachable: bool) -> None:
        with self._lock:
            if request.episode != self.episode or self._ep.s2_inflight != request.token:
                return
            self._ep.s2_inflight = None
            prefix = Reason.S2_UNREACHABLE if unreachable else Reason.S2_REJECTED
            self.fail(f"{prefix}: {error}", now_s)

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
            self._end(MissionState.ARRIVED, Reason.ARRIVED_S2, now_s)
            return
        if decision.kind == "pixel" and decision.visible and decision.point_2d_pixel is not None:
            u, v = (int(round(c)) for c in decision.point_2d_pixel)
            estimate = lift_pixel(u, v, frame, target_name)
            if estimate is None:
                ep.s2_forced = ep.s2_needed = True  # no odometry at that stamp: ask again
                return
            ep.target = estimate
            ep.lost_queries = 0
            ep.search_started_s = None
            ep.search_turned_rad = 0.0
            if self.state != MissionState.APPROACHING:
                ep.plan = None
                ep.no_safe_since_s = None
                self._reset_tracker()
                self._set(MissionState.APPROACHING, "")
            return
        if instruction_moves and not target_name:
            # a moves-only instruction whose moves are already done
            self._end(MissionState.ARRIVED, Reason.MOVES_DONE, now_s)
            return
        if (self.state == MissionState.APPROACHING and ep.target is not None and not ep.target.approximate
                and ep.lost_queries < self.config.lost_target_queries):
            ep.lost_queries += 1  # the target may be out of view up close: keep the 3D estimate
            return
        search_moves = steps_from_tasks(trailing) if trailing else []
        if not search_moves and not leading:
            search_moves = steps_from_arrows(getattr(decision, "navigation", "") or "")
        if not search_moves and leading and not instruction_moves:
            search_moves = steps_from_tasks(leading)
        if not any(s.kind == "rotate" for s in search_moves):
            search_moves.append(MoveStep("rotate", TURN_STEP_RAD * self.config.search_turn_steps, "←"))
        if ep.search_started_s is None:
            ep.search_started_s = now_s
            ep.search_turned_rad = 0.0
        ep.target = None
        ep.plan = None
        self._begin_moves(search_moves, MissionState.SEARCHING, now_s, instruction=False)

    def _begin_moves(self, steps: list[MoveStep], state: MissionState, now_s: float, instruction: bool) -> None:
        ep = self._ep
        ep.moves = list(steps)
        ep.moves_are_instruction = instruction
        ep.primitive = None
        ep.plan = None
        self._set(state, "")

    # ------------------------------------------------------------------ S1
    def s1_request(self, frame: RgbdFrame) -> S1Request | None:
        """The goal S1 should plan for in `frame`, or None when no plan is wanted."""
        with self._lock:
            ep = self._ep
            if self.state != MissionState.APPROACHING or ep.target is None or frame.pose is None:
                return None
            goal = goal_for_frame(ep.target, frame)
            return None if goal is None else S1Request(self.episode, goal)

    def on_s1_plan(self, request: S1Request, plan: S1Plan, frame: RgbdFrame, now_s: float) -> None:
        with self._lock:
            if request.episode != self.episode or frame.pose is None:
                return
            self.s1_calls += 1
            self.s1_latency_s = float(plan.latency_s)
            if self.state != MissionState.APPROACHING:
                return
            ep = self._ep
            ep.s1_errors = 0
            cands = np.asarray(plan.candidates, dtype=float)
            cands_odom = (np.stack([plan_to_odom(c, frame.pose) for c in cands]) if cands.size
                          else np.zeros((0, 0, 3)))
            record = _PlanRecord(plan, plan_to_odom(plan.best, frame.pose), cands_odom, frame.stamp_s, now_s)
            if plan.no_safe_path or not np.all(np.isfinite(plan.best)):
                # never send the "least bad" candidate to the controller (field note 6)
                ep.plan = _PlanRecord(plan, np.zeros((0, 3)), cands_odom, frame.stamp_s, now_s)
                if ep.no_safe_since_s is None:
                    ep.no_safe_since_s = now_s
                    ep.s2_forced = True
                if now_s - ep.no_safe_since_s > self.config.no_safe_path_timeout_s:
                    self._end(MissionState.FAILED, f"{Reason.NO_SAFE_PATH} for "
                              f"{now_s - ep.no_safe_since_s:.1f} s", now_s)
                return
            ep.no_safe_since_s = None
            ep.plan = record

    def on_s1_error(self, request: S1Request, error: Exception, now_s: float) -> None:
        with self._lock:
            if request.episode != self.episode or self.state in TERMINAL_STATES:
                return
            if isinstance(error, S1Unavailable):
                self._end(MissionState.FAILED, f"{Reason.S1_UNREACHABLE}: {error}", now_s)
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
            ep.last_pose = pose
            if self.state in TERMINAL_STATES:
                return _idle()
            if now_s - ep.started_s > ep.timeout_s:
                self._end(MissionState.FAILED, f"{Reason.TIMEOUT} after {ep.timeout_s:.0f} s", now_s)
                return _idle()
            if self.state == MissionState.SEARCHING and ep.search_started_s is not None \
                    and now_s - ep.search_started_s > self.config.search_timeout_s:
                self._end(MissionState.FAILED, f"{Reason.SEARCH_EXHAUSTED}: not found within "
                          f"{self.config.search_timeout_s:.0f} s", now_s)
                return _idle()
            if ep.moves or ep.primitive is not None:
                return self._step_moves(now_s, pose, last_cmd, dt_s)
            if self.state == MissionState.APPROACHING:
                return self._track(now_s, pose, last_cmd)
            return _hold()

    def _track(self, now_s: float, pose: Pose2D, last_cmd: Command) -> ControlOutput:
        ep = self._ep
        if ep.target is not None and not ep.target.approximate \
                and horizontal_distance(ep.target, pose) < self.config.arrive_distance_m:
            self._end(MissionState.ARRIVED, Reason.ARRIVED_DISTANCE, now_s)
            return _idle()
        if ep.plan is None or len(ep.plan.path_odom) < 2:
            return _hold()
        out = self.tracker.compute(pose, last_cmd, ep.plan.path_odom)
        if out.goal_reached or out.controller == "stop":
            return ControlOutput(True, Command(0.0, 0.0), out.predicted, "hold", True, ep.plan.stamp_s)
        return ControlOutput(True, out.command, out.predicted, "tracker", True, ep.plan.stamp_s)

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
            if done_fraction < 0.5:
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
        return ControlOutput(True, result.command, None, "primitive")

    def _moves_finished(self, now_s: float) -> None:
        ep = self._ep
        ep.min_frame_stamp_s = now_s  # the next query must see the world after the move
        ep.s2_needed = True
        if ep.moves_are_instruction:
            ep.instruction_moves_done = True
            self._set(MissionState.QUERYING, "")
        elif ep.search_turned_rad >= FULL_TURN_RAD - 1e-3:
            self._end(MissionState.FAILED, f"{Reason.SEARCH_EXHAUSTED}: full turn without seeing "
                      f"'{ep.target_name or ep.instruction}'", now_s)

    # ------------------------------------------------------------------ views
    @property
    def target(self) -> TargetEstimate | None:
        return self._ep.target

    @property
    def plan_record(self) -> _PlanRecord | None:
        return self._ep.plan

    @property
    def instruction(self) -> str:
        return self._ep.instruction

    @property
    def active(self) -> bool:
        return self.state not in TERMINAL_STATES

    def status(self, now_s: float) -> MissionStatus:
        with self._lock:
            ep = self._ep
            dist = (horizontal_distance(ep.target, ep.last_pose)
                    if ep.target is not None and ep.last_pose is not None else math.nan)
            plan_age = now_s - ep.plan.stamp_s if ep.plan is not None and len(ep.plan.path_odom) else math.nan
            end = ep.ended_s if ep.ended_s is not None else now_s
            return MissionStatus(self.state, self.reason, ep.instruction, ep.target_name, dist,
                                 self.s2_latency_s, self.s1_latency_s, plan_age, self.s2_calls,
                                 self.s1_calls, max(0.0, end - ep.started_s) if self.episode else 0.0,
                                 ep.path_length_m, self.episode)

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
        self._set(state, reason)

    def _reset_tracker(self) -> None:
        reset = getattr(self.tracker, "reset", None)
        if callable(reset):
            reset()


def _idle() -> ControlOutput:
    return ControlOutput(False, Command(0.0, 0.0), None, "idle")


def _hold() -> ControlOutput:
    return ControlOutput(True, Command(0.0, 0.0), None, "hold")
