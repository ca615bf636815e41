"""What the camera has seen, for finding things: free floor, obstacles and unknown on a fixed grid
large enough for a flat (32 m x 32 m at 10 cm by default), in odom, centred on where the robot
started.

The rolling 6 m local map stays the safety map: it forgets and scrolls. This one only grows, so
the search knows where it has looked: frontiers (free floor next to unknown) are where to look
next, labelled into regions with scipy.ndimage; cells where a scan was done are marked searched
and never chosen again. Floor readings make cells free and obstacle-band readings make them
obstacles (sticky: a static home); depth holes stay unknown, never free.

A frontier seen through a doorway often lies behind the wall beside it: driving at it in a
straight line meets the wall (S1 plans only in the camera's view). `waypoint_toward` finds the
shortest way there over the grid (scipy's Dijkstra; known floor cheaper than unknown, obstacles
inflated by the robot's clearance, steps near them dearer so the way keeps to a doorway's middle)
and returns its farthest point in plain sight: the doorway. A stalled approach to a target takes
the same way, pulled straight into corners (`corners_toward`), as its recovery's waypoints.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_core.depth_points import depth_to_base_points, in_height_band
from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.planar_transforms import base_to_odom_xy
from lingnav_ros.perception.rgbd_frame import checked_depth

UNKNOWN, FREE, OBSTACLE = 0, 1, 2
UNKNOWN_STEP_COST = 3.0  # a step over unknown floor costs this many steps over floor seen free
ROUTE_MARGIN_CELLS = 10  # the route may leave the known part of the grid by this much
# Steps nearer an obstacle than this cost more, up to (1 + NEAR_OBSTACLE_COST) times at the
# clearance (Nav2's inflation cost, in short): the way runs down a doorway's middle, not at a jamb
# S1 then finds no safe path past.
ROUTE_COMFORT_M = 0.6
NEAR_OBSTACLE_COST = 3.0


@dataclass(frozen=True)
class ExplorationMapConfig:
    size_m: float = 32.0
    resolution_m: float = 0.1
    min_height_m: float = 0.05  # below: floor (as the local map)
    max_height_m: float = 1.5
    max_range_m: float = 4.0  # depth beyond this is too noisy to map
    target_columns: int = 80  # depth decimated to about this many columns
    min_frontier_cells: int = 4  # smaller frontier regions are noise
    frontier_clearance_m: float = 0.45  # frontier cells this close to an obstacle are not goals
    searched_radius_m: float = 1.5  # a scan here has looked at this much around it

    def __post_init__(self) -> None:
        for name in ("size_m", "resolution_m", "max_range_m", "searched_radius_m", "frontier_clearance_m"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0.0):
                raise ValueError(f"exploration map {name} must be finite and > 0, got {v}")
        if self.size_m / self.resolution_m > 4000:
            raise ValueError("exploration map would have more than 4000 x 4000 cells")
        if not 0.0 <= self.min_height_m < self.max_height_m:
            raise ValueError("exploration map needs 0 <= min_height_m < max_height_m")


@dataclass(frozen=True)
class Frontier:
    xy: tuple[float, float]  # odom: the frontier cell nearest its region's centroid
    cells: int  # region size: a doorway or an open side is larger than a crack


@dataclass(frozen=True)
class Waypoint:
    xy: tuple[float, float]  # odom: where to aim now
    way_left_m: float  # length of the whole way to the goal: what progress shortens


class ExplorationMap:
    def __init__(self, config: ExplorationMapConfig | None = None) -> None:
        self.config = config or ExplorationMapConfig()
        self.res = self.config.resolution_m
        self.n = int(round(self.config.size_m / self.res))
        self.origin = -0.5 * self.n * self.res  # odom x/y of the grid's lower-left corner
        self.cells = np.zeros((self.n, self.n), dtype=np.uint8)
        self.searched = np.zeros((self.n, self.n), dtype=bool)
        self._clear_cells = max(1, int(math.ceil(self.config.frontier_clearance_m / self.res)))

    def clear(self) -> None:
        self.cells[:] = UNKNOWN
        self.searched[:] = False

    def cell_of(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        idx = np.floor((np.asarray(xy, dtype=float) - self.origin) / self.res).astype(np.int64)
        inside = (idx[:, 0] >= 0) & (idx[:, 0] < self.n) & (idx[:, 1] >= 0) & (idx[:, 1] < self.n)
        return np.clip(idx[:, 0], 0, self.n - 1), np.clip(idx[:, 1], 0, self.n - 1), inside

    def centre_of(self, ix, iy) -> np.ndarray:
        return np.stack([self.origin + (np.asarray(ix) + 0.5) * self.res,
                         self.origin + (np.asarray(iy) + 0.5) * self.res], axis=-1)

    def update(self, depth_m: np.ndarray, intr: Intrinsics, mount: CameraMount, pose: Pose2D) -> int:
        """Add one depth frame taken from `pose` (odom); -> cells newly known."""
        c = self.config
        d, intr = checked_depth(depth_m, intr, pose, "exploration map")
        stride = max(1, int(round(d.shape[1] / c.target_columns)))
        pts, _ = depth_to_base_points(d, intr, mount, stride=stride, max_depth_m=c.max_range_m)
        before = int(np.count_nonzero(self.cells))
        if pts.shape[0]:
            xy = base_to_odom_xy(pts[:, :2], pose)
            ix, iy, inside = self.cell_of(xy)
            floor = (pts[:, 2] < c.min_height_m) & inside
            obstacle = in_height_band(pts[:, 2], c.min_height_m, c.max_height_m) & inside
            fx, fy = ix[floor], iy[floor]
            keep = self.cells[fx, fy] != OBSTACLE
            self.cells[fx[keep], fy[keep]] = FREE
            self.cells[ix[obstacle], iy[obstacle]] = OBSTACLE
        self.mark_free_disk(pose.x_m, pose.y_m, 0.25)  # the robot stands there
        return int(np.count_nonzero(self.cells)) - before

    def mark_free_disk(self, x_m: float, y_m: float, radius_m: float) -> None:
        ix, iy, inside = self.cell_of(np.array([[x_m, y_m]]))
        if not inside[0]:
            return
        r = int(math.ceil(radius_m / self.res))
        i0, i1 = max(0, ix[0] - r), min(self.n, ix[0] + r + 1)
        j0, j1 = max(0, iy[0] - r), min(self.n, iy[0] + r + 1)
        gx, gy = np.mgrid[i0:i1, j0:j1]
        disk = (gx - ix[0]) ** 2 + (gy - iy[0]) ** 2 <= r * r
        sub = self.cells[i0:i1, j0:j1]
        sub[disk & (sub != OBSTACLE)] = FREE

    def mark_searched(self, x_m: float, y_m: float) -> None:
        """A scan was done here: the frontiers around it count as looked at."""
        ix, iy, inside = self.cell_of(np.array([[x_m, y_m]]))
        if not inside[0]:
            return
        r = int(math.ceil(self.config.searched_radius_m / self.res))
        i0, i1 = max(0, ix[0] - r), min(self.n, ix[0] + r + 1)
        j0, j1 = max(0, iy[0] - r), min(self.n, iy[0] + r + 1)
        gx, gy = np.mgrid[i0:i1, j0:j1]
        self.searched[i0:i1, j0:j1] |= (gx - ix[0]) ** 2 + (gy - iy[0]) ** 2 <= r * r

    def _known_window(self, margin: int, also_i=(), also_j=()) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """Index ranges [i0, i1) and [j0, j1) of the known cells and the cells (`also_i`, `also_j`),
        widened by `margin` cells: a flat is a corner of the grid. None when there is nothing."""
        rows = np.concatenate([np.nonzero(np.any(self.cells != UNKNOWN, axis=1))[0], np.asarray(also_i, int)])
        cols = np.concatenate([np.nonzero(np.any(self.cells != UNKNOWN, axis=0))[0], np.asarray(also_j, int)])
        if rows.size == 0:
            return None
        return ((max(0, int(rows.min()) - margin), min(self.n, int(rows.max()) + margin + 1)),
                (max(0, int(cols.min()) - margin), min(self.n, int(cols.max()) + margin + 1)))

    def waypoint_toward(self, start_xy: tuple[float, float], goal_xy: tuple[float, float], clearance_m: float,
                        max_ahead_m: float = 3.0, min_ahead_m: float = 1.0) -> Waypoint | None:
        """The farthest point of the cheapest way from `start_xy` to `goal_xy` (odom) that lies
        within `max_ahead_m` and in a straight line from the start clear of obstacles (inflated by
        `clearance_m`), the goal itself when it is in plain sight, and the way's length; None when
        no way is known. While the way goes on, the point is at least `min_ahead_m` along it even
        where that is round a corner: S1 answers a goal at the robot's feet with a plan too short
        to move, and the robot stood still until a recovery."""
        way = self._way(start_xy, goal_xy, clearance_m)
        if way is None:
            return None
        best = way.farthest_in_sight(0, max_ahead_m / self.res)
        steps = np.diff(np.asarray(way.cells, dtype=float), axis=0)
        along_m = np.concatenate([[0.0], np.cumsum(np.hypot(steps[:, 0], steps[:, 1]))]) * self.res
        if along_m[best] < min_ahead_m:  # that far along the way, as pure pursuit looks ahead
            best = min(int(np.searchsorted(along_m, min_ahead_m)), len(way.cells) - 1)
        return Waypoint(self._xy(way, best), float(along_m[-1]))

    def corners_toward(self, start_xy: tuple[float, float], goal_xy: tuple[float, float], clearance_m: float,
                       goal_radius_m: float, max_corners: int = 4,
                       max_leg_m: float = 3.0) -> list[tuple[float, float]]:
        """The cheapest way from `start_xy` to an object at `goal_xy` pulled straight: each point
        the farthest in plain sight from the one before (legs at most `max_leg_m`), up to the one
        that sees the goal, which is left out; [] when the goal is in plain sight or no way is
        known. The object's own cells within `goal_radius_m` do not block the way to it."""
        way = self._way(start_xy, goal_xy, clearance_m, goal_radius_m)
        if way is None:
            return []
        corners, k = [], 0
        while len(corners) < max_corners:
            k = way.farthest_in_sight(k, max_leg_m / self.res)
            if k >= len(way.cells) - 1:
                break
            corners.append(self._xy(way, k))
        return corners

    def _way(self, start_xy: tuple[float, float], goal_xy: tuple[float, float], clearance_m: float,
             goal_radius_m: float = 0.0) -> _Way | None:
        ends = np.array([start_xy, goal_xy], dtype=float)
        ix, iy, inside = self.cell_of(ends)
        if not inside.all():
            return None
        (i0, i1), (j0, j1) = self._known_window(ROUTE_MARGIN_CELLS, ix, iy)
        cells = self.cells[i0:i1, j0:j1]
        inflate = max(1, int(math.ceil(clearance_m / self.res)))
        blocked = ndimage.binary_dilation(cells == OBSTACLE, iterations=inflate)
        start, goal = (int(ix[0]) - i0, int(iy[0]) - j0), (int(ix[1]) - i0, int(iy[1]) - j0)
        gi, gj = np.mgrid[0:cells.shape[0], 0:cells.shape[1]]
        blocked &= (gi - start[0]) ** 2 + (gj - start[1]) ** 2 > inflate ** 2  # it stands there already
        goal_cells = goal_radius_m / self.res
        blocked &= (gi - goal[0]) ** 2 + (gj - goal[1]) ** 2 > goal_cells ** 2
        cost = np.where(cells == FREE, 1.0, UNKNOWN_STEP_COST) * _near_obstacle_factor(cells, self.res, clearance_m)
        route = grid_route(~blocked, cost, start, goal)
        return None if route is None else _Way(route, blocked, (i0, j0))

    def _xy(self, way: _Way, k: int) -> tuple[float, float]:
        xy = self.centre_of(way.cells[k][0] + way.offset[0], way.cells[k][1] + way.offset[1])
        return float(xy[0]), float(xy[1])

    def explored_m2(self) -> float:
        return float(np.count_nonzero(self.cells == FREE)) * self.res * self.res

    def frontiers(self) -> list[Frontier]:
        """Free cells next to unknown ones, away from obstacles and not yet searched, as regions.
        Only the known part of the grid (plus a margin) is looked at: a flat is a corner of it."""
        window = self._known_window(3)
        if window is None:
            return []
        (i0, i1), (j0, j1) = window
        cells = self.cells[i0:i1, j0:j1]
        edge = (cells == FREE) & ndimage.binary_dilation(cells == UNKNOWN, border_value=1)
        # a frontier is a place to drive to: keep it clear of obstacles by more than the robot
        edge &= ~ndimage.binary_dilation(cells == OBSTACLE, iterations=self._clear_cells)
        edge &= ~self.searched[i0:i1, j0:j1]
        labels, count = ndimage.label(edge, structure=np.ones((3, 3), dtype=bool))
        out = []
        for k, box in enumerate(ndimage.find_objects(labels), start=1):
            ix, iy = np.nonzero(labels[box] == k)
            if ix.size < self.config.min_frontier_cells:
                continue
            nearest = int(np.argmin((ix - ix.mean()) ** 2 + (iy - iy.mean()) ** 2))
            xy = self.centre_of(ix[nearest] + box[0].start + i0, iy[nearest] + box[1].start + j0)
            out.append(Frontier((float(xy[0]), float(xy[1])), int(ix.size)))
        return out


@dataclass
class _Way:
    """A route over a window of the grid: its cells (window indices), start first, the inflated
    obstacles it was planned around, and the window's corner in grid indices."""
    cells: list[tuple[int, int]]
    blocked: np.ndarray
    offset: tuple[int, int]

    def farthest_in_sight(self, k0: int, max_ahead_cells: float) -> int:
        """Index of the farthest route cell after `k0` within `max_ahead_cells` of it, in a
        straight line from it clear of the obstacles; the next cell when none is."""
        a = self.cells[k0]
        best = min(k0 + 1, len(self.cells) - 1)
        for k in range(k0 + 1, len(self.cells)):
            cell = self.cells[k]
            if (k - k0) > 1.5 * max_ahead_cells or math.hypot(cell[0] - a[0], cell[1] - a[1]) > max_ahead_cells:
                break
            if _line_clear(self.blocked, a, cell):
                best = k
        return best


def _near_obstacle_factor(cells: np.ndarray, res_m: float, clearance_m: float) -> np.ndarray:
    """Per cell, how much dearer a step is for lying near an obstacle: 1 from ROUTE_COMFORT_M
    out, rising to 1 + NEAR_OBSTACLE_COST at `clearance_m` (quadratically, so a doorway's
    middle is clearly cheapest)."""
    obstacle = cells == OBSTACLE
    if not obstacle.any():
        return np.ones(cells.shape)
    dist_m = ndimage.distance_transform_edt(~obstacle) * res_m
    span_m = max(ROUTE_COMFORT_M - clearance_m, res_m)
    near = np.clip((ROUTE_COMFORT_M - dist_m) / span_m, 0.0, 1.0)
    return 1.0 + NEAR_OBSTACLE_COST * near * near


def _line_clear(blocked: np.ndarray, a: tuple[int, int], b: tuple[int, int]) -> bool:
    """No blocked cell on the straight segment between cells `a` and `b`."""
    steps = 2 * max(abs(b[0] - a[0]), abs(b[1] - a[1])) + 1
    i = np.rint(np.linspace(a[0], b[0], steps)).astype(int)
    j = np.rint(np.linspace(a[1], b[1], steps)).astype(int)
    return not blocked[i, j].any()


def grid_route(passable: np.ndarray, cost: np.ndarray, start: tuple[int, int],
               goal: tuple[int, int]) -> list[tuple[int, int]] | None:
    """Cheapest 8-connected route over `passable` cells from `start` to `goal` (cell indices),
    a step costing the mean `cost` of its two cells times its length; None when there is none."""
    n_i, n_j = passable.shape
    index = np.arange(passable.size).reshape(passable.shape)
    rows, cols, weights = [], [], []
    for di, dj in ((1, 0), (0, 1), (1, 1), (1, -1)):
        a = (slice(0, n_i - di), slice(max(0, -dj), n_j - max(0, dj)))
        b = (slice(di, n_i), slice(max(0, dj), n_j - max(0, -dj)))
        both = passable[a] & passable[b]
        rows.append(index[a][both])
        cols.append(index[b][both])
        weights.append(0.5 * (cost[a][both] + cost[b][both]) * math.hypot(di, dj))
    graph = coo_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(passable.size, passable.size)).tocsr()
    s_idx, g_idx = int(index[start]), int(index[goal])
    dist, pred = dijkstra(graph, directed=False, indices=s_idx, return_predecessors=True)
    if not math.isfinite(dist[g_idx]):
        return None
    route, k = [], g_idx
    while k != s_idx:
        route.append(divmod(k, n_j))
        k = int(pred[k])
    route.append(divmod(s_idx, n_j))
    return route[::-1]


def choose_frontier(frontiers: list[Frontier], pose: Pose2D, hint_yaw_rad: float | None = None,
                    resolution_m: float = 0.1, min_distance_m: float = 0.8) -> Frontier | None:
    """The frontier to look at next: wide ones (openings) and near ones first, those toward S2's
    hint (the direction of its last turn or move answer) preferred; None when there is none."""
    best, best_score = None, -math.inf
    for f in frontiers:
        dx, dy = f.xy[0] - pose.x_m, f.xy[1] - pose.y_m
        dist = math.hypot(dx, dy)
        if dist < min_distance_m:
            continue
        width_m = f.cells * resolution_m
        score = 2.0 * math.log1p(width_m) - 0.35 * dist
        if hint_yaw_rad is not None and math.isfinite(hint_yaw_rad):
            score += 1.0 * math.cos(math.atan2(dy, dx) - hint_yaw_rad)
        if score > best_score:
            best, best_score = f, score
    return best
