"""Odometry history: poses at image stamps, across angle wrap, and refusing to guess far out."""
import math

import pytest

from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.odom_buffer import OdomBuffer, OdomSample, yaw_from_quaternion


def test_interpolates_between_samples():
    buf = OdomBuffer()
    buf.add(OdomSample(10.0, Pose2D(0.0, 0.0, 0.0)))
    buf.add(OdomSample(11.0, Pose2D(1.0, 2.0, 0.4)))
    p = buf.pose_at(10.25)
    assert (p.x_m, p.y_m, p.theta_rad) == pytest.approx((0.25, 0.5, 0.1))


def test_interpolates_the_short_way_across_pi():
    buf = OdomBuffer()
    buf.add(OdomSample(0.0, Pose2D(0.0, 0.0, math.pi - 0.1)))
    buf.add(OdomSample(1.0, Pose2D(0.0, 0.0, -math.pi + 0.1)))
    p = buf.pose_at(0.5)
    assert abs(abs(p.theta_rad) - math.pi) < 1e-9


def test_extrapolates_a_little_with_the_last_twist_then_refuses():
    buf = OdomBuffer(max_extrapolation_s=0.25)
    buf.add(OdomSample(1.0, Pose2D(0.0, 0.0, 0.0), v_mps=1.0, w_radps=0.0))
    assert buf.pose_at(1.2).x_m == pytest.approx(0.2)
    assert buf.pose_at(1.5) is None
    assert buf.pose_at(0.5) is None, "older than the history"


def test_out_of_order_samples_and_history_trim():
    buf = OdomBuffer(history_s=1.0)
    for t in (0.0, 0.2, 0.1, 0.5, 1.5, 2.0):
        buf.add(OdomSample(t, Pose2D(t, 0.0, 0.0)))
    assert buf.pose_at(1.75).x_m == pytest.approx(1.75)
    assert buf.pose_at(0.2) is None
    assert buf.latest().stamp_s == 2.0


def test_time_jumping_back_resets_the_history():
    buf = OdomBuffer()
    buf.add(OdomSample(100.0, Pose2D(5.0, 0.0, 0.0)))
    buf.add(OdomSample(1.0, Pose2D(0.0, 0.0, 0.0)))
    assert len(buf) == 1 and buf.pose_at(1.0).x_m == 0.0


def test_yaw_from_quaternion():
    assert yaw_from_quaternion(0.0, 0.0, math.sin(0.3), math.cos(0.3)) == pytest.approx(0.6)
