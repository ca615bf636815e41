"""Cost of the exploration map per depth frame: the map update, and the frontier labelling plus
choice (target: both together <= 5 ms at 320x240 on one core; 640x480 reported too); the way
to the chosen frontier (`waypoint_toward`), planned once a second while driving there; and a
recovery's way round (`corners_toward`, the same way pulled straight), once per recovery.

Frames come from the simulator's demo world along a drive, through the realistic camera model.
Run single-threaded: OMP_NUM_THREADS=1 python bench/exploration.py
Times are this process's CPU time (time.process_time), so other jobs on a shared machine do not
inflate them; single-threaded, that is the cost on one core.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np

from lingnav_ros.control.types import Pose2D
from lingnav_ros.paths import config_file
from lingnav_ros.perception.exploration_map import ExplorationMap, choose_frontier
from lingnav_ros.sim.camera_model import make_camera_model
from lingnav_ros.sim.simulator import CameraParams, Simulator
from lingnav_ros.sim.world import load


def frames(width: int, height: int, count: int):
    sim = Simulator(load(config_file("worlds", "demo.yaml")), CameraParams(width=width, height=height))
    model = make_camera_model("realistic", "sim")
    out = []
    for i in range(count):
        theta = 2.0 * math.pi * i / count  # a scan: every heading, as the search does
        x = sim.world.start[0] + 0.02 * i
        _, depth, absorbing = sim.renderer.render_layers(x, sim.world.start[1], theta)
        out.append((model.depth(depth, absorbing), Pose2D(x, sim.world.start[1], theta)))
    return sim, out


def bench(width: int, height: int, count: int) -> dict:
    sim, fr = frames(width, height, count)
    xmap = ExplorationMap()
    intr, mount = sim.camera.intrinsics(), sim.camera.mount()
    xmap.update(fr[0][0], intr, mount, fr[0][1])  # warm-up
    update, frontier, route, corners = [], [], [], []
    for depth, pose in fr:
        t0 = time.process_time()
        xmap.update(depth, intr, mount, pose)
        t1 = time.process_time()
        goal = choose_frontier(xmap.frontiers(), pose, hint_yaw_rad=pose.theta_rad, resolution_m=xmap.res)
        t2 = time.process_time()
        update.append(t1 - t0)
        frontier.append(t2 - t1)
        if goal is not None:
            xmap.waypoint_toward((pose.x_m, pose.y_m), goal.xy, clearance_m=0.3)
            t3 = time.process_time()
            xmap.corners_toward((pose.x_m, pose.y_m), goal.xy, clearance_m=0.3, goal_radius_m=0.8)
            route.append(t3 - t2)
            corners.append(time.process_time() - t3)
    total = np.array(update) + np.array(frontier)
    return {"update_ms": 1e3 * float(np.median(update)), "frontier_ms": 1e3 * float(np.median(frontier)),
            "total_ms": 1e3 * float(np.median(total)), "total_p95_ms": 1e3 * float(np.percentile(total, 95)),
            "explored_m2": xmap.explored_m2(), "frontiers": len(xmap.frontiers()),
            "route_ms": 1e3 * float(np.median(route)) if route else math.nan,
            "route_max_ms": 1e3 * float(np.max(route)) if route else math.nan,
            "corners_ms": 1e3 * float(np.median(corners)) if corners else math.nan}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=60)
    args = p.parse_args()
    print(f"exploration map ({ExplorationMap().n} x {ExplorationMap().n} cells), per frame, median over "
          f"{args.frames} frames (one core, CPU time):")
    for width, height in ((320, 240), (640, 480)):
        r = bench(width, height, args.frames)
        print(f"  {width}x{height}: update {r['update_ms']:.2f} ms + frontiers and choice {r['frontier_ms']:.2f} ms"
              f" = {r['total_ms']:.2f} ms (p95 {r['total_p95_ms']:.2f} ms); {r['explored_m2']:.0f} m2 seen, "
              f"{r['frontiers']} frontier regions; way to the chosen one {r['route_ms']:.1f} ms "
              f"(max {r['route_max_ms']:.1f} ms, once a second); a recovery's way round "
              f"{r['corners_ms']:.1f} ms")


if __name__ == "__main__":
    main()
