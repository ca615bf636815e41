"""Three robots in one world, closed loop: S2 and S1 latency per robot and the simulator's
real-time factor (simulated seconds per wall second while the robots drive).

Runs scenarios/three_robots_three_targets.yaml (or --scenario) through lingnav-eval's fleet runner:
one simulator, three navigators, one S2 server (colour backend), one geometric S1 server per
robot. Latencies are what each navigator measured (NavStatus), so they include queueing behind
the other robots on the shared S2 and on this machine's cores.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lingnav_ros.tools.evaluate import options_for  # noqa: E402
from lingnav_ros.tools.fleet import fleet_summary, run_world  # noqa: E402
from lingnav_ros.tools.harness import Processes, child_env, start_servers  # noqa: E402


def real_time_factor(states: list[dict]) -> float:
    """Simulated over wall seconds between the first and the last ground-truth state."""
    if len(states) < 2:
        return math.nan
    d_wall = states[-1]["wall_s"] - states[0]["wall_s"]
    return (states[-1]["t"] - states[0]["t"]) / d_wall if d_wall > 0 else math.nan


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "three_robots_three_targets.yaml")
    args = p.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="lingnav-fleet-bench-"))
    procs = Processes(out)
    try:
        servers = start_servers(procs, child_env())
        results = run_world(options_for(args.scenario, out, 1.0, False), servers, procs, args.scenario.stem)
    finally:
        procs.stop()
    print(f"{'robot':<36} {'outcome':<9} {'time s':>6} {'contacts':>8} {'S2 p50':>7} {'S2 p99':>7} "
          f"{'S1 p50':>7} {'S1 p99':>7}  (ms)  RTF")
    for r, (name, s) in zip(results, fleet_summary(results).items()):
        print(f"{name:<36} {r.final_state:<9} {r.sim_time_s:>6.1f} {r.contacts:>8d} {s['s2_p50_ms']:>7.0f} "
              f"{s['s2_p99_ms']:>7.0f} {s['s1_p50_ms']:>7.0f} {s['s1_p99_ms']:>7.0f}        "
              f"{real_time_factor(r.sim_states):.2f}")
    print(f"logs: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
