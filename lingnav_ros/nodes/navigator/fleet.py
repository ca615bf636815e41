"""The navigator's side of a fleet: its own pose out on the fleet topic, the peers' poses into
the local map (perception/fleet_peers.py says why).

A peer is stamped when its pose arrives, at this node's time of arrival rather than the peer's
stamp: robots whose clocks disagree still block each other for `fleet_peer_timeout_s` after the
last pose heard, never for a stamp in the future. A pose in another frame or with a bad number
is refused with a throttled log line; this robot's own pose comes back on the same topic and
is skipped by name.
"""
from __future__ import annotations

import math

from nav_msgs.msg import Odometry

from lingnav_ros import topics
from lingnav_ros.nodes.navigator.sensor_checks import Rejected, odom_reading
from lingnav_ros.nodes.navigator.settings import FleetSettings
from lingnav_ros.perception.fleet_peers import (
    PEER_MOVING_MPS,
    peer_footprint,
    robot_identity,
    worth_waiting_for,
)
from lingnav_ros.stamps import time_msg


class FleetLink:
    def __init__(self, node, settings: FleetSettings, odom, memory, time, logger, qos) -> None:
        self.settings = settings
        self.odom = odom
        self.memory = memory
        self.time = time
        self.log = logger
        self.identity = robot_identity(node.get_namespace(), settings.base_frame)
        self.peers_moving: dict[str, float] = {}  # name -> when it was last heard moving
        self.pub = None
        if not settings.frame:
            return
        self.pub = node.create_publisher(Odometry, topics.FLEET, qos)
        node.create_subscription(Odometry, topics.FLEET, self.on_peer, qos, callback_group=node.cb_misc)
        node.create_timer(settings.publish_period_s, self.publish, callback_group=node.cb_misc)
        logger.info(f"fleet: sharing this robot's pose as '{self.identity}' in frame '{settings.frame}' "
                    f"on {topics.FLEET}")

    def publish(self) -> None:
        sample = self.odom.latest()
        if sample is None:
            return  # no odometry yet: nothing true to share
        msg = Odometry()
        msg.header.stamp = time_msg(sample.stamp_s)
        msg.header.frame_id = self.settings.frame
        msg.child_frame_id = self.identity
        p, yaw = sample.pose, sample.pose.theta_rad
        msg.pose.pose.position.x, msg.pose.pose.position.y = p.x_m, p.y_m
        msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(yaw / 2.0), math.cos(yaw / 2.0)
        msg.twist.twist.linear.x, msg.twist.twist.angular.z = sample.v_mps, sample.w_radps
        self.pub.publish(msg)

    def on_peer(self, msg: Odometry) -> None:
        name = msg.child_frame_id
        if name == self.identity:
            return
        if msg.header.frame_id != self.settings.frame:
            self.log.warning(f"fleet: pose of '{name}' in frame '{msg.header.frame_id}' refused (fleet_frame is "
                             f"'{self.settings.frame}')", throttle_duration_sec=10.0)
            return
        try:
            r = odom_reading(msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist.linear.x,
                             msg.twist.twist.angular.z)
        except Rejected as exc:
            self.log.warning(f"fleet: pose of '{name}' refused: {exc}", throttle_duration_sec=10.0)
            return
        now_s = self.time.now_s()
        if abs(r.v_mps) >= PEER_MOVING_MPS or abs(r.w_radps) >= PEER_MOVING_MPS or name not in self.peers_moving:
            self.peers_moving[name] = now_s
        wait_for = worth_waiting_for(name, self.identity, now_s - self.peers_moving[name])
        self.memory.on_peer(peer_footprint(r.pose, r.v_mps), self.settings.peer_radius_m, now_s, wait_for)
