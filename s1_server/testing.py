"""Random-weight NavDP state_dicts in the official layouts (no weights can be downloaded here).

Tests, the benchmark and docs use these to exercise strict loading and the full pipeline.
"""
from __future__ import annotations

import os

import torch

from s1_server.navdp.model import NavDP, NavDPConfig


def random_state_dict(cross_modal: bool, config: NavDPConfig | None = None, seed: int = 0) -> dict[str, torch.Tensor]:
    """A flat fp32 state_dict like navdp-weights.ckpt (False) or navdp-cross-modal.ckpt (True)."""
    torch.manual_seed(seed)
    model = NavDP(config or NavDPConfig.full(cross_modal))
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def write_random_checkpoint(path: str | os.PathLike, cross_modal: bool, config: NavDPConfig | None = None,
                            seed: int = 0) -> str:
    """torch.save a flat random state_dict to `path` (as the official files are) and return the path."""
    if config is not None and config.cross_modal != cross_modal:
        raise ValueError("config.cross_modal disagrees with cross_modal")
    torch.save(random_state_dict(cross_modal, config, seed), os.fspath(path))
    return os.fspath(path)
