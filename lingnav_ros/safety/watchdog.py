"""Stale inputs mean zero velocity, with the reason on the status topic.

Robot clients already deployed had a 1 s command watchdog as their only safety layer; here every
input the motion depends on has its own age limit, checked on every control tick against the
node clock.

The check looks ahead (`horizon_s`; the navigator passes two control periods: one to the next
tick, one for executor jitter and delivery): an input that would be over its limit by then
stops the robot now. Checked only at the tick, a 0.5 s limit at 20 Hz stopped the robot
anywhere between 0.5 and 0.55 s after the last message (and later under load); looking ahead,
the zero command reaches the base within the limit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from lingnav_ros.status_reasons import no_input_for, plan_too_old


@dataclass(frozen=True)
class WatchdogConfig:
    odom_timeout_s: float = 0.5
    depth_timeout_s: float = 0.5
    max_plan_age_s: float = 1.0


@dataclass(frozen=True)
class WatchdogVerdict:
    ok: bool
    reason: str = ""


class Watchdog:
    def __init__(self, config: WatchdogConfig) -> None:
        self.config = config

    def check(self, now_s: float, odom_stamp_s: float | None, depth_stamp_s: float | None, *,
              plan_stamp_s: float | None = None, needs_plan: bool = False, needs_depth: bool = True,
              server_error: str = "", horizon_s: float = 0.0) -> WatchdogVerdict:
        """`plan_stamp_s` is the image stamp of the tracked plan; `needs_plan` when tracking one.
        Moves without a plan (turn and drive primitives) need odometry but not a plan.
        `horizon_s`: time until the next check (the control period)."""
        c = self.config
        if server_error:
            return WatchdogVerdict(False, server_error)
        odom_age = _age(now_s, odom_stamp_s)
        if odom_age + horizon_s > c.odom_timeout_s:
            return WatchdogVerdict(False, no_input_for("odometry", odom_age, c.odom_timeout_s, horizon_s))
        if needs_depth:
            depth_age = _age(now_s, depth_stamp_s)
            if depth_age + horizon_s > c.depth_timeout_s:
                return WatchdogVerdict(False, no_input_for("depth", depth_age, c.depth_timeout_s, horizon_s))
        if needs_plan:
            plan_age = _age(now_s, plan_stamp_s)
            if plan_age > c.max_plan_age_s:
                return WatchdogVerdict(False, plan_too_old(plan_age, c.max_plan_age_s))
        return WatchdogVerdict(True)


def _age(now_s: float, stamp_s: float | None) -> float:
    return math.inf if stamp_s is None else max(0.0, now_s - stamp_s)
