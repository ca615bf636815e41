"""Exploration: the map of what the camera has seen (free / obstacle / unknown), frontiers
labelled into regions, the choice toward S2's hint, searched regions never chosen again, and a
mission that explores after a full scan and fails with what it explored at the bound."""
import math

import numpy as np
import pytest

from lingnav_ros.control.types import Pose2D
from lingnav_ros.mission.exploration import exploration_bound, hint_yaw
from lingnav_ros.mission.moves import MoveStep
from lingnav_ros.mission.states import MissionState, Reason
from lingnav_ros.perception.exploration_map import (
    FREE,
    OBSTACLE,
    UNKNOWN,
    ExplorationMap,
    ExplorationMapConfig,
    Frontier,
    choose_frontier,
)
from test.mission_harness import Harness, decision, make_mission, point_task
from test.navigator_scene import Box, Scene

GREY = (150, 150, 150)


def _cell(xmap, x, y):
    ix, iy, _ = xmap.cell_of(np.array([[x, y]]))
    return int(xmap.cells[ix[0], iy[0]])


def test_the_map_marks_floor_free_obstacles_and_leaves_the_rest_unknown():
    scene = Scene(boxes=[Box(2.0, 2.3, -1.0, 1.0, 1.0, GREY)])
    xmap = ExplorationMap()
    assert xmap.n == 320, "32 m at 10 cm"
    new = xmap.update(scene.frame(Pose2D(0, 0, 0)).depth_m, scene.intrinsics, scene.mount, Pose2D(0, 0, 0))
    assert new > 100
    assert _cell(xmap, 1.2, 0.0) == FREE
    assert _cell(xmap, 2.05, 0.0) == OBSTACLE
    assert _cell(xmap, -2.0, 0.0) == UNKNOWN and _cell(xmap, 3.0, 0.0) == UNKNOWN, "behind the robot, the wall"
    assert 1.0 < xmap.explored_m2() < 12.0
    with pytest.raises(ValueError):
        xmap.update(np.zeros(5), scene.intrinsics, scene.mount, Pose2D(0, 0, 0))
    with pytest.raises(ValueError):
        xmap.update(np.ones((4, 4)), scene.intrinsics, scene.mount, Pose2D(float("nan"), 0, 0))
    with pytest.raises(ValueError):
        ExplorationMapConfig(size_m=0.0)


def test_frontiers_are_labelled_regions_and_searched_ones_are_never_chosen():
    xmap = ExplorationMap(ExplorationMapConfig(size_m=10.0))

    def fill(x0, x1, y0, y1, value):
        (i0, i1), (j0, j1) = (xmap.cell_of(np.array([[x0, y0], [x1, y1]]))[k] for k in (0, 1))
        xmap.cells[i0:i1, j0:j1] = value

    # walls, with a 1.6 m corridor east and one north, both open into unknown at their ends
    fill(-1.5, 3.0, -1.5, 2.4, OBSTACLE)
    fill(-0.8, 3.0, -0.8, 0.8, FREE)
    fill(-0.8, 0.8, -0.8, 2.4, FREE)
    frontiers = xmap.frontiers()
    assert len(frontiers) == 2, frontiers
    east = choose_frontier(frontiers, Pose2D(0, 0, 0), hint_yaw_rad=0.0)
    north = choose_frontier(frontiers, Pose2D(0, 0, 0), hint_yaw_rad=math.pi / 2)
    assert east.xy[0] > 2.7 and abs(east.xy[1]) < 0.5 and north.xy[1] > 2.1, (east, north)
    xmap.mark_searched(*east.xy)
    assert all(math.hypot(f.xy[0] - east.xy[0], f.xy[1] - east.xy[1]) > 1.0 for f in xmap.frontiers())
    assert choose_frontier([Frontier((0.2, 0.0), 10)], Pose2D(0, 0, 0)) is None, "too close to be worth a drive"


def test_bounds_and_hints():
    cfg = make_mission().config
    assert exploration_bound(cfg, 10.0, 5.0, 20.0) == ""
    assert exploration_bound(cfg, 500.0, 5.0, 20.0).startswith("area bound")
    assert exploration_bound(cfg, 10.0, 500.0, 20.0).startswith("distance bound")
    assert exploration_bound(cfg, 10.0, 5.0, 5000.0).startswith("time bound")
    assert hint_yaw([MoveStep("rotate", -0.5)], 1.0) == pytest.approx(1.0 - math.radians(60))
    assert hint_yaw([MoveStep("drive", 0.5)], 1.0) == 1.0 and hint_yaw([], 1.0) is None


def test_after_a_full_scan_it_explores_and_fails_at_the_bound_with_what_it_explored():
    scene = Scene(boxes=[Box(-3.0, 5.0, 3.0, 3.2, 1.5, GREY), Box(-3.0, 5.0, -3.2, -3.0, 1.5, GREY),
                         Box(-3.2, -3.0, -3.0, 3.0, 1.5, GREY)])  # a corridor open to the east
    xmap = ExplorationMap()
    mission = make_mission(search_timeout_s=100.0, mission_timeout_s=600.0, explore_max_area_m2=40.0,
                           explore_timeout_s=300.0)
    mission.exploration_map = xmap
    h = Harness(scene, mission)

    def nothing_here(frame):
        xmap.update(frame.depth_m, frame.intrinsics, frame.mount, frame.pose)
        return decision("move", "pink chair", False, None, "←", [point_task("pink chair")])

    mission.start("go to the pink chair", h.t)
    h.run(400.0, answer=nothing_here, stop_when=lambda: not mission.active)
    reasons = [r for _, r in mission.transitions]
    assert any(r.startswith("exploring: heading for an unexplored opening") for r in reasons), reasons
    assert any(r.startswith("exploring: looking around") for r in reasons)
    assert mission.state == MissionState.FAILED
    assert mission.reason.startswith(f"{Reason.SEARCH_EXHAUSTED}: 'pink chair' not found after exploring")
    assert "m2 in" in mission.reason and "area bound 40 m2" in mission.reason, mission.reason
    assert mission.status(h.t).path_length_m > 1.5, "it drove to look elsewhere"


def test_the_time_bound_ends_the_search_while_driving_not_after_the_next_scan():
    xmap = ExplorationMap()
    mission = make_mission(mission_timeout_s=600.0, explore_timeout_s=5.0)
    mission.exploration_map = xmap
    h = Harness(Scene(boxes=[]), mission)

    def nothing_here(frame):
        xmap.update(frame.depth_m, frame.intrinsics, frame.mount, frame.pose)
        return decision("move", "pink chair", False, None, "←", [point_task("pink chair")])

    mission.start("go to the pink chair", h.t)
    h.run(200.0, answer=nothing_here, stop_when=lambda: mission._ep.explore_started_s is not None)
    started = mission._ep.explore_started_s
    h.run(60.0, answer=nothing_here, stop_when=lambda: not mission.active)
    assert mission.state == MissionState.FAILED and "(time bound 5 s)" in mission.reason, mission.reason
    assert h.t - started < 5.5, "ended when the bound was reached"


def _next_room_map() -> ExplorationMap:
    """next_room as the first scans leave it: the first room seen, the wall at x = 3 with its
    doorway (y 1.4 to 2.5), and floor of the next room seen through the doorway."""
    xmap = ExplorationMap()

    def fill(x0, x1, y0, y1, value):
        (i0, i1), (j0, j1) = (xmap.cell_of(np.array([[x0, y0], [x1, y1]]))[k] for k in (0, 1))
        xmap.cells[i0:i1 + 1, j0:j1 + 1] = value

    fill(-1.5, 2.9, -3.0, 3.0, FREE)
    fill(3.1, 5.0, 1.4, 2.6, FREE)
    fill(3.1, 4.6, -1.0, 1.4, FREE)
    fill(3.0, 3.05, -3.0, 1.4, OBSTACLE)
    fill(3.0, 3.05, 2.5, 3.0, OBSTACLE)
    return xmap


def test_the_way_to_a_frontier_behind_a_wall_leads_through_the_doorway():
    xmap = _next_room_map()
    way = xmap.waypoint_toward((0.0, 0.0), (4.3, -0.5), clearance_m=0.3)
    x, y = way.xy
    # the farthest point of the way in plain sight: at the doorway's near side, not at the wall
    assert 2.0 < x < 3.0 and 1.3 < y < 2.3, (x, y)
    assert 5.5 < way.way_left_m < 7.5, "through the doorway and back down: longer than the 4.3 m straight line"
    near = xmap.waypoint_toward((0.0, 0.0), (2.0, 1.0), clearance_m=0.3)
    assert near.xy == pytest.approx((2.05, 1.05)), "a goal in plain sight is its own waypoint"
    assert near.way_left_m == pytest.approx(math.hypot(2.05, 1.05), abs=0.15)
    assert xmap.waypoint_toward((0.0, 0.0), (4.3, -0.5), clearance_m=1.0) is None, "too narrow a doorway: no way"
    assert xmap.waypoint_toward((0.0, 0.0), (40.0, 0.0), clearance_m=0.3) is None, "off the map"


def test_the_way_runs_down_the_middle_of_the_doorway_not_along_a_jamb():
    xmap = _next_room_map()  # the doorway spans y 1.4 to 2.5 at x 3.0: its middle is y 1.95
    for start in ((1.5, 0.5), (2.0, 1.0), (2.5, 1.2)):
        way = xmap.waypoint_toward(start, (4.3, -0.5), clearance_m=0.3)
        x, y = way.xy
        assert 2.9 < x < 3.5 and abs(y - 1.95) < 0.15, (start, way.xy)
    # beside the wall, the doorway's middle is out of plain sight: the aim is still a metre along
    # the way, never at the robot's feet, where S1 answers with a plan too short to move
    beside = (2.8, 0.6)
    assert math.dist(xmap.waypoint_toward(beside, (4.3, -0.5), clearance_m=0.3, min_ahead_m=0.0).xy, beside) < 0.85
    assert math.dist(xmap.waypoint_toward(beside, (4.3, -0.5), clearance_m=0.3).xy, beside) > 0.9
    # in the open, a goal in plain sight is still aimed at directly
    assert xmap.waypoint_toward((0.0, 0.0), (2.0, 1.0), clearance_m=0.3).xy == pytest.approx((2.05, 1.05))


def test_a_mission_exploring_toward_the_next_room_aims_s1_at_the_doorway():
    mission = make_mission(mission_timeout_s=600.0)
    mission.exploration_map = _next_room_map()
    mission.start("go to the purple box", 0.0)
    mission._head_for((4.3, -0.5), "purple box", 0.0, 0.0)  # the frontier the scan chose
    mission._route_to_frontier(Pose2D(0.0, 0.0, 0.0), 0.1)
    x, y = mission._ep.target.xy
    assert 2.0 < x < 3.0 and 1.3 < y < 2.3, (x, y)
    assert mission._ep.target.approximate and mission._ep.explore_goal == (4.3, -0.5)
    assert mission._ep.route_left_m > 5.5, "progress is watched along the way, not toward the moving aim"
    mission._route_to_frontier(Pose2D(2.6, 1.9, 0.0), 0.5)  # through the doorway: planned again after 1 s
    assert mission._ep.target.xy == (x, y)
    mission._route_to_frontier(Pose2D(2.6, 1.9, 0.0), 1.2)
    assert mission._ep.target.xy[0] > 3.0, "past the doorway the frontier is in plain sight"
    mission._frontier_reached(Pose2D(4.0, -0.3, 0.0), 5.0)
    assert mission._ep.route_left_m is None, "a way to an old frontier must not measure the next approach"
