"""One description of the navigator's parameters; the YAML files and the node agree with it."""
import pytest
import rclpy
import yaml
from rclpy.context import Context
from rclpy.node import Node

from lingnav_ros import navigator_params as P
from lingnav_ros.paths import config_file

PROFILES = ("gemini_336l", "astra_s", "d435", "sim")


@pytest.mark.parametrize("mode", ["A", "B"])
def test_mode_files_are_generated_from_the_description(mode):
    on_disk = yaml.safe_load(P.mode_yaml_path(mode).read_text())
    assert on_disk == P.mode_yaml(mode), "run python -m lingnav_ros.navigator_params --write-config"
    params = on_disk[P.PARAMS_FILE_KEY]["ros__parameters"]
    assert set(params) == {s.name for s in P.param_specs()}
    assert params["s1_mode"] == mode


@pytest.mark.parametrize("profile", PROFILES)
def test_camera_profiles_only_set_known_parameters_with_the_right_types(profile):
    doc = yaml.safe_load(config_file("cameras", f"{profile}.yaml").read_text())
    params = doc[P.PARAMS_FILE_KEY]["ros__parameters"]
    merged = P.ros_parameters(params)  # raises on unknown names, wrong types or bad values
    for key in ("rgb_topic", "depth_topic", "camera_info_topic", "fx", "fy", "cx", "cy", "image_width",
                "image_height", "camera_height_m", "camera_pitch_rad"):
        assert key in params, f"{profile} lacks {key}"
    assert merged["camera_qos_reliability"] == "best_effort"


def test_known_camera_facts():
    gem = yaml.safe_load(config_file("cameras", "gemini_336l.yaml").read_text())[P.PARAMS_FILE_KEY]["ros__parameters"]
    assert (gem["image_width"], gem["image_height"], gem["fx"], gem["cy"]) == (1280, 720, 607.45, 361.75)
    astra = yaml.safe_load(config_file("cameras", "astra_s.yaml").read_text())[P.PARAMS_FILE_KEY]["ros__parameters"]
    assert (astra["image_width"], astra["fx"], astra["cx"], astra["cy"]) == (640, 570.3, 319.5, 239.5)


def test_validation_rejects_bad_values_with_the_name():
    with pytest.raises(P.ParamError, match="s1_mode"):
        P.from_dict({"s1_mode": "C"})
    with pytest.raises(P.ParamError, match="control_rate_hz"):
        P.from_dict({"control_rate_hz": 0.0})
    with pytest.raises(P.ParamError, match="unknown"):
        P.from_dict({"no_such_param": 1})
    with pytest.raises(P.ParamError, match="s2_port"):
        P.from_dict({"s2_port": "8890"})
    assert P.from_dict({"control_rate_hz": 10}).control_rate_hz == 10.0, "ints are fine for floats"


def test_markdown_table_lists_every_parameter_with_units():
    table = P.markdown_table()
    for spec in P.param_specs():
        assert f"`{spec.name}`" in table
        assert spec.description
    assert P.NavigatorParams().control_rate_hz == 20.0
    assert P.NavigatorParams().camera_qos_reliability == "best_effort"


def test_params_file_key_matches_a_namespaced_node():
    path = str(P.mode_yaml_path("B"))
    context = Context()
    rclpy.init(context=context, args=["--ros-args", "--params-file", path])
    try:
        node = Node(P.NODE_NAME, namespace="robot1", context=context,
                    automatically_declare_parameters_from_overrides=True)
        assert node.get_parameter("s1_mode").value == "B"
        assert node.get_parameter("s1_half").value is True
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


def test_node_declares_every_parameter_with_a_description():
    from rcl_interfaces.msg import ParameterType
    from rclpy.parameter import Parameter

    from lingnav_ros.nodes.navigator_node import NavigatorNode

    context = Context()
    rclpy.init(context=context)
    try:
        node = NavigatorNode(context=context, parameter_overrides=[
            Parameter("s1_mode", value="geometric"), Parameter("control_rate_hz", value=10)])
        names = {s.name for s in P.param_specs()}
        declared = set(node.list_parameters([], 1).names)
        assert names <= declared
        descriptors = node.describe_parameters(sorted(names))
        assert all(d.description for d in descriptors)
        assert node.p.control_rate_hz == 10.0, "an int override of a float parameter is accepted"
        assert node.get_parameter("camera_qos_reliability").type_ == Parameter.Type.STRING
        assert descriptors[0].type in (ParameterType.PARAMETER_NOT_SET, descriptors[0].type)
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


def test_sim_profile_matches_the_simulator_defaults():
    from lingnav_ros.sim.simulator import CameraParams

    params = yaml.safe_load(config_file("cameras", "sim.yaml").read_text())[P.PARAMS_FILE_KEY]["ros__parameters"]
    cam = CameraParams()
    intr, mount = cam.intrinsics(), cam.mount()
    assert (params["image_width"], params["image_height"]) == (intr.width, intr.height)
    assert params["fx"] == pytest.approx(intr.fx, abs=1e-3) and params["fy"] == pytest.approx(intr.fy, abs=1e-3)
    assert (params["cx"], params["cy"]) == pytest.approx((intr.cx, intr.cy))
    assert params["camera_height_m"] == pytest.approx(mount.height_m)
    assert params["camera_pitch_rad"] == pytest.approx(mount.pitch_rad, abs=1e-6)
    assert params["camera_x_m"] == pytest.approx(mount.x_m)
