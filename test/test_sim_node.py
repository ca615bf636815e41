"""The lingnav_sim node over a real rclpy graph: best-effort camera, odometry, /clock, cmd_vel."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from lingnav_ros import topics
from lingnav_ros.nodes.sim_node import SimNode
from lingnav_ros.stamps import stamp_to_ns
from test.ros_graph import ros_graph, wait_for


@pytest.mark.timeout(60)
@pytest.mark.parametrize("encoding", ["16UC1", "32FC1"])
def test_sim_node_publishes_sensors_clock_and_obeys_cmd_vel(encoding):
    with ros_graph("sim_listener") as (context, (listener,), executor):
        sim = SimNode(context=context, parameter_overrides=[
            Parameter("depth_encoding", value=encoding), Parameter("real_time_factor", value=2.0),
            Parameter("image_width", value=160), Parameter("image_height", value=120),
            Parameter("cmd_latency_s", value=0.0)])
        executor.add_node(sim)
        got: dict[str, list] = {"rgb": [], "depth": [], "info": [], "odom": [], "clock": [], "state": []}
        listener.create_subscription(Image, topics.RGB, got["rgb"].append, qos_profile_sensor_data)
        listener.create_subscription(Image, topics.DEPTH, got["depth"].append, qos_profile_sensor_data)
        listener.create_subscription(CameraInfo, topics.CAMERA_INFO, got["info"].append, qos_profile_sensor_data)
        listener.create_subscription(Odometry, topics.ODOM, got["odom"].append, 20)
        listener.create_subscription(Clock, topics.CLOCK, got["clock"].append, 10)
        listener.create_subscription(String, topics.SIM_STATE, got["state"].append, 10)
        assert wait_for(lambda: all(len(v) >= 2 for v in got.values()), 20.0), {k: len(v) for k, v in got.items()}

        rgb, depth, info = got["rgb"][-1], got["depth"][-1], got["info"][-1]
        assert (rgb.encoding, rgb.width, rgb.height) == ("rgb8", 160, 120)
        assert rgb.header.frame_id == topics.CAMERA_OPTICAL_FRAME
        assert depth.encoding == encoding
        dtype = np.uint16 if encoding == "16UC1" else np.float32
        d = np.frombuffer(bytes(depth.data), dtype=dtype).reshape(120, 160).astype(np.float32)
        if encoding == "16UC1":
            d = d / 1000.0
        valid = d[d > 0]
        assert valid.size > 0.5 * d.size and 0.2 < float(np.median(valid)) < 12.0
        assert (info.width, info.height) == (160, 120) and info.k[0] > 0
        # images carry sim time, which /clock also announces
        clock_ns = [stamp_to_ns(c.clock) for c in got["clock"]]
        assert clock_ns == sorted(clock_ns) and clock_ns[-1] > 0
        assert stamp_to_ns(rgb.header.stamp) <= clock_ns[-1] + 10**8

        x0 = got["odom"][-1].pose.pose.position.x
        pub = listener.create_publisher(Twist, topics.CMD_VEL, 10)
        cmd = Twist()
        cmd.linear.x = 0.3
        assert wait_for(lambda: pub.get_subscription_count() > 0, 5.0)
        # no sim-side cmd_vel timeout: one message keeps the robot moving
        pub.publish(cmd)
        assert wait_for(lambda: got["odom"][-1].twist.twist.linear.x > 0.25, 10.0)
        moved_x = got["odom"][-1].pose.pose.position.x
        theta0 = json.loads(got["state"][0].data)["theta"]
        # the demo start faces +x, so driving forward raises x
        assert abs(theta0) < 1e-6 and moved_x > x0
        state = json.loads(got["state"][-1].data)
        assert {"x", "y", "theta", "contacts", "target_distance_m"} <= set(state)
        executor.remove_node(sim)
        time.sleep(0.3)  # let an in-flight timer callback finish before the node goes away
        sim.destroy_node()


@pytest.mark.timeout(60)
def test_a_fleet_world_serves_each_robot_in_its_namespace():
    world = Path(__file__).resolve().parents[1] / "scenarios" / "two_robots_swap.yaml"
    with ros_graph("fleet_listener") as (context, (listener,), executor):
        sim = SimNode(context=context, parameter_overrides=[
            Parameter("world", value=str(world)), Parameter("real_time_factor", value=2.0),
            Parameter("image_width", value=80), Parameter("image_height", value=60),
            Parameter("cmd_latency_s", value=0.0)])
        executor.add_node(sim)
        odom: dict[str, list] = {"robot1": [], "robot2": []}
        frames: dict[str, list] = {"robot1": [], "robot2": []}
        for name, received in odom.items():
            listener.create_subscription(Odometry, f"{name}/{topics.ODOM}", received.append, 20)
            listener.create_subscription(Image, f"{name}/{topics.DEPTH}", frames[name].append,
                                         qos_profile_sensor_data)
        assert wait_for(lambda: all(len(v) >= 2 for v in [*odom.values(), *frames.values()]), 20.0)
        start = {n: (v[-1].pose.pose.position.x, v[-1].pose.pose.position.y) for n, v in odom.items()}
        assert start["robot1"] == pytest.approx((0.0, 0.4)) and start["robot2"] == pytest.approx((5.0, -0.4))
        pub = listener.create_publisher(Twist, f"robot2/{topics.CMD_VEL}", 10)
        assert wait_for(lambda: pub.get_subscription_count() > 0, 5.0)
        cmd = Twist()
        cmd.linear.x = 0.3
        pub.publish(cmd)
        assert wait_for(lambda: odom["robot2"][-1].pose.pose.position.x < 4.9, 10.0)  # robot2 faces -x
        assert odom["robot1"][-1].pose.pose.position.x == pytest.approx(0.0), "only robot2 was told to move"
        executor.remove_node(sim)
        time.sleep(0.3)
        sim.destroy_node()
