"""The simulator without ROS: world + robot + camera, stepped by the caller's clock."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_ros.sim.camera_model import CameraFrame, CameraModel
from lingnav_ros.sim.render import Renderer
from lingnav_ros.sim.robot import DiffDriveRobot, RobotParams
from lingnav_ros.sim.world import World


@dataclass(frozen=True)
class CameraParams:
    width: int = 320
    height: int = 240
    hfov_rad: float = math.radians(75.0)
    height_m: float = 0.35
    pitch_rad: float = math.radians(12.0)
    x_m: float = 0.1

    def intrinsics(self) -> Intrinsics:
        return Intrinsics.from_fov(self.width, self.height, self.hfov_rad)

    def mount(self) -> CameraMount:
        return CameraMount(self.height_m, self.pitch_rad, self.x_m)


class Simulator:
    def __init__(self, world: World, camera: CameraParams | None = None, robot: RobotParams | None = None,
                 camera_model: CameraModel | None = None):
        self.world = world
        self.camera = camera or CameraParams()
        self.robot = DiffDriveRobot(world, robot)
        self.renderer = Renderer(world, self.camera.intrinsics(), self.camera.mount())
        self.camera_model = camera_model or CameraModel()  # ideal unless told otherwise
        self.time_s = 0.0

    def command(self, v_mps: float, w_radps: float) -> None:
        self.robot.command(self.time_s, v_mps, w_radps)

    def step(self, dt_s: float) -> None:
        self.time_s += dt_s
        self.robot.set_time(self.time_s)
        self.robot.step(self.time_s, dt_s)

    def render(self) -> tuple[np.ndarray, np.ndarray]:
        """The perfect frame at the robot's pose now (geometry truth, no camera faults)."""
        r = self.robot
        return self.renderer.render(r.x_m, r.y_m, r.theta_rad, self.time_s)

    def capture(self) -> bool:
        """Expose a frame now through the camera model; False when the camera loses it."""
        r = self.robot
        rgb, depth, absorbing = self.renderer.render_layers(r.x_m, r.y_m, r.theta_rad, self.time_s)
        return self.camera_model.capture(self.time_s, rgb, depth, absorbing)

    def frames_due(self) -> list[CameraFrame]:
        """Captured frames whose latency has passed: publish these, stamped with their capture time."""
        return self.camera_model.due(self.time_s)

    def target_distance_m(self) -> float:
        """Distance from the robot centre to the target's surface (NaN without a target)."""
        target = self.world.find(self.world.target_label) if self.world.target_label else None
        if target is None:
            return float("nan")
        r = self.robot
        if target.kind == "cylinder":
            return math.hypot(r.x_m - target.x_m, r.y_m - target.y_m) - target.radius_m
        c = target.corners()
        # distance to the box polygon (0 inside)
        d = min(_point_segment(r.x_m, r.y_m, *c[i], *c[(i + 1) % 4]) for i in range(4))
        return d

    def state(self) -> dict:
        r = self.robot
        return {"t": self.time_s, "x": r.x_m, "y": r.y_m, "theta": r.theta_rad, "v": r.v_mps, "w": r.w_radps,
                "contacts": r.contacts,
                "hits_while_stopped": r.hits_while_stopped, "in_contact": r.in_contact, "distance_m": r.distance_m,
                "target_distance_m": self.target_distance_m()}


def _point_segment(px, py, x0, y0, x1, y1) -> float:
    ex, ey = x1 - x0, y1 - y0
    t = min(max(((px - x0) * ex + (py - y0) * ey) / max(ex * ex + ey * ey, 1e-12), 0.0), 1.0)
    return math.hypot(x0 + t * ex - px, y0 + t * ey - py)
