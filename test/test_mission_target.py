"""Target lifting: S2's pixel -> odom 3D at the query frame -> pixel/point in later frames."""
import math

import numpy as np
import pytest

from lingnav_core.s1_plan import PixelGoal, PointGoal
from lingnav_ros.control.types import Pose2D
from lingnav_ros.mission.target import goal_for_frame, horizontal_distance, lift_pixel
from test.navigator_scene import Box, Scene

BOX = Box(2.8, 3.2, 0.8, 1.2, 0.6, (255, 0, 0))


def _box_pixel(scene, pose):
    rgb, _ = scene.render(pose)
    vs, us = np.nonzero(np.all(rgb == BOX.rgb, axis=2))
    return int(np.median(us)), int(np.median(vs))


def test_lifted_pixel_lands_on_the_object_in_odom():
    scene = Scene(boxes=[BOX])
    pose = Pose2D(0.5, 0.2, 0.35)
    u, v = _box_pixel(scene, pose)
    est = lift_pixel(u, v, scene.frame(pose, 1.0), "red box")
    assert not est.approximate
    assert BOX.x_min - 0.05 <= est.point_odom[0] <= BOX.x_max + 0.05
    assert BOX.y_min - 0.05 <= est.point_odom[1] <= BOX.y_max + 0.05
    assert 0.0 < est.point_odom[2] < BOX.height_m


def test_reprojection_follows_the_object_across_ego_motion():
    scene = Scene(boxes=[BOX])
    query_pose = Pose2D(0.0, 0.0, 0.3)
    u, v = _box_pixel(scene, query_pose)
    est = lift_pixel(u, v, scene.frame(query_pose, 1.0), "red box")
    for pose in (Pose2D(0.8, 0.1, 0.5), Pose2D(1.2, 0.9, -0.1), Pose2D(0.3, -0.4, 0.6)):
        frame = scene.frame(pose, 2.0)
        goal = goal_for_frame(est, frame)
        assert isinstance(goal, PixelGoal) and isinstance(goal.u, int) and isinstance(goal.v, int)
        assert tuple(frame.rgb[goal.v, goal.u]) == BOX.rgb, f"pixel {goal} misses the box from {pose}"
        # a stale pixel (the deployed pipeline's bug) would not stay on the object
    stale_frame = scene.frame(Pose2D(1.2, 0.9, -0.1), 2.0)
    assert tuple(stale_frame.rgb[v, u]) != BOX.rgb


def test_target_behind_or_outside_the_image_becomes_a_point_goal():
    scene = Scene(boxes=[BOX])
    est = lift_pixel(*_box_pixel(scene, Pose2D(0.0, 0.0, 0.3)), scene.frame(Pose2D(0.0, 0.0, 0.3), 0.0))
    frame = scene.frame(Pose2D(1.0, 1.0, math.pi), 1.0)
    goal = goal_for_frame(est, frame)
    assert isinstance(goal, PointGoal)
    assert goal.x_m < 0, "behind the robot"
    assert math.hypot(goal.x_m, goal.y_m) == pytest.approx(horizontal_distance(est, frame.pose))


def test_pixel_without_depth_gives_an_approximate_ray_estimate():
    scene = Scene(boxes=[])
    frame = scene.frame(Pose2D(0.0, 0.0, 0.0), 0.0)
    depth = np.full_like(frame.depth_m, np.nan)
    from dataclasses import replace

    est = lift_pixel(80, 10, replace(frame, depth_m=depth), "far thing")
    assert est.approximate and est.point_odom[0] > 0.5
    assert lift_pixel(80, 10, replace(frame, pose=None)) is None
