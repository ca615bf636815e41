"""`lingnav_navigator`: the robot-side node, thin over lingnav_ros.mission/perception/safety.

The node reads and validates its parameters once, cuts them into per-part settings
(navigator.settings), and composes one object per job, each in lingnav_ros.nodes.navigator and
each given only what it uses: sensor intake, the control loop, the S2/S1/health calls on worker
lanes, visualisation, status/diagnostics and the Navigate action companion. What they share while
running is one explicit `NavigatorState`.

Threads: every ROS callback runs on one executor thread and the S2 and S1 HTTP calls run on
worker lanes of their own (see lingnav_ros.nodes.spinning), so a VLM answer that takes seconds
never delays a control tick. Every time comes from the node clock (use_sim_time, bag replay),
every stamp from message headers.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import replace

import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

from lingnav_core.camera import Intrinsics
from lingnav_ros import navigator_params as np_params
from lingnav_ros.control.types import Command
from lingnav_ros.mission.target import goal_for_frame
from lingnav_ros.nodes import node_cli
from lingnav_ros.nodes.lifecycle import (
    begin_leaving,
    close_node,
    is_ending,
    spin_until_shutdown,
    start_node,
    watch_for_shutdown,
)
from lingnav_ros.nodes.navigator import factories, mount_check, settings, status_marker, wiring
from lingnav_ros.nodes.navigator.action import NavigateCompanion
from lingnav_ros.nodes.navigator.control import ControlLoop
from lingnav_ros.nodes.navigator.diagnosis_feed import DiagnosisFeed
from lingnav_ros.nodes.navigator.fleet import FleetLink
from lingnav_ros.nodes.navigator.object_service import ClearObjectsService
from lingnav_ros.nodes.navigator.obstacle_memory import MapMemory
from lingnav_ros.nodes.navigator.sensors import SensorIntake
from lingnav_ros.nodes.navigator.server_calls import ServerCalls
from lingnav_ros.nodes.navigator.state import NavigatorState, NavigatorStats, NodeTime
from lingnav_ros.nodes.navigator.status import StatusReporter
from lingnav_ros.nodes.navigator.views import PlanViews
from lingnav_ros.nodes.spinning import stop_lanes
from lingnav_ros.perception.extrinsics import MountProvider
from lingnav_ros.perception.odom_buffer import OdomBuffer
from lingnav_ros.perception.rgbd_frame import RgbdFrame
from lingnav_ros.safety.collision import CollisionMonitor
from lingnav_ros.safety.gate import CommandGate
from lingnav_ros.safety.watchdog import Watchdog

NODE_NAME = np_params.NODE_NAME


class NavigatorNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self.p = factories.declare_parameters(self)  # validated once, here
        s = self.settings = settings.from_params(self.p)
        log, time = self.get_logger(), NodeTime(self.get_clock())
        self.time = time
        self.state = NavigatorState.for_outage_timeout(s.server_outage_timeout_s)

        # --- callback groups: they keep the node safe in any executor; main() runs it on one
        # executor thread with the slow calls on worker lanes (see lingnav_ros.nodes.spinning) ---
        self.cb_control = MutuallyExclusiveCallbackGroup()
        self.cb_camera = MutuallyExclusiveCallbackGroup()
        self.cb_odom = MutuallyExclusiveCallbackGroup()
        self.cb_misc = ReentrantCallbackGroup()
        self.pubs = wiring.make_publishers(self, s.wiring, s.map.enabled)

        # --- logic ---
        # One map for obstacles and the mission's dead-end memory (visited cells, free distance).
        self.memory = MapMemory(s.map, time, log, self.pubs.local_map)
        self.mission = factories.make_mission(s, self.memory)
        self.watchdog = Watchdog(s.watchdog)
        self.collision = CollisionMonitor(s.collision)
        self.gate = CommandGate()
        self.odom = OdomBuffer(history_s=s.odom_buffer_s)
        m = s.mount
        self.mounts = MountProvider(m.fallback, node=self, base_frame=m.base_frame, camera_frame=m.camera_frame,
                                    use_tf=m.use_tf)

        # --- clients ---
        self.s2 = factories.make_s2_client(s.s2)
        s2_health_client = factories.make_s2_client(s.s2, for_health=True)
        # A planner that cannot start (mode B: missing checkpoint, absent CUDA device) fails the
        # start with the reason: a navigator that can never plan must not look alive.
        self.planner = factories.make_planner(s.planner, self.mounts.fallback)
        s1_health_client = factories.make_s1_health_client(s.planner)
        if self.p.recorded_answers_bag:  # offline replay: the bag answers, no server is called
            self.s2, self.planner = factories.make_recorded_clients(self.p.recorded_answers_bag)
            s2_health_client, s1_health_client = self.s2, self.planner

        # --- parts, each with what it uses, then the ROS surface that calls them ---
        st = self.state
        self.feed = DiagnosisFeed.create(self, s.map.odom_frame)
        self.sensors = SensorIntake(s.sensors, st, time, log, self.odom, self.mounts, self.memory, self.mission,
                                    self.feed.stages)
        self.control = ControlLoop(s.control, st, time, log, self.mission, self.odom, self.watchdog, s.limits,
                                   self.collision, self.memory, self.gate, self.pubs.cmd_vel, self.feed)
        self.views = PlanViews(s.map.odom_frame, self.mission, self.pubs.views)
        self.calls = ServerCalls(st, time, log, self.mission, self.s2, self.planner, s.planner.remote,
                                 s2_health_client, s1_health_client, self.memory, self.views, self.feed,
                                 s.wiring.planning_period_s)
        self.sync = wiring.subscribe(self, s.wiring, self.sensors, self.control)
        self.mount_check = mount_check.attach(self, mount_check.MountCheckSettings.from_params(self.p), st,
                                              self.mounts)
        self.reporter = StatusReporter(s.status, NODE_NAME, st, time, self.mission, self.sync.backend, self.mounts,
                                       self.pubs.status, self.pubs.diagnostics, self.mount_check)
        self.status_marker = status_marker.attach(self, self.reporter, self.odom, s.map.odom_frame,
                                                  s.wiring.status_period_s)
        self.lanes = wiring.start_timers(self, s.wiring, self.control, self.calls, self.reporter, self.memory)
        self.fleet = FleetLink(self, s.fleet, self.odom, self.memory, time, log, wiring.sensor_qos())
        self.clear_objects = ClearObjectsService(self, self.mission.objects, self.cb_misc)
        self.companion = NavigateCompanion(s.action, self.get_name(), self.get_namespace(), self.context, time,
                                           self.mission, self.gate, self.reporter.status_msg)
        self.action_node = self.companion.action_node
        p = self.p
        self.get_logger().info(
            f"{NODE_NAME}: s1_mode={p.s1_mode} S2 {p.s2_host}:{p.s2_port} rgb={s.wiring.topics.rgb} "
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
        stop_lanes(getattr(self, "lanes", []))
        if getattr(self, "companion", None) is not None:
            self.companion.destroy()
        super().destroy_node()

    # ------------------------------------------------------------------ for tests, bench and main()
    def now_s(self) -> float:
        return self.time.now_s()

    @property
    def stats(self) -> NavigatorStats:
        return self.state.stats

    @property
    def latest_frame(self) -> RgbdFrame | None:
        return self.state.latest_frame

    @property
    def camera_info(self) -> Intrinsics | None:
        return self.state.camera_info

    @property
    def path_pub(self):
        return self.pubs.views.path

    @property
    def debug_pub(self):
        return self.pubs.views.debug_image

    def status_msg(self):
        return self.reporter.status_msg()

    def publish_cmd(self, cmd: Command) -> None:
        self.control.publish_cmd(cmd)

    def goal_in_latest_frame(self):
        frame = self.frame_copy()
        t = self.mission.target
        return None if frame is None or t is None else goal_for_frame(t, frame)

    def frame_copy(self) -> RgbdFrame | None:
        with self.state.lock:
            frame = self.state.latest_frame
            return None if frame is None else replace(frame)


def main(args=None) -> int:
    """Exit 0 on Ctrl-C or an external shutdown; 1 with one clear line when the start fails."""
    if node_cli.info_requested("lingnav-navigator", __doc__, args, "docs/parameters.md, or `ros2 param describe "
                               "/lingnav_navigator NAME` on a running robot"):
        return 0
    node, exit_code = start_node(NavigatorNode, args, (factories.StartError, np_params.ParamError),
                                 f"{NODE_NAME}: cannot start", 1)
    if node is None:
        return exit_code
    watch_for_shutdown(node.context)
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
        begin_leaving()
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
