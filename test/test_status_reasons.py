"""Every status reason the navigator can give is listed (lingnav_ros.status_reasons) and shown on
docs/troubleshooting.md; a stop always says why, and the numbers in a reason add up."""
from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import numpy as np
import pytest
from lingnav_msgs.msg import NavStatus
from visualization_msgs.msg import Marker

from lingnav_ros import status_reasons as R
from lingnav_ros import topics
from lingnav_ros.control.types import Pose2D
from lingnav_ros.mission import hold_reason as hold
from lingnav_ros.mission.states import Reason
from lingnav_ros.status_reasons import REASONS, kind_of, markdown_table
from test.navigator_rig import color_s2_and_geometric_s1, mode_a_params, navigator_graph
from test.navigator_scene import Box, Scene
from test.ros_graph import wait_for

ROOT = Path(__file__).resolve().parents[1]
# Where reasons are made: the mission, the safety layers and the navigator's parts.
SOURCES = sorted([*(ROOT / "lingnav_ros" / "mission").glob("*.py"), *(ROOT / "lingnav_ros" / "safety").glob("*.py"),
                  *(ROOT / "lingnav_ros" / "nodes" / "navigator").glob("*.py")])
# call name -> index of the positional argument that is a status reason
REASON_ARGS = {"_end": 1, "_set": 1, "fail": 0, "_recover": 2, "_reject": 1, "WatchdogVerdict": 1,
               "CollisionVerdict": 3}
REASON_NAMES = {"hold_reason", "reason", "why", "what"}  # assignments whose value becomes a reason


def _leading_text(node: ast.expr) -> str | None:
    """The fixed words a reason expression starts with; None when it starts with a variable
    (a reason passed on from elsewhere, checked where it was made)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Reason":
        return getattr(Reason, node.attr)
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant):
            return first.value
        if isinstance(first, ast.FormattedValue):
            return _leading_text(first.value)
    if isinstance(node, ast.IfExp):
        body, orelse = _leading_text(node.body), _leading_text(node.orelse)
        return body if body is not None else orelse
    return None


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def reasons_in_code() -> list[tuple[str, int, str]]:
    """(file, line, leading words) of every reason the code sets with fixed words."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            exprs = []
            if isinstance(node, ast.Call) and _call_name(node) in REASON_ARGS:
                index = REASON_ARGS[_call_name(node)]
                if len(node.args) > index:
                    exprs.append(node.args[index])
            elif isinstance(node, ast.Assign):
                names = {t.attr if isinstance(t, ast.Attribute) else getattr(t, "id", "") for t in node.targets}
                if names & REASON_NAMES:
                    exprs.append(node.value)
            elif isinstance(node, ast.Return) and node.value is not None:
                func = next((f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
                             and f.lineno <= node.lineno <= (f.end_lineno or 0) and "reason" in f.name), None)
                if func is not None:
                    exprs.append(node.value)
            for expr in exprs:
                text = _leading_text(expr)
                if text:  # "" is a state with nothing to explain (idle, moving)
                    found.append((path.relative_to(ROOT).as_posix(), node.lineno, text))
    return found


def test_every_reason_the_code_sets_is_listed():
    found = reasons_in_code()
    assert len(found) >= 25, f"the scan found only {len(found)} reasons: is it still looking in the right places?"
    unlisted = [f"{f}:{line}: '{text}'" for f, line, text in found if kind_of(text) is None]
    assert not unlisted, "reasons missing from lingnav_ros/status_reasons.py:\n" + "\n".join(unlisted)


def test_every_template_the_code_fills_in_is_listed():
    samples = [R.no_input_for("depth", 0.42, 0.5, 0.1), R.no_input_for("odometry", math.inf, 0.5, 0.1),
               R.plan_too_old(1.6, 1.5), R.plan_too_old(math.inf, 1.5),
               R.waiting_for("S2", 1.0, 15.0, 2, "connection refused"),
               R.waiting_for("S1", 1.0, 15.0, 2, "connection refused"),
               f"{Reason.S2_UNREACHABLE}: {R.no_answer_for(15.2, 'connection refused')}",
               hold.ASKING_S2, hold.FIRST_PLAN, hold.PLAN_END]
    for text in samples:
        assert kind_of(text) is not None, text
    assert kind_of(R.no_input_for("depth", 0.42, 0.5, 0.1)).subsystem == "watchdog"


def test_every_mission_reason_word_is_listed():
    for name, value in vars(Reason).items():
        if not name.startswith("_"):
            assert kind_of(value) is not None, (name, value)


def test_troubleshooting_page_lists_every_reason_with_its_check():
    page = (ROOT / "docs" / "troubleshooting.md").read_text()
    assert markdown_table() in page, "paste `python -m lingnav_ros.status_reasons` into docs/troubleshooting.md"
    for kind in REASONS:
        assert kind.subsystem and kind.check and len(kind.meaning) > 10, kind


# ------------------------------------------------------------------ on a real graph
RED = Box(2.2, 2.6, 0.7, 1.1, 0.6, (200, 30, 30))


@pytest.fixture(scope="module")
def servers():
    with color_s2_and_geometric_s1() as pair:
        yield pair


def _nan_depth(msg):
    """An all-NaN 32FC1 frame: what a depth camera sends when it sees nothing at all."""
    msg.data = np.full((msg.height, msg.width), np.nan, dtype=np.float32).tobytes()
    return msg


def test_all_nan_depth_stops_the_robot_with_a_listed_reason_and_a_dropout_reads_right(servers):
    params = mode_a_params(servers, s2_requery_period_s=0.5)
    with navigator_graph(Scene(boxes=[RED]), Pose2D(-0.5, 0.0, 0.4), params, depth_encoding="32FC1") \
            as (nav, robot, op):
        markers = []
        op.create_subscription(Marker, topics.STATUS_MARKER, markers.append, 5)
        assert wait_for(lambda: op.statuses, 15.0)
        op.say("go to the red box")
        assert wait_for(lambda: robot.cmds and robot.cmds[-1][1] > 0.05, 30.0), op.statuses[-1].reason
        robot.mangle_depth = _nan_depth
        assert wait_for(lambda: robot.cmds[-1][1:] == (0.0, 0.0), 5.0), "no driving on depth that sees nothing"
        n = len(op.statuses)
        assert wait_for(lambda: len(op.statuses) > n + 5, 5.0)
        stopped = [s for s in op.statuses[n:] if s.state == NavStatus.APPROACHING]
        assert stopped, [s.state_name for s in op.statuses[n:]]
        for status in stopped:
            assert status.reason and kind_of(status.reason) is not None, status.reason
        # RViz's status text says the same, over the robot in the odometry frame
        assert wait_for(lambda: markers and "APPROACHING" in markers[-1].text, 5.0)
        assert markers[-1].header.frame_id == "odom" and markers[-1].type == Marker.TEXT_VIEW_FACING

        robot.mangle_depth = lambda msg: msg  # depth back: the robot drives on
        assert wait_for(lambda: robot.cmds[-1][1] > 0.05, 30.0), op.statuses[-1].reason
        robot.camera_paused = True  # a dropout: the reason's age and limit must not contradict
        assert wait_for(lambda: op.statuses[-1].reason.startswith("no depth"), 5.0), op.statuses[-1].reason
        text = op.statuses[-1].reason
        m = re.match(r"no depth for ([\d.]+) s \(limit ([\d.]+) s, ([\d.]+) s look-ahead\)", text)
        assert m, text
        age, limit, ahead = map(float, m.groups())
        assert age + ahead > limit - 0.01 and math.isclose(limit, 0.5), text
