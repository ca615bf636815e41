"""The navigator remembers what S2 grounded and forgets it on `lingnav/clear_objects`
(std_srvs/Trigger), over a real service on a real node; its status names the step under way."""
from std_srvs.srv import Trigger

from lingnav_core.colors import PALETTE
from lingnav_ros import topics
from lingnav_ros.control.types import Pose2D
from test.navigator_rig import mode_a_params, navigator_graph
from test.navigator_scene import Box, Scene
from test.ros_graph import wait_for

RED = Box(1.8, 2.2, -0.2, 0.2, 0.6, PALETTE["red"])


def test_grounded_objects_are_remembered_and_the_service_clears_them(servers):
    with navigator_graph(Scene(boxes=[RED]), Pose2D(0.0, 0.0, 0.0), mode_a_params(servers)) as (nav, robot, op):
        client = op.create_client(Trigger, topics.CLEAR_OBJECTS)
        assert client.wait_for_service(timeout_sec=10.0)
        assert wait_for(lambda: nav.latest_frame is not None, 15.0)
        op.say("go to the red box")
        assert wait_for(lambda: nav.mission.objects.find("red box") is not None, 20.0)
        assert wait_for(lambda: op.statuses and op.statuses[-1].step_text == "go to the red box", 5.0)
        assert (op.statuses[-1].step_index, op.statuses[-1].step_count) == (0, 1)
        remembered = nav.mission.objects.find("red box")
        assert 1.5 < remembered.xy[0] < 2.3 and abs(remembered.xy[1]) < 0.3, remembered.xy
        op.say("stop")  # nothing else to ground while the memory is cleared
        future = client.call_async(Trigger.Request())
        assert wait_for(future.done, 10.0)
        response = future.result()
        assert response.success and response.message.startswith("forgot 1 ")
        assert nav.mission.objects.objects() == []
