"""Time stamps through integer nanoseconds: the one place seconds become a ROS Time and back.

Splitting a float into floored seconds and separately rounded nanoseconds turns
12.99999999995 s into 12 s + 1e9 ns, which the modulo then wraps to 12.0 s: simulated time
jumped back by a second at every such tick. Rounding the whole value to integer nanoseconds
first, then dividing, cannot do that: the result is always the nearest representable stamp.
"""
from __future__ import annotations

import math

NS_PER_S = 1_000_000_000


def seconds_to_ns(t_s: float) -> int:
    """Nearest integer nanoseconds of a finite time in seconds."""
    if not math.isfinite(t_s):
        raise ValueError(f"time must be finite, got {t_s!r}")
    return round(t_s * NS_PER_S)


def ns_to_sec_nanosec(t_ns: int) -> tuple[int, int]:
    """(sec, nanosec) with 0 <= nanosec < 1e9, as builtin_interfaces/Time holds them."""
    return divmod(int(t_ns), NS_PER_S)


def time_msg_from_ns(t_ns: int):
    from builtin_interfaces.msg import Time

    sec, nanosec = ns_to_sec_nanosec(t_ns)
    return Time(sec=sec, nanosec=nanosec)


def time_msg(t_s: float):
    """builtin_interfaces/Time for a time in seconds (rounded to the nearest nanosecond)."""
    return time_msg_from_ns(seconds_to_ns(t_s))


def stamp_to_ns(stamp) -> int:
    """Integer nanoseconds of a builtin_interfaces/Time (or anything with sec and nanosec)."""
    return int(stamp.sec) * NS_PER_S + int(stamp.nanosec)


def stamp_to_s(stamp) -> float:
    return stamp_to_ns(stamp) / NS_PER_S
