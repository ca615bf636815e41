"""Collision monitor with the local map: remembered obstacles in the blind zone, unknown space
caps the speed, "near field blind", turning in place next to a remembered box, backing up."""
import math

import numpy as np
import pytest

from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.perception.local_map import LocalMap
from lingnav_ros.safety.collision import (
    CollisionConfig,
    CollisionMonitor,
    obstacles_from_depth,
    obstacles_to_odom,
    rollout,
    stop_speed,
)
from test.navigator_scene import Box, Scene

S = 1_000_000_000
CFG = CollisionConfig()
BOX = Box(0.9, 1.2, -0.3, 0.3, 0.5, (0, 0, 200))


def _blind(depth: np.ndarray, min_range_m: float) -> np.ndarray:
    out = depth.copy()
    out[~(out >= min_range_m)] = 0.0
    return out


def _frame_obstacles(scene: Scene, depth: np.ndarray, pose: Pose2D) -> np.ndarray:
    return obstacles_to_odom(obstacles_from_depth(depth, scene.intrinsics, scene.mount, CFG), pose)


def _straight(pose: Pose2D, v: float = 0.4, horizon_s: float = 1.5) -> np.ndarray:
    return rollout(pose, Command(v, 0.0), horizon_s)


def test_stop_speed_stops_within_the_distance():
    for d in (0.05, 0.3, 1.0):
        v = stop_speed(d, 0.8, 0.25)
        assert v * 0.25 + v * v / (2 * 0.8) == pytest.approx(d)
    assert stop_speed(0.0, 0.8, 0.25) == 0.0


def test_an_obstacle_in_the_blind_zone_still_stops_the_robot():
    scene, m, mon = Scene(boxes=[BOX]), LocalMap(), CollisionMonitor(CFG)
    far = Pose2D(0.0, 0.0, 0.0)
    m.update(_blind(scene.render(far)[1], 0.6), scene.intrinsics, scene.mount, far, 0)
    close = Pose2D(0.6, 0.0, 0.0)
    depth = _blind(scene.render(close)[1], 0.6)
    m.update(depth, scene.intrinsics, scene.mount, close, S // 10)
    seen_now = _frame_obstacles(scene, depth, close)
    path = _straight(close)
    assert mon.check(path, seen_now).action == "clear", "the current frame alone has forgotten the box"
    verdict = mon.check(path, seen_now, local_map=m, now_ns=S // 10)
    assert verdict.action == "stop" and verdict.distance_to_contact_m < 0.15


def test_a_black_obstacle_is_never_driven_into_and_the_status_says_near_field_blind():
    scene, m, mon = Scene(boxes=[BOX]), LocalMap(), CollisionMonitor(CFG)
    empty = Scene()
    x, reasons = 0.0, []
    for k in range(60):  # drive as the monitor lets a 0.4 m/s command through
        pose = Pose2D(x, 0.0, 0.0)
        depth = scene.render(pose)[1]
        black = np.abs(np.nan_to_num(depth) - np.nan_to_num(empty.render(pose)[1])) > 1e-4
        depth[black] = 0.0  # pixels on the box (and the floor it hides) read nothing
        m.update(depth, scene.intrinsics, scene.mount, pose, k * S // 10)
        verdict = mon.check(_straight(pose), _frame_obstacles(scene, depth, pose), local_map=m, now_ns=k * S // 10)
        v_out = verdict.apply(Command(0.4, 0.0)).v_mps
        # never faster than it can stop before the unseen box face (at 0.9 m, robot radius 0.2)
        assert v_out <= stop_speed(max(0.9 - 0.2 - x, 0.0), CFG.brake_decel_mps2, CFG.reaction_s) + 0.02
        reasons.append(verdict.reason)
        x += v_out * 0.1
    assert x < 0.7 and verdict.action == "stop", (x, verdict)
    assert verdict.reason.startswith("near field blind"), reasons[-8:]


def test_known_free_space_ahead_does_not_slow_the_robot():
    scene, m, mon = Scene(), LocalMap(), CollisionMonitor(CFG)
    pose = Pose2D(0.0, 0.0, 0.0)
    depth = scene.render(pose)[1]
    m.update(depth, scene.intrinsics, scene.mount, pose, 0)
    verdict = mon.check(_straight(pose, 0.3, 1.0), _frame_obstacles(scene, depth, pose), local_map=m, now_ns=0)
    assert verdict.action == "clear" and verdict.apply(Command(0.3, 0.0)) == Command(0.3, 0.0)


def test_unknown_space_caps_the_speed_and_holes_in_depth_are_not_free():
    scene, m, mon = Scene(), LocalMap(), CollisionMonitor(CFG)
    pose = Pose2D(0.0, 0.0, 0.0)
    depth = scene.render(pose)[1]
    # the floor beyond ~1.1 m reads nothing (a dark carpet, a hole)
    fy = scene.intrinsics.fy
    row = int(scene.intrinsics.cy + fy * math.tan(math.atan2(0.4, 1.1) - scene.mount.pitch_rad))
    depth[:row] = 0.0
    m.update(depth, scene.intrinsics, scene.mount, pose, 0)
    verdict = mon.check(_straight(pose, 0.6, 2.0), np.zeros((0, 2)), local_map=m, now_ns=0)
    # the body (radius 0.2) reaches the unseen floor at 1.1 m when its centre is at ~0.9 m
    assert verdict.action == "slow" and 0.75 < verdict.free_distance_m < 0.95
    assert verdict.reason.startswith("unknown space ahead")
    capped = verdict.apply(Command(1.5, 0.2))
    assert capped.v_mps == pytest.approx(verdict.speed_cap_mps) and capped.w_radps == 0.2
    room = verdict.free_distance_m - CFG.free_margin_m
    assert stop_speed(room, CFG.brake_decel_mps2, CFG.reaction_s) \
        == pytest.approx(verdict.speed_cap_mps)


def test_turning_in_place_next_to_a_remembered_box_is_allowed_but_driving_into_it_is_not():
    box = Box(0.0, 0.6, 0.35, 0.9, 0.5, (120, 120, 120))  # beside the robot after a turn
    scene, m, mon = Scene(boxes=[box]), LocalMap(), CollisionMonitor(CFG)
    seen_from = Pose2D(-0.8, 0.0, math.radians(30))
    m.update(scene.render(seen_from)[1], scene.intrinsics, scene.mount, seen_from, 0)
    pose = Pose2D(0.3, 0.0, 0.0)  # now the box is out of view, on the robot's left
    m.clear_footprint(pose, S)
    spin = rollout(pose, Command(0.0, 0.8), 1.5)
    assert mon.check(spin, np.zeros((0, 2)), local_map=m, now_ns=S).action != "stop"
    left = rollout(Pose2D(0.3, 0.0, math.pi / 2), Command(0.3, 0.0), 1.5)
    verdict = mon.check(left, np.zeros((0, 2)), local_map=m, now_ns=S)
    assert verdict.action == "stop" and "obstacle" in verdict.reason


def test_after_a_turn_in_place_the_robot_may_drive_on_but_not_beside_a_black_box():
    scene, mon = Scene(), CollisionMonitor(CFG)
    m = LocalMap()
    pose = Pose2D(0.0, 0.0, math.pi / 2)  # just turned: the cells beside its body were never in view
    m.update(scene.render(pose)[1], scene.intrinsics, scene.mount, pose, 0)
    verdict = mon.check(_straight(pose, 0.3), np.zeros((0, 2)), local_map=m, now_ns=0)
    assert verdict.action != "stop" and verdict.apply(Command(0.3, 0.0)).v_mps > 0.1
    # a black box ahead-left: looked at, read nothing. Beside the body it still blocks.
    black = Box(0.15, 0.6, 0.3, 1.0, 0.5, (20, 20, 20))  # overlaps the right side of the body's sweep
    seen = Scene(boxes=[black])
    depth = seen.render(pose)[1]
    depth[np.abs(np.nan_to_num(depth) - np.nan_to_num(scene.render(pose)[1])) > 1e-4] = 0.0
    m2 = LocalMap()
    for k in range(3):  # dark once it has read nothing there for dark_min_frames frames
        m2.update(depth, seen.intrinsics, seen.mount, pose, k * S // 10)
    assert m2.dark_mask(S // 5).any()
    verdict = mon.check(_straight(pose, 0.3), np.zeros((0, 2)), local_map=m2, now_ns=S // 5)
    assert verdict.action == "stop", verdict


def test_backing_up_into_space_never_seen_is_refused_but_into_the_way_it_came_is_fine():
    scene, m, mon = Scene(), LocalMap(), CollisionMonitor(CFG)
    for k, x in enumerate(np.arange(0.0, 1.0, 0.1)):
        pose = Pose2D(float(x), 0.0, 0.0)
        m.update(scene.render(pose)[1], scene.intrinsics, scene.mount, pose, k * S // 10)
    back = rollout(Pose2D(0.9, 0.0, 0.0), Command(-0.2, 0.0), 1.5)
    assert mon.check(back, np.zeros((0, 2)), local_map=m, now_ns=S).action == "clear"
    fresh = LocalMap()
    fresh.clear_footprint(Pose2D(0.0, 0.0, 0.0), 0)
    verdict = mon.check(rollout(Pose2D(0.0, 0.0, 0.0), Command(-0.2, 0.0), 1.5), np.zeros((0, 2)),
                        local_map=fresh, now_ns=0)
    assert verdict.action == "stop" and "unknown space" in verdict.reason
