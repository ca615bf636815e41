"""Waiting behind someone who walked into the way, without counting it as being stuck.

A person crossing the path or standing in a doorway blocks the robot for seconds. The progress
monitor and the no-safe-path timer would read that as a dead end: recover (back out, step aside)
and, after a few, fail. Here a blocker that *appeared* in space the local map knew as free
(perception/local_map.py) holds those timers while it stays in the corridor ahead, so the robot
stops, waits and drives on when the way clears. The hold is bounded, once per blockage and in
total per episode, so a wrong reading (depth noise on a static edge) delays a recovery but never
prevents one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class BlockerWait:
    max_wait_s: float  # one blockage held at most this long
    max_total_s: float  # all blockages of an episode together
    since_s: float | None = None
    used_s: float = 0.0
    last_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_wait_s", "max_total_s"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0.0):
                raise ValueError(f"blocker wait {name} must be finite and >= 0, got {v}")

    def update(self, blocked: bool, now_s: float) -> bool:
        """True while the timers should hold: blocked by a moving obstacle and within both bounds."""
        if self.last_s is not None and self.since_s is not None:
            self.used_s += max(now_s - self.last_s, 0.0)
        self.last_s = now_s
        if not blocked:
            self.since_s = None
            return False
        if self.since_s is None:
            self.since_s = now_s
        return now_s - self.since_s <= self.max_wait_s and self.used_s < self.max_total_s
