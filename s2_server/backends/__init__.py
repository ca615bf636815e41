"""S2 backends: each turns (image, instruction) batches into model text for the shared parser."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class BackendRequest:
    rgb: np.ndarray  # H x W x 3 uint8, RGB order, already resized to the model input size
    instruction: str
    context: dict = field(default_factory=dict)


class BackendError(RuntimeError):
    """The model or the upstream server failed: the server answers 502/503, never 500."""
