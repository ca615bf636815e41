"""The camera mount self-check in the simulator: a camera mounted higher and steeper than the
navigator's YAML says is caught at start-up (log, /diagnostics, status) and on the
lingnav/check_mount service, with both values and the lines to set; a navigator that knows the
true mount (the simulator's camera/mount topic) passes the same check."""
import math

import rclpy
import yaml
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from std_srvs.srv import Trigger

from lingnav_ros import navigator_params as P
from lingnav_ros import topics
from lingnav_ros.paths import config_file
from test.navigator_rig import Operator, spinning
from test.ros_graph import wait_for

TRUE_HEIGHT_M, TRUE_PITCH_RAD = 0.47, 0.33  # the sim profile (the YAML) says 0.35 m, 0.2094 rad


def _call(node, name: str, timeout_s: float = 20.0) -> Trigger.Response:
    client = node.create_client(Trigger, name)
    assert client.wait_for_service(timeout_sec=timeout_s), name
    future = client.call_async(Trigger.Request())
    assert wait_for(future.done, timeout_s), name
    return future.result()


def test_a_camera_mounted_differently_from_the_yaml_is_reported_with_the_lines_to_set(servers):
    from lingnav_ros.nodes.navigator_node import NavigatorNode
    from lingnav_ros.nodes.sim_node import SimNode

    s2, s1 = servers
    profile = yaml.safe_load(config_file("cameras", "sim.yaml").read_text())[P.PARAMS_FILE_KEY]["ros__parameters"]
    params = {**profile, "s1_mode": "A", "s2_port": s2.port, "s1_port": s1.port, "use_sim_time": True}
    context = Context()
    rclpy.init(context=context)
    sim = SimNode(context=context, parameter_overrides=[
        Parameter("camera_height_m", value=TRUE_HEIGHT_M), Parameter("camera_pitch_rad", value=TRUE_PITCH_RAD),
        Parameter("real_time_factor", value=1.0)])
    # The navigator that trusts its YAML: the simulator's mount topic is remapped away.
    wrong = NavigatorNode(context=context, cli_args=["--ros-args", "-r", f"{topics.CAMERA_MOUNT}:=unused/mount"],
                          parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    # The navigator that takes the true mount from the simulator, in its own namespace.
    absolute = {k: "/" + params[k] for k in ("rgb_topic", "depth_topic", "camera_info_topic")}
    right = NavigatorNode(context=context, namespace="known",
                          cli_args=["--ros-args", "-r", f"{topics.CAMERA_MOUNT}:=/{topics.CAMERA_MOUNT}",
                                    "-r", f"{topics.ODOM}:=/{topics.ODOM}"],
                          parameter_overrides=[Parameter(k, value=v) for k, v in {**params, **absolute}.items()])
    op = Operator(context)
    warnings: list[DiagnosticStatus] = []
    op.create_subscription(DiagnosticArray, topics.DIAGNOSTICS, lambda m: warnings.extend(
        s for s in m.status if s.name.endswith("camera mount") and s.level == DiagnosticStatus.WARN), 10)
    world = SingleThreadedExecutor(context=context)
    for node in (sim, op):
        world.add_node(node)
    with spinning(context, [*wrong.executors(), *right.executors(), world], [sim, wrong, right, op]):
        # start-up: the warning reaches the status (idle) and /diagnostics without being asked
        assert wait_for(lambda: op.statuses and op.statuses[-1].reason.startswith("camera mount check:"), 30.0), \
            [s.reason for s in op.statuses[-3:]]
        text = op.statuses[-1].reason
        assert "parameters say 0.350 m, 12.0 deg" in text, text
        assert wait_for(lambda: warnings, 10.0), "a WARN on /diagnostics"
        values = {kv.key: kv.value for kv in warnings[-1].values}
        assert abs(float(values["measured_height_m"]) - TRUE_HEIGHT_M) < 0.02, values
        assert abs(float(values["measured_pitch_deg"]) - math.degrees(TRUE_PITCH_RAD)) < 1.0, values

        answer = _call(op, topics.CHECK_MOUNT)
        assert not answer.success, answer.message
        height = float(answer.message.split("set camera_height_m: ")[1].split()[0])
        pitch = float(answer.message.split("camera_pitch_rad: ")[1].split()[0])
        assert abs(height - TRUE_HEIGHT_M) < 0.02 and abs(pitch - TRUE_PITCH_RAD) < math.radians(1.0), answer.message

        known = _call(op, f"/known/{topics.CHECK_MOUNT}")
        assert known.success, known.message
        assert known.message.startswith("camera mount check: ok"), known.message
