"""Differential-drive base: command latency, acceleration limits, contacts that stop motion.

Only what overlaps the robot's own height touches it: a table top higher than `height_m` passes
over, its legs do not. Contacts are counted by whose move caused them: the robot driving into
something is a contact; something walking into a robot that stands still (or creeps slower than
`STANDING_MPS`) is a "hit while stopped", counted apart because the robot could not have avoided it.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from lingnav_core.angles import wrap
from lingnav_ros.sim.world import World

CONTACT_RELEASE_M = 0.03
STANDING_MPS = 0.02  # slower than this the robot counts as standing


@dataclass(frozen=True)
class RobotParams:
    radius_m: float = 0.2
    v_max_mps: float = 0.6
    w_max_radps: float = 1.5
    a_max_mps2: float = 1.0
    alpha_max_radps2: float = 3.0
    cmd_latency_s: float = 0.05
    height_m: float = 0.5  # objects entirely above this pass over the robot

    def __post_init__(self) -> None:
        for name in ("radius_m", "v_max_mps", "w_max_radps", "a_max_mps2", "alpha_max_radps2", "height_m"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0.0):
                raise ValueError(f"robot {name} must be finite and > 0, got {v}")
        if not (math.isfinite(self.cmd_latency_s) and self.cmd_latency_s >= 0.0):
            raise ValueError(f"robot cmd_latency_s must be finite and >= 0, got {self.cmd_latency_s}")


class DiffDriveRobot:
    def __init__(self, world: World, params: RobotParams | None = None, pose=None):
        self.world = world
        self.params = params or RobotParams()
        x, y, th = pose if pose is not None else world.start
        self.x_m, self.y_m, self.theta_rad = float(x), float(y), float(th)
        self.v_mps = 0.0
        self.w_radps = 0.0
        self.contacts = 0
        self.hits_while_stopped = 0
        self.in_contact = False
        self.distance_m = 0.0
        self._pending: deque[tuple[float, float, float]] = deque()  # (apply_at_s, v, w)
        self._cmd = (0.0, 0.0)
        self.others: list[tuple[float, float, float]] = []  # other robots (x, y, radius), set by the caller
        self._static = None if world.moving() else self._obstacles(0.0)
        self.set_time(0.0)

    def _obstacles(self, t_s: float) -> tuple[np.ndarray, list[tuple[float, float, float]]]:
        """Faces and cylinders at time t that reach into the robot's height band."""
        segs, bottoms, tops, _ = self.world.segments(t_s)
        low = (bottoms < self.params.height_m) & (tops > 0.0)
        cyls = [(c.x_m, c.y_m, c.radius_m) for c in self.world.cylinders(t_s) if c.z_min_m < self.params.height_m]
        return segs[low], cyls

    def set_time(self, t_s: float) -> None:
        """Move the world's moving objects to time t (before the robot's own step)."""
        self._segs, self._cyls = self._static if self._static is not None else self._obstacles(t_s)

    def command(self, now_s: float, v_mps: float, w_radps: float) -> None:
        self._pending.append((now_s + self.params.cmd_latency_s, float(v_mps), float(w_radps)))

    def step(self, now_s: float, dt_s: float) -> None:
        while self._pending and self._pending[0][0] <= now_s:
            _, v, w = self._pending.popleft()
            self._cmd = (v, w)
        p = self.params
        v_goal = min(max(self._cmd[0], -p.v_max_mps), p.v_max_mps)
        w_goal = min(max(self._cmd[1], -p.w_max_radps), p.w_max_radps)
        self.v_mps += min(max(v_goal - self.v_mps, -p.a_max_mps2 * dt_s), p.a_max_mps2 * dt_s)
        self.w_radps += min(max(w_goal - self.w_radps, -p.alpha_max_radps2 * dt_s), p.alpha_max_radps2 * dt_s)
        th = self.theta_rad + 0.5 * self.w_radps * dt_s
        nx = self.x_m + self.v_mps * math.cos(th) * dt_s
        ny = self.y_m + self.v_mps * math.sin(th) * dt_s
        self.theta_rad = wrap(self.theta_rad + self.w_radps * dt_s)
        self._touch(nx, ny)

    def _touch(self, nx: float, ny: float) -> None:
        """Translate to (nx, ny) unless that drives into something; count who caused a contact."""
        r = self.params.radius_m
        here = self.clearance(self.x_m, self.y_m)
        there = self.clearance(nx, ny)
        if here < r and not self.in_contact:
            # something came to the robot (it moved, or the robot stood next to it)
            if abs(self.v_mps) < STANDING_MPS:
                self.hits_while_stopped += 1
            else:
                self.contacts += 1
            self.in_contact = True
        if there < r and there < here:
            # Blocked: translation into the obstacle does not happen (rotation still does).
            if not self.in_contact:
                self.contacts += 1
            self.in_contact = True
            self.v_mps = 0.0
            return
        self.distance_m += math.hypot(nx - self.x_m, ny - self.y_m)
        self.x_m, self.y_m = nx, ny
        # Pressing against an obstacle is one contact, not one per physics step.
        if self.in_contact and there > r + CONTACT_RELEASE_M:
            self.in_contact = False

    def clearance(self, x: float, y: float) -> float:
        """Distance from (x, y) to the nearest wall, box face or cylinder surface."""
        best = math.inf
        if len(self._segs):
            a, b = self._segs[:, :2], self._segs[:, 2:]
            ab = b - a
            t = np.clip(((x - a[:, 0]) * ab[:, 0] + (y - a[:, 1]) * ab[:, 1]) /
                        np.maximum((ab ** 2).sum(axis=1), 1e-12), 0.0, 1.0)
            d = np.hypot(a[:, 0] + t * ab[:, 0] - x, a[:, 1] + t * ab[:, 1] - y)
            best = float(d.min())
        for cx, cy, r in list(self._cyls) + self.others:
            best = min(best, math.hypot(x - cx, y - cy) - r)
        return best
