"""NavStatus and /diagnostics, from the measurements in `state.NavigatorStats`.

The status reason is what an operator reads first, so it names the mission's own reason, then
why the controller holds, then a sensor or planner fault."""
from __future__ import annotations

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from lingnav_msgs.msg import NavStatus
from std_msgs.msg import Header

from lingnav_ros.mission.mission import Mission
from lingnav_ros.mission.states import MissionState
from lingnav_ros.nodes.navigator.settings import StatusSettings
from lingnav_ros.nodes.navigator.state import NavigatorState, NodeTime
from lingnav_ros.perception.extrinsics import MountProvider
from lingnav_ros.stamps import time_msg


class StatusReporter:
    def __init__(self, settings: StatusSettings, node_name: str, state: NavigatorState, time: NodeTime,
                 mission: Mission, sync_backend: str, mounts: MountProvider, status_pub, diag_pub,
                 mount_check=None) -> None:
        self.s = settings
        self.node_name = node_name
        self.state = state
        self.time = time
        self.mission = mission
        self.sync_backend = sync_backend
        self.mounts = mounts
        self.status_pub = status_pub
        self.diag_pub = diag_pub
        self.mount_check = mount_check  # mount_check.MountSelfCheck: its finding on /diagnostics

    def reason(self, st, now_s: float) -> str:
        """The first cause: the mission's own reason, then a server outage, then the sensor
        fault that started first, then why the controller holds (which a fault often causes)."""
        if st.reason:
            return st.reason
        state = self.state
        fault = state.faults.first()
        if st.state == MissionState.IDLE:
            return fault or state.mount_warning  # a mount that disagrees is said before a mission
        waiting = state.s2_outage.waiting_reason(now_s) or state.s1_outage.waiting_reason(now_s)
        return waiting or fault or state.hold_reason

    def status_msg(self) -> NavStatus:
        now = self.time.now_s()
        st = self.mission.status(now)
        reason = self.reason(st, now)
        return NavStatus(header=Header(stamp=time_msg(now), frame_id=self.s.odom_frame), state=int(st.state),
                         state_name=st.state.name, instruction=st.instruction, target=st.target, reason=reason,
                         distance_to_target_m=float(st.distance_to_target_m), s2_latency_s=float(st.s2_latency_s),
                         s1_latency_s=float(st.s1_latency_s), plan_age_s=float(st.plan_age_s),
                         s2_calls=int(st.s2_calls), s1_calls=int(st.s1_calls), step_index=int(st.step_index),
                         step_count=int(st.step_count), step_text=st.step_text)

    def publish_status(self) -> None:
        self.status_pub.publish(self.status_msg())

    def publish_diagnostics(self) -> None:
        self.diag_pub.publish(self.diagnostics())

    def diagnostics(self) -> DiagnosticArray:
        state, stats, s = self.state, self.state.stats, self.s
        now = self.time.now_s()
        times = np.diff(np.asarray(stats.control_wall_times)[-200:])
        jitter = np.abs(times - s.control_period_s) if times.size else np.zeros(1)
        st = self.mission.status(now)
        sensor_error = state.faults.first()
        s2_problem = state.s2_error or state.s2_outage.waiting_reason(now)
        s1_problem = state.s1_error or state.s1_outage.waiting_reason(now)

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
                "last_cmd": f"{state.last_cmd.v_mps:.3f} m/s {state.last_cmd.w_radps:.3f} rad/s",
                "hold_reason": state.hold_reason}),
            status("sensors", error if sensor_error else ok, sensor_error or "ok", {
                "rgbd_rate_hz": f"{stats.frames.hz(now):.1f}", "odom_rate_hz": f"{stats.odom.hz(now):.1f}",
                "sync": self.sync_backend, "camera_info": "yes" if state.camera_info else "fallback",
                "mount_source": self.mounts.source}),
            status("s2", error if s2_problem else ok, s2_problem or "ok", {
                "server": s.s2_server, "health": state.s2_health, "calls": st.s2_calls,
                "latency_p50_s": f"{np.median(s2_lat):.3f}" if s2_lat.size else "nan"}),
            status("s1", error if s1_problem else ok, s1_problem or "ok", {
                       "mode": s.s1_mode, "health": state.s1_health, "calls": st.s1_calls,
                       "latency_p50_s": f"{np.median(s1_lat):.3f}" if s1_lat.size else "nan",
                       "plan_to_cmd_p50_s": (f"{np.median(stats.plan_to_cmd_latency_s):.3f}"
                                             if stats.plan_to_cmd_latency_s else "nan")}),
            status("mission", error if st.state == MissionState.FAILED else ok, st.state.name, {
                "instruction": st.instruction, "reason": st.reason, "episode": st.episode}),
        ]
        if self.mount_check is not None:
            last = self.mount_check.last
            arr.status.append(status("camera mount", warn if state.mount_warning else ok,
                                     last.message if last is not None else "not checked yet",
                                     self.mount_check.diagnostics_values()))
        return arr
