"""S2 backends: each turns (image, instruction) batches into model text for the shared parser.

A backend has `name`, `model`, `device`, `convention` (coords.RELATIVE / coords.ABSOLUTE),
`attn_implementation` and `generate(batch: list[BackendRequest]) -> list[str | BackendReply |
Exception]`: one answer per request, in order. An exception in the list fails only its own
request; an exception raised by `generate` fails the batch, and the worker then retries each
request alone so that one bad request cannot fail its neighbours.
A backend may also have `probe() -> (ready, reason)`, used by /health.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class BackendRequest:
    rgb: np.ndarray  # H x W x 3 uint8, RGB order, already resized to the model input size
    instruction: str
    context: dict = field(default_factory=dict)
    deadline_s: float | None = None  # time.monotonic() after which nobody waits for the answer

    def remaining_s(self, now_s: float) -> float:
        return float("inf") if self.deadline_s is None else self.deadline_s - now_s


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
    """The model failed on this request: the server answers 502, never 500."""

    status = 502
    retry_after_s: float | None = None


class BackendUnavailable(BackendError):
    """The model (or its upstream server) is unreachable or overloaded: 503 with Retry-After."""

    status = 503

    def __init__(self, message: str, retry_after_s: float = 1.0):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BackendRejected(BackendError):
    """The upstream server answered this request with an error status: 502 naming it."""

    def __init__(self, message: str, upstream_status: int, upstream_body: str):
        super().__init__(message)
        self.upstream_status = upstream_status
        self.upstream_body = upstream_body


class DeadlineExpired(BackendError):
    """The client's deadline passed before an answer could be ready: the work is dropped."""

    status = 504


def as_reply(value) -> BackendReply:
    return value if isinstance(value, BackendReply) else BackendReply(str(value) if value is not None else "")
