"""`lingnav-bringup`: start the bring-up node set with plain rclpy processes.

For machines without `ros2 launch` (pip-only installs, this CI). It starts exactly the
processes `launch/bringup.launch.py` would, from the same description, and stops them all on
Ctrl-C or when one of them dies.
"""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

from lingnav_ros.launch_description import (
    CAMERA_PROFILES,
    MODES,
    BringupArgs,
    NodeSpec,
    as_bool,
    describe,
    parse_remaps,
    ros_args,
)


def build_parser() -> argparse.ArgumentParser:
    d = BringupArgs()
    p = argparse.ArgumentParser(prog="lingnav-bringup", description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=MODES, default=d.mode)
    p.add_argument("--s2_host", default=d.s2_host)
    p.add_argument("--s2_port", type=int, default=d.s2_port)
    p.add_argument("--s1_host", default=d.s1_host)
    p.add_argument("--s1_port", type=int, default=d.s1_port)
    p.add_argument("--s1_checkpoint", default=d.s1_checkpoint)
    p.add_argument("--s1_device", default=d.s1_device)
    p.add_argument("--s1_half", type=as_bool, default=d.s1_half)
    p.add_argument("--instruction", default=d.instruction)
    p.add_argument("--camera", choices=CAMERA_PROFILES, default=d.camera)
    p.add_argument("--use_sim_time", type=as_bool, default=d.use_sim_time)
    p.add_argument("--sim", type=as_bool, default=d.sim, help="also start the simulator")
    p.add_argument("--namespace", default=d.namespace)
    p.add_argument("--remaps", default="", help="from:=to,from2:=to2")
    return p


def args_from_cli(argv: list[str] | None = None) -> BringupArgs:
    ns = build_parser().parse_args(argv)
    values = vars(ns)
    values["remaps"] = parse_remaps(values["remaps"])
    return BringupArgs(**values)


def command_for(spec: NodeSpec) -> list[str]:
    return [sys.executable, "-m", spec.module, *ros_args(spec)]


def run(specs: list[NodeSpec]) -> int:
    procs = [subprocess.Popen(command_for(spec)) for spec in specs]
    stopping = False

    def stop(_signum=None, _frame=None):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        while not stopping:
            for proc, spec in zip(procs, specs):
                if proc.poll() is not None:
                    print(f"[bringup] {spec.name} exited with {proc.returncode}; stopping the rest",
                          file=sys.stderr)
                    code = proc.returncode or 1
                    stopping = True
            time.sleep(0.2)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 5.0
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
    return code


def main(argv: list[str] | None = None) -> int:
    try:
        specs = describe(args_from_cli(argv))
    except ValueError as err:
        print(f"lingnav-bringup: {err}", file=sys.stderr)
        return 2
    for spec in specs:
        print("[bringup] " + " ".join(command_for(spec)))
    return run(specs)


if __name__ == "__main__":
    sys.exit(main())
