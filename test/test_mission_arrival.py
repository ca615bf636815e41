"""Stop where asked: the target's position fused over sightings (one bad depth reading is
outvoted), ARRIVED only on agreement, and the robot ends arrive_distance_m from the surface,
facing the target."""
import math

import numpy as np
import pytest

from lingnav_ros.control.types import Pose2D
from lingnav_ros.mission.arrival import final_steps
from lingnav_ros.mission.states import MissionState, Reason
from lingnav_ros.mission.target import TargetEstimate
from lingnav_ros.mission.target_fusion import FusionConfig, TargetFusion, bearing_error_rad
from test.mission_harness import Harness, make_mission
from test.navigator_scene import Box, Scene

RED = (255, 0, 0)


def _seen(x, y, approximate=False):
    return TargetEstimate("red box", np.array([x, y, 0.3]), (80, 60), 0.0, approximate)


def test_one_bad_reading_is_outvoted_and_alone_is_never_agreed():
    fusion = TargetFusion()
    first = fusion.add(_seen(0.3, 0.0), Pose2D(0.0, 0.0, 0.0))  # a bad depth at S2's pixel
    assert first.xy == pytest.approx((0.3, 0.0))
    assert not fusion.agreed, "one reading is not a position"
    robot = Pose2D(0.0, 0.0, 0.0)
    for i in range(3):
        robot = Pose2D(0.4 * i, 0.0, 0.0)  # the robot drives toward it; the object stays put in odom
        fused = fusion.add(_seen(5.0 + 0.05 * (-1) ** i, 0.02 * i), robot)
    assert fusion.agreed and fusion.support == 3
    assert fused.xy == pytest.approx((5.0, 0.02), abs=0.06)
    # a later reading that contradicts the robot's motion (the target "jumped" next to it)
    fused = fusion.add(_seen(1.4, 0.0), Pose2D(1.0, 0.0, 0.0))
    assert fused.xy[0] == pytest.approx(5.0, abs=0.1) and fusion.support == 3


def test_approximate_sightings_steer_but_are_not_fused_and_the_newest_cluster_wins_ties():
    fusion = TargetFusion(FusionConfig(min_agreeing=2))
    guess = fusion.add(_seen(2.0, 0.0, approximate=True), Pose2D(0, 0, 0))
    assert guess.approximate and fusion.estimate is None
    fusion.add(_seen(3.0, 1.0), Pose2D(0, 0, 0))
    fused = fusion.add(_seen(3.0, -2.0), Pose2D(0, 0, 0))
    assert fused.xy == pytest.approx((3.0, -2.0)) and not fusion.agreed
    fusion.add(_seen(float("nan"), 0.0), Pose2D(0, 0, 0))
    assert len(fusion.sightings) == 2, "a non-finite sighting is dropped"


def test_final_steps_face_the_target_and_close_in_only_when_agreed():
    target = _seen(2.0, 1.0)
    pose = Pose2D(1.0, 0.0, 0.0)  # 1.41 m away, 45 degrees to the left
    steps = final_steps(target, pose, 0.5, math.radians(15), drive=True)
    assert [s.kind for s in steps] == ["rotate", "drive"]
    assert steps[0].amount == pytest.approx(math.pi / 4)
    assert steps[1].amount == pytest.approx(math.sqrt(2) - 0.5)
    only_face = final_steps(target, pose, 0.5, math.radians(15), drive=False)
    assert [s.kind for s in only_face] == ["rotate"]
    facing = Pose2D(1.0, 0.0, math.pi / 4 - math.radians(5))
    assert final_steps(target, facing, 0.5, math.radians(15), drive=False) == []
    assert final_steps(None, pose, 0.5, 0.26, True) == [] and final_steps(target, None, 0.5, 0.26, True) == []
    assert bearing_error_rad(target, pose) == pytest.approx(math.pi / 4)


def _surface_distance(box: Box, pose: Pose2D) -> float:
    dx = max(box.x_min - pose.x_m, 0.0, pose.x_m - box.x_max)
    dy = max(box.y_min - pose.y_m, 0.0, pose.y_m - box.y_max)
    return math.hypot(dx, dy)


def _heading_error(box: Box, pose: Pose2D) -> float:
    cx, cy = box.center
    return abs(math.remainder(math.atan2(cy - pose.y_m, cx - pose.x_m) - pose.theta_rad, 2 * math.pi))


def test_a_bad_depth_reading_at_the_first_sighting_does_not_end_the_mission_and_it_stops_at_the_surface():
    box = Box(4.0, 4.4, 0.6, 1.0, 0.6, RED)  # 4 m ahead, a little to the left
    mission = make_mission(arrive_distance_m=0.5, s2_requery_period_s=1.0)
    h = Harness(Scene(boxes=[box]), mission)
    answers = []

    def answer(frame):
        seen = h.oracle(frame, box)
        if seen.kind == "pixel" and not answers:
            u, v = seen.point_2d_pixel
            frame.depth_m[max(0, v - 12):v + 13, max(0, u - 12):u + 13] = 0.35  # one bad reading
        answers.append(seen.kind)
        return seen

    mission.start("go to the red box", h.t)
    h.run(1.0, answer=answer)
    assert mission.state == MissionState.APPROACHING and mission.target.xy[0] < 1.0, "the bad reading came in"
    assert h.mission.active, "one close reading is not an arrival"
    h.run(80.0, answer=answer, stop_when=lambda: not mission.active)
    assert mission.state == MissionState.ARRIVED, mission.transitions
    assert mission.reason.startswith(Reason.ARRIVED_DISTANCE)
    assert h.pose.x_m > 2.5, "it drove to the real box"
    assert _surface_distance(box, h.pose) == pytest.approx(0.5, abs=0.15)
    assert _heading_error(box, h.pose) < math.radians(15)
