"""The simulator without ROS: world + robot + camera, stepped by the caller's clock."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_ros.sim.camera_model import CameraFrame, CameraModel
from lingnav_ros.sim.render import Renderer
from lingnav_ros.sim.robot import DiffDriveRobot, RobotParams
from lingnav_ros.sim.world import Shape, World


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


@dataclass
class Agent:
    """One simulated robot: its base, its camera's faults and what counts as its target."""

    name: str
    robot: DiffDriveRobot
    camera_model: CameraModel
    target_label: str


ROBOT_RGB = (70, 70, 80)  # how the robots look to each other's cameras: dark, unsaturated


class Simulator:
    """World, robots and cameras. A world with `robots:` has one agent per entry, each seeing
    and touching the others as moving cylinders; otherwise one robot at the world's start."""

    def __init__(self, world: World, camera: CameraParams | None = None, robot: RobotParams | None = None,
                 camera_model: CameraModel | None = None):
        self.world = world
        self.camera = camera or CameraParams()
        model = camera_model or CameraModel()  # ideal unless told otherwise
        specs = world.robots or [None]
        self.agents = [Agent(spec.name if spec else "", DiffDriveRobot(world, robot, spec.start if spec else None),
                             copy.deepcopy(model) if spec else model,
                             spec.target_label if spec else world.target_label) for spec in specs]
        self.robot = self.agents[0].robot
        self.camera_model = self.agents[0].camera_model
        self.renderer = Renderer(world, self.camera.intrinsics(), self.camera.mount())
        self.time_s = 0.0

    def command(self, v_mps: float, w_radps: float, index: int = 0) -> None:
        self.agents[index].robot.command(self.time_s, v_mps, w_radps)

    def step(self, dt_s: float) -> None:
        self.time_s += dt_s
        for i, agent in enumerate(self.agents):
            agent.robot.set_time(self.time_s)
            agent.robot.others = [(r.x_m, r.y_m, r.params.radius_m) for r in self._other_robots(i)]
        for agent in self.agents:
            agent.robot.step(self.time_s, dt_s)

    def _other_robots(self, index: int) -> list[DiffDriveRobot]:
        return [a.robot for j, a in enumerate(self.agents) if j != index]

    def _others_as_shapes(self, index: int) -> list[Shape]:
        return [Shape("cylinder", r.x_m, r.y_m, r.params.height_m, ROBOT_RGB, radius_m=r.params.radius_m)
                for r in self._other_robots(index)]

    def render(self, index: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The perfect frame at a robot's pose now (geometry truth, no camera faults)."""
        r = self.agents[index].robot
        return self.renderer.render(r.x_m, r.y_m, r.theta_rad, self.time_s, self._others_as_shapes(index))

    def capture(self, index: int = 0) -> bool:
        """Expose a frame now through the camera model; False when the camera loses it."""
        agent = self.agents[index]
        r = agent.robot
        rgb, depth, absorbing = self.renderer.render_layers(r.x_m, r.y_m, r.theta_rad, self.time_s,
                                                            self._others_as_shapes(index))
        return agent.camera_model.capture(self.time_s, rgb, depth, absorbing)

    def frames_due(self, index: int = 0) -> list[CameraFrame]:
        """Captured frames whose latency has passed: publish these, stamped with their capture time."""
        return self.agents[index].camera_model.due(self.time_s)

    def target_distance_m(self, index: int = 0) -> float:
        """Distance from a robot's centre to its target's surface (NaN without a target)."""
        agent = self.agents[index]
        target = self.world.find(agent.target_label) if agent.target_label else None
        if target is None:
            return float("nan")
        r = agent.robot
        target = target.at(self.time_s)
        if target.kind == "cylinder":
            return math.hypot(r.x_m - target.x_m, r.y_m - target.y_m) - target.radius_m
        c = target.corners()
        # distance to the box polygon (0 inside)
        d = min(_point_segment(r.x_m, r.y_m, *c[i], *c[(i + 1) % 4]) for i in range(4))
        return d

    def state(self, index: int = 0) -> dict:
        r = self.agents[index].robot
        return {"t": self.time_s, "x": r.x_m, "y": r.y_m, "theta": r.theta_rad, "v": r.v_mps, "w": r.w_radps,
                "contacts": r.contacts,
                "hits_while_stopped": r.hits_while_stopped, "in_contact": r.in_contact, "distance_m": r.distance_m,
                "target_distance_m": self.target_distance_m(index)}


def _point_segment(px, py, x0, y0, x1, y1) -> float:
    ex, ey = x1 - x0, y1 - y0
    t = min(max(((px - x0) * ex + (py - y0) * ey) / max(ex * ex + ey * ey, 1e-12), 0.0), 1.0)
    return math.hypot(x0 + t * ex - px, y0 + t * ey - py)
