"""Fault injection on a real graph: how fast does the robot stop, and how fast does it resume?

The navigator (mode A) drives a synthetic RGB-D robot toward a red box against real S2 (color
backend) and S1 (geometric) HTTP servers on 127.0.0.1, spun as its main() spins it. Each fault
is injected while the robot drives, then undone, and the robot's own cmd_vel subscription
timestamps what it received (wall clock, monotonic):
- S2 / S1 server kill: kill -> first zero cmd_vel;
- camera / odometry dropout: the sensor's last message -> first zero cmd_vel;
- e-stop: the e-stop message -> first zero cmd_vel;
- 5 s outage of S2 / S1: server back -> first non-zero cmd_vel (the same mission resumes).
The issue's bar: every stop within 0.5 s.

    .venv/bin/python bench/faults.py [--repeats 3] [--outage-s 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from lingnav_ros.control.types import Pose2D  # noqa: E402
from test.navigator_rig import color_s2_and_geometric_s1, navigator_graph  # noqa: E402
from test.navigator_scene import Box, Scene  # noqa: E402
from test.ros_graph import wait_for  # noqa: E402

RED = Box(3.2, 3.6, 0.7, 1.1, 0.6, (200, 30, 30))


def _first_cmd_after(robot, t0: float, zero: bool, timeout_s: float) -> float:
    """Seconds from t0 to the first command received after t0 that is zero (or moving)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for t, v, w in list(robot.cmds):
            if t >= t0 and ((v == 0.0 and w == 0.0) if zero else (abs(v) > 1e-3 or abs(w) > 1e-3)):
                return t - t0
        time.sleep(0.005)
    return float("nan")


def _driving(robot, op) -> bool:
    op.say("go to the red box")
    return wait_for(lambda: robot.cmds and robot.cmds[-1][1] > 0.05, 30.0)


def one_run(servers, fault: str, outage_s: float) -> dict:
    s2, s1 = servers
    params = {"s1_mode": "A", "s2_host": "127.0.0.1", "s2_port": s2.port, "s1_host": "127.0.0.1",
              "s1_port": s1.port, "s2_requery_period_s": 0.5}
    with navigator_graph(Scene(boxes=[RED]), Pose2D(-1.0, 0.0, 0.3), params) as (nav, robot, op):
        wait_for(lambda: op.statuses, 15.0)
        if not _driving(robot, op):
            return {"error": "never drove"}
        time.sleep(0.5)
        out: dict = {}
        if fault in ("s2_kill", "s1_kill", "s2_outage", "s1_outage"):
            server = s2 if fault.startswith("s2") else s1
            t0 = time.monotonic()
            server.stop()
            out["stop_s"] = _first_cmd_after(robot, t0, True, 5.0)
            if fault.endswith("outage"):
                time.sleep(max(0.0, outage_s - (time.monotonic() - t0)))
            t_back = time.monotonic()
            server.start()
            if fault.endswith("outage"):
                out["resume_s"] = _first_cmd_after(robot, t_back, False, 15.0)
                out["state"] = op.statuses[-1].state_name if op.statuses else "?"
                out["same_mission"] = nav.mission.episode == 1
        elif fault in ("camera_dropout", "odom_dropout"):
            sensor = fault.split("_", maxsplit=1)[0]
            setattr(robot, f"{sensor}_paused", True)
            time.sleep(0.02)
            t_last = robot.last_camera_pub if sensor == "camera" else robot.last_odom_pub
            out["stop_s"] = _first_cmd_after(robot, t_last, True, 5.0)
            setattr(robot, f"{sensor}_paused", False)
        elif fault == "estop":
            t0 = time.monotonic()
            op.estop(True)
            out["stop_s"] = _first_cmd_after(robot, t0, True, 5.0)
            op.estop(False)
        return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--outage-s", type=float, default=5.0)
    args = parser.parse_args(argv)
    faults = ["s2_kill", "s1_kill", "camera_dropout", "odom_dropout", "estop", "s2_outage", "s1_outage"]
    rows = []
    with color_s2_and_geometric_s1() as servers:
        for fault in faults:
            runs = [one_run(servers, fault, args.outage_s) for _ in range(args.repeats)]
            rows.append((fault, runs))
            print(f"{fault}: {runs}", flush=True)
    print(f"\nfault -> zero cmd_vel (s), {args.repeats} runs each; resume after a {args.outage_s:.0f} s outage")
    print(f"{'fault':16s} {'stop min':>9s} {'median':>8s} {'max':>7s} {'resume median':>14s} {'resumed':>8s}")
    for fault, runs in rows:
        stops = [r["stop_s"] for r in runs if "stop_s" in r]
        resumes = [r["resume_s"] for r in runs if "resume_s" in r]
        resumed = sum(1 for r in runs if r.get("same_mission") and r.get("resume_s", float("nan")) == r.get("resume_s"))
        res = f"{statistics.median(resumes):14.2f}" if resumes else f"{'-':>14s}"
        ok = f"{resumed}/{len(runs)}" if resumes else "-"
        print(f"{fault:16s} {min(stops):9.3f} {statistics.median(stops):8.3f} {max(stops):7.3f} {res} {ok:>8s}")


if __name__ == "__main__":
    main()
