"""Checks at the door: every number that comes in on a topic is finite and in range before any
part of the navigator uses it, and a rejected message leaves a reason an operator can act on.

A NaN focal length used to travel into S1's request and come back as "S1 unreachable"; NaN
odometry poisoned the pose buffer. Here they stop at the subscription, the robot holds (its
inputs go stale) and the status names the message and its bad value. `SensorFaults` keeps the
first cause: a depth image in an unsupported encoding is reported as that, not as the
"depth stale" it leads to a moment later.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.extrinsics import mount_from_transform
from lingnav_ros.perception.odom_buffer import yaw_from_quaternion

MAX_IMAGE_SIDE_PX = 16384
MAX_ODOM_COORD_M = 1.0e6  # an odometry frame this far from its origin is a driver fault
MAX_SPEED = 100.0  # m/s or rad/s; anything above is a unit or driver fault, not motion
MAX_MOUNT_OFFSET_M = 10.0


class Rejected(ValueError):
    """A message failed its check; str() is the reason shown on the status."""


def _finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise Rejected(f"{name} is {v}")
    return v


def intrinsics_from_camera_info(k, width: int, height: int) -> Intrinsics:
    """Intrinsics from CameraInfo's K (row-major 3x3) and size, or Rejected with the reason."""
    k = list(k)
    if len(k) != 9:
        raise Rejected(f"K has {len(k)} entries, not 9")
    if not (0 < width <= MAX_IMAGE_SIDE_PX and 0 < height <= MAX_IMAGE_SIDE_PX):
        raise Rejected(f"image size {width}x{height} out of range")
    fx, fy, cx, cy = (_finite(n, k[i]) for n, i in (("fx", 0), ("fy", 4), ("cx", 2), ("cy", 5)))
    for name, i in (("K[1]", 1), ("K[3]", 3), ("K[6]", 6), ("K[7]", 7), ("K[8]", 8)):
        _finite(name, k[i])
    if fx <= 0 or fy <= 0:
        raise Rejected(f"focal length must be > 0, got fx={fx:g} fy={fy:g}")
    if not (-width <= cx <= 2 * width and -height <= cy <= 2 * height):
        raise Rejected(f"principal point ({cx:g}, {cy:g}) is far outside the {width}x{height} image")
    return Intrinsics(fx, fy, cx, cy, int(width), int(height))


@dataclass(frozen=True)
class OdomReading:
    pose: Pose2D
    v_mps: float
    w_radps: float


def odom_reading(position, orientation, linear_x: float, angular_z: float) -> OdomReading:
    """Planar pose and speeds from nav_msgs/Odometry fields, or Rejected."""
    x = _finite("position.x", position.x)
    y = _finite("position.y", position.y)
    if abs(x) > MAX_ODOM_COORD_M or abs(y) > MAX_ODOM_COORD_M:
        raise Rejected(f"position ({x:g}, {y:g}) out of range")
    q = [_finite(f"orientation.{n}", getattr(orientation, n)) for n in "xyzw"]
    if math.sqrt(sum(c * c for c in q)) < 1e-6:
        raise Rejected("orientation is a zero quaternion")
    v = _finite("twist.linear.x", linear_x)
    w = _finite("twist.angular.z", angular_z)
    if abs(v) > MAX_SPEED or abs(w) > MAX_SPEED:
        raise Rejected(f"speed ({v:g} m/s, {w:g} rad/s) out of range")
    return OdomReading(Pose2D(x, y, yaw_from_quaternion(*q)), v, w)


def mount_from_msg(translation, rotation) -> CameraMount:
    """CameraMount from a base <- optical geometry_msgs/Transform, or Rejected."""
    t = tuple(_finite(f"translation.{n}", getattr(translation, n)) for n in "xyz")
    q = tuple(_finite(f"rotation.{n}", getattr(rotation, n)) for n in "xyzw")
    if any(abs(c) > MAX_MOUNT_OFFSET_M for c in t):
        raise Rejected(f"translation {t} out of range")
    try:
        return mount_from_transform(t, q)
    except ValueError as err:
        raise Rejected(str(err)) from err


class SensorFaults:
    """Active input faults by source; `first()` is the one that started earliest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, tuple[float, str]] = {}

    def set(self, source: str, reason: str, now_s: float) -> None:
        with self._lock:
            since = self._faults.get(source, (now_s, ""))[0]
            self._faults[source] = (since, reason)

    def clear(self, source: str) -> None:
        with self._lock:
            self._faults.pop(source, None)

    def active(self, source: str) -> bool:
        with self._lock:
            return source in self._faults

    def first(self) -> str:
        with self._lock:
            if not self._faults:
                return ""
            return min(self._faults.values())[1]
