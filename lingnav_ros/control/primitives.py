"""Closed-loop motion primitives for S2's move tasks (← → turn, ↑ ↓ drive).

The deployed pipeline ran these as timed open-loop velocity bursts that the next plan overwrote after
0.3 s, so turns came up short and searches spun forever. Here each primitive measures its
progress from odometry, brakes with the deceleration limit so it stops on the target, and
reports done only within tolerance, whatever the latency between command and motion.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from lingnav_core.angles import wrap
from lingnav_ros.control.limits import VelocityLimits
from lingnav_ros.control.types import Command, Pose2D


@dataclass
class PrimitiveStep:
    command: Command
    done: bool
    error: float  # remaining angle (rad) or distance (m), signed


def _braking_speed(remaining: float, decel: float, v_max: float, v_min_creep: float) -> float:
    """Fastest speed from which we can still stop within `remaining` (v^2 = 2 a d), at least a creep."""
    return min(v_max, max(math.sqrt(2.0 * decel * max(remaining, 0.0)) * 0.8, v_min_creep))


def _after_overshoot(scale: float, last_sign: float, remaining: float) -> float:
    """Halve the speed each time the target is overshot (a sign flip of the remaining error).

    The latency between a command and its effect is unknown here; braking predicts one control
    period. A longer delay overshoots, and each correction at half the speed overshoots less,
    so the primitive converges within tolerance whatever the latency instead of oscillating.
    """
    return max(scale * 0.5, 0.05) if remaining * last_sign < 0.0 else scale


class RotateBy:
    """Turn in place by `angle_rad` (left positive)."""

    def __init__(self, angle_rad: float, limits: VelocityLimits, tolerance_rad: float = 0.05,
                 settle_speed_radps: float = 0.05, creep_radps: float = 0.1):
        self.angle_rad = float(angle_rad)
        self.creep_radps = creep_radps
        self.limits = limits
        self.tolerance_rad = tolerance_rad
        self.settle_speed_radps = settle_speed_radps
        self._start_theta: float | None = None
        self._turned = 0.0
        self._last_theta = 0.0
        self._scale = 1.0
        self._last_sign = 1.0

    def start(self, pose: Pose2D) -> None:
        self._start_theta = pose.theta_rad
        self._last_theta = pose.theta_rad
        self._turned = 0.0
        self._scale = 1.0
        self._last_sign = 1.0 if self.angle_rad >= 0.0 else -1.0

    def step(self, pose: Pose2D, last_cmd: Command, dt_s: float) -> PrimitiveStep:
        if self._start_theta is None:
            self.start(pose)
        # Integrate wrapped increments so turns beyond +-pi are measured correctly.
        increment = wrap(pose.theta_rad - self._last_theta)
        self._turned += increment
        self._last_theta = pose.theta_rad
        measured_rate = increment / dt_s if dt_s > 0.0 else 0.0
        remaining = self.angle_rad - self._turned
        lim = self.limits
        if abs(remaining) <= self.tolerance_rad:
            # Done only once odometry shows the base at rest: with latency, motion still in the
            # pipeline may carry it out of tolerance, and then it turns back.
            cmd = lim.rate_limit(Command(0.0, 0.0), last_cmd, dt_s)
            settled = abs(last_cmd.w_radps) <= self.settle_speed_radps and abs(measured_rate) <= self.settle_speed_radps
            return PrimitiveStep(cmd, settled, remaining)
        # Account for motion already commanded but not yet seen in odometry (latency).
        in_flight = max(abs(last_cmd.w_radps), abs(measured_rate)) * dt_s
        self._scale = _after_overshoot(self._scale, self._last_sign, remaining)
        self._last_sign = math.copysign(1.0, remaining)
        speed = self._scale * _braking_speed(abs(remaining) - in_flight, lim.alpha_max_radps2, lim.w_max_radps,
                                             self.creep_radps)
        cmd = lim.rate_limit(Command(0.0, math.copysign(speed, remaining)), last_cmd, dt_s)
        return PrimitiveStep(cmd, False, remaining)


class DriveDistance:
    """Drive straight by `distance_m` (forward positive) holding the start heading."""

    def __init__(self, distance_m: float, limits: VelocityLimits, tolerance_m: float = 0.05,
                 heading_gain: float = 1.5, settle_speed_mps: float = 0.03, creep_mps: float = 0.04):
        self.distance_m = float(distance_m)
        self.creep_mps = creep_mps
        self.limits = limits
        self.tolerance_m = tolerance_m
        self.heading_gain = heading_gain
        self.settle_speed_mps = settle_speed_mps
        self._start: Pose2D | None = None
        self._last_along = 0.0
        self._scale = 1.0
        self._last_sign = 1.0

    def start(self, pose: Pose2D) -> None:
        self._start = pose
        self._last_along = 0.0
        self._scale = 1.0
        self._last_sign = 1.0 if self.distance_m >= 0.0 else -1.0

    def step(self, pose: Pose2D, last_cmd: Command, dt_s: float) -> PrimitiveStep:
        if self._start is None:
            self.start(pose)
        s = self._start
        along = (pose.x_m - s.x_m) * math.cos(s.theta_rad) + (pose.y_m - s.y_m) * math.sin(s.theta_rad)
        measured_speed = (along - self._last_along) / dt_s if dt_s > 0.0 else 0.0
        self._last_along = along
        remaining = self.distance_m - along
        lim = self.limits
        if self.distance_m < 0.0 and lim.v_min_mps >= 0.0:
            # Reversing is not allowed by these limits: a backward move is refused, not faked.
            return PrimitiveStep(lim.rate_limit(Command(0.0, 0.0), last_cmd, dt_s), True, remaining)
        can_correct = lim.v_min_mps < 0.0 or remaining > 0.0
        if abs(remaining) <= self.tolerance_m or not can_correct:
            # Done once odometry shows the base at rest; an overshoot out of tolerance is driven
            # back when the limits allow reversing.
            cmd = lim.rate_limit(Command(0.0, 0.0), last_cmd, dt_s)
            settled = abs(last_cmd.v_mps) <= self.settle_speed_mps and abs(measured_speed) <= self.settle_speed_mps
            return PrimitiveStep(cmd, settled, remaining)
        v_cap = lim.v_max_mps if remaining > 0 else -lim.v_min_mps
        in_flight = max(abs(last_cmd.v_mps), abs(measured_speed)) * dt_s
        self._scale = _after_overshoot(self._scale, self._last_sign, remaining)
        self._last_sign = math.copysign(1.0, remaining)
        speed = self._scale * _braking_speed(abs(remaining) - in_flight, lim.a_max_mps2, v_cap, self.creep_mps)
        heading_err = wrap(s.theta_rad - pose.theta_rad)
        cmd = lim.rate_limit(Command(math.copysign(speed, remaining), self.heading_gain * heading_err),
                             last_cmd, dt_s)
        return PrimitiveStep(cmd, False, remaining)
