"""Closed-loop harness for the mission logic without ROS: a kinematic robot in a ray-cast scene,
an oracle S2 that answers from the scene, and a straight-line S1 (the planners have their own
tests; here the subject is the mission)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lingnav_core.camera import base_to_pixel
from lingnav_core.s1_plan import NUM_WAYPOINTS, PixelGoal, PointGoal, S1Plan
from lingnav_core.s2_decision import S2Decision, S2Task
from lingnav_ros.control.limits import VelocityLimits
from lingnav_ros.control.mpc import MpcParams, MpcTracker
from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.mission.mission import Mission, MissionConfig
from lingnav_ros.mission.moves import ControlPrimitives
from lingnav_ros.mission.target import target_in_base
from test.navigator_scene import Box, Scene, integrate

LIMITS = VelocityLimits(v_max_mps=0.25, v_min_mps=0.0, w_max_radps=0.5, a_max_mps2=0.5, alpha_max_radps2=1.5)


def decision(kind, target=None, visible=False, point=None, navigation="", tasks=()):  # noqa: PLR0917
    return S2Decision(kind=kind, target=target, visible=visible, point_2d_pixel=point, point_2d_norm=None,
                      navigation=navigation, tasks=list(tasks), raw="", latency_ms=5.0, model="test")


def move_task(symbol, count=1):
    return S2Task(task="move", action=symbol, number=count)


def point_task(target, point=None):
    return S2Task(task="pixel_point", target=target, point_2d_pixel=point)


def make_mission(**overrides) -> Mission:
    cfg = MissionConfig(**overrides)
    return Mission(cfg, MpcTracker(MpcParams(), LIMITS), ControlPrimitives(LIMITS, 0.03, 0.03))


@dataclass
class Harness:
    scene: Scene
    mission: Mission
    pose: Pose2D = Pose2D(0.0, 0.0, 0.0)
    t: float = 0.0
    dt: float = 0.05
    last_cmd: Command = Command(0.0, 0.0)
    queries: list = field(default_factory=list)  # (t, pose) of each S2 query
    commands: list = field(default_factory=list)

    def oracle(self, frame, target_box: Box | None, name="red box"):
        """S2 from the scene: the box centre's pixel when it is really seen, else a left arrow."""
        if target_box is not None:
            cx, cy = target_box.center
            p = np.array([[cx, cy, 0.5 * target_box.height_m]])
            from lingnav_ros.perception.planar_transforms import odom_to_base_xy

            p[:, :2] = odom_to_base_xy(p[:, :2], frame.pose)
            uv, front = base_to_pixel(p, frame.intrinsics, frame.mount)
            u, v = int(round(uv[0, 0])), int(round(uv[0, 1]))
            h, w = frame.rgb.shape[:2]
            if front[0] and 0 <= u < w and 0 <= v < h and tuple(frame.rgb[v, u]) == target_box.rgb:
                return decision("pixel", name, True, (u, v), "↑", [point_task(name, (u, v))])
        return decision("move", name, False, None, "←", [point_task(name), move_task("←")])

    def query(self, answer):
        """Send an S2 query if one is due; `answer(frame)` is the decision."""
        frame = self.scene.frame(self.pose, self.t)
        req = self.mission.s2_request(self.t, frame.stamp_s)
        if req is None:
            return None
        self.queries.append((self.t, self.pose))
        self.mission.on_s2_decision(req, answer(frame), frame, self.t)
        return req

    def plan_line(self, no_safe_path=False):
        """S1 stand-in: a straight 24-point line from the robot to the goal of the current frame."""
        frame = self.scene.frame(self.pose, self.t)
        req = self.mission.s1_request(frame)
        if req is None:
            return None
        if isinstance(req.goal, PointGoal):
            gx, gy = req.goal.x_m, req.goal.y_m
        else:
            assert isinstance(req.goal, PixelGoal)
            tb = target_in_base(self.mission.target, frame.pose)
            gx, gy = tb[0], tb[1]
        s = np.linspace(0.0, 1.0, NUM_WAYPOINTS)
        yaw = math.atan2(gy, gx)
        best = np.stack([s * gx, s * gy, np.full_like(s, yaw)], axis=1)
        plan = S1Plan(best=best, candidates=best[None], values=np.array([1.0]), no_safe_path=no_safe_path,
                      chosen_index=0, backend="line", latency_s=0.01)
        self.mission.on_s1_plan(req, plan, frame, self.t)
        return req

    def tick(self):
        out = self.mission.control(self.t, self.pose, self.last_cmd, self.dt)
        cmd = out.command if out.active else Command(0.0, 0.0)
        self.commands.append((self.t, cmd, out.source))
        self.pose = integrate(self.pose, cmd.v_mps, cmd.w_radps, self.dt)
        self.last_cmd = cmd
        self.t += self.dt
        return out

    def run(self, seconds, answer=None, plan_every_s=0.3, stop_when=None):
        next_plan = self.t
        end = self.t + seconds
        while self.t < end:
            if answer is not None:
                self.query(answer)
            if self.t >= next_plan:
                self.plan_line()
                next_plan = self.t + plan_every_s
            self.tick()
            if stop_when is not None and stop_when():
                return True
        return False
