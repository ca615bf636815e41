"""The search scan counts headings faced (odometry, widened by the camera's field of view), not
S2's turn answers: oscillating arrows cannot stall it, and it ends when the circle is covered."""
import itertools
import math

import numpy as np
import pytest

from lingnav_ros.control.types import Pose2D
from lingnav_ros.mission.scan_coverage import ScanCoverage, horizontal_fov_rad
from lingnav_ros.mission.states import MissionState, Reason
from test.mission_harness import Harness, decision, make_mission, move_task, point_task
from test.navigator_scene import Box, Scene

YELLOW = (255, 255, 0)
HFOV = math.radians(70.0)


def test_coverage_marks_the_field_of_view_and_completes_only_on_the_full_circle():
    cov = ScanCoverage(fov_fraction=1.0)
    cov.mark(0.0, HFOV)
    assert cov.covered_deg() == pytest.approx(70.0, abs=1.0)
    for yaw_deg in range(0, 300, 60):
        cov.mark(math.radians(yaw_deg), HFOV)
    assert not cov.complete, "0 to 240 degrees, each widened by 70, leave a gap"
    centre, width = cov.largest_gap()
    assert math.degrees(width) == pytest.approx(360 - 240 - 70, abs=2.0)
    assert math.degrees(centre) == pytest.approx(-60.0, abs=2.0)
    cov.mark(math.radians(300.0), HFOV)
    assert cov.complete and cov.largest_gap() is None


def test_a_turn_back_into_seen_headings_is_redirected_toward_the_widest_gap():
    cov = ScanCoverage(fov_fraction=1.0)
    for yaw_deg in (0, 15, 30):
        cov.mark(math.radians(yaw_deg), HFOV)
    # S2 says right by 30 degrees from 30: back to 0, all seen -> turn toward the unseen side
    turn = cov.choose_turn(math.radians(30.0), math.radians(-30.0), HFOV)
    assert turn != pytest.approx(math.radians(-30.0))
    assert cov.would_see_new(math.radians(30.0) + turn, HFOV)
    # a turn that brings new headings into view is S2's to choose
    assert cov.choose_turn(math.radians(30.0), math.radians(30.0), HFOV) == pytest.approx(math.radians(30.0))


def test_bad_numbers_mark_nothing():
    cov = ScanCoverage()
    cov.mark(float("nan"), HFOV)
    cov.mark(0.0, float("inf"))
    cov.mark(0.0, -1.0)
    assert cov.covered_deg() == 0.0
    with pytest.raises(ValueError):
        ScanCoverage(fov_fraction=0.0)


def _oscillating():
    """S2 as seen beside two crates: left, left, right, right, left, left, ... (two steps each)."""
    yield from itertools.cycle(["←", "←", "→", "→"])


def _scripted(arrows, target_box=None, h=None):
    def answer(frame):
        if target_box is not None:
            seen = h.oracle(frame, target_box, name="yellow box")
            if seen.kind == "pixel":
                return seen
        symbol = next(arrows)
        return decision("move", "yellow box", False, None, symbol * 2,
                        [point_task("yellow box"), move_task(symbol, 2)])
    return answer


def test_oscillating_answers_still_cover_the_circle_and_end_the_search():
    mission = make_mission(search_timeout_s=500.0, mission_timeout_s=600.0)
    h = Harness(Scene(boxes=[]), mission)
    mission.start("go to the yellow box", h.t)
    h.run(200.0, answer=_scripted(_oscillating()), stop_when=lambda: not mission.active)
    assert mission.state == MissionState.FAILED, mission.transitions
    assert mission.reason.startswith(Reason.SEARCH_EXHAUSTED) and "360 degrees" in mission.reason
    hfov = horizontal_fov_rad(h.scene.intrinsics)
    cov = ScanCoverage()
    for _, pose in h.queries:
        cov.mark(pose.theta_rad, hfov)
    assert cov.complete, "the headings S2 was shown really cover the circle"
    assert len(h.queries) <= 24, f"{len(h.queries)} queries: the scan kept turning over seen headings"


def test_target_behind_is_found_despite_oscillating_answers():
    box = Box(-2.3, -1.9, -0.2, 0.2, 0.6, YELLOW)  # right behind the robot
    mission = make_mission(search_timeout_s=500.0, mission_timeout_s=600.0)
    h = Harness(Scene(boxes=[box]), mission, pose=Pose2D(0.0, 0.0, 0.0))
    mission.start("go to the yellow box", h.t)
    h.run(120.0, answer=_scripted(_oscillating(), box, h),
          stop_when=lambda: mission.state == MissionState.APPROACHING)
    assert mission.state == MissionState.APPROACHING, mission.transitions
    turned = np.unwrap([p.theta_rad for _, p in h.queries])
    assert abs(turned[-1]) > math.radians(120), "it turned round to face the box behind it"
