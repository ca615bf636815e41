"""Real pieces for the navigator's ROS tests: HTTP servers in threads, a synthetic RGB-D robot,
and a private rclpy graph running the navigator node."""
from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import rclpy
import uvicorn
from geometry_msgs.msg import Twist
from lingnav_msgs.msg import NavStatus
from nav_msgs.msg import Odometry
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Bool, String

from lingnav_http.serve import tcp_socket
from lingnav_ros import topics
from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.images import depth_to_image_fields, rgb_to_image_fields
from lingnav_ros.stamps import time_msg
from test.navigator_scene import Scene, integrate
from test.s2_fixtures import free_port


class ServerThread:
    """A uvicorn server on 127.0.0.1 in a background thread; stop() kills it, start() revives it
    on the same port (what a restarted service looks like to the robot)."""

    def __init__(self, app_factory) -> None:
        self.app_factory = app_factory
        self.port = free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ServerThread:
        sock = tcp_socket("127.0.0.1", self.port)  # TCP_NODELAY on its connections, as the servers
        config = uvicorn.Config(self.app_factory(), log_level="warning", timeout_graceful_shutdown=1,
                                timeout_keep_alive=1)
        self._server = uvicorn.Server(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(sock,), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20.0
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self._server.started, "server did not start"
        return self

    def _run(self, sock: socket.socket) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._server.serve(sockets=[sock]))
        finally:
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            sock.close()
            self._loop.close()

    def stop(self) -> None:
        """Like a killed process: listening socket closed and open connections reset at once."""
        server, loop = self._server, self._loop
        if server is None:
            return

        def _abort() -> None:
            for s in getattr(server, "servers", []):
                s.close()
            for conn in list(server.server_state.connections):
                transport = getattr(conn, "transport", None)
                if transport is not None:
                    transport.abort()
            server.should_exit = True

        loop.call_soon_threadsafe(_abort)
        self._thread.join(timeout=10.0)
        self._server = None


class SyntheticRobot(Node):
    """Unicycle base + pinhole RGB-D camera over a ray-cast scene, on real topics.

    Camera topics are best effort (as real drivers publish); all stamps come from this node's
    clock. `depth_encoding` picks 16UC1 millimetres or 32FC1 metres (or a wrong one)."""

    def __init__(self, context: Context, scene: Scene, pose: Pose2D, depth_encoding: str = "16UC1", *,
                 camera_period_s: float = 0.1, camera_reliability=ReliabilityPolicy.BEST_EFFORT) -> None:
        super().__init__("synthetic_robot", context=context)
        self.scene = scene
        self.pose = pose
        self.depth_encoding = depth_encoding
        self.cmd = Twist()
        self.cmds: list[tuple[float, float, float]] = []  # (monotonic time, v, w)
        self._lock = threading.Lock()
        cam_qos = QoSProfile(depth=5, reliability=camera_reliability, history=HistoryPolicy.KEEP_LAST)
        self.rgb_pub = self.create_publisher(Image, topics.RGB, cam_qos)
        self.depth_pub = self.create_publisher(Image, topics.DEPTH, cam_qos)
        self.info_pub = self.create_publisher(CameraInfo, topics.CAMERA_INFO, cam_qos)
        self.odom_pub = self.create_publisher(Odometry, topics.ODOM, 20)
        self.create_subscription(Twist, topics.CMD_VEL, self._on_cmd, 10)
        self._last = None
        # Fault hooks for the tests: stop a sensor (a dropout) or corrupt what it sends.
        self.odom_paused = False
        self.camera_paused = False
        self.mangle_odom = lambda msg: msg
        self.mangle_info = lambda msg: msg
        self.mangle_depth = lambda msg: msg
        self.last_camera_pub: float | None = None  # monotonic time of the last camera publish
        self.last_odom_pub: float | None = None
        self.create_timer(0.02, self._step)
        self.create_timer(camera_period_s, self._camera)

    def _on_cmd(self, msg: Twist) -> None:
        with self._lock:
            self.cmd = msg
            self.cmds.append((time.monotonic(), msg.linear.x, msg.angular.z))

    def _step(self) -> None:
        now = self.get_clock().now()
        t = now.nanoseconds * 1e-9
        with self._lock:
            if self._last is not None:
                self.pose = integrate(self.pose, self.cmd.linear.x, self.cmd.angular.z, t - self._last)
            self._last = t
            pose, cmd = self.pose, self.cmd
        odom = Odometry()
        odom.header.stamp = now.to_msg()
        odom.header.frame_id = topics.ODOM_FRAME
        odom.child_frame_id = topics.BASE_FRAME
        odom.pose.pose.position.x, odom.pose.pose.position.y = pose.x_m, pose.y_m
        odom.pose.pose.orientation.z = math.sin(pose.theta_rad / 2.0)
        odom.pose.pose.orientation.w = math.cos(pose.theta_rad / 2.0)
        odom.twist.twist.linear.x, odom.twist.twist.angular.z = cmd.linear.x, cmd.angular.z
        if not self.odom_paused:
            self.odom_pub.publish(self.mangle_odom(odom))
            self.last_odom_pub = time.monotonic()

    def _camera(self) -> None:
        if self.camera_paused:
            return
        now = self.get_clock().now()
        with self._lock:
            pose = self.pose
        rgb, depth = self.scene.render(pose)
        stamp = now.to_msg()
        img = Image(**rgb_to_image_fields(rgb))
        img.header.stamp, img.header.frame_id = stamp, topics.CAMERA_OPTICAL_FRAME
        if self.depth_encoding in ("16UC1", "32FC1"):
            dmsg = Image(**depth_to_image_fields(depth, self.depth_encoding))
        else:  # a driver misconfigured to something the navigator must refuse
            d8 = np.nan_to_num(depth, nan=0.0).clip(0, 255).astype(np.uint8)
            dmsg = Image(height=d8.shape[0], width=d8.shape[1], encoding=self.depth_encoding, step=d8.shape[1],
                         data=d8.tobytes())
        dmsg.header.stamp, dmsg.header.frame_id = stamp, topics.CAMERA_OPTICAL_FRAME
        intr = self.scene.intrinsics
        info = CameraInfo(width=intr.width, height=intr.height)
        info.header.stamp = stamp
        info.k = [intr.fx, 0.0, intr.cx, 0.0, intr.fy, intr.cy, 0.0, 0.0, 1.0]
        self.info_pub.publish(self.mangle_info(info))
        self.rgb_pub.publish(img)
        self.depth_pub.publish(self.mangle_depth(dmsg))
        self.last_camera_pub = time.monotonic()

    def last_cmd_time(self) -> float:
        with self._lock:
            return self.cmds[-1][0] if self.cmds else -math.inf


class SimClock(Node):
    """Publishes /clock starting at `start_s` and running `factor` times faster than the wall."""

    def __init__(self, context: Context, start_s: float = 1000.0, factor: float = 1.5) -> None:
        super().__init__("sim_clock", context=context)
        from rosgraph_msgs.msg import Clock

        self._clock_type = Clock
        self.pub = self.create_publisher(Clock, topics.CLOCK, 10)
        self.start_s, self.factor, self.t0 = start_s, factor, time.monotonic()
        self._timer = threading.Thread(target=self._run, daemon=True)
        self._stop = threading.Event()
        self._timer.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            t = self.start_s + self.factor * (time.monotonic() - self.t0)
            msg = self._clock_type(clock=time_msg(t))
            try:
                self.pub.publish(msg)
            except Exception:  # context shut down under us at teardown
                return
            time.sleep(0.02)

    def destroy_node(self):
        self._stop.set()
        self._timer.join(timeout=1.0)
        return super().destroy_node()


class Operator(Node):
    """Instruction / e-stop publisher and status listener."""

    def __init__(self, context: Context) -> None:
        super().__init__("operator", context=context)
        self.instruction_pub = self.create_publisher(String, topics.INSTRUCTION, 10)
        self.estop_pub = self.create_publisher(Bool, topics.ESTOP, 10)
        self.statuses: list[NavStatus] = []
        self.create_subscription(NavStatus, topics.STATUS, self.statuses.append, 10)

    def say(self, text: str) -> None:
        self.instruction_pub.publish(String(data=text))

    def estop(self, engaged: bool) -> None:
        self.estop_pub.publish(Bool(data=engaged))

    def state(self) -> int | None:
        return self.statuses[-1].state if self.statuses else None


# Short periods so the tests run in seconds; everything else is the shipped default.
TEST_PARAMS = {
    "s2_requery_period_s": 1.0,
    "planning_period_s": 0.2,
    "s1_timeout_s": 2.0,
    "s2_timeout_s": 5.0,
    "v_max_mps": 0.4,
    "w_max_radps": 0.8,
    "a_max_mps2": 1.0,
    "alpha_max_radps2": 2.0,
    "arrive_distance_m": 0.8,
    "status_rate_hz": 10.0,
    "mission_timeout_s": 60.0,
    "search_timeout_s": 30.0,
    "use_camera_info": True,
}


@contextmanager
def navigator_graph(scene: Scene, pose: Pose2D, params: dict, depth_encoding: str = "16UC1", *,
                    camera_reliability=ReliabilityPolicy.BEST_EFFORT, sim_time: bool = False) -> Iterator[tuple]:
    from lingnav_ros.nodes.navigator_node import NavigatorNode

    context = Context()
    rclpy.init(context=context)
    extra = [SimClock(context)] if sim_time else []
    overrides = [Parameter(k, value=v) for k, v in {**TEST_PARAMS, **params, "use_sim_time": sim_time}.items()]
    nav = NavigatorNode(context=context, parameter_overrides=overrides)
    robot = SyntheticRobot(context, scene, pose, depth_encoding, camera_reliability=camera_reliability)
    robot.set_parameters([Parameter("use_sim_time", value=sim_time)])
    operator = Operator(context)
    # The navigator spins as its main() spins it (one executor thread plus worker lanes, and the
    # action node on its own); the robot and the operator share another executor.
    world_executor = SingleThreadedExecutor(context=context)
    for node in (robot, operator, *extra):
        world_executor.add_node(node)
    with spinning(context, [*nav.executors(), world_executor], [nav, robot, operator, *extra]):
        yield nav, robot, operator


@contextmanager
def spinning(context: Context, executors: list, nodes: list) -> Iterator[None]:
    """Spin each executor on a thread; on exit stop them, destroy `nodes` and shut `context` down."""
    threads = [threading.Thread(target=e.spin, daemon=True) for e in executors]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for executor in executors:
            executor.shutdown()
        for thread in threads:
            thread.join(timeout=5.0)
        for node in nodes:
            node.destroy_node()
        rclpy.shutdown(context=context)


@contextmanager
def color_s2_and_geometric_s1() -> Iterator[tuple[ServerThread, ServerThread]]:
    """Both servers on loopback for a test module: S2 with the color backend, S1 geometric."""
    s2, s1 = ServerThread(s2_app).start(), ServerThread(s1_app).start()
    try:
        yield s2, s1
    finally:
        s2.stop()
        s1.stop()


def mode_a_params(servers: tuple[ServerThread, ServerThread], **extra) -> dict:
    """Navigator parameters for S1 mode A against a `color_s2_and_geometric_s1()` pair."""
    s2, s1 = servers
    return {"s1_mode": "A", "s2_host": "127.0.0.1", "s2_port": s2.port, "s1_host": "127.0.0.1",
            "s1_port": s1.port, **extra}


def s2_app():
    """The real S2 service with its weight-free color backend."""
    from s2_server.app import create_app
    from s2_server.backends.color_backend import ColorBackend

    return create_app(ColorBackend())


def s1_app():
    """The real S1 service with the weight-free geometric planner (as `lingnav-s1-server --backend geometric`)."""
    from s1_server.geometric import GeometricParams, GeometricPlanner
    from s1_server.server import create_app

    return create_app(lambda threshold: GeometricPlanner(GeometricParams(stop_threshold=threshold)), "geometric",
                      supports_pixel_goal=True, supports_image_goal=False)
