"""The navigator's obstacle memory over a real rclpy graph: depth frames from a synthetic
best-effort camera fill the local map, which goes out as nav_msgs/OccupancyGrid in odom."""
import numpy as np
import pytest
from nav_msgs.msg import OccupancyGrid

from lingnav_ros import topics
from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.safety.collision import rollout
from test.navigator_rig import navigator_graph
from test.navigator_scene import Box, Scene
from test.ros_graph import wait_for

GREY = Box(1.2, 1.5, -0.3, 0.3, 0.5, (120, 120, 120))


@pytest.mark.timeout(60)
def test_depth_fills_the_local_map_and_it_is_published_for_rviz():
    with navigator_graph(Scene(boxes=[GREY]), Pose2D(0.0, 0.0, 0.0), {"s1_mode": "geometric"}) as (nav, _, op):
        grids: list[OccupancyGrid] = []
        op.create_subscription(OccupancyGrid, topics.LOCAL_MAP, grids.append, 1)
        assert wait_for(lambda: len(grids) >= 2, 20.0), "an OccupancyGrid arrives while someone listens"
        g = grids[-1]
        assert g.header.frame_id == "odom" and g.info.resolution == pytest.approx(0.05)
        assert g.info.width == g.info.height == 120 and len(g.data) == 120 * 120
        data = np.asarray(g.data, np.int8).reshape(g.info.height, g.info.width)  # rows along y

        def cell(x, y):
            return int(data[int((y - g.info.origin.position.y) / 0.05), int((x - g.info.origin.position.x) / 0.05)])

        assert cell(1.22, 0.0) == 100, "the box face is an obstacle"
        assert cell(0.8, 0.0) == 0, "the floor before it is free"
        assert cell(2.0, 0.0) == -1, "its shadow is unknown"
        assert np.isfinite(nav.memory.update_ms_median())
        # the control loop's monitor reads the same memory
        now = nav.now_s()
        verdict = nav.memory.check(nav.collision, rollout(Pose2D(0.9, 0.0, 0.0), Command(0.3, 0.0), 1.5),
                                   np.zeros((0, 2)), None, now)
        assert verdict.action == "stop" and "obstacle" in verdict.reason
        assert nav.memory.map.visit_count(0.0, 0.0) == 1, "the robot's own position is visited"
        dirs = nav.memory.directions(Pose2D(0.0, 0.0, 0.0), now, count=4, horizon_m=1.5)
        ahead = next(d for d in dirs if abs(d["bearing_rad"]) < 1e-9)
        assert ahead["blocked"] and ahead["free_m"] < 1.1
        count, age_s = nav.memory.visits(0.0, 0.0, now)
        assert count == 1 and 0.0 <= age_s < 5.0
