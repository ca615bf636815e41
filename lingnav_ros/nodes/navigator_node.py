"""`lingnav_navigator`: the robot-side node, thin over lingnav_ros.mission/perception/safety.

Threads: the control timer has a callback group of its own and the S2 and S1 HTTP calls run in
other groups of a MultiThreadedExecutor, so a VLM answer that takes seconds never delays a
control tick. Every time comes from the node clock (use_sim_time, bag replay), every stamp from
message headers.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, replace

import numpy as np
import rclpy
import requests
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, PoseStamped, Twist, TwistStamped
from lingnav_msgs.action import Navigate
from lingnav_msgs.msg import NavStatus, S2Result, S2Task, TrajectoryCandidates
from nav_msgs.msg import Odometry, Path
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Bool, Header, String
from visualization_msgs.msg import Marker, MarkerArray

from lingnav_ros import navigator_params as np_params
from lingnav_ros.control.limits import VelocityLimits
from lingnav_ros.control.mpc import MpcParams, MpcTracker
from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.mission.mission import Mission, MissionConfig
from lingnav_ros.mission.moves import ControlPrimitives
from lingnav_ros.mission.states import MissionState, Reason
from lingnav_ros.mission.target import goal_for_frame
from lingnav_ros.nodes.spinning import WorkerLane
from lingnav_ros.perception.debug_view import draw_debug, project_path, value_colour
from lingnav_ros.perception.extrinsics import MountProvider
from lingnav_ros.perception.frame import RgbdFrame
from lingnav_ros.perception.images import (
    ImageEncodingError,
    depth_to_metres,
    match_depth_to_rgb,
    rgb_from_msg,
    rgb_to_image_fields,
)
from lingnav_ros.perception.odom_buffer import OdomBuffer, OdomSample, yaw_from_quaternion
from lingnav_ros.perception.sync import make_rgbd_sync, stamp_to_s
from lingnav_ros.safety.collision import (
    CollisionConfig,
    CollisionMonitor,
    obstacles_from_depth,
    obstacles_to_odom,
    rollout,
)
from lingnav_ros.safety.gate import CommandGate
from lingnav_ros.safety.limiter import limit_command
from lingnav_ros.safety.watchdog import Watchdog, WatchdogConfig
from s1_server.camera import CameraMount, Intrinsics
from s1_server.plan import PixelGoal, S1Error, S1Unavailable

NODE_NAME = np_params.NODE_NAME


def _ros_time(seconds: float):
    from builtin_interfaces.msg import Time

    sec = math.floor(seconds)
    return Time(sec=int(sec), nanosec=int(round((seconds - sec) * 1e9)) % 1_000_000_000)


def _nan_if_none(x: float | None) -> float:
    return math.nan if x is None else float(x)


@dataclass
class _Rates:
    """Event counter over a sliding window, for diagnostics."""

    window_s: float = 5.0

    def __post_init__(self) -> None:
        self.times: deque[float] = deque(maxlen=2000)

    def tick(self, t: float) -> None:
        self.times.append(t)

    def hz(self, now: float) -> float:
        recent = [t for t in self.times if now - t <= self.window_s]
        return len(recent) / self.window_s if recent else 0.0


class NavigatorStats:
    """Measurements the diagnostics and bench/control_loop.py read."""

    def __init__(self) -> None:
        self.control_wall_times: deque[float] = deque(maxlen=20000)
        self.control_compute_s: deque[float] = deque(maxlen=20000)
        self.plan_to_cmd_latency_s: deque[float] = deque(maxlen=2000)
        self.s1_wall_s: deque[float] = deque(maxlen=2000)
        self.s2_wall_s: deque[float] = deque(maxlen=2000)
        self.frames = _Rates()
        self.odom = _Rates()
        self.cmds_published = 0


class NavigatorNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self.p = self._declare_parameters()
        p = self.p
        self.stats = NavigatorStats()
        self._lock = threading.Lock()

        # --- callback groups: they keep the node safe in any executor; main() runs it on one
        # executor thread with the slow calls on worker lanes (see lingnav_ros.nodes.spinning) ---
        self._cb_control = MutuallyExclusiveCallbackGroup()
        self._cb_camera = MutuallyExclusiveCallbackGroup()
        self._cb_odom = MutuallyExclusiveCallbackGroup()
        self._cb_misc = ReentrantCallbackGroup()

        # --- logic ---
        self.limits = VelocityLimits(v_max_mps=p.v_max_mps, v_min_mps=p.v_min_mps, w_max_radps=p.w_max_radps,
                                     a_max_mps2=p.a_max_mps2, alpha_max_radps2=p.alpha_max_radps2)
        tracker = MpcTracker(self._mpc_params(), self.limits)
        self.mission = Mission(MissionConfig.from_params(p), tracker, ControlPrimitives(
            self.limits, p.turn_tolerance_rad, p.move_tolerance_m, reverse_mps=p.recovery_reverse_mps))
        self.watchdog = Watchdog(WatchdogConfig(p.odom_timeout_s, p.depth_timeout_s, p.max_plan_age_s))
        self.collision_cfg = CollisionConfig(
            robot_radius_m=p.robot_radius_m, stop_distance_m=p.collision_stop_distance_m,
            slowdown_distance_m=p.collision_slowdown_distance_m, slowdown_ratio=p.collision_slowdown_ratio,
            min_height_m=p.collision_min_height_m, max_height_m=p.collision_max_height_m,
            depth_stride=p.collision_depth_stride, target_clearance_m=p.target_clearance_m)
        self.collision = CollisionMonitor(self.collision_cfg)
        self.gate = CommandGate()
        self.odom = OdomBuffer(history_s=p.odom_buffer_s)
        self.fallback_intrinsics = Intrinsics(p.fx, p.fy, p.cx, p.cy, p.image_width, p.image_height)
        self.camera_info: Intrinsics | None = None
        self.mounts = MountProvider(CameraMount(p.camera_height_m, p.camera_pitch_rad, p.camera_x_m, p.camera_y_m),
                                    node=self, base_frame=p.base_frame, camera_frame=p.camera_frame,
                                    use_tf=p.use_tf)

        # --- shared state (guarded by self._lock) ---
        self.latest_frame: RgbdFrame | None = None
        self.obstacles_odom = np.zeros((0, 2))
        self.depth_rx_s: float | None = None
        self.odom_rx_s: float | None = None
        self.sensor_error = ""
        self.hold_reason = ""
        self.last_cmd = Command(0.0, 0.0)
        self.last_control_s: float | None = None
        self._frame_seq = 0
        self._pending_plan_stamp: float | None = None
        self._s1_last_stamp: float | None = None
        self._s1_episode = -1
        self._s1_error = ""
        self._s2_error = ""
        self._s2_health = "unknown"
        self._s1_health = "unknown"
        self._instruction_started = not p.initial_instruction
        self._goal_lock = threading.Lock()
        self._last_published_decision = None

        # --- clients ---
        self.s2 = self._make_s2_client()
        self._s2_health_client = self._make_s2_client(for_health=True)
        self.planner = None
        self._s1_health_client = None
        self.planner_error = ""
        try:
            self.planner = self._make_planner()
            self._s1_health_client = self._make_s1_health_client()
        except Exception as exc:  # a missing checkpoint must show on the status, not kill the node
            self.planner_error = f"S1 planner could not start: {exc}"
            self.get_logger().error(self.planner_error)

        # --- ROS interfaces ---
        self._make_interfaces()
        self.get_logger().info(
            f"{NODE_NAME}: s1_mode={p.s1_mode} S2 {p.s2_host}:{p.s2_port} rgb={self._rgb_topic()} "
            f"depth={p.depth_topic} sync={self.sync.backend} camera QoS={p.camera_qos_reliability}")

    # ------------------------------------------------------------------ set-up
    def _declare_parameters(self) -> np_params.NavigatorParams:
        values = {}
        for spec in np_params.param_specs():
            desc = spec.description + (f" ({' | '.join(spec.choices)})" if spec.choices else "")
            self.declare_parameter(spec.name, spec.default,
                                   ParameterDescriptor(description=desc, dynamic_typing=True))
            values[spec.name] = self.get_parameter(spec.name).value
        return np_params.from_dict(values)

    def _mpc_params(self) -> MpcParams:
        fields = getattr(MpcParams, "__dataclass_fields__", {})
        wanted = {"horizon": self.p.mpc_horizon_steps, "n": self.p.mpc_horizon_steps,
                  "horizon_steps": self.p.mpc_horizon_steps, "dt_s": self.p.mpc_dt_s, "dt": self.p.mpc_dt_s,
                  "goal_tolerance_m": self.p.goal_tolerance_m,
                  "control_period_s": 1.0 / self.p.control_rate_hz}
        return MpcParams(**{k: v for k, v in wanted.items() if k in fields})

    def _make_s2_client(self, for_health: bool = False):
        from s2_server.client import S2Client

        p = self.p
        timeout = (min(p.s2_connect_timeout_s, 0.5), 1.0) if for_health else (p.s2_connect_timeout_s, p.s2_timeout_s)
        return S2Client(p.s2_host, p.s2_port, timeout_s=timeout, retries=0 if for_health else p.s2_retries,
                        token=p.s2_token or None, keep_alive=not for_health)

    def _make_s1_health_client(self):
        """Mode A only: the remote planner's liveness is probed like S2's (a local one cannot vanish)."""
        if self.p.s1_mode != "A":
            return None
        from s1_server.client import S1Client

        return S1Client(self.p.s1_host, self.p.s1_port, timeout_s=min(self.p.s1_timeout_s, 0.5), keep_alive=False)

    def _make_planner(self):
        p = self.p
        if p.s1_mode == "A":
            from s1_server.client import S1Client

            return S1Client(p.s1_host, p.s1_port, p.s1_timeout_s, intrinsics=None,
                            mount=self.mounts.fallback, stop_threshold=p.s1_stop_threshold)
        if p.s1_mode == "B":
            if not p.s1_checkpoint:
                raise S1Error("s1_mode B needs s1_checkpoint")
            from s1_server.navdp_planner import NavDPPlanner

            return NavDPPlanner(p.s1_checkpoint, device=p.s1_device, half=p.s1_half,
                                stop_threshold=p.s1_stop_threshold)
        from s1_server.geometric import GeometricParams, GeometricPlanner

        return GeometricPlanner(GeometricParams(robot_radius_m=p.robot_radius_m, stop_threshold=p.s1_stop_threshold))

    def _camera_qos(self) -> QoSProfile:
        rel = (ReliabilityPolicy.BEST_EFFORT if self.p.camera_qos_reliability == "best_effort"
               else ReliabilityPolicy.RELIABLE)
        return QoSProfile(depth=self.p.camera_qos_depth, reliability=rel, history=HistoryPolicy.KEEP_LAST,
                          durability=DurabilityPolicy.VOLATILE)

    def _rgb_topic(self) -> str:
        return self.p.rgb_compressed_topic if self.p.rgb_transport == "compressed" else self.p.rgb_topic

    def _make_interfaces(self) -> None:
        p = self.p
        cam_qos = self._camera_qos()
        sensor_qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST)
        cmd_qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST)
        rgb_type = CompressedImage if p.rgb_transport == "compressed" else Image
        self.sync = make_rgbd_sync(self, rgb_type=rgb_type, rgb_topic=self._rgb_topic(), depth_type=Image,
                                   depth_topic=p.depth_topic, qos=cam_qos, queue_size=p.sync_queue_size,
                                   slop_s=p.sync_slop_s, callback=self._on_rgbd, callback_group=self._cb_camera)
        self.create_subscription(CameraInfo, p.camera_info_topic, self._on_camera_info, cam_qos,
                                 callback_group=self._cb_odom)
        self.create_subscription(Odometry, p.odom_topic, self._on_odom, sensor_qos, callback_group=self._cb_odom)
        self.create_subscription(String, p.instruction_topic, self._on_instruction, cmd_qos,
                                 callback_group=self._cb_misc)
        self.create_subscription(Bool, p.estop_topic, self._on_estop, cmd_qos, callback_group=self._cb_misc)

        self.cmd_pub = self.create_publisher(TwistStamped if p.cmd_vel_stamped else Twist, p.cmd_vel_topic, cmd_qos)
        self.status_pub = self.create_publisher(NavStatus, p.status_topic, cmd_qos)
        self.s2_pub = self.create_publisher(S2Result, p.s2_result_topic, cmd_qos)
        self.diag_pub = self.create_publisher(DiagnosticArray, p.diagnostics_topic, 10)
        self.path_pub = self.create_publisher(Path, p.plan_topic, 10)
        self.cand_pub = self.create_publisher(TrajectoryCandidates, p.candidates_topic, 10)
        self.marker_pub = self.create_publisher(MarkerArray, p.candidate_markers_topic, 10)
        self.target_pub = self.create_publisher(Marker, p.target_marker_topic, 10)
        self.debug_pub = self.create_publisher(Image, p.debug_image_topic, 5)

        self.create_timer(1.0 / p.control_rate_hz, self._on_control, callback_group=self._cb_control)
        # The slow calls run on their own threads; timers on the node clock only kick them.
        work = {"s2": (self._s2_tick, 0.1), "s1": (self._s1_tick, p.planning_period_s),
                "health": (self._health_tick, 0.2)}
        self.lanes = [WorkerLane(name, fn, self._lane_failed) for name, (fn, _) in work.items()]
        for lane, (_, period_s) in zip(self.lanes, work.values()):
            self.create_timer(period_s, lane.kick, callback_group=self._cb_misc)
        self.create_timer(1.0 / p.status_rate_hz, self._publish_status, callback_group=self._cb_misc)
        self.create_timer(p.diagnostics_period_s, self._publish_diagnostics, callback_group=self._cb_misc)
        # A companion node in the same namespace carries the action server: its execute callback
        # waits for the mission to end, which must not hold the executor thread of the sensors.
        self.action_node = Node(f"{NODE_NAME}_action", namespace=self.get_namespace(), context=self.context)
        self.action_server = ActionServer(
            self.action_node, Navigate, p.navigate_action, execute_callback=self._execute_goal,
            goal_callback=lambda _goal: GoalResponse.ACCEPT,
            cancel_callback=lambda _handle: CancelResponse.ACCEPT, callback_group=self._cb_misc)

    def executors(self) -> list:
        """[executor for this node, executor for the action node], each holding its node."""
        main = SingleThreadedExecutor(context=self.context)
        main.add_node(self)
        actions = MultiThreadedExecutor(num_threads=3, context=self.context)
        actions.add_node(self.action_node)
        return [main, actions]

    def _lane_failed(self, exc: BaseException) -> None:
        self.get_logger().error(f"worker lane failed: {type(exc).__name__}: {exc}")

    def destroy_node(self) -> None:
        for lane in getattr(self, "lanes", []):
            lane.stop()
        if getattr(self, "action_node", None) is not None:
            self.action_server.destroy()
            self.action_node.destroy_node()
        super().destroy_node()

    # ------------------------------------------------------------------ time
    def now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _stamp_or_now(self, stamp) -> float:
        t = stamp_to_s(stamp)
        return t if t > 0.0 else self.now_s()

    # ------------------------------------------------------------------ sensors
    def _on_odom(self, msg: Odometry) -> None:
        q = msg.pose.pose.orientation
        pose = Pose2D(msg.pose.pose.position.x, msg.pose.pose.position.y, yaw_from_quaternion(q.x, q.y, q.z, q.w))
        self.odom.add(OdomSample(self._stamp_or_now(msg.header.stamp), pose, msg.twist.twist.linear.x,
                                 msg.twist.twist.angular.z))
        now = self.now_s()
        with self._lock:
            self.odom_rx_s = now
        self.stats.odom.tick(now)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        k = list(msg.k)
        if len(k) == 9 and k[0] > 0 and k[4] > 0 and msg.width > 0 and msg.height > 0:
            self.camera_info = Intrinsics(k[0], k[4], k[2], k[5], int(msg.width), int(msg.height))

    def _intrinsics_for(self, width: int, height: int) -> Intrinsics:
        base = self.fallback_intrinsics
        if self.p.use_camera_info and self.camera_info is not None:
            base = self.camera_info
        if (base.width, base.height) != (width, height):
            base = base.scaled_to(width, height)  # always the received size (field note 4)
        return base

    def _on_rgbd(self, rgb_msg, depth_msg) -> None:
        try:
            rgb = rgb_from_msg(rgb_msg)
            depth = depth_to_metres(depth_msg, self.p.depth_encoding)
        except ImageEncodingError as exc:
            with self._lock:
                self.sensor_error = f"sensor error: {exc}"
            self.get_logger().error(self.sensor_error, throttle_duration_sec=5.0)
            return
        depth = match_depth_to_rgb(depth, rgb.shape)
        stamp = self._stamp_or_now(rgb_msg.header.stamp)
        intr = self._intrinsics_for(rgb.shape[1], rgb.shape[0])
        mount = self.mounts.mount()
        pose = self.odom.pose_at(stamp)
        depth_stamp = self._stamp_or_now(depth_msg.header.stamp)
        pose_depth = self.odom.pose_at(depth_stamp) or pose
        obstacles = np.zeros((0, 2))
        if pose_depth is not None and self.mission.active:  # idle: no need to pay for the point cloud
            obstacles = obstacles_to_odom(obstacles_from_depth(depth, intr, mount, self.collision_cfg), pose_depth)
        now = self.now_s()
        with self._lock:
            self._frame_seq += 1
            self.latest_frame = RgbdFrame(stamp, rgb, depth, intr, mount, pose, rgb_msg.header.frame_id,
                                          self._frame_seq)
            if pose_depth is not None:
                self.obstacles_odom = obstacles
                self.depth_rx_s = now
            self.sensor_error = "" if pose is not None else "no odometry at the image stamp"
        self.stats.frames.tick(now)

    # ------------------------------------------------------------------ commands in
    def _on_instruction(self, msg: String) -> None:
        text = msg.data.strip()
        if not text:
            return
        if self.mission.start(text, self.now_s()):
            self.get_logger().info(f"instruction: '{text}' (episode {self.mission.episode})")
        else:
            self.get_logger().warning(f"instruction '{text}' refused: e-stop engaged")

    def _on_estop(self, msg: Bool) -> None:
        engaged = bool(msg.data)
        if engaged == self.mission.estop:
            return
        self.mission.set_estop(engaged, self.now_s())
        if engaged:
            self._publish_cmd(Command(0.0, 0.0))  # at once, not at the next control tick
            self.gate.force_zero()
            self.get_logger().warning("e-stop engaged")
        else:
            self.get_logger().info("e-stop released (robot stays stopped)")

    # ------------------------------------------------------------------ control loop
    def _on_control(self) -> None:
        t_wall = time.perf_counter()
        self.stats.control_wall_times.append(t_wall)
        now = self.now_s()
        if not self._instruction_started and self.latest_frame is not None and self.odom.latest() is not None:
            self._instruction_started = True
            self.mission.start(self.p.initial_instruction, now)
        dt = (1.0 / self.p.control_rate_hz if self.last_control_s is None
              else min(max(now - self.last_control_s, 0.0), 0.5))
        self.last_control_s = now
        latest = self.odom.latest()
        if latest is None:
            out_active = self.mission.active
            cmd = Command(0.0, 0.0)
            self.hold_reason = "odometry never received" if out_active else ""
        else:
            pose = self.odom.pose_at(now) or latest.pose
            out = self.mission.control(now, pose, self.last_cmd, dt)
            out_active = out.active
            cmd = self._safe_command(now, pose, out, dt) if out.active else Command(0.0, 0.0)
            if out.active and out.source == "tracker" and out.plan_stamp_s is not None \
                    and out.plan_stamp_s == self._pending_plan_stamp:
                # first command computed from the plan of this image
                self.stats.plan_to_cmd_latency_s.append(now - out.plan_stamp_s)
                self._pending_plan_stamp = None
        to_send = self.gate.filter(out_active, cmd)
        if to_send is not None:
            self._publish_cmd(to_send)
        self.stats.control_compute_s.append(time.perf_counter() - t_wall)

    def _safe_command(self, now: float, pose: Pose2D, out, dt: float) -> Command:
        with self._lock:
            odom_rx, depth_rx, obstacles = self.odom_rx_s, self.depth_rx_s, self.obstacles_odom
        verdict = self.watchdog.check(now, odom_rx, depth_rx, plan_stamp_s=out.plan_stamp_s,
                                      needs_plan=out.source == "tracker", needs_depth=out.source != "hold")
        if not verdict.ok:
            self.hold_reason = verdict.reason
            return Command(0.0, 0.0)
        cmd = limit_command(out.command, self.last_cmd, dt, self.limits, allow_reverse=out.reverse)
        predicted = out.predicted if out.predicted is not None and len(out.predicted) > 1 else None
        if predicted is None:
            predicted = rollout(pose, cmd, self.p.collision_predict_time_s)
        else:
            predicted = np.concatenate([[[pose.x_m, pose.y_m, pose.theta_rad]], np.asarray(predicted)[:, :3]])
        target = self.mission.target
        collision = self.collision.check(predicted, obstacles, target.xy if target is not None else None)
        self.hold_reason = collision.reason
        return collision.apply(cmd)

    def _publish_cmd(self, cmd: Command) -> None:
        twist = Twist()
        twist.linear.x = float(cmd.v_mps)
        twist.angular.z = float(cmd.w_radps)
        if self.p.cmd_vel_stamped:
            msg = TwistStamped()
            msg.header.stamp = self.get_clock().now().to_msg()
            msg.header.frame_id = self.p.base_frame
            msg.twist = twist
            self.cmd_pub.publish(msg)
        else:
            self.cmd_pub.publish(twist)
        self.last_cmd = cmd
        self.stats.cmds_published += 1

    # ------------------------------------------------------------------ S2
    def _s2_tick(self) -> None:
        with self._lock:
            frame = self.latest_frame
        if frame is None or frame.pose is None:
            return
        req = self.mission.s2_request(self.now_s(), frame.stamp_s)
        if req is None:
            return
        from s2_server.client import S2BadRequest, S2Unavailable

        t0 = time.perf_counter()
        try:
            decision = self.s2.step(frame.rgb, req.instruction, req.context)
        except S2Unavailable as exc:
            self._s2_error = str(exc)
            self.mission.on_s2_error(req, exc, self.now_s(), unreachable=True)
            self.get_logger().error(f"S2 unreachable: {exc}")
            return
        except S2BadRequest as exc:
            self._s2_error = str(exc)
            self.mission.on_s2_error(req, exc, self.now_s(), unreachable=False)
            self.get_logger().error(f"S2 rejected the request: {exc}")
            return
        except Exception as exc:  # a malformed answer is a server fault, never a node crash
            self._s2_error = f"{type(exc).__name__}: {exc}"
            self.mission.on_s2_error(req, exc, self.now_s(), unreachable=False)
            self.get_logger().error(f"S2 call failed: {self._s2_error}")
            return
        latency = time.perf_counter() - t0
        self.stats.s2_wall_s.append(latency)
        self._s2_error = ""
        self.mission.on_s2_decision(req, decision, frame, self.now_s(), latency_s=latency)
        self._publish_s2_result(decision, frame, req.instruction, latency)
        self.get_logger().info(f"S2 ({latency:.2f} s): kind={decision.kind} target={decision.target} "
                               f"visible={decision.visible} point_2d_pixel={decision.point_2d_pixel} "
                               f"nav='{decision.navigation}' -> {self.mission.state.name}")

    def _health_tick(self) -> None:
        """Notice a dead S2 or S1 server within a fraction of a second, not at the next query.

        Between queries the tracker drives on the last plan; a server that died meanwhile would
        otherwise only show up when the next S1/S2 call fails, which on a loaded machine can be
        a second later. Probing /health every 0.2 s bounds that.
        """
        if not self.mission.active or self.mission.state == MissionState.QUERYING:
            return
        from s2_server.client import S2Unavailable

        self._s2_health = self._probe(self._s2_health_client, S2Unavailable, Reason.S2_UNREACHABLE)
        if self._s1_health_client is not None and self._s2_health != "unreachable":
            self._s1_health = self._probe(self._s1_health_client, S1Unavailable, Reason.S1_UNREACHABLE)

    def _probe(self, client, unavailable: type, reason: str) -> str:
        """-> "ok" | "busy" | "unreachable" | "error"; only a server that is gone fails the mission.

        A refused or reset connection (or a 5xx) is a dead server. A /health that times out
        belongs to a server busy with a plan or a generate call: the real call's own timeout
        decides about that one, so a loaded machine does not abort good missions.
        """
        try:
            client.health()
            return "ok"
        except unavailable as exc:
            if isinstance(exc.__cause__, requests.exceptions.ReadTimeout):
                return "busy"
            self.mission.fail(f"{reason}: {exc}", self.now_s())
            return "unreachable"
        except Exception as exc:
            self.get_logger().warning(f"health probe failed: {exc}", throttle_duration_sec=5.0)
            return "error"

    def _publish_s2_result(self, d, frame: RgbdFrame, instruction: str, latency: float) -> None:
        msg = S2Result()
        msg.header = Header(stamp=_ros_time(frame.stamp_s), frame_id=frame.frame_id)
        msg.instruction = instruction
        msg.target = d.target or ""
        msg.visible = bool(d.visible)
        u, v = d.point_2d_pixel if d.point_2d_pixel is not None else (-1, -1)
        msg.pixel_u, msg.pixel_v = int(u), int(v)
        nx, ny = d.point_2d_norm if d.point_2d_norm is not None else (math.nan, math.nan)
        msg.norm_x, msg.norm_y = float(nx), float(ny)
        msg.navigation = d.navigation or ""
        for t in d.tasks or []:
            task = S2Task(kind=S2Task.KIND_STOP if t.is_stop else t.task, target=t.target or "",
                          symbol="" if t.is_stop else (t.action or ""), count=int(t.number or 0))
            pu, pv = t.point_2d_pixel if t.point_2d_pixel is not None else (-1, -1)
            task.pixel_u, task.pixel_v = int(pu), int(pv)
            task.visible = t.point_2d_pixel is not None
            msg.tasks.append(task)
        msg.model = d.model or ""
        msg.latency_s = float(latency)
        self.s2_pub.publish(msg)
        self._last_published_decision = d

    # ------------------------------------------------------------------ S1
    def _s1_tick(self) -> None:
        if self.planner is None:
            if self.mission.state == MissionState.APPROACHING:
                self.mission.fail(f"{Reason.S1_UNREACHABLE}: {self.planner_error}", self.now_s())
            return
        if self._s1_episode != self.mission.episode:
            self._s1_episode = self.mission.episode
            try:
                self.planner.reset()
            except S1Error as exc:
                self.get_logger().warning(f"S1 reset failed: {exc}")
        with self._lock:
            frame = self.latest_frame
        if frame is None or frame.stamp_s == self._s1_last_stamp:
            return
        req = self.mission.s1_request(frame)
        if req is None:
            return
        self._s1_last_stamp = frame.stamp_s
        t0 = time.perf_counter()
        try:
            plan = self.planner.plan(frame.rgb, frame.depth_m, frame.intrinsics, req.goal, frame.mount)
        except S1Error as exc:
            self._s1_error = str(exc)
            self.mission.on_s1_error(req, exc, self.now_s())
            self.get_logger().error(f"S1 {'unreachable' if isinstance(exc, S1Unavailable) else 'error'}: {exc}")
            return
        except Exception as exc:  # a planner bug stops the robot with a reason, it does not crash
            self._s1_error = f"{type(exc).__name__}: {exc}"
            self.mission.on_s1_error(req, S1Error(self._s1_error), self.now_s())
            self.get_logger().error(f"S1 failed: {self._s1_error}")
            return
        self.stats.s1_wall_s.append(time.perf_counter() - t0)
        self._s1_error = ""
        self.mission.on_s1_plan(req, plan, frame, self.now_s())
        if not plan.no_safe_path:
            self._pending_plan_stamp = frame.stamp_s
        self._publish_plan_views(frame, req.goal)

    # ------------------------------------------------------------------ visualisation
    def _path_msg(self, path_odom: np.ndarray, header: Header) -> Path:
        msg = Path(header=header)
        for x, y, yaw in np.asarray(path_odom).reshape(-1, 3):
            ps = PoseStamped(header=header)
            ps.pose.position.x, ps.pose.position.y = float(x), float(y)
            ps.pose.orientation.z, ps.pose.orientation.w = math.sin(yaw / 2.0), math.cos(yaw / 2.0)
            msg.poses.append(ps)
        return msg

    def _publish_plan_views(self, frame: RgbdFrame, goal) -> None:
        record = self.mission.plan_record
        if record is None:
            return
        header = Header(stamp=_ros_time(record.stamp_s), frame_id=self.p.odom_frame)
        plan = record.plan
        if self.path_pub.get_subscription_count() > 0 and len(record.path_odom):
            self.path_pub.publish(self._path_msg(record.path_odom, header))
        if self.cand_pub.get_subscription_count() > 0:
            msg = TrajectoryCandidates(header=header, values=[float(v) for v in plan.values],
                                       chosen_index=int(plan.chosen_index), no_safe_path=bool(plan.no_safe_path),
                                       backend=str(plan.backend))
            msg.candidates = [self._path_msg(c, header) for c in record.candidates_odom]
            self.cand_pub.publish(msg)
        if self.marker_pub.get_subscription_count() > 0:
            self.marker_pub.publish(self._candidate_markers(record, header))
        if self.target_pub.get_subscription_count() > 0 and self.mission.target is not None:
            t = self.mission.target
            m = Marker(header=Header(stamp=_ros_time(t.stamp_s), frame_id=self.p.odom_frame), ns="lingnav_target",
                       id=0, type=Marker.SPHERE, action=Marker.ADD)
            m.pose.position = Point(x=float(t.point_odom[0]), y=float(t.point_odom[1]), z=float(t.point_odom[2]))
            m.pose.orientation.w = 1.0
            m.scale.x = m.scale.y = m.scale.z = 0.2
            m.color.r, m.color.g, m.color.b, m.color.a = 1.0, 0.2, 0.8, 0.9
            self.target_pub.publish(m)
        if self.debug_pub.get_subscription_count() > 0 and frame.pose is not None:
            target_px = (goal.u, goal.v) if isinstance(goal, PixelGoal) else None
            plan_px = project_path(record.path_odom, frame.pose, frame.intrinsics, frame.mount)
            nav = getattr(self.mission.last_decision, "navigation", "") or ""
            img = draw_debug(frame.rgb, target_px, nav, plan_px, f"{self.mission.state.name} {self.mission.reason}")
            msg = Image(header=Header(stamp=_ros_time(frame.stamp_s), frame_id=frame.frame_id),
                        **rgb_to_image_fields(img))
            self.debug_pub.publish(msg)

    def _candidate_markers(self, record, header: Header) -> MarkerArray:
        arr = MarkerArray()
        clear = Marker(header=header, ns="lingnav_candidates", action=Marker.DELETEALL)
        arr.markers.append(clear)
        colours = value_colour(record.plan.values)
        for k, cand in enumerate(record.candidates_odom):
            m = Marker(header=header, ns="lingnav_candidates", id=k, type=Marker.LINE_STRIP, action=Marker.ADD)
            m.pose.orientation.w = 1.0
            chosen = k == record.plan.chosen_index
            m.scale.x = 0.04 if chosen else 0.015
            r, g, b, a = colours[k] if k < len(colours) else (0.5, 0.5, 0.5, 0.5)
            m.color.r, m.color.g, m.color.b, m.color.a = float(r), float(g), float(b), 1.0 if chosen else float(a)
            m.points = [Point(x=float(x), y=float(y), z=0.02) for x, y, _ in cand]
            arr.markers.append(m)
        return arr

    # ------------------------------------------------------------------ status, diagnostics
    def status_msg(self) -> NavStatus:
        now = self.now_s()
        st = self.mission.status(now)
        reason = st.reason
        if not reason and st.state not in (MissionState.IDLE,):
            reason = self.hold_reason
        with self._lock:
            sensor_error = self.sensor_error
        if sensor_error and not reason:
            reason = sensor_error
        if not reason and self.planner_error:
            reason = self.planner_error
        return NavStatus(header=Header(stamp=_ros_time(now), frame_id=self.p.odom_frame), state=int(st.state),
                         state_name=st.state.name, instruction=st.instruction, target=st.target, reason=reason,
                         distance_to_target_m=float(st.distance_to_target_m), s2_latency_s=float(st.s2_latency_s),
                         s1_latency_s=float(st.s1_latency_s), plan_age_s=float(st.plan_age_s),
                         s2_calls=int(st.s2_calls), s1_calls=int(st.s1_calls))

    def _publish_status(self) -> None:
        self.status_pub.publish(self.status_msg())

    def _publish_diagnostics(self) -> None:
        now = self.now_s()
        times = np.diff(np.asarray(self.stats.control_wall_times)[-200:])
        period = 1.0 / self.p.control_rate_hz
        jitter = np.abs(times - period) if times.size else np.zeros(1)
        st = self.mission.status(now)
        with self._lock:
            sensor_error = self.sensor_error

        def status(name, level, message, values):
            return DiagnosticStatus(level=level, name=f"{NODE_NAME}: {name}", message=message,
                                    hardware_id=NODE_NAME,
                                    values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])

        ok, warn, error = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR
        s1_lat = np.asarray(self.stats.s1_wall_s)
        s2_lat = np.asarray(self.stats.s2_wall_s)
        arr = DiagnosticArray(header=Header(stamp=_ros_time(now)))
        arr.status = [
            status("control", ok if times.size else warn, "running" if times.size else "no ticks yet", {
                "rate_hz": f"{1.0 / times.mean():.1f}" if times.size else "0",
                "jitter_p50_ms": f"{1e3 * np.percentile(jitter, 50):.2f}",
                "jitter_p99_ms": f"{1e3 * np.percentile(jitter, 99):.2f}",
                "compute_p99_ms": f"{1e3 * np.percentile(list(self.stats.control_compute_s)[-200:] or [0.0], 99):.2f}",
                "last_cmd": f"{self.last_cmd.v_mps:.3f} m/s {self.last_cmd.w_radps:.3f} rad/s",
                "hold_reason": self.hold_reason}),
            status("sensors", error if sensor_error else ok, sensor_error or "ok", {
                "rgbd_rate_hz": f"{self.stats.frames.hz(now):.1f}", "odom_rate_hz": f"{self.stats.odom.hz(now):.1f}",
                "sync": self.sync.backend, "camera_info": "yes" if self.camera_info else "fallback",
                "mount_source": self.mounts.source}),
            status("s2", error if self._s2_error else ok, self._s2_error or "ok", {
                "server": f"{self.p.s2_host}:{self.p.s2_port}", "health": self._s2_health, "calls": st.s2_calls,
                "latency_p50_s": f"{np.median(s2_lat):.3f}" if s2_lat.size else "nan"}),
            status("s1", error if (self._s1_error or self.planner_error) else ok,
                   self._s1_error or self.planner_error or "ok", {
                       "mode": self.p.s1_mode, "health": self._s1_health, "calls": st.s1_calls,
                       "latency_p50_s": f"{np.median(s1_lat):.3f}" if s1_lat.size else "nan",
                       "plan_to_cmd_p50_s": (f"{np.median(self.stats.plan_to_cmd_latency_s):.3f}"
                                             if self.stats.plan_to_cmd_latency_s else "nan")}),
            status("mission", error if st.state == MissionState.FAILED else ok, st.state.name, {
                "instruction": st.instruction, "reason": st.reason, "episode": st.episode}),
        ]
        self.diag_pub.publish(arr)

    # ------------------------------------------------------------------ action
    def _execute_goal(self, goal_handle):
        req = goal_handle.request
        now = self.now_s()
        result = Navigate.Result()
        if not self.mission.start(req.instruction, now, timeout_s=float(req.timeout_s)):
            result.success, result.final_state, result.reason = False, int(MissionState.ESTOP), Reason.ESTOP
            goal_handle.abort()
            return result
        episode = self.mission.episode
        feedback_period = 1.0 / self.p.status_rate_hz
        next_feedback = 0.0
        while rclpy.ok(context=self.context):
            if self.mission.episode != episode:
                result.success, result.final_state, result.reason = False, int(MissionState.STOPPED), Reason.PREEMPTED
                goal_handle.abort()
                return result
            if goal_handle.is_cancel_requested:
                self.mission.cancel(self.now_s())
                self.gate.force_zero()
                goal_handle.canceled()
                return self._fill_result(result)
            if not self.mission.active:
                self._fill_result(result)
                if result.success:
                    goal_handle.succeed()
                else:
                    goal_handle.abort()
                return result
            if time.monotonic() >= next_feedback:
                goal_handle.publish_feedback(Navigate.Feedback(status=self.status_msg()))
                next_feedback = time.monotonic() + feedback_period
            time.sleep(0.02)
        return self._fill_result(result)

    def _fill_result(self, result):
        st = self.mission.status(self.now_s())
        result.success = st.state == MissionState.ARRIVED
        result.final_state = int(st.state)
        result.reason = st.reason
        result.elapsed_s = float(st.elapsed_s)
        result.path_length_m = float(st.path_length_m)
        return result

    # ------------------------------------------------------------------ helpers for tests/bench
    def goal_in_latest_frame(self):
        with self._lock:
            frame = self.latest_frame
        t = self.mission.target
        return None if frame is None or t is None else goal_for_frame(t, frame)

    def frame_copy(self) -> RgbdFrame | None:
        with self._lock:
            return None if self.latest_frame is None else replace(self.latest_frame)


def main(args=None) -> None:
    rclpy.init(args=args)
    node = NavigatorNode()
    main_executor, action_executor = node.executors()
    threading.Thread(target=action_executor.spin, name="navigate-action", daemon=True).start()
    try:
        main_executor.spin()
    except KeyboardInterrupt:
        pass
    finally:
        try:
            node._publish_cmd(Command(0.0, 0.0))  # leave the robot standing
        except Exception:  # the context may already be gone on Ctrl-C
            pass
        for executor in (main_executor, action_executor):
            executor.shutdown()
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


if __name__ == "__main__":
    main()
