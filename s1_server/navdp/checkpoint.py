"""Strict loading of the two official NavDP checkpoints.

Users mix up navdp-weights.ckpt and navdp-cross-modal.ckpt (upstream issues #19, #34); every
mismatch names the keys and says which official file the checkpoint looks like.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

import torch

from s1_server.navdp.model import NavDP, NavDPConfig

COND_KEY = "cond_pos_embed.position_embedding.weight"
ORIGINAL_FILE = "navdp-weights.ckpt"
CROSS_MODAL_FILE = "navdp-cross-modal.ckpt"
_SHOWN = 8


class CheckpointError(RuntimeError):
    """The file is not a NavDP state_dict of the expected layout."""


def variant_name(cross_modal: bool) -> str:
    if cross_modal:
        return f"{CROSS_MODAL_FILE} (cross-modal: point, pixel, image and no goal)"
    return f"{ORIGINAL_FILE} (original: point and no goal only)"


def detect_cross_modal(state_dict: Mapping[str, torch.Tensor]) -> bool | None:
    """True/False for a recognisable variant, None when the state_dict looks like neither."""
    cond = state_dict.get(COND_KEY)
    has_goal_encoders = any(k.startswith(("pixel_encoder.", "image_encoder.")) for k in state_dict)
    rows = int(cond.shape[0]) if isinstance(cond, torch.Tensor) and cond.ndim == 2 else None
    if rows == 132 or (rows is None and has_goal_encoders):
        return True
    if rows == 130 or (rows is None and not has_goal_encoders and cond is not None):
        return False
    if rows is None and any(k.startswith("rgbd_encoder.") for k in state_dict):
        return has_goal_encoders
    return None


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    try:
        obj = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
    except FileNotFoundError as err:
        raise CheckpointError(f"NavDP checkpoint {path} not found") from err
    except Exception as err:
        raise CheckpointError(f"cannot read NavDP checkpoint {path}: {type(err).__name__}: {err}") from err
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        keys = list(obj)[:_SHOWN] if isinstance(obj, Mapping) else type(obj).__name__
        raise CheckpointError(f"{path} is not a flat state_dict of tensors (official files are; found {keys}). "
                              f"Expected {ORIGINAL_FILE} or {CROSS_MODAL_FILE}.")
    return dict(obj)


def _describe(keys: list[str]) -> str:
    more = f" (+{len(keys) - _SHOWN} more)" if len(keys) > _SHOWN else ""
    return ", ".join(keys[:_SHOWN]) + more


def check_layout(model: NavDP, state_dict: Mapping[str, torch.Tensor], source: str = "checkpoint") -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = [f"{k} {tuple(state_dict[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
                  if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)]
    if not (missing or unexpected or mismatched):
        return
    looks = detect_cross_modal(state_dict)
    looks_like = variant_name(looks) if looks is not None else "neither official NavDP file"
    wanted = variant_name(model.config.cross_modal)
    parts = [f"{source} does not match the {wanted} layout; it looks like {looks_like}."]
    if looks is not None and looks != model.config.cross_modal:
        parts.append(f"Load it as the {'cross-modal' if looks else 'original'} variant (let the loader detect it).")
    if any(k.startswith("module.") for k in state_dict):
        parts.append("Keys carry a 'module.' prefix (a DataParallel save); official files have none.")
    if missing:
        parts.append(f"Missing keys ({len(missing)}): {_describe(missing)}.")
    if unexpected:
        parts.append(f"Unexpected keys ({len(unexpected)}): {_describe(unexpected)}.")
    if mismatched:
        parts.append(f"Shape mismatches ({len(mismatched)}): {_describe(mismatched)}.")
    raise CheckpointError(" ".join(parts))


def _layer_count(state_dict: Mapping[str, torch.Tensor], prefix: str) -> int:
    indices = {k[len(prefix):].split(".", 1)[0] for k in state_dict if k.startswith(prefix)}
    return len({i for i in indices if i.isdigit()})


def infer_config(state_dict: Mapping[str, torch.Tensor], cross_modal: bool) -> NavDPConfig:
    """The sizes a state_dict was saved with: the official files give NavDPConfig.full, a tiny
    test checkpoint (NavDPConfig.small) its own, so mode B and the server load either by path.
    Keys or shapes that do not fit are left to check_layout, which names them."""
    full = NavDPConfig.full(cross_modal)
    cond = state_dict.get(COND_KEY)
    ffn = state_dict.get("rgbd_encoder.former_net.layers.0.linear1.weight")
    pe = state_dict.get("rgbd_encoder.former_pe.position_embedding.weight")
    if not all(isinstance(t, torch.Tensor) and t.ndim == 2 for t in (cond, ffn, pe)):
        return full
    sizes = {"dim": int(cond.shape[1]), "fusion_ffn": int(ffn.shape[0]),
             "vit_depth": _layer_count(state_dict, "rgbd_encoder.rgb_model.blocks."),
             "decoder_layers": _layer_count(state_dict, "decoder.layers."),
             "fusion_layers": _layer_count(state_dict, "rgbd_encoder.former_net.layers.")}
    tokens_per_frame = 256  # RGBDEncoder's default, as in the official model
    if int(pe.shape[0]) % tokens_per_frame == 0:
        sizes["memory_frames"] = int(pe.shape[0]) // tokens_per_frame - 1
    if any(v <= 0 for v in sizes.values()):
        return full
    return replace(full, **sizes)


def build_model(state_dict: Mapping[str, torch.Tensor], config: NavDPConfig | None = None,
                source: str = "checkpoint") -> NavDP:
    """Build the model for the detected variant and sizes (or `config`) and load strictly; eval
    mode, fp32, CPU."""
    if config is None:
        cross_modal = detect_cross_modal(state_dict)
        if cross_modal is None:
            some = _describe(sorted(state_dict))
            raise CheckpointError(f"{source} looks like neither {ORIGINAL_FILE} nor {CROSS_MODAL_FILE} "
                                  f"(no {COND_KEY}, no rgbd_encoder.*); its keys: {some}")
        config = infer_config(state_dict, cross_modal)
    model = NavDP(config)
    check_layout(model, state_dict, source)
    model.load_state_dict(state_dict, strict=True)
    return model.eval()


def load_navdp(path: str | os.PathLike, config: NavDPConfig | None = None) -> NavDP:
    return build_model(read_state_dict(path), config, source=os.fspath(path))
