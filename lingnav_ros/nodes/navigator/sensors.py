"""Sensor intake: odometry into the pose buffer, CameraInfo into intrinsics, RGB-D pairs into the
latest frame and the odom-frame obstacle points. Runs on the executor thread, so it stays quick.

Each message passes its check at the door (see `door`) first. A rejected message is dropped,
so the robot's inputs go stale and the watchdog stops it, and its reason is kept as a sensor
fault until a good message of the same kind arrives. While the CameraInfo is rejected, frames
are not used at all: planning with intrinsics the driver says are wrong is worse than stopping.
"""
from __future__ import annotations

import numpy as np
from geometry_msgs.msg import TransformStamped
from nav_msgs.msg import Odometry
from sensor_msgs.msg import CameraInfo

from lingnav_core.camera import Intrinsics
from lingnav_ros.nodes.navigator.sensor_checks import (
    Rejected,
    intrinsics_from_camera_info,
    mount_from_msg,
    odom_reading,
)
from lingnav_ros.perception.images import ImageEncodingError, depth_to_metres, match_depth_to_rgb, rgb_from_msg
from lingnav_ros.perception.odom_buffer import OdomSample
from lingnav_ros.perception.rgbd_frame import RgbdFrame
from lingnav_ros.safety.collision import obstacles_from_depth, obstacles_to_odom

ODOM, CAMERA_INFO, RGBD, FRAME_POSE, MOUNT = "odometry", "camera_info", "rgbd", "frame_pose", "camera_mount"


class SensorIntake:
    def __init__(self, node) -> None:
        self.node = node

    def _reject(self, source: str, reason: str) -> None:
        node = self.node
        node.faults.set(source, reason, node.now_s())
        node.get_logger().error(reason, throttle_duration_sec=5.0)

    def on_odom(self, msg: Odometry) -> None:
        node = self.node
        try:
            r = odom_reading(msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist.linear.x,
                             msg.twist.twist.angular.z)
        except Rejected as exc:
            self._reject(ODOM, f"odometry rejected: {exc}")
            return
        node.faults.clear(ODOM)
        node.odom.add(OdomSample(node.stamp_or_now(msg.header.stamp), r.pose, r.v_mps, r.w_radps))
        now = node.now_s()
        with node.lock:
            node.odom_rx_s = now
        node.stats.odom.tick(now)

    def on_camera_info(self, msg: CameraInfo) -> None:
        try:
            intr = intrinsics_from_camera_info(msg.k, int(msg.width), int(msg.height))
        except Rejected as exc:
            self._reject(CAMERA_INFO, f"camera_info rejected: {exc}")
            return
        self.node.faults.clear(CAMERA_INFO)
        self.node.camera_info = intr

    def on_camera_mount(self, msg: TransformStamped) -> None:
        """The simulator's mount, for graphs without TF: it replaces the parameter fallback."""
        node = self.node
        try:
            mount = mount_from_msg(msg.transform.translation, msg.transform.rotation)
        except Rejected as exc:
            self._reject(MOUNT, f"camera mount rejected: {exc}")
            return
        node.faults.clear(MOUNT)
        if mount != node.mounts.fallback:
            node.mounts.fallback = mount
            node.get_logger().info(f"camera mount from {node.p.camera_mount_topic}: height {mount.height_m:.3f} m, "
                                   f"pitch {mount.pitch_rad:.3f} rad, x {mount.x_m:.3f} m")

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
        if node.p.use_camera_info and node.faults.active(CAMERA_INFO):
            return  # the reason is already on the status; the robot holds on stale depth
        try:
            rgb = rgb_from_msg(rgb_msg)
            depth = depth_to_metres(depth_msg, node.p.depth_encoding)
        except ImageEncodingError as exc:
            self._reject(RGBD, f"sensor error: {exc}")
            return
        node.faults.clear(RGBD)
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
        if pose is None:
            odom_rx = node.odom_rx_s
            last = "never received" if odom_rx is None else f"last received {now - odom_rx:.2f} s ago"
            node.faults.set(FRAME_POSE, f"no odometry at the image stamp (odometry {last})", now)
        else:
            node.faults.clear(FRAME_POSE)
        node.stats.frames.tick(now)
