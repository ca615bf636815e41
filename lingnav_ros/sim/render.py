"""Vectorised ray casting of the world into a pinhole RGB-D camera.

Every pixel's ray is intersected with every vertical face (and cylinder) at once in numpy, each
between its object's bottom and top, and with the horizontal top and bottom of every box and
cylinder (a table top seen from below or above); the floor is a plane. A ray that passes under a
raised object sees what is behind it. Moving objects are drawn where they are at the render time.
Depth is z-depth along the optical axis, as RGB-D drivers publish it, and
comes from the same Intrinsics/CameraMount conventions the planner and navigator use.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lingnav_core.camera import CameraMount, Intrinsics, pixel_rays_base
from lingnav_ros.sim.world import FLOOR_RGB, Shape, World

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
        self._static = None if world.moving() else self._geometry(0.0)

    def _geometry(self, t_s: float):
        """Faces, cylinders and caps of the world at time t, with their IR-absorbing flags."""
        w = self.world
        segs, bottoms, tops, colours = w.segments(t_s)
        shapes = w.shapes_at(t_s)
        boxes = [s for s in shapes if s.kind == "box"]
        cyls = [s for s in shapes if s.kind == "cylinder"]
        # segments() lists the walls, then four faces per box, in shape order
        seg_absorbing = np.array([False] * len(w.walls) + [s.ir_absorbing for s in boxes for _ in range(4)])
        return segs, bottoms, tops, colours, cyls, boxes, seg_absorbing

    def render(self, x_m: float, y_m: float, theta_rad: float, t_s: float = 0.0,
               extra: list[Shape] | tuple = ()) -> tuple[np.ndarray, np.ndarray]:
        """RGB (H, W, 3) uint8 and depth (H, W) float32 metres for the robot at (x, y, theta);
        `extra` cylinders (other robots) are drawn too."""
        rgb, depth, _ = self.render_layers(x_m, y_m, theta_rad, t_s, extra)
        return rgb, depth

    def render_layers(self, x_m: float, y_m: float, theta_rad: float, t_s: float = 0.0,
                      extra: list[Shape] | tuple = ()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`render` plus a bool (H, W) mask of pixels on IR-absorbing material (the camera model
        turns their depth into nothing, as a real RGB-D camera reads black surfaces)."""
        geometry = self._static if self._static is not None else self._geometry(t_s)
        segs, bottoms, tops, colours, cyls, boxes, seg_absorbing = geometry
        cyls = cyls + [e for e in extra if e.kind == "cylinder"]
        h, w = self.intr.height, self.intr.width
        c, s = math.cos(theta_rad), math.sin(theta_rad)
        rb = self.rays_base
        ray = _Rays(dx=c * rb[:, 0] - s * rb[:, 1], dy=s * rb[:, 0] + c * rb[:, 1], dz=rb[:, 2],
                    ox=x_m + c * self.mount.x_m - s * self.mount.y_m,
                    oy=y_m + s * self.mount.x_m + c * self.mount.y_m, oz=self.mount.height_m)
        # colour_idx: -1 floor, >= 0 vertical face, <= -2 solid (-2 - j: cylinder sides, then caps)
        colour_idx = np.full(ray.dx.shape, -1, dtype=np.int32)
        shade = np.zeros(ray.dx.shape, dtype=np.float32)
        best_t = np.where(ray.dz < -1e-6, ray.oz / np.maximum(-ray.dz, 1e-6), np.inf).astype(np.float32)
        _faces(ray, segs, bottoms, tops, best_t, colour_idx, shade)
        solids = _cylinders(ray, cyls, best_t, colour_idx, shade) + _caps(ray, boxes + cyls, len(cyls), best_t,
                                                                          colour_idx, shade)
        valid = np.isfinite(best_t) & (best_t < MAX_RANGE_M)
        depth = np.where(valid, best_t, 0.0).astype(np.float32)
        rgb = np.empty((ray.dx.shape[0], 3), dtype=np.float32)
        floor = colour_idx == -1
        # floor darkens with distance a little, so the image has some texture for the eye
        rgb[floor] = np.asarray(FLOOR_RGB, np.float32) * (1.0 - 0.25 * np.clip(depth[floor] / 8.0, 0, 1))[:, None]
        seg_hit = colour_idx >= 0
        if seg_hit.any():
            rgb[seg_hit] = colours[colour_idx[seg_hit]] * shade[seg_hit, None]
        absorbing = seg_hit & seg_absorbing[np.maximum(colour_idx, 0)] if seg_absorbing.any() \
            else np.zeros(ray.dx.shape, dtype=bool)
        for j, solid in enumerate(solids):
            m = colour_idx == -2 - j
            if m.any():
                rgb[m] = np.asarray(solid.rgb, np.float32) * shade[m, None]
                absorbing[m] = solid.ir_absorbing
        rgb[~valid] = 30.0
        return (rgb.reshape(h, w, 3).clip(0, 255).astype(np.uint8), depth.reshape(h, w),
                absorbing.reshape(h, w))


@dataclass(frozen=True)
class _Rays:
    """Every pixel's ray in the world frame: direction (z-depth 1) and the camera origin."""

    dx: np.ndarray
    dy: np.ndarray
    dz: np.ndarray
    ox: float
    oy: float
    oz: float


def _faces(ray: _Rays, segs, bottoms, tops, best_t, colour_idx, shade) -> None:
    """Vertical faces (walls, box sides), each between its bottom and top."""
    dx, dy, dz = ray.dx, ray.dy, ray.dz
    for i, (x0, y0, x1, y1) in enumerate(segs):
        ex, ey = x1 - x0, y1 - y0
        px, py = x0 - ray.ox, y0 - ray.oy
        denom = dx * ey - dy * ex
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (px * ey - py * ex) / denom
            u = (px * dy - py * dx) / denom
        z = ray.oz + t * dz
        hit = (np.abs(denom) > 1e-9) & (t > 1e-4) & (u >= 0.0) & (u <= 1.0) & (z >= bottoms[i]) \
            & (z <= tops[i]) & (t < best_t)
        if hit.any():
            # in-place masked writes: most faces cover few pixels, so this beats np.where
            best_t[hit] = t[hit]
            colour_idx[hit] = i
            n = np.array([ey, -ex], dtype=np.float32) / max(math.hypot(ex, ey), 1e-9)
            shade[hit] = 0.55 + 0.45 * abs(float(n @ _LIGHT))


def _cylinders(ray: _Rays, cyls: list[Shape], best_t, colour_idx, shade) -> list[Shape]:
    """Cylinder sides between bottom and top; returns the solids in index order."""
    dx, dy, dz = ray.dx, ray.dy, ray.dz
    a = dx * dx + dy * dy
    for j, cyl in enumerate(cyls):
        fx, fy = ray.ox - cyl.x_m, ray.oy - cyl.y_m
        b = 2.0 * (fx * dx + fy * dy)
        cc = fx * fx + fy * fy - cyl.radius_m ** 2
        disc = b * b - 4.0 * a * cc
        with np.errstate(invalid="ignore", divide="ignore"):
            t = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * a)
        z = ray.oz + t * dz
        hit = (disc >= 0.0) & (t > 1e-4) & (z >= cyl.z_min_m) & (z <= cyl.height_m) & (t < best_t)
        if hit.any():
            best_t[hit] = t[hit]
            colour_idx[hit] = -2 - j
            nx, ny = (fx + t[hit] * dx[hit]) / cyl.radius_m, (fy + t[hit] * dy[hit]) / cyl.radius_m
            shade[hit] = 0.55 + 0.45 * np.abs(nx * _LIGHT[0] + ny * _LIGHT[1])
    return list(cyls)


def _caps(ray: _Rays, shapes: list[Shape], first: int, best_t, colour_idx, shade) -> list[Shape]:
    """Horizontal tops (lit) and raised bottoms (shaded) of boxes and cylinders: a thin table
    top seen from above or below. Solid indices continue from `first`."""
    solids = []
    for shape in shapes:
        planes = [(shape.height_m, 0.95)] + ([(shape.z_min_m, 0.6)] if shape.z_min_m > 0.0 else [])
        for z_plane, light in planes:
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (z_plane - ray.oz) / ray.dz
            ok = np.isfinite(t) & (t > 1e-4) & (t < best_t)
            if not ok.any():
                continue
            hx = ray.ox + t * ray.dx - shape.x_m
            hy = ray.oy + t * ray.dy - shape.y_m
            if shape.kind == "cylinder":
                inside = hx * hx + hy * hy <= shape.radius_m ** 2
            else:
                c, s = math.cos(shape.yaw_rad), math.sin(shape.yaw_rad)
                inside = (np.abs(c * hx + s * hy) <= shape.size_x_m / 2) \
                    & (np.abs(-s * hx + c * hy) <= shape.size_y_m / 2)
            hit = ok & inside
            if hit.any():
                best_t[hit] = t[hit]
                colour_idx[hit] = -2 - first - len(solids)
                shade[hit] = light
            solids.append(shape)
    return solids
