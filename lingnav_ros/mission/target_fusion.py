"""The target's position fused over frames and views, and when the robot may call it arrived.

One depth reading at S2's pixel is not a position: with a harsh camera (nothing below 0.6 m,
holes, lost frames) a single bad reading put a target 5 m away within the arrival distance and
the robot declared ARRIVED where it started. A standing object stays at one place in odom however
the robot moves, so sightings (S2's pixel lifted with the depth and odometry of its frame) are
kept in odom and fused by consensus: the sighting that most others agree with (within a gate that
grows with range, as depth error does) picks the cluster, and the estimate is that cluster's
median. A reading that contradicts the robot's own motion lands far from the others in odom and
is outvoted. Arrival by distance needs `min_agreeing` sightings behind the estimate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from lingnav_core.angles import wrap
from lingnav_ros.control.types import Pose2D
from lingnav_ros.mission.target import TargetEstimate


@dataclass(frozen=True)
class FusionConfig:
    gate_m: float = 0.35  # sightings this close in odom agree
    gate_per_range: float = 0.08  # ... plus this much per metre of range (depth error grows with it)
    max_sightings: int = 10  # the newest are kept: an old view weighs no more than a new one
    min_agreeing: int = 2  # sightings behind an estimate before it may end the approach


@dataclass(frozen=True)
class Sighting:
    estimate: TargetEstimate
    range_m: float  # robot centre to the point when it was seen


class TargetFusion:
    def __init__(self, config: FusionConfig | None = None) -> None:
        self.config = config or FusionConfig()
        self.sightings: list[Sighting] = []
        self._support = 0
        self._fused: TargetEstimate | None = None

    def clear(self) -> None:
        self.sightings.clear()
        self._support = 0
        self._fused = None

    def add(self, estimate: TargetEstimate, robot: Pose2D) -> TargetEstimate:
        """Take one sighting seen from `robot` (odom); returns the fused estimate. Sightings without
        depth (approximate) only steer until a measured one exists: they are never fused."""
        if estimate.approximate or not np.all(np.isfinite(estimate.point_odom)):
            return self._fused if self._fused is not None else estimate
        rng = math.hypot(estimate.point_odom[0] - robot.x_m, estimate.point_odom[1] - robot.y_m)
        self.sightings.append(Sighting(estimate, rng))
        del self.sightings[:-self.config.max_sightings]
        self._refuse()
        return self._fused

    @property
    def estimate(self) -> TargetEstimate | None:
        return self._fused

    @property
    def support(self) -> int:
        """How many sightings agree with the estimate."""
        return self._support

    @property
    def agreed(self) -> bool:
        return self._fused is not None and self._support >= self.config.min_agreeing

    def _refuse(self) -> None:
        pts = np.array([s.estimate.point_odom for s in self.sightings], dtype=float)
        rng = np.array([s.range_m for s in self.sightings], dtype=float)
        dist = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
        gate = self.config.gate_m + self.config.gate_per_range * np.maximum(rng[:, None], rng[None, :])
        agree = dist <= gate
        counts = agree.sum(axis=1)
        # most support wins; among equals the newest (the view the robot has now)
        best = int(len(counts) - 1 - np.argmax(counts[::-1]))
        members = agree[best]
        point = np.median(pts[members], axis=0)
        newest = self.sightings[int(np.nonzero(members)[0][-1])].estimate
        self._support = int(counts[best])
        self._fused = replace(newest, point_odom=point)


def bearing_error_rad(target: TargetEstimate, pose: Pose2D) -> float:
    """Signed turn (left positive) that makes the robot face the target."""
    dx, dy = target.point_odom[0] - pose.x_m, target.point_odom[1] - pose.y_m
    return wrap(math.atan2(dy, dx) - pose.theta_rad)
