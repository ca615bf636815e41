"""NavDP forward behaviour on the reduced-size config (same classes, same code path)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lingnav_core.camera import Intrinsics
from lingnav_core.s1_plan import ImageGoal, NoGoal, PixelGoal, PointGoal, PointImageGoal, S1Error
from s1_server.navdp.frame_memory import FrameMemory
from s1_server.navdp.model import NavDPConfig
from s1_server.navdp.preprocess import letterbox_depth, letterbox_mask, letterbox_rgb, pixel_goal_mask
from s1_server.navdp.sampler import DDPMSampler
from s1_server.navdp.vit import interpolate_pos_embed
from s1_server.navdp_planner import NavDPPlanner
from s1_server.testing import write_random_checkpoint

H, W = 120, 160
INTR = Intrinsics.from_fov(W, H, 1.2)


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    d = tmp_path_factory.mktemp("navdp_small")
    return {cm: write_random_checkpoint(d / f"small_{cm}.ckpt", cm, NavDPConfig.small(cm)) for cm in (False, True)}


@pytest.fixture(scope="module")
def cross(ckpts):
    return NavDPPlanner(ckpts[True], config=NavDPConfig.small(True), seed=0)


def _frame(seed: int = 0):
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    depth = rng.uniform(0.0, 7.0, (H, W)).astype(np.float32)
    depth[0, :5] = np.nan
    depth[1, :5] = np.inf
    return rgb, depth


def _check_plan(plan):
    assert plan.best.shape == (24, 3) and plan.best.dtype == np.float32
    assert plan.candidates.shape == (16, 24, 3) and plan.values.shape == (16,)
    assert np.isfinite(plan.candidates).all() and np.isfinite(plan.values).all()
    steps = np.diff(np.concatenate([np.zeros((16, 1, 3)), plan.candidates], axis=1), axis=1)
    assert np.abs(steps).max() <= 0.25 + 1e-4  # x0 is clipped to [-1, 1] and divided by 4
    assert np.abs(plan.candidates[..., :2]).max() <= 6.0 + 1e-3
    assert 0 <= plan.chosen_index < 16
    np.testing.assert_array_equal(plan.best, plan.candidates[plan.chosen_index])
    assert plan.chosen_index == int(np.argmax(plan.values))
    assert plan.backend == "navdp" and plan.latency_s > 0


@pytest.mark.parametrize("goal", [PointGoal(2.0, -1.0), PointGoal(-30.0, 50.0), NoGoal(), PixelGoal(80, 60),
                                  ImageGoal(np.full((90, 70, 3), 128, np.uint8)),
                                  PointImageGoal(1.0, 0.5, np.full((90, 70, 3), 60, np.uint8))])
def test_goal_modes_shapes_and_ranges(cross, goal):
    rgb, depth = _frame()
    plan = cross.plan(rgb, depth, INTR, goal)
    _check_plan(plan)
    final = np.linalg.norm(plan.candidates[:, -1, :2], axis=1)
    if not isinstance(goal, NoGoal):
        # every goal mode of the cross-modal model: candidates ending within 0.5 m are "stay" (xy zeroed)
        assert np.all(plan.candidates[final < 0.5][:, :, :2] == 0)
    if isinstance(goal, NoGoal):
        assert plan.info["goal_kind"] == "none"


@pytest.mark.parametrize("uv", [(0, 0), (W - 1, 0), (0, H - 1), (W - 1, H - 1), (0, 60), (W - 1, 60), (80, 0),
                                (80, H - 1), (9, 9), (10, 10), (W - 10, H - 10)])
def test_pixel_goal_every_border_and_corner(cross, uv):
    rgb, depth = _frame(1)
    _check_plan(cross.plan(rgb, depth, INTR, PixelGoal(*uv)))
    mask = pixel_goal_mask(uv[0], uv[1], H, W)
    assert mask.max() == 255 and mask.dtype == np.uint8


def test_pixel_mask_rule():
    m = pixel_goal_mask(50, 40, H, W)
    assert m.sum() == 255 * 400 and m[30:50, 40:60].all()
    left = pixel_goal_mask(3, 0, H, W)  # leaves left and top: left is checked first
    assert left[:, :10].any() and not left[:, 10:].any()
    top = pixel_goal_mask(50, 4, H, W)
    assert top[:10].any() and not top[10:].any()
    right = pixel_goal_mask(W - 5, 60, H, W)
    assert right[:, W - 10:].any() and not right[:, : W - 10].any()
    bottom = pixel_goal_mask(50, H - 1, H, W)
    assert bottom[H - 10:].any() and not bottom[: H - 10].any()
    with pytest.raises(TypeError):
        pixel_goal_mask(10.5, 3, H, W)
    with pytest.raises(ValueError):
        pixel_goal_mask(W, 3, H, W)
    lm = letterbox_mask(m)
    assert lm.shape == (224, 224) and lm.max() == 1.0


def test_letterbox_and_depth_window():
    rgb = np.full((H, W, 3), 255, np.uint8)
    out = letterbox_rgb(rgb)
    assert out.shape == (224, 224, 3) and out.dtype == np.float32
    assert out[:28].max() == 0 and out[-28:].max() == 0 and out[28:196].min() == 1.0  # 160x120 -> 224x168
    depth = np.full((H, W), 3.0, np.float32)
    depth[:, :40] = 6.0
    depth[:, 40:80] = 0.05
    depth[0, 100] = np.nan
    d = letterbox_depth(depth)
    assert d.shape == (224, 224, 3) and np.isfinite(d).all()
    assert d.max() <= 5.0 and set(np.unique(d[100, 150:])) == {3.0}
    assert (d[100, :50] == 0).all()


def test_pos_embed_interpolation_uses_offset_scale_factor():
    pe = torch.randn(1, 1 + 37 * 37, 8)
    out = interpolate_pos_embed(pe, 16, 16)
    assert out.shape == (1, 257, 8)
    grid = pe[:, 1:].reshape(1, 37, 37, 8).permute(0, 3, 1, 2)
    by_size = F.interpolate(grid, size=(16, 16), mode="bicubic", antialias=False).permute(0, 2, 3, 1).reshape(1, 256, 8)
    assert not torch.allclose(out[:, 1:], by_size)
    by_scale = F.interpolate(grid, scale_factor=(16.1 / 37, 16.1 / 37), mode="bicubic", antialias=False)
    torch.testing.assert_close(out[:, 1:], by_scale.permute(0, 2, 3, 1).reshape(1, 256, 8))


@pytest.mark.parametrize("dtype", ["fp16", "bf16"])
def test_half_precision_on_cpu(ckpts, dtype):
    planner = NavDPPlanner(ckpts[True], config=NavDPConfig.small(True), seed=0, dtype=dtype)
    assert next(planner.model.parameters()).dtype == {"fp16": torch.float16, "bf16": torch.bfloat16}[dtype]
    rgb, depth = _frame()
    for goal in (PointGoal(1.0, 0.5), PixelGoal(0, H - 1)):
        _check_plan(planner.plan(rgb, depth, INTR, goal))


def test_half_flag_means_fp16(ckpts):
    planner = NavDPPlanner(ckpts[False], config=NavDPConfig.small(False), half=True)
    assert next(planner.model.parameters()).dtype == torch.float16


def test_memory_queue_fills_and_resets():
    mem = FrameMemory(8)
    frames = [np.full((224, 224, 3), i + 1, np.float32) for i in range(10)]
    stack = mem.push(frames[0])
    assert stack.shape == (8, 3, 224, 224) and (stack[:7] == 0).all() and (stack[7] == 1).all()
    for f in frames[1:]:
        stack = mem.push(f)
    assert len(mem) == 8 and [int(s[0, 0, 0]) for s in stack] == list(range(3, 11))  # oldest first
    mem.reset()
    assert len(mem) == 0 and (mem.stack() == 0).all()


def test_batch_of_two_robots_has_separate_memories(cross):
    cross.reset()
    (rgb0, d0), (rgb1, d1) = _frame(2), _frame(3)
    for _ in range(3):
        plans = cross.plan_batch([rgb0, rgb1], [d0, d1], [PointGoal(1, 0), PointGoal(2, 1)])
    assert len(plans) == 2
    for p in plans:
        _check_plan(p)
        assert p.info["batch"] == 2
    cross.plan_batch([rgb1], [d1], [PointGoal(1, 0)], robots=[1])
    assert len(cross.memory(0)) == 3 and len(cross.memory(1)) == 4
    cross.reset(1)
    assert len(cross.memory(0)) == 3 and len(cross.memory(1)) == 0
    cross.reset()
    assert len(cross.memory(0)) == 0
    with pytest.raises(S1Error):
        cross.plan_batch([rgb0, rgb1], [d0, d1], [PointGoal(1, 0), NoGoal()])


def test_seed_reproducible_and_stop_flag(ckpts):
    cfg = NavDPConfig.small(False)
    rgb, depth = _frame(4)
    a = NavDPPlanner(ckpts[False], config=cfg, seed=7).plan(rgb, depth, INTR, PointGoal(2, 0))
    b = NavDPPlanner(ckpts[False], config=cfg, seed=7).plan(rgb, depth, INTR, PointGoal(2, 0))
    np.testing.assert_array_equal(a.candidates, b.candidates)
    strict = NavDPPlanner(ckpts[False], config=cfg, seed=7, stop_threshold=1e9)
    plan = strict.plan(rgb, depth, INTR, PointGoal(2, 0))
    assert plan.no_safe_path and plan.chosen_index == int(np.argmax(plan.values))
    lax = NavDPPlanner(ckpts[False], config=cfg, seed=7, stop_threshold=-1e9)
    assert not lax.plan(rgb, depth, INTR, PointGoal(2, 0)).no_safe_path


def test_original_model_rejects_pixel_and_image_goals(ckpts):
    planner = NavDPPlanner(ckpts[False], config=NavDPConfig.small(False))
    assert not planner.supports_pixel_goal
    rgb, depth = _frame()
    with pytest.raises(S1Error, match="cross-modal"):
        planner.plan(rgb, depth, INTR, PixelGoal(3, 3))
    with pytest.raises(S1Error, match="navdp-cross-modal.ckpt"):
        planner.plan(rgb, depth, INTR, ImageGoal(rgb))
    with pytest.raises(S1Error):
        planner.plan(rgb, depth[:10], INTR, PointGoal(1, 0))


def test_sampler_matches_diffusers_step_by_step():
    from diffusers import DDPMScheduler

    ref = DDPMScheduler(num_train_timesteps=10, beta_schedule="squaredcos_cap_v2", clip_sample=True,
                        prediction_type="epsilon")
    ref.set_timesteps(10)
    ours = DDPMSampler(10)
    assert [int(t) for t in ref.timesteps] == ours.timesteps
    torch.testing.assert_close(ours.alphas_cumprod, ref.alphas_cumprod)
    g = torch.Generator().manual_seed(0)
    x_ref = torch.randn(16, 24, 3, generator=g)
    x_ours = x_ref.clone()
    for t in ours.timesteps:
        eps = torch.randn(16, 24, 3, generator=g) * 1.5
        seed = 100 + t
        x_ref = ref.step(eps, t, x_ref, generator=torch.Generator().manual_seed(seed)).prev_sample
        noise = torch.randn(16, 24, 3, generator=torch.Generator().manual_seed(seed))
        x_ours = ours.step(eps, t, x_ours, noise if t > 0 else None)
        torch.testing.assert_close(x_ours, x_ref, rtol=1e-5, atol=1e-6)
