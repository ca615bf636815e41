"""Per-robot FIFO of the last 8 letterboxed RGB frames, oldest first, front-padded with zeros."""
from __future__ import annotations

from collections import deque

import numpy as np

from s1_server.navdp.preprocess import IMAGE_PX


class FrameMemory:
    def __init__(self, length: int = 8):
        self.length = length
        self._frames: deque[np.ndarray] = deque(maxlen=length)

    def __len__(self) -> int:
        return len(self._frames)

    def reset(self) -> None:
        self._frames.clear()

    def push(self, frame: np.ndarray) -> np.ndarray:
        """Add a 224x224x3 frame; return the [8, 3, 224, 224] stack the encoder sees."""
        self._frames.append(frame)
        return self.stack()

    def stack(self) -> np.ndarray:
        out = np.zeros((self.length, 3, IMAGE_PX, IMAGE_PX), dtype=np.float32)
        start = self.length - len(self._frames)
        for i, f in enumerate(self._frames):
            out[start + i] = f.transpose(2, 0, 1)
        return out
