"""The node set of a LingNav bring-up, described once.

`launch/bringup.launch.py` turns this description into launch_ros Nodes on a robot, and
`lingnav-bringup` starts the very same processes with plain rclpy where `ros2 launch` is
missing. Tests check the description, so both paths start what the tests saw.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lingnav_ros.paths import config_file
from s1_server.defaults import DEFAULT_PORT as S1_DEFAULT_PORT
from s2_server.defaults import DEFAULT_PORT as S2_DEFAULT_PORT

PACKAGE = "lingnav"
MODES = ("A", "B", "geometric")
CAMERA_PROFILES = ("gemini_336l", "astra_s", "d435", "sim")

# executable (as installed by setup.py) -> module whose main() it runs
EXECUTABLE_MODULES = {
    "lingnav-navigator": "lingnav_ros.nodes.navigator_node",
    "lingnav-sim": "lingnav_ros.nodes.sim_node",
}


@dataclass(frozen=True)
class BringupArgs:
    """The launch arguments, with the defaults `ros2 launch lingnav bringup.launch.py` shows."""

    mode: str = "A"
    s2_host: str = "127.0.0.1"
    s2_port: int = S2_DEFAULT_PORT
    s1_host: str = "127.0.0.1"
    s1_port: int = S1_DEFAULT_PORT
    s1_checkpoint: str = ""
    s1_device: str = "cuda:0"
    s1_half: bool = False
    instruction: str = ""
    camera: str = "gemini_336l"
    use_sim_time: bool = False
    sim: bool = False
    namespace: str = ""
    remaps: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class NodeSpec:
    executable: str
    name: str
    namespace: str
    parameters: list = field(default_factory=list)  # YAML paths (str) and override dicts
    remappings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def module(self) -> str:
        return EXECUTABLE_MODULES[self.executable]


def parse_remaps(text: str) -> tuple[tuple[str, str], ...]:
    """'from:=to,from2:=to2' -> pairs; the launch argument `remaps` uses this form."""
    pairs = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        if ":=" not in item:
            raise ValueError(f"remap '{item}' must look like from:=to")
        src, dst = item.split(":=", 1)
        pairs.append((src.strip(), dst.strip()))
    return tuple(pairs)


def as_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def describe(args: BringupArgs) -> list[NodeSpec]:
    """The nodes a bring-up starts for `args`. Raises ValueError on an unknown mode/camera."""
    if args.mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got '{args.mode}'")
    if args.camera not in CAMERA_PROFILES:
        raise ValueError(f"camera must be one of {CAMERA_PROFILES}, got '{args.camera}'")
    if args.mode == "B" and not args.s1_checkpoint:
        raise ValueError("mode B runs NavDP on this computer: pass s1_checkpoint:=/path/navdp-*.ckpt")
    mode_file = config_file("mode_b.yaml" if args.mode == "B" else "mode_a.yaml")
    overrides = {
        "s1_mode": args.mode,
        "s2_host": args.s2_host,
        "s2_port": int(args.s2_port),
        "s1_host": args.s1_host,
        "s1_port": int(args.s1_port),
        "s1_checkpoint": args.s1_checkpoint,
        "s1_device": args.s1_device,
        "s1_half": bool(args.s1_half),
        "initial_instruction": args.instruction,
        "use_sim_time": bool(args.use_sim_time or args.sim),
    }
    navigator = NodeSpec(
        executable="lingnav-navigator",
        name="lingnav_navigator",
        namespace=args.namespace,
        parameters=[str(mode_file), str(config_file("cameras", f"{args.camera}.yaml")), overrides],
        remappings=list(args.remaps),
    )
    nodes = [navigator]
    if args.sim:
        nodes.insert(0, NodeSpec(executable="lingnav-sim", name="lingnav_sim", namespace=args.namespace,
                                 parameters=[{"use_sim_time": False}]))
    return nodes


def ros_args(spec: NodeSpec) -> list[str]:
    """The `--ros-args ...` a process needs to become `spec` (what ros2 launch passes)."""
    out = ["--ros-args", "-r", f"__node:={spec.name}"]
    if spec.namespace:
        out += ["-r", f"__ns:={spec.namespace if spec.namespace.startswith('/') else '/' + spec.namespace}"]
    for param in spec.parameters:
        if isinstance(param, dict):
            for key, value in param.items():
                out += ["-p", f"{key}:={_param_literal(value)}"]
        else:
            out += ["--params-file", str(Path(param))]
    for src, dst in spec.remappings:
        out += ["-r", f"{src}:={dst}"]
    return out


def _param_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # quoted so YAML keeps it a string ("" and "1.0" included)
        return "'" + value.replace("'", "''") + "'"
    return str(value)
