"""The control tick and the commands that reach it (instruction, e-stop).

This is the only writer of cmd_vel. Every tick passes the watchdog (fresh odometry, depth and
plan), the velocity limiter and the collision monitor before the gate decides what to send.
"""
from __future__ import annotations

import time

import numpy as np
from geometry_msgs.msg import Twist, TwistStamped
from std_msgs.msg import Bool, String

from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.mission.states import Reason
from lingnav_ros.safety.collision import rollout
from lingnav_ros.safety.limiter import limit_command


class ControlLoop:
    def __init__(self, node) -> None:
        self.node = node

    # ------------------------------------------------------------------ commands in
    def on_instruction(self, msg: String) -> None:
        node = self.node
        text = msg.data.strip()
        if not text:
            return
        if node.mission.start(text, node.now_s()):
            node.get_logger().info(f"instruction: '{text}' (episode {node.mission.episode})")
        else:
            node.get_logger().warning(f"instruction '{text}' refused: e-stop engaged")

    def on_estop(self, msg: Bool) -> None:
        node = self.node
        engaged = bool(msg.data)
        if engaged == node.mission.estop:
            return
        node.mission.set_estop(engaged, node.now_s())
        if engaged:
            self.publish_cmd(Command(0.0, 0.0))  # at once, not at the next control tick
            node.gate.force_zero()
            node.get_logger().warning("e-stop engaged")
        else:
            node.get_logger().info("e-stop released (robot stays stopped)")

    # ------------------------------------------------------------------ control tick
    def on_control(self) -> None:
        node = self.node
        t_wall = time.perf_counter()
        node.stats.control_wall_times.append(t_wall)
        now = node.now_s()
        if not node.instruction_started and node.latest_frame is not None and node.odom.latest() is not None:
            node.instruction_started = True
            node.mission.start(node.p.initial_instruction, now)
        dt = (1.0 / node.p.control_rate_hz if node.last_control_s is None
              else min(max(now - node.last_control_s, 0.0), 0.5))
        node.last_control_s = now
        waiting = self.server_outages(now)
        latest = node.odom.latest()
        if latest is None:
            out_active = node.mission.active
            cmd = Command(0.0, 0.0)
            node.hold_reason = "odometry never received" if out_active else ""
        else:
            pose = node.odom.pose_at(now) or latest.pose
            out = node.mission.control(now, pose, node.last_cmd, dt)
            out_active = out.active
            cmd = self.safe_command(now, pose, out, dt) if out.active else Command(0.0, 0.0)
            if out.active and waiting:
                cmd = Command(0.0, 0.0)  # a server is away: hold until it answers
                node.hold_reason = waiting
            if out.active and out.source == "tracker" and out.plan_stamp_s is not None \
                    and out.plan_stamp_s == node.pending_plan_stamp:
                # first command computed from the plan of this image
                node.stats.plan_to_cmd_latency_s.append(now - out.plan_stamp_s)
                node.pending_plan_stamp = None
        to_send = node.gate.filter(out_active, cmd)
        if to_send is not None:
            self.publish_cmd(to_send)
        node.stats.control_compute_s.append(time.perf_counter() - t_wall)

    def server_outages(self, now: float) -> str:
        """Fail the mission on an outage past its limit; -> the reason to hold for, if any."""
        node = self.node
        outages = ((node.s2_outage, Reason.S2_UNREACHABLE), (node.s1_outage, Reason.S1_UNREACHABLE))
        if not node.mission.active:
            for outage, _ in outages:
                outage.reset()
            return ""
        for outage, reason in outages:
            if outage.expired(now):
                node.mission.fail(f"{reason}: {outage.failure_reason(now)}", now)
                node.get_logger().error(f"{reason}: {outage.failure_reason(now)}")
                outage.reset()
        return node.s2_outage.waiting_reason(now) or node.s1_outage.waiting_reason(now)

    def safe_command(self, now: float, pose: Pose2D, out, dt: float) -> Command:
        node = self.node
        with node.lock:
            odom_rx, depth_rx, obstacles = node.odom_rx_s, node.depth_rx_s, node.obstacles_odom
        # Look two periods ahead: one to the next tick, one for executor jitter and delivery, so
        # the zero command reaches the base before the input is older than its limit.
        verdict = node.watchdog.check(now, odom_rx, depth_rx, plan_stamp_s=out.plan_stamp_s,
                                      needs_plan=out.source == "tracker", needs_depth=out.source != "hold",
                                      horizon_s=2.0 / node.p.control_rate_hz)
        if not verdict.ok:
            node.hold_reason = verdict.reason
            return Command(0.0, 0.0)
        cmd = limit_command(out.command, node.last_cmd, dt, node.limits, allow_reverse=out.reverse)
        predicted = out.predicted if out.predicted is not None and len(out.predicted) > 1 else None
        if predicted is None:
            predicted = rollout(pose, cmd, node.p.collision_predict_time_s)
        else:
            predicted = np.concatenate([[[pose.x_m, pose.y_m, pose.theta_rad]], np.asarray(predicted)[:, :3]])
        target = node.mission.target
        collision = node.memory.check(node.collision, predicted, obstacles,
                                      target.xy if target is not None else None, now)
        node.hold_reason = collision.reason
        return collision.apply(cmd)

    def publish_cmd(self, cmd: Command) -> None:
        node = self.node
        twist = Twist()
        twist.linear.x = float(cmd.v_mps)
        twist.angular.z = float(cmd.w_radps)
        if node.p.cmd_vel_stamped:
            msg = TwistStamped()
            msg.header.stamp = node.get_clock().now().to_msg()
            msg.header.frame_id = node.p.base_frame
            msg.twist = twist
            node.cmd_pub.publish(msg)
        else:
            node.cmd_pub.publish(twist)
        node.last_cmd = cmd
        node.stats.cmds_published += 1
