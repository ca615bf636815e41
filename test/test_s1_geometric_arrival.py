"""Arrival on NavDP's critic scale: once the goal is reached, the best value falls below both
common thresholds (-3 in the deployed pipeline, -0.5 in NavDP's client) so their approach ends, and
nothing that moves (swerving arcs, in-place turns) outranks staying put."""
import numpy as np
import pytest

from lingnav_core.camera import pixel_to_base
from lingnav_core.s1_plan import PixelGoal, PointGoal
from s1_server.geometric import GeometricPlanner
from s1_server.geometric_arrival import STAY_VALUE
from test.test_s1_geometric import _view


def _box_ahead(surface_x_m: float):
    box = {"label": "box", "x": surface_x_m + 0.2, "y": 0.0, "size": [0.4, 0.8], "height": 0.6, "color": "red"}
    return _view([box])


def _pixel_on_box(depth, intr, mount, surface_x_m: float) -> PixelGoal:
    """The centre column's pixel whose 3D point lies on the box face, half-way up."""
    u = intr.width // 2
    for v in range(depth.shape[0]):
        p = pixel_to_base(u, v, float(depth[v, u]), intr, mount)
        if p is not None and abs(p[0] - surface_x_m) < 0.05 and 0.2 < p[2] < 0.45:
            return PixelGoal(u, v)
    raise AssertionError("no pixel on the box face")


def test_a_box_reached_ends_the_approach_for_both_field_thresholds():
    rgb, depth, intr, mount = _box_ahead(0.4)
    plan = GeometricPlanner().plan(rgb, depth, intr, _pixel_on_box(depth, intr, mount, 0.4), mount)
    assert plan.values.max() < -3.0  # the deployed pipeline's stop_threshold, so NavDP's -0.5 too
    assert plan.info["arrived"] and plan.info["kind"] == "stay"
    assert plan.values[plan.chosen_index] == pytest.approx(STAY_VALUE)
    assert np.abs(plan.best).max() == 0.0  # the chosen plan holds the robot where it is
    assert not plan.no_safe_path  # arrived, not trapped: our own clients read it as "as close as it gets"


def test_a_box_two_metres_ahead_is_driven_to():
    rgb, depth, intr, mount = _box_ahead(2.0)
    plan = GeometricPlanner().plan(rgb, depth, intr, _pixel_on_box(depth, intr, mount, 2.0), mount)
    assert not plan.info["arrived"] and plan.values.max() > -0.5
    end = plan.best[-1]
    assert 1.0 < end[0] < 2.0 - 0.2 + 1e-3 and abs(end[1]) < 0.25  # toward it, short of its face
    assert np.abs(plan.best[:, 1]).max() < 0.25  # no swerve around the target


@pytest.mark.parametrize("goal", [PointGoal(0.3, 0.0), PointGoal(0.25, 0.1)])
def test_a_point_goal_reached_straight_ahead_stays(goal):
    rgb, depth, intr, mount = _view()
    plan = GeometricPlanner().plan(rgb, depth, intr, goal, mount)
    assert plan.info["arrived"] and plan.values.max() < -3.0
    best = plan.values.max()
    for cand, value in zip(plan.candidates, plan.values):
        if np.abs(cand).max() > 0.0:  # every move: an arc, a turn, the reverse
            assert value < best


def test_a_point_goal_behind_a_wall_within_reach_is_reached():
    """The goal 0.8 m ahead, a wall at 0.5 m: no way gets closer to it, so it is as reached as it gets."""
    rgb, depth, intr, mount = _view(walls=[(0.5, -1.5, 0.5, 1.5)])
    plan = GeometricPlanner().plan(rgb, depth, intr, PointGoal(0.8, 0.0), mount)
    assert plan.info["arrived"] and plan.values.max() < -3.0


def test_a_far_point_goal_is_not_reached():
    rgb, depth, intr, mount = _view()
    plan = GeometricPlanner().plan(rgb, depth, intr, PointGoal(2.0, 0.0), mount)
    assert not plan.info["arrived"] and plan.values.max() > -0.5
