"""S2's move tasks as closed-loop motion steps.

A timed open-loop turn is overwritten by the next plan after about 0.3 s, so a search built on
them spins forever; and every arrow counts, ↑/↓ included. Each arrow here becomes a RotateBy or
DriveDistance primitive that ends on odometry, not on a timer.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from lingnav_core.s2_decision import MOVE_STEP_M, TURN_STEP_RAD
from lingnav_ros.control.limits import VelocityLimits
from lingnav_ros.control.primitives import DriveDistance, RotateBy

REVERSE_SYMBOL = "reverse"  # a recovery back-out along the driven trail, not an S2 arrow
ARROWS = {"←": ("rotate", TURN_STEP_RAD), "→": ("rotate", -TURN_STEP_RAD),
          "↑": ("drive", MOVE_STEP_M), "↓": ("drive", -MOVE_STEP_M)}


@dataclass(frozen=True)
class MoveStep:
    kind: str  # 'rotate' | 'drive'
    amount: float  # rad (positive = left) or m (positive = forward)
    symbol: str = ""


def steps_from_tasks(tasks) -> list[MoveStep]:
    """Merge consecutive identical arrows into one step: 6 x ← is one closed-loop 90° turn."""
    steps: list[MoveStep] = []
    for task in tasks:
        symbol = getattr(task, "action", "") or ""
        count = int(getattr(task, "number", 1) or 0)
        if symbol not in ARROWS or count <= 0:
            continue
        kind, unit = ARROWS[symbol]
        if steps and steps[-1].symbol == symbol:
            last = steps.pop()
            steps.append(MoveStep(kind, last.amount + unit * count, symbol))
        else:
            steps.append(MoveStep(kind, unit * count, symbol))
    return steps


def steps_from_arrows(navigation: str) -> list[MoveStep]:
    """The same from an arrow string such as "←←↑"."""

    @dataclass
    class _T:
        action: str
        number: int = 1

    return steps_from_tasks(_T(ch) for ch in navigation if ch in ARROWS)


class Primitive(Protocol):
    def start(self, pose) -> None: ...

    def step(self, pose, last_cmd, dt_s: float): ...


class PrimitiveFactory(Protocol):
    def make(self, step: MoveStep) -> Primitive: ...


class ControlPrimitives:
    """Builds the tracker package's primitives with the navigator's limits and tolerances.

    S2's ↓ obeys the navigator's limits (no reversing unless v_min_mps < 0). The mission's own
    back-out (REVERSE_SYMBOL) may reverse at `reverse_mps`: it only drives back over cells the
    robot has just driven through, which the camera cannot see but the trail memory knows."""

    def __init__(self, limits: VelocityLimits, turn_tolerance_rad: float, move_tolerance_m: float,
                 reverse_mps: float = 0.1) -> None:
        self.limits = limits
        self.turn_tolerance_rad = turn_tolerance_rad
        self.move_tolerance_m = move_tolerance_m
        self.reverse_limits = replace(limits, v_min_mps=min(limits.v_min_mps, -abs(reverse_mps)))

    def make(self, step: MoveStep) -> Primitive:
        if step.kind == "rotate":
            return RotateBy(step.amount, self.limits, self.turn_tolerance_rad)
        limits = self.reverse_limits if step.symbol == REVERSE_SYMBOL and step.amount < 0 else self.limits
        return DriveDistance(step.amount, limits, self.move_tolerance_m)
