"""lingnav-diagnose's judgement on hand-made run records: each check names the right subsystem,
with the geometry done for real (an S2 pixel lifted through a camera into the world)."""
from __future__ import annotations

import math

import numpy as np

from lingnav_core.camera import CameraMount, Intrinsics, base_to_pixel
from lingnav_ros.tools.diagnosis.replay_check import Tolerance, compare_commands
from lingnav_ros.tools.diagnosis.run_log import Frame, RunLog, S1Call, S2Call, SafetyRecord, StatusRecord, VetoedPlan
from lingnav_ros.tools.diagnosis.verdicts import (
    S1,
    S2,
    SAFETY,
    SENSOR,
    TRACKER,
    Thresholds,
    diagnose,
    surface_distance,
    what_is_at,
)

WORLD = {"target": "red chair", "walls": [[-1, 3, 6, 3]],
         "objects": [{"label": "red chair", "kind": "box", "x": 3.5, "y": 0.3, "radius": 0.0, "height": 0.8,
                      "corners": [[3.75, 0.55], [3.25, 0.55], [3.25, 0.05], [3.75, 0.05]]},
                     {"label": "blue ball", "kind": "cylinder", "x": 2.5, "y": -1.0, "radius": 0.25, "height": 0.5}]}
INTR = Intrinsics.from_fov(320, 240, 1.2)
MOUNT = CameraMount(height_m=0.4, pitch_rad=0.0)


def _log(**kw) -> RunLog:
    log = RunLog(path=None, start_s=0.0, end_s=20.0, instruction="go to the red chair", world=WORLD,
                 intrinsics=INTR, mount=MOUNT, sim=[{"t": 1.0, "x": 0.0, "y": 0.0, "theta": 0.0}],
                 statuses=[StatusRecord(0.5, "APPROACHING", "", math.nan)])
    for k, v in kw.items():
        setattr(log, k, v)
    return log


def _s2_at(world_xy, height_m=0.3) -> tuple[S2Call, Frame]:
    """An S2 answer whose pixel shows `world_xy` from the robot at the origin, with its depth."""
    uv, _ = base_to_pixel(np.array([[world_xy[0], world_xy[1], height_m]]), INTR, MOUNT)
    pixel = (round(float(uv[0, 0])), round(float(uv[0, 1])))
    depth = np.full((240, 320), float(world_xy[0]), np.float32)  # optical z = forward distance
    call = S2Call(1.0, 2.0, 0.4, "red chair", True, pixel, "", ["pixel_point:red chair"])
    return call, Frame(1.0, np.zeros((240, 320, 3), np.uint8), depth)


def test_surfaces_and_what_lies_at_a_point():
    chair, ball = WORLD["objects"]
    assert surface_distance(chair, np.array([3.5, 0.3])) == 0.0
    assert abs(surface_distance(ball, np.array([2.5, -0.5])) - 0.25) < 1e-9
    assert what_is_at(WORLD, np.array([3.2, 0.3]), 0.3) == "red chair"
    assert what_is_at(WORLD, np.array([2.5, -0.6]), 0.3) == "blue ball"
    assert what_is_at(WORLD, np.array([1.0, 2.9]), 0.3) == "wall"
    assert what_is_at(WORLD, np.array([1.0, 1.0]), 0.3) == "floor"


def test_s2_on_the_target_is_no_finding_and_on_another_object_is_named():
    call, frame = _s2_at((3.25, 0.3))
    diag = diagnose(_log(s2=[call], frames={1.0: frame}))
    assert diag.s2_checks[0].on == "red chair"
    assert diag.verdict == "no fault found"
    call, frame = _s2_at((2.3, -1.0))
    diag = diagnose(_log(s2=[call], frames={1.0: frame}))
    assert diag.s2_checks[0].on == "blue ball"
    assert diag.first.subsystem == S2 and "another object" in diag.verdict and "blue ball" in diag.verdict


def test_s1_no_path_late_answer_and_blocked_choice():
    cands = np.zeros((2, 3, 3), np.float32)
    slow = S1Call(1.0, 3.0, 2.5, "pixel", cands, np.array([0.1, 0.2]), 1, False, "remote")
    none = S1Call(1.5, 4.0, 0.1, "pixel", cands, np.array([-5.0, -4.0]), 1, True, "remote")
    blocked = VetoedPlan(2.0, 5.0, 0, 1, "S1 path blocked at 0.40 m by a remembered obstacle", False, np.zeros((3, 3)))
    diag = diagnose(_log(s1=[slow, none], plans=[blocked]))
    assert [f.subsystem for f in diag.findings] == [S1, S1, S1]
    assert "past its" in diag.verdict


def test_safety_events_are_attributed_to_their_cause():
    events = [SafetyRecord(3.0, "watchdog", "stop", "depth stale (0.60 s > 0.50 s)", (0.2, 0), (0, 0)),
              SafetyRecord(4.0, "watchdog", "stop", "plan stale (1.20 s > 1.00 s)", (0.2, 0), (0, 0)),
              SafetyRecord(5.0, "collision", "stop", "obstacle 0.10 m ahead", (0.2, 0), (0, 0)),
              SafetyRecord(6.0, "outage", "stop", "waiting for S1 (1.0 s of 15 s, 1 attempt(s)): refused", (0, 0),
                           (0, 0)),
              SafetyRecord(7.0, "limiter", "clamp", "v 0.30 -> 0.25 m/s", (0.3, 0), (0.25, 0))]
    diag = diagnose(_log(safety=events))
    assert [f.subsystem for f in diag.findings] == [SENSOR, S1, SAFETY, S1]
    assert diag.first.subsystem == SENSOR


def test_a_tracker_that_leaves_its_plan_is_named():
    path = np.array([[x, 0.0, 0.0] for x in np.linspace(0.0, 2.0, 24)])
    plans = [VetoedPlan(t, t, 0, 0, "", False, path) for t in np.arange(0.0, 10.0, 0.5)]
    odom = [(t, 0.1 * t, 0.08 * t, 0.0) for t in np.arange(0.0, 10.0, 0.1)]  # drifting sideways
    th = Thresholds(tracking_error_m=0.3, tracking_error_s=1.0)
    diag = diagnose(_log(plans=plans, odom=odom), th)
    assert diag.first is not None and diag.first.subsystem == TRACKER
    assert 2.0 <= diag.first.t_s <= 4.5  # the plan 0.5 m ahead is 0.35 rad off from t = 2.2 s, 0.3 m off from 3.75 s
    good = [(t, 0.1 * t, 0.01, 0.0) for t in np.arange(0.0, 10.0, 0.1)]
    assert diagnose(_log(plans=plans, odom=good), th).verdict == "no fault found"
    # on the path but facing 0.8 rad away from it: diverging unless it turns back toward the plan
    facing_away = [(t, 0.1 * t, 0.0, 0.8) for t in np.arange(0.0, 10.0, 0.1)]
    not_turning = [(t, 0.2, 0.0) for t in np.arange(0.0, 10.0, 0.05)]
    turning_back = [(t, 0.0, -0.4) for t in np.arange(0.0, 10.0, 0.05)]
    assert diagnose(_log(plans=plans, odom=facing_away, cmds=not_turning), th).first.subsystem == TRACKER
    assert diagnose(_log(plans=plans, odom=facing_away, cmds=turning_back), th).verdict == "no fault found"


def test_a_stale_sensor_while_the_mission_runs():
    arrivals = {"camera/color/image_raw": [(t, t) for t in [*np.arange(1.0, 5.0, 0.1), 6.0, 6.1]]}
    diag = diagnose(_log(arrivals=arrivals))
    assert diag.first.subsystem == SENSOR and "stale" in diag.verdict


def test_steps_run_from_one_s2_answer_to_the_next():
    call, frame = _s2_at((2.3, -1.0))
    events = [SafetyRecord(9.0, "collision", "stop", "obstacle", (0.2, 0), (0, 0))]
    diag = diagnose(_log(s2=[call], frames={1.0: frame}, safety=events))
    assert [s.verdict.split(":")[0] for s in diag.steps] == ["ok", "S2"]
    assert len(diag.steps[1].findings) == 2


def test_replay_comparison_finds_where_the_runs_part():
    rec = _log(cmds=[(t, 0.2, 0.0) for t in np.arange(0.0, 10.0, 0.05)])
    same = _log(cmds=[(t + 0.02, 0.21, 0.01) for t in np.arange(0.0, 10.0, 0.05)])
    c = compare_commands(rec, same)
    assert c.matches(Tolerance()) and c.divergence_s is None and c.fraction == 1.0
    parted = _log(cmds=[(t + 0.02, 0.2 if t < 6.0 else 0.0, 0.0) for t in np.arange(0.0, 10.0, 0.05)],
                  safety=[SafetyRecord(5.9, "collision", "stop", "obstacle", (0.2, 0), (0, 0))])
    c = compare_commands(rec, parted)
    assert c.divergence_s is not None and 6.0 <= c.divergence_s <= 6.4 and c.step == 0
    assert "collision" in c.why and "replayed run" in c.why
