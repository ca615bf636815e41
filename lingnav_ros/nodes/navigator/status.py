"""NavStatus and /diagnostics, and the measurements behind them (also read by bench/control_loop.py).

The status reason is what an operator reads first, so it names the mission's own reason, then
why the controller holds, then a sensor or planner fault."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from lingnav_msgs.msg import NavStatus
from std_msgs.msg import Header

from lingnav_ros.mission.states import MissionState
from lingnav_ros.stamps import time_msg


@dataclass
class Rates:
    """Event counter over a sliding window, for diagnostics."""

    window_s: float = 5.0

    def __post_init__(self) -> None:
        self.times: deque[float] = deque(maxlen=2000)

    def tick(self, t: float) -> None:
        self.times.append(t)

    def hz(self, now: float) -> float:
        recent = [t for t in self.times if now - t <= self.window_s]
        return len(recent) / self.window_s if recent else 0.0


class NavigatorStats:
    """Measurements the diagnostics and bench/control_loop.py read."""

    def __init__(self) -> None:
        self.control_wall_times: deque[float] = deque(maxlen=20000)
        self.control_compute_s: deque[float] = deque(maxlen=20000)
        self.plan_to_cmd_latency_s: deque[float] = deque(maxlen=2000)
        self.s1_wall_s: deque[float] = deque(maxlen=2000)
        self.s2_wall_s: deque[float] = deque(maxlen=2000)
        self.frames = Rates()
        self.odom = Rates()
        self.cmds_published = 0


class StatusReporter:
    def __init__(self, node, node_name: str) -> None:
        self.node = node
        self.node_name = node_name

    def reason(self, st, now_s: float) -> str:
        """The first cause: the mission's own reason, then a server outage, then the sensor
        fault that started first, then why the controller holds (which a fault often causes)."""
        node = self.node
        if st.reason:
            return st.reason
        fault = node.faults.first()
        if st.state == MissionState.IDLE:
            return fault
        waiting = node.s2_outage.waiting_reason(now_s) or node.s1_outage.waiting_reason(now_s)
        return waiting or fault or node.hold_reason

    def status_msg(self) -> NavStatus:
        node = self.node
        now = node.now_s()
        st = node.mission.status(now)
        reason = self.reason(st, now)
        return NavStatus(header=Header(stamp=time_msg(now), frame_id=node.p.odom_frame), state=int(st.state),
                         state_name=st.state.name, instruction=st.instruction, target=st.target, reason=reason,
                         distance_to_target_m=float(st.distance_to_target_m), s2_latency_s=float(st.s2_latency_s),
                         s1_latency_s=float(st.s1_latency_s), plan_age_s=float(st.plan_age_s),
                         s2_calls=int(st.s2_calls), s1_calls=int(st.s1_calls))

    def publish_status(self) -> None:
        self.node.status_pub.publish(self.status_msg())

    def publish_diagnostics(self) -> None:
        self.node.diag_pub.publish(self.diagnostics())

    def diagnostics(self) -> DiagnosticArray:
        node, stats, p = self.node, self.node.stats, self.node.p
        now = node.now_s()
        times = np.diff(np.asarray(stats.control_wall_times)[-200:])
        period = 1.0 / p.control_rate_hz
        jitter = np.abs(times - period) if times.size else np.zeros(1)
        st = node.mission.status(now)
        sensor_error = node.faults.first()
        s2_problem = node.s2_error or node.s2_outage.waiting_reason(now)
        s1_problem = node.s1_error or node.s1_outage.waiting_reason(now)

        def status(name, level, message, values):
            return DiagnosticStatus(level=level, name=f"{self.node_name}: {name}", message=message,
                                    hardware_id=self.node_name,
                                    values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])

        ok, warn, error = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR
        s1_lat = np.asarray(stats.s1_wall_s)
        s2_lat = np.asarray(stats.s2_wall_s)
        arr = DiagnosticArray(header=Header(stamp=time_msg(now)))
        arr.status = [
            status("control", ok if times.size else warn, "running" if times.size else "no ticks yet", {
                "rate_hz": f"{1.0 / times.mean():.1f}" if times.size else "0",
                "jitter_p50_ms": f"{1e3 * np.percentile(jitter, 50):.2f}",
                "jitter_p99_ms": f"{1e3 * np.percentile(jitter, 99):.2f}",
                "compute_p99_ms": f"{1e3 * np.percentile(list(stats.control_compute_s)[-200:] or [0.0], 99):.2f}",
                "last_cmd": f"{node.last_cmd.v_mps:.3f} m/s {node.last_cmd.w_radps:.3f} rad/s",
                "hold_reason": node.hold_reason}),
            status("sensors", error if sensor_error else ok, sensor_error or "ok", {
                "rgbd_rate_hz": f"{stats.frames.hz(now):.1f}", "odom_rate_hz": f"{stats.odom.hz(now):.1f}",
                "sync": node.sync.backend, "camera_info": "yes" if node.camera_info else "fallback",
                "mount_source": node.mounts.source}),
            status("s2", error if s2_problem else ok, s2_problem or "ok", {
                "server": f"{p.s2_host}:{p.s2_port}", "health": node.s2_health, "calls": st.s2_calls,
                "latency_p50_s": f"{np.median(s2_lat):.3f}" if s2_lat.size else "nan"}),
            status("s1", error if s1_problem else ok, s1_problem or "ok", {
                       "mode": p.s1_mode, "health": node.s1_health, "calls": st.s1_calls,
                       "latency_p50_s": f"{np.median(s1_lat):.3f}" if s1_lat.size else "nan",
                       "plan_to_cmd_p50_s": (f"{np.median(stats.plan_to_cmd_latency_s):.3f}"
                                             if stats.plan_to_cmd_latency_s else "nan")}),
            status("mission", error if st.state == MissionState.FAILED else ok, st.state.name, {
                "instruction": st.instruction, "reason": st.reason, "episode": st.episode}),
        ]
        return arr
