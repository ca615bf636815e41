"""Collision monitor: predicted path against depth obstacles, zones, and the target exception."""
import math

import numpy as np

from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.safety.collision import (
    CollisionConfig,
    CollisionMonitor,
    obstacles_from_depth,
    obstacles_to_odom,
    rollout,
)
from test.navigator_scene import Box, Scene

CFG = CollisionConfig(robot_radius_m=0.2, stop_distance_m=0.15, slowdown_distance_m=0.6, slowdown_ratio=0.4)


def _straight(length, n=21):
    x = np.linspace(0.0, length, n)
    return np.stack([x, np.zeros(n), np.zeros(n)], axis=1)


def _wall_at(x, y_half=1.0):
    ys = np.arange(-y_half, y_half + 1e-9, 0.04)
    return np.stack([np.full_like(ys, x), ys], axis=1)


def test_zones_along_the_predicted_path():
    mon = CollisionMonitor(CFG)
    assert mon.check(_straight(1.0), _wall_at(3.0)).action == "clear"
    slow = mon.check(_straight(1.0), _wall_at(0.7))
    assert slow.action == "slow" and slow.distance_to_contact_m == np.float64(slow.distance_to_contact_m)
    assert 0.4 < slow.distance_to_contact_m <= 0.6
    assert slow.apply(Command(0.2, 0.1)) == Command(0.2 * 0.4, 0.1)
    stop = mon.check(_straight(1.0), _wall_at(0.3))
    assert stop.action == "stop" and stop.apply(Command(0.2, 0.3)) == Command(0.0, 0.3)


def test_obstacle_beside_the_path_does_not_slow_and_a_curving_path_is_checked():
    mon = CollisionMonitor(CFG)
    side = np.array([[0.35, 0.45], [0.4, 0.45]])
    assert mon.check(_straight(1.0), side).action == "clear"
    curve = rollout(Pose2D(0.0, 0.0, 0.0), Command(0.25, 0.8), 2.0)
    assert mon.check(curve, side).action in ("stop", "slow")


def test_turning_in_place_and_backing_away_are_allowed_when_close():
    mon = CollisionMonitor(CFG)
    wall = _wall_at(0.15)
    spin = rollout(Pose2D(0.0, 0.0, 0.0), Command(0.0, 0.5), 1.0)
    assert mon.check(spin, wall).action == "clear"
    back = rollout(Pose2D(0.0, 0.0, 0.0), Command(-0.1, 0.0), 1.0)
    assert mon.check(back, wall).action == "clear"
    assert mon.check(_straight(0.5), wall).action == "stop"


def test_the_target_itself_never_blocks_the_final_approach():
    mon = CollisionMonitor(CFG)
    target_face = np.array([[0.3, y] for y in np.arange(-0.2, 0.21, 0.04)])
    assert mon.check(_straight(0.5), target_face).action == "stop"
    assert mon.check(_straight(0.5), target_face, target_odom_xy=(0.3, 0.0)).action == "clear"


def test_invalid_prediction_stops():
    assert CollisionMonitor(CFG).check(np.full((3, 3), np.nan), _wall_at(2.0)).action == "stop"


def test_obstacles_from_depth_see_a_box_and_ignore_the_floor():
    scene = Scene(boxes=[Box(1.0, 1.4, -0.3, 0.3, 0.5, (255, 0, 0))])
    pose = Pose2D(0.0, 0.0, 0.0)
    _, depth = scene.render(pose)
    pts = obstacles_from_depth(depth, scene.intrinsics, scene.mount, CFG)
    assert pts.shape[0] > 10
    assert np.all(pts[:, 0] > 0.95) and np.all(pts[:, 0] < 1.5), "only the box face, never the floor"
    empty = Scene().render(pose)[1]
    assert obstacles_from_depth(empty, scene.intrinsics, scene.mount, CFG).shape[0] == 0
    moved = obstacles_to_odom(pts, Pose2D(1.0, 2.0, math.pi / 2))
    assert np.all(moved[:, 1] > 2.9)
