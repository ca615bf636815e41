"""The mission's data: its configuration, what it asks the servers, what it gives the
controller and the status, and one episode's state (one instruction from start to end)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lingnav_core.s1_plan import PixelGoal, PointGoal, S1Plan
from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.mission.dead_end_memory import TrailMemory
from lingnav_ros.mission.moves import MoveStep
from lingnav_ros.mission.recovery import ProgressMonitor, RecoveryConfig
from lingnav_ros.mission.scan_coverage import ScanCoverage
from lingnav_ros.mission.target import TargetEstimate
from lingnav_ros.mission.target_fusion import TargetFusion


@dataclass(frozen=True)
class MissionConfig:
    s2_requery_period_s: float = 2.0
    arrive_distance_m: float = 0.5  # robot centre to the target's surface
    arrive_heading_tolerance_rad: float = 0.26  # the final turn faces the target within this
    mission_timeout_s: float = 180.0
    search_timeout_s: float = 60.0
    search_turn_steps: int = 3
    no_safe_path_timeout_s: float = 8.0
    primitive_timeout_s: float = 20.0
    lost_target_queries: int = 2  # S2 misses tolerated while the target should be in plain view
    target_hold_queries: int = 12  # misses tolerated while the target is out of view or occluded
    s1_error_limit: int = 3  # consecutive non-network S1 errors before failing
    s1_stop_threshold: float = -3.0  # NavDP critic scale: a candidate below it is not safe
    progress_timeout_s: float = 15.0
    min_progress_m: float = 0.3
    max_recoveries: int = 3
    backout_m: float = 1.2
    side_step_m: float = 1.5
    min_plan_length_m: float = 0.25  # the tracker's goal tolerance: shorter plans cannot move it
    recovery_reverse_m: float = 0.3
    robot_radius_m: float = 0.2  # the dead-end memory's free-distance sweep in the local map
    explore_max_area_m2: float = 150.0  # exploration bounds (exploration.py)
    explore_max_distance_m: float = 60.0
    explore_timeout_s: float = 150.0  # 0: no exploration, fail after a full scan
    moving_obstacle_wait_s: float = 20.0  # hold the stall timers behind a person this long (blocker_wait.py)

    @classmethod
    def from_params(cls, params: Any) -> MissionConfig:
        """Every field the navigator's parameters carry under the same name (goal_tolerance_m is
        the shortest plan the tracker can follow)."""
        values = {f.name: getattr(params, f.name) for f in dataclasses.fields(cls) if hasattr(params, f.name)}
        if hasattr(params, "goal_tolerance_m") and "min_plan_length_m" not in values:
            values["min_plan_length_m"] = params.goal_tolerance_m
        return cls(**values)

    def recovery(self) -> RecoveryConfig:
        return RecoveryConfig(progress_timeout_s=self.progress_timeout_s, min_progress_m=self.min_progress_m,
                              max_recoveries=self.max_recoveries, backout_m=self.backout_m,
                              side_step_m=self.side_step_m, min_plan_length_m=self.min_plan_length_m,
                              reverse_max_m=self.recovery_reverse_m)


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
    detour: bool = False  # planned toward a detour waypoint, not the target
    step: int = 0  # the instruction step it was planned for (sequence.py)


@dataclass(frozen=True)
class ControlOutput:
    active: bool  # False: idle or finished (publish zero once, then nothing)
    command: Command
    predicted: np.ndarray | None  # [N,3] odom path the command leads to, if the tracker made one
    source: str  # 'idle' | 'hold' | 'tracker' | 'primitive'
    needs_plan: bool = False
    plan_stamp_s: float | None = None
    reverse: bool = False  # a recovery back-out: the limiter must let v go below v_min_mps


@dataclass
class MissionStatus:
    state: Any
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
    recoveries: int = 0
    step_index: int = 0  # the step under way (0-based) of an instruction of several steps
    step_count: int = 1
    step_text: str = ""  # that step, as S2 is asked it


@dataclass
class PlanRecord:
    plan: S1Plan
    path_odom: np.ndarray
    candidates_odom: np.ndarray
    stamp_s: float
    received_s: float


@dataclass
class Episode:
    instruction: str = ""
    started_s: float = 0.0
    timeout_s: float = 0.0
    moves: list[MoveStep] = field(default_factory=list)
    primitive: Any = None
    primitive_step: MoveStep | None = None
    primitive_started_s: float = 0.0
    moves_are_instruction: bool = False
    moves_are_recovery: bool = False
    instruction_moves_done: bool = False
    s2_needed: bool = True
    s2_forced: bool = False
    s2_inflight: int | None = None
    last_query_s: float = -math.inf
    min_frame_stamp_s: float = -math.inf
    search_started_s: float | None = None
    search_turned_rad: float = 0.0
    coverage: ScanCoverage = field(default_factory=ScanCoverage)  # headings S2 has looked along
    target: TargetEstimate | None = None
    fusion: TargetFusion = field(default_factory=TargetFusion)  # sightings of the target in odom
    recalled: bool = False  # the target came from the object memory ("go back to ...")
    revisited: bool = False  # drove once to where the lost target was seen
    explore_goal: tuple[float, float] | None = None  # the frontier being driven to (exploration.py)
    route_planned_s: float | None = None  # when the way to it was last planned on the exploration map
    route_left_m: float | None = None  # ... and its length then: progress is measured along it
    explore_started_s: float | None = None
    explore_start_path_m: float = 0.0
    hint_yaw_rad: float | None = None  # where S2's last search answer pointed (odom yaw)
    arrival_reason: str = ""  # set while the final turn/drive runs: ARRIVED with it when done
    target_name: str = ""
    lost_queries: int = 0
    hidden_queries: int = 0
    plan: PlanRecord | None = None
    no_safe_since_s: float | None = None
    s1_errors: int = 0
    path_length_m: float = 0.0
    last_pose: Pose2D | None = None
    ended_s: float | None = None
    memory: TrailMemory = field(default_factory=TrailMemory)
    monitor: ProgressMonitor | None = None
    detour: list[tuple[float, float]] = field(default_factory=list)
    recoveries: int = 0
    last_s1_turn: tuple[float, float] | None = None  # (signed angle rad, time s) of S1's last in-place turn
    holding_for_mover: bool = False  # someone stands in the way: the stall timers hold (blocker_wait.py)

    def set_frontier(self, xy: tuple[float, float] | None) -> None:
        """Drive to the frontier `xy` (None: to none); the way to any earlier one is forgotten."""
        self.explore_goal = xy
        self.route_planned_s = self.route_left_m = None

    def start_moves(self, steps: list[MoveStep], instruction: bool = False, recovery: bool = False) -> None:
        """Run `steps` next, from the first: no primitive under way and no plan to follow."""
        self.moves = list(steps)
        self.moves_are_instruction = instruction
        self.moves_are_recovery = recovery
        self.primitive = None
        self.plan = None
