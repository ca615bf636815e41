"""Closed loop in the simulator, then lingnav-diagnose and lingnav-replay --offline on the bag.

One run records a bag; with the servers stopped, the diagnosis reads it and an offline replay
re-runs a navigator on it answered from the bag alone, whose cmd_vel must match the recording.
Three short runs inject one fault each (S2 points at another object through a proxy, S1 answers
past its deadline through a proxy, the tracker is detuned by a parameter) and the diagnosis must
name that subsystem first. All share one pair of real servers.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from lingnav_ros.tools.diagnosis.replay_check import Tolerance
from lingnav_ros.tools.diagnosis.report import write_report
from lingnav_ros.tools.diagnosis.run_log import read_run
from lingnav_ros.tools.diagnosis.verdicts import S1, S2, TRACKER, Thresholds, diagnose
from lingnav_ros.tools.harness import Processes, RunOptions, Servers, child_env, run_scenario
from lingnav_ros.tools.offline_replay import run_offline
from test.fault_proxies import slow_s1, wrong_object_s2
from test.navigator_rig import ServerThread, s1_app, s2_app

WORLD = """
room: [-1.0, -3.0, 6.0, 3.0]
start: [0.0, 0.0, 0.0]
instruction: go to the red chair
target: red chair
objects:
  - {{label: red chair, type: box, x: {x}, y: {y}, size: [0.5, 0.5], height: 0.8, color: red}}
  - {{label: blue ball, type: cylinder, x: 2.0, y: -1.0, radius: 0.25, height: 0.6, color: blue}}
"""


@pytest.fixture(scope="module")
def servers():
    s2, s1 = ServerThread(s2_app).start(), ServerThread(s1_app).start()
    try:
        yield s2, s1
    finally:
        s2.stop()
        s1.stop()


def _run(tmp: Path, name: str, s2_port: int, s1_port: int, x: float, y: float, max_sim_s: float,
         overrides: dict | None = None) -> Path:
    world = tmp / f"{name}.yaml"
    world.write_text(WORLD.format(x=x, y=y))
    child_env()
    procs = Processes(tmp)
    bag = tmp / f"{name}_bag"
    try:
        run_scenario(RunOptions(world_path=world, max_sim_time_s=max_sim_s, max_wall_time_s=max_sim_s + 60.0,
                                record_bag=bag, navigator_overrides=overrides or {}),
                     Servers(s2_port, s1_port), procs, name=name)
    finally:
        procs.stop()
    return bag


def test_a_recorded_run_is_diagnosed_and_replays_offline_without_servers(tmp_path):
    s2, s1 = ServerThread(s2_app).start(), ServerThread(s1_app).start()  # its own: it stops them
    try:
        bag = _run(tmp_path, "ahead", s2.port, s1.port, 2.5, 0.3, 25.0)
    finally:
        s2.stop()  # from here on no S2 or S1 server runs
        s1.stop()
    log = read_run(bag)
    diag = diagnose(log)
    report = write_report(log, diag, tmp_path / "report", Thresholds())
    assert log.s2 and log.s1 and log.stages and log.world is not None
    assert {pc.on for pc in diag.s2_checks} <= {"red chair", ""}, [pc.on for pc in diag.s2_checks]
    assert "**verdict:" in report.read_text() and (tmp_path / "report" / "timeline.png").stat().st_size > 1000
    result = run_offline(bag, tmp_path / "offline")
    c = result.comparison
    assert c.compared > 50, result.summary()
    assert c.matches(Tolerance()), result.summary()


def test_each_injected_fault_is_named(servers, tmp_path):
    s2, s1 = servers
    wrong = ServerThread(wrong_object_s2(s2.port, "red chair", "blue ball")).start()
    slow = ServerThread(slow_s1(s1.port, delay_s=2.0)).start()
    try:
        cases = {
            S2: _run(tmp_path, "s2_wrong", wrong.port, s1.port, 2.0, 1.0, 10.0),
            S1: _run(tmp_path, "s1_slow", s2.port, slow.port, 2.0, 1.0, 10.0),
            # a tracker that can hardly turn, sent to a chair well off to the side
            TRACKER: _run(tmp_path, "tracker", s2.port, s1.port, 1.8, 1.3, 12.0,
                          {"w_max_radps": 0.02, "v_max_mps": 0.35}),
        }
    finally:
        wrong.stop()
        slow.stop()
    for subsystem, bag in cases.items():
        diag = diagnose(read_run(bag))
        assert diag.first is not None and diag.first.subsystem == subsystem, (subsystem, diag.verdict,
                                                                                diag.findings[:5])
    assert "blue ball" in diagnose(read_run(cases[S2])).verdict
