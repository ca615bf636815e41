"""Velocity and acceleration limits applied to every command, whatever produced it.

The tracker respects the limits itself; this layer guarantees them for the primitives, the
collision monitor's slow-downs and stops (decelerating within `a_max`), and any later change.
"""
from __future__ import annotations

import math

from lingnav_ros.control.limits import VelocityLimits
from lingnav_ros.control.types import Command


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def limit_command(cmd: Command, last: Command, dt_s: float, limits: VelocityLimits,
                  allow_reverse: bool = False) -> Command:
    """Clamp speeds, then the change from `last` to what the accelerations allow in `dt_s`."""
    v_min = -limits.v_max_mps if allow_reverse else limits.v_min_mps
    v = _clamp(cmd.v_mps if math.isfinite(cmd.v_mps) else 0.0, v_min, limits.v_max_mps)
    w = _clamp(cmd.w_radps if math.isfinite(cmd.w_radps) else 0.0, -limits.w_max_radps, limits.w_max_radps)
    dt = max(dt_s, 0.0)
    dv = limits.a_max_mps2 * dt
    dw = limits.alpha_max_radps2 * dt
    v = _clamp(v, last.v_mps - dv, last.v_mps + dv)
    w = _clamp(w, last.w_radps - dw, last.w_radps + dw)
    return Command(v, w)


def braking_command(last: Command, dt_s: float, limits: VelocityLimits) -> Command:
    """Decelerate toward zero as fast as the limits allow (used for a controlled stop)."""
    return limit_command(Command(0.0, 0.0), last, dt_s, limits, allow_reverse=True)
