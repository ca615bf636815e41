"""S2 backends: each turns (image, instruction) batches into model text for the shared parser.

A backend has `name`, `model`, `device`, `convention` (coords.RELATIVE / coords.ABSOLUTE),
`attn_implementation` and `generate(batch: list[BackendRequest]) -> list[str | BackendReply]`,
one answer per request, in order.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class BackendRequest:
    rgb: np.ndarray  # H x W x 3 uint8, RGB order, already resized to the model input size
    instruction: str
    context: dict = field(default_factory=dict)


@dataclass
class BackendReply:
    """Model text, and the size of the image the model really saw when it is known.

    Qwen2/2.5-VL answer in pixels of their own input, which their processor snaps to multiples
    of 28; reading those pixels against the 640x480 we sent would be off by up to a patch.
    """

    text: str
    model_w: int = 0
    model_h: int = 0


class BackendError(RuntimeError):
    """The model or the upstream server failed: the server answers 502, never 500."""


def as_reply(value) -> BackendReply:
    return value if isinstance(value, BackendReply) else BackendReply(str(value) if value is not None else "")
