"""Checked reading of the numbers in a world YAML.

A world file is outside input: a NaN, a string or a negative size must stop the load with a
reason that names the key, never reach the renderer (where a NaN silently hides a wall) or the
robot (where it makes every contact test false).
"""
from __future__ import annotations

import math


def number(value, key: str, lo: float = -math.inf, hi: float = math.inf, *, lo_open: bool = False) -> float:
    """`value` as a finite float in [lo, hi] (or (lo, hi] with `lo_open`), else ValueError naming `key`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{key} must be finite, got {value!r}")
    if v < lo or v > hi or (lo_open and v == lo):
        left = "(" if lo_open else "["
        raise ValueError(f"{key} must be in {left}{lo:g}, {hi:g}], got {v:g}")
    return v


def numbers(value, key: str, count: int, lo: float = -math.inf, hi: float = math.inf) -> tuple[float, ...]:
    """A list of exactly `count` checked numbers."""
    if not isinstance(value, (list, tuple)) or len(value) != count:
        raise ValueError(f"{key} must be a list of {count} numbers, got {value!r}")
    return tuple(number(v, f"{key}[{i}]", lo, hi) for i, v in enumerate(value))


def flag(value, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, got {value!r}")
    return value
