"""Sensor intake: odometry into the pose buffer, CameraInfo into intrinsics, RGB-D pairs into the
latest frame and the odom-frame obstacle points. Runs on the executor thread, so it stays quick.

Each message passes its check at the door (see `sensor_checks`) first. A rejected message is dropped,
so the robot's inputs go stale and the watchdog stops it, and its reason is kept as a sensor
fault until a good message of the same kind arrives. While the CameraInfo is rejected, frames
are not used at all: planning with intrinsics the driver says are wrong is worse than stopping.
"""
from __future__ import annotations

import time as walltime

import numpy as np
from geometry_msgs.msg import TransformStamped
from nav_msgs.msg import Odometry
from sensor_msgs.msg import CameraInfo

from lingnav_core.camera import Intrinsics
from lingnav_ros import topics
from lingnav_ros.mission.mission import Mission
from lingnav_ros.nodes.navigator.diagnosis_feed import StageClock
from lingnav_ros.nodes.navigator.obstacle_memory import MapMemory
from lingnav_ros.nodes.navigator.sensor_checks import (
    Rejected,
    intrinsics_from_camera_info,
    mount_from_msg,
    odom_reading,
)
from lingnav_ros.nodes.navigator.settings import SensorSettings
from lingnav_ros.nodes.navigator.state import NavigatorState, NodeTime
from lingnav_ros.perception.extrinsics import MountProvider
from lingnav_ros.perception.images import ImageEncodingError, depth_to_metres, match_depth_to_rgb, rgb_from_msg
from lingnav_ros.perception.odom_buffer import OdomBuffer, OdomSample
from lingnav_ros.perception.rgbd_frame import RgbdFrame
from lingnav_ros.safety.collision import obstacles_from_depth, obstacles_to_odom

ODOM, CAMERA_INFO, RGBD, FRAME_POSE, MOUNT = "odometry", "camera_info", "rgbd", "frame_pose", "camera_mount"


class SensorIntake:
    def __init__(self, settings: SensorSettings, state: NavigatorState, time: NodeTime, logger, odom: OdomBuffer,
                 mounts: MountProvider, memory: MapMemory, mission: Mission, stages: StageClock) -> None:
        self.s = settings
        self.state = state
        self.time = time
        self.log = logger
        self.odom = odom
        self.mounts = mounts
        self.memory = memory
        self.mission = mission
        self.stages = stages  # decode and local-map times of each frame, for the latency budget
        self.frame_seq = 0

    def _reject(self, source: str, reason: str) -> None:
        self.state.faults.set(source, reason, self.time.now_s())
        self.log.error(reason, throttle_duration_sec=5.0)

    def on_odom(self, msg: Odometry) -> None:
        st = self.state
        try:
            r = odom_reading(msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist.linear.x,
                             msg.twist.twist.angular.z)
        except Rejected as exc:
            self._reject(ODOM, f"odometry rejected: {exc}")
            return
        st.faults.clear(ODOM)
        self.odom.add(OdomSample(self.time.stamp_or_now(msg.header.stamp), r.pose, r.v_mps, r.w_radps))
        now = self.time.now_s()
        with st.lock:
            st.odom_rx_s = now
        st.stats.odom.tick(now)

    def on_camera_info(self, msg: CameraInfo) -> None:
        try:
            intr = intrinsics_from_camera_info(msg.k, int(msg.width), int(msg.height))
        except Rejected as exc:
            self._reject(CAMERA_INFO, f"camera_info rejected: {exc}")
            return
        self.state.faults.clear(CAMERA_INFO)
        self.state.camera_info = intr

    def on_camera_mount(self, msg: TransformStamped) -> None:
        """The simulator's mount, for graphs without TF: it replaces the parameter fallback."""
        try:
            mount = mount_from_msg(msg.transform.translation, msg.transform.rotation)
        except Rejected as exc:
            self._reject(MOUNT, f"camera mount rejected: {exc}")
            return
        self.state.faults.clear(MOUNT)
        if mount != self.mounts.fallback:
            self.mounts.fallback = mount
            self.log.info(f"camera mount from {topics.CAMERA_MOUNT}: height {mount.height_m:.3f} m, "
                          f"pitch {mount.pitch_rad:.3f} rad, x {mount.x_m:.3f} m")

    def intrinsics_for(self, width: int, height: int) -> Intrinsics:
        base = self.s.fallback_intrinsics
        if self.s.use_camera_info and self.state.camera_info is not None:
            base = self.state.camera_info
        if (base.width, base.height) != (width, height):
            # the received size: a camera may publish another size than it was calibrated at
            base = base.scaled_to(width, height)
        return base

    def on_rgbd(self, rgb_msg, depth_msg) -> None:
        st, time = self.state, self.time
        if self.s.use_camera_info and st.faults.active(CAMERA_INFO):
            return  # the reason is already on the status; the robot holds on stale depth
        t0 = walltime.perf_counter()
        try:
            rgb = rgb_from_msg(rgb_msg)
            depth = depth_to_metres(depth_msg, self.s.depth_encoding)
        except ImageEncodingError as exc:
            self._reject(RGBD, f"sensor error: {exc}")
            return
        st.faults.clear(RGBD)
        depth = match_depth_to_rgb(depth, rgb.shape)
        t_decoded = walltime.perf_counter()
        stamp = time.stamp_or_now(rgb_msg.header.stamp)
        intr = self.intrinsics_for(rgb.shape[1], rgb.shape[0])
        mount = self.mounts.mount()
        pose = self.odom.pose_at(stamp)
        depth_stamp = time.stamp_or_now(depth_msg.header.stamp)
        pose_depth = self.odom.pose_at(depth_stamp) or pose
        if pose_depth is not None:
            self.memory.on_depth(depth, intr, mount, pose_depth, depth_stamp)
        obstacles = np.zeros((0, 2))
        if pose_depth is not None and self.mission.active:  # idle: no need to pay for the point cloud
            obstacles = obstacles_to_odom(obstacles_from_depth(depth, intr, mount, self.s.obstacles), pose_depth)
        now = time.now_s()
        self.stages.frame_stored(stamp, now, t_decoded - t0, walltime.perf_counter() - t_decoded)
        with st.lock:
            self.frame_seq += 1
            st.latest_frame = RgbdFrame(stamp, rgb, depth, intr, mount, pose, rgb_msg.header.frame_id,
                                        self.frame_seq)
            if pose_depth is not None:
                st.obstacles_odom = obstacles
                st.depth_rx_s = now
        if pose is None:
            odom_rx = st.odom_rx_s
            last = "never received" if odom_rx is None else f"last received {now - odom_rx:.2f} s ago"
            st.faults.set(FRAME_POSE, f"no odometry at the image stamp (odometry {last})", now)
        else:
            st.faults.clear(FRAME_POSE)
        st.stats.frames.tick(now)
