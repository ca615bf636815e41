"""Control-loop timing of the navigator while S1 plans run: does the 20 Hz loop keep its rate?

The navigator runs alone in a child process (so its CPU use is its own), against real S2 (color
backend) and S1 (geometric) HTTP servers and a synthetic RGB-D robot in this process. Measured:
- control-period jitter: |tick-to-tick period - 50 ms|, p50 and p99, at idle and navigating;
- latency from an image's stamp to the first cmd_vel computed from the plan made on it;
- CPU use of the navigator process at idle and while navigating (/proc/<pid>/stat).
Two S1 placements: mode A (S1 over HTTP) and geometric (S1 in the navigator's process, the
worst case for the Python GIL). Prints a table.

    .venv/bin/python bench/control_loop.py [--seconds 15] [--width 640 --height 480]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lingnav_ros.ros_domain import ensure_domain_id  # noqa: E402


def _child(params_json: str, out_path: str) -> None:
    """The navigator node alone; dumps its measurements to `out_path` on SIGTERM."""
    import rclpy
    from rclpy.parameter import Parameter

    from lingnav_ros.nodes.navigator_node import NavigatorNode

    rclpy.init()
    params = json.loads(params_json)
    node = NavigatorNode(parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    executors = node.executors()  # as the navigator's main() spins it
    threads = [threading.Thread(target=executor.spin, daemon=True) for executor in executors]
    for thread in threads:
        thread.start()
    stop.wait()
    stats = node.stats
    Path(out_path).write_text(json.dumps({
        "tick_times": list(stats.control_wall_times),
        "compute_s": list(stats.control_compute_s),
        "plan_to_cmd_s": list(stats.plan_to_cmd_latency_s),
        "s1_wall_s": list(stats.s1_wall_s),
        "s2_wall_s": list(stats.s2_wall_s),
        "state": node.mission.state.name,
        "reason": node.mission.reason,
    }))
    for executor in executors:  # stop and join every executor before destroying what they hold
        executor.shutdown(timeout_sec=2.0)
    for thread in threads:
        thread.join(timeout=2.0)
    node.destroy_node()
    rclpy.shutdown()


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _jitter_ms(ticks: np.ndarray, t0: float, t1: float, period_s: float) -> tuple[float, float, float, int]:
    sel = ticks[(ticks >= t0) & (ticks <= t1)]
    d = np.diff(sel)
    if d.size == 0:
        return (float("nan"),) * 3 + (0,)
    dev = np.abs(d - period_s) * 1e3
    return float(np.percentile(dev, 50)), float(np.percentile(dev, 99)), float(dev.max()), int(d.size)


@dataclass
class Rig:
    robot: object  # test.navigator_rig.SyntheticRobot
    op: object  # test.navigator_rig.Operator
    child: subprocess.Popen
    out: Path  # where the child dumps its measurements on SIGTERM


@contextlib.contextmanager
def navigator_rig(mode: str, width: int, height: int, s2, s1, extra_params: dict | None = None,
                  extra_nodes=lambda context: []):
    """The navigator alone in a child process (its CPU is its own) facing a synthetic RGB-D robot
    in a two-box room in this process, spun with `extra_nodes(context)`; yields once the navigator
    reports status, and stops it with SIGTERM (it then writes `out`) on the way out."""
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import MultiThreadedExecutor

    from lingnav_core.camera import CameraMount, Intrinsics
    from lingnav_ros.control.types import Pose2D
    from test.navigator_rig import Operator, SyntheticRobot
    from test.navigator_scene import Box, Scene

    scene = Scene(boxes=[Box(7.0, 7.4, 0.3, 0.7, 0.6, (255, 0, 0)), Box(3.0, 3.3, -1.2, -0.8, 0.5, (0, 0, 255))],
                  intrinsics=Intrinsics.from_fov(width, height, np.radians(75.0)),
                  mount=CameraMount(height_m=0.4, pitch_rad=0.15), max_range_m=10.0)
    params = {"s1_mode": mode, "s2_port": s2.port, "s1_port": s1.port, "v_max_mps": 0.25,
              "mission_timeout_s": 600.0, "camera_height_m": 0.4, "camera_pitch_rad": 0.15, **(extra_params or {})}
    domain = ensure_domain_id()
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    child = subprocess.Popen([sys.executable, str(ROOT / "bench" / "control_loop.py"), "--child",
                              json.dumps(params), str(out)],
                             env={**os.environ, "ROS_DOMAIN_ID": domain}, cwd=str(ROOT),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    context = Context()
    rclpy.init(context=context)
    robot = SyntheticRobot(context, scene, Pose2D(0.0, 0.0, 0.0), "16UC1")
    op = Operator(context)
    nodes = [robot, op, *extra_nodes(context)]
    executor = MultiThreadedExecutor(num_threads=4, context=context)
    for n in nodes:
        executor.add_node(n)
    threading.Thread(target=executor.spin, daemon=True).start()
    try:
        deadline = time.monotonic() + 60.0
        while not op.statuses and time.monotonic() < deadline:
            time.sleep(0.1)
        if not op.statuses:
            raise RuntimeError("navigator did not come up: " + child.stderr.read1(4000).decode(errors="replace"))
        yield Rig(robot, op, child, out)
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=20.0)
        except subprocess.TimeoutExpired:
            child.kill()
        executor.shutdown()
        for n in nodes:
            n.destroy_node()
        rclpy.shutdown(context=context)


def run_case(mode: str, seconds: float, width: int, height: int, *, s2, s1, local_map: bool = True) -> dict:
    with navigator_rig(mode, width, height, s2, s1, {"local_map_enabled": local_map}) as rig:
        robot, op, child, out = rig.robot, rig.op, rig.child, rig.out
        time.sleep(2.0)  # sensors flowing, no mission
        idle_t0, idle_c0 = time.perf_counter(), _cpu_s(child.pid)
        time.sleep(seconds / 2)
        idle_t1, idle_c1 = time.perf_counter(), _cpu_s(child.pid)
        op.say("go to the red box")
        deadline = time.monotonic() + 30.0
        while not (robot.cmds and robot.cmds[-1][1] > 0.02) and time.monotonic() < deadline:
            time.sleep(0.05)
        nav_t0, nav_c0 = time.perf_counter(), _cpu_s(child.pid)
        time.sleep(seconds)
        nav_t1, nav_c1 = time.perf_counter(), _cpu_s(child.pid)
        state = op.statuses[-1].state_name if op.statuses else "?"
    data = json.loads(out.read_text()) if out.stat().st_size else {}
    out.unlink(missing_ok=True)
    ticks = np.asarray(data.get("tick_times", []))
    lat = np.asarray(data.get("plan_to_cmd_s", [])) * 1e3
    s1 = np.asarray(data.get("s1_wall_s", [])) * 1e3
    return {
        "mode": mode if local_map else f"{mode}/nomap",
        "idle_jitter": _jitter_ms(ticks, idle_t0, idle_t1, 0.05),
        "nav_jitter": _jitter_ms(ticks, nav_t0, nav_t1, 0.05),
        "idle_cpu_pct": 100.0 * (idle_c1 - idle_c0) / (idle_t1 - idle_t0),
        "nav_cpu_pct": 100.0 * (nav_c1 - nav_c0) / (nav_t1 - nav_t0),
        "latency_ms": (float(np.percentile(lat, 50)), float(np.percentile(lat, 95)), lat.size) if lat.size
        else (float("nan"), float("nan"), 0),
        "s1_ms": (float(np.median(s1)), s1.size) if s1.size else (float("nan"), 0),
        "compute_p99_ms": float(np.percentile(np.asarray(data.get("compute_s", [0.0])) * 1e3, 99)),
        "state_at_end": state,
    }


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=15.0, help="navigating window per case")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--modes", default="A,geometric")
    ap.add_argument("--local_map", default="on", help="on, off or on,off: the navigator's local map (the "
                    "obstacle memory costs CPU; 'on,off' measures both in one run)")
    args = ap.parse_args()
    ensure_domain_id()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    from test.navigator_rig import ServerThread, s1_app, s2_app

    s2 = ServerThread(s2_app).start()
    s1 = ServerThread(s1_app).start()
    rows = []
    try:
        for mode in args.modes.split(","):
            for local_map in args.local_map.split(","):
                rows.append(run_case(mode.strip(), args.seconds, args.width, args.height, s2=s2, s1=s1,
                                     local_map=local_map.strip() == "on"))
    finally:
        s2.stop()
        s1.stop()
    print(f"\nnavigator control loop, {args.width}x{args.height} RGB-D at 10 Hz, control 20 Hz (50 ms), "
          f"planning every 0.3 s, {os.cpu_count()} CPUs (shared)\n")
    head = (f"{'S1 mode':<14} {'phase':<11} {'jitter p50':>10} {'p99':>8} {'max':>8} {'ticks':>6} "
            f"{'CPU %':>7} {'img->cmd p50':>13} {'p95':>8} {'n':>4} {'S1 ms':>7} {'plans':>5}")
    print(head)
    print("-" * len(head))
    for r in rows:
        for phase in ("idle", "nav"):
            p50, p99, mx, n = r[f"{phase}_jitter"]
            cpu = r[f"{phase}_cpu_pct"]
            if phase == "nav":
                l50, l95, ln = r["latency_ms"]
                extra = f"{l50:>10.0f} ms {l95:>5.0f} ms {ln:>4d} {r['s1_ms'][0]:>7.1f} {r['s1_ms'][1]:>5d}"
            else:
                extra = f"{'':>13} {'':>8} {'':>4} {'':>7}"
            print(f"{r['mode']:<14} {('idle' if phase == 'idle' else 'navigating'):<11} {p50:>7.2f} ms "
                  f"{p99:>5.2f} ms {mx:>5.1f} ms {n:>6d} {cpu:>6.1f}% {extra}")
    print("\njitter = |tick-to-tick period - 50 ms|; img->cmd = image stamp to the first cmd_vel computed from "
          "the plan made on that image; CPU % of one core for the navigator process alone.")
    for r in rows:
        print(f"{r['mode']}: control compute p99 {r['compute_p99_ms']:.2f} ms, state at end {r['state_at_end']}")


if __name__ == "__main__":
    main()
