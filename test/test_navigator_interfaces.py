"""The navigator's ROS surface: action, QoS, bad encodings, visualisation only when watched."""
import time

from diagnostic_msgs.msg import DiagnosticArray
from lingnav_msgs.action import Navigate
from lingnav_msgs.msg import NavStatus, TrajectoryCandidates
from nav_msgs.msg import Path
from rclpy.action import ActionClient
from rclpy.qos import ReliabilityPolicy
from sensor_msgs.msg import Image
from visualization_msgs.msg import MarkerArray

from lingnav_core.colors import PALETTE
from lingnav_ros import topics
from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.sync import message_filters_available
from test.navigator_rig import mode_a_params, navigator_graph
from test.navigator_scene import Box, Scene
from test.ros_graph import wait_for

RED = Box(1.8, 2.2, -0.2, 0.2, 0.6, PALETTE["red"])


def _wait_future(future, timeout_s):
    assert wait_for(future.done, timeout_s), "future did not complete"
    return future.result()


def test_navigate_action_succeeds_with_feedback_and_views_when_subscribed(servers):
    with navigator_graph(Scene(boxes=[RED]), Pose2D(0.0, 0.0, 0.0), mode_a_params(servers)) as (nav, robot, op):
        client = ActionClient(op, Navigate, topics.NAVIGATE_ACTION)
        paths, cands, markers, debug = [], [], [], []
        op.create_subscription(Path, topics.PLAN_PATH, paths.append, 10)
        op.create_subscription(TrajectoryCandidates, topics.CANDIDATES, cands.append, 10)
        op.create_subscription(MarkerArray, topics.CANDIDATE_MARKERS, markers.append, 10)
        op.create_subscription(Image, topics.DEBUG_IMAGE, debug.append, 5)
        diags = []
        op.create_subscription(DiagnosticArray, topics.DIAGNOSTICS, diags.append, 10)
        assert client.wait_for_server(timeout_sec=10.0)
        assert wait_for(lambda: nav.latest_frame is not None, 15.0)
        feedback = []
        goal = _wait_future(client.send_goal_async(Navigate.Goal(instruction="go to the red box"),
                                                   feedback_callback=feedback.append), 10.0)
        assert goal.accepted
        result = _wait_future(goal.get_result_async(), 45.0).result
        assert result.success and result.final_state == NavStatus.ARRIVED, result.reason
        assert result.path_length_m > 0.3 and result.elapsed_s > 0.0
        states = {f.feedback.status.state for f in feedback}
        assert NavStatus.APPROACHING in states
        assert paths and paths[-1].header.frame_id == "odom" and len(paths[-1].poses) == 24
        assert cands and len(cands[-1].candidates) == len(cands[-1].values) > 0
        assert markers and len(markers[-1].markers) > 1
        assert debug and debug[-1].encoding == "rgb8"
        assert diags
        by_name = {st.name.split(": ")[-1]: {kv.key: kv.value for kv in st.values} for st in diags[-1].status}
        assert {"control", "sensors", "s2", "s1", "mission"} <= set(by_name)
        assert float(by_name["sensors"]["rgbd_rate_hz"]) > 1.0
        assert float(by_name["control"]["rate_hz"]) > 5.0
        assert by_name["s2"]["calls"] != "0"


def test_navigate_action_cancel_stops_the_robot(servers):
    with navigator_graph(Scene(boxes=[RED]), Pose2D(0.0, 0.0, 0.0), mode_a_params(servers)) as (nav, robot, op):
        client = ActionClient(op, Navigate, topics.NAVIGATE_ACTION)
        assert client.wait_for_server(timeout_sec=10.0)
        assert wait_for(lambda: nav.latest_frame is not None, 15.0)
        goal = _wait_future(client.send_goal_async(Navigate.Goal(instruction="go to the red box")), 10.0)
        assert wait_for(lambda: robot.cmds and robot.cmds[-1][1] > 0.05, 30.0)
        _wait_future(goal.cancel_goal_async(), 5.0)
        result = _wait_future(goal.get_result_async(), 10.0).result
        assert result.final_state == NavStatus.STOPPED and not result.success
        assert wait_for(lambda: robot.cmds[-1][1:] == (0.0, 0.0), 1.0)


def test_views_are_not_published_without_subscribers(servers):
    with navigator_graph(Scene(boxes=[RED]), Pose2D(0.0, 0.0, 0.0), mode_a_params(servers)) as (nav, robot, op):
        assert wait_for(lambda: nav.latest_frame is not None, 15.0)
        op.say("go to the red box")
        assert wait_for(lambda: nav.mission.s1_calls >= 3, 30.0)
        assert nav.path_pub.get_subscription_count() == 0 and nav.debug_pub.get_subscription_count() == 0


def test_wrong_depth_encoding_is_reported_not_fatal(servers):
    with navigator_graph(Scene(boxes=[RED]), Pose2D(0.0, 0.0, 0.0), mode_a_params(servers), depth_encoding="8UC1") \
            as (nav, robot, op):
        assert wait_for(lambda: op.statuses and "encoding" in op.statuses[-1].reason, 15.0)
        op.say("go to the red box")
        time.sleep(1.0)
        assert all(c[1] == 0.0 for c in robot.cmds), "never drives blind"
        n = len(op.statuses)
        assert wait_for(lambda: len(op.statuses) > n + 3, 5.0), "the node is still alive"
        assert "8UC1" in op.statuses[-1].reason or "depth" in op.statuses[-1].reason


def test_reliable_subscription_misses_best_effort_camera_but_default_receives(servers):
    params = mode_a_params(servers, camera_qos_reliability="reliable")
    with navigator_graph(Scene(boxes=[RED]), Pose2D(0.0, 0.0, 0.0), params) as (nav, robot, op):
        time.sleep(1.5)
        assert nav.latest_frame is None, "a RELIABLE subscription never matches a best-effort camera"
    with navigator_graph(Scene(boxes=[RED]), Pose2D(0.0, 0.0, 0.0), mode_a_params(servers),
                         camera_reliability=ReliabilityPolicy.BEST_EFFORT) as (nav, robot, op):
        assert wait_for(lambda: nav.latest_frame is not None, 10.0)
        # message_filters on a robot; the fallback without it or with LINGNAV_FORCE_FALLBACKS=1
        assert nav.sync.backend == ("message_filters" if message_filters_available() else "fallback")
