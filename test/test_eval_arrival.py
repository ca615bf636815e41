"""lingnav-eval's arrival figures: heading error to the target from the sim's ground truth, and
the share of arrivals that stopped at arrive_distance_m facing the target."""
import math

import pytest

from lingnav_ros.sim.world import from_dict
from lingnav_ros.tools.arrival_metrics import (
    arrival_share,
    heading_error_deg,
    score_arrival,
    score_steps,
    surface_distance_m,
)
from lingnav_ros.tools.evaluate import table
from lingnav_ros.tools.harness import RunResult

WORLD = from_dict({"room": [-1.0, -3.0, 6.0, 3.0], "target": "red box",
                   "objects": [{"label": "red box", "x": 4.0, "y": 0.0, "size": [0.5, 0.5], "color": "red"}]})


def _run(state, distance_m, pose, name="a"):
    r = RunResult(name=name, instruction="go", final_state=state, reason="", success=state == "ARRIVED",
                  sim_time_s=10.0, wall_time_s=10.0, path_length_m=3.0, contacts=0, target_distance_m=distance_m,
                  s2_calls=3, s1_calls=9, final_pose=pose)
    score_arrival(r, WORLD, {"arrive_distance_m": 0.5})
    return r


def test_heading_error_is_the_angle_to_the_target_centre():
    assert heading_error_deg(WORLD, "red box", 3.0, 0.0, 0.0) == pytest.approx(0.0)
    assert heading_error_deg(WORLD, "red box", 4.0, -1.0, 0.0) == pytest.approx(90.0)
    assert heading_error_deg(WORLD, "red box", 5.0, 0.0, 0.0) == pytest.approx(180.0)
    assert math.isnan(heading_error_deg(WORLD, "blue box", 3.0, 0.0, 0.0))
    assert math.isnan(heading_error_deg(WORLD, "red box", float("nan"), 0.0, 0.0))


def test_arrival_share_and_table_report_distance_and_heading():
    good = _run("ARRIVED", 0.55, (3.2, 0.0, 0.1))
    far = _run("ARRIVED", 0.85, (2.9, 0.0, 0.0), "b")
    askew = _run("ARRIVED", 0.5, (3.25, 0.0, 0.6), "c")
    failed = _run("FAILED", 3.0, (0.0, 0.0, 0.0), "d")
    assert good.arrive_distance_m == 0.5 and good.heading_error_deg < 15.0
    share, count = arrival_share([good, far, askew, failed])
    assert count == 3 and share == pytest.approx(1 / 3)
    text, totals = table([good, far, askew, failed])
    assert totals["arrivals"] == 3 and totals["good_arrival_share"] == pytest.approx(1 / 3)
    assert "0.85" in text and "arrivals within 0.15 m" in text
    assert "heading_error_deg" in good.summary()


SEQUENCE = from_dict({"room": [-1.0, -3.0, 6.0, 3.0], "target": ["red box", "blue bin"],
                      "objects": [{"label": "red box", "x": 4.0, "y": 0.0, "size": [0.5, 0.5], "color": "red",
                                   "yaw": 0.3},
                                  {"label": "blue bin", "type": "cylinder", "x": 0.0, "y": 2.0, "radius": 0.25,
                                   "color": "blue"}]})


def test_a_sequence_counts_each_step_against_its_own_target():
    assert SEQUENCE.target_labels == ("red box", "blue bin") and SEQUENCE.target_label == "blue bin"
    assert surface_distance_m(SEQUENCE.find("blue bin"), 0.0, 1.0) == pytest.approx(0.75)
    assert surface_distance_m(SEQUENCE.find("red box"), 4.0, 0.0) == 0.0
    rows = score_steps(SEQUENCE, [(3.2, 0.0, 0.0)], (0.0, 1.2, 1.57), 1.0)
    assert [r["ok"] for r in rows] == [True, True] and rows[1]["distance_m"] == pytest.approx(0.55)
    wrong_order = score_steps(SEQUENCE, [(0.0, 1.2, 0.0)], (3.2, 0.0, 0.0), 1.0)
    assert [r["ok"] for r in wrong_order] == [False, False]
    never_got_there = score_steps(SEQUENCE, [], (3.2, 0.0, 0.0), 1.0)
    assert [r["ok"] for r in never_got_there] == [False, False], "no step ended: none counts"
    assert math.isnan(never_got_there[1]["distance_m"])
