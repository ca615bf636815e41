"""Values exchanged between the tracker and its callers."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pose2D:
    x_m: float
    y_m: float
    theta_rad: float

    def as_array(self) -> np.ndarray:
        return np.array([self.x_m, self.y_m, self.theta_rad])


@dataclass(frozen=True)
class Command:
    v_mps: float
    w_radps: float


ZERO = Command(0.0, 0.0)


@dataclass
class TrackerOutput:
    """One control step. `controller` says which law produced `command`:
    'mpc', 'pure_pursuit' (MPC fallback), 'rotate' (turn in place first) or 'stop'."""

    command: Command
    predicted: np.ndarray  # [K, 3] predicted (x, y, theta) in the path's frame
    controller: str
    status: str
    solve_time_s: float = 0.0
    goal_reached: bool = False
    reason: str = ""
