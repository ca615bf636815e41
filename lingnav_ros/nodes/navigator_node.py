"""`lingnav_navigator`: the robot-side node, thin over lingnav_ros.mission/perception/safety.

The node holds the shared state and composes one object per job, each in
lingnav_ros.nodes.navigator: sensor intake, the control loop, the S2/S1/health calls on worker
lanes, visualisation, status/diagnostics and the Navigate action companion.

Threads: every ROS callback runs on one executor thread and the S2 and S1 HTTP calls run on
worker lanes of their own (see lingnav_ros.nodes.spinning), so a VLM answer that takes seconds
never delays a control tick. Every time comes from the node clock (use_sim_time, bag replay),
every stamp from message headers.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import replace

import numpy as np
import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_ros import navigator_params as np_params
from lingnav_ros.control.limits import VelocityLimits
from lingnav_ros.control.mpc import MpcTracker
from lingnav_ros.control.types import Command
from lingnav_ros.mission.mission import Mission, MissionConfig
from lingnav_ros.mission.moves import ControlPrimitives
from lingnav_ros.mission.target import goal_for_frame
from lingnav_ros.nodes.lifecycle import (
    close_node,
    ignore_further_interrupts,
    is_ending,
    spin_until_shutdown,
    start_node,
)
from lingnav_ros.nodes.navigator import factories, wiring
from lingnav_ros.nodes.navigator.action import NavigateCompanion
from lingnav_ros.nodes.navigator.control import ControlLoop
from lingnav_ros.nodes.navigator.obstacle_memory import MapMemory
from lingnav_ros.nodes.navigator.sensor_checks import SensorFaults
from lingnav_ros.nodes.navigator.sensors import SensorIntake
from lingnav_ros.nodes.navigator.server_calls import ServerCalls
from lingnav_ros.nodes.navigator.server_outage import ServerOutage
from lingnav_ros.nodes.navigator.status import NavigatorStats, StatusReporter
from lingnav_ros.nodes.navigator.views import PlanViews
from lingnav_ros.perception.extrinsics import MountProvider
from lingnav_ros.perception.odom_buffer import OdomBuffer
from lingnav_ros.perception.rgbd_frame import RgbdFrame
from lingnav_ros.safety.collision import CollisionConfig, CollisionMonitor
from lingnav_ros.safety.gate import CommandGate
from lingnav_ros.safety.watchdog import Watchdog, WatchdogConfig
from lingnav_ros.stamps import stamp_to_s

NODE_NAME = np_params.NODE_NAME


class NavigatorNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self.p = factories.declare_parameters(self)
        p = self.p
        self.stats = NavigatorStats()
        self.lock = threading.Lock()

        # --- callback groups: they keep the node safe in any executor; main() runs it on one
        # executor thread with the slow calls on worker lanes (see lingnav_ros.nodes.spinning) ---
        self.cb_control = MutuallyExclusiveCallbackGroup()
        self.cb_camera = MutuallyExclusiveCallbackGroup()
        self.cb_odom = MutuallyExclusiveCallbackGroup()
        self.cb_misc = ReentrantCallbackGroup()

        # --- logic ---
        self.limits = VelocityLimits(v_max_mps=p.v_max_mps, v_min_mps=p.v_min_mps, w_max_radps=p.w_max_radps,
                                     a_max_mps2=p.a_max_mps2, alpha_max_radps2=p.alpha_max_radps2)
        tracker = MpcTracker(factories.mpc_params(p), self.limits)
        # One map for obstacles and the mission's dead-end memory (visited cells, free distance).
        self.memory = MapMemory(self)
        self.mission = Mission(MissionConfig.from_params(p), tracker, ControlPrimitives(
            self.limits, p.turn_tolerance_rad, p.move_tolerance_m, reverse_mps=p.recovery_reverse_mps),
            local_map=self.memory.map if self.memory.enabled else None, local_map_lock=self.memory.lock)
        self.watchdog = Watchdog(WatchdogConfig(p.odom_timeout_s, p.depth_timeout_s, p.max_plan_age_s))
        self.collision_cfg = CollisionConfig(
            robot_radius_m=p.robot_radius_m, stop_distance_m=p.collision_stop_distance_m,
            slowdown_distance_m=p.collision_slowdown_distance_m, slowdown_ratio=p.collision_slowdown_ratio,
            min_height_m=p.collision_min_height_m, max_height_m=p.collision_max_height_m,
            depth_stride=p.collision_depth_stride, target_clearance_m=p.target_clearance_m,
            brake_decel_mps2=p.collision_brake_decel_mps2, reaction_s=p.collision_reaction_s)
        self.collision = CollisionMonitor(self.collision_cfg)
        self.gate = CommandGate()
        self.odom = OdomBuffer(history_s=p.odom_buffer_s)
        self.fallback_intrinsics = Intrinsics(p.fx, p.fy, p.cx, p.cy, p.image_width, p.image_height)
        self.camera_info: Intrinsics | None = None
        self.mounts = MountProvider(CameraMount(p.camera_height_m, p.camera_pitch_rad, p.camera_x_m, p.camera_y_m),
                                    node=self, base_frame=p.base_frame, camera_frame=p.camera_frame,
                                    use_tf=p.use_tf)

        # --- shared state (guarded by self.lock where two threads meet) ---
        self.latest_frame: RgbdFrame | None = None
        self.obstacles_odom = np.zeros((0, 2))
        self.depth_rx_s: float | None = None
        self.odom_rx_s: float | None = None
        self.faults = SensorFaults()
        self.hold_reason = ""
        self.last_cmd = Command(0.0, 0.0)
        self.last_control_s: float | None = None
        self.frame_seq = 0
        self.pending_plan_stamp: float | None = None
        self.s1_error = ""
        self.s2_error = ""
        self.s2_health = "unknown"
        self.s1_health = "unknown"
        self.instruction_started = not p.initial_instruction
        self.s2_outage = ServerOutage("S2", p.server_outage_timeout_s)
        self.s1_outage = ServerOutage("S1", p.server_outage_timeout_s)

        # --- clients ---
        self.s2 = factories.make_s2_client(p)
        self.s2_health_client = factories.make_s2_client(p, for_health=True)
        # A planner that cannot start (mode B: missing checkpoint, absent CUDA device) fails the
        # start with the reason: a navigator that can never plan must not look alive.
        self.planner = factories.make_planner(p, self.mounts.fallback)
        self.s1_health_client = factories.make_s1_health_client(p)

        # --- parts, then the ROS surface that calls them ---
        self.sensors = SensorIntake(self)
        self.control = ControlLoop(self)
        self.calls = ServerCalls(self)
        self.views = PlanViews(self)
        self.reporter = StatusReporter(self, NODE_NAME)
        wiring.wire(self)
        self.companion = NavigateCompanion(self)
        self.action_node = self.companion.action_node
        self.get_logger().info(
            f"{NODE_NAME}: s1_mode={p.s1_mode} S2 {p.s2_host}:{p.s2_port} rgb={wiring.rgb_topic(p)} "
            f"depth={p.depth_topic} sync={self.sync.backend} camera QoS={p.camera_qos_reliability}")

    def executors(self) -> list:
        """[executor for this node, executor for the action node], each holding its node."""
        main = SingleThreadedExecutor(context=self.context)
        main.add_node(self)
        actions = MultiThreadedExecutor(num_threads=3, context=self.context)
        actions.add_node(self.action_node)
        return [main, actions]

    def lane_failed(self, exc: BaseException) -> None:
        self.get_logger().error(f"worker lane failed: {type(exc).__name__}: {exc}")

    def destroy_node(self) -> None:
        for lane in getattr(self, "lanes", []):
            lane.stop()
        if getattr(self, "companion", None) is not None:
            self.companion.destroy()
        super().destroy_node()

    # ------------------------------------------------------------------ time
    def now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def stamp_or_now(self, stamp) -> float:
        t = stamp_to_s(stamp)
        return t if t > 0.0 else self.now_s()

    # ------------------------------------------------------------------ for the parts, tests and bench
    def status_msg(self):
        return self.reporter.status_msg()

    def publish_cmd(self, cmd: Command) -> None:
        self.control.publish_cmd(cmd)

    def goal_in_latest_frame(self):
        with self.lock:
            frame = self.latest_frame
        t = self.mission.target
        return None if frame is None or t is None else goal_for_frame(t, frame)

    def frame_copy(self) -> RgbdFrame | None:
        with self.lock:
            return None if self.latest_frame is None else replace(self.latest_frame)


def main(args=None) -> int:
    """Exit 0 on Ctrl-C or an external shutdown; 1 with one clear line when the start fails."""
    node, exit_code = start_node(NavigatorNode, args, (factories.StartError, np_params.ParamError),
                                 f"{NODE_NAME}: cannot start", 1)
    if node is None:
        return exit_code
    executors: list = []
    threads: list[threading.Thread] = []
    try:
        if rclpy.ok():
            executors = node.executors()
            main_executor, action_executor = executors
            threads.append(threading.Thread(target=lambda: spin_until_shutdown(action_executor.spin),
                                            name="navigate-action", daemon=True))
            threads[0].start()
            main_executor.spin()
    except BaseException as exc:
        if not is_ending(exc):
            raise
    finally:
        ignore_further_interrupts()
        try:
            node.publish_cmd(Command(0.0, 0.0))  # leave the robot standing
        except Exception:  # the context may already be gone on Ctrl-C
            pass
        # Stop both executors and wait for their threads before destroying anything they hold:
        # destroying a node under a running executor leaves "cannot use Destroyable" errors.
        for executor in executors:
            executor.shutdown(timeout_sec=2.0)
        for thread in threads:
            thread.join(timeout=2.0)
        close_node(node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
