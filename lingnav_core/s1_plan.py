"""The S1 contract: one `plan()` call turns RGB-D plus a goal into candidate trajectories.

NavDP in-process (mode B), NavDP over HTTP (mode A) and the geometric planner all implement
`Planner`, so the navigator never knows which one it talks to.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Union

import numpy as np

from lingnav_core.camera import CameraMount, Intrinsics

NUM_WAYPOINTS = 24
NUM_CANDIDATES = 16
DEFAULT_STOP_THRESHOLD = -3.0
# Local NavDP runtimes (mode B and the S1 server): torch loads a .ckpt, onnxruntime an export.
S1_RUNTIMES = ("torch", "onnxruntime")


@dataclass(frozen=True)
class PointGoal:
    """Goal in the robot base frame at the image time: x forward, y left, metres."""

    x_m: float
    y_m: float


@dataclass(frozen=True)
class PixelGoal:
    """Goal as an integer pixel (column u, row v) in the RGB image that is planned on."""

    u: int
    v: int


@dataclass(frozen=True)
class ImageGoal:
    """Goal as a picture of the destination (H x W x 3 uint8 RGB)."""

    rgb: np.ndarray


@dataclass(frozen=True)
class PointImageGoal:
    """Point goal plus a picture of the destination (the cross-modal model's mixed goal,
    served as `/navdp_step_ip_mixgoal`): x forward, y left in metres, RGB H x W x 3 uint8."""

    x_m: float
    y_m: float
    rgb: np.ndarray


@dataclass(frozen=True)
class NoGoal:
    """Explore: no goal, the critic alone chooses."""


Goal = Union[PointGoal, PixelGoal, ImageGoal, PointImageGoal, NoGoal]


@dataclass
class S1Plan:
    """Trajectories in the robot base frame at the image time (x forward, y left, yaw).

    `best` is [24, 3]; `candidates` [K, 24, 3]; `values` [K] (higher is better).
    `no_safe_path` means the robot must not move forward: `best` is then the chosen candidate
    for display only and must never be sent to the controller.
    """

    best: np.ndarray
    candidates: np.ndarray
    values: np.ndarray
    no_safe_path: bool
    chosen_index: int
    backend: str
    latency_s: float = 0.0
    info: dict = field(default_factory=dict)


class S1Error(RuntimeError):
    """S1 could not plan (bad input, model failure). The robot stops."""


class S1Unavailable(S1Error):
    """The S1 server is unreachable, timed out or answered 5xx. The robot stops."""


class Planner(Protocol):
    def plan(
        self,
        rgb: np.ndarray,
        depth_m: np.ndarray,
        intrinsics: Intrinsics,
        goal: Goal,
        mount: CameraMount | None = None,
    ) -> S1Plan:
        """RGB [H,W,3] uint8 (RGB order), depth [H,W] float32 metres (NaN/0 = unknown)."""
        ...

    def reset(self) -> None:
        """Forget per-episode state (NavDP's frame memory)."""
        ...
