"""NavDP plans as the official code does: preprocessing, goal encoding and the selection rules.

The golden figures below were produced by the official NavDP agent (its preprocessing functions,
run side by side in a scratch directory) on the deterministic inputs defined here; our functions
must reproduce them. Each test names the discrepancy it guards against.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lingnav_core.camera import Intrinsics
from lingnav_core.s1_plan import ImageGoal, NoGoal, PixelGoal, PointGoal, PointImageGoal
from s1_server.navdp.checkpoint import build_model
from s1_server.navdp.frame_memory import FrameMemory
from s1_server.navdp.model import NavDPConfig
from s1_server.navdp.preprocess import letterbox_depth, letterbox_mask, letterbox_rgb, pixel_goal_mask
from s1_server.navdp.runtime import flush_denormal, flush_denormal_enabled
from s1_server.navdp_planner import NavDPPlanner
from s1_server.testing import random_state_dict

H, W = 120, 160
INTR = Intrinsics.from_fov(W, H, 1.2)

# (width, height): official sum of the RGB output, of its row 112 (green), of the depth output,
# and the number of depth pixels kept (inside 0.1-5 m).
LETTERBOX_GOLDEN = {
    (640, 480): (56411.633, 110.6784, 78090.658, 29555),
    (848, 480): (42780.852, 111.0431, 59690.067, 22600),
    (424, 240): (42789.495, 112.6784, 59834.073, 23169),
    (1280, 720): (42294.738, 111.7333, 58309.2, 21596),
}
# 640x480 pixel goal (u, v) -> (official sum of the 224x224 mask, pixels > 0)
MASK_GOLDEN = {
    (10, 240): (672.0, 672), (11, 240): (49.0, 49), (320, 10): (896.0, 896), (320, 11): (49.0, 49),
    (630, 240): (504.0, 504), (629, 240): (49.0, 49), (320, 470): (672.0, 672), (320, 469): (49.0, 49),
    (5, 5): (672.0, 672), (635, 475): (504.0, 504),
}


def _rgb_ramp(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([(x * 7 + y * 3 + c * 50) % 256 for c in range(3)], -1).astype(np.uint8)


def _depth_ramp(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return (0.05 + 6.0 * x / w + 0.001 * y).astype(np.float32)


@pytest.mark.parametrize("size", sorted(LETTERBOX_GOLDEN))
def test_letterbox_matches_the_official_agent(size):
    # Was: a plain pad (48 top / 49 bottom at 848x480) instead of fx/fy scale, (224-h)//2 on both
    # sides and a final bilinear resize: up to 0.77 RGB and 5 m depth apart.
    w, h = size
    rgb_sum, row_sum, depth_sum, depth_kept = LETTERBOX_GOLDEN[size]
    out = letterbox_rgb(_rgb_ramp(h, w)).astype(np.float64)
    assert out.shape == (224, 224, 3)
    assert out.sum() == pytest.approx(rgb_sum, abs=2e-3)
    assert out[112, :, 1].sum() == pytest.approx(row_sum, abs=2e-4)
    d = letterbox_depth(_depth_ramp(h, w))
    assert d.shape == (224, 224, 3) and (d[..., 0] == d[..., 2]).all()
    assert d[..., 0].astype(np.float64).sum() == pytest.approx(depth_sum, abs=2e-2)
    assert int((d[..., 0] > 0).sum()) == depth_kept


def test_letterbox_of_odd_padding_is_symmetric():
    # 848x480 -> 127 rows + 48 + 48 = 223, stretched to 224: a vertically symmetric image stays so.
    out = letterbox_rgb(np.full((480, 848, 3), 200, np.uint8))
    np.testing.assert_array_equal(out, out[::-1])


@pytest.mark.parametrize("uv", sorted(MASK_GOLDEN))
def test_pixel_goal_mask_near_edges_matches_the_official_agent(uv):
    # Was: strict bounds tests (< 0, > W) and strips only as long as the box: 480-890 pixels apart.
    total, count = MASK_GOLDEN[uv]
    m = letterbox_mask(pixel_goal_mask(uv[0], uv[1], 480, 640)).astype(np.float64)
    assert m.sum() == pytest.approx(total, abs=1e-3) and int((m > 0).sum()) == count


def test_pixel_goal_mask_edge_rules():
    h, w = 480, 640
    assert (pixel_goal_mask(10, 5, h, w)[:, :10] == 255).all()  # left wins over top; whole edge
    assert (pixel_goal_mask(300, 10, h, w)[:10, :] == 255).all()  # v - 10 <= 0 is the top edge
    assert (pixel_goal_mask(w - 10, h - 1, h, w)[:, w - 10:] == 255).all()  # right wins over bottom
    bottom = pixel_goal_mask(300, h - 10, h, w)
    assert (bottom[h - 10:] == 255).all() and bottom.sum() == 255 * 10 * w
    box = pixel_goal_mask(11, 11, h, w)
    assert box.sum() == 255 * 400 and (box[1:21, 1:21] == 255).all()


@pytest.fixture(scope="module")
def models():
    return {cm: build_model(random_state_dict(cm, NavDPConfig.small(cm)), NavDPConfig.small(cm))
            for cm in (False, True)}


def _frame(seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8), rng.uniform(0.0, 6.0, (H, W)).astype(np.float32)


def _encode_first_frame(model, rgb, depth):
    mem = torch.from_numpy(FrameMemory(8).push(letterbox_rgb(rgb))[None])
    return model.rgbd_encoder(mem, torch.from_numpy(letterbox_depth(depth).transpose(2, 0, 1))[None])


def _by_hand(model, rgb, depth, goal_xyz, seed: int, samples: int = 16):
    """The planner's first plan composed from the model's parts (official order)."""
    with torch.inference_mode():
        rgbd = _encode_first_frame(model, rgb, depth)
        tokens = model.point_goal_tokens(torch.tensor([goal_xyz], dtype=torch.float32))
        trajs, values = model.sample(tokens, rgbd, torch.Generator().manual_seed(seed), samples)
    return trajs[0].numpy(), values[0].numpy()


@pytest.mark.parametrize("cross_modal", [False, True])
def test_point_goal_is_fed_as_x_y_1(models, cross_modal):
    # Was (x, y, 0): plans 0.17 m (cross-modal) / 0.03 m (original) away from the official server's.
    model = models[cross_modal]
    rgb, depth = _frame(1)
    for reference in (True, False):
        plan = NavDPPlanner(model, seed=5, reference=reference).plan(rgb, depth, INTR, PointGoal(2.0, -0.7))
        trajs, values = _by_hand(model, rgb, depth, (2.0, -0.7, 1.0), seed=5)
        np.testing.assert_allclose(plan.values, values, atol=1e-5)
        wrong, _ = _by_hand(model, rgb, depth, (2.0, -0.7, 0.0), seed=5)
        assert np.abs(wrong - trajs).max() > 1e-3  # the test can tell the two encodings apart
        if not cross_modal:  # the original model keeps every candidate as sampled
            np.testing.assert_allclose(plan.candidates, trajs, atol=1e-5)


def _crafted(lengths_m):
    trajs = np.zeros((len(lengths_m), 24, 3), np.float32)
    trajs[:, :, 0] = np.linspace(0, 1, 24)[None] * np.asarray(lengths_m, np.float32)[:, None]
    trajs[:, :, 2] = 0.3
    return trajs


@pytest.mark.parametrize("goal", ["point", "pixel", "image", "point_image"])
def test_cross_modal_goal_modes_zero_short_candidates(models, goal):
    # Was: only pixel and image goals zeroed candidates ending within 0.5 m.
    planner = NavDPPlanner(models[True], seed=0)
    trajs, values = _crafted([0.2, 0.49, 0.5, 3.0]), np.array([5.0, 1.0, 0.0, -1.0], np.float32)
    plan = planner._select(goal, trajs, values, 0.01, 1)
    assert (plan.candidates[:2, :, :2] == 0).all() and (plan.candidates[:2, :, 2] == 0.3).all()
    np.testing.assert_array_equal(plan.candidates[2:], trajs[2:])
    np.testing.assert_array_equal(plan.values, values)
    assert plan.chosen_index == 0 and (plan.best[:, :2] == 0).all()  # "stay" is a valid choice


def test_no_goal_penalty_belongs_to_the_cross_modal_model_only(models):
    # Was: the original model's no-goal values also lost 10 under 1 m.
    trajs, values = _crafted([0.3, 0.99, 1.0, 4.0]), np.array([2.0, 1.0, 0.5, 0.0], np.float32)
    cross = NavDPPlanner(models[True], seed=0)._select("none", trajs, values, 0.01, 1)
    np.testing.assert_array_equal(cross.values, [-8.0, -9.0, 0.5, 0.0])
    assert cross.chosen_index == 2
    np.testing.assert_array_equal(cross.candidates, trajs)
    original = NavDPPlanner(models[False], seed=0)
    for kind in ("none", "point"):
        plan = original._select(kind, trajs, values, 0.01, 1)
        np.testing.assert_array_equal(plan.values, values)
        np.testing.assert_array_equal(plan.candidates, trajs)
        assert plan.chosen_index == 0


def test_point_image_goal_uses_image_point_image_slots(models):
    model = models[True]
    rgb, depth = _frame(2)
    goal_rgb = _frame(3)[0]
    planner = NavDPPlanner(model, seed=9, reference=True)
    plan = planner.plan(rgb, depth, INTR, PointImageGoal(1.5, 0.5, goal_rgb))
    assert plan.info["goal_kind"] == "point_image"
    current = torch.from_numpy(letterbox_rgb(rgb).transpose(2, 0, 1))[None]
    with torch.inference_mode():
        rgbd = _encode_first_frame(model, rgb, depth)
        image = model.image_goal_tokens(torch.from_numpy(letterbox_rgb(goal_rgb).transpose(2, 0, 1))[None], current)
        point = model.point_goal_tokens(torch.tensor([[1.5, 0.5, 1.0]]))
        tokens = torch.cat([image[:, :1], point[:, :1], image[:, :1]], dim=1)
        _, values = model.sample(tokens, rgbd, torch.Generator().manual_seed(9), 16)
    np.testing.assert_allclose(plan.values, values[0].numpy(), atol=1e-5)
    with pytest.raises(Exception, match="cross-modal"):
        NavDPPlanner(models[False]).plan(rgb, depth, INTR, PointImageGoal(1.0, 0.0, goal_rgb))


def test_nan_and_inf_depth_read_as_no_depth(models):
    rgb, depth = _frame(4)
    holes = depth.copy()
    holes[10:40, 20:90] = np.nan
    holes[50:60, :] = np.inf
    holes[70:75, :] = -np.inf
    zeros = depth.copy()
    zeros[10:40, 20:90] = 0.0
    zeros[50:60, :] = 0.0
    zeros[70:75, :] = 0.0
    np.testing.assert_array_equal(letterbox_depth(holes), letterbox_depth(zeros))
    a = NavDPPlanner(models[True], seed=3).plan(rgb, holes, INTR, PointGoal(2.0, 0.0))
    b = NavDPPlanner(models[True], seed=3).plan(rgb, zeros, INTR, PointGoal(2.0, 0.0))
    assert np.isfinite(a.candidates).all() and np.isfinite(a.values).all()
    np.testing.assert_array_equal(a.candidates, b.candidates)


BATCH_GOALS = [PointGoal(1.0, 0.5), NoGoal(), PixelGoal(5, 60), ImageGoal(np.full((40, 50, 3), 90, np.uint8))]


@pytest.mark.parametrize("goal", BATCH_GOALS)
def test_batch_of_two_equals_two_single_plans(models, goal):
    """Each robot's rows of a batch plan equal a lone plan given the same noise rows."""
    frames = [_frame(5), _frame(6)]
    noise = torch.randn(10, 32, 24, 3, generator=torch.Generator().manual_seed(0))
    batch = NavDPPlanner(models[True])
    batch._noise = lambda rows: noise[:, :rows]
    for _ in range(2):
        pair = batch.plan_batch([f[0] for f in frames], [f[1] for f in frames], [goal, goal])
    for robot, (rgb, depth) in enumerate(frames):
        single = NavDPPlanner(models[True])
        single._noise = lambda rows, r=robot: noise[:, 16 * r:16 * r + rows]
        for _ in range(2):
            alone = single.plan(rgb, depth, INTR, goal)
        np.testing.assert_allclose(pair[robot].candidates, alone.candidates, atol=1e-5)
        np.testing.assert_allclose(pair[robot].values, alone.values, atol=1e-5)


def test_flush_denormal_is_scoped(models, tmp_path):
    assert not flush_denormal_enabled()
    planner = NavDPPlanner(models[False], seed=0)
    rgb, depth = _frame(7)
    planner.plan(rgb, depth, INTR, NoGoal())
    assert not flush_denormal_enabled()
    with flush_denormal():
        assert flush_denormal_enabled()
        with flush_denormal():
            planner.plan(rgb, depth, INTR, NoGoal())
        assert flush_denormal_enabled()  # an outer scope keeps its mode
    assert not flush_denormal_enabled()
    tiny = torch.tensor([1e-39], dtype=torch.float32)
    assert float((tiny * 1.0).item()) > 0.0  # subnormals survive outside the planner's calls
