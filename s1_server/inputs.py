"""Every number a client sends to S1, checked at the door: finite, of the right type, in range.

A NaN `stop_threshold` made every plan "safe", an infinite pitch reached the geometry as a 500:
nothing from a request reaches a planner before it passes here. Pure functions; the server turns
`InputError` into a 400 with the reason.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lingnav_core.camera import CameraMount
from lingnav_core.s1_plan import PixelGoal, PointGoal

MAX_BATCH = 64
STOP_THRESHOLD_LIMIT = 1000.0  # critic values are O(1..10); anything beyond is a unit mistake
FOCAL_RANGE_PX = (1.0, 100_000.0)
PRINCIPAL_RANGE_PX = (-100_000.0, 100_000.0)
CAMERA_HEIGHT_RANGE_M = (0.0, 5.0)
CAMERA_PITCH_RANGE_RAD = (-math.pi / 2, math.pi / 2)
CAMERA_X_RANGE_M = (-2.0, 2.0)  # forward offset of the camera from the base origin
POINT_GOAL_LIMIT_M = 1000.0  # NavDP clips to 10 m; farther is no local goal but a unit mistake


class InputError(ValueError):
    """A client sent something S1 cannot use (answered 400 with this reason)."""


@dataclass(frozen=True)
class ResetRequest:
    intrinsic: np.ndarray  # 3x3, finite, positive focal lengths
    stop_threshold: float
    batch_size: int
    mount: CameraMount


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def finite_number(value: object, name: str, low: float, high: float) -> float:
    if not _is_number(value):
        raise InputError(f"{name} must be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise InputError(f"{name} must be finite, got {number}")
    if not low <= number <= high:
        raise InputError(f"{name} = {number:g} is outside [{low:g}, {high:g}]")
    return number


def integer(value: object, name: str, low: int, high: int) -> int:
    if not _is_number(value) or not math.isfinite(float(value)) or float(value) != int(value):
        raise InputError(f"{name} must be an integer, got {value!r}"[:200])
    number = int(value)
    if not low <= number <= high:
        raise InputError(f"{name} = {number} is outside {low}..{high}")
    return number


def intrinsic_matrix(value: object) -> np.ndarray:
    """A 3x3 or 4x4 nested list of finite numbers with plausible fx, fy, cx, cy -> 3x3 floats."""
    if not isinstance(value, list) or len(value) not in (3, 4):
        raise InputError("intrinsic must be a 3x3 or 4x4 list of lists")
    n = len(value)
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, list) or len(row) != n:
            raise InputError(f"intrinsic must be a 3x3 or 4x4 list of lists (row {i} is not {n} long)")
        rows.append([finite_number(x, f"intrinsic[{i}][{j}]", -1e9, 1e9) for j, x in enumerate(row)])
    k = np.asarray(rows, dtype=float)[:3, :3]
    finite_number(k[0, 0], "intrinsic fx", *FOCAL_RANGE_PX)
    finite_number(k[1, 1], "intrinsic fy", *FOCAL_RANGE_PX)
    finite_number(k[0, 2], "intrinsic cx", *PRINCIPAL_RANGE_PX)
    finite_number(k[1, 2], "intrinsic cy", *PRINCIPAL_RANGE_PX)
    return k


def camera_mount(values: dict, default: CameraMount, where: str = "") -> CameraMount:
    """`camera_height_m`, `camera_pitch_rad`, `camera_x_m` from `values` (each optional, else
    `default`'s), finite and in range."""
    return CameraMount(
        height_m=finite_number(values.get("camera_height_m", default.height_m), f"{where}camera_height_m",
                               *CAMERA_HEIGHT_RANGE_M),
        pitch_rad=finite_number(values.get("camera_pitch_rad", default.pitch_rad), f"{where}camera_pitch_rad",
                                *CAMERA_PITCH_RANGE_RAD),
        x_m=finite_number(values.get("camera_x_m", default.x_m), f"{where}camera_x_m", *CAMERA_X_RANGE_M),
        y_m=default.y_m)


def parse_reset(body: object, default_stop_threshold: float, max_batch: int = MAX_BATCH,
                default_mount: CameraMount | None = None) -> ResetRequest:
    """`/navigator_reset` JSON: intrinsic (3x3 or 4x4), stop_threshold, batch_size, optional mount.

    Existing robot clients send no mount: they get the server's (`--camera_height_m` and friends); a
    reset's own mount keys win over it, key by key."""
    if not isinstance(body, dict):
        raise InputError("reset body must be a JSON object with 'intrinsic', 'stop_threshold', 'batch_size'")
    if "intrinsic" not in body:
        raise InputError("reset body needs 'intrinsic' (3x3 or 4x4 camera matrix)")
    k = intrinsic_matrix(body["intrinsic"])
    limit = STOP_THRESHOLD_LIMIT
    threshold = finite_number(body.get("stop_threshold", default_stop_threshold), "stop_threshold", -limit, limit)
    batch = integer(body.get("batch_size", 1), "batch_size", 1, max_batch)
    mount = camera_mount(body, default_mount or CameraMount())
    return ResetRequest(k, threshold, batch, mount)


def parse_env_id(body: object, batch_size: int) -> int:
    if not isinstance(body, dict) or "env_id" not in body:
        raise InputError("reset_env body must be a JSON object with 'env_id'")
    return integer(body["env_id"], "env_id", 0, batch_size - 1)


def goal_xy(data: object, batch: int) -> list[tuple[float, float]]:
    """`goal_data` JSON `{"goal_x": [...], "goal_y": [...]}`, one pair per robot, every value finite."""
    if not isinstance(data, dict) or "goal_x" not in data or "goal_y" not in data:
        raise InputError("goal_data must be a JSON object {'goal_x': [...], 'goal_y': [...]}")
    xs, ys = data["goal_x"], data["goal_y"]
    if batch == 1 and _is_number(xs) and _is_number(ys):
        xs, ys = [xs], [ys]
    if not isinstance(xs, list) or not isinstance(ys, list):
        raise InputError("goal_x and goal_y must be lists, one value per robot")
    if len(xs) != batch or len(ys) != batch:
        raise InputError(f"goal_data needs {batch} goal(s), got {len(xs)} x and {len(ys)} y")
    return [(finite_number(x, f"goal_x[{i}]", -1e9, 1e9), finite_number(y, f"goal_y[{i}]", -1e9, 1e9))
            for i, (x, y) in enumerate(zip(xs, ys))]


def point_goals(pairs: list[tuple[float, float]]) -> list[PointGoal]:
    """Metres, x forward and y left of the robot."""
    limit = POINT_GOAL_LIMIT_M
    return [PointGoal(finite_number(x, f"goal_x[{i}]", -limit, limit), finite_number(y, f"goal_y[{i}]", -limit, limit))
            for i, (x, y) in enumerate(pairs)]


def pixel_goals(pairs: list[tuple[float, float]], width: int, height: int) -> list[PixelGoal]:
    """Pixels (u column, v row) of one robot's frame; rounded, because NavDP indexes a mask with them."""
    goals = []
    for i, (x, y) in enumerate(pairs):
        u, v = int(round(x)), int(round(y))
        if not (0 <= u < width and 0 <= v < height):
            raise InputError(f"pixel goal {i} ({u}, {v}) is outside the {width}x{height} image")
        goals.append(PixelGoal(u, v))
    return goals
