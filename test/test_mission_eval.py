"""SPL's reference path (grid A* around what is in the way) and the eval's per-run outputs."""
import math

import pytest

from lingnav_ros.sim.world import from_dict, load
from lingnav_ros.tools.harness import RunResult, draw_map
from lingnav_ros.tools.shortest_path import shortest_path_m

TARGET = {"label": "red box", "type": "box", "x": 4.0, "y": 0.0, "size": [0.5, 0.5], "color": "red"}


def _world(objects=(), walls=()):
    return from_dict({"room": [-1.0, -3.0, 6.0, 3.0], "start": [0.0, 0.0, 0.0], "target": "red box",
                      "objects": [TARGET, *objects], "walls": list(walls)})


def test_open_room_is_the_straight_line_to_the_success_radius():
    # the box's near face is at x = 3.75; within 1.0 m of it starts at x = 2.75
    assert shortest_path_m(_world(), goal_radius_m=1.0) == pytest.approx(2.75, abs=0.1)


def test_a_wall_in_the_way_makes_it_longer_and_a_closed_room_impossible():
    open_len = shortest_path_m(_world())
    wall = shortest_path_m(_world(walls=[(1.5, -1.5, 1.5, 1.5)]))
    assert wall > open_len + 0.5
    closed = shortest_path_m(_world(walls=[(1.5, -3.0, 1.5, 3.0)]))
    assert math.isinf(closed)
    no_target = from_dict({"room": [-1.0, -3.0, 6.0, 3.0], "target": "pink chair", "objects": [TARGET]})
    assert math.isinf(shortest_path_m(no_target))


def test_dead_end_reference_goes_around_the_u(tmp_path):
    world = load("scenarios/dead_end.yaml")
    length = shortest_path_m(world)
    straight = 5.3 - 0.25 - 1.0
    assert length > straight + 0.8, "around the barrier, not through it"
    result = RunResult("dead_end", world.instruction, "ARRIVED", "", True, 10.0, 10.0, length, 0, 0.5, 3, 10,
                       trajectory=[(0.0, 0.0), (1.0, -1.5), (4.5, -1.0)], s2_query_points=[(0.0, 0.0)])
    png = draw_map(world, result, tmp_path / "dead_end.png")
    assert png.exists() and png.stat().st_size > 1000
