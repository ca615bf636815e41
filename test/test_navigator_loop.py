"""The navigator in a real rclpy graph against real S2 (color backend) and S1 (geometric)
HTTP servers on 127.0.0.1, with a synthetic best-effort RGB-D robot."""
import math
import time

import pytest
from lingnav_msgs.msg import NavStatus

from lingnav_core.colors import PALETTE
from lingnav_ros.control.types import Pose2D
from test.navigator_rig import mode_a_params, navigator_graph
from test.navigator_scene import Box, Scene
from test.ros_graph import wait_for

RED = Box(2.2, 2.6, 0.7, 1.1, 0.6, PALETTE["red"])


def _scene():
    return Scene(boxes=[RED])


def _state(op):
    return op.state()


@pytest.mark.parametrize("depth_encoding", ["16UC1", "32FC1"])
def test_turns_toward_and_drives_to_the_target(servers, depth_encoding):
    with navigator_graph(_scene(), Pose2D(0.0, 0.0, 0.0), mode_a_params(servers), depth_encoding) as (nav, robot, op):
        assert wait_for(lambda: nav.stats.frames.hz(nav.now_s()) > 0 and op.statuses, 15.0), \
            "best-effort camera frames reached the navigator"
        op.say("go to the red box")
        assert wait_for(lambda: _state(op) == NavStatus.ARRIVED, 45.0), (op.statuses[-1].state, op.statuses[-1].reason)
        cmds = robot.cmds
        first_moving = next(c for c in cmds if abs(c[1]) > 1e-3 or abs(c[2]) > 1e-3)
        assert first_moving[2] > 0.0, "turns left toward the box first"
        assert max(c[1] for c in cmds) > 0.1, "drives forward"
        d = math.hypot(robot.pose.x_m - 2.4, robot.pose.y_m - 0.9)
        assert d < 1.2, f"ended {d:.2f} m from the box centre"
        target = nav.mission.target
        status = op.statuses[-1]
        assert status.s2_calls >= 1 and status.s1_calls >= 3
        assert wait_for(lambda: robot.cmds[-1][1:] == (0.0, 0.0), 2.0), "zero once when arrived"
        time.sleep(0.3)
        n = len(robot.cmds)
        time.sleep(0.5)
        assert len(robot.cmds) == n, "then silent: teleop is not fought"
        assert target is None or (2.0 < target.point_odom[0] < 2.8 and 0.5 < target.point_odom[1] < 1.3)


def test_estop_stops_at_once_and_is_latched(servers):
    with navigator_graph(_scene(), Pose2D(0.0, 0.0, 0.6), mode_a_params(servers)) as (nav, robot, op):
        assert wait_for(lambda: op.statuses, 15.0)
        op.say("go to the red box")
        assert wait_for(lambda: robot.cmds and robot.cmds[-1][1] > 0.05, 30.0)
        t0 = time.monotonic()
        op.estop(True)
        assert wait_for(lambda: robot.cmds[-1][1:] == (0.0, 0.0), 2.0)
        assert robot.last_cmd_time() - t0 < 0.5, "the robot received zero velocity within 0.5 s"
        assert wait_for(lambda: _state(op) == NavStatus.ESTOP, 2.0)
        op.say("go to the red box")
        time.sleep(0.5)
        assert _state(op) == NavStatus.ESTOP, "latched: instructions are refused"
        assert robot.cmds[-1][1:] == (0.0, 0.0)
        op.estop(False)
        assert wait_for(lambda: _state(op) == NavStatus.STOPPED, 2.0)
        assert "released" in op.statuses[-1].reason


@pytest.mark.parametrize("which", ["s2", "s1"])
def test_killed_server_holds_the_robot_and_the_mission_resumes_when_it_is_back(servers, which):
    """Issue 13 item 10: a server that goes away stops the robot and the status says what it
    waits for; the same mission carries on when the server answers again."""
    s2, s1 = servers
    server = s2 if which == "s2" else s1
    params = mode_a_params(servers, s2_requery_period_s=0.3)
    with navigator_graph(_scene(), Pose2D(-0.5, 0.0, 0.4), params) as (nav, robot, op):
        assert wait_for(lambda: op.statuses, 15.0)
        op.say("go to the red box")
        assert wait_for(lambda: robot.cmds and robot.cmds[-1][1] > 0.05, 30.0)
        episode = nav.mission.episode
        try:
            server.stop()
            assert wait_for(lambda: robot.cmds[-1][1:] == (0.0, 0.0), 3.0), "the robot stops"
            waiting = f"waiting for {which.upper()}"
            assert wait_for(lambda: waiting in op.statuses[-1].reason, 5.0), op.statuses[-1].reason
            assert _state(op) == NavStatus.APPROACHING, "held, not failed"
            time.sleep(1.0)
            assert robot.cmds[-1][1:] == (0.0, 0.0), "stays stopped while the server is away"
        finally:
            server.start()
        assert wait_for(lambda: _state(op) == NavStatus.ARRIVED, 45.0), (op.statuses[-1].state, op.statuses[-1].reason)
        assert nav.mission.episode == episode, "the same mission resumed; nobody had to ask again"


def test_a_server_away_longer_than_the_outage_limit_fails_the_mission(servers):
    s2, _ = servers
    params = mode_a_params(servers, s2_requery_period_s=0.3, server_outage_timeout_s=1.5)
    with navigator_graph(_scene(), Pose2D(-0.5, 0.0, 0.4), params) as (nav, robot, op):
        assert wait_for(lambda: op.statuses, 15.0)
        op.say("go to the red box")
        assert wait_for(lambda: robot.cmds and robot.cmds[-1][1] > 0.05, 30.0)
        try:
            s2.stop()
            assert wait_for(lambda: _state(op) == NavStatus.FAILED, 10.0)
        finally:
            s2.start()
        reason = op.statuses[-1].reason
        assert reason.startswith("S2 server unreachable: no answer for"), reason
        assert robot.cmds[-1][1:] == (0.0, 0.0)


def test_sim_time_from_clock_drives_everything(servers):
    """use_sim_time with /clock far from wall time and 1.5x faster: stamps and timers all follow it."""
    with navigator_graph(_scene(), Pose2D(0.5, 0.2, 0.3), mode_a_params(servers), sim_time=True) as (nav, robot, op):
        assert wait_for(lambda: nav.latest_frame is not None and op.statuses, 15.0)
        assert nav.now_s() < 1e5 and abs(nav.latest_frame.stamp_s - nav.now_s()) < 1.0
        op.say("go to the red box")
        assert wait_for(lambda: _state(op) == NavStatus.ARRIVED, 45.0), (op.statuses[-1].state, op.statuses[-1].reason)
