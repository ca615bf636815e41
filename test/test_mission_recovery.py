"""Never stall silently: progress monitoring, plans too short to move, S1's turn and
reverse primitives, dead-end memory, detours and the target kept while it is plausibly hidden."""
import math

import numpy as np
import pytest

from lingnav_core.s1_plan import NUM_WAYPOINTS, PointGoal, S1Plan
from lingnav_ros.control.types import Pose2D
from lingnav_ros.mission.dead_end_memory import TrailMemory, blocked_fraction
from lingnav_ros.mission.recovery import (
    ProgressMonitor,
    RecoveryConfig,
    classify_path,
    detour_waypoints,
    mark_dead_end,
    path_clear_of_dead_ends,
)
from lingnav_ros.mission.states import MissionState, Reason
from lingnav_ros.mission.target import expected_in_view, lift_pixel
from test.mission_harness import Harness, make_mission
from test.navigator_scene import Box, Scene

RED = (255, 0, 0)
S = np.linspace(0.0, 1.0, NUM_WAYPOINTS)


def _path(x_end, y_end, yaw_end=0.0):
    return np.stack([S * x_end, S * y_end, S * yaw_end], axis=1)


@pytest.mark.parametrize("path,kind", [
    (_path(2.0, 0.3), "forward"),
    (_path(0.13, 0.0), "stub"),  # the 0.13 m stub that froze the robot
    (_path(0.0, 0.0, math.pi / 2), "turn"),
    (_path(0.0, 0.0, -1.0), "turn"),
    (_path(-0.3, 0.0), "reverse"),
    (_path(0.0, 0.0, 0.1), "stub"),
    (np.full((NUM_WAYPOINTS, 3), np.nan), "stub"),
])
def test_plans_are_read_as_forward_turn_reverse_or_stub(path, kind):
    assert classify_path(path, min_length_m=0.25) == kind


def test_progress_monitor_stalls_only_without_progress():
    m = ProgressMonitor(timeout_s=5.0, min_progress_m=0.3)
    assert not m.update(4.0, 0.0)
    assert not m.update(3.8, 4.0)  # 0.2 m is not progress
    assert not m.update(3.6, 4.9)  # 0.4 m is: the clock restarts
    assert not m.update(3.5, 9.0)
    assert m.update(3.5, 10.0)
    assert m.stalled_for_s(10.0) == pytest.approx(5.1)
    m.reset(10.0)
    assert not m.update(3.5, 12.0) and not m.update(float("nan"), 30.0)


def test_trail_memory_backs_out_along_the_driven_path_and_marks_dead_ends():
    mem = TrailMemory(cell_m=0.25)
    for x in np.arange(0.0, 2.01, 0.05):
        mem.mark_visited(float(x), 0.0)
    back = mem.point_back_along_trail(1.2)
    assert back[0] == pytest.approx(0.8, abs=0.11) and back[1] == 0.0
    assert mem.point_back_along_trail(10.0) == (0.0, 0.0)
    assert mem.visits(1.0, 0.0) >= 1 and mem.visits(1.0, 1.0) == 0
    cfg = RecoveryConfig()
    mark_dead_end(mem, 2.0, 0.0, (4.0, 0.0), cfg)
    assert mem.is_blocked(2.9, 0.0) and not mem.is_blocked(1.0, 0.0) and not mem.is_blocked(2.0, 1.2)
    into = np.stack([2.0 + S * 2.0, np.zeros(NUM_WAYPOINTS)], axis=1)
    around = np.stack([S * 1.0, S * 1.5], axis=1)
    assert blocked_fraction(mem, into) > 0.3 and blocked_fraction(mem, around) == 0.0
    # the detour backs out along the trail, then steps to a side
    wps = detour_waypoints(2.0, 0.0, (4.0, 0.0), mem, attempt=1, cfg=cfg)
    assert wps[0] == pytest.approx(back, abs=0.11)
    assert abs(wps[-1][1]) == pytest.approx(cfg.side_step_m, abs=0.05)


def test_paths_into_a_marked_dead_end_are_refused():
    mem = TrailMemory()
    mark_dead_end(mem, 2.0, 0.0, (4.0, 0.0), RecoveryConfig())
    straight = np.stack([S * 3.0, np.zeros(NUM_WAYPOINTS)], axis=1)
    left = np.stack([S * 1.5, S * 1.5], axis=1)
    assert not path_clear_of_dead_ends(straight, mem, 0.15)
    assert path_clear_of_dead_ends(left, mem, 0.15)
    standing_in_it = np.stack([2.0 + S * 0.4, S * 1.5], axis=1)  # leaving the dead end is fine
    assert path_clear_of_dead_ends(standing_in_it, mem, 0.15)


def test_the_mission_takes_the_next_usable_candidate():
    """S1's best leads back into a marked dead end (or reverses into unseen space): the next
    candidate above the stop threshold is followed, and never one below it."""
    box = Box(3.0, 3.4, -0.2, 0.2, 0.5, RED)
    h = _approaching(box)
    mark_dead_end(h.mission._ep.memory, 1.5, 0.0, h.mission.target.xy, RecoveryConfig())
    straight = _path(2.5, 0.0)
    left = _path(1.5, 1.2, 0.6)
    right = _path(1.5, -1.2, -0.6)
    frame = h.scene.frame(h.pose, h.t)
    req = h.mission.s1_request(frame)
    plan = S1Plan(best=straight, candidates=np.stack([straight, left, right]), values=np.array([0.5, -3.5, -1.0]),
                  no_safe_path=False, chosen_index=0, backend="test")
    h.mission.on_s1_plan(req, plan, frame, h.t)
    assert h.mission.plan_record is not None
    assert h.mission.plan_record.path_odom[-1, 1] == pytest.approx(-1.2, abs=1e-6), "right, not left (< -3)"
    reverse = S1Plan(best=_path(-0.3, 0.0), candidates=np.stack([_path(-0.3, 0.0), _path(0.0, 0.0, 1.2)]),
                     values=np.array([-2.3, -2.5]), no_safe_path=False, chosen_index=0, backend="test")
    h.mission.on_s1_plan(h.mission.s1_request(frame), reverse, frame, h.t + 0.1)
    out = h.tick()
    assert out.source == "primitive" and not out.reverse, "no trail behind: the turn is taken"


def _approaching(box, **cfg):
    h = Harness(Scene(boxes=[box]), make_mission(**cfg))
    h.mission.start("go to the red box", h.t)
    assert h.query(lambda f: h.oracle(f, box)) is not None
    assert h.mission.state == MissionState.APPROACHING
    return h


def _feed(h, best, no_safe=False):
    frame = h.scene.frame(h.pose, h.t)
    req = h.mission.s1_request(frame)
    if req is None:
        return None
    plan = S1Plan(best=best, candidates=best[None], values=np.array([-4.0 if no_safe else 0.5]),
                  no_safe_path=no_safe, chosen_index=0, backend="test", latency_s=0.01)
    h.mission.on_s1_plan(req, plan, frame, h.t)
    return req


def test_stub_plans_do_not_reset_the_no_safe_path_timer():
    box = Box(3.0, 3.4, -0.2, 0.2, 0.5, RED)
    h = _approaching(box, no_safe_path_timeout_s=2.0, max_recoveries=0)
    for i in range(40):  # the planner flips between a stub and no path
        _feed(h, _path(0.13, 0.0), no_safe=i % 2 == 1)
        h.tick()
        h.t += 0.1
        if not h.mission.active:
            break
    assert h.mission.state == MissionState.FAILED
    assert h.mission.reason.startswith(Reason.NO_SAFE_PATH) and "recoveries did not help" in h.mission.reason
    assert h.t < 3.5, "failed after the timeout, not later"
    assert all(c.v_mps == 0.0 for _, c, _ in h.commands), "a stub never moves the robot"


def test_s1_turn_in_place_runs_as_a_closed_loop_rotation():
    box = Box(3.0, 3.4, -0.2, 0.2, 0.5, RED)
    h = _approaching(box)
    assert _feed(h, _path(0.0, 0.0, math.pi / 2)) is not None
    for _ in range(400):
        out = h.tick()
        if out.source != "primitive" and h.t > 1.0:
            break
    assert h.pose.theta_rad == pytest.approx(math.pi / 2, abs=0.06)
    assert math.hypot(h.pose.x_m, h.pose.y_m) < 0.05
    assert h.mission.state == MissionState.APPROACHING
    assert h.mission.s1_request(h.scene.frame(h.pose, h.t - 1.0)) is None, "no plans from before the turn"


def test_reverse_backs_out_only_over_driven_ground():
    box = Box(3.0, 3.4, -0.2, 0.2, 0.5, RED)
    h = _approaching(box)
    _feed(h, _path(-0.3, 0.0))  # nothing driven yet: behind is unknown
    assert h.tick().source == "hold"
    h.pose = Pose2D(0.0, 0.0, 0.0)
    for x in np.arange(-1.0, 0.01, 0.05):  # it came from behind
        h.mission._ep.memory.mark_visited(float(x), 0.0)
    assert _feed(h, _path(-0.3, 0.0)) is not None
    out = h.tick()
    assert out.source == "primitive" and out.reverse


def test_no_progress_starts_a_recovery_then_fails_with_a_clear_reason():
    box = Box(3.0, 3.4, -0.2, 0.2, 0.5, RED)
    h = _approaching(box, progress_timeout_s=3.0, max_recoveries=1)
    sideways = _path(0.0, 0.6, math.pi / 2)
    sideways[:, 0] = 0.05  # a plan that circles without getting any closer
    recovered = False
    for _ in range(2000):
        frame = h.scene.frame(h.pose, h.t)
        req = h.mission.s1_request(frame)
        if req is not None:
            if req.detour:
                recovered = True
                assert isinstance(req.goal, PointGoal) and h.mission.detour
            h.mission.on_s1_plan(req, S1Plan(best=sideways, candidates=sideways[None], values=np.array([0.5]),
                                              no_safe_path=False, chosen_index=0, backend="test"), frame, h.t)
        h.tick()
        if not h.mission.active:
            break
    assert recovered, h.mission.transitions
    assert any(r.startswith("recovery 1/1") for _, r in h.mission.transitions)
    assert h.mission.state == MissionState.FAILED and h.mission.reason.startswith(Reason.NO_PROGRESS)
    assert "recoveries did not help" in h.mission.reason


def test_target_hidden_from_view_is_kept_but_not_one_in_plain_view():
    box = Box(3.0, 3.4, -0.2, 0.2, 0.5, RED)
    scene = Scene(boxes=[box])
    seen = scene.frame(Pose2D(0.0, 0.0, 0.0))
    u, v = 80, 60
    target = lift_pixel(u, v, seen, "red box")
    assert expected_in_view(target, seen)
    assert not expected_in_view(target, scene.frame(Pose2D(0.0, 0.0, math.pi / 2))), "out of view"
    wall = Box(1.4, 1.6, -1.0, 1.0, 1.0, (90, 90, 90))
    assert not expected_in_view(target, Scene(boxes=[box, wall]).frame(Pose2D(0.0, 0.0, 0.0))), "occluded"


def test_visits_live_in_the_shared_local_map():
    """Issue 19: one grid for obstacles and dead-end memory. Visits go into the navigator's
    LocalMap; trail and dead ends stay with the mission."""
    from lingnav_ros.mission.dead_end_memory import LocalMapMemory
    from lingnav_ros.perception.local_map import LocalMap

    local_map = LocalMap()
    h = Harness(Scene(boxes=[Box(3.0, 3.4, -0.2, 0.2, 0.5, RED)]), make_mission())
    h.mission.local_map = local_map
    h.mission.start("go to the red box", h.t)
    assert isinstance(h.mission._ep.memory, LocalMapMemory)
    h.mission.control(h.t, Pose2D(0.3, 0.0, 0.0), h.last_cmd, h.dt)
    h.mission.control(h.t + 0.05, Pose2D(0.3, 0.0, 0.0), h.last_cmd, h.dt)  # QUERYING: not a motion state
    assert local_map.visit_count(0.3, 0.0) == 0
    box = h.scene.boxes[0]
    h.query(lambda f: h.oracle(f, box))
    assert h.mission.state == MissionState.APPROACHING
    h.mission.control(h.t + 0.1, Pose2D(0.3, 0.0, 0.0), h.last_cmd, h.dt)
    assert local_map.visit_count(0.3, 0.0) == 1 and h.mission._ep.memory.visits(0.3, 0.0) == 1
    assert h.mission._ep.memory.free_distance_m(0.3, 0.0, 0.0, 1.5) >= 1.5  # nothing remembered ahead


def test_an_s1_turn_that_undoes_the_last_one_is_refused():
    box = Box(3.0, 3.4, -0.2, 0.2, 0.5, RED)
    h = _approaching(box)
    assert _feed(h, _path(0.0, 0.0, math.pi / 2)) is not None
    for _ in range(400):
        if h.tick().source != "primitive" and h.t > 1.0:
            break
    back = S1Plan(best=_path(0.0, 0.0, -math.pi / 2), candidates=np.stack([_path(0.0, 0.0, -math.pi / 2)]),
                  values=np.array([-2.0]), no_safe_path=False, chosen_index=0, backend="test")
    frame = h.scene.frame(h.pose, h.t)
    h.mission.on_s1_plan(h.mission.s1_request(frame), back, frame, h.t)
    assert h.tick().source == "hold", "left then right again is a stall, not a plan"


def _u_barrier_map():
    """What the camera saw of dead_end's room: floor, a low U opening toward the robot, the box."""
    from lingnav_ros.perception.exploration_map import FREE, OBSTACLE, ExplorationMap
    xmap = ExplorationMap()

    def fill(x0, x1, y0, y1, value):
        ix0, iy0, _ = xmap.cell_of(np.array([[x0, y0]]))
        ix1, iy1, _ = xmap.cell_of(np.array([[x1, y1]]))
        xmap.cells[ix0[0]:ix1[0] + 1, iy0[0]:iy1[0] + 1] = value

    fill(-1.5, 3.1, -3.0, 3.0, FREE)
    fill(3.1, 3.3, -1.05, 1.05, OBSTACLE)
    fill(1.1, 3.2, 0.85, 1.05, OBSTACLE)
    fill(1.1, 3.2, -1.05, -0.85, OBSTACLE)
    fill(5.05, 5.55, -0.25, 0.25, OBSTACLE)
    return xmap


def _stall_at_the_base_of_the_u(h):
    """Feed plans that circle without getting closer until the mission starts a recovery."""
    h.pose = Pose2D(2.2, 0.0, 0.0)  # inside the U, stalled at its base
    sideways = _path(0.0, 0.6, math.pi / 2)
    sideways[:, 0] = 0.05
    for _ in range(400):
        _feed(h, sideways)
        h.tick()
        if h.mission.detour:
            break
    return h.mission.detour


def test_a_recovery_takes_the_known_way_round_a_trap_not_a_side_step():
    box = Box(5.05, 5.55, -0.25, 0.25, 0.8, RED)
    h = _approaching(box, progress_timeout_s=3.0)
    h.mission.exploration_map = _u_barrier_map()
    detour = _stall_at_the_base_of_the_u(h)
    assert any(r.startswith("recovery 1/") for _, r in h.mission.transitions)
    # out of the U's mouth, round an arm's end, then along its outside to where the box is seen
    assert detour[0][0] < 1.1, detour
    assert any(abs(y) > 1.3 for _, y in detour), detour
    assert detour[-1][0] > 3.3 and abs(detour[-1][1]) > 1.1, detour
    # without a map of the trap, the recovery is the trail-and-side-step detour as before
    side_step = _stall_at_the_base_of_the_u(_approaching(box, progress_timeout_s=3.0))
    assert side_step and all(x < 3.3 for x, _ in side_step), side_step
