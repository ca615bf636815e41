"""`lingnav-bringup`: start the bring-up node set with plain rclpy processes.

For machines without `ros2 launch` (pip-only installs; the launch fallback that
LINGNAV_FORCE_FALLBACKS=1 tests). It starts exactly the
processes `launch/bringup.launch.py` would, from the same description, and stops them all on
Ctrl-C or when one of them dies.
"""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

from lingnav_core import cli
from lingnav_ros.launch_description import BringupArgs, NodeSpec, argument_specs, describe, ros_args


def build_parser() -> argparse.ArgumentParser:
    """The launch file's arguments as --options, with the same defaults and descriptions."""
    p = cli.parser("lingnav-bringup", __doc__.splitlines()[0])
    for spec in argument_specs():
        p.add_argument(f"--{spec.name}", default=spec.default, help=spec.description,
                       choices=list(spec.choices) or None)
    return p


def args_from_cli(argv: list[str] | None = None) -> BringupArgs:
    """Parsed exactly like `ros2 launch` arguments; ValueError names a bad one."""
    return BringupArgs.from_strings(vars(build_parser().parse_args(argv)))


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
        args = args_from_cli(argv)
        if args.rviz:
            raise ValueError("rviz:=true needs ros2 launch (or run rviz2 -d config/lingnav.rviz yourself)")
        specs = describe(args)
    except ValueError as err:
        print(f"lingnav-bringup: {err}", file=sys.stderr)
        return 2
    for spec in specs:
        print("[bringup] " + " ".join(command_for(spec)))
    return run(specs)


if __name__ == "__main__":
    sys.exit(main())
