"""A fleet over a real rclpy graph: the navigator shares its odometry on the fleet topic and keeps
clear of the peers it hears there, refusing poses in another frame or with bad numbers."""
import math
import time

import numpy as np
import pytest
from nav_msgs.msg import Odometry

from lingnav_ros import topics
from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.nodes.navigator.wiring import sensor_qos
from lingnav_ros.safety.collision import rollout
from test.navigator_rig import navigator_graph
from test.navigator_scene import Scene
from test.ros_graph import wait_for


def _pose_msg(name: str, frame: str, x: float, y: float, yaw: float = 0.0, v: float = 0.0) -> Odometry:
    msg = Odometry()
    msg.header.frame_id, msg.child_frame_id = frame, name
    msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
    msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    msg.twist.twist.linear.x = v
    return msg


def _peer_at(nav, x: float, y: float) -> bool:
    m = nav.memory.map
    with nav.memory.lock:
        ix, iy, inside = m.cell_of(np.array([[x, y]]))
        return bool(inside[0] and m.peer_mask(int(nav.now_s() * 1e9))[ix[0], iy[0]])


@pytest.mark.timeout(60)
def test_the_navigator_shares_its_pose_and_keeps_clear_of_its_peers():
    params = {"s1_mode": "geometric", "fleet_frame": "odom", "fleet_peer_timeout_s": 0.5}
    with navigator_graph(Scene(boxes=[]), Pose2D(0.0, 0.0, 0.0), params) as (nav, _, op):
        shared: list[Odometry] = []
        op.create_subscription(Odometry, topics.FLEET, shared.append, sensor_qos())
        pub = op.create_publisher(Odometry, topics.FLEET, sensor_qos())
        assert wait_for(lambda: any(m.child_frame_id == "base_link" for m in shared), 15.0), \
            "the navigator publishes its own pose on the fleet topic"
        own = [m for m in shared if m.child_frame_id == "base_link"][-1]
        assert own.header.frame_id == "odom"
        assert abs(own.pose.pose.position.x) < 0.05 and abs(own.pose.pose.position.y) < 0.05

        # a peer 1 m ahead, driving toward the robot at 0.3 m/s: its disk and where it will be
        assert wait_for(lambda: (pub.publish(_pose_msg("robot9/base_link", "odom", 1.0, 0.0, math.pi, 0.3)),
                                 _peer_at(nav, 1.0, 0.0))[1], 10.0), "the peer is stamped into the local map"
        assert _peer_at(nav, 0.75, 0.0), "and so is where it drives in the next second"
        assert not _peer_at(nav, 1.0, 0.5), "but not beyond its radius"
        assert not _peer_at(nav, 0.0, 0.0), "the robot's own pose on the topic is not a peer"
        now = nav.now_s()
        verdict = nav.memory.check(nav.collision, rollout(Pose2D(0.0, 0.0, 0.0), Command(0.3, 0.0), 1.5),
                                   np.zeros((0, 2)), None, now)
        assert verdict.action in ("stop", "slow"), "the collision monitor sees the peer"
        with nav.memory.lock:
            assert nav.memory.map.moving_obstacle_ahead(Pose2D(0.0, 0.0, 0.0), int(now * 1e9), 1.5, 0.3, 20.0), \
                "a peer in the way is a moving obstacle: the mission waits instead of counting a stall"

        # a peer whose name sorts before this robot's has the right of way: it blocks, but the
        # mission does not wait for it (perception/fleet_peers.py)
        assert wait_for(lambda: (pub.publish(_pose_msg("a_robot/base_link", "odom", 0.0, -1.0, 0.0)),
                                 _peer_at(nav, 0.0, -1.0))[1], 10.0)
        with nav.memory.lock:
            assert not nav.memory.map.moving_obstacle_ahead(Pose2D(0.0, 0.0, -math.pi / 2), int(nav.now_s() * 1e9),
                                                            1.5, 0.3, 20.0)

        # the peers fall silent: their footprints are gone after fleet_peer_timeout_s, no trail left
        assert wait_for(lambda: not _peer_at(nav, 1.0, 0.0) and not _peer_at(nav, 0.0, -1.0), 5.0)

        # another frame or a NaN: refused, nothing stamped
        for _ in range(10):
            pub.publish(_pose_msg("robot8/base_link", "map", 0.0, 1.0))
            pub.publish(_pose_msg("robot7/base_link", "odom", float("nan"), -1.0))
            time.sleep(0.05)
        assert not _peer_at(nav, 0.0, 1.0) and not _peer_at(nav, 0.0, -1.0)
        assert set(nav.fleet.peers_moving) == {"robot9/base_link", "a_robot/base_link"}


@pytest.mark.timeout(60)
def test_without_a_fleet_frame_nothing_is_shared_or_heard():
    with navigator_graph(Scene(boxes=[]), Pose2D(0.0, 0.0, 0.0), {"s1_mode": "geometric"}) as (nav, _, op):
        pub = op.create_publisher(Odometry, topics.FLEET, sensor_qos())
        assert wait_for(lambda: len(nav.stats.odom.times) > 5, 10.0), "the navigator runs"
        for _ in range(10):
            pub.publish(_pose_msg("robot9/base_link", "odom", 1.0, 0.0))
            time.sleep(0.05)
        assert op.count_subscribers(topics.FLEET) == 0 and nav.fleet.pub is None
        assert not _peer_at(nav, 1.0, 0.0)
