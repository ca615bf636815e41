"""Which headings a search has really looked at, from odometry.

Counting S2's turn answers is not a scan: with a crate close on each side, S2 answers left,
left, right, right, left... and the robot turns to and fro over the same 60 degrees while the
count says "full turn". Here every heading at which S2 was shown a frame marks the camera's
horizontal field of view around it on a circle of 1-degree bins; the scan is complete when the
circle is covered. S2's arrows still choose the direction, except when the step they ask for
would only look at headings already seen: then the robot turns toward the largest sector not
yet seen, so oscillating answers cannot stall the scan.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from lingnav_core.angles import wrap as wrap_angle

BINS = 360
BIN_RAD = 2.0 * math.pi / BINS
MAX_TURN_RAD = math.pi / 2.0  # one redirected step never turns more than this


def horizontal_fov_rad(intrinsics) -> float:
    """The pinhole camera's horizontal field of view."""
    return 2.0 * math.atan2(0.5 * float(intrinsics.width), float(intrinsics.fx))


class ScanCoverage:
    """Headings seen, as a ring of bins in odom yaw. `fov_fraction` of the field of view counts
    as seen: objects cut by the image border are often missed."""

    def __init__(self, fov_fraction: float = 0.85) -> None:
        if not 0.0 < fov_fraction <= 1.0:
            raise ValueError(f"fov_fraction must be in (0, 1], got {fov_fraction}")
        self.fov_fraction = fov_fraction
        self.seen = np.zeros(BINS, dtype=bool)

    def clear(self) -> None:
        self.seen[:] = False

    def mark(self, yaw_rad: float, hfov_rad: float) -> None:
        """S2 looked along `yaw_rad` (odom) with a camera of horizontal FOV `hfov_rad`."""
        if not (math.isfinite(yaw_rad) and math.isfinite(hfov_rad)) or hfov_rad <= 0.0:
            return
        half = 0.5 * min(hfov_rad * self.fov_fraction, 2.0 * math.pi)
        self.seen[_bins_between(yaw_rad - half, yaw_rad + half)] = True

    @property
    def covered_fraction(self) -> float:
        return float(self.seen.mean())

    @property
    def complete(self) -> bool:
        return bool(self.seen.all())

    def covered_deg(self) -> float:
        return float(self.seen.sum()) * 360.0 / BINS

    def new_rad(self, yaw_rad: float, hfov_rad: float) -> float:
        """How much of a look along `yaw_rad` falls on headings not yet seen."""
        half = 0.5 * hfov_rad * self.fov_fraction
        return float((~self.seen[_bins_between(yaw_rad - half, yaw_rad + half)]).sum()) * BIN_RAD

    def would_see_new(self, yaw_rad: float, hfov_rad: float) -> bool:
        """Would a look along `yaw_rad` be worth it: a quarter of the view new, or all of the
        widest gap left? (A sliver at the edge of the view is not: a scan that chases slivers
        goes round and round.)"""
        gap = self.largest_gap()
        if gap is None:
            return False
        wanted = min(0.25 * hfov_rad * self.fov_fraction, gap[1])
        return self.new_rad(yaw_rad, hfov_rad) >= wanted - 0.5 * BIN_RAD

    def largest_gap(self) -> tuple[float, float] | None:
        """(centre yaw, width) in radians of the widest run of unseen bins, or None when complete."""
        if self.complete:
            return None
        if not self.seen.any():
            return 0.0, 2.0 * math.pi
        # roll so that bin 0 is seen: no run wraps around the end
        shift = int(np.argmax(self.seen))
        ring = np.roll(self.seen, -shift)
        best_start, best_len, start = 0, 0, None
        for i, seen in enumerate(np.append(ring, True)):
            if not seen and start is None:
                start = i
            elif seen and start is not None:
                if i - start > best_len:
                    best_start, best_len = start, i - start
                start = None
        centre_bin = (best_start + 0.5 * best_len + shift) % BINS
        return wrap_angle(centre_bin * BIN_RAD), best_len * BIN_RAD

    def choose_turn(self, yaw_rad: float, suggested_rad: float, hfov_rad: float) -> float:
        """The turn to make from `yaw_rad`: S2's `suggested_rad` if it brings unseen headings
        into view, else a turn toward the widest unseen sector, far enough to look into it."""
        if self.would_see_new(yaw_rad + suggested_rad, hfov_rad):
            return suggested_rad
        gap = self.largest_gap()
        if gap is None:
            return suggested_rad
        centre, width = gap
        offset = wrap_angle(centre - yaw_rad)
        # bring the gap's near edge into the middle of the view, but no further than its centre
        near_edge = abs(offset) - 0.5 * width
        amount = min(max(near_edge + 0.25 * hfov_rad * self.fov_fraction, abs(suggested_rad)), abs(offset),
                     MAX_TURN_RAD)
        amount = max(amount, BIN_RAD)
        return math.copysign(amount, offset if offset != 0.0 else 1.0)


def steer_scan(moves: list, coverage: ScanCoverage, yaw_rad: float, hfov_rad: float) -> list:
    """`moves` (mission MoveSteps) with their first turn steered by `coverage.choose_turn`; a
    step that was redirected is marked in its symbol so logs show it."""
    out = list(moves)
    for i, step in enumerate(out):
        if step.kind != "rotate":
            continue
        amount = coverage.choose_turn(yaw_rad, step.amount, hfov_rad)
        if amount != step.amount:
            out[i] = replace(step, amount=amount, symbol="scan")
        break
    return out


def toward_lost_target(moves: list, bearing_rad: float, hfov_rad: float) -> list:
    """`moves` led by a turn that faces a target just lost out of view, in place of their first.

    S2 sees one frame, so its search arrows are a guess (a model with nothing in view often says
    "turn left"); the bearing to where the target was placed in odom is knowledge. A target that
    slipped out at the right edge is found again by turning right to face it, not by three
    quarters of a scan to the left. A target still within the field of view leaves S2's turn.
    """
    if not math.isfinite(bearing_rad) or abs(bearing_rad) <= 0.5 * hfov_rad:
        return list(moves)
    first_turn = next((i for i, step in enumerate(moves) if step.kind == "rotate"), None)
    if first_turn is None:
        return list(moves)
    rest = [step for i, step in enumerate(moves) if i != first_turn]
    return [replace(moves[first_turn], amount=bearing_rad, symbol="lost"), *rest]


def _bins_between(start_rad: float, end_rad: float) -> np.ndarray:
    """Indices of the bins whose centres lie in [start, end] (going left, may wrap)."""
    first = math.ceil(start_rad / BIN_RAD - 0.5)
    last = math.floor(end_rad / BIN_RAD - 0.5)
    if last < first:
        return np.zeros(0, dtype=int)
    return np.arange(first, last + 1) % BINS
