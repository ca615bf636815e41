"""`--help` and `--version` for the ROS node executables, whose other arguments are ROS's own
(`--ros-args -p name:=value -r from:=to --params-file FILE`)."""
from __future__ import annotations

import sys

from lingnav_core.cli import package_version

ROS_ARGS_HELP = """
ROS arguments (after --ros-args):
  -p NAME:=VALUE          set a parameter
  --params-file FILE      parameters from a YAML file (config/mode_a.yaml, a camera profile, your own)
  -r FROM:=TO             remap a topic (cmd_vel:=/base/cmd_vel) or the node (__node:=NAME, __ns:=/robot1)
"""


def info_requested(prog: str, description: str, args: list[str] | None, parameters: str) -> bool:
    """Print help or the version when asked before --ros-args; True when the caller should exit 0."""
    argv = list(sys.argv[1:] if args is None else args)
    own = argv[:argv.index("--ros-args")] if "--ros-args" in argv else argv
    if "--version" in own:
        print(f"{prog} {package_version()}")
        return True
    if "-h" in own or "--help" in own:
        print(f"usage: {prog} [--help] [--version] [--ros-args ...]\n\n{description.strip()}\n{ROS_ARGS_HELP}\n"
              f"Parameters: {parameters}\n\n"
              "options:\n  -h, --help              show this help and exit\n"
              "  --version               print the lingnav version and exit")
        return True
    return False
