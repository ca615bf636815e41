"""Closed loop with someone in the way: real S2/S1 servers, the simulator and the navigator as
separate processes. A person stands in the only doorway for 10 s, then walks off: the robot must
wait (not recover, not fail), then go through without touching anyone. Whether the hold reads as
"waiting for a moving obstacle" (the person flagged as having moved in) or as "no safe path"
depends on how the camera first saw them; both hold the robot and say why."""
from pathlib import Path

import pytest

from lingnav_ros.tools.harness import Processes, RunOptions, child_env, run_scenario, start_servers

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.mark.timeout(300)
def test_a_person_in_the_doorway_is_waited_for_then_passed(tmp_path):
    procs = Processes(tmp_path)
    try:
        servers = start_servers(procs, child_env())
        result = run_scenario(RunOptions(world_path=SCENARIOS / "person_in_doorway.yaml", max_sim_time_s=90.0,
                                         max_wall_time_s=240.0), servers, procs, "person_in_doorway")
    finally:
        procs.stop()
    assert result.success, result.summary()
    assert result.contacts == 0
    reasons = [reason for _, _, reason in result.events]
    assert not any(r.startswith("recovery ") for r in reasons), reasons
    # it stopped in front of the doorway while the person stood in it (until 10 s of sim time),
    # said why, and went through after they left
    through = [s["t"] for s in result.sim_states if s["x"] > 2.5]
    assert through and min(through) > 10.0, "it went through only after the person left the doorway"
    assert max(s["x"] for s in result.sim_states if s["t"] < 10.0) > 1.0, "it drove up to the doorway"
    assert any(r.startswith(("waiting for a moving obstacle", "no safe path")) for r in reasons), reasons
