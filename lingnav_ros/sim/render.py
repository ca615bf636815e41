"""Vectorised ray casting of the world into a pinhole RGB-D camera.

Every pixel's ray is intersected with every vertical face (and cylinder) at once in numpy; the
floor is a plane. Depth is z-depth along the optical axis, as RGB-D drivers publish it, and
comes from the same Intrinsics/CameraMount conventions the planner and navigator use.
"""
from __future__ import annotations

import math

import numpy as np

from lingnav_core.camera import CameraMount, Intrinsics, pixel_rays_base
from lingnav_ros.sim.world import FLOOR_RGB, World

_LIGHT = np.array([0.45, 0.75], dtype=np.float32) / np.linalg.norm([0.45, 0.75])
MAX_RANGE_M = 20.0


class Renderer:
    def __init__(self, world: World, intrinsics: Intrinsics, mount: CameraMount):
        self.world = world
        self.intr = intrinsics
        self.mount = mount
        h, w = intrinsics.height, intrinsics.width
        vs, us = np.mgrid[0:h, 0:w]
        # Rays in the base frame with z-depth 1: a hit at parameter t has depth t.
        self.rays_base = pixel_rays_base(us, vs, intrinsics, mount).reshape(-1, 3).astype(np.float32)
        self.segs, self.heights, self.colours = world.segments()
        self.cyls = world.cylinders()
        # segments() lists the walls, then four faces per box, in shape order
        boxes = [s for s in world.shapes if s.kind == "box"]
        self.seg_absorbing = np.array([False] * len(world.walls) + [s.ir_absorbing for s in boxes for _ in range(4)])
        self.cyl_absorbing = np.array([c.ir_absorbing for c in self.cyls], dtype=bool)

    def render(self, x_m: float, y_m: float, theta_rad: float) -> tuple[np.ndarray, np.ndarray]:
        """RGB (H, W, 3) uint8 and depth (H, W) float32 metres for the robot at (x, y, theta)."""
        rgb, depth, _ = self.render_layers(x_m, y_m, theta_rad)
        return rgb, depth

    def render_layers(self, x_m: float, y_m: float, theta_rad: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`render` plus a bool (H, W) mask of pixels on IR-absorbing material (the camera model
        turns their depth into nothing, as a real RGB-D camera reads black surfaces)."""
        h, w = self.intr.height, self.intr.width
        c, s = math.cos(theta_rad), math.sin(theta_rad)
        rb = self.rays_base
        dx = c * rb[:, 0] - s * rb[:, 1]
        dy = s * rb[:, 0] + c * rb[:, 1]
        dz = rb[:, 2]
        ox = x_m + c * self.mount.x_m - s * self.mount.y_m
        oy = y_m + s * self.mount.x_m + c * self.mount.y_m
        oz = self.mount.height_m
        best_t = np.full(dx.shape, np.inf, dtype=np.float32)
        shade = np.zeros(dx.shape, dtype=np.float32)
        colour_idx = np.full(dx.shape, -1, dtype=np.int32)  # -1 floor, >= 0 segment, < -1 cylinder
        # floor
        t_floor = np.where(dz < -1e-6, oz / np.maximum(-dz, 1e-6), np.inf).astype(np.float32)
        best_t = np.minimum(best_t, t_floor)
        # vertical faces
        for i, (x0, y0, x1, y1) in enumerate(self.segs):
            ex, ey = x1 - x0, y1 - y0
            px, py = x0 - ox, y0 - oy
            denom = dx * ey - dy * ex
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (px * ey - py * ex) / denom
                u = (px * dy - py * dx) / denom
            z = oz + t * dz
            hit = (np.abs(denom) > 1e-9) & (t > 1e-4) & (u >= 0.0) & (u <= 1.0) & (z >= 0.0) \
                & (z <= self.heights[i]) & (t < best_t)
            if hit.any():
                # in-place masked writes: most faces cover few pixels, so this beats np.where
                best_t[hit] = t[hit]
                colour_idx[hit] = i
                n = np.array([ey, -ex], dtype=np.float32) / max(math.hypot(ex, ey), 1e-9)
                shade[hit] = 0.55 + 0.45 * abs(float(n @ _LIGHT))
        # cylinders
        for j, cyl in enumerate(self.cyls):
            fx, fy = ox - cyl.x_m, oy - cyl.y_m
            a = dx * dx + dy * dy
            b = 2.0 * (fx * dx + fy * dy)
            cc = fx * fx + fy * fy - cyl.radius_m ** 2
            disc = b * b - 4.0 * a * cc
            with np.errstate(invalid="ignore", divide="ignore"):
                t = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * a)
            z = oz + t * dz
            hit = (disc >= 0.0) & (t > 1e-4) & (z >= 0.0) & (z <= cyl.height_m) & (t < best_t)
            if hit.any():
                best_t = np.where(hit, t, best_t)
                colour_idx = np.where(hit, -2 - j, colour_idx)
                nx, ny = (fx + t * dx) / cyl.radius_m, (fy + t * dy) / cyl.radius_m
                shade = np.where(hit, 0.55 + 0.45 * np.abs(nx * _LIGHT[0] + ny * _LIGHT[1]), shade)
        valid = np.isfinite(best_t) & (best_t < MAX_RANGE_M)
        depth = np.where(valid, best_t, 0.0).astype(np.float32)
        rgb = np.empty((dx.shape[0], 3), dtype=np.float32)
        floor = colour_idx == -1
        # floor darkens with distance a little, so the image has some texture for the eye
        rgb[floor] = np.asarray(FLOOR_RGB, np.float32) * (1.0 - 0.25 * np.clip(depth[floor] / 8.0, 0, 1))[:, None]
        seg_hit = colour_idx >= 0
        if seg_hit.any():
            rgb[seg_hit] = self.colours[colour_idx[seg_hit]] * shade[seg_hit, None]
        for j, cyl in enumerate(self.cyls):
            m = colour_idx == -2 - j
            if m.any():
                rgb[m] = np.asarray(cyl.rgb, np.float32) * shade[m, None]
        rgb[~valid] = 30.0
        absorbing = np.zeros(dx.shape, dtype=bool)
        if self.seg_absorbing.any():
            absorbing |= seg_hit & self.seg_absorbing[np.maximum(colour_idx, 0)]
        if self.cyl_absorbing.any():
            cyl_hit = colour_idx < -1
            absorbing |= cyl_hit & self.cyl_absorbing[np.maximum(-2 - colour_idx, 0)]
        return (rgb.reshape(h, w, 3).clip(0, 255).astype(np.uint8), depth.reshape(h, w),
                absorbing.reshape(h, w))
