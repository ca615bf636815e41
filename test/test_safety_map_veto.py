"""The planners' veto: S1 candidates against the obstacles the local map remembers."""
import numpy as np
import pytest

from lingnav_core.s1_plan import NUM_WAYPOINTS, S1Plan
from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.local_map import LocalMap
from lingnav_ros.safety.map_veto import VetoConfig, veto_plan
from test.navigator_scene import Box, Scene

POSE = Pose2D(0.0, 0.0, 0.0)


def _arc(curvature: float, length: float = 2.0) -> np.ndarray:
    s = np.linspace(length / NUM_WAYPOINTS, length, NUM_WAYPOINTS)
    if abs(curvature) < 1e-9:
        return np.stack([s, np.zeros_like(s), np.zeros_like(s)], axis=1)
    th = curvature * s
    return np.stack([np.sin(th) / curvature, (1 - np.cos(th)) / curvature, th], axis=1)


def _plan(curvatures=(0.0, 0.9), values=(1.0, 0.5)) -> S1Plan:
    cands = np.stack([_arc(k) for k in curvatures]).astype(np.float32)
    return S1Plan(best=cands[0].copy(), candidates=cands, values=np.asarray(values, np.float32),
                  no_safe_path=False, chosen_index=0, backend="test")


def _map_with(*boxes: Box, pose: Pose2D = POSE) -> LocalMap:
    m, scene = LocalMap(), Scene(boxes=list(boxes))
    m.update(scene.render(pose)[1], scene.intrinsics, scene.mount, pose, 0)
    return m


def test_nothing_remembered_leaves_the_plan_alone():
    plan = _plan()
    res = veto_plan(plan, POSE, LocalMap(), 0)
    assert not res.vetoed and res.plan is plan


def test_a_blocked_chosen_candidate_is_replaced_by_the_best_clear_one():
    m = _map_with(Box(0.7, 1.0, -0.6, -0.1, 0.5, (90, 90, 90)))  # on the straight path, not the left arc
    res = veto_plan(_plan(), POSE, m, 0)
    assert res.vetoed and res.plan.chosen_index == 1 and not res.plan.no_safe_path
    assert "took candidate 1" in res.reason and res.plan.info["map_veto"] == res.reason
    assert np.allclose(res.plan.best, _arc(0.9), atol=1e-5)
    assert res.safe_lengths_m[0] < 0.5


def test_a_far_obstacle_cuts_the_candidate_and_holds_its_last_safe_pose():
    m = _map_with(Box(1.5, 1.8, -1.5, 1.5, 0.5, (90, 90, 90)))  # across every candidate
    res = veto_plan(_plan((0.0, 0.2)), POSE, m, 0)
    assert res.vetoed and res.plan.chosen_index == 0 and "cut at" in res.reason
    best = res.plan.best
    assert best[:, 0].max() < 1.5 - 0.2 and best[-1, 0] == best[-2, 0]
    assert 1.0 < res.safe_lengths_m[0] < 1.3 and not res.plan.no_safe_path


def test_every_candidate_blocked_means_no_safe_path():
    m = _map_with(Box(0.45, 0.7, -1.0, 1.0, 0.5, (90, 90, 90)))
    res = veto_plan(_plan(), POSE, m, 0)
    assert res.vetoed and res.plan.no_safe_path and "every S1 candidate" in res.reason


def test_the_target_itself_never_vetoes_the_approach():
    m = _map_with(Box(1.5, 1.8, -0.25, 0.25, 0.5, (200, 0, 0)))
    res = veto_plan(_plan(), POSE, m, 0, VetoConfig(target_clearance_m=0.4), target_odom_xy=(1.65, 0.0))
    assert not res.vetoed


def test_an_obstacle_the_robot_stands_beside_does_not_veto_turning_away():
    m = _map_with(Box(0.5, 0.8, -0.3, 0.3, 0.5, (90, 90, 90)))
    here = Pose2D(0.3, 0.0, 0.0)  # 0.2 m from the face: within reach of the start
    back = _arc(0.0, 1.0) * np.array([-1.0, 1.0, 1.0])
    away = S1Plan(best=back, candidates=np.stack([back]), values=np.ones(1), no_safe_path=False,
                  chosen_index=0, backend="test")
    res = veto_plan(away, here, m, 0)
    assert not res.plan.no_safe_path


@pytest.mark.parametrize("plan_kw", [{"no_safe_path": True}])
def test_a_plan_that_already_stops_is_passed_through(plan_kw):
    plan = _plan()
    plan.no_safe_path = plan_kw["no_safe_path"]
    assert veto_plan(plan, POSE, _map_with(Box(0.6, 0.9, -1.0, 1.0, 0.5, (9, 9, 9))), 0).plan is plan


def test_space_looked_at_but_never_seen_vetoes_like_an_obstacle():
    black = Box(0.9, 1.3, -0.6, 0.1, 0.5, (20, 20, 20))  # on the straight path, reads nothing
    scene, empty = Scene(boxes=[black]), Scene()
    depth = scene.render(POSE)[1]
    depth[np.abs(np.nan_to_num(depth) - np.nan_to_num(empty.render(POSE)[1])) > 1e-4] = 0.0
    m = LocalMap()
    m.update(depth, scene.intrinsics, scene.mount, POSE, 0)
    assert not veto_plan(_plan(), POSE, m, 0).vetoed, "one frame without a reading is a hole, not a box"
    for t in (1, 2):
        m.update(depth, scene.intrinsics, scene.mount, POSE, t * 100_000_000)
    assert not m.occupied_mask(200_000_000).any(), "nothing was seen as an obstacle"
    res = veto_plan(_plan(), POSE, m, 200_000_000)
    assert res.vetoed and res.plan.chosen_index == 1 and "unseen space" in res.reason
