"""Where the robot has been and where it got stuck, in odom: the mission's dead-end memory.

There is one rolling odom map, shared by the obstacle memory and the dead-end memory, so the two
cannot disagree about where the robot has been. The mission needs only the small `VisitMemory`
interface below. With the navigator's `perception.local_map.LocalMap` (the obstacle grid built
from depth), `LocalMapMemory` keeps the visited cells in that grid and asks it how far the robot
can go in a direction; `TrailMemory` alone (tests, or no local map) keeps visits itself. Either
way the mission keeps what only it knows: the driven trail in order (to back out along it) and
the dead ends it marked.
"""
from __future__ import annotations

import math
import threading
from typing import Protocol

import numpy as np

from lingnav_ros.stamps import seconds_to_ns


class VisitMemory(Protocol):
    def mark_visited(self, x_m: float, y_m: float) -> None: ...

    def visits(self, x_m: float, y_m: float) -> int: ...

    def mark_blocked(self, x_m: float, y_m: float, radius_m: float) -> None: ...

    def is_blocked(self, x_m: float, y_m: float) -> bool: ...

    def point_back_along_trail(self, distance_m: float) -> tuple[float, float] | None: ...

    def free_distance_m(self, x_m: float, y_m: float, heading_rad: float, horizon_m: float) -> float: ...

    def moving_obstacle_ahead(self, x_m: float, y_m: float, heading_rad: float, horizon_m: float,
                              halfwidth_m: float, recent_s: float) -> bool: ...

    def set_time(self, now_s: float) -> None: ...

    def clear(self) -> None: ...


class TrailMemory:
    """Visited and dead-end cells on a sparse odom grid, plus the ordered trail."""

    def __init__(self, cell_m: float = 0.25, trail_step_m: float = 0.1, max_trail_points: int = 5000) -> None:
        if not (math.isfinite(cell_m) and cell_m > 0.0):
            raise ValueError(f"cell_m must be a positive number, got {cell_m}")
        self.cell_m = cell_m
        self.trail_step_m = trail_step_m
        self.max_trail_points = max_trail_points
        self._visits: dict[tuple[int, int], int] = {}
        self._blocked: set[tuple[int, int]] = set()
        self._trail: list[tuple[float, float]] = []

    def clear(self) -> None:
        self._visits.clear()
        self._blocked.clear()
        self._trail.clear()

    def _cell(self, x_m: float, y_m: float) -> tuple[int, int]:
        return int(math.floor(x_m / self.cell_m)), int(math.floor(y_m / self.cell_m))

    def mark_visited(self, x_m: float, y_m: float) -> None:
        if not (math.isfinite(x_m) and math.isfinite(y_m)):
            return
        if self._trail and math.hypot(x_m - self._trail[-1][0], y_m - self._trail[-1][1]) < self.trail_step_m:
            return
        self._trail.append((x_m, y_m))
        del self._trail[:-self.max_trail_points]
        cell = self._cell(x_m, y_m)
        self._visits[cell] = self._visits.get(cell, 0) + 1

    def visits(self, x_m: float, y_m: float) -> int:
        return self._visits.get(self._cell(x_m, y_m), 0)

    def mark_blocked(self, x_m: float, y_m: float, radius_m: float) -> None:
        r = int(math.ceil(radius_m / self.cell_m))
        cx, cy = self._cell(x_m, y_m)
        for i in range(cx - r, cx + r + 1):
            for j in range(cy - r, cy + r + 1):
                if math.hypot((i + 0.5) * self.cell_m - x_m, (j + 0.5) * self.cell_m - y_m) <= radius_m + 1e-9:
                    self._blocked.add((i, j))

    def is_blocked(self, x_m: float, y_m: float) -> bool:
        return self._cell(x_m, y_m) in self._blocked

    def point_back_along_trail(self, distance_m: float) -> tuple[float, float] | None:
        """The trail point `distance_m` of driven path before the latest one (or the oldest)."""
        if not self._trail:
            return None
        walked = 0.0
        for i in range(len(self._trail) - 1, 0, -1):
            a, b = self._trail[i], self._trail[i - 1]
            walked += math.hypot(a[0] - b[0], a[1] - b[1])
            if walked >= distance_m:
                return b
        return self._trail[0]

    @property
    def blocked_cells(self) -> int:
        return len(self._blocked)

    def free_distance_m(self, x_m: float, y_m: float, heading_rad: float, horizon_m: float) -> float:
        """No obstacle memory here: only the local map knows."""
        return math.inf

    def moving_obstacle_ahead(self, x_m: float, y_m: float, heading_rad: float, horizon_m: float,
                              halfwidth_m: float, recent_s: float) -> bool:
        """No obstacle memory here: nothing is known to have moved."""
        return False

    def set_time(self, now_s: float) -> None:
        """Visits here carry no time."""


class LocalMapMemory(TrailMemory):
    """Visits in the shared local map (one grid with the obstacle memory), trail and dead ends kept here.

    Stamps come from the mission's clock (`set_time`). The camera callback updates the map while
    the mission reads it from the control tick and the S1 lane, so every map access here holds
    `lock`, the one the navigator's map memory holds while it fuses depth."""

    def __init__(self, local_map, lock=None, robot_radius_m: float = 0.2, cell_m: float = 0.25) -> None:
        super().__init__(cell_m=cell_m)
        self.local_map = local_map
        self.lock = lock if lock is not None else threading.Lock()
        self.robot_radius_m = robot_radius_m
        self.stamp_ns = 0

    def set_time(self, now_s: float) -> None:
        self.stamp_ns = seconds_to_ns(now_s)

    def mark_visited(self, x_m: float, y_m: float) -> None:
        if not (math.isfinite(x_m) and math.isfinite(y_m)):
            return
        super().mark_visited(x_m, y_m)
        with self.lock:
            self.local_map.mark_visited(x_m, y_m, self.stamp_ns)

    def visits(self, x_m: float, y_m: float) -> int:
        with self.lock:
            return int(self.local_map.visit_count(x_m, y_m))

    def moving_obstacle_ahead(self, x_m: float, y_m: float, heading_rad: float, horizon_m: float,
                              halfwidth_m: float, recent_s: float) -> bool:
        """Something that moved into known-free space stands in the corridor ahead (a person)."""
        from lingnav_ros.control.types import Pose2D

        with self.lock:
            return bool(self.local_map.moving_obstacle_ahead(Pose2D(x_m, y_m, heading_rad), self.stamp_ns,
                                                             horizon_m, halfwidth_m, recent_s))

    def free_distance_m(self, x_m: float, y_m: float, heading_rad: float, horizon_m: float) -> float:
        from lingnav_ros.control.types import Pose2D

        with self.lock:
            return float(self.local_map.free_distance_ahead(Pose2D(x_m, y_m, heading_rad), self.stamp_ns,
                                                            self.robot_radius_m, horizon_m))


def blocked_fraction(memory: VisitMemory, path_xy: np.ndarray) -> float:
    """Share of a path's waypoints (odom x, y) that lie in dead-end cells."""
    if len(path_xy) == 0:
        return 0.0
    return float(np.mean([memory.is_blocked(float(x), float(y)) for x, y in path_xy[:, :2]]))


def visited_along(memory: VisitMemory, x_m: float, y_m: float, heading_rad: float,
                  ranges_m: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0)) -> int:
    """How often the robot has been along a ray (visits + 3 per dead-end cell): low = new ground."""
    total = 0
    for r in ranges_m:
        px, py = x_m + r * math.cos(heading_rad), y_m + r * math.sin(heading_rad)
        total += memory.visits(px, py) + (3 if memory.is_blocked(px, py) else 0)
    return total
