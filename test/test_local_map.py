"""Rolling local map: marking, height-aware ray clearing, memory in the blind zone, time-outs,
scrolling, visited cells and the queries the collision monitor and planners use."""
import math

import numpy as np
import pytest

from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.local_map import FREE, OCCUPIED, UNKNOWN, LocalMap, LocalMapConfig, densify
from test.navigator_scene import Box, Scene

S = 1_000_000_000  # ns per second
BOX = Box(1.4, 1.7, -0.3, 0.3, 0.5, (200, 0, 0))


def _state_at(m: LocalMap, x: float, y: float, now_ns: int) -> int:
    ix, iy, inside = m.cell_of(np.array([[x, y]]))
    assert inside[0]
    return int(m.states(now_ns)[ix[0], iy[0]])


def _blind(depth: np.ndarray, min_range_m: float) -> np.ndarray:
    """What a real camera reads: nothing (0) closer than its minimum range."""
    out = depth.copy()
    out[~(out >= min_range_m)] = 0.0
    return out


def _fuse(m: LocalMap, scene: Scene, pose: Pose2D, t_ns: int, min_range_m: float = 0.0) -> dict:
    depth = _blind(scene.render(pose)[1], min_range_m)
    return m.update(depth, scene.intrinsics, scene.mount, pose, t_ns)


def test_a_box_is_marked_the_floor_before_it_cleared_and_behind_it_unknown():
    m, scene, pose = LocalMap(), Scene(boxes=[BOX]), Pose2D(0.0, 0.0, 0.0)
    info = _fuse(m, scene, pose, 0)
    assert info["marked_cells"] > 5 and 0.0 < info["valid_fraction"] <= 1.0
    assert _state_at(m, 1.42, 0.0, 0) == OCCUPIED
    assert _state_at(m, 1.0, 0.0, 0) == FREE
    assert _state_at(m, 2.2, 0.0, 0) == UNKNOWN, "the shadow of the box was never seen"
    assert _state_at(m, 0.0, 2.5, 0) == UNKNOWN, "outside the field of view"
    assert _state_at(m, 0.0, 0.0, 0) == FREE, "the robot's own footprint"


def test_invalid_depth_is_unknown_not_free():
    m, scene = LocalMap(), Scene(boxes=[BOX])
    depth = np.zeros((scene.intrinsics.height, scene.intrinsics.width), np.float32)
    depth[:, :10] = np.nan
    info = m.update(depth, scene.intrinsics, scene.mount, Pose2D(0.0, 0.0, 0.0), 0)
    assert info["valid_fraction"] == 0.0 and info["marked_cells"] == 0
    assert _state_at(m, 1.0, 0.0, 0) == UNKNOWN
    assert m.near_view is not None and m.near_view.invalid.all() and m.near_view.invalid.size > 20


def test_an_obstacle_seen_earlier_is_remembered_inside_the_blind_zone():
    m, scene = LocalMap(), Scene(boxes=[Box(0.9, 1.2, -0.3, 0.3, 0.5, (0, 0, 200))])
    _fuse(m, scene, Pose2D(0.0, 0.0, 0.0), 0, min_range_m=0.6)
    assert _state_at(m, 0.92, 0.0, 0) == OCCUPIED
    # driven up to it: the box is now under the minimum range, every pixel on it reads 0
    close = Pose2D(0.55, 0.0, 0.0)
    for k in range(1, 6):
        _fuse(m, scene, close, k * S // 10, min_range_m=0.6)
    assert _state_at(m, 0.92, 0.0, S // 2) == OCCUPIED
    d_occ, _ = m.path_distances(np.array([[0.55, 0.0, 0.0], [1.2, 0.0, 0.0]]), S // 2, 0.2, 0.1)
    assert d_occ < 0.25
    assert m.near_view.invalid.mean() > 0.5


def test_rays_passing_over_a_low_obstacle_do_not_erase_it():
    low = Box(1.0, 1.2, -0.25, 0.25, 0.15, (90, 90, 90))
    m, scene = LocalMap(), Scene(boxes=[low])
    _fuse(m, scene, Pose2D(0.0, 0.0, 0.0), 0)
    assert _state_at(m, 1.02, 0.0, 0) == OCCUPIED
    for k, x in enumerate(np.linspace(0.2, 0.7, 6)):
        _fuse(m, scene, Pose2D(float(x), 0.0, 0.0), (k + 1) * S // 5, min_range_m=0.5)
    assert _state_at(m, 1.02, 0.0, 2 * S) == OCCUPIED


def test_a_moved_obstacle_is_cleared_by_rays_through_its_old_place():
    m, pose = LocalMap(), Pose2D(0.0, 0.0, 0.0)
    _fuse(m, Scene(boxes=[BOX]), pose, 0)
    assert _state_at(m, 1.42, 0.0, 0) == OCCUPIED
    _fuse(m, Scene(), pose, S)
    assert _state_at(m, 1.42, 0.0, S) == FREE


def test_marks_and_free_space_time_out():
    cfg = LocalMapConfig(obstacle_timeout_s=5.0, free_timeout_s=2.0)
    m = LocalMap(cfg)
    _fuse(m, Scene(boxes=[BOX]), Pose2D(0.0, 0.0, 0.0), 0)
    assert _state_at(m, 1.42, 0.0, 4 * S) == OCCUPIED
    assert _state_at(m, 1.42, 0.0, 6 * S) == UNKNOWN
    assert _state_at(m, 1.0, 0.0, 1 * S) == FREE
    assert _state_at(m, 1.0, 0.0, 3 * S) == UNKNOWN


def test_the_window_scrolls_with_the_robot_and_keeps_odom_positions():
    m, scene = LocalMap(), Scene(boxes=[BOX])
    _fuse(m, scene, Pose2D(0.0, 0.0, 0.0), 0)
    before = m.origin.copy()
    m.mark_visited(0.0, 0.0, 0)
    m.recentre(1.3, 0.9)
    assert not np.array_equal(before, m.origin)
    assert _state_at(m, 1.42, 0.0, S) == OCCUPIED
    assert m.visit_count(0.0, 0.0) == 1
    m.recentre(40.0, 0.0)  # far away: everything scrolled out
    assert m.occupied_points(S).shape == (0, 2)
    assert m.visit_count(0.0, 0.0) == 0 and m.visited_age_s(0.0, 0.0, S) == math.inf


def test_visited_cells_count_returns_and_directions_report_blocked_and_visited():
    m = LocalMap(LocalMapConfig(revisit_gap_s=5.0))
    for k in range(10):  # standing still for a second: one visit
        m.mark_visited(0.0, 0.0, k * S // 10)
    assert m.visit_count(0.0, 0.0) == 1
    m.mark_visited(0.0, 0.0, 10 * S)
    assert m.visit_count(0.0, 0.0) == 2
    assert m.visited_age_s(0.0, 0.0, 12 * S) == pytest.approx(2.0)
    for x in np.arange(-1.0, 0.0, 0.1):  # came from -x
        m.mark_visited(float(x), 0.0, 11 * S)
    _fuse(m, Scene(boxes=[BOX]), Pose2D(0.0, 0.0, 0.0), 12 * S)
    dirs = {round(d["bearing_rad"], 3): d for d in m.directions(Pose2D(0.0, 0.0, 0.0), 12 * S, count=4,
                                                                horizon_m=1.5)}
    ahead, behind = dirs[0.0], dirs[round(-math.pi, 3)]
    assert ahead["blocked"] and ahead["free_m"] < 1.3
    assert not behind["blocked"] and behind["visited_fraction"] > 0.5
    assert ahead["visited_fraction"] < 0.2


def test_queries_for_the_collision_monitor_and_planners():
    m, pose = LocalMap(), Pose2D(0.0, 0.0, 0.0)
    _fuse(m, Scene(boxes=[BOX]), pose, 0)
    pts = m.occupied_in_box(pose, 0, 0.0, 3.0, -0.5, 0.5)
    assert pts.shape[0] > 3 and np.all(pts[:, 0] > 1.3)
    assert 1.0 < m.free_distance_ahead(pose, 0, 0.2) < 1.4
    side = np.array([[0.0, 1.0, 0.0], [2.5, 1.0, 0.0]])
    d_occ, d_unk = m.path_distances(side, 0, 0.2, 0.1)
    assert d_occ == math.inf and d_unk < 1.0, "off to the side is unseen, not free"
    clear = m.clearance(np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]), 0)
    assert clear[0] == pytest.approx(0.4, abs=0.08) and clear[1] > clear[0]
    occ, free = m.rasterize_base(Pose2D(0.0, 0.0, 0.0), 0, 0.0, -1.0, 0.05, 60, 40)
    assert occ[28:31, 14:26].any() and free[15:20, 18:22].all() and not (occ & free).any()
    data, origin, res = m.occupancy_grid(0)
    assert data.shape == (m.n, m.n) and data.dtype == np.int8 and res == m.res
    assert set(np.unique(data)) <= {UNKNOWN, FREE, OCCUPIED}
    xs, ys = m.cell_centres()
    assert origin == pytest.approx((xs[0] - res / 2, ys[0] - res / 2))


def test_densify_keeps_arc_length():
    pts, s = densify(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.5]]), 0.05)
    assert s[-1] == pytest.approx(1.5) and np.all(np.diff(s) <= 0.05 + 1e-9)
    assert np.allclose(pts[-1], [1.0, 0.5])


def test_bad_inputs_are_refused_with_a_reason():
    m, scene = LocalMap(), Scene()
    with pytest.raises(ValueError, match="finite"):
        m.update(np.ones((120, 160), np.float32), scene.intrinsics, scene.mount, Pose2D(math.nan, 0.0, 0.0), 0)
    with pytest.raises(ValueError, match="H x W"):
        m.update(np.ones((120,), np.float32), scene.intrinsics, scene.mount, Pose2D(0.0, 0.0, 0.0), 0)
    with pytest.raises(ValueError, match="finite"):
        m.mark_visited(math.inf, 0.0, 0)
    with pytest.raises(ValueError, match="resolution_m"):
        LocalMapConfig(resolution_m=0.0)
    with pytest.raises(ValueError, match="min_height_m"):
        LocalMapConfig(min_height_m=2.0)
    # NaN and negative pixels are invalid, never obstacles
    depth = np.full((120, 160), np.nan, np.float32)
    depth[:60] = -1.0
    assert m.update(depth, scene.intrinsics, scene.mount, Pose2D(0.0, 0.0, 0.0), 0)["marked_cells"] == 0


def test_dark_cells_need_frames_running_without_a_reading_and_a_reading_resets_them():
    m, scene, pose = LocalMap(LocalMapConfig(dark_min_frames=3)), Scene(), Pose2D(0.0, 0.0, 0.0)
    depth = scene.render(pose)[1]
    hole = depth.copy()
    hole[100:, 70:90] = 0.0  # the floor right ahead reads nothing
    for k in range(2):
        m.update(hole, scene.intrinsics, scene.mount, pose, k * S // 10)
    assert not m.dark_mask(S // 10).any(), "two frames: a hole"
    m.update(hole, scene.intrinsics, scene.mount, pose, 2 * S // 10)
    dark = m.dark_mask(2 * S // 10)
    assert dark.any() and not (dark & m.free_mask(2 * S // 10)).any()
    m.update(depth, scene.intrinsics, scene.mount, pose, 3 * S // 10)
    xs, _ = m.cell_centres()
    near = xs[:, None] < 2.0  # (the floor beyond the scene's 8 m range is dark for good)
    assert not (m.dark_mask(3 * S // 10) & near).any(), "seen again: no longer dark"


def test_a_fleet_peer_blocks_while_heard_and_leaves_no_trail():
    """perception/fleet_peers.py: a peer's footprint is an obstacle and a mover for peer_timeout_s,
    in a layer apart from depth, so where it stood a second ago does not stay blocked."""
    from lingnav_ros.perception.fleet_peers import peer_footprint, robot_identity

    m = LocalMap(LocalMapConfig(peer_timeout_s=0.5))
    m.recentre(0.0, 0.0)
    footprint = peer_footprint(Pose2D(1.0, 0.0, math.pi), 0.3)
    assert footprint[0] == pytest.approx([1.0, 0.0]) and footprint[-1] == pytest.approx([0.7, 0.0], abs=1e-9)
    m.mark_peer(footprint, 0.2, 10 * S)
    here = Pose2D(0.0, 0.0, 0.0)
    assert _state_at(m, 1.15, 0.0, 10 * S) == OCCUPIED and _state_at(m, 0.55, 0.0, 10 * S) == OCCUPIED
    assert _state_at(m, 1.0, 0.3, 10 * S) == UNKNOWN, "nothing beyond the peer's radius"
    assert m.moving_obstacle_ahead(here, 10 * S, 1.5, 0.3, 20.0), "a robot in the way has moved in"
    assert m.path_distances(np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]]), 10 * S, 0.2, 0.0)[0] < 0.4
    late = 10 * S + S // 2 + 1
    assert _state_at(m, 1.0, 0.0, late) == UNKNOWN and not m.moving_obstacle_ahead(here, late, 1.5, 0.3, 20.0)
    # the layer scrolls with the window like every other
    m.mark_peer(footprint, 0.2, 20 * S)
    m.recentre(1.6, 0.0)
    assert _state_at(m, 1.0, 0.0, 20 * S) == OCCUPIED
    # a reversing peer covers where it backs to; a standing one only where it stands
    assert peer_footprint(Pose2D(0.0, 0.0, 0.0), -0.2)[-1] == pytest.approx([-0.2, 0.0])
    assert len(peer_footprint(Pose2D(0.0, 0.0, 0.0), 0.0)) == 1
    assert robot_identity("/robot2", "base_link") == "robot2/base_link" and robot_identity("/", "base") == "base"


def test_a_peer_with_the_right_of_way_or_standing_blocks_but_is_not_waited_for():
    """Head-on, both robots waiting for each other stand until their waits run out: the one
    without the right of way does not wait (its stall timers run, it backs out), the other does."""
    from lingnav_ros.perception.fleet_peers import PEER_STILL_S, has_right_of_way, worth_waiting_for

    assert has_right_of_way("robot1/base_link", "robot2/base_link")
    assert not has_right_of_way("robot2/base_link", "robot1/base_link")
    assert worth_waiting_for("robot2/base_link", "robot1/base_link", 0.0)
    assert not worth_waiting_for("robot1/base_link", "robot2/base_link", 0.0), "it has the right of way"
    assert not worth_waiting_for("robot2/base_link", "robot1/base_link", PEER_STILL_S), "it stands: plan around"
    m, scene, here = LocalMap(), Scene(boxes=[Box(0.9, 1.3, -0.2, 0.2, 0.5, (90, 90, 90))]), Pose2D(0.0, 0.0, 0.0)
    for k in range(5):  # the camera sees the space free for 0.4 s (MOVED_IN_FREE_FOR_S)
        _fuse(m, Scene(boxes=[]), here, k * S // 10)
    t_ns = S // 2
    _fuse(m, scene, here, t_ns)  # ... and then sees it step in: moved in
    assert m.moving_obstacle_ahead(here, t_ns, 1.5, 0.3, 20.0)
    m.mark_peer(np.array([[1.1, 0.0]]), 0.2, t_ns, wait_for=False)
    assert _state_at(m, 1.1, 0.1, t_ns) == OCCUPIED, "it still blocks"
    assert not m.moving_obstacle_ahead(here, t_ns, 1.5, 0.3, 20.0), \
        "neither the peer nor what the camera sees of it is waited for"
    later_ns = t_ns + S  # the not-waited-for mark has timed out (peer_timeout_s)
    m.mark_peer(np.array([[1.1, 0.0]]), 0.2, later_ns, wait_for=True)
    assert m.moving_obstacle_ahead(here, later_ns, 1.5, 0.3, 20.0), "a peer without it is waited for"
