"""Angle wrapping, once: every heading difference on the robot and in the planners goes through `wrap`.

Two wrappings that disagree at the seam (one to [-pi, pi), one to (-pi, pi]) make a turn of
exactly half a revolution go one way in the tracker and the other way in the planner.
"""
from __future__ import annotations

import numpy as np


def wrap(angle):
    """Wrap to (-pi, pi]; a float for a scalar, an array for an array."""
    if np.ndim(angle):
        return np.pi - np.mod(np.pi - np.asarray(angle, dtype=float), 2.0 * np.pi)
    return float(np.pi - np.mod(np.pi - float(angle), 2.0 * np.pi))


def unwrap_near(angle, reference):
    """`angle` shifted by a multiple of 2*pi to lie within pi of `reference`."""
    return reference + wrap(np.asarray(angle, dtype=float) - reference)
