"""The simulator renders what geometry says, and its robot respects limits and contacts."""
import math

import numpy as np
import pytest

from lingnav_core.camera import base_to_pixel
from lingnav_ros.paths import config_file
from lingnav_ros.sim.robot import DiffDriveRobot, RobotParams
from lingnav_ros.sim.simulator import CameraParams, Simulator
from lingnav_ros.sim.world import from_dict, load


def _sim(objects=(), room=(-1.0, -3.0, 2.0, 3.0), pitch=0.0, start=(0.0, 0.0, 0.0), walls=()):
    world = from_dict({"room": list(room), "start": list(start), "objects": list(objects), "walls": list(walls)})
    return Simulator(world, CameraParams(width=320, height=240, height_m=0.35, pitch_rad=pitch, x_m=0.1))


def test_wall_ahead_has_its_known_depth():
    sim = _sim(room=(-1.0, -3.0, 2.1, 3.0))  # wall 2.0 m in front of a camera at x = 0.1
    _, depth = sim.render()
    assert depth[120, 160] == pytest.approx(2.0, abs=0.01)
    # z-depth, not ray length: the same wall 30 degrees off-axis has the same depth
    col = int(round(160 + math.tan(math.radians(30)) * sim.camera.intrinsics().fx))
    assert depth[120, col] == pytest.approx(2.0, abs=0.02)


def test_floor_depth_with_a_pitched_camera():
    pitch = math.radians(20)
    sim = _sim(room=(-1.0, -5.0, 8.0, 5.0), pitch=pitch)
    _, depth = sim.render()
    # the optical axis meets the floor at h / sin(pitch) along the axis
    assert depth[120, 160] == pytest.approx(0.35 / math.sin(pitch), rel=0.01)


def test_known_object_projects_to_its_pixel():
    box = {"label": "red chair", "x": 2.5, "y": 0.8, "size": [0.4, 0.4], "height": 0.8, "color": "red"}
    sim = _sim([box], room=(-1, -3, 6, 3), pitch=math.radians(10))
    rgb, depth = sim.render()
    # the box's front face centre, at mid height
    (u, v), = base_to_pixel(np.array([[2.3, 0.8, 0.4]]), sim.camera.intrinsics(), sim.camera.mount())[0]
    u, v = int(round(u)), int(round(v))
    r, g, b = rgb[v, u].astype(int)
    assert r > 100 and g < 60 and b < 60, rgb[v, u]
    optical_z = depth[v, u]
    assert 1.9 < optical_z < 2.4


@pytest.mark.parametrize("encoding", ["16UC1", "32FC1"])
def test_depth_encodings_carry_the_same_metres(encoding):
    from lingnav_ros.nodes.sim_node import image_msgs
    from lingnav_ros.perception.images import depth_to_metres

    _, depth = _sim(room=(-1.0, -3.0, 2.1, 3.0)).render()
    _, msg = image_msgs(np.zeros(depth.shape + (3,), np.uint8), depth, encoding, None, "cam")
    back = depth_to_metres(msg)
    assert back[120, 160] == pytest.approx(2.0, abs=0.002)


def test_robot_obeys_acceleration_limits_and_latency():
    world = from_dict({"room": [-5, -5, 5, 5]})
    robot = DiffDriveRobot(world, RobotParams(a_max_mps2=1.0, cmd_latency_s=0.1))
    robot.command(0.0, 0.5, 0.0)
    t = 0.0
    for _ in range(4):  # 80 ms: still inside the latency
        t += 0.02
        robot.step(t, 0.02)
    assert robot.v_mps == 0.0
    for _ in range(10):
        t += 0.02
        robot.step(t, 0.02)
        assert robot.v_mps <= 1.0 * (t - 0.1) + 0.021


def test_contacts_are_counted_and_block_motion():
    world = from_dict({"room": [-1, -1, 1.0, 1], "start": [0, 0, 0]})
    robot = DiffDriveRobot(world, RobotParams(cmd_latency_s=0.0, radius_m=0.2))
    robot.command(0.0, 0.5, 0.0)
    t = 0.0
    for _ in range(400):
        t += 0.02
        robot.step(t, 0.02)
    assert robot.contacts == 1
    assert robot.x_m < 0.8 + 1e-6  # never inside the wall
    robot.command(t, 0.0, 1.0)  # turning away is allowed
    for _ in range(100):
        t += 0.02
        robot.step(t, 0.02)
    assert robot.contacts == 1


def test_demo_world_hides_the_target_at_the_start():
    world = load(config_file("worlds", "demo.yaml"))
    sim = Simulator(world)
    rgb, _ = sim.render()
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)
    assert not red.any()
    sim.robot.theta_rad = math.pi
    rgb, _ = sim.render()
    red = (rgb[..., 0] > 100) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)
    assert red.any()
