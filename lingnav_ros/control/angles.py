"""Angle helpers: every heading difference in the tracker goes through `wrap`."""
from __future__ import annotations

import numpy as np


def wrap(angle):
    """Wrap to (-pi, pi]; works on scalars and arrays."""
    return np.pi - np.mod(np.pi - np.asarray(angle, dtype=float), 2.0 * np.pi) if np.ndim(angle) \
        else float(np.pi - np.mod(np.pi - float(angle), 2.0 * np.pi))


def unwrap_near(angle, reference):
    """`angle` shifted by a multiple of 2*pi to lie within pi of `reference`."""
    return reference + wrap(np.asarray(angle, dtype=float) - reference)
