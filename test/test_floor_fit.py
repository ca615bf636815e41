"""The floor plane fitted in depth gives the camera's real height and pitch (pure, no ROS)."""
import math

import numpy as np
import pytest

from lingnav_core.camera import CameraMount, Intrinsics, pixel_rays_base
from lingnav_ros.perception.floor_fit import check_mount, fit_floor

INTR = Intrinsics.from_fov(320, 240, math.radians(79.0))


def floor_and_wall_depth(mount: CameraMount, wall_x_m: float = 2.5, noise_m: float = 0.004, seed: int = 1):
    """Depth (optical z, metres) of a camera at `mount` over a flat floor with a wall ahead."""
    v, u = np.mgrid[0:INTR.height, 0:INTR.width]
    rays = pixel_rays_base(u, v, INTR, mount)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(rays[..., 2] < -1e-6, mount.height_m / -rays[..., 2], np.inf)
        t_wall = np.where(rays[..., 0] > 1e-6, (wall_x_m - mount.x_m) / rays[..., 0], np.inf)
    depth = np.minimum(t_floor, t_wall)
    depth = depth + np.random.default_rng(seed).normal(0.0, noise_m, depth.shape)
    depth[~np.isfinite(depth) | (depth > 8.0)] = 0.0
    return depth.astype(np.float32)


@pytest.mark.parametrize("height, pitch_deg", [(0.30, 0.0), (0.35, 12.0), (0.45, 20.0), (0.25, 5.0)])
def test_fit_recovers_height_and_pitch_within_tolerance(height, pitch_deg):
    truth = CameraMount(height, math.radians(pitch_deg), 0.1)
    configured = CameraMount(0.30, math.radians(pitch_deg + 8.0))  # the prior may be off by degrees
    fit = fit_floor(floor_and_wall_depth(truth), INTR, configured)
    assert fit is not None
    assert fit.height_m == pytest.approx(height, abs=0.01)
    assert math.degrees(fit.pitch_rad) == pytest.approx(pitch_deg, abs=0.5)
    assert abs(fit.roll_rad) < math.radians(1.0)


def test_no_floor_in_view_is_none_not_a_guess():
    wall_only = np.full((INTR.height, INTR.width), 1.5, dtype=np.float32)  # facing a wall up close
    assert fit_floor(wall_only, INTR, CameraMount(0.3, 0.0)) is None
    assert fit_floor(np.full((240, 320), np.nan, dtype=np.float32), INTR, CameraMount(0.3, 0.0)) is None
    result = check_mount(None, CameraMount(0.3, 0.0), "parameters", 0.03, math.radians(2.0))
    assert not result.ok and "no floor plane found" in result.message


def test_check_names_both_mounts_and_the_lines_to_set():
    truth = CameraMount(0.42, math.radians(15.0))
    configured = CameraMount(0.30, 0.0)
    fit = fit_floor(floor_and_wall_depth(truth), INTR, configured)
    result = check_mount(fit, configured, "parameters", 0.03, math.radians(2.0))
    assert not result.ok
    assert result.message.startswith("camera mount check: floor puts the camera 0.42")
    assert "parameters say 0.300 m, 0.0 deg" in result.message
    assert "set camera_height_m: 0.42" in result.message and "camera_pitch_rad: 0.26" in result.message
    good = check_mount(fit, CameraMount(0.41, math.radians(14.0)), "tf", 0.03, math.radians(2.0))
    assert good.ok and good.message.startswith("camera mount check: ok")
