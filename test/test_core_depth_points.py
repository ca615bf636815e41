"""Depth image to base-frame points, pixel rays to the floor and angle wrapping: the one copy
the robot, the simulator and S1 share."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lingnav_core.angles import unwrap_near, wrap
from lingnav_core.camera import CameraMount, Intrinsics, floor_hits, pixel_rays_base
from lingnav_core.depth_points import depth_to_base_points, in_height_band

# 4 x 3 image, focal length 1 px, principal point at pixel (1, 1): column u is at x = (u - 1) * z.
INTR = Intrinsics(fx=1.0, fy=1.0, cx=1.0, cy=1.0, width=4, height=3)
LEVEL = CameraMount(height_m=0.5, pitch_rad=0.0, x_m=0.1, y_m=0.0)


def test_level_camera_points_in_base_frame():
    depth = np.full((3, 4), 2.0, dtype=np.float32)
    pts, valid = depth_to_base_points(depth, INTR, LEVEL)
    assert valid.shape == (3, 4) and valid.all()
    # optical (x right, y down, z forward) -> base (x forward, y left, z up), plus the mount
    centre = pts[1 * 4 + 1]
    assert centre == pytest.approx([0.1 + 2.0, 0.0, 0.5])
    right_of_centre = pts[1 * 4 + 2]  # u = 2: 2 m to the right
    assert right_of_centre == pytest.approx([2.1, -2.0, 0.5])
    top_left = pts[0]  # u = 0, v = 0: left and up
    assert top_left == pytest.approx([2.1, 2.0, 2.5])


def test_invalid_depth_is_left_out_and_masked():
    depth = np.array([[np.nan, 1.0, 0.0, -1.0],
                      [np.inf, 1.0, 1.0, 1.0],
                      [1.0, 1.0, 1.0, 1.0]], dtype=np.float32)
    pts, valid = depth_to_base_points(depth, INTR, LEVEL)
    assert valid.tolist() == [[False, True, False, False], [False, True, True, True], [True] * 4]
    assert pts.shape == (8, 3)
    assert pts[0] == pytest.approx([1.1, 0.0, 1.5])  # pixel (1, 0) is the first valid one


def test_stride_and_max_depth():
    depth = np.arange(1, 13, dtype=np.float32).reshape(3, 4)
    pts, valid = depth_to_base_points(depth, INTR, LEVEL, stride=2, max_depth_m=9.0)
    # strided grid: pixels (0,0) (2,0) (0,2) (2,2) with depths 1, 3, 9, 11; 11 is beyond 9 m
    assert valid.tolist() == [[True, True], [True, False]]
    assert pts[:, 0] == pytest.approx([0.1 + 1.0, 0.1 + 3.0, 0.1 + 9.0])
    assert pts[2] == pytest.approx([9.1, 9.0, 0.5 - 9.0])  # u = 0, v = 2: left and down
    with pytest.raises(ValueError):
        depth_to_base_points(depth, INTR, LEVEL, stride=0)


def test_pitched_camera_sees_the_floor_at_height_zero():
    pitch = math.atan2(0.5, 1.0)  # the optical axis meets the floor 1 m ahead of the lens
    mount = CameraMount(height_m=0.5, pitch_rad=pitch, x_m=0.0)
    depth = np.full((3, 4), math.hypot(1.0, 0.5), dtype=np.float32)
    pts, _ = depth_to_base_points(depth, INTR, mount)
    assert pts[1 * 4 + 1] == pytest.approx([1.0, 0.0, 0.0], abs=1e-6)


def test_resolution_mismatch_scales_intrinsics():
    depth = np.full((6, 8), 2.0, dtype=np.float32)  # twice the intrinsics' resolution
    pts, valid = depth_to_base_points(depth, INTR, LEVEL)
    assert valid.shape == (6, 8)
    # scaled principal point is (2, 2), focal length 2: pixel (2, 2) is on the axis
    assert pts[2 * 8 + 2] == pytest.approx([2.1, 0.0, 0.5])


def test_empty_when_nothing_valid():
    pts, valid = depth_to_base_points(np.zeros((3, 4), np.float32), INTR, LEVEL)
    assert pts.shape == (0, 3) and not valid.any()


def test_height_band_counts_both_limits():
    z = np.array([0.0, 0.05, 0.5, 1.5, 1.6])
    assert in_height_band(z, 0.05, 1.5).tolist() == [False, True, True, True, False]


def test_wrap_scalar_and_array():
    assert wrap(3 * math.pi) == pytest.approx(math.pi)
    assert wrap(-math.pi) == pytest.approx(math.pi)  # (-pi, pi]: the seam is on one side only
    assert isinstance(wrap(0.5), float)
    out = wrap(np.array([0.0, 2 * math.pi + 0.1, -2 * math.pi - 0.1]))
    assert out == pytest.approx([0.0, 0.1, -0.1])
    assert unwrap_near(-3.1, 3.1) == pytest.approx(-3.1 + 2 * math.pi)


def test_pixel_rays_and_floor_hits():
    pitch = math.atan2(0.5, 1.0)
    mount = CameraMount(height_m=0.5, pitch_rad=pitch, x_m=0.2, y_m=0.1)
    rays = pixel_rays_base(np.array([1.0, 1.0]), np.array([1.0, -100.0]), INTR, mount)
    assert rays.shape == (2, 3)
    hits = floor_hits(rays, mount)
    assert hits[0] == pytest.approx([0.2 + 1.0, 0.1])  # the optical axis: 1 m ahead of the lens
    assert np.isnan(hits[1]).all()  # a ray pointing up never meets the floor
    level = pixel_rays_base(1.0, 1.0, INTR, LEVEL)
    assert level == pytest.approx([1.0, 0.0, 0.0])
    assert np.isnan(floor_hits(level, LEVEL)).all()
