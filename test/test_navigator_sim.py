"""The full loop: simulator node -> navigator (sim time, sim camera profile) -> real S2 (color) and
S1 (geometric) HTTP servers -> cmd_vel -> simulator. The demo world's target is behind the robot
at the start and a crate stands on the way: search, approach and avoidance all have to work."""
import json

import rclpy
import yaml
from lingnav_msgs.msg import NavStatus
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from std_msgs.msg import String

from lingnav_ros import navigator_params as P
from lingnav_ros import topics
from lingnav_ros.paths import config_file
from test.navigator_rig import Operator, spinning
from test.ros_graph import wait_for


def test_demo_world_closed_loop_with_the_simulator(servers):
    from lingnav_ros.nodes.navigator_node import NavigatorNode
    from lingnav_ros.nodes.sim_node import SimNode

    s2, s1 = servers
    profile = yaml.safe_load(config_file("cameras", "sim.yaml").read_text())[P.PARAMS_FILE_KEY]["ros__parameters"]
    params = {**profile, "s1_mode": "A", "s2_port": s2.port, "s1_port": s1.port, "use_sim_time": True,
              "v_max_mps": 0.35, "w_max_radps": 0.7, "s2_requery_period_s": 1.5, "mission_timeout_s": 120.0}
    context = Context()
    rclpy.init(context=context)
    sim = SimNode(context=context, parameter_overrides=[Parameter("real_time_factor", value=1.5)])
    nav = NavigatorNode(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    op = Operator(context)
    states = []
    op.create_subscription(String, topics.SIM_STATE, lambda m: states.append(json.loads(m.data)), 10)
    world = SingleThreadedExecutor(context=context)
    for node in (sim, op):
        world.add_node(node)
    with spinning(context, [*nav.executors(), world], [sim, nav, op]):
        assert wait_for(lambda: nav.latest_frame is not None and op.statuses, 20.0)
        assert nav.camera_info is not None, "intrinsics from the simulator's CameraInfo"
        op.say("go to the red chair")
        assert wait_for(lambda: op.state() in (NavStatus.ARRIVED, NavStatus.FAILED), 150.0), \
            (op.statuses[-1].state, op.statuses[-1].reason)
        final = op.statuses[-1]
        assert final.state == NavStatus.ARRIVED, final.reason
        seen = {s for s, _ in nav.mission.transitions}
        from lingnav_ros.mission.states import MissionState

        assert MissionState.SEARCHING in seen, "the chair starts behind the robot"
        assert states and states[-1]["contacts"] == 0, "no collisions on the way"
        assert states[-1]["target_distance_m"] < 1.2
