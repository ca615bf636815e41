"""Bad input at the door and sensor faults: real rclpy graph, real S2/S1
HTTP servers on 127.0.0.1, a synthetic robot whose sensors stop or lie on demand."""
import math
from types import SimpleNamespace

import pytest
from lingnav_msgs.msg import NavStatus

from lingnav_ros.control.types import Pose2D
from lingnav_ros.nodes.navigator.sensor_checks import (
    Rejected,
    SensorFaults,
    intrinsics_from_camera_info,
    mount_from_msg,
    odom_reading,
)
from lingnav_ros.safety.watchdog import Watchdog, WatchdogConfig
from test.navigator_rig import mode_a_params, navigator_graph
from test.navigator_scene import Box, Scene
from test.ros_graph import wait_for

RED = Box(2.2, 2.6, 0.7, 1.1, 0.6, (200, 30, 30))
K = [500.0, 0.0, 320.0, 0.0, 500.0, 240.0, 0.0, 0.0, 1.0]


def _xyz(**kw):
    return SimpleNamespace(**{"x": 0.0, "y": 0.0, "z": 0.0, **kw})


def _quat(**kw):
    return SimpleNamespace(**{"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0, **kw})


# ------------------------------------------------------------------ pure checks
def test_good_camera_info_passes():
    intr = intrinsics_from_camera_info(K, 640, 480)
    assert (intr.fx, intr.fy, intr.cx, intr.cy, intr.width, intr.height) == (500.0, 500.0, 320.0, 240.0, 640, 480)


@pytest.mark.parametrize("index,value,words", [
    (0, math.nan, "fx is nan"), (4, math.inf, "fy is inf"), (2, -math.inf, "cx is -inf"),
    (0, 0.0, "focal length must be > 0"), (4, -500.0, "focal length must be > 0"),
    (2, 1e7, "principal point"), (8, math.nan, "K[8] is nan"),
])
def test_bad_camera_info_is_rejected_with_the_field_named(index, value, words):
    k = list(K)
    k[index] = value
    with pytest.raises(Rejected, match=words.replace("[", r"\[").replace("]", r"\]")):
        intrinsics_from_camera_info(k, 640, 480)


@pytest.mark.parametrize("k,w,h,words", [(K[:6], 640, 480, "9"), (K, 0, 480, "size"), (K, 640, 10**6, "size")])
def test_camera_info_shape_and_size_are_checked(k, w, h, words):
    with pytest.raises(Rejected, match=words):
        intrinsics_from_camera_info(k, w, h)


def test_odometry_checks():
    r = odom_reading(_xyz(x=1.0, y=2.0), _quat(z=math.sin(0.25), w=math.cos(0.25)), 0.2, -0.1)
    assert (r.pose.x_m, r.pose.y_m) == (1.0, 2.0) and r.pose.theta_rad == pytest.approx(0.5)
    for position, orientation, v, w, words in [
        (_xyz(x=math.nan), _quat(), 0.0, 0.0, "position.x is nan"),
        (_xyz(y=math.inf), _quat(), 0.0, 0.0, "position.y is inf"),
        (_xyz(), _quat(w=math.nan), 0.0, 0.0, "orientation.w is nan"),
        (_xyz(), _quat(w=0.0), 0.0, 0.0, "zero quaternion"),
        (_xyz(), _quat(), math.nan, 0.0, "twist.linear.x is nan"),
        (_xyz(), _quat(), 0.0, 1e9, "out of range"),
        (_xyz(x=1e12), _quat(), 0.0, 0.0, "out of range"),
    ]:
        with pytest.raises(Rejected, match=words):
            odom_reading(position, orientation, v, w)


def test_mount_checks():
    mount = mount_from_msg(_xyz(x=0.1, z=0.5), _quat(x=-0.5, y=0.5, z=-0.5, w=0.5))
    assert mount.height_m == 0.5 and mount.x_m == 0.1 and abs(mount.pitch_rad) < 1e-9
    with pytest.raises(Rejected, match="translation.z is nan"):
        mount_from_msg(_xyz(z=math.nan), _quat())
    with pytest.raises(Rejected, match="zero quaternion"):
        mount_from_msg(_xyz(z=0.5), _quat(w=0.0))


def test_sensor_faults_report_the_first_cause_until_it_clears():
    faults = SensorFaults()
    faults.set("rgbd", "sensor error: depth encoding mono8", 10.0)
    faults.set("frame_pose", "no odometry at the image stamp", 10.5)
    faults.set("rgbd", "sensor error: depth encoding mono8 (again)", 11.0)
    assert faults.first() == "sensor error: depth encoding mono8 (again)", "the earliest source, latest words"
    faults.clear("rgbd")
    assert faults.first() == "no odometry at the image stamp"
    faults.clear("frame_pose")
    assert faults.first() == ""


def test_watchdog_stops_before_the_limit_is_passed_at_the_next_tick():
    dog = Watchdog(WatchdogConfig(odom_timeout_s=0.5, depth_timeout_s=0.5, max_plan_age_s=1.0))
    period = 0.05
    assert dog.check(10.44, 10.0, 10.0, horizon_s=period).ok
    verdict = dog.check(10.46, 10.0, 10.4, horizon_s=period)
    assert not verdict.ok and verdict.reason.startswith("no odometry for 0.46 s"), \
        "0.46 s old now, 0.51 s at the next tick"
    assert not dog.check(10.46, 10.4, 10.0, horizon_s=period).ok
    assert dog.check(10.46, 10.0, 10.0).ok, "without the look-ahead it would still drive"


# ------------------------------------------------------------------ on a real graph
def _params(servers, **extra):
    return mode_a_params(servers, **{"s2_requery_period_s": 0.5, **extra})


def _driving(nav, robot, op):
    assert wait_for(lambda: op.statuses, 15.0)
    op.say("go to the red box")
    assert wait_for(lambda: robot.cmds and robot.cmds[-1][1] > 0.05, 30.0), op.statuses[-1].reason


def _reason(op):
    return op.statuses[-1].reason if op.statuses else ""


def test_nan_camera_info_stops_the_robot_with_its_reason(servers):
    with navigator_graph(Scene(boxes=[RED]), Pose2D(-0.5, 0.0, 0.4), _params(servers)) as (nav, robot, op):
        _driving(nav, robot, op)

        def nan_fx(info):
            info.k[0] = math.nan
            return info

        robot.mangle_info = nan_fx
        assert wait_for(lambda: robot.cmds[-1][1:] == (0.0, 0.0), 3.0), "no driving on intrinsics the driver garbled"
        assert wait_for(lambda: "camera_info rejected: fx is nan" in _reason(op), 3.0), _reason(op)
        assert "unreachable" not in _reason(op)
        assert nav.camera_info is not None and math.isfinite(nav.camera_info.fx), "the bad K never got in"
        robot.mangle_info = lambda info: info
        assert wait_for(lambda: op.state() == NavStatus.ARRIVED, 45.0), _reason(op)


def test_nan_odometry_stops_the_robot_with_its_reason(servers):
    with navigator_graph(Scene(boxes=[RED]), Pose2D(-0.5, 0.0, 0.4), _params(servers)) as (nav, robot, op):
        _driving(nav, robot, op)

        def nan_x(odom):
            odom.pose.pose.position.x = math.nan
            return odom

        robot.mangle_odom = nan_x
        assert wait_for(lambda: robot.cmds[-1][1:] == (0.0, 0.0), 3.0)
        assert wait_for(lambda: "odometry rejected: position.x is nan" in _reason(op), 3.0), _reason(op)
        latest = nav.odom.latest()
        assert latest is not None and math.isfinite(latest.pose.x_m), "no NaN in the pose buffer"


def test_depth_in_an_unsupported_encoding_is_the_reason_shown_not_depth_stale(servers):
    with navigator_graph(Scene(boxes=[RED]), Pose2D(-0.5, 0.0, 0.4), _params(servers)) as (nav, robot, op):
        _driving(nav, robot, op)
        robot.depth_encoding = "mono8"
        assert wait_for(lambda: robot.cmds[-1][1:] == (0.0, 0.0), 3.0)
        assert wait_for(lambda: "mono8" in _reason(op), 3.0), _reason(op)
        for _ in range(5):  # and it stays the reason while the depth ages
            assert wait_for(lambda: len(op.statuses) > 0, 1.0)
            assert not _reason(op).startswith("no depth"), _reason(op)


@pytest.mark.parametrize("sensor", ["camera", "odom"])
def test_a_sensor_dropout_stops_the_robot(servers, sensor):
    with navigator_graph(Scene(boxes=[RED]), Pose2D(-0.5, 0.0, 0.4), _params(servers)) as (nav, robot, op):
        _driving(nav, robot, op)
        setattr(robot, f"{sensor}_paused", True)
        assert wait_for(lambda: robot.cmds[-1][1:] == (0.0, 0.0), 3.0)
        words = "no depth for" if sensor == "camera" else "no odometry"
        assert wait_for(lambda: words in _reason(op), 3.0), _reason(op)
        setattr(robot, f"{sensor}_paused", False)
        assert wait_for(lambda: op.state() == NavStatus.ARRIVED, 45.0), _reason(op)
