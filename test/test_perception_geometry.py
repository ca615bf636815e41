"""Frame changes for plans and the camera mount read from a TF transform."""
import math

import numpy as np
import pytest

from lingnav_core.camera import CameraMount, optical_to_base_rotation
from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.extrinsics import MountProvider, mount_from_transform
from lingnav_ros.perception.planar_transforms import odom_to_base_path, plan_to_odom


def _quat_from_matrix(r):
    w = math.sqrt(max(0.0, 1.0 + r[0, 0] + r[1, 1] + r[2, 2])) / 2.0
    x = (r[2, 1] - r[1, 2]) / (4 * w)
    y = (r[0, 2] - r[2, 0]) / (4 * w)
    z = (r[1, 0] - r[0, 1]) / (4 * w)
    return (x, y, z, w)


@pytest.mark.parametrize("pitch", [0.0, 0.2, -0.1, 0.5])
def test_mount_from_optical_transform_recovers_pitch_and_position(pitch):
    q = _quat_from_matrix(optical_to_base_rotation(pitch))
    mount = mount_from_transform((0.1, -0.02, 0.45), q)
    assert mount.pitch_rad == pytest.approx(pitch, abs=1e-9)
    assert (mount.x_m, mount.y_m, mount.height_m) == pytest.approx((0.1, -0.02, 0.45))


def test_mount_provider_falls_back_to_parameters_without_tf():
    fallback = CameraMount(0.33, 0.1)
    provider = MountProvider(fallback, node=None)
    assert provider.mount() == fallback and provider.source == "parameters"


def test_plan_to_odom_uses_the_pose_at_image_time():
    plan = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, math.pi / 2]])
    pose = Pose2D(2.0, 3.0, math.pi / 2)
    odom = plan_to_odom(plan, pose)
    np.testing.assert_allclose(odom[1, :2], [2.0, 4.0], atol=1e-12)
    np.testing.assert_allclose(odom[2, :2], [1.0, 4.0], atol=1e-12)
    assert odom[2, 2] == pytest.approx(math.pi, abs=1e-9) or odom[2, 2] == pytest.approx(-math.pi, abs=1e-9)
    np.testing.assert_allclose(odom_to_base_path(odom, pose), plan, atol=1e-9)
