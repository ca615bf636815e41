"""The camera mount self-check: at start-up and on `lingnav/check_mount` (std_srvs/Trigger) the
navigator fits the floor in the latest depth frame (`perception.floor_fit`) and compares the
camera height and pitch it measures with the mount in use (parameters, TF or the camera/mount
topic). Beyond the tolerances it warns in the log, on /diagnostics and in the status, with both
values and the parameter lines to set; the robot still drives (a mount a few degrees off is a
warning, not a fault). The start-up check waits for the first frames and tries a few of them
(the robot may start facing a wall) before it reports that it found no floor."""
from __future__ import annotations

import math
from dataclasses import dataclass

from lingnav_ros.nodes.navigator.state import NavigatorState
from lingnav_ros.perception.extrinsics import MountProvider
from lingnav_ros.perception.floor_fit import FloorFitConfig, MountCheck, check_mount, fit_floor

START_ATTEMPTS = 10  # frames (one per period) the start-up check tries before it gives up


@dataclass(frozen=True)
class MountCheckSettings:
    on_start: bool
    height_tolerance_m: float
    pitch_tolerance_rad: float
    period_s: float = 1.0  # start-up attempts, one per period

    @classmethod
    def from_params(cls, p) -> MountCheckSettings:
        return cls(p.mount_check_on_start, p.mount_check_height_tolerance_m, p.mount_check_pitch_tolerance_rad)


class MountSelfCheck:
    def __init__(self, settings: MountCheckSettings, state: NavigatorState, logger, mounts: MountProvider,
                 fit_config: FloorFitConfig = FloorFitConfig()) -> None:
        self.s = settings
        self.state = state
        self.log = logger
        self.mounts = mounts
        self.fit_config = fit_config
        self.last: MountCheck | None = None
        self.start_attempts = 0 if settings.on_start else START_ATTEMPTS

    def check(self, quiet: bool = False) -> MountCheck | None:
        """Check on the latest frame; None before any frame arrived. `quiet`: log nothing (a
        start-up attempt that may still be followed by a better frame)."""
        with self.state.lock:
            frame = self.state.latest_frame
        if frame is None:
            return None
        mount = self.mounts.mount()
        fit = fit_floor(frame.depth_m, frame.intrinsics, mount, self.fit_config)
        result = check_mount(fit, mount, self.mounts.source, self.s.height_tolerance_m, self.s.pitch_tolerance_rad)
        self.last = result
        self.state.mount_warning = "" if result.ok else result.message
        if not quiet:
            (self.log.info if result.ok else self.log.warning)(result.message)
        return result

    def on_start_tick(self) -> None:
        """Start-up: until a frame shows the floor, at most START_ATTEMPTS frames."""
        if self.start_attempts >= START_ATTEMPTS or (self.last is not None and self.last.fit is not None):
            return
        result = self.check(quiet=True)
        if result is None:
            return
        self.start_attempts += 1
        if result.fit is None and self.start_attempts < START_ATTEMPTS:
            self.state.mount_warning = ""  # not yet: the next frames may show floor
        else:
            (self.log.info if result.ok else self.log.warning)(result.message)

    def on_trigger(self, _request, response):
        """std_srvs/Trigger: success when the measured mount is within tolerance."""
        result = self.check()
        response.success = bool(result is not None and result.ok)
        response.message = result.message if result is not None else "camera mount check: no depth frame yet"
        return response

    def diagnostics_values(self) -> dict[str, str]:
        r = self.last
        configured = self.mounts.mount()
        values = {"source": self.mounts.source, "configured_height_m": f"{configured.height_m:.3f}",
                  "configured_pitch_deg": f"{math.degrees(configured.pitch_rad):.1f}"}
        if r is not None and r.fit is not None:
            values.update(measured_height_m=f"{r.fit.height_m:.3f}",
                          measured_pitch_deg=f"{math.degrees(r.fit.pitch_rad):.1f}",
                          measured_roll_deg=f"{math.degrees(r.fit.roll_rad):.1f}",
                          floor_points=f"{r.fit.inliers}/{r.fit.points}")
        return values


def attach(node, settings: MountCheckSettings, state: NavigatorState, mounts: MountProvider) -> MountSelfCheck:
    """The self-check with its Trigger service and start-up timer on `node`."""
    from std_srvs.srv import Trigger

    from lingnav_ros import topics

    check = MountSelfCheck(settings, state, node.get_logger(), mounts)
    node.create_service(Trigger, topics.CHECK_MOUNT, check.on_trigger, callback_group=node.cb_misc)
    if settings.on_start:
        node.create_timer(settings.period_s, check.on_start_tick, callback_group=node.cb_misc)
    return check
