"""The control tick and the commands that reach it (instruction, e-stop).

This is the only writer of cmd_vel. Each tick the mission's command passes, in this order:
the watchdog (fresh odometry, depth and plan; stale input is a zero command), the velocity and
acceleration limiter, the collision monitor (stop and slowdown zones on the predicted path,
speed capped to the free space the local map knows), then the hold for a server outage, and
last the output gate, which decides whether anything is published at all.
"""
from __future__ import annotations

import time

import numpy as np
from geometry_msgs.msg import Twist, TwistStamped
from std_msgs.msg import Bool, String

from lingnav_ros.control.limits import VelocityLimits
from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.mission.mission import Mission
from lingnav_ros.mission.states import Reason
from lingnav_ros.nodes.navigator.diagnosis_feed import DiagnosisFeed
from lingnav_ros.nodes.navigator.obstacle_memory import MapMemory
from lingnav_ros.nodes.navigator.settings import ControlSettings
from lingnav_ros.nodes.navigator.state import NavigatorState, NodeTime
from lingnav_ros.perception.odom_buffer import OdomBuffer
from lingnav_ros.safety.collision import CollisionMonitor, rollout
from lingnav_ros.safety.gate import CommandGate
from lingnav_ros.safety.limiter import limit_command
from lingnav_ros.safety.watchdog import Watchdog


class ControlLoop:
    def __init__(self, settings: ControlSettings, state: NavigatorState, time: NodeTime, logger, mission: Mission,
                 odom: OdomBuffer, watchdog: Watchdog, limits: VelocityLimits, collision: CollisionMonitor,
                 memory: MapMemory, gate: CommandGate, cmd_pub, feed: DiagnosisFeed) -> None:
        self.s = settings
        self.state = state
        self.time = time
        self.log = logger
        self.mission = mission
        self.odom = odom
        self.watchdog = watchdog
        self.limits = limits
        self.collision = collision
        self.memory = memory
        self.gate = gate
        self.cmd_pub = cmd_pub
        self.feed = feed  # safety interventions and the stage times of each plan's first command
        self.instruction_started = not settings.initial_instruction
        self.last_control_s: float | None = None

    # ------------------------------------------------------------------ commands in
    def on_instruction(self, msg: String) -> None:
        text = msg.data.strip()
        if not text:
            return
        if self.mission.start(text, self.time.now_s()):
            self.log.info(f"instruction: '{text}' (episode {self.mission.episode})")
        else:
            self.log.warning(f"instruction '{text}' refused: e-stop engaged")

    def on_estop(self, msg: Bool) -> None:
        engaged = bool(msg.data)
        if engaged == self.mission.estop:
            return
        self.mission.set_estop(engaged, self.time.now_s())
        if engaged:
            self.publish_cmd(Command(0.0, 0.0))  # at once, not at the next control tick
            self.gate.force_zero()
            self.log.warning("e-stop engaged")
        else:
            self.log.info("e-stop released (robot stays stopped)")

    # ------------------------------------------------------------------ control tick
    def on_control(self) -> None:
        st, mission = self.state, self.mission
        t_wall = time.perf_counter()
        st.stats.control_wall_times.append(t_wall)
        now = self.time.now_s()
        if not self.instruction_started and st.latest_frame is not None and self.odom.latest() is not None:
            self.instruction_started = True
            mission.start(self.s.initial_instruction, now)
        dt = (self.s.control_period_s if self.last_control_s is None
              else min(max(now - self.last_control_s, 0.0), 0.5))
        self.last_control_s = now
        waiting = self.server_outages(now)
        latest = self.odom.latest()
        first_of_plan, t_mpc, t_safety = None, t_wall, t_wall
        if latest is None:
            out_active = mission.active
            cmd = Command(0.0, 0.0)
            st.hold_reason = "odometry never received" if out_active else ""
        else:
            pose = self.odom.pose_at(now) or latest.pose
            t_mpc = time.perf_counter()
            out = mission.control(now, pose, st.last_cmd, dt)
            out_active = out.active
            t_safety = time.perf_counter()
            cmd = self.safe_command(now, pose, out, dt) if out.active else Command(0.0, 0.0)
            if out.active and waiting:
                self.feed.safety(now, "outage", "stop", waiting, cmd, Command(0.0, 0.0))
                cmd = Command(0.0, 0.0)  # a server is away: hold until it answers
                st.hold_reason = waiting
            elif out.active and out.source == "hold" and not st.hold_reason:
                st.hold_reason = mission.hold_reason(now)  # a stop always says why
            if out.active and out.source == "tracker" and out.plan_stamp_s is not None \
                    and out.plan_stamp_s == st.pending_plan_stamp:
                # first command computed from the plan of this image
                st.stats.plan_to_cmd_latency_s.append(now - out.plan_stamp_s)
                st.pending_plan_stamp = None
                first_of_plan = out.plan_stamp_s
        t_publish = time.perf_counter()
        to_send = self.gate.filter(out_active, cmd)
        if to_send is not None:
            self.publish_cmd(to_send)
        t_end = time.perf_counter()
        st.stats.control_compute_s.append(t_end - t_wall)
        self.feed.commanded(first_of_plan, now, self.time.now_s(), t_safety - t_mpc, t_publish - t_safety,
                            t_end - t_publish)

    def server_outages(self, now: float) -> str:
        """Fail the mission on an outage past its limit; -> the reason to hold for, if any.

        This is the one outage policy: the mission itself never fails for a server that is away."""
        st = self.state
        outages = ((st.s2_outage, Reason.S2_UNREACHABLE), (st.s1_outage, Reason.S1_UNREACHABLE))
        if not self.mission.active:
            for outage, _ in outages:
                outage.reset()
            return ""
        for outage, reason in outages:
            if outage.expired(now):
                self.mission.fail(f"{reason}: {outage.failure_reason(now)}", now)
                self.log.error(f"{reason}: {outage.failure_reason(now)}")
                outage.reset()
        return st.s2_outage.waiting_reason(now) or st.s1_outage.waiting_reason(now)

    def safe_command(self, now: float, pose: Pose2D, out, dt: float) -> Command:
        """watchdog -> limiter -> collision monitor (the order the module docstring gives)."""
        st = self.state
        with st.lock:
            odom_rx, depth_rx, obstacles = st.odom_rx_s, st.depth_rx_s, st.obstacles_odom
        # Look two periods ahead: one to the next tick, one for executor jitter and delivery, so
        # the zero command reaches the base before the input is older than its limit.
        verdict = self.watchdog.check(now, odom_rx, depth_rx, plan_stamp_s=out.plan_stamp_s,
                                      needs_plan=out.source == "tracker", needs_depth=out.source != "hold",
                                      horizon_s=2.0 * self.s.control_period_s)
        if not verdict.ok:
            st.hold_reason = verdict.reason
            self.feed.safety(now, "watchdog", "stop", verdict.reason, out.command, Command(0.0, 0.0))
            return Command(0.0, 0.0)
        cmd = limit_command(out.command, st.last_cmd, dt, self.limits, allow_reverse=out.reverse)
        self.feed.limiter(now, out.command, cmd)
        predicted = out.predicted if out.predicted is not None and len(out.predicted) > 1 else None
        if predicted is None:
            predicted = rollout(pose, cmd, self.s.predict_time_s)
        else:
            predicted = np.concatenate([[[pose.x_m, pose.y_m, pose.theta_rad]], np.asarray(predicted)[:, :3]])
        target = self.mission.target
        collision = self.memory.check(self.collision, predicted, obstacles,
                                      target.xy if target is not None else None, now)
        st.hold_reason = collision.reason
        allowed = collision.apply(cmd)
        if collision.action != "clear":
            self.feed.safety(now, "collision", collision.action, collision.reason, cmd, allowed)
        return allowed

    def publish_cmd(self, cmd: Command) -> None:
        twist = Twist()
        twist.linear.x = float(cmd.v_mps)
        twist.angular.z = float(cmd.w_radps)
        if self.s.cmd_vel_stamped:
            msg = TwistStamped()
            msg.header.stamp = self.time.now_msg()
            msg.header.frame_id = self.s.base_frame
            msg.twist = twist
            self.cmd_pub.publish(msg)
        else:
            self.cmd_pub.publish(twist)
        self.state.last_cmd = cmd
        self.state.stats.cmds_published += 1
