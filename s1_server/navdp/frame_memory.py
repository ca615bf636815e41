"""Per-robot FIFO of the last 8 letterboxed RGB frames, oldest first, front-padded with zeros.

Next to each frame it can keep that frame's RGB ViT tokens: a frame's tokens never change, so the
fast path encodes each frame once instead of re-encoding all 8 on every plan.
"""
from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from s1_server.navdp.preprocess import IMAGE_PX


class FrameMemory:
    def __init__(self, length: int = 8):
        self.length = length
        self._frames: deque[np.ndarray] = deque(maxlen=length)
        self._tokens: deque[Any] = deque(maxlen=length)

    def __len__(self) -> int:
        return len(self._frames)

    def reset(self) -> None:
        self._frames.clear()
        self._tokens.clear()

    def append(self, frame: np.ndarray, tokens: Any = None) -> None:
        """Add a 224x224x3 frame (and, on the fast path, its tokens)."""
        self._frames.append(frame)
        self._tokens.append(tokens)

    def push(self, frame: np.ndarray) -> np.ndarray:
        """Add a 224x224x3 frame; return the [8, 3, 224, 224] stack the encoder sees."""
        self.append(frame)
        return self.stack()

    def stack(self) -> np.ndarray:
        out = np.zeros((self.length, 3, IMAGE_PX, IMAGE_PX), dtype=np.float32)
        start = self.length - len(self._frames)
        for i, f in enumerate(self._frames):
            out[start + i] = f.transpose(2, 0, 1)
        return out

    def token_list(self, empty_tokens: Any) -> list:
        """The 8 frames' tokens, oldest first, `empty_tokens` (an all-zero frame's) in front."""
        if any(t is None for t in self._tokens):
            raise RuntimeError("a frame in this memory was stored without its tokens")
        return [empty_tokens] * (self.length - len(self._tokens)) + list(self._tokens)
