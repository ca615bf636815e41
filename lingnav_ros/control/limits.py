"""Velocity and acceleration limits of the base, and the pure functions that enforce them."""
from __future__ import annotations

from dataclasses import dataclass

from lingnav_ros.control.types import Command


@dataclass(frozen=True)
class VelocityLimits:
    """Defaults suit a Wheeltec-class base; the navigator sets them from parameters."""

    v_max_mps: float = 0.25
    v_min_mps: float = 0.0  # < 0 allows reversing
    w_max_radps: float = 0.5
    a_max_mps2: float = 0.5
    alpha_max_radps2: float = 1.5

    def clamp(self, cmd: Command) -> Command:
        """Inside the velocity box."""
        return Command(min(max(cmd.v_mps, self.v_min_mps), self.v_max_mps),
                       min(max(cmd.w_radps, -self.w_max_radps), self.w_max_radps))

    def rate_limit(self, cmd: Command, last: Command, dt_s: float) -> Command:
        """Inside the box and reachable from `last` within one step of `dt_s`."""
        last = self.clamp(last)
        dv, dw = self.a_max_mps2 * dt_s, self.alpha_max_radps2 * dt_s
        limited = Command(min(max(cmd.v_mps, last.v_mps - dv), last.v_mps + dv),
                          min(max(cmd.w_radps, last.w_radps - dw), last.w_radps + dw))
        return self.clamp(limited)

    def scaled(self, speed_scale: float) -> VelocityLimits:
        """The same base with its top speed scaled (slowdown zones)."""
        s = min(max(speed_scale, 0.0), 1.0)
        return VelocityLimits(self.v_max_mps * s, min(self.v_min_mps, 0.0) * s, self.w_max_radps,
                              self.a_max_mps2, self.alpha_max_radps2)
