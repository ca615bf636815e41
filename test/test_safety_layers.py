"""Watchdog, limiter and output gate."""
import math

import pytest

from lingnav_ros.control.limits import VelocityLimits
from lingnav_ros.control.types import Command
from lingnav_ros.safety.gate import CommandGate
from lingnav_ros.safety.limiter import braking_command, limit_command
from lingnav_ros.safety.watchdog import Watchdog, WatchdogConfig


def test_watchdog_names_each_stale_input():
    wd = Watchdog(WatchdogConfig(odom_timeout_s=0.5, depth_timeout_s=0.5, max_plan_age_s=1.0))
    assert wd.check(10.0, 9.9, 9.9, plan_stamp_s=9.5, needs_plan=True).ok
    assert "odometry" in wd.check(10.0, 9.4, 9.9).reason
    assert wd.check(10.0, None, 9.9).reason == "no odometry received yet (limit 0.50 s)"
    assert "depth" in wd.check(10.0, 9.9, 9.3).reason
    assert "plan" in wd.check(10.0, 9.9, 9.9, plan_stamp_s=8.9, needs_plan=True).reason
    # the numbers add up: the age seen plus the look-ahead passes the limit used
    assert wd.check(10.0, 9.9, 9.58, horizon_s=0.1).reason == "no depth for 0.42 s (limit 0.50 s, 0.10 s look-ahead)"
    assert wd.check(10.0, 9.9, 9.0, needs_depth=False).ok
    assert wd.check(10.0, 9.9, 9.9, server_error="S2 server unreachable").reason == "S2 server unreachable"


def test_limiter_clamps_speed_and_acceleration():
    lim = VelocityLimits(v_max_mps=0.25, v_min_mps=0.0, w_max_radps=0.5, a_max_mps2=0.5, alpha_max_radps2=1.5)
    out = limit_command(Command(1.0, -2.0), Command(0.0, 0.0), 0.05, lim)
    assert out.v_mps == pytest.approx(0.025) and out.w_radps == pytest.approx(-0.075)
    out = limit_command(Command(-0.3, 0.1), Command(0.0, 0.0), 1.0, lim)
    assert out.v_mps == 0.0, "no reversing unless allowed"
    out = limit_command(Command(math.nan, math.inf), Command(0.0, 0.0), 1.0, lim)
    assert out == Command(0.0, 0.0) or (out.v_mps == 0.0 and out.w_radps == 0.0)
    out = braking_command(Command(0.25, 0.5), 0.1, lim)
    assert out.v_mps == pytest.approx(0.2) and out.w_radps == pytest.approx(0.35)


def test_gate_publishes_zero_once_then_stays_silent():
    gate = CommandGate()
    assert gate.filter(False, None) is None, "never active: nothing to stop"
    assert gate.filter(True, Command(0.2, 0.0)) == Command(0.2, 0.0)
    assert gate.filter(False, Command(0.2, 0.0)) == Command(0.0, 0.0)
    assert gate.filter(False, None) is None
    assert gate.filter(False, None) is None
    gate.force_zero()
    assert gate.filter(False, None) == Command(0.0, 0.0)
    assert gate.filter(False, None) is None
