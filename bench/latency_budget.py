"""Image-to-cmd_vel latency budget of the navigator, per stage, from its own stage times.

The navigator runs alone in a child process (bench/control_loop.py's rig) against a synthetic
RGB-D robot in this process; for each plan, the navigator publishes `lingnav/stage_times`
(transport, decode, local map, wait for the planning lane, S1 plan, map veto, hand-over to the
control tick, MPC, safety layers, publish, total), which this script collects and prints as
p50/p99 per stage. Cases: the geometric planner in the navigator's process, and mode A (S1 over
HTTP on loopback with the geometric backend), where the S1 stage includes the wire cost.

    .venv/bin/python bench/latency_budget.py [--seconds 20] [--width 320 --height 240] [--modes geometric,A]
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.control_loop import navigator_rig  # noqa: E402  (the navigator child process, shared rig)

STAGES = ("transport_ms", "decode_ms", "local_map_ms", "wait_for_plan_ms", "s1_plan_ms", "veto_ms",
          "handover_ms", "mpc_ms", "safety_ms", "publish_ms", "total_ms")


def _collect(context, stages: list, wire: list):
    from lingnav_msgs.msg import S1Answer, StageTimes
    from rclpy.node import Node

    from lingnav_ros import topics

    node = Node("latency_budget_listener", context=context)
    node.create_subscription(StageTimes, topics.STAGE_TIMES,
                             lambda m: stages.append({f: float(getattr(m, f)) for f in STAGES}), 50)
    # mode A: the S1 stage's wire cost, the round trip minus the planner's own time
    node.create_subscription(S1Answer, topics.S1_ANSWER, lambda m: wire.append(1e3 * m.latency_s - m.model_ms), 50)
    return node


def run_case(mode: str, seconds: float, width: int, height: int, s2, s1) -> tuple[list[dict], list[float]]:
    stages: list[dict] = []
    wire: list[float] = []
    with navigator_rig(mode, width, height, s2, s1, extra_nodes=lambda ctx: [_collect(ctx, stages, wire)]) as rig:
        time.sleep(1.0)
        rig.op.say("go to the red box")
        deadline = time.monotonic() + 30.0
        while not stages and time.monotonic() < deadline:
            time.sleep(0.05)
        stages.clear()  # the first plans pay for warm-up
        wire.clear()
        time.sleep(seconds)
        result = list(stages), [w for w in wire if math.isfinite(w)]
    rig.out.unlink(missing_ok=True)
    return result


def _pct(rows: list[dict], field: str, q: float) -> float:
    vals = [r[field] for r in rows if math.isfinite(r[field])]
    return float(np.percentile(vals, q)) if vals else math.nan


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--modes", default="geometric,A")
    args = ap.parse_args()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    from test.navigator_rig import ServerThread, s1_app, s2_app

    s2, s1 = ServerThread(s2_app).start(), ServerThread(s1_app).start()
    results, wires = {}, {}
    try:
        for mode in args.modes.split(","):
            results[mode], wires[mode] = run_case(mode.strip(), args.seconds, args.width, args.height, s2, s1)
    finally:
        s2.stop()
        s1.stop()
    print(f"\nimage -> cmd_vel by stage, {args.width}x{args.height} RGB-D at 10 Hz, control 20 Hz, planning "
          f"every 0.3 s, {os.cpu_count()} CPUs (shared); ms")
    head = f"{'stage':<18}" + "".join(f"{m + ' p50':>16}{m + ' p99':>16}" for m in results)
    print(head)
    print("-" * len(head))
    for f in STAGES:
        print(f"{f.removesuffix('_ms'):<18}" + "".join(f"{_pct(r, f, 50):>16.1f}{_pct(r, f, 99):>16.1f}"
                                                     for r in results.values()))
    print("plans".ljust(18) + "".join(f"{len(r):>16d}{'':>16}" for r in results.values()))
    for mode, w in wires.items():
        if w:
            print(f"mode {mode}: S1 wire cost (round trip minus the planner's own time) p50 "
                  f"{np.percentile(w, 50):.1f} ms, p99 {np.percentile(w, 99):.1f} ms ({len(w)} plans)")
    print("\ntransport = image stamp to the RGB-D pair in the callback; wait_for_plan = frame stored to the S1 "
          "call (bounded by the planning lane); handover = plan ready to the control tick that used it (bounded "
          "by the control period).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
