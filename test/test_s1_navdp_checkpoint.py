"""Strict loading of both official NavDP layouts, variant detection and clear mismatch errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lingnav_core.camera import Intrinsics
from lingnav_core.s1_plan import PointGoal, S1Error
from s1_server.navdp.checkpoint import CheckpointError, build_model, detect_cross_modal, load_navdp
from s1_server.navdp.model import NavDPConfig
from s1_server.navdp_planner import NavDPPlanner
from s1_server.testing import random_state_dict, write_random_checkpoint

SPEC = {False: (708, 91.0e6, 130), True: (1062, 135.7e6, 132)}


@pytest.fixture(scope="module")
def full_ckpts(tmp_path_factory):
    d = tmp_path_factory.mktemp("navdp_full")
    return {False: write_random_checkpoint(d / "navdp-weights.ckpt", False),
            True: write_random_checkpoint(d / "navdp-cross-modal.ckpt", True)}


@pytest.mark.parametrize("cross_modal", [False, True])
def test_full_size_official_layouts_load_strictly(full_ckpts, cross_modal):
    sd = torch.load(full_ckpts[cross_modal], map_location="cpu", weights_only=True)
    tensors, params, cond_rows = SPEC[cross_modal]
    assert len(sd) == tensors
    assert abs(sum(v.numel() for v in sd.values()) - params) < 0.05e6
    assert sd["cond_pos_embed.position_embedding.weight"].shape == (cond_rows, 384)
    assert sd["rgbd_encoder.rgb_model.pos_embed"].shape == (1, 1370, 384)
    assert sd["rgbd_encoder.former_pe.position_embedding.weight"].shape == (2304, 384)
    assert "decoder_layer.linear1.weight" in sd and "decoder.layers.15.norm3.bias" in sd
    assert not any(k.startswith("module.") for k in sd)
    assert all(v.dtype == torch.float32 for v in sd.values())
    assert any(k.startswith("pixel_encoder.pixelgoal_encoder.") for k in sd) == cross_modal
    if cross_modal:
        assert sd["pixel_encoder.pixelgoal_encoder.patch_embed.proj.weight"].shape == (384, 4, 14, 14)
        assert sd["image_encoder.imagegoal_encoder.patch_embed.proj.weight"].shape == (384, 6, 14, 14)
    assert detect_cross_modal(sd) is cross_modal
    model = load_navdp(full_ckpts[cross_modal])
    assert model.config == NavDPConfig.full(cross_modal)
    for k, v in model.state_dict().items():
        assert torch.equal(v, sd[k]), k


def test_wrong_variant_names_the_official_file(full_ckpts):
    with pytest.raises(CheckpointError) as err:
        load_navdp(full_ckpts[False], NavDPConfig.full(True))
    msg = str(err.value)
    assert "navdp-weights.ckpt" in msg and "navdp-cross-modal.ckpt" in msg
    assert "cond_pos_embed.position_embedding.weight (130, 384) vs (132, 384)" in msg
    assert "Missing keys (354)" in msg and "image_encoder.imagegoal_encoder." in msg


def test_full_size_forward_batch_1(full_ckpts):
    # Fewer samples than the official 16 keep this CPU test short; the network is the full one.
    planner = NavDPPlanner(full_ckpts[False], seed=0, num_samples=2)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    depth = rng.uniform(0.2, 4.0, (240, 320)).astype(np.float32)
    plan = planner.plan(rgb, depth, Intrinsics.from_fov(320, 240, 1.2), PointGoal(3.0, 0.5))
    assert plan.best.shape == (24, 3) and plan.candidates.shape == (2, 24, 3) and plan.values.shape == (2,)
    assert np.isfinite(plan.candidates).all() and np.isfinite(plan.values).all()


def test_corrupted_keys_are_named():
    cfg = NavDPConfig.small(True)
    sd = random_state_dict(True, cfg)
    del sd["critic_head.weight"]
    sd["critic_head.extra"] = torch.zeros(1)
    with pytest.raises(CheckpointError) as err:
        build_model(sd, cfg)
    msg = str(err.value)
    assert "Missing keys (1): critic_head.weight" in msg and "Unexpected keys (1): critic_head.extra" in msg
    assert "looks like navdp-cross-modal.ckpt" in msg
    sd = random_state_dict(True, cfg)
    sd["action_head.weight"] = torch.zeros(2, 96)
    with pytest.raises(CheckpointError, match=r"action_head.weight \(2, 96\) vs \(3, 96\)"):
        build_model(sd, cfg)


def test_prefixed_and_wrapped_checkpoints_are_rejected(tmp_path):
    cfg = NavDPConfig.small(False)
    sd = {f"module.{k}": v for k, v in random_state_dict(False, cfg).items()}
    with pytest.raises(CheckpointError, match="module."):
        build_model(sd, cfg)
    path = tmp_path / "wrapped.ckpt"
    torch.save({"state_dict": random_state_dict(False, cfg), "epoch": 3}, path)
    with pytest.raises(CheckpointError, match="not a flat state_dict"):
        load_navdp(path, cfg)
    with pytest.raises(CheckpointError, match="looks like neither"):
        build_model({"foo.weight": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="not found"):
        load_navdp(tmp_path / "missing.ckpt")
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(S1Error, match="cannot read"):
        NavDPPlanner(tmp_path / "junk.ckpt")


def test_small_layouts_load_strictly_with_detection(tmp_path):
    for cm in (False, True):
        cfg = NavDPConfig.small(cm)
        model = build_model(random_state_dict(cm, cfg), cfg)
        assert model.config.cross_modal is cm
        assert detect_cross_modal(model.state_dict()) is cm


def test_tiny_checkpoints_load_by_path_with_their_sizes_inferred(tmp_path):
    """Mode B loads a checkpoint by path alone (no config): a tiny one must load as tiny."""
    for cm in (False, True):
        cfg = NavDPConfig.small(cm)
        path = write_random_checkpoint(tmp_path / f"tiny_{cm}.ckpt", cm, cfg)
        assert load_navdp(path).config == cfg
