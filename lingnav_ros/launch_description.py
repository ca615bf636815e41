"""The node set of a LingNav bring-up, described once.

`launch/bringup.launch.py` turns this description into launch_ros Nodes on a robot, and
`lingnav-bringup` starts the very same processes with plain rclpy where `ros2 launch` is
missing (or LINGNAV_FORCE_FALLBACKS=1). Tests check the description, so both paths start what
the tests saw.

The navigator's YAML (config/mode_*.yaml, then the camera profile) is the source of its
defaults: a launch argument left unset passes nothing, so the YAML value stands. Only the
arguments a user gave become parameter overrides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from lingnav_ros import topics
from lingnav_ros.navigator_params import PARAMS_FILE_KEY, S1_RUNTIMES
from lingnav_ros.paths import config_file

PACKAGE = "lingnav"
MODES = ("A", "B", "geometric")
CAMERA_PROFILES = ("gemini_336l", "astra_s", "d435", "sim")
ROBOT_CAMERA = "gemini_336l"  # the camera profile when neither `camera` nor `sim` says otherwise

# executable (as installed by setup.py into lib/lingnav) -> module whose main() it runs
EXECUTABLE_MODULES = {
    "lingnav-navigator": "lingnav_ros.nodes.navigator_node",
    "lingnav-sim": "lingnav_ros.nodes.sim_node",
}

# launch argument -> navigator parameter it overrides when given
NAVIGATOR_OVERRIDES = {
    "s2_host": "s2_host", "s2_port": "s2_port", "s1_host": "s1_host", "s1_port": "s1_port",
    "s1_checkpoint": "s1_checkpoint", "s1_device": "s1_device", "s1_half": "s1_half",
    "s1_runtime": "s1_runtime", "instruction": "initial_instruction",
    "odom_frame": "odom_frame", "base_frame": "base_frame",
    "s2_token_file": "s2_token_file", "s1_token_file": "s1_token_file",
}


@lru_cache(maxsize=4)
def mode_yaml_defaults(mode: str) -> dict:
    """The navigator's ros__parameters in the YAML file `mode` starts with."""
    return yaml.safe_load(mode_file(mode).read_text())[PARAMS_FILE_KEY]["ros__parameters"]


def mode_file(mode: str) -> Path:
    return config_file("mode_b.yaml" if mode == "B" else "mode_a.yaml")


def _shown(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else repr(value)


def _from_yaml(param: str) -> str:
    a, b = mode_yaml_defaults("A")[param], mode_yaml_defaults("B")[param]
    shown = _shown(a) if a == b else f"{_shown(a)} in modes A/geometric, {_shown(b)} in mode B"
    return f"unset: `{param}` from config/mode_*.yaml ({shown})"


@dataclass(frozen=True)
class ArgumentSpec:
    """One launch argument: its name, kind, the text default `ros2 launch` shows, and why."""

    name: str
    kind: str  # 'str' | 'int' | 'bool' | 'remaps'
    default: str
    description: str
    choices: tuple[str, ...] = ()


def argument_specs() -> tuple[ArgumentSpec, ...]:
    """Every launch argument, shared by bringup.launch.py (--show-args) and lingnav-bringup (--help)."""
    return (
        ArgumentSpec("mode", "str", "A",
                     "A: S1 (NavDP) runs on the GPU server over HTTP; B: NavDP runs on this computer "
                     "(needs s1_checkpoint); geometric: the geometric planner inside the navigator (no S1 "
                     "server, no weights). "
                     "Picks config/mode_a.yaml (A, geometric) or config/mode_b.yaml (B)", MODES),
        ArgumentSpec("s2_host", "str", "", "S2 (VLM) server host; " + _from_yaml("s2_host")),
        ArgumentSpec("s2_port", "int", "", "S2 server port; " + _from_yaml("s2_port")),
        ArgumentSpec("s1_host", "str", "", "S1 server host (mode A); " + _from_yaml("s1_host")),
        ArgumentSpec("s1_port", "int", "", "S1 server port (mode A); " + _from_yaml("s1_port")),
        ArgumentSpec("s1_checkpoint", "str", "",
                     "NavDP checkpoint file for mode B (required there, must exist); "
                     + _from_yaml("s1_checkpoint")),
        ArgumentSpec("s1_device", "str", "", "torch device for NavDP in mode B (cpu, cuda:0); "
                     + _from_yaml("s1_device")),
        ArgumentSpec("s1_half", "bool", "", "NavDP in float16 in mode B (true/false); " + _from_yaml("s1_half")),
        ArgumentSpec("s1_runtime", "str", "",
                     f"NavDP runtime in mode B ({', '.join(S1_RUNTIMES)}; onnxruntime takes a lingnav-s1-export "
                     "directory or exports a .ckpt at start); " + _from_yaml("s1_runtime"), ("", *S1_RUNTIMES)),
        ArgumentSpec("s2_token_file", "str", "",
                     "file whose first line is the S2 bearer token (keeps it off the command line); "
                     "unset: $LINGNAV_S2_TOKEN in the navigator's environment, else no token"),
        ArgumentSpec("s1_token_file", "str", "",
                     "file whose first line is the S1 bearer token (mode A); "
                     "unset: $LINGNAV_S1_TOKEN in the navigator's environment, else no token"),
        ArgumentSpec("instruction", "str", "",
                     "instruction to start with; " + _from_yaml("initial_instruction")
                     + ": wait for one on lingnav/instruction or the lingnav/navigate action"),
        ArgumentSpec("camera", "str", "",
                     f"camera profile in config/cameras ({', '.join(CAMERA_PROFILES)}) or the path of "
                     f"your own profile YAML; unset: sim with sim:=true, else {ROBOT_CAMERA}"),
        ArgumentSpec("odom_frame", "str", "",
                     "odometry frame of the base driver (Wheeltec: odom_combined); " + _from_yaml("odom_frame")),
        ArgumentSpec("base_frame", "str", "",
                     "robot base frame (base_link, base_footprint); " + _from_yaml("base_frame")),
        ArgumentSpec("params_file", "str", "",
                     "your navigator parameter YAML (/**/lingnav_navigator: ros__parameters: ...), "
                     "applied after config/mode_*.yaml and the camera profile (launch arguments you "
                     "give still win); unset: none"),
        ArgumentSpec("use_sim_time", "bool", "",
                     "navigator follows /clock (true/false); unset: true with sim:=true, else false"),
        ArgumentSpec("sim", "bool", "false",
                     "also start the LingNav simulator (publishes camera, odometry, TF and the clock)"),
        ArgumentSpec("world", "str", "",
                     "simulator world YAML with sim:=true; unset: the simulator's config/worlds/demo.yaml"),
        ArgumentSpec("namespace", "str", "",
                     "ROS namespace for every node (robot1 puts all topics, TF and the action under "
                     "/robot1/); unset: none"),
        ArgumentSpec("remaps", "remaps", "",
                     "extra topic remaps for the navigator, from:=to,from2:=to2 "
                     "(e.g. cmd_vel:=/wheeltec/cmd_vel); unset: none"),
        ArgumentSpec("rviz", "bool", "false", "also start RViz with config/lingnav.rviz (true/false)"),
    )


@dataclass(frozen=True)
class BringupArgs:
    """Launch arguments as values; None means "not given": the YAML default stands."""

    mode: str = "A"
    s2_host: str | None = None
    s2_port: int | None = None
    s1_host: str | None = None
    s1_port: int | None = None
    s1_checkpoint: str | None = None
    s1_device: str | None = None
    s1_half: bool | None = None
    s1_runtime: str | None = None
    s2_token_file: str | None = None
    s1_token_file: str | None = None
    instruction: str | None = None
    camera: str | None = None
    odom_frame: str | None = None
    base_frame: str | None = None
    params_file: str | None = None
    use_sim_time: bool | None = None
    sim: bool = False
    world: str | None = None
    namespace: str = ""
    remaps: tuple[tuple[str, str], ...] = ()
    rviz: bool = False

    @classmethod
    def from_strings(cls, values: dict[str, str]) -> BringupArgs:
        """Typed arguments from launch/CLI text; '' is "not given". ValueError names the argument."""
        specs = {s.name: s for s in argument_specs()}
        unknown = set(values) - set(specs)
        if unknown:
            raise ValueError(f"unknown launch argument(s): {sorted(unknown)}")
        typed = {}
        for name, text in values.items():
            spec, text = specs[name], str(text).strip()
            if spec.kind == "remaps":
                typed[name] = parse_remaps(text)
            elif text == "" and spec.default == "":
                typed[name] = None
            elif spec.kind == "bool":
                typed[name] = parse_bool(name, text or spec.default)
            elif spec.kind == "int":
                typed[name] = parse_port(name, text)
            else:
                typed[name] = text or spec.default
        typed["namespace"] = (typed.get("namespace") or "").strip("/")
        return cls(**typed)


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
        src, sep, dst = item.partition(":=")
        if not sep or not src.strip() or not dst.strip():
            raise ValueError(f"remap '{item}' must look like from:=to")
        pairs.append((src.strip(), dst.strip()))
    return tuple(pairs)


def parse_bool(name: str, text: str) -> bool:
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, got '{text}'")


def parse_port(name: str, text) -> int:
    try:
        port = int(str(text).strip())
    except ValueError:
        raise ValueError(f"{name} must be a port number, got '{text}'") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{name} must be in 1..65535, got {port}")
    return port


def camera_profile(args: BringupArgs) -> str:
    """The camera profile: as given, else the simulator's with sim:=true (its pitch and mount)."""
    return args.camera or ("sim" if args.sim else ROBOT_CAMERA)


def camera_file(camera: str) -> Path:
    """A shipped profile by name, or the user's own profile YAML by path; ValueError says which
    names exist when it is neither."""
    if camera in CAMERA_PROFILES:
        return config_file("cameras", f"{camera}.yaml")
    path = Path(camera).expanduser()
    if camera.endswith((".yaml", ".yml")) or "/" in camera:
        if not path.is_file():
            raise ValueError(f"camera profile file '{camera}' is not a file")
        return path.resolve()
    raise ValueError(f"camera must be one of {CAMERA_PROFILES} or a profile YAML path, got '{camera}'")


def _check_files(args: BringupArgs) -> None:
    """Files the user named must exist before any node starts."""
    for name in ("params_file", "s2_token_file", "s1_token_file", "world"):
        value = getattr(args, name)
        if value is not None and not Path(value).expanduser().is_file():
            raise ValueError(f"{name} '{value}' is not a file")
    if args.s1_runtime is not None and args.s1_runtime not in S1_RUNTIMES:
        raise ValueError(f"s1_runtime must be one of {S1_RUNTIMES}, got '{args.s1_runtime}'")


def navigator_overrides(args: BringupArgs) -> dict:
    """The parameters the launch passes on top of the YAML files: only what the user gave."""
    out = {"s1_mode": args.mode}
    for arg, param in NAVIGATOR_OVERRIDES.items():
        value = getattr(args, arg)
        if value is not None:
            out[param] = value
    if args.use_sim_time is not None or args.sim:
        out["use_sim_time"] = bool(args.sim if args.use_sim_time is None else args.use_sim_time)
    return out


def namespace_remaps(args: BringupArgs) -> list[tuple[str, str]]:
    """Under a namespace everything moves: TF (as Nav2 does), diagnostics, and the simulator's
    clock (two namespaced simulations must not share one /clock; a real robot's /clock stays)."""
    if not args.namespace.strip("/"):
        return []
    rules = [(topics.TF, "tf"), (topics.TF_STATIC, "tf_static"), (topics.DIAGNOSTICS, "diagnostics")]
    if args.sim:
        rules.append((topics.CLOCK, "clock"))
    return rules


def describe(args: BringupArgs) -> list[NodeSpec]:
    """The nodes a bring-up starts for `args`. Raises ValueError with the reason on bad input."""
    if args.mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got '{args.mode}'")
    camera = camera_file(camera_profile(args))
    _check_files(args)
    for name in ("s2_port", "s1_port"):
        if getattr(args, name) is not None:
            parse_port(name, getattr(args, name))
    checkpoint = args.s1_checkpoint or mode_yaml_defaults(args.mode).get("s1_checkpoint", "")
    if args.mode == "B":
        if not checkpoint:
            raise ValueError("mode B runs NavDP on this computer: give s1_checkpoint, the NavDP .ckpt file")
        if not Path(checkpoint).is_file():
            raise ValueError(f"mode B: s1_checkpoint '{checkpoint}' is not a file")
    namespace = args.namespace.strip("/")
    ns_remaps = namespace_remaps(args)
    navigator = NodeSpec(
        executable="lingnav-navigator",
        name="lingnav_navigator",
        namespace=namespace,
        parameters=[str(mode_file(args.mode)), str(camera),
                    *([str(Path(args.params_file).expanduser().resolve())] if args.params_file else []),
                    navigator_overrides(args)],
        remappings=[*ns_remaps, *args.remaps],
    )
    nodes = [navigator]
    if args.sim:
        sim_params = {"use_sim_time": False}
        if args.world is not None:
            sim_params["world"] = str(Path(args.world).resolve())
        nodes.insert(0, NodeSpec(executable="lingnav-sim", name="lingnav_sim", namespace=namespace,
                                 parameters=[sim_params], remappings=list(ns_remaps)))
    return nodes


def ros_args(spec: NodeSpec) -> list[str]:
    """The `--ros-args ...` a process needs to become `spec` (what ros2 launch passes)."""
    out = ["--ros-args", "-r", f"__node:={spec.name}"]
    if spec.namespace:
        out += ["-r", f"__ns:=/{spec.namespace.strip('/')}"]
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
