"""The weight-free S1 planner against rendered depth: walls force turns, open floor goes
straight, the unknown is never free."""
import math

import numpy as np
import pytest

from lingnav_core.camera import CameraMount
from lingnav_core.s1_plan import NUM_CANDIDATES, NUM_WAYPOINTS, ImageGoal, NoGoal, PixelGoal, PointGoal, S1Error
from lingnav_ros.sim.simulator import CameraParams, Simulator
from lingnav_ros.sim.world import from_dict
from s1_server.geometric import GeometricParams, GeometricPlanner

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
    assert plan.best.shape == (NUM_WAYPOINTS, 3)
    assert plan.candidates.shape == (NUM_CANDIDATES, NUM_WAYPOINTS, 3) and plan.values.shape == (NUM_CANDIDATES,)
    assert plan.values[plan.chosen_index] == plan.values.max() > -0.5  # safe for NavDP's strict client too
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
    # It cannot see behind itself, so it turns in place toward the goal's side (a safe move on
    # the critic's scale) and never drives away from the goal.
    assert not plan.no_safe_path and plan.values.max() > -0.5
    assert plan.info["kind"] == "turn_left"
    assert plan.best[-1, 2] > 0.5 and np.abs(plan.best[:, :2]).max() < 1e-6


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


def test_wall_ahead_everywhere_leaves_only_turns_and_reverse():
    """Facing a wall: no forward path is safe. On the NavDP scale a permissive client (-3) gets
    an in-place turn or the short reverse; NavDP's strict client (-0.5) gets its stop signal."""
    rgb, depth, intr, mount = _view(room=(-1.0, -2.0, 0.35, 2.0))
    strict = GeometricPlanner(GeometricParams(stop_threshold=-0.5)).plan(rgb, depth, intr, PointGoal(3.0, 0.0), mount)
    assert strict.no_safe_path and strict.values.max() < -0.5
    plan = GeometricPlanner().plan(rgb, depth, intr, PointGoal(3.0, 0.0), mount)
    assert not plan.no_safe_path
    assert plan.info["kind"] in ("turn_left", "turn_right", "reverse")
    assert np.abs(plan.best[:, :2]).max() <= 0.3 + 1e-6
    forward = [i for i in range(NUM_CANDIDATES) if plan.candidates[i, -1, 0] > 0.35]
    assert all(plan.values[i] < -3.0 for i in forward)


def test_values_on_the_navdp_critic_scale():
    """Open floor: the straight path is fully safe (>= -0.5); a wall 1.2 m ahead blocks the
    straight candidate for most of its 3 m, which NavDP's critic would score below -3."""
    rgb, depth, intr, mount = _view()
    planner = GeometricPlanner()
    open_plan = planner.plan(rgb, depth, intr, PointGoal(3.0, 0.0), mount)
    straight = int(np.argmin(np.abs(open_plan.candidates[:, -1, 1]) + 10 * (open_plan.candidates[:, -1, 0] < 2.5)))
    assert -0.5 < open_plan.values[straight] <= 1.5
    rgb, depth, intr, mount = _view(walls=[(1.2, -3.9, 1.2, 3.9)])
    walled = planner.plan(rgb, depth, intr, PointGoal(3.0, 0.0), mount)
    assert walled.candidates.shape == (NUM_CANDIDATES, NUM_WAYPOINTS, 3)
    lengths = np.hypot(*np.diff(walled.candidates[:, :, :2], axis=1).transpose(2, 0, 1)).sum(axis=1)
    moving = lengths > 0.35
    assert moving.any() and (walled.values[moving] < -0.5).all()
    assert walled.values.min() >= -5.5 and walled.values.max() <= 1.5


def test_stub_paths_never_look_safe():
    """A 0.13 m stub once scored above the stop threshold and froze the robot."""
    rgb, depth, intr, mount = _view(walls=[(0.55, -0.6, 0.55, 0.6)])
    plan = GeometricPlanner().plan(rgb, depth, intr, PointGoal(3.0, 0.0), mount)
    for cand, value in zip(plan.candidates, plan.values):
        length = float(np.hypot(*np.diff(cand[:, :2], axis=0).T).sum()) + float(np.hypot(*cand[0, :2]))
        if 0.0 < length < 0.25 and abs(cand[-1, 2]) < 0.2:
            assert value < -3.0


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
