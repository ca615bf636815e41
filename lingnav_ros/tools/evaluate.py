"""lingnav-eval SCENARIO_DIR --repeat N: closed-loop runs of scenario files, with a table.

A scenario is a world YAML (see config/worlds/demo.yaml) with `instruction`, `target`, and
optionally `expect: failure` (e.g. a target that does not exist must fail cleanly) and
`max_sim_time_s`. Success is ARRIVED within `success_radius_m` of the target's surface (or a
clean FAILED where failure is expected); SPL weighs success by the shortest collision-free path
(grid A* around walls and objects grown by the robot radius, shortest_path.py) over the driven
length. Each repeat keeps its own folder under the run folder (repeat-N/: the processes' logs, a
top-down map PNG per scenario, bags with --record); `--json PATH` also writes the results there.
"""
from __future__ import annotations

import csv
import json
import math
import sys
import time
from pathlib import Path

import yaml

from lingnav_core import cli
from lingnav_ros.sim.world import load
from lingnav_ros.tools.arrival_metrics import DISTANCE_TOLERANCE_M, HEADING_TOLERANCE_DEG, arrival_share
from lingnav_ros.tools.fleet import run_world
from lingnav_ros.tools.harness import (
    Processes,
    RunOptions,
    RunResult,
    child_env,
    draw_map,
    start_servers,
)


def scenario_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.glob("*.yaml"))
    if not files:
        raise FileNotFoundError(f"no scenario *.yaml in {folder}")
    return files


def options_for(path: Path, out: Path, rtf: float, record: bool) -> RunOptions:
    data = yaml.safe_load(path.read_text()) or {}
    max_sim = float(data.get("max_sim_time_s", 120.0))
    return RunOptions(world_path=path, max_sim_time_s=max_sim, max_wall_time_s=max_sim / rtf + 90.0,
                      real_time_factor=rtf, expect_failure=str(data.get("expect", "success")) == "failure",
                      success_radius_m=float(data.get("success_radius_m", 1.0)),
                      depth_encoding=str(data.get("depth_encoding", "16UC1")),
                      record_bag=out / f"{path.stem}.bag" if record else None,
                      navigator_overrides=dict(data.get("navigator", {}) or {}))


def table(results: list[RunResult]) -> tuple[str, dict]:
    by_name: dict[str, list[RunResult]] = {}
    for r in results:
        by_name.setdefault(r.name, []).append(r)
    lines = [f"{'scenario':<24} {'runs':>4} {'success':>8} {'SPL':>5} {'contacts':>8} {'time s':>7} "
             f"{'S2/run':>6} {'dist m':>6} {'head':>5}  last outcome", "-" * 114]
    for name, runs in by_name.items():
        last = runs[-1]
        lines.append(f"{name:<24} {len(runs):>4} {_rate(runs):>7.0%} {_mean([r.spl for r in runs]):>5.2f} "
                     f"{sum(r.contacts for r in runs):>8d} {_mean([r.sim_time_s for r in runs]):>7.1f} "
                     f"{_mean([r.s2_calls for r in runs]):>6.1f} {last.target_distance_m:>6.2f} "
                     f"{last.heading_error_deg:>5.1f}  {last.final_state}: {last.reason[:40]}")
    totals = {"runs": len(results), "success_rate": _rate(results), "spl": _mean([r.spl for r in results]),
              "contacts": sum(r.contacts for r in results), "mean_time_s": _mean([r.sim_time_s for r in results]),
              "s2_calls_per_run": _mean([r.s2_calls for r in results])}
    totals["good_arrival_share"], totals["arrivals"] = arrival_share(results)
    lines += ["-" * 114, f"{'ALL':<24} {totals['runs']:>4} {totals['success_rate']:>7.0%} {totals['spl']:>5.2f} "
              f"{totals['contacts']:>8d} {totals['mean_time_s']:>7.1f} {totals['s2_calls_per_run']:>6.1f}",
              f"arrivals within {DISTANCE_TOLERANCE_M} m of arrive_distance_m and {HEADING_TOLERANCE_DEG:.0f} "
              f"degrees: {totals['good_arrival_share']:.0%} of {totals['arrivals']}"]
    return "\n".join(lines), totals


def _rate(runs) -> float:
    return sum(r.success for r in runs) / len(runs) if runs else float("nan")


def _mean(values) -> float:
    vals = [float(v) for v in values if math.isfinite(float(v))]
    return sum(vals) / len(vals) if vals else float("nan")


def _report_run(r: RunResult, repeat: int, path: Path, rep_dir: Path, index: int) -> None:
    """The run's map, its event log and one line on the console."""
    r.repeat = repeat
    tag = r.name.replace("/", "-")
    draw_map(load(path), r, rep_dir / f"{tag}.png")
    (rep_dir / f"{tag}-events.txt").write_text(
        "".join(f"{t:7.1f}  {state:<15} {reason}\n" for t, state, reason in r.events))
    print(f"[{index}] {r.name}: {'ok ' if r.success else 'FAIL'} {r.final_state} ({r.reason[:60]}) "
          f"{r.sim_time_s:.1f} s, {r.path_length_m:.1f} m, contacts {r.contacts}"
          f"{f' (+{r.hits_while_stopped} hit while stopped)' if r.hits_while_stopped else ''}, "
          f"stopped {r.target_distance_m:.2f} m from the surface, heading error {r.heading_error_deg:.0f} deg"
          + "".join(f"\n      step {s['step']} {s['target']}: {s['distance_m']:.2f} m {'ok' if s['ok'] else 'FAIL'}"
                    for s in r.steps), flush=True)


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("lingnav-eval", __doc__.splitlines()[0])
    p.add_argument("scenario_dir", type=Path, help="folder of scenario YAML files (e.g. scenarios)")
    p.add_argument("--repeat", type=int, default=1, help="runs per scenario")
    p.add_argument("--only", nargs="*", default=None, help="scenario names (file stems) to run")
    p.add_argument("--out", type=Path, default=Path("runs/eval"), help="folder for logs, maps and results")
    p.add_argument("--real_time_factor", type=float, default=1.0, help="simulated seconds per wall second")
    p.add_argument("--record", action="store_true", help="write a rosbag2 per run")
    p.add_argument("--json", type=Path, default=None, help="also write the results JSON to this path")
    args = p.parse_args(argv)
    files = scenario_files(args.scenario_dir)
    if args.only:
        files = [f for f in files if f.stem in set(args.only)]
    out = args.out / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    procs = Processes(out)
    results: list[RunResult] = []
    try:
        servers = start_servers(procs, child_env())
        for i in range(args.repeat):
            rep_dir = out / f"repeat-{i}"
            rep_dir.mkdir(parents=True, exist_ok=True)
            procs.log_dir = rep_dir  # each repeat's logs apart
            for path in files:
                opts = options_for(path, rep_dir, args.real_time_factor, args.record)
                for r in run_world(opts, servers, procs, name=path.stem):  # one result per robot
                    _report_run(r, i, path, rep_dir, len(results) + 1)
                    results.append(r)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping everything")
    except RuntimeError as err:
        print(f"eval failed to start: {err}", file=sys.stderr)
        return 1
    finally:
        procs.stop()
    if not results:
        return 1
    text, totals = table(results)
    print("\n" + text)
    report = json.dumps({"totals": totals, "runs": [r.summary() for r in results]}, indent=2)
    (out / "results.json").write_text(report)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(report)
    with open(out / "results.csv", "w", newline="") as f:
        rows = [r.summary() for r in results]
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"\nresults: {out / 'results.json'} and {out / 'results.csv'}")
    return 0 if totals["success_rate"] >= 0.95 and totals["contacts"] == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
