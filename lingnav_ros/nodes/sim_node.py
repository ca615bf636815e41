"""lingnav_sim: the simulator as a ROS 2 node (camera, odometry, /clock, ground truth).

It owns simulated time and publishes it on /clock, so every other node runs with
use_sim_time:=true and the whole graph can go faster than real time. It applies the robot's
acceleration limits and command latency, but deliberately has no cmd_vel timeout: stopping on
stale commands is the navigator's job, and the tests check that it does.

Ground truth goes out on topics.SIM_STATE as std_msgs/String holding JSON (one per camera
frame): t, x, y, theta, v, w, contacts (the robot drove into something), hits_while_stopped
(something walked into the standing robot), in_contact, distance_m, target_distance_m, cmd_count.
It is for the demo and evaluation tools only; the navigator never reads it.
"""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass

import numpy as np
from geometry_msgs.msg import TransformStamped, Twist
from nav_msgs.msg import Odometry
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from lingnav_ros import topics
from lingnav_ros.nodes import node_cli
from lingnav_ros.nodes.lifecycle import (
    begin_leaving,
    close_node,
    spin_until_shutdown,
    start_node,
    watch_for_shutdown,
)
from lingnav_ros.paths import config_file
from lingnav_ros.sim.camera_model import make_camera_model
from lingnav_ros.sim.robot import RobotParams
from lingnav_ros.sim.simulator import CameraParams, Simulator
from lingnav_ros.sim.world import load
from lingnav_ros.sim.world_truth import world_truth
from lingnav_ros.stamps import time_msg

try:  # TF is published where tf2_msgs exists (every ROS install; not the PyPI wheels)
    from tf2_msgs.msg import TFMessage
except ImportError:
    TFMessage = None


# Kept under its old name for the tools that import it; one conversion for the whole stack.


def image_msgs(rgb: np.ndarray, depth_m: np.ndarray, encoding: str, stamp, frame: str) -> tuple[Image, Image]:
    h, w = depth_m.shape
    rgb_msg = Image(height=h, width=w, encoding="rgb8", is_bigendian=0, step=w * 3, data=rgb.tobytes())
    if encoding == "16UC1":
        mm = np.clip(np.round(depth_m * 1000.0), 0, 65535).astype(np.uint16)
        depth_msg = Image(height=h, width=w, encoding="16UC1", is_bigendian=0, step=w * 2, data=mm.tobytes())
    else:
        depth_msg = Image(height=h, width=w, encoding="32FC1", is_bigendian=0, step=w * 4,
                          data=depth_m.astype(np.float32).tobytes())
    for m in (rgb_msg, depth_msg):
        m.header.stamp = stamp
        m.header.frame_id = frame
    return rgb_msg, depth_msg


@dataclass
class RobotPorts:
    """One simulated robot's publishers (its subscription is kept by the node)."""

    rgb: object
    depth: object
    info: object
    odom: object
    state: object
    tf: object | None
    mount: object
    world: object
    cmd_count: int = 0


class SimNode(Node):
    def __init__(self, **kwargs):
        super().__init__("lingnav_sim", **kwargs)
        d = CameraParams()
        r = RobotParams()
        self.declare_parameter("world", str(config_file("worlds", "demo.yaml")))
        self.declare_parameter("image_width", d.width)
        self.declare_parameter("image_height", d.height)
        self.declare_parameter("hfov_rad", d.hfov_rad)
        self.declare_parameter("camera_height_m", d.height_m)
        self.declare_parameter("camera_pitch_rad", d.pitch_rad)
        self.declare_parameter("camera_x_m", d.x_m)
        self.declare_parameter("depth_encoding", "16UC1")
        self.declare_parameter("camera_model", "realistic")  # or ideal: perfect depth, no latency/drops
        self.declare_parameter("camera_profile", "sim")  # faults from config/cameras/<profile>.yaml
        self.declare_parameter("physics_rate_hz", 50.0)
        self.declare_parameter("camera_rate_hz", 10.0)
        self.declare_parameter("real_time_factor", 1.0)
        self.declare_parameter("cmd_latency_s", r.cmd_latency_s)
        self.declare_parameter("robot_radius_m", r.radius_m)
        self.declare_parameter("robot_height_m", r.height_m)
        self.declare_parameter("start_x_m", float("nan"))
        self.declare_parameter("start_y_m", float("nan"))
        self.declare_parameter("start_yaw_rad", float("nan"))
        g = lambda name: self.get_parameter(name).value  # noqa: E731
        world = load(g("world"))
        sx, sy, syaw = g("start_x_m"), g("start_y_m"), g("start_yaw_rad")
        if not math.isnan(sx):
            world.start = (sx, sy if not math.isnan(sy) else 0.0, syaw if not math.isnan(syaw) else 0.0)
        self.depth_encoding = g("depth_encoding")
        if self.depth_encoding not in ("16UC1", "32FC1"):
            raise ValueError("depth_encoding must be 16UC1 or 32FC1")
        self.camera = CameraParams(g("image_width"), g("image_height"), g("hfov_rad"), g("camera_height_m"),
                                   g("camera_pitch_rad"), g("camera_x_m"))
        self.sim = Simulator(world, self.camera, RobotParams(radius_m=g("robot_radius_m"),
                                                             cmd_latency_s=g("cmd_latency_s"),
                                                             height_m=g("robot_height_m")),
                             make_camera_model(g("camera_model"), g("camera_profile"), world.extra.get("camera")))
        self.physics_dt_s = 1.0 / g("physics_rate_hz")
        self.camera_period_s = 1.0 / g("camera_rate_hz")
        self._next_camera_s = 0.0
        self.pub_clock = self.create_publisher(Clock, topics.CLOCK, 10)
        # One set of topics per robot: a fleet world's robots each under their own name (robot1/...),
        # TF included (navigators in a namespace remap /tf to tf); a single robot as before.
        self.ports = [self._robot_ports(i, a.name) for i, a in enumerate(self.sim.agents)]
        self.create_timer(self.physics_dt_s / max(g("real_time_factor"), 1e-3), self._tick)
        fleet = f", robots {', '.join(a.name for a in self.sim.agents)}" if world.robots else ""
        self.get_logger().info(f"world '{world.name}' with {len(world.shapes)} objects{fleet}, camera "
                               f"{self.camera.width}x{self.camera.height}, depth {self.depth_encoding}, "
                               f"camera model {g('camera_model')} ({g('camera_profile')})")

    def _robot_ports(self, index: int, name: str) -> RobotPorts:
        def topic(t: str) -> str:
            return f"{name}/{t.lstrip('/')}" if name else t

        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        ports = RobotPorts(
            rgb=self.create_publisher(Image, topic(topics.RGB), qos_profile_sensor_data),
            depth=self.create_publisher(Image, topic(topics.DEPTH), qos_profile_sensor_data),
            info=self.create_publisher(CameraInfo, topic(topics.CAMERA_INFO), qos_profile_sensor_data),
            odom=self.create_publisher(Odometry, topic(topics.ODOM), 20),
            state=self.create_publisher(String, topic(topics.SIM_STATE), 10),
            tf=self.create_publisher(TFMessage, topic(topics.TF), 20) if TFMessage else None,
            # The mount also goes out latched on its own topic, so a navigator without tf2_msgs
            # still uses the simulated camera's height and pitch.
            mount=self.create_publisher(TransformStamped, topic(topics.CAMERA_MOUNT), latched),
            # ground truth (objects, walls, this robot's target) for lingnav-diagnose, latched
            world=self.create_publisher(String, topic(topics.SIM_WORLD), latched))
        ports.mount.publish(self._transforms(time_msg(self.sim.time_s), index)[1])
        truth = world_truth(self.sim.world)
        truth["target"] = self.sim.agents[index].target_label
        ports.world.publish(String(data=json.dumps(truth)))
        self.create_subscription(Twist, topic(topics.CMD_VEL), lambda msg: self._on_cmd(msg, index), 10)
        return ports

    @property
    def cmd_count(self) -> int:
        return self.ports[0].cmd_count

    def _on_cmd(self, msg: Twist, index: int = 0) -> None:
        self.ports[index].cmd_count += 1
        self.sim.command(msg.linear.x, msg.angular.z, index)

    def _tick(self) -> None:
        self.sim.step(self.physics_dt_s)
        t = self.sim.time_s
        stamp = time_msg(t)
        self.pub_clock.publish(Clock(clock=stamp))
        camera_due = t + 1e-9 >= self._next_camera_s
        if camera_due:
            self._next_camera_s = t + self.camera_period_s
        for i, ports in enumerate(self.ports):
            self._publish_odom(stamp, i)
            if camera_due:
                self.sim.capture(i)
                state = self.sim.state(i)
                state["cmd_count"] = ports.cmd_count
                ports.state.publish(String(data=json.dumps(state)))
            for frame in self.sim.frames_due(i):  # after the camera model's latency, stamped at capture
                self._publish_camera(time_msg(frame.stamp_s), frame.rgb, frame.depth_m, i)

    def _publish_odom(self, stamp, index: int = 0) -> None:
        r = self.sim.agents[index].robot
        ports = self.ports[index]
        odom = Odometry()
        odom.header.stamp = stamp
        odom.header.frame_id = topics.ODOM_FRAME
        odom.child_frame_id = topics.BASE_FRAME
        odom.pose.pose.position.x, odom.pose.pose.position.y = r.x_m, r.y_m
        odom.pose.pose.orientation.z = math.sin(r.theta_rad / 2.0)
        odom.pose.pose.orientation.w = math.cos(r.theta_rad / 2.0)
        odom.twist.twist.linear.x = r.v_mps
        odom.twist.twist.angular.z = r.w_radps
        ports.odom.publish(odom)
        if ports.tf is not None:
            ports.tf.publish(TFMessage(transforms=self._transforms(stamp, index)))

    def _transforms(self, stamp, index: int = 0):
        r, cam = self.sim.agents[index].robot, self.camera
        base = TransformStamped()
        base.header.stamp, base.header.frame_id, base.child_frame_id = stamp, topics.ODOM_FRAME, topics.BASE_FRAME
        base.transform.translation.x, base.transform.translation.y = r.x_m, r.y_m
        base.transform.rotation.z, base.transform.rotation.w = math.sin(r.theta_rad / 2), math.cos(r.theta_rad / 2)
        optical = TransformStamped()
        optical.header.stamp, optical.header.frame_id = stamp, topics.BASE_FRAME
        optical.child_frame_id = topics.CAMERA_OPTICAL_FRAME
        optical.transform.translation.x, optical.transform.translation.z = cam.x_m, cam.height_m
        q = _optical_quaternion(cam.pitch_rad)
        (optical.transform.rotation.x, optical.transform.rotation.y, optical.transform.rotation.z,
         optical.transform.rotation.w) = q
        return [base, optical]

    def _publish_camera(self, stamp, rgb: np.ndarray, depth: np.ndarray, index: int = 0) -> None:
        rgb_msg, depth_msg = image_msgs(rgb, depth, self.depth_encoding, stamp, topics.CAMERA_OPTICAL_FRAME)
        intr = self.camera.intrinsics()
        info = CameraInfo(height=intr.height, width=intr.width, distortion_model="plumb_bob")
        info.header = rgb_msg.header
        info.d = [0.0] * 5
        info.k = [intr.fx, 0.0, intr.cx, 0.0, intr.fy, intr.cy, 0.0, 0.0, 1.0]
        info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        info.p = [intr.fx, 0.0, intr.cx, 0.0, 0.0, intr.fy, intr.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
        ports = self.ports[index]
        ports.rgb.publish(rgb_msg)
        ports.depth.publish(depth_msg)
        ports.info.publish(info)


def _optical_quaternion(pitch_rad: float) -> tuple[float, float, float, float]:
    """Quaternion (x, y, z, w) of the optical frame in the base frame."""
    from lingnav_core.camera import optical_to_base_rotation

    m = optical_to_base_rotation(pitch_rad)
    w = math.sqrt(max(1.0 + m[0, 0] + m[1, 1] + m[2, 2], 1e-12)) / 2.0
    return ((m[2, 1] - m[1, 2]) / (4 * w), (m[0, 2] - m[2, 0]) / (4 * w), (m[1, 0] - m[0, 1]) / (4 * w), w)


def main(args=None) -> int:
    if node_cli.info_requested("lingnav-sim", __doc__, args, "world, image_width, image_height, hfov_rad, "
                               "camera_height_m, camera_pitch_rad, camera_model, camera_profile, ... "
                               "(docs/simulation.md; `ros2 param describe /lingnav_sim NAME`)"):
        return 0
    executor: list[SingleThreadedExecutor] = []

    def make_sim() -> SimNode:
        # The executor is built before the (slow) world load: one constructed on a context that a
        # Ctrl-C has just shut down fails half-initialised, and rclpy's __del__ prints a traceback.
        executor.append(SingleThreadedExecutor())
        return SimNode()

    node, exit_code = start_node(make_sim, args, (ValueError, OSError), "lingnav_sim", 2)
    if node is None:
        return exit_code
    watch_for_shutdown(node.context)
    spinner = executor[0]
    try:
        spinner.add_node(node)
        spin_until_shutdown(spinner.spin)
    finally:
        begin_leaving()
        spinner.shutdown()
        close_node(node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
