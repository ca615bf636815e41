"""Mission state machine in closed loop without ROS: approach, search, re-query, moves,
preemption, e-stop and failure reasons."""
import math

import numpy as np
import pytest

from lingnav_core.s1_plan import S1Error, S1Unavailable
from lingnav_ros.control.types import Pose2D
from lingnav_ros.mission.scan_coverage import horizontal_fov_rad
from lingnav_ros.mission.states import MissionState, Reason
from test.mission_harness import Harness, decision, make_mission, move_task, point_task
from test.navigator_scene import Box, Scene

RED = (255, 0, 0)


def _harness(boxes, pose=Pose2D(0.0, 0.0, 0.0), **cfg):
    mission = make_mission(**cfg)
    return Harness(Scene(boxes=boxes), mission, pose=pose)


def test_approaches_a_visible_target_and_arrives_by_distance():
    box = Box(2.0, 2.4, 0.3, 0.7, 0.5, RED)
    h = _harness([box], arrive_distance_m=0.6)
    h.mission.start("go to the red box", h.t)
    assert h.mission.state == MissionState.QUERYING
    h.run(40.0, answer=lambda f: h.oracle(f, box), stop_when=lambda: not h.mission.active)
    assert h.mission.state == MissionState.ARRIVED, h.mission.transitions
    assert h.mission.reason == Reason.ARRIVED_DISTANCE
    assert math.hypot(h.pose.x_m - 2.0, h.pose.y_m - 0.5) < 0.75
    assert h.mission.s2_calls >= 2, "re-queried on the period while approaching"
    status = h.mission.status(h.t)
    assert status.path_length_m > 1.0 and status.s1_calls > 3


def test_s2_stop_means_arrived():
    h = _harness([])
    h.mission.start("stop here", h.t)
    h.query(lambda f: decision("stop", None, False, None, "stop", [point_task("x"),
                                                                   point_task("x")][:0]))
    assert h.mission.state == MissionState.ARRIVED and h.mission.reason == Reason.ARRIVED_S2


def test_search_turns_in_closed_loop_steps_and_requeries_after_each():
    box = Box(-2.2, -1.8, -0.2, 0.2, 0.5, RED)  # behind the robot
    h = _harness([box])
    h.mission.start("go to the red box", h.t)
    h.run(60.0, answer=lambda f: h.oracle(f, box),
          stop_when=lambda: h.mission.state == MissionState.APPROACHING)
    assert h.mission.state == MissionState.APPROACHING, h.mission.transitions
    assert MissionState.SEARCHING in [s for s, _ in h.mission.transitions]
    assert len(h.queries) >= 3
    # every query after the first was made standing still, after a completed turn
    headings = [p.theta_rad for _, p in h.queries]
    steps = np.diff(np.unwrap(headings))
    assert np.all(steps > 0.0), "each search step turned left before the next query"
    for step in steps:
        assert step == pytest.approx(math.radians(15), abs=0.06) or step > math.radians(14)


def test_search_gives_up_after_a_full_turn():
    h = _harness([], search_turn_steps=6, search_timeout_s=500.0, mission_timeout_s=600.0)
    h.mission.start("go to the unicorn", h.t)
    answer = lambda f: decision("none", "unicorn", False, None, "", [point_task("unicorn")])  # noqa: E731
    h.run(120.0, answer=answer, stop_when=lambda: not h.mission.active)
    assert h.mission.state == MissionState.FAILED
    assert h.mission.reason.startswith(Reason.SEARCH_EXHAUSTED)
    turned = abs(np.unwrap([p.theta_rad for _, p in h.queries])[-1])
    assert turned >= 2 * math.pi - horizontal_fov_rad(h.scene.intrinsics), "it looked all the way round"
    # 90-degree steps with a 77-degree camera leave gaps: the scan fills them, then ends
    assert 5 <= len(h.queries) <= 9, len(h.queries)


def test_search_timeout():
    h = _harness([], search_timeout_s=2.0)
    h.mission.start("go to the unicorn", h.t)
    answer = lambda f: decision("none", "unicorn", False, None, "", [point_task("unicorn")])  # noqa: E731
    h.run(10.0, answer=answer, stop_when=lambda: not h.mission.active)
    assert h.mission.state == MissionState.FAILED and "within 2 s" in h.mission.reason


def test_requery_on_period_and_immediately_on_no_safe_path():
    box = Box(3.0, 3.4, -0.2, 0.2, 0.5, RED)
    h = _harness([box], s2_requery_period_s=5.0, no_safe_path_timeout_s=1.0, max_recoveries=0)
    h.mission.start("go to the red box", h.t)
    assert h.query(lambda f: h.oracle(f, box)) is not None
    assert h.mission.state == MissionState.APPROACHING
    h.t += 1.0
    assert h.mission.s2_request(h.t, h.t) is None, "not due before the period"
    h.plan_line(no_safe_path=True)
    out = h.tick()
    assert out.command.v_mps == 0.0 and out.command.w_radps == 0.0, "no safe path: nothing to track"
    assert h.query(lambda f: h.oracle(f, box)) is not None, "no safe path forces a re-query"
    h.t += 1.2
    h.plan_line(no_safe_path=True)
    assert h.mission.state == MissionState.FAILED and h.mission.reason.startswith(Reason.NO_SAFE_PATH)


def test_move_tasks_run_closed_loop_and_are_not_repeated():
    h = _harness([])
    h.mission.start("turn left 90 degrees, then go forward 1 metre", h.t)
    tasks = [move_task("←", 6), move_task("↑", 2)]
    answer = lambda f: decision("move", None, False, None, "←←←←←←↑↑", tasks)  # noqa: E731
    h.query(answer)
    assert h.mission.state == MissionState.EXECUTING_MOVE
    h.run(30.0, stop_when=lambda: h.mission.state != MissionState.EXECUTING_MOVE)
    assert h.mission.state == MissionState.QUERYING
    assert h.pose.theta_rad == pytest.approx(math.pi / 2, abs=0.05)
    assert h.pose.y_m == pytest.approx(1.0, abs=0.06) and abs(h.pose.x_m) < 0.06
    h.query(answer)
    assert h.mission.state == MissionState.ARRIVED and h.mission.reason == Reason.MOVES_DONE


def test_moves_before_the_target_then_approach():
    box = Box(-0.2, 0.2, 2.0, 2.4, 0.5, RED)  # to the left
    h = _harness([box])
    h.mission.start("turn left 90 degrees, then go to the red box", h.t)

    def answer(frame):
        seen = h.oracle(frame, box)
        tasks = [move_task("←", 6)] + list(seen.tasks)
        return decision(seen.kind, "red box", seen.visible, seen.point_2d_pixel, "", tasks)

    h.query(answer)
    assert h.mission.state == MissionState.EXECUTING_MOVE
    h.run(40.0, answer=answer, stop_when=lambda: not h.mission.active)
    assert h.mission.state == MissionState.ARRIVED, h.mission.transitions
    assert h.pose.y_m > 1.0


def test_preemption_drops_answers_for_the_old_instruction():
    box = Box(2.0, 2.4, -0.2, 0.2, 0.5, RED)
    h = _harness([box])
    h.mission.start("go to the blue box", h.t)
    frame = h.scene.frame(h.pose, h.t)
    old = h.mission.s2_request(h.t, frame.stamp_s)
    assert h.mission.start("go to the red box", h.t)
    h.mission.on_s2_decision(old, decision("stop", None, False, None, "stop", []), frame, h.t)
    assert h.mission.state == MissionState.QUERYING and h.mission.instruction == "go to the red box"
    h.query(lambda f: h.oracle(f, box))
    assert h.mission.state == MissionState.APPROACHING and h.mission.status(h.t).episode == 2


def test_estop_is_latched_and_release_never_resumes():
    h = _harness([])
    h.mission.start("go", h.t)
    h.mission.set_estop(True, h.t)
    assert h.mission.state == MissionState.ESTOP
    assert not h.tick().active
    assert not h.mission.start("go again", h.t), "refused while engaged"
    h.mission.set_estop(False, h.t)
    assert h.mission.state == MissionState.STOPPED and h.mission.reason == Reason.ESTOP_RELEASED
    assert h.mission.start("go again", h.t)


def test_server_failures_end_the_mission_with_a_reason():
    """Rejections and repeated plan errors are the mission's to judge; a server that is away is
    not (the navigator's outage holds the robot and fails the mission only past its limit)."""
    box = Box(2.0, 2.4, -0.2, 0.2, 0.5, RED)
    h = _harness([box])
    h.mission.start("go", h.t)
    req = h.mission.s2_request(h.t, h.t)
    h.mission.on_s2_error(req, ValueError("no image"), h.t)
    assert h.mission.state == MissionState.FAILED and h.mission.reason.startswith(Reason.S2_REJECTED)

    h.mission.start("go", h.t)
    h.query(lambda f: h.oracle(f, box))
    frame = h.scene.frame(h.pose, h.t)
    s1_req = h.mission.s1_request(frame)
    h.mission.on_s1_error(s1_req, S1Error("bad input"), h.t)
    assert h.mission.state == MissionState.APPROACHING, "one bad plan is tolerated"
    h.mission.on_s1_error(s1_req, S1Unavailable("in-process planner failed"), h.t)
    assert h.mission.state == MissionState.APPROACHING, "counted like any plan error, not a server outage"
    h.mission.on_s1_error(s1_req, S1Error("bad input"), h.t)
    assert h.mission.state == MissionState.FAILED and h.mission.reason.startswith(Reason.S1_FAILED)


def test_mission_timeout_and_cancel():
    h = _harness([], mission_timeout_s=1.0)
    h.mission.start("go", h.t)
    h.run(1.5)
    assert h.mission.state == MissionState.FAILED and h.mission.reason.startswith(Reason.TIMEOUT)
    h.mission.start("go", h.t)
    h.mission.cancel(h.t)
    assert h.mission.state == MissionState.STOPPED and h.mission.reason == Reason.CANCELLED


def test_a_move_step_that_cannot_settle_is_accepted_when_nearly_done_and_fails_when_stuck():
    h = _harness([], primitive_timeout_s=2.0)
    h.mission.start("turn left", h.t)
    h.query(lambda f: decision("move", None, False, None, "←←", [move_task("←", 2)]))
    assert h.mission.state == MissionState.EXECUTING_MOVE
    # the base only ever reaches 80% of the turn (e.g. a wheel slipping under heavy latency)
    target = math.radians(30)
    while h.mission.state == MissionState.EXECUTING_MOVE and h.t < 5.0:
        h.tick()
        if h.pose.theta_rad > 0.8 * target:
            h.pose = Pose2D(h.pose.x_m, h.pose.y_m, 0.8 * target)
    assert h.mission.state == MissionState.QUERYING, "accepted: the next query judges the view"

    h = _harness([], primitive_timeout_s=2.0)
    h.mission.start("turn left", h.t)
    h.query(lambda f: decision("move", None, False, None, "←←", [move_task("←", 2)]))
    for _ in range(60):  # the base never moves
        h.mission.control(h.t, h.pose, h.last_cmd, h.dt)
        h.t += h.dt
    assert h.mission.state == MissionState.FAILED and h.mission.reason.startswith(Reason.MOVE_FAILED)
