"""The bring-up description, its launch file and the plain-rclpy runner agree; the YAML files
stay the source of the navigator's defaults (a launch argument left unset passes nothing)."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
import yaml

from lingnav_ros import topics
from lingnav_ros.bringup import args_from_cli, build_parser, command_for
from lingnav_ros.launch_description import (
    BringupArgs,
    argument_specs,
    describe,
    mode_yaml_defaults,
    parse_remaps,
    ros_args,
)
from lingnav_ros.navigator_params import PARAMS_FILE_KEY, param_specs
from test.real_tools import needs

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILE = ROOT / "launch" / "bringup.launch.py"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """Mode B checks that its checkpoint exists; the description never loads it."""
    path = tmp_path_factory.mktemp("ckpt") / "navdp-cross-modal.ckpt"
    path.write_bytes(b"not read by the description")
    return str(path)


def _navigator(specs):
    return next(s for s in specs if s.name == "lingnav_navigator")


def _files_and_overrides(spec):
    return ([p for p in spec.parameters if isinstance(p, str)],
            next(p for p in spec.parameters if isinstance(p, dict)))


@pytest.mark.parametrize("mode", ["A", "geometric"])
def test_mode_a_and_geometric_start_the_navigator_with_the_mode_a_file(mode):
    spec = _navigator(describe(BringupArgs(mode=mode, s1_host="10.0.0.5", s1_port=9000)))
    files, overrides = _files_and_overrides(spec)
    assert files[0].endswith("mode_a.yaml") and Path(files[0]).exists()
    assert files[1].endswith("cameras/gemini_336l.yaml") and Path(files[1]).exists()
    assert overrides == {"s1_mode": mode, "s1_host": "10.0.0.5", "s1_port": 9000}


def test_unset_arguments_pass_nothing_so_the_yaml_stands():
    _, overrides = _files_and_overrides(_navigator(describe(BringupArgs())))
    assert overrides == {"s1_mode": "A"}
    cli = _files_and_overrides(_navigator(describe(args_from_cli([]))))[1]
    assert cli == {"s1_mode": "A"}, "lingnav-bringup without options passes nothing either"


def test_mode_b_keeps_s1_half_from_its_yaml_unless_given(checkpoint):
    assert mode_yaml_defaults("B")["s1_half"] is True
    spec = _navigator(describe(BringupArgs(mode="B", s1_checkpoint=checkpoint)))
    files, overrides = _files_and_overrides(spec)
    assert files[0].endswith("mode_b.yaml")
    assert "s1_half" not in overrides and "s1_device" not in overrides
    assert overrides["s1_checkpoint"] == checkpoint
    given = _files_and_overrides(_navigator(describe(BringupArgs.from_strings(
        {"mode": "B", "s1_checkpoint": checkpoint, "s1_half": "false", "s1_device": "cpu"}))))[1]
    assert given["s1_half"] is False and given["s1_device"] == "cpu"


def test_mode_b_needs_an_existing_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="s1_checkpoint"):
        describe(BringupArgs(mode="B"))
    with pytest.raises(ValueError, match="is not a file"):
        describe(BringupArgs(mode="B", s1_checkpoint=str(tmp_path / "missing.ckpt")))


def test_s1_device_default_is_the_yaml_value_in_launch_and_parameters():
    spec = next(s for s in argument_specs() if s.name == "s1_device")
    assert spec.default == "", "unset: the launch passes nothing"
    for mode in ("A", "B"):
        assert repr(mode_yaml_defaults(mode)["s1_device"]) in spec.description
    assert build_parser().get_default("s1_device") == ""


def test_sim_selects_the_sim_camera_profile_and_sim_time():
    nav = _navigator(describe(BringupArgs(sim=True)))
    files, overrides = _files_and_overrides(nav)
    assert files[1].endswith("cameras/sim.yaml")
    assert overrides["use_sim_time"] is True
    explicit = _navigator(describe(BringupArgs(sim=True, camera="d435", use_sim_time=False)))
    files, overrides = _files_and_overrides(explicit)
    assert files[1].endswith("cameras/d435.yaml") and overrides["use_sim_time"] is False
    assert "use_sim_time" not in _files_and_overrides(_navigator(describe(BringupArgs())))[1]


def test_namespace_moves_both_nodes_with_tf_and_the_sim_clock():
    specs = describe(BringupArgs(sim=True, namespace="/robot1/", remaps=(("cmd_vel", "/base/cmd_vel"),)))
    assert [(s.name, s.namespace) for s in specs] == [("lingnav_sim", "robot1"), ("lingnav_navigator", "robot1")]
    sim, nav = specs
    ns_rules = [("/tf", "tf"), ("/tf_static", "tf_static"), ("/diagnostics", "diagnostics"), ("/clock", "clock")]
    assert sim.remappings == ns_rules
    assert nav.remappings == [*ns_rules, ("cmd_vel", "/base/cmd_vel")]
    assert describe(BringupArgs(sim=True))[1].remappings == [], "no namespace: nothing to move"
    assert ("/clock", "clock") not in describe(BringupArgs(namespace="robot1"))[0].remappings, \
        "a robot without the simulator keeps the global /clock"


@pytest.mark.parametrize("values, message", [
    ({"s2_port": "http"}, "s2_port must be a port"),
    ({"s1_port": "70000"}, "1..65535"),
    ({"s1_half": "maybe"}, "s1_half must be true or false"),
    ({"remaps": "/a=/b"}, "from:=to"),
    ({"colour": "red"}, "unknown launch argument"),
])
def test_bad_arguments_are_rejected_with_their_name(values, message):
    with pytest.raises(ValueError, match=message):
        BringupArgs.from_strings(values)


def test_unknown_mode_camera_or_world_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        describe(BringupArgs(mode="C"))
    with pytest.raises(ValueError, match="camera"):
        describe(BringupArgs(camera="kinect"))
    with pytest.raises(ValueError, match="world"):
        describe(BringupArgs(sim=True, world=str(tmp_path / "none.yaml")))


def test_every_override_and_yaml_key_is_a_declared_navigator_parameter(checkpoint):
    declared = {p.name for p in param_specs()} | {"use_sim_time"}
    everything = BringupArgs(mode="B", s2_host="h", s2_port=1, s1_host="h", s1_port=2, s1_checkpoint=checkpoint,
                             s1_device="cpu", s1_half=False, instruction="go", use_sim_time=True, sim=True)
    spec = _navigator(describe(everything))
    files, overrides = _files_and_overrides(spec)
    assert set(overrides) <= declared, set(overrides) - declared
    for path in files:
        params = yaml.safe_load(Path(path).read_text())[PARAMS_FILE_KEY]["ros__parameters"]
        assert set(params) <= declared, (path, set(params) - declared)


def test_every_argument_has_a_real_description():
    specs = argument_specs()
    assert len({s.name for s in specs}) == len(specs)
    for spec in specs:
        assert len(spec.description) >= 30 and spec.description != spec.name, spec
    assert {s.name for s in specs} == {f.name for f in fields(BringupArgs)}, "one launch argument per field"


def test_real_robot_guide_lists_every_argument_with_its_default():
    guide = (ROOT / "docs" / "real_robot.md").read_text()
    for spec in argument_specs():
        default = f"`{spec.default}`" if spec.default else "(unset)"
        assert f"| `{spec.name}` | {default} | {spec.description.replace('|', '/')} |" in guide, spec.name


@pytest.fixture
def robot_files(tmp_path):
    """A user's robot YAML, own camera profile and token files, as a robot owner would write them."""
    robot = tmp_path / "robot.yaml"
    robot.write_text(f"{PARAMS_FILE_KEY}:\n  ros__parameters:\n    v_max_mps: 0.15\n    camera_height_m: 0.42\n")
    camera = tmp_path / "my_d435.yaml"
    camera.write_text(f"{PARAMS_FILE_KEY}:\n  ros__parameters:\n    fx: 611.0\n    camera_height_m: 0.5\n"
                      "    depth_topic: camera/camera/aligned_depth_to_color/image_raw\n")
    token = tmp_path / "s1.token"
    token.write_text("s1-secret\n")
    return {"robot": str(robot), "camera": str(camera), "token": str(token)}


def test_robot_arguments_reach_the_navigator_and_the_user_yaml_comes_last(robot_files):
    args = BringupArgs.from_strings({"params_file": robot_files["robot"], "camera": robot_files["camera"],
                                     "odom_frame": "odom_combined", "base_frame": "base_footprint",
                                     "s1_runtime": "onnxruntime", "s1_token_file": robot_files["token"]})
    files, overrides = _files_and_overrides(_navigator(describe(args)))
    assert files[0].endswith("mode_a.yaml")
    assert files[1:] == [robot_files["camera"], robot_files["robot"]], "camera profile, then the user's file"
    assert overrides == {"s1_mode": "A", "odom_frame": "odom_combined", "base_frame": "base_footprint",
                         "s1_runtime": "onnxruntime", "s1_token_file": robot_files["token"]}
    assert "s1-secret" not in " ".join(ros_args(_navigator(describe(args)))), "the token stays in its file"


@pytest.mark.parametrize("values, message", [
    ({"params_file": "/no/such/robot.yaml"}, "params_file '/no/such/robot.yaml' is not a file"),
    ({"camera": "/no/such/camera.yaml"}, "camera profile file"),
    ({"camera": "kinect"}, "or a profile YAML path"),
    ({"s2_token_file": "/no/such/token"}, "s2_token_file"),
    ({"s1_runtime": "tensorrt"}, "s1_runtime must be one of"),
])
def test_robot_arguments_that_name_nothing_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        describe(BringupArgs.from_strings(values))


def test_camera_profile_names_still_work():
    files, _ = _files_and_overrides(_navigator(describe(BringupArgs.from_strings({"camera": "astra_s"}))))
    assert files[1].endswith("cameras/astra_s.yaml")


def test_runner_builds_the_ros_args_a_launch_would_pass():
    args = args_from_cli(["--mode", "A", "--namespace", "robot1", "--sim", "true",
                          "--remaps", f"{topics.CMD_VEL}:=/wheeltec/cmd_vel"])
    specs = describe(args)
    assert [s.name for s in specs] == ["lingnav_sim", "lingnav_navigator"]
    nav = _navigator(specs)
    cmd = command_for(nav)
    assert cmd[1:3] == ["-m", "lingnav_ros.nodes.navigator_node"]
    ra = ros_args(nav)
    assert ["-r", "__node:=lingnav_navigator"] == ra[1:3]
    assert "__ns:=/robot1" in ra
    assert f"{topics.CMD_VEL}:=/wheeltec/cmd_vel" in ra
    assert "s1_mode:='A'" in ra and "use_sim_time:=true" in ra
    assert not any(a.startswith(("s2_host", "s1_half", "s1_device")) for a in ra)


def test_remap_parsing():
    assert parse_remaps("/a:=/b, /c:=/d") == (("/a", "/b"), ("/c", "/d"))
    with pytest.raises(ValueError):
        parse_remaps("/a=/b")


def test_rviz_config_shows_the_navigator_outputs():
    rviz = yaml.safe_load((ROOT / "config" / "lingnav.rviz").read_text())
    shown = {d["Topic"]["Value"]: d["Class"].split("/")[-1] for d in rviz["Visualization Manager"]["Displays"]
             if "Topic" in d}
    expected = {topics.PLAN_PATH: "Path", topics.CANDIDATE_MARKERS: "MarkerArray", topics.TARGET_MARKER: "Marker",
                topics.DEBUG_IMAGE: "Image", topics.ODOM: "Odometry", topics.RGB: "Image",
                topics.LOCAL_MAP: "Map", topics.STATUS_MARKER: "Marker"}
    for topic, display in expected.items():
        assert shown.get(topic) == display, (topic, shown.get(topic))
    assert rviz["Visualization Manager"]["Global Options"]["Fixed Frame"] == topics.ODOM_FRAME


# --- the real launch file, evaluated by the real launch / launch_ros --------------------------

@dataclass
class Launched:
    """What launch_ros would start for one Node action."""

    package: str
    executable_path: str
    namespace: str
    parameters: dict  # the effective values: files in order, later ones win
    remappings: list


def _run_opaque_function(**given: str) -> dict[str, Launched]:
    """Declare the arguments, run the launch file's OpaqueFunction as `ros2 launch` would, and
    expand each resulting Node the way Node.execute does before it starts the process."""
    from launch import LaunchContext
    from launch.actions import DeclareLaunchArgument, OpaqueFunction
    from launch.launch_description_sources import get_launch_description_from_python_launch_file
    from launch.utilities import perform_substitutions
    from launch_ros.actions import Node

    ld = get_launch_description_from_python_launch_file(str(LAUNCH_FILE))
    context = LaunchContext()
    context.launch_configurations.update(given)
    for entity in ld.entities:
        if isinstance(entity, DeclareLaunchArgument):
            entity.execute(context)  # applies the default where the argument was not given
    opaque = [e for e in ld.entities if isinstance(e, OpaqueFunction)]
    assert len(opaque) == 1
    out = {}
    for node in opaque[0].execute(context):
        assert isinstance(node, Node)
        node._perform_substitutions(context)  # noqa: SLF001 - the expansion Node.execute runs first
        params = {}
        # (path, is_file) in command-line order; dict parameters became temporary YAML files
        for path, is_file in node._Node__expanded_parameter_arguments:  # noqa: SLF001
            assert is_file, path
            for key, body in yaml.safe_load(Path(path).read_text()).items():
                if key == "/**/lingnav_sim" and node.node_name.rsplit("/", 1)[-1] != "lingnav_sim":
                    continue  # a camera profile's sim figures: rcl gives this section to the sim only
                assert key in (PARAMS_FILE_KEY, node.node_name, "/**"), key
                params.update(body["ros__parameters"])
            if Path(path).name.startswith("launch_params_"):
                os.unlink(path)
        assert node.node_name not in out, f"duplicate node {node.node_name}"
        out[node.node_name] = Launched(node.node_package, perform_substitutions(context, node.cmd[0]),
                                       node.expanded_node_namespace, params,
                                       list(node.expanded_remapping_rules or []))
    return out


@needs("launch", "launch_ros")
def test_launch_file_mode_a_sim_namespaced():
    launched = _run_opaque_function(mode="A", sim="true", namespace="robot1", s2_host="10.1.1.1",
                                    remaps="cmd_vel:=/base/cmd_vel")
    assert set(launched) == {"/robot1/lingnav_sim", "/robot1/lingnav_navigator"}
    nav, sim = launched["/robot1/lingnav_navigator"], launched["/robot1/lingnav_sim"]
    for node, exe in ((nav, "lingnav-navigator"), (sim, "lingnav-sim")):
        assert node.package == "lingnav" and node.namespace == "/robot1"
        assert node.executable_path.endswith(f"lib/lingnav/{exe}") and os.access(node.executable_path, os.X_OK)
    yaml_a = mode_yaml_defaults("A")
    p = nav.parameters
    assert p["s1_mode"] == "A" and p["s2_host"] == "10.1.1.1", "the argument given overrides"
    assert p["s1_port"] == yaml_a["s1_port"] and p["s1_device"] == yaml_a["s1_device"], "unset: the YAML's"
    assert p["camera_pitch_rad"] == pytest.approx(0.20944), "sim:=true selects the sim camera profile"
    assert p["use_sim_time"] is True and sim.parameters == {"use_sim_time": False}
    ns_rules = [("/tf", "tf"), ("/tf_static", "tf_static"), ("/diagnostics", "diagnostics"), ("/clock", "clock")]
    assert nav.remappings == [*ns_rules, ("cmd_vel", "/base/cmd_vel")]
    assert sim.remappings == ns_rules


@needs("launch", "launch_ros")
def test_launch_file_mode_b_keeps_the_yaml_s1_half(checkpoint):
    launched = _run_opaque_function(mode="B", s1_checkpoint=checkpoint, s1_device="cpu")
    assert set(launched) == {"/lingnav_navigator"}
    nav = launched["/lingnav_navigator"]
    assert nav.parameters["s1_mode"] == "B" and nav.parameters["s1_half"] is True
    assert nav.parameters["s1_device"] == "cpu" and nav.parameters["s1_checkpoint"] == checkpoint
    assert nav.parameters["fx"] == pytest.approx(yaml.safe_load(
        (ROOT / "config" / "cameras" / "gemini_336l.yaml").read_text())[PARAMS_FILE_KEY]["ros__parameters"]["fx"])
    assert "use_sim_time" not in nav.parameters and nav.remappings == [] and nav.namespace == "/"


@needs("launch", "launch_ros")
def test_launch_file_geometric_with_sim_and_instruction():
    launched = _run_opaque_function(mode="geometric", sim="true", instruction="go to the red chair")
    assert set(launched) == {"/lingnav_sim", "/lingnav_navigator"}
    nav = launched["/lingnav_navigator"].parameters
    assert nav["s1_mode"] == "geometric" and nav["initial_instruction"] == "go to the red chair"
    assert nav["s1_half"] is False and nav["image_width"] == 320


@needs("launch", "launch_ros")
def test_launch_file_applies_the_user_yaml_after_the_camera_profile(robot_files):
    launched = _run_opaque_function(mode="A", camera=robot_files["camera"], params_file=robot_files["robot"],
                                    odom_frame="odom_combined", s2_token_file=robot_files["token"])
    nav = launched["/lingnav_navigator"].parameters
    assert nav["fx"] == pytest.approx(611.0), "the camera YAML given by path"
    assert nav["camera_height_m"] == pytest.approx(0.42), "params_file wins over the camera profile"
    assert nav["v_max_mps"] == pytest.approx(0.15) and nav["odom_frame"] == "odom_combined"
    assert nav["s2_token_file"] == robot_files["token"]
    assert nav["w_max_radps"] == mode_yaml_defaults("A")["w_max_radps"], "what nobody set: the mode YAML"


@needs("launch", "launch_ros")
def test_launch_file_rejects_a_bad_argument_with_its_reason():
    with pytest.raises(ValueError, match="s1_checkpoint"):
        _run_opaque_function(mode="B")
    with pytest.raises(ValueError, match="s2_port"):
        _run_opaque_function(s2_port="eighty")
