"""Render and physics speed of the simulator on this machine (figures for the issue note).

Renders the demo world from a ring of poses so every frame sees walls, floor and objects,
and times the robot's physics step on its own, since the node runs it at 50 Hz.
"""
from __future__ import annotations

import argparse
import math
import time

from lingnav_ros.paths import config_file
from lingnav_ros.sim.camera_model import make_camera_model
from lingnav_ros.sim.simulator import CameraParams, Simulator
from lingnav_ros.sim.world import load


def render_fps(width: int, height: int, frames: int) -> float:
    sim = Simulator(load(config_file("worlds", "demo.yaml")), CameraParams(width=width, height=height))
    sim.render()  # warm-up: first-touch allocations
    t0 = time.perf_counter()
    for i in range(frames):
        sim.robot.theta_rad = 2.0 * math.pi * i / frames
        sim.render()
    return frames / (time.perf_counter() - t0)


def camera_model_ms(width: int, height: int, frames: int, profile: str) -> float:
    """Cost of the realistic camera model (faults + queue) on top of rendering, per frame."""
    sim = Simulator(load(config_file("worlds", "demo.yaml")), CameraParams(width=width, height=height))
    rgb, depth, absorbing = sim.renderer.render_layers(sim.robot.x_m, sim.robot.y_m, sim.robot.theta_rad)
    model = make_camera_model("realistic", profile)
    t0 = time.perf_counter()
    for i in range(frames):
        model.capture(i * 0.1, rgb, depth, absorbing)
        model.due(i * 0.1 + 1.0)
    return (time.perf_counter() - t0) / frames * 1e3


def physics_step_us(steps: int) -> float:
    sim = Simulator(load(config_file("worlds", "demo.yaml")))
    sim.command(0.3, 0.4)
    t0 = time.perf_counter()
    for _ in range(steps):
        sim.step(0.02)
    return (time.perf_counter() - t0) / steps * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--steps", type=int, default=5000)
    args = p.parse_args()
    for w, h in ((640, 480), (320, 240)):
        print(f"render {w}x{h}: {render_fps(w, h, args.frames):6.1f} FPS (RGB + depth)")
        print(f"camera model {w}x{h} (sim profile): {camera_model_ms(w, h, args.frames, 'sim'):6.2f} ms/frame")
    print(f"physics step: {physics_step_us(args.steps):6.1f} us")


if __name__ == "__main__":
    main()
