"""The shortest collision-free path in a scenario world, for SPL.

SPL weighs success by shortest / driven path length. The straight line to the target flatters
every run around an obstacle (and through a doorway it is impossible), so the reference here
is an 8-connected A* on the world grid with walls and objects grown by the robot radius, from
the start to any free cell within the success radius of the target's surface.
"""
from __future__ import annotations

import heapq
import math

import cv2
import numpy as np
from scipy import ndimage

from lingnav_ros.sim.robot import RobotParams
from lingnav_ros.sim.world import Shape, World


def occupancy(world: World, resolution_m: float, margin_m: float = 1.0):
    """(obstacle grid [ny, nx] bool, origin xy, target mask) over the world's extent."""
    pts = [(w[0], w[1]) for w in world.walls] + [(w[2], w[3]) for w in world.walls] + \
        [(s.x_m, s.y_m) for s in world.shapes] + [world.start[:2]]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, y0 = min(xs) - margin_m, min(ys) - margin_m
    nx = int(math.ceil((max(xs) + margin_m - x0) / resolution_m))
    ny = int(math.ceil((max(ys) + margin_m - y0) / resolution_m))

    def cell(x, y):
        return int(round((x - x0) / resolution_m)), int(round((y - y0) / resolution_m))

    occ = np.zeros((ny, nx), np.uint8)
    target = np.zeros((ny, nx), np.uint8)
    for wx0, wy0, wx1, wy1 in world.walls:
        cv2.line(occ, cell(wx0, wy0), cell(wx1, wy1), 1, 1)
    for s in world.shapes:
        layer = target if s.label and s.label == world.target_label else None
        if layer is None and (s.motion is not None or s.z_min_m >= RobotParams().height_m):
            continue  # people move out of the way; a top higher than the robot passes over it
        _draw_shape(occ, s, cell, resolution_m)
        if layer is not None:
            _draw_shape(target, s, cell, resolution_m)
    return occ.astype(bool), (x0, y0), target.astype(bool)


def _draw_shape(grid: np.ndarray, s: Shape, cell, resolution_m: float) -> None:
    if s.kind == "box":
        cv2.fillPoly(grid, [np.array([cell(*c) for c in s.corners()], np.int32)], 1)
    else:
        cv2.circle(grid, cell(s.x_m, s.y_m), max(1, int(round(s.radius_m / resolution_m))), 1, -1)


def shortest_path_m(world: World, robot_radius_m: float = 0.2, goal_radius_m: float = 1.0,
                    resolution_m: float = 0.05) -> float:
    """Length of the shortest path from the start to within `goal_radius_m` of the target's
    surface that keeps `robot_radius_m` from everything; inf when there is none (or no target)."""
    occ, (x0, y0), target = occupancy(world, resolution_m)
    if not target.any():
        return math.inf
    clearance = ndimage.distance_transform_edt(~occ) * resolution_m
    free = clearance > robot_radius_m
    to_target = ndimage.distance_transform_edt(~target) * resolution_m
    goal = free & (to_target <= goal_radius_m)
    sx, sy = int(round((world.start[0] - x0) / resolution_m)), int(round((world.start[1] - y0) / resolution_m))
    if not (0 <= sy < occ.shape[0] and 0 <= sx < occ.shape[1]):
        return math.inf
    free[sy, sx] = True  # the start is where the robot stands, whatever the margin says
    return astar(free, goal, (sy, sx)) * resolution_m


def astar(free: np.ndarray, goal: np.ndarray, start: tuple[int, int]) -> float:
    """8-connected A* in cells to a goal region; the heuristic, the straight distance to the
    nearest goal cell, never overestimates."""
    ny, nx = free.shape
    if not goal.any():
        return math.inf
    h = ndimage.distance_transform_edt(~goal)
    steps = [(-1, 0, 1.0), (1, 0, 1.0), (0, -1, 1.0), (0, 1, 1.0),
             (-1, -1, math.sqrt(2)), (-1, 1, math.sqrt(2)), (1, -1, math.sqrt(2)), (1, 1, math.sqrt(2))]
    dist = np.full(free.shape, np.inf)
    dist[start] = 0.0
    heap = [(h[start], 0.0, start)]
    while heap:
        _, d, (y, x) = heapq.heappop(heap)
        if d > dist[y, x]:
            continue
        if goal[y, x]:
            return d
        for dy, dx, cost in steps:
            yy, xx = y + dy, x + dx
            if 0 <= yy < ny and 0 <= xx < nx and free[yy, xx] and d + cost < dist[yy, xx]:
                dist[yy, xx] = d + cost
                heapq.heappush(heap, (d + cost + h[yy, xx], d + cost, (yy, xx)))
    return math.inf
