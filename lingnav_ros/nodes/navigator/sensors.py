"""Sensor intake: odometry into the pose buffer, CameraInfo into intrinsics, RGB-D pairs into the
latest frame and the odom-frame obstacle points. Runs on the executor thread, so it stays quick."""
from __future__ import annotations

import numpy as np
from nav_msgs.msg import Odometry
from sensor_msgs.msg import CameraInfo

from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.frame import RgbdFrame
from lingnav_ros.perception.images import ImageEncodingError, depth_to_metres, match_depth_to_rgb, rgb_from_msg
from lingnav_ros.perception.odom_buffer import OdomSample, yaw_from_quaternion
from lingnav_ros.safety.collision import obstacles_from_depth, obstacles_to_odom
from s1_server.camera import Intrinsics


class SensorIntake:
    def __init__(self, node) -> None:
        self.node = node

    def on_odom(self, msg: Odometry) -> None:
        node = self.node
        q = msg.pose.pose.orientation
        pose = Pose2D(msg.pose.pose.position.x, msg.pose.pose.position.y, yaw_from_quaternion(q.x, q.y, q.z, q.w))
        node.odom.add(OdomSample(node.stamp_or_now(msg.header.stamp), pose, msg.twist.twist.linear.x,
                                 msg.twist.twist.angular.z))
        now = node.now_s()
        with node.lock:
            node.odom_rx_s = now
        node.stats.odom.tick(now)

    def on_camera_info(self, msg: CameraInfo) -> None:
        k = list(msg.k)
        if len(k) == 9 and k[0] > 0 and k[4] > 0 and msg.width > 0 and msg.height > 0:
            self.node.camera_info = Intrinsics(k[0], k[4], k[2], k[5], int(msg.width), int(msg.height))

    def intrinsics_for(self, width: int, height: int) -> Intrinsics:
        node = self.node
        base = node.fallback_intrinsics
        if node.p.use_camera_info and node.camera_info is not None:
            base = node.camera_info
        if (base.width, base.height) != (width, height):
            base = base.scaled_to(width, height)  # always the received size (field note 4)
        return base

    def on_rgbd(self, rgb_msg, depth_msg) -> None:
        node = self.node
        try:
            rgb = rgb_from_msg(rgb_msg)
            depth = depth_to_metres(depth_msg, node.p.depth_encoding)
        except ImageEncodingError as exc:
            with node.lock:
                node.sensor_error = f"sensor error: {exc}"
            node.get_logger().error(node.sensor_error, throttle_duration_sec=5.0)
            return
        depth = match_depth_to_rgb(depth, rgb.shape)
        stamp = node.stamp_or_now(rgb_msg.header.stamp)
        intr = self.intrinsics_for(rgb.shape[1], rgb.shape[0])
        mount = node.mounts.mount()
        pose = node.odom.pose_at(stamp)
        depth_stamp = node.stamp_or_now(depth_msg.header.stamp)
        pose_depth = node.odom.pose_at(depth_stamp) or pose
        if pose_depth is not None:
            node.memory.on_depth(depth, intr, mount, pose_depth, depth_stamp)
        obstacles = np.zeros((0, 2))
        if pose_depth is not None and node.mission.active:  # idle: no need to pay for the point cloud
            obstacles = obstacles_to_odom(obstacles_from_depth(depth, intr, mount, node.collision_cfg), pose_depth)
        now = node.now_s()
        with node.lock:
            node.frame_seq += 1
            node.latest_frame = RgbdFrame(stamp, rgb, depth, intr, mount, pose, rgb_msg.header.frame_id,
                                          node.frame_seq)
            if pose_depth is not None:
                node.obstacles_odom = obstacles
                node.depth_rx_s = now
            node.sensor_error = "" if pose is not None else "no odometry at the image stamp"
        node.stats.frames.tick(now)
