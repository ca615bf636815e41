"""Object memory: every object S2 grounded is kept with its label and odom position; "go back to
the red box" drives there without searching and S2 confirms on arrival; a target that is gone
is searched for; a target lost from view is looked for where it was before any search, and a
search for one turns toward where it was."""
import math

import numpy as np
import pytest

from lingnav_ros.control.types import Pose2D
from lingnav_ros.mission.moves import MoveStep
from lingnav_ros.mission.object_memory import ObjectMemory, recall_phrase
from lingnav_ros.mission.scan_coverage import toward_lost_target
from lingnav_ros.mission.states import MissionState
from test.mission_harness import Harness, decision, make_mission, point_task
from test.navigator_scene import Box, Scene

RED = (255, 0, 0)


@pytest.mark.parametrize("text, phrase", [
    ("go back to the red chair", "red chair"), ("Return to the chair.", "chair"),
    ("please come back to my blue box!", "blue box"), ("head back towards the bin", "bin"),
    ("go to the red chair", None), ("", None), ("return", None)])
def test_recall_phrases(text, phrase):
    assert recall_phrase(text) == phrase


def test_sightings_merge_per_object_and_find_matches_words():
    memory = ObjectMemory()
    memory.remember("red chair", [2.0, 1.0, 0.4], 1.0)
    memory.remember("red chair", [2.1, 1.0, 0.4], 2.0)
    memory.remember("red chair", [9.0, 9.0, 0.4], 3.0)  # a bad reading far away: one sighting of its own
    memory.remember("blue box", [-1.0, 0.0, 0.3], 4.0)
    memory.remember("", [0.0, 0.0, 0.0], 5.0)
    memory.remember("green bin", [float("nan"), 0.0, 0.0], 5.0)
    assert len(memory.objects()) == 3
    chair = memory.find("red chair")
    assert chair.sightings == 2 and chair.xy == pytest.approx((2.05, 1.0))
    assert memory.find("chair") is chair, "the noun alone finds it"
    assert memory.find("box").label == "blue box"
    assert memory.find("green bin") is None and memory.find("") is None
    memory.forget(chair)
    assert memory.find("red chair").xy == pytest.approx((9.0, 9.0))
    assert memory.clear() == 2 and memory.objects() == []


def _reach(h, box):
    h.mission.start("go to the red box", h.t)
    h.run(60.0, answer=lambda f: h.oracle(f, box), stop_when=lambda: not h.mission.active)
    assert h.mission.state == MissionState.ARRIVED, h.mission.transitions


def _drive_away(h, pose):
    h.pose = pose
    h.tick()  # odometry reaches the mission before the next instruction


def test_go_back_drives_to_the_remembered_object_without_searching_and_s2_confirms():
    box = Box(3.0, 3.4, -0.2, 0.2, 0.6, RED)
    h = Harness(Scene(boxes=[box]), make_mission(arrive_distance_m=0.5))
    _reach(h, box)
    assert h.mission.objects.find("red box") is not None
    _drive_away(h, Pose2D(-1.0, 2.0, math.pi / 2))  # somewhere else, the box behind on the right
    h.mission.start("go back to the red box", h.t)
    assert h.mission.state == MissionState.APPROACHING and "going back" in h.mission.reason
    h.run(80.0, answer=lambda f: h.oracle(f, box), stop_when=lambda: not h.mission.active)
    states = [s for s, _ in h.mission.transitions[-20:]]
    assert h.mission.state == MissionState.ARRIVED, h.mission.transitions[-10:]
    assert MissionState.SEARCHING not in states[states.index(MissionState.QUERYING):]
    assert math.hypot(h.pose.x_m - 3.2, h.pose.y_m) < 1.0


def test_go_back_to_an_object_that_is_gone_searches():
    box = Box(3.0, 3.4, -0.2, 0.2, 0.6, RED)
    h = Harness(Scene(boxes=[box]), make_mission(arrive_distance_m=0.5, search_timeout_s=30.0))
    _reach(h, box)
    h.scene.boxes.clear()  # someone took it away
    _drive_away(h, Pose2D(0.0, 0.0, 0.0))
    h.mission.start("go back to the red box", h.t)
    h.run(120.0, answer=lambda f: h.oracle(f, None), stop_when=lambda: not h.mission.active)
    states = [s for s, _ in h.mission.transitions]
    last_start = len(states) - 1 - states[::-1].index(MissionState.QUERYING)
    assert MissionState.SEARCHING in states[last_start:], "it looked for it once it was not there"
    assert h.mission.state == MissionState.FAILED
    assert math.hypot(h.pose.x_m - 3.2, h.pose.y_m) < 2.0, "it drove to where it was first"


def test_a_target_lost_from_view_is_looked_for_where_it_was_before_searching():
    box = Box(4.0, 4.4, -0.2, 0.2, 0.6, RED)
    h = Harness(Scene(boxes=[box]), make_mission(arrive_distance_m=0.5, target_hold_queries=1,
                                                 lost_target_queries=1, s2_requery_period_s=0.5))
    h.mission.start("go to the red box", h.t)
    h.run(4.0, answer=lambda f: h.oracle(f, box))
    assert h.mission.state == MissionState.APPROACHING and h.mission._ep.fusion.agreed
    start_x = h.pose.x_m
    # S2 stops seeing it (as if a partition hid it): the robot keeps driving to where it was
    blind = lambda f: decision("move", "red box", False, None, "←", [point_task("red box")])  # noqa: E731
    h.run(6.0, answer=blind)
    assert h.mission.state == MissionState.APPROACHING, h.mission.transitions[-5:]
    assert any(r.startswith("out of sight: driving to where") for _, r in h.mission.transitions)
    assert h.pose.x_m > start_x + 0.8
    assert np.isfinite(h.mission.status(h.t).distance_to_target_m)


def test_a_known_target_beside_the_robot_is_faced_before_s1_plans_for_it():
    """Turned away (to avoid someone, or by a recovery), S2 no longer sees the target: the robot
    turns back to it, because S1's paths toward a goal far off the camera's axis lead away."""
    box = Box(4.0, 4.4, -0.2, 0.2, 0.6, RED)
    h = Harness(Scene(boxes=[box]), make_mission(arrive_distance_m=0.5, s2_requery_period_s=0.5))
    h.mission.start("go to the red box", h.t)
    h.run(2.0, answer=lambda f: h.oracle(f, box))
    assert h.mission._ep.fusion.agreed
    h.pose = Pose2D(h.pose.x_m, h.pose.y_m, -math.pi / 2)  # now facing right, the box at its left
    h.run(0.2, answer=lambda f: h.oracle(f, box))
    ep = h.mission._ep
    assert ep.primitive_step is not None and ep.primitive_step.symbol == "face", ep.primitive_step
    h.run(4.0, answer=lambda f: h.oracle(f, box), stop_when=lambda: h.mission._ep.primitive is None)
    assert h.mission.state == MissionState.APPROACHING
    bearing = math.atan2(-h.pose.y_m, 4.2 - h.pose.x_m) - h.pose.theta_rad
    assert abs(math.remainder(bearing, math.tau)) < math.radians(20.0), math.degrees(h.pose.theta_rad)


def test_a_search_for_a_target_lost_beside_the_robot_turns_toward_it_not_where_s2_points():
    """One sighting (not agreed, so no drive to where it was), then the box slips out at the right
    edge: S2 with nothing in view says "turn left", the search turns right, toward where the box
    was placed, and finds it again (the doorway run that looked three quarters round the wrong way)."""
    box = Box(2.8, 3.2, -0.2, 0.2, 0.6, RED)
    h = Harness(Scene(boxes=[box]), make_mission(arrive_distance_m=0.5, target_hold_queries=1,
                                                 lost_target_queries=1, s2_requery_period_s=0.5))
    h.mission.start("go to the red box", h.t)
    h.query(lambda f: h.oracle(f, box))  # S2 only, here and below: S1's straight line would lead
    ep = h.mission._ep                   # back to the box unasked
    assert h.mission.state == MissionState.APPROACHING and ep.target is not None and not ep.fusion.agreed
    h.pose = Pose2D(h.pose.x_m, h.pose.y_m, math.radians(60.0))  # turned left: the box 60 degrees right
    yaw_at_loss = h.pose.theta_rad
    for _ in range(60):
        h.query(lambda f: h.oracle(f, box))
        h.tick()
        if h.mission.state == MissionState.SEARCHING:
            break
    assert h.mission.state == MissionState.SEARCHING, h.mission.transitions[-5:]
    step = h.mission._ep.primitive_step or h.mission._ep.moves[0]
    assert step.kind == "rotate" and step.amount < 0.0 and step.symbol == "lost", step
    seen_again = lambda: h.mission.state == MissionState.APPROACHING and h.mission._ep.target is not None  # noqa: E731
    assert h.run(10.0, answer=lambda f: h.oracle(f, box), stop_when=seen_again), h.mission.transitions[-5:]
    assert h.pose.theta_rad < yaw_at_loss, "it turned right, toward the box"


def test_toward_lost_target_faces_it_with_the_first_turn_only_when_it_is_out_of_view():
    hfov = math.radians(70.0)
    left = [MoveStep("rotate", math.radians(30.0), "←"), MoveStep("rotate", math.radians(15.0), "←")]
    turned = toward_lost_target(left, math.radians(-60.0), hfov)
    assert turned[0].amount == pytest.approx(math.radians(-60.0)) and turned[0].symbol == "lost"
    assert turned[1] == left[1]
    assert toward_lost_target(left, math.radians(100.0), hfov)[0].amount == pytest.approx(math.radians(100.0))
    assert toward_lost_target(left, math.radians(-20.0), hfov) == left, "still in view: S2's turn stands"
    assert toward_lost_target(left, float("nan"), hfov) == left
    drive_first = [MoveStep("drive", 0.5, "↑"), *left]
    faced = toward_lost_target(drive_first, math.radians(-60.0), hfov)
    assert [s.symbol for s in faced] == ["lost", "↑", "←"], "the face turn first: the bearing is from here"
    assert toward_lost_target([MoveStep("drive", 0.5, "↑")], math.radians(-60.0), hfov)[0].kind == "drive"
