"""The weight-free S1 planner against rendered depth: walls force turns, open floor goes
straight, the unknown is never free."""
import math

import numpy as np
import pytest

from lingnav_ros.sim.simulator import CameraParams, Simulator
from lingnav_ros.sim.world import from_dict
from s1_server.camera import CameraMount
from s1_server.geometric import GeometricPlanner
from s1_server.plan import NUM_WAYPOINTS, ImageGoal, NoGoal, PixelGoal, PointGoal, S1Error

CAM = CameraParams(width=320, height=240, height_m=0.35, pitch_rad=math.radians(12), x_m=0.1)


def _view(objects=(), room=(-1.0, -4.0, 8.0, 4.0), walls=()):
    sim = Simulator(from_dict({"room": list(room), "objects": list(objects), "walls": list(walls)}), CAM)
    rgb, depth = sim.render()
    return rgb, depth, CAM.intrinsics(), CAM.mount()


def _min_clearance(path, obstacles_xy):
    d = np.hypot(path[:, None, 0] - obstacles_xy[None, :, 0], path[:, None, 1] - obstacles_xy[None, :, 1])
    return float(d.min())


def test_open_floor_goes_straight_to_a_point_goal_and_stops_there():
    rgb, depth, intr, mount = _view()
    plan = GeometricPlanner().plan(rgb, depth, intr, PointGoal(2.0, 0.0), mount)
    assert not plan.no_safe_path
    assert plan.best.shape == (NUM_WAYPOINTS, 3) and plan.candidates.shape[0] >= 16
    assert plan.candidates.shape[1:] == (NUM_WAYPOINTS, 3) and plan.values.shape == (plan.candidates.shape[0],)
    assert np.hypot(*(plan.best[-1, :2] - [2.0, 0.0])) < 0.2
    assert np.abs(plan.best[:, 1]).max() < 0.15


def test_pixel_goal_is_lifted_with_depth():
    box = {"label": "red chair", "x": 3.0, "y": 0.0, "size": [0.4, 0.4], "height": 0.8, "color": "red"}
    rgb, depth, intr, mount = _view([box])
    plan = GeometricPlanner().plan(rgb, depth, intr, PixelGoal(160, 100), mount)
    gx, gy = plan.info["goal_base"]
    assert gx == pytest.approx(2.8, abs=0.1) and abs(gy) < 0.1
    # the path approaches the chair but keeps the robot radius from it
    assert 2.0 < plan.best[-1, 0] < 2.65


def test_wall_ahead_forces_a_turn():
    walls = [(1.6, -0.7, 1.6, 0.7)]  # a 1.4 m wide wall across the way
    rgb, depth, intr, mount = _view(walls=walls)
    plan = GeometricPlanner().plan(rgb, depth, intr, PointGoal(3.5, 0.0), mount)
    assert not plan.no_safe_path
    wall_pts = np.stack([np.full(30, 1.6), np.linspace(-0.7, 0.7, 30)], axis=1)
    assert _min_clearance(plan.best, wall_pts) >= 0.2 - 1e-3
    assert abs(plan.best[-1, 1]) > 0.3 or plan.best[-1, 0] < 1.3  # around it, or stop short of it


def test_goal_behind_the_robot_turns_toward_it():
    rgb, depth, intr, mount = _view(room=(-4.0, -4.0, 4.0, 4.0))
    plan = GeometricPlanner().plan(rgb, depth, intr, PointGoal(-2.0, 0.5), mount)
    # It cannot see behind itself, so it turns toward the goal's side as far as it sees free
    # floor and never drives away from the goal; the tracker turns in place from there.
    assert not plan.no_safe_path
    assert plan.best[-1, 2] > 0.5 and plan.best[-1, 1] > 0.0
    assert plan.best[-1, 0] < 1.0  # a tight turn, not a drive away from the goal


def test_unknown_depth_is_not_free():
    _, depth, intr, mount = _view()
    blind = GeometricPlanner().plan(None, np.zeros_like(depth), intr, PointGoal(3.0, 0.0), mount)
    assert blind.no_safe_path
    nan = GeometricPlanner().plan(None, np.full_like(depth, np.nan), intr, PointGoal(3.0, 0.0), mount)
    assert nan.no_safe_path
    # the right half of the image unknown: no candidate may end up confidently far into it
    half = depth.copy()
    half[:, 160:] = np.nan
    plan = GeometricPlanner().plan(None, half, intr, PointGoal(3.0, -2.0), mount)
    far_right = plan.best[:, 1] < -1.0
    assert not far_right.any()


def test_wall_everywhere_means_no_safe_path():
    rgb, depth, intr, mount = _view(room=(-1.0, -2.0, 0.35, 2.0))
    plan = GeometricPlanner().plan(rgb, depth, intr, PointGoal(3.0, 0.0), mount)
    assert plan.no_safe_path
    assert plan.values.max() < -3.0


def test_camera_pitch_changes_what_is_an_obstacle():
    """Read with the wrong pitch, the floor ahead looks like a slope up: obstacles appear."""
    rgb, depth, intr, mount = _view()
    planner = GeometricPlanner()
    right = planner.occupancy(depth, intr, mount)
    wrong = planner.occupancy(depth, intr, CameraMount(mount.height_m, mount.pitch_rad - math.radians(8), mount.x_m))
    assert right["clearance"].min() > 1.0
    assert wrong["clearance"].min() < 0.1


def test_bad_goals_raise_s1_error():
    rgb, depth, intr, mount = _view()
    planner = GeometricPlanner()
    with pytest.raises(S1Error):
        planner.plan(rgb, depth, intr, PixelGoal(999, 5), mount)
    with pytest.raises(S1Error):
        planner.plan(rgb, depth, intr, ImageGoal(rgb), mount)
    with pytest.raises(S1Error):
        planner.plan(rgb, depth, intr, PointGoal(float("nan"), 0.0), mount)
    explore = planner.plan(rgb, depth, intr, NoGoal(), mount)
    assert not explore.no_safe_path and explore.best[-1, 0] > 1.0
