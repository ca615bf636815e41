"""Every lingnav_msgs type crosses a real DDS topic intact, and Navigate works as an action."""
import math

import pytest
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from lingnav_msgs.action import Navigate
from lingnav_msgs.msg import NavStatus, S2Result, S2Task, TrajectoryCandidates
from nav_msgs.msg import Path
from rclpy.action import ActionClient, ActionServer, CancelResponse
from std_msgs.msg import Header

from test.ros_graph import ros_graph, wait_for


def _header(frame="odom"):
    return Header(stamp=Time(sec=12, nanosec=345), frame_id=frame)


def _s2_result():
    task_point = S2Task(kind=S2Task.KIND_PIXEL_POINT, target="red chair", visible=True, pixel_u=320, pixel_v=200)
    task_move = S2Task(kind=S2Task.KIND_MOVE, symbol="←", count=2, pixel_u=-1, pixel_v=-1)
    return S2Result(header=_header("camera"), instruction="go to the red chair", target="red chair",
                    visible=True, pixel_u=320, pixel_v=200, norm_x=500.0, norm_y=416.5,
                    navigation="↑←", tasks=[task_point, task_move], model="color", latency_s=0.042)


def _nav_status():
    return NavStatus(header=_header(), state=NavStatus.APPROACHING, state_name="APPROACHING",
                     instruction="go to the red chair", target="red chair", reason="",
                     distance_to_target_m=1.5, s2_latency_s=0.3, s1_latency_s=float("nan"),
                     plan_age_s=0.1, s2_calls=3, s1_calls=7)


def _candidates():
    paths = []
    for k in range(3):
        path = Path(header=_header())
        for i in range(24):
            pose = PoseStamped(header=_header())
            pose.pose.position.x = 0.25 * i
            pose.pose.position.y = 0.1 * k * i
            path.poses.append(pose)
        paths.append(path)
    return TrajectoryCandidates(header=_header(), candidates=paths, values=[-1.0, 0.5, 2.0],
                                chosen_index=2, no_safe_path=False, backend="geometric")


def _same(a, b):
    """Field-wise equality that treats NaN as equal to NaN (status latencies use NaN)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or abs(a - b) < 1e-6
    if hasattr(a, "get_fields_and_field_types"):
        return all(_same(getattr(a, f), getattr(b, f)) for f in a.get_fields_and_field_types())
    if isinstance(a, (list, tuple)) or type(a).__name__ == "array":
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("msg_type,make", [
    (S2Result, _s2_result), (NavStatus, _nav_status), (TrajectoryCandidates, _candidates),
    (S2Task, lambda: S2Task(kind=S2Task.KIND_STOP, count=1, pixel_u=-1, pixel_v=-1)),
])
def test_message_round_trips_over_a_topic(msg_type, make):
    sent = make()
    received = []
    with ros_graph("talker", "listener") as (_, (talker, listener), _ex):
        pub = talker.create_publisher(msg_type, "/lingnav_test/roundtrip", 10)
        listener.create_subscription(msg_type, "/lingnav_test/roundtrip", received.append, 10)
        assert wait_for(lambda: pub.get_subscription_count() > 0)
        assert wait_for(lambda: (pub.publish(sent), bool(received))[1], timeout_s=10.0)
    assert _same(received[0], sent)


def test_navigate_action_goal_feedback_result_and_cancel():
    feedback_seen = []

    def execute(goal_handle):
        status = _nav_status()
        status.instruction = goal_handle.request.instruction
        goal_handle.publish_feedback(Navigate.Feedback(status=status))
        if goal_handle.request.timeout_s < 0:  # the test's way of asking for a long goal
            while not goal_handle.is_cancel_requested:
                pass
            goal_handle.canceled()
            return Navigate.Result(success=False, final_state=NavStatus.STOPPED, reason="canceled")
        goal_handle.succeed()
        return Navigate.Result(success=True, final_state=NavStatus.ARRIVED, reason="arrived",
                               elapsed_s=1.5, path_length_m=2.25)

    with ros_graph("server", "client", threads=4) as (_, (server_node, client_node), _ex):
        ActionServer(server_node, Navigate, "/lingnav_test/navigate", execute,
                     cancel_callback=lambda _req: CancelResponse.ACCEPT)
        client = ActionClient(client_node, Navigate, "/lingnav_test/navigate")
        assert client.wait_for_server(timeout_sec=10.0)

        def send(goal):
            future = client.send_goal_async(goal, feedback_callback=feedback_seen.append)
            assert wait_for(future.done)
            return future.result()

        handle = send(Navigate.Goal(instruction="go to the red chair", timeout_s=30.0))
        assert handle.accepted
        result_future = handle.get_result_async()
        assert wait_for(result_future.done)
        result = result_future.result().result
        assert result.success and result.final_state == NavStatus.ARRIVED
        assert abs(result.path_length_m - 2.25) < 1e-6
        assert wait_for(lambda: bool(feedback_seen))
        assert feedback_seen[0].feedback.status.instruction == "go to the red chair"

        handle = send(Navigate.Goal(instruction="wander", timeout_s=-1.0))
        cancel_future = handle.cancel_goal_async()
        assert wait_for(cancel_future.done)
        result_future = handle.get_result_async()
        assert wait_for(result_future.done)
        assert result_future.result().result.final_state == NavStatus.STOPPED
