"""`make demo`: "go to the red chair" in the default world, closed loop, then a summary.

The target starts behind the robot and a crate stands on the way: the robot has to search
with S2's turn arrows, approach with S1 plans tracked by the MPC, and get around the crate.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

from lingnav_core import cli
from lingnav_ros.paths import config_file
from lingnav_ros.sim.world import load
from lingnav_ros.tools.harness import Processes, RunOptions, child_env, draw_map, run_scenario, start_servers


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("lingnav-demo", __doc__.splitlines()[0])
    p.add_argument("--world", default=str(config_file("worlds", "demo.yaml")), help="simulator world YAML")
    p.add_argument("--instruction", default="", help="what to tell the robot (empty: the world's instruction)")
    p.add_argument("--out", default="runs/demo", help="folder for the PNG, the bag and the logs")
    p.add_argument("--real_time_factor", type=float, default=1.0, help="simulated seconds per wall second")
    p.add_argument("--max_sim_time_s", type=float, default=240.0, help="give up after this much simulated time")
    p.add_argument("--no_bag", action="store_true", help="do not record a rosbag2")
    args = p.parse_args(argv)
    out = Path(args.out) / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    world = load(args.world)
    procs = Processes(out)
    print(f"LingNav demo: '{args.instruction or world.instruction}' in world '{world.name}' (logs: {out})")
    try:
        servers = start_servers(procs, child_env())
        print(f"  S2 (color backend) on 127.0.0.1:{servers.s2_port}, S1 (geometric) on 127.0.0.1:{servers.s1_port}")
        result = run_scenario(RunOptions(
            world_path=Path(args.world), instruction=args.instruction, max_sim_time_s=args.max_sim_time_s,
            max_wall_time_s=args.max_sim_time_s / args.real_time_factor + 120.0,
            real_time_factor=args.real_time_factor, record_bag=None if args.no_bag else out / "bag",
            progress=True), servers, procs)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping everything")
        return 130
    except RuntimeError as err:
        print(f"demo failed to start: {err}", file=sys.stderr)
        return 1
    finally:
        procs.stop()
    png = draw_map(world, result, out / "map.png")
    summary = result.summary()
    (out / "summary.json").write_text(json.dumps(summary, indent=2))

    def fmt_ms(v: float) -> str:
        return f"{v:.0f} ms" if math.isfinite(v) else "-"

    print("\n" + "=" * 64)
    print(f" {'SUCCESS' if result.success else 'FAILURE'}: {result.final_state} ({result.reason})")
    print(f" instruction      {result.instruction}")
    print(f" time             {result.sim_time_s:.1f} s simulated, {result.wall_time_s:.1f} s wall")
    print(f" path length      {result.path_length_m:.2f} m")
    print(f" distance left    {result.target_distance_m:.2f} m to the target's surface")
    print(f" contacts         {result.contacts}")
    print(f" S2 calls         {result.s2_calls} (median latency {fmt_ms(summary['s2_latency_ms_median'])})")
    print(f" S1 calls         {result.s1_calls} (median latency {fmt_ms(summary['s1_latency_ms_median'])})")
    print(f" map              {png}")
    if result.bag_path:
        print(f" rosbag2          {result.bag_path}")
        _diagnose(Path(result.bag_path), out / "diagnosis")
    print("=" * 64)
    return 0 if result.success else 1


def _diagnose(bag: Path, out: Path) -> None:
    """The run's diagnosis report (lingnav-diagnose), so the demo shows which subsystem did what."""
    from lingnav_ros.tools.diagnosis.report import write_report
    from lingnav_ros.tools.diagnosis.run_log import BagError, read_run
    from lingnav_ros.tools.diagnosis.verdicts import Thresholds, diagnose

    try:
        log = read_run(bag)
    except BagError as err:
        print(f" diagnosis        not written: {err}")
        return
    diag = diagnose(log)
    print(f" verdict          {diag.verdict}")
    print(f" diagnosis        {write_report(log, diag, out, Thresholds())}")


if __name__ == "__main__":
    sys.exit(main())
