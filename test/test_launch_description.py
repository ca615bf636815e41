"""The bring-up description, its launch file and the plain-rclpy runner agree."""
import importlib.util
from pathlib import Path

import pytest
import yaml

from lingnav_ros import topics
from lingnav_ros.bringup import args_from_cli, command_for
from lingnav_ros.launch_description import BringupArgs, describe, parse_remaps, ros_args

ROOT = Path(__file__).resolve().parents[1]


def _navigator(specs):
    return next(s for s in specs if s.name == "lingnav_navigator")


@pytest.mark.parametrize("mode", ["A", "geometric"])
def test_mode_a_and_geometric_start_the_navigator_with_the_mode_a_file(mode):
    spec = _navigator(describe(BringupArgs(mode=mode, s1_host="10.0.0.5", s1_port=9000)))
    files = [p for p in spec.parameters if isinstance(p, str)]
    overrides = next(p for p in spec.parameters if isinstance(p, dict))
    assert files[0].endswith("mode_a.yaml") and Path(files[0]).exists()
    assert files[1].endswith("cameras/gemini_336l.yaml") and Path(files[1]).exists()
    assert overrides["s1_mode"] == mode
    assert overrides["s1_host"] == "10.0.0.5" and overrides["s1_port"] == 9000


def test_mode_b_needs_a_checkpoint_and_uses_the_mode_b_file():
    with pytest.raises(ValueError, match="s1_checkpoint"):
        describe(BringupArgs(mode="B"))
    spec = _navigator(describe(BringupArgs(mode="B", s1_checkpoint="/w/navdp-cross-modal.ckpt", s1_half=True)))
    overrides = next(p for p in spec.parameters if isinstance(p, dict))
    assert spec.parameters[0].endswith("mode_b.yaml")
    assert overrides["s1_checkpoint"] == "/w/navdp-cross-modal.ckpt" and overrides["s1_half"] is True


def test_unknown_mode_or_camera_is_rejected():
    with pytest.raises(ValueError):
        describe(BringupArgs(mode="C"))
    with pytest.raises(ValueError):
        describe(BringupArgs(camera="kinect"))


def test_every_override_is_a_declared_navigator_parameter():
    from lingnav_ros.navigator_params import PARAMS_FILE_KEY, param_specs

    declared = {p.name for p in param_specs()} | {"use_sim_time"}
    spec = _navigator(describe(BringupArgs()))
    overrides = next(p for p in spec.parameters if isinstance(p, dict))
    assert set(overrides) <= declared, set(overrides) - declared
    for path in [p for p in spec.parameters if isinstance(p, str)]:
        params = yaml.safe_load(Path(path).read_text())[PARAMS_FILE_KEY]["ros__parameters"]
        assert set(params) <= declared, (path, set(params) - declared)


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


def test_remap_parsing():
    assert parse_remaps("/a:=/b, /c:=/d") == (("/a", "/b"), ("/c", "/d"))
    with pytest.raises(ValueError):
        parse_remaps("/a=/b")


def test_rviz_config_shows_the_navigator_outputs():
    rviz = yaml.safe_load((ROOT / "config" / "lingnav.rviz").read_text())
    shown = {d["Topic"]["Value"] for d in rviz["Visualization Manager"]["Displays"] if "Topic" in d}
    for topic in (topics.PLAN_PATH, topics.CANDIDATE_MARKERS, topics.TARGET_MARKER, topics.DEBUG_IMAGE,
                  topics.ODOM, topics.RGB):
        assert topic in shown
    assert rviz["Visualization Manager"]["Global Options"]["Fixed Frame"] == topics.ODOM_FRAME


@pytest.mark.skipif(importlib.util.find_spec("launch_ros") is None, reason="launch_ros is not installed here")
def test_launch_file_loads_and_starts_the_described_nodes():
    from launch import LaunchContext
    from launch.launch_description_sources import get_launch_description_from_python_launch_file

    ld = get_launch_description_from_python_launch_file(str(ROOT / "launch" / "bringup.launch.py"))
    context = LaunchContext()
    context.launch_configurations.update({"mode": "A", "camera": "astra_s"})
    names = [a.name for a in ld.entities if hasattr(a, "default_value")]
    assert {"mode", "s2_host", "s1_checkpoint", "camera", "use_sim_time", "rviz", "namespace"} <= set(names)
