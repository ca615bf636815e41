"""Closed-loop rotate/drive primitives end within tolerance despite command latency; pure helpers."""
from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest

from lingnav_core.angles import unwrap_near, wrap
from lingnav_ros.control.limits import VelocityLimits
from lingnav_ros.control.primitives import DriveDistance, RotateBy
from lingnav_ros.control.types import Command, Pose2D

LIMITS = VelocityLimits(v_max_mps=0.25, v_min_mps=-0.15, w_max_radps=0.5, a_max_mps2=0.5, alpha_max_radps2=1.5)
EPS = 1e-6


def run_primitive(prim, start: Pose2D, delay_s: float, period_s: float = 0.05, timeout_s: float = 30.0):
    """Unicycle with a latency queue, integrated at 5 ms; returns final true pose and commands."""
    sim_dt = 0.005
    state = np.array([start.x_m, start.y_m, start.theta_rad])
    queue: deque = deque([Command(0.0, 0.0)] * round(delay_s / sim_dt))
    last = Command(0.0, 0.0)
    cmds = []
    prim.start(start)
    per = round(period_s / sim_dt)
    for tick in range(int(timeout_s / sim_dt)):
        if tick % per == 0:
            step = prim.step(Pose2D(state[0], state[1], float(wrap(state[2]))), last, period_s)
            last = step.command
            cmds.append(last)
            if step.done:
                break
        queue.append(last)
        applied = queue.popleft()
        state = state + sim_dt * np.array([applied.v_mps * math.cos(state[2]), applied.v_mps * math.sin(state[2]),
                                           applied.w_radps])
    else:
        raise AssertionError("primitive never finished")
    # let the commands still in the latency queue play out (they are zero or braking)
    while queue:
        applied = queue.popleft()
        state = state + sim_dt * np.array([applied.v_mps * math.cos(state[2]), applied.v_mps * math.sin(state[2]),
                                           applied.w_radps])
    return state, cmds


def assert_within_limits(cmds, period_s):
    prev = Command(0.0, 0.0)
    for c in cmds:
        assert LIMITS.v_min_mps - EPS <= c.v_mps <= LIMITS.v_max_mps + EPS
        assert abs(c.w_radps) <= LIMITS.w_max_radps + EPS
        assert abs(c.v_mps - prev.v_mps) <= LIMITS.a_max_mps2 * period_s + EPS
        assert abs(c.w_radps - prev.w_radps) <= LIMITS.alpha_max_radps2 * period_s + EPS
        prev = c


@pytest.mark.parametrize("angle", [math.pi / 2, -math.pi / 2, math.radians(15), math.radians(270)])
@pytest.mark.parametrize("delay_s", [0.05, 0.2, 0.4])
def test_rotate_by_ends_within_tolerance_with_latency(angle, delay_s):
    start = Pose2D(1.0, -2.0, 3.0)  # near +pi so the turn crosses the wrap
    state, cmds = run_primitive(RotateBy(angle, LIMITS, tolerance_rad=0.05), start, delay_s)
    turned = unwrap_near(state[2], start.theta_rad + angle) - start.theta_rad
    assert abs(turned - angle) <= 0.05 + 0.01
    assert np.hypot(state[0] - 1.0, state[1] + 2.0) < 1e-9
    assert_within_limits(cmds, 0.05)


@pytest.mark.parametrize("distance", [0.5, 1.0, 0.05])
@pytest.mark.parametrize("delay_s", [0.05, 0.2, 0.4])
def test_drive_distance_ends_within_tolerance_with_latency(distance, delay_s):
    start = Pose2D(0.3, 0.4, -math.pi + 0.01)
    state, cmds = run_primitive(DriveDistance(distance, LIMITS, tolerance_m=0.03), start, delay_s)
    along = (state[0] - start.x_m) * math.cos(start.theta_rad) + (state[1] - start.y_m) * math.sin(start.theta_rad)
    assert abs(along - distance) <= 0.03 + 0.01
    assert abs(wrap(state[2] - start.theta_rad)) < 0.05
    assert_within_limits(cmds, 0.05)


def test_drive_backward_when_reversing_is_allowed_and_refused_otherwise():
    state, cmds = run_primitive(DriveDistance(-0.5, LIMITS, tolerance_m=0.03), Pose2D(0.0, 0.0, 0.0), 0.1)
    assert abs(state[0] + 0.5) <= 0.04
    assert min(c.v_mps for c in cmds) < 0.0
    forward_only = VelocityLimits(v_min_mps=0.0)
    step = DriveDistance(-0.5, forward_only).step(Pose2D(0.0, 0.0, 0.0), Command(0.0, 0.0), 0.05)
    assert step.done and step.command == Command(0.0, 0.0)


def test_wrap_and_limit_helpers():
    assert wrap(math.pi + 0.1) == pytest.approx(-math.pi + 0.1)
    assert wrap(-math.pi - 0.1) == pytest.approx(math.pi - 0.1)
    assert np.allclose(wrap(np.array([3 * math.pi, -0.5, 7.0])), [math.pi, -0.5, 7.0 - 2 * math.pi])
    assert unwrap_near(-3.1, 3.1) == pytest.approx(-3.1 + 2 * math.pi)
    lim = VelocityLimits()
    assert lim.clamp(Command(1.0, -9.0)) == Command(0.25, -0.5)
    limited = lim.rate_limit(Command(0.25, 0.5), Command(0.0, 0.0), 0.1)
    assert limited == Command(pytest.approx(0.05), pytest.approx(0.15))
