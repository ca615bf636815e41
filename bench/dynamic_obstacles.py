"""Stop distance for a person who steps into the robot's path, closed loop.

A person waits beside the corridor and steps across it at walking pace as the robot drives to a
chair (the realistic sim camera, the whole navigator, the geometric S1). From the moment the
person's body first overlaps the corridor the robot will sweep (its width, up to `--ahead_m` in
front of it) until the robot's speed is zero: the distance the robot still drove, the time it
took, and the smallest gap between the robot's and the person's surfaces over the run.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lingnav_ros.sim.robot import RobotParams  # noqa: E402
from lingnav_ros.sim.world import load  # noqa: E402
from lingnav_ros.tools.harness import Processes, RunOptions, child_env, run_scenario, start_servers  # noqa: E402

PERSON_RADIUS_M = 0.22


def world(person_x_m: float, start_s: float) -> dict:
    return {"room": [-1.0, -3.0, 6.5, 3.0], "start": [0.0, 0.0, 0.0], "instruction": "go to the red chair",
            "target": "red chair", "objects": [
                {"label": "red chair", "type": "box", "x": 4.8, "y": 0.0, "size": [0.5, 0.5], "height": 1.0,
                 "color": "red"},
                {"label": "person", "type": "cylinder", "radius": PERSON_RADIUS_M, "height": 1.7, "color": "grey",
                 "path": [[person_x_m, 1.6], [person_x_m, -2.6]], "speed_mps": 1.0, "start_s": start_s}]}


def stop_figures(states: list[dict], person, ahead_m: float) -> dict:
    """Entering time, distance driven until zero speed, and the smallest surface gap."""
    r = RobotParams().radius_m
    enter = stop = None
    min_gap = math.inf
    for s in states:
        px, py = person.at(s["t"]).x_m, person.at(s["t"]).y_m
        dx, dy = px - s["x"], py - s["y"]
        along = dx * math.cos(s["theta"]) + dy * math.sin(s["theta"])
        across = -dx * math.sin(s["theta"]) + dy * math.cos(s["theta"])
        min_gap = min(min_gap, math.hypot(dx, dy) - r - PERSON_RADIUS_M)
        if enter is None and 0.0 < along <= ahead_m + r and abs(across) < r + PERSON_RADIUS_M:
            enter = s
        if enter is not None and stop is None and abs(s["v"]) < 0.01:
            stop = s
    if enter is None:
        return {"entered": False, "min_gap_m": min_gap}
    out = {"entered": True, "gap_at_entry_m": math.hypot(person.at(enter["t"]).x_m - enter["x"],
                                                         person.at(enter["t"]).y_m - enter["y"]) - r - PERSON_RADIUS_M,
           "speed_at_entry_mps": enter["v"], "min_gap_m": min_gap}
    if stop is not None:
        out.update(stop_distance_m=math.hypot(stop["x"] - enter["x"], stop["y"] - enter["y"]),
                   stop_time_s=stop["t"] - enter["t"])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", nargs="*", default=["2.0:5.0", "2.0:5.6", "1.8:5.8"],
                   help="X:START pairs: the person crosses at x = X m, starting to walk at START sim seconds")
    p.add_argument("--ahead_m", type=float, default=1.5, help="corridor length ahead that counts as the path")
    args = p.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="lingnav-dynamic-bench-"))
    procs = Processes(out)
    rows = []
    try:
        servers = start_servers(procs, child_env())
        for case in args.cases:
            x, start_s = (float(v) for v in case.split(":"))
            path = out / f"person_at_{x:.1f}_from_{start_s:.1f}s.yaml"
            path.write_text(yaml.safe_dump(world(x, start_s)))
            result = run_scenario(RunOptions(world_path=path, max_sim_time_s=90.0, max_wall_time_s=240.0), servers,
                                  procs, name=path.stem)
            rows.append((case, result, stop_figures(result.sim_states, load(path).find("person"), args.ahead_m)))
    finally:
        procs.stop()
    for case, result, f in rows:
        line = f"person crossing ({case}): {result.final_state}, contacts {result.contacts}, "
        if not f["entered"]:
            print(line + f"never entered the path (min gap {f['min_gap_m']:.2f} m)")
            continue
        line += f"entered {f['gap_at_entry_m']:.2f} m ahead at {f['speed_at_entry_mps']:.2f} m/s, "
        if "stop_distance_m" in f:
            line += f"stopped after {f['stop_distance_m']:.2f} m in {f['stop_time_s']:.2f} s, "
        print(line + f"min gap {f['min_gap_m']:.2f} m")
    print(f"logs: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
