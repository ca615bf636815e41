"""The fast NavDP path equals the official algorithm order, and onnxruntime equals torch.

Tiny random checkpoints in both official layouts (same classes and code path as the full size);
bench/s1.py measures the speed on the full-size network.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import requests
import torch

from lingnav_core.camera import Intrinsics
from lingnav_core.s1_plan import ImageGoal, NoGoal, PixelGoal, PointGoal, PointImageGoal, S1Error
from s1_server.codec import encode_depth_png, encode_rgb_jpeg
from s1_server.navdp.checkpoint import build_model
from s1_server.navdp.model import NavDPConfig
from s1_server.navdp.onnx_export import export_onnx
from s1_server.navdp.onnx_export import main as export_main
from s1_server.navdp.runtime import MANIFEST, OnnxRuntime, flush_denormal_enabled
from s1_server.navdp_planner import NavDPPlanner, make_navdp_planner
from s1_server.server import create_app
from s1_server.testing import random_state_dict, write_random_checkpoint
from test.s1_http_rig import serve

H, W = 96, 128
INTR = Intrinsics.from_fov(W, H, 1.2)
TOL = 1e-4  # the bar; the paths agree to ~1e-6


@pytest.fixture(scope="module")
def models():
    return {cm: build_model(random_state_dict(cm, NavDPConfig.small(cm), seed=2), NavDPConfig.small(cm))
            for cm in (False, True)}


@pytest.fixture(scope="module")
def exports(models, tmp_path_factory):
    return {cm: export_onnx(models[cm], tmp_path_factory.mktemp(f"onnx_{cm}")) for cm in (False, True)}


def _goals(cross_modal: bool, rng) -> list:
    goals = [PointGoal(2.0, 0.5), NoGoal(), PointGoal(-3.0, 20.0)]
    if cross_modal:
        picture = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
        goals += [PixelGoal(0, H // 2), PixelGoal(W // 2, H // 3), ImageGoal(picture),
                  PointImageGoal(1.0, -0.5, picture)]
    return goals


def _run_pair(a: NavDPPlanner, b: NavDPPlanner, cross_modal: bool, steps: int) -> float:
    """Plan `steps` times for two robots (memory wraps past 8 frames); return the largest difference."""
    rng = np.random.default_rng(4)
    goals = _goals(cross_modal, rng)
    worst = 0.0
    for step in range(steps):
        rgbs = [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(2)]
        depths = [rng.uniform(0.0, 6.0, (H, W)).astype(np.float32) for _ in range(2)]
        goal = goals[step % len(goals)]
        for pa, pb in zip(a.plan_batch(rgbs, depths, [goal, goal]), b.plan_batch(rgbs, depths, [goal, goal])):
            assert pa.info["goal_kind"] == pb.info["goal_kind"]
            worst = max(worst, float(np.abs(pa.candidates - pb.candidates).max()),
                        float(np.abs(pa.values - pb.values).max()))
            assert pa.chosen_index == pb.chosen_index
        if step == 5:
            a.reset(1)
            b.reset(1)
    return worst


@pytest.mark.parametrize("cross_modal", [False, True])
def test_fast_path_equals_the_official_order(models, cross_modal):
    fast = NavDPPlanner(models[cross_modal], seed=21)
    reference = NavDPPlanner(models[cross_modal], seed=21, reference=True)
    assert _run_pair(fast, reference, cross_modal, steps=9) <= TOL
    assert len(fast.memory(0)) == 8 and len(fast.memory(1)) == 3


@pytest.mark.parametrize("cross_modal", [False, True])
def test_onnxruntime_equals_torch(models, exports, cross_modal):
    manifest = json.loads((exports[cross_modal] / MANIFEST).read_text())
    assert manifest["cross_modal"] is cross_modal
    assert ("goal_pixel" in manifest["graphs"]) is cross_modal
    runtime = OnnxRuntime(exports[cross_modal])
    assert not flush_denormal_enabled()
    onnx = NavDPPlanner(runtime, seed=33)
    torch_planner = NavDPPlanner(models[cross_modal], seed=33)
    assert _run_pair(onnx, torch_planner, cross_modal, steps=9) <= TOL
    assert onnx.plan(*_frame(), INTR, NoGoal()).info["runtime"] == "onnxruntime"
    assert not flush_denormal_enabled()  # onnxruntime's denormal option must not leak either


def _frame(seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8), rng.uniform(0.3, 4.0, (H, W)).astype(np.float32)


def test_server_cli_runs_onnxruntime_like_torch(models, exports):
    from s1_server.cli import build_parser, make_app

    args = build_parser().parse_args(["--runtime", "onnxruntime", "--checkpoint", str(exports[True]), "--seed", "8"])
    torch_app = create_app(lambda t: NavDPPlanner(models[True], seed=8, stop_threshold=t), "navdp")
    rgb, depth = _frame(1)
    files = {"image": ("rgb.jpg", encode_rgb_jpeg(rgb), "image/jpeg"),
             "depth": ("depth.png", encode_depth_png(depth), "image/png")}
    data = {"goal_data": json.dumps({"goal_x": [1.5], "goal_y": [-0.5]})}
    bodies = []
    for app in (make_app(args), torch_app):
        with serve(app) as url:
            reset = {"intrinsic": INTR.matrix4().tolist(), "stop_threshold": -3.0, "batch_size": 1}
            assert requests.post(url + "/navigator_reset", json=reset, timeout=10).status_code == 200
            r = requests.post(url + "/pointgoal_step", files=files, data=data, timeout=60)
            assert r.status_code == 200, r.text
            bodies.append(r.json())
    for key in ("trajectory", "all_trajectory", "all_values"):
        np.testing.assert_allclose(np.asarray(bodies[0][key]), np.asarray(bodies[1][key]), atol=TOL)
    assert not flush_denormal_enabled()


def test_factory_and_refusals(exports, tmp_path, capsys):
    planner = make_navdp_planner(exports[False], runtime="onnxruntime", seed=1)
    assert not planner.supports_pixel_goal and planner.runtime_name == "onnxruntime"
    with pytest.raises(S1Error, match="cross-modal"):
        planner.plan(*_frame(), INTR, PixelGoal(3, 3))
    with pytest.raises(S1Error, match="fp32"):
        make_navdp_planner(exports[False], runtime="onnxruntime", half=True)
    with pytest.raises(S1Error, match="runtime must be"):
        make_navdp_planner(exports[False], runtime="tensorrt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(S1Error):
        make_navdp_planner(tmp_path / "empty", runtime="onnxruntime")
    small = write_random_checkpoint(tmp_path / "small.ckpt", True, NavDPConfig.small(True))
    on_the_fly = NavDPPlanner(small, config=NavDPConfig.small(True), runtime="onnxruntime", seed=4)
    in_torch = NavDPPlanner(small, config=NavDPConfig.small(True), seed=4)
    rgb, depth = _frame(2)
    a, b = on_the_fly.plan(rgb, depth, INTR, PixelGoal(60, 50)), in_torch.plan(rgb, depth, INTR, PixelGoal(60, 50))
    np.testing.assert_allclose(a.candidates, b.candidates, atol=TOL)
    with pytest.raises(S1Error, match="torch only"):
        NavDPPlanner(on_the_fly.runtime, reference=True)
    state = torch.load(small, map_location="cpu", weights_only=True)
    state["input_embed.weight"] = state["input_embed.weight"][:, :2].clone()
    torch.save(state, tmp_path / "bad.ckpt")
    assert export_main([str(tmp_path / "bad.ckpt"), str(tmp_path / "out")]) == 1  # layout mismatch: refused, named
    assert "navdp-cross-modal.ckpt" in capsys.readouterr().err
    assert export_main([str(tmp_path / "missing.ckpt"), str(tmp_path / "out")]) == 1
