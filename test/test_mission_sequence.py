"""Instruction sequences: "go to the red box, then to the blue box" runs as one mission of steps,
each arriving or failing with its own reason; spoken moves stay one instruction."""
import math

import pytest

from lingnav_ros.mission.sequence import StepPlan, split_steps
from lingnav_ros.mission.states import MissionState, Reason
from test.mission_harness import Harness, decision, make_mission, point_task
from test.navigator_scene import Box, Scene

RED, BLUE = (255, 0, 0), (0, 0, 255)


@pytest.mark.parametrize("text, steps", [
    ("go to the red chair, then to the blue box", ["go to the red chair", "go to the blue box"]),
    ("go to the red chair and then the blue box", ["go to the red chair", "go to the blue box"]),
    ("Go to the red chair. After that, go to the blue box", ["Go to the red chair", "go to the blue box"]),
    ("go to the red chair, the blue box and the green bin",
     ["go to the red chair", "go to the blue box", "go to the green bin"]),
    ("go to the red chair then go back to the blue box", ["go to the red chair", "go back to the blue box"]),
    ("turn left 90 degrees, then go two meters forward", ["turn left 90 degrees, then go two meters forward"]),
    ("go to the box between the chair and the table", ["go to the box between the chair and the table"]),
    ("find the blue box then stop", ["find the blue box then stop"]),
    ("go to the red box", ["go to the red box"]),
    ("", []),
])
def test_split_steps(text, steps):
    assert split_steps(text) == steps


def test_step_plan_reasons():
    plan = StepPlan.of("go to the red box, then to the blue box")
    assert plan.count == 2 and plan.current == "go to the red box" and plan.has_next
    assert plan.qualify("x") == "x (step 1/2: 'go to the red box')"
    shown = plan.advance("ARRIVED", "S2 says stop")
    assert shown == "step 1/2 arrived (S2 says stop); next: 'go to the blue box'"
    assert not plan.has_next and plan.ended == [("ARRIVED", "S2 says stop")]
    assert StepPlan.of("go to the red box").qualify("x") == "x"


def _answer(h, boxes):
    """S2 that looks for the box the current step names."""
    def answer(frame):
        text = h.mission.steps.current
        name = "red box" if "red" in text else "blue box" if "blue" in text else "green box"
        return h.oracle(frame, boxes.get(name), name=name)
    return answer


def test_two_steps_arrive_in_order_and_status_reports_the_step():
    red, blue = Box(2.0, 2.4, -0.2, 0.2, 0.6, RED), Box(2.0, 2.4, 2.3, 2.7, 0.6, BLUE)
    h = Harness(Scene(boxes=[red, blue]), make_mission(arrive_distance_m=0.5))
    h.mission.start("go to the red box, then to the blue box", h.t)
    status = h.mission.status(h.t)
    assert (status.step_index, status.step_count, status.step_text) == (0, 2, "go to the red box")
    assert status.instruction == "go to the red box, then to the blue box"
    h.run(60.0, answer=_answer(h, {"red box": red, "blue box": blue}),
          stop_when=lambda: h.mission.steps.index == 1)
    assert h.mission.active and math.hypot(h.pose.x_m - 2.2, h.pose.y_m) < 1.0, "first at the red box"
    assert any(r.startswith("step 1/2 arrived") for _, r in h.mission.transitions)
    h.run(90.0, answer=_answer(h, {"red box": red, "blue box": blue}), stop_when=lambda: not h.mission.active)
    assert h.mission.state == MissionState.ARRIVED, h.mission.transitions[-6:]
    assert math.hypot(h.pose.x_m - 2.2, h.pose.y_m - 2.5) < 1.0, "then at the blue box"
    status = h.mission.status(h.t)
    assert (status.step_index, status.step_text) == (1, "go to the blue box")
    assert [s for s, _ in h.mission.steps.ended] == ["ARRIVED"]


def test_a_step_that_fails_ends_the_mission_with_its_own_reason():
    red = Box(2.0, 2.4, -0.2, 0.2, 0.6, RED)
    h = Harness(Scene(boxes=[red]), make_mission(arrive_distance_m=0.5, search_timeout_s=500.0))
    h.mission.start("go to the red box, then to the green box", h.t)
    h.run(200.0, answer=_answer(h, {"red box": red}), stop_when=lambda: not h.mission.active)
    assert h.mission.state == MissionState.FAILED
    assert h.mission.reason.startswith(Reason.SEARCH_EXHAUSTED)
    assert h.mission.reason.endswith("(step 2/2: 'go to the green box')")


def test_a_stale_answer_from_the_previous_step_is_dropped():
    h = Harness(Scene(boxes=[]), make_mission())
    h.mission.start("go to the red box, then to the blue box", h.t)
    frame = h.scene.frame(h.pose, h.t)
    req = h.mission.s2_request(h.t, frame.stamp_s)
    h.mission.on_s2_decision(req, decision("stop", None, False, None, "", []), frame, h.t)
    assert h.mission.steps.index == 1 and h.mission.state == MissionState.QUERYING
    h.mission.on_s2_decision(req, decision("stop", None, False, None, "", [point_task("x")][:0]), frame, h.t)
    assert h.mission.state == MissionState.QUERYING, "an answer asked for step 1 does not end step 2"
