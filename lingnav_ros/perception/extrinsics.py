"""Where the camera sits on the robot: from TF when tf2_ros exists, else from parameters.

S1's geometry (floor removal, target lifting) depends on the camera height and pitch, which
users of deployed robots asked to configure. A TF tree from the robot description is the truth when it is
there; the parameter `CameraMount` is the fallback, and a TF answer that is unusable never
replaces it with garbage.
"""
from __future__ import annotations

import math

import numpy as np

from lingnav_core.camera import CameraMount

try:  # pragma: no cover - robot only
    import tf2_ros as _tf2_ros
except ImportError:
    _tf2_ros = None


def tf2_available() -> bool:
    return _tf2_ros is not None


def quaternion_to_matrix(x: float, y: float, z: float, w: float) -> np.ndarray:
    n = math.sqrt(x * x + y * y + z * z + w * w)
    if n < 1e-9:
        raise ValueError("zero quaternion")
    x, y, z, w = x / n, y / n, z / n, w / n
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def mount_from_transform(translation: tuple[float, float, float],
                         rotation_xyzw: tuple[float, float, float, float]) -> CameraMount:
    """CameraMount from the base <- camera-optical transform (translation and rotation).

    The optical z axis is the viewing direction; its elevation in the base frame gives the pitch.
    Roll and yaw of the mount are assumed zero, as the shared camera model does.
    """
    rot = quaternion_to_matrix(*rotation_xyzw)
    forward = rot[:, 2]
    pitch = math.atan2(-forward[2], math.hypot(forward[0], forward[1]))
    tx, ty, tz = (float(v) for v in translation)
    return CameraMount(height_m=tz, pitch_rad=pitch, x_m=tx, y_m=ty)


class MountProvider:
    """Answers the current camera mount: TF lookups when available, the fallback otherwise."""

    def __init__(self, fallback: CameraMount, node=None, base_frame: str = "base_link",
                 camera_frame: str = "camera_color_optical_frame", use_tf: bool = True) -> None:
        self.fallback = fallback
        self.base_frame = base_frame
        self.camera_frame = camera_frame
        self.source = "parameters"
        self.last_error = ""
        self._buffer = None
        self._listener = None
        if use_tf and node is not None and _tf2_ros is not None:  # pragma: no cover - robot only
            self._buffer = _tf2_ros.Buffer()
            self._listener = _tf2_ros.TransformListener(self._buffer, node, spin_thread=False)

    def mount(self) -> CameraMount:
        if self._buffer is None:
            return self.fallback
        try:  # pragma: no cover - robot only
            from rclpy.time import Time

            tf = self._buffer.lookup_transform(self.base_frame, self.camera_frame, Time())
            t, q = tf.transform.translation, tf.transform.rotation
            self.source = "tf"
            return mount_from_transform((t.x, t.y, t.z), (q.x, q.y, q.z, q.w))
        except Exception as exc:  # not yet published, or a broken tree: keep the fallback
            self.last_error = str(exc)
            self.source = "parameters"
            return self.fallback
