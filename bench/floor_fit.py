"""Cost and accuracy of the camera mount self-check (floor plane fit) per depth frame.

Frames come from the simulator's demo world at the robot's start, rendered with the realistic
camera model (`sim` profile: noise, holes, invalid edges), at three sizes; the configured mount
given to the fit is off by 8 cm and 5 degrees, as a wrong YAML would be. Prints CPU time per fit
(time.process_time, so other jobs on a shared machine do not inflate it) and the error of the
measured height and pitch against the simulator's true mount.
Run single-threaded: OMP_NUM_THREADS=1 python bench/floor_fit.py
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np

from lingnav_core.camera import CameraMount
from lingnav_ros.paths import config_file
from lingnav_ros.perception.floor_fit import fit_floor
from lingnav_ros.sim.camera_model import make_camera_model
from lingnav_ros.sim.simulator import CameraParams, Simulator
from lingnav_ros.sim.world import load


def run(width: int, height: int, repeats: int) -> None:
    sim = Simulator(load(config_file("worlds", "demo.yaml")), CameraParams(width=width, height=height))
    model = make_camera_model("realistic", "sim", {"seed": 3})
    truth = sim.camera.mount()
    wrong = CameraMount(truth.height_m + 0.08, truth.pitch_rad + math.radians(5.0), truth.x_m)
    rgb, depth = sim.render()
    intr = sim.camera.intrinsics()
    times, dh, dp = [], [], []
    for _ in range(repeats):
        noisy = model.depth(depth)  # a fresh draw of noise and holes per frame
        t0 = time.process_time()
        fit = fit_floor(noisy, intr, wrong)
        times.append(time.process_time() - t0)
        if fit is not None:
            dh.append(abs(fit.height_m - truth.height_m))
            dp.append(abs(math.degrees(fit.pitch_rad - truth.pitch_rad)))
    ms = 1e3 * np.asarray(times)
    print(f"{width}x{height}: fit p50 {np.median(ms):.1f} ms, max {ms.max():.1f} ms (CPU); "
          f"floor found {len(dh)}/{repeats}; |height error| max {1e3 * max(dh, default=math.nan):.1f} mm, "
          f"|pitch error| max {max(dp, default=math.nan):.2f} deg")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=20, help="fits per image size")
    args = p.parse_args()
    for width, height in ((320, 240), (640, 480), (1280, 720)):
        run(width, height, args.repeats)


if __name__ == "__main__":
    main()
