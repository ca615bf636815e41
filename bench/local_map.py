"""Cost of one local-map update per depth frame (target: <= 5 ms at 320x240 and
<= 10 ms at 640x480 on one core), and of the collision monitor's map queries.

Frames come from the simulator's demo world along a drive, with perfect depth and with the
realistic camera model (`sim` profile: invalid pixels also cost a ray each, to mark what the
camera looked at but could not see).
Run single-threaded: OMP_NUM_THREADS=1 python bench/local_map.py
Times are this process's CPU time (time.process_time), so other jobs on a shared machine do not
inflate them; single-threaded, that is the cost on one core.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np

from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.paths import config_file
from lingnav_ros.perception.local_map import LocalMap
from lingnav_ros.safety.collision import (
    CollisionConfig,
    CollisionMonitor,
    obstacles_from_depth,
    obstacles_to_odom,
    rollout,
)
from lingnav_ros.sim.camera_model import make_camera_model
from lingnav_ros.sim.simulator import CameraParams, Simulator
from lingnav_ros.sim.world import load


def frames(width: int, height: int, count: int, camera: str = "ideal"):
    sim = Simulator(load(config_file("worlds", "demo.yaml")), CameraParams(width=width, height=height))
    model = make_camera_model(camera, "sim")
    out = []
    for i in range(count):
        sim.robot.theta_rad = 0.3 * math.sin(i / 5.0)
        sim.robot.x_m = sim.world.start[0] + 0.03 * i
        _, depth, absorbing = sim.renderer.render_layers(sim.robot.x_m, sim.robot.y_m, sim.robot.theta_rad)
        out.append((model.depth(depth, absorbing), Pose2D(sim.robot.x_m, sim.robot.y_m, sim.robot.theta_rad)))
    return sim, out


def bench_update(width: int, height: int, count: int, camera: str) -> tuple[float, float]:
    sim, fr = frames(width, height, count, camera)
    m = LocalMap()
    intr, mount = sim.camera.intrinsics(), sim.camera.mount()
    m.update(fr[0][0], intr, mount, fr[0][1], 0)  # warm-up
    times = []
    for i, (depth, pose) in enumerate(fr):
        t0 = time.process_time()
        m.update(depth, intr, mount, pose, int((i + 1) * 1e8))
        times.append(time.process_time() - t0)
    return float(np.median(times)) * 1e3, float(np.percentile(times, 95)) * 1e3


def bench_queries(count: int) -> float:
    sim, fr = frames(320, 240, 20)
    m = LocalMap()
    for i, (depth, pose) in enumerate(fr):
        m.update(depth, sim.camera.intrinsics(), sim.camera.mount(), pose, int(i * 1e8))
    pose = fr[-1][1]
    s = np.linspace(0.0, 1.5, 16)
    path = np.stack([pose.x_m + s * math.cos(pose.theta_rad), pose.y_m + s * math.sin(pose.theta_rad),
                     np.full_like(s, pose.theta_rad)], axis=1)
    t0 = time.process_time()
    for _ in range(count):
        m.path_distances(path, int(2e9), 0.2, 0.1)
    return (time.process_time() - t0) / count * 1e3


def bench_check(count: int) -> tuple[float, float]:
    """The control tick's collision check on one predicted path: frame points only, and with the map."""
    sim, fr = frames(320, 240, 20)
    m = LocalMap()
    for i, (depth, pose) in enumerate(fr):
        m.update(depth, sim.camera.intrinsics(), sim.camera.mount(), pose, int(i * 1e8))
    depth, pose = fr[-1]
    cfg = CollisionConfig()
    mon = CollisionMonitor(cfg)
    obstacles = obstacles_to_odom(obstacles_from_depth(depth, sim.camera.intrinsics(), sim.camera.mount(), cfg), pose)
    path = rollout(pose, Command(0.25, 0.2), 1.5)
    out = []
    for kw in ({}, {"local_map": m, "now_ns": int(2e9)}):
        t0 = time.process_time()
        for _ in range(count):
            mon.check(path, obstacles, None, **kw)
        out.append((time.process_time() - t0) / count * 1e3)
    return out[0], out[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=40)
    args = p.parse_args()
    for camera in ("ideal", "realistic"):
        for w, h, target in ((320, 240, 5.0), (640, 480, 10.0)):
            med, p95 = bench_update(w, h, args.frames, camera)
            print(f"local map update {w}x{h}, {camera} depth: median {med:5.2f} ms, p95 {p95:5.2f} ms "
                  f"(target <= {target:.0f} ms)")
    print(f"path_distances (1.5 m path, radius 0.2 m): {bench_queries(200):5.2f} ms")
    plain, with_map = bench_check(200)
    print(f"collision check per control tick: {plain:5.2f} ms frame only, {with_map:5.2f} ms with the map")


if __name__ == "__main__":
    main()
