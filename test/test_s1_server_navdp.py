"""The S1 HTTP server with the NavDP backend on a real uvicorn server, and the S1Client."""
from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import numpy as np
import pytest
import requests
from fastapi import FastAPI

from lingnav_core.camera import Intrinsics
from lingnav_core.s1_plan import NoGoal, PixelGoal, PointGoal, S1Error, S1Unavailable
from s1_server.codec import encode_depth_png, encode_rgb_jpeg
from s1_server.http_client import S1Client
from s1_server.navdp.model import NavDPConfig
from s1_server.testing import write_random_checkpoint
from test.s1_http_rig import navdp_app, serve

H, W = 96, 128
K = Intrinsics.from_fov(W, H, 1.2).matrix4().tolist()


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    d = tmp_path_factory.mktemp("navdp_srv")
    return {cm: write_random_checkpoint(d / f"s{cm}.ckpt", cm, NavDPConfig.small(cm)) for cm in (False, True)}


@pytest.fixture(scope="module")
def cross_server(ckpts):
    with serve(navdp_app(ckpts[True], True)) as url:
        yield url, urlsplit(url).port


def _batch(b: int):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (H * b, W, 3), dtype=np.uint8)
    depth = rng.uniform(0.2, 4.0, (H * b, W)).astype(np.float32)
    return {"image": ("rgb.jpg", encode_rgb_jpeg(rgb), "image/jpeg"),
            "depth": ("depth.png", encode_depth_png(depth), "image/png")}


def _reset(url: str, b: int, path: str = "/navigator_reset"):
    r = requests.post(url + path, json={"intrinsic": K, "stop_threshold": -3.0, "batch_size": b}, timeout=10)
    assert r.status_code == 200 and r.json()["algo"] == "navdp"


def test_round_trip_batch_2_all_routes(cross_server):
    url, _ = cross_server
    _reset(url, 2)
    goals = {"/pointgoal_step": {"goal_x": [1.0, 2.0], "goal_y": [0.0, -1.0]},
             "/navdp_step_xy": {"goal_x": [1.0, 2.0], "goal_y": [0.0, -1.0]},
             "/pixelgoal_step": {"goal_x": [0, W - 1], "goal_y": [H - 1, 0]},
             "/nogoal_step": None, "/navdp_step_nogoal": None, "/imagegoal_step": None}
    for path, goal in goals.items():
        files = _batch(2)
        if path == "/imagegoal_step":
            files["goal"] = ("goal.jpg", encode_rgb_jpeg(np.zeros((2 * H, W, 3), np.uint8)), "image/jpeg")
        data = {"goal_data": json.dumps(goal)} if goal else {}
        r = requests.post(url + path, files=files, data=data, timeout=30)
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        assert np.asarray(body["trajectory"]).shape == (2, 24, 3)
        assert np.asarray(body["all_trajectory"]).shape == (2, 16, 24, 3)
        assert np.asarray(body["all_values"]).shape == (2, 16)
        assert len(body["no_safe_path"]) == 2
    assert requests.post(url + "/navigator_reset_env", json={"env_id": 1}, timeout=5).status_code == 200
    assert requests.post(url + "/navdp_reset_env", json={"env_id": 5}, timeout=5).status_code == 400
    assert requests.get(url + "/health", timeout=5).json()["status"] == "ok"


def test_bad_inputs_get_4xx_json(cross_server, ckpts):
    url, _ = cross_server
    _reset(url, 1, "/navdp_reset")
    point = {"goal_data": json.dumps({"goal_x": [1.0], "goal_y": [0.0]})}

    def post(path, files, data):
        r = requests.post(url + path, files=files, data=data, timeout=30)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
        assert isinstance(r.json()["detail"], str)
        return r

    corrupt = _batch(1)
    corrupt["image"] = ("rgb.jpg", b"\xff\xd8garbage", "image/jpeg")
    post("/pointgoal_step", corrupt, point)
    bad_depth = _batch(1)
    bad_depth["depth"] = ("d.png", encode_rgb_jpeg(np.zeros((H, W, 3), np.uint8)), "image/jpeg")
    post("/pointgoal_step", bad_depth, point)
    mismatch = _batch(1)
    mismatch["depth"] = ("d.png", encode_depth_png(np.ones((H, W + 2), np.float32)), "image/png")
    assert "differ" in post("/pointgoal_step", mismatch, point).json()["detail"]
    post("/pointgoal_step", _batch(1), {})
    post("/pointgoal_step", _batch(1), {"goal_data": "{not json"})
    post("/pointgoal_step", _batch(1), {"goal_data": json.dumps({"goal_x": [1.0]})})
    post("/pointgoal_step", _batch(1), {"goal_data": json.dumps({"goal_x": ["a"], "goal_y": [0]})})
    post("/pixelgoal_step", _batch(1), {"goal_data": json.dumps({"goal_x": [W], "goal_y": [0]})})
    post("/pointgoal_step", _batch(1), {"goal_data": json.dumps({"goal_x": [1.0, 2.0], "goal_y": [0.0, 0.0]})})
    post("/imagegoal_step", _batch(1), {})
    with serve(navdp_app(ckpts[False], False)) as url2:
        r = requests.post(url2 + "/pointgoal_step", files=_batch(1), data=point, timeout=10)
        assert r.status_code == 409 and "reset" in r.json()["detail"]
        _reset(url2, 1)
        r = requests.post(url2 + "/pixelgoal_step", files=_batch(1),
                          data={"goal_data": json.dumps({"goal_x": [3], "goal_y": [3]})}, timeout=10)
        assert r.status_code == 400 and "navdp-cross-modal.ckpt" in r.json()["detail"]
        ok = requests.post(url2 + "/navdp_step_xy", files=_batch(1), data=point, timeout=30)
        assert ok.status_code == 200


def test_client_plans_over_http(cross_server):
    _, port = cross_server
    intr = Intrinsics.from_fov(W, H, 1.2)
    client = S1Client("127.0.0.1", port, timeout_s=30.0, intrinsics=intr)
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    depth = rng.uniform(0.2, 4.0, (H, W)).astype(np.float32)
    for goal in (PointGoal(2.0, 0.0), PixelGoal(0, 0), NoGoal()):
        plan = client.plan(rgb, depth, intr, goal)
        assert plan.best.shape == (24, 3) and plan.candidates.shape == (16, 24, 3) and plan.values.shape == (16,)
        assert plan.latency_s > 0 and plan.chosen_index == int(np.argmax(plan.values))
    with pytest.raises(S1Error):
        client.plan(rgb, depth[:, :10], intr, PointGoal(1.0, 0.0))


def test_client_times_out_against_a_sleeping_server():
    app = FastAPI()

    @app.post("/navigator_reset")
    def slow_reset() -> dict:
        time.sleep(1.5)
        return {"algo": "navdp"}

    intr = Intrinsics.from_fov(W, H, 1.2)
    with serve(app) as url:
        client = S1Client("127.0.0.1", urlsplit(url).port, timeout_s=0.3, intrinsics=intr)
        t0 = time.monotonic()
        with pytest.raises(S1Unavailable):
            client.plan(np.zeros((H, W, 3), np.uint8), np.ones((H, W), np.float32), intr, PointGoal(1, 0))
        assert time.monotonic() - t0 < 2.0
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(S1Unavailable):
        S1Client("127.0.0.1", dead_port, timeout_s=0.5).plan(np.zeros((H, W, 3), np.uint8),
                                                            np.ones((H, W), np.float32), intr, NoGoal())


def test_cli_refuses_a_checkpoint_of_the_wrong_layout(ckpts, capsys, tmp_path):
    """A tiny checkpoint loads by path (its sizes are inferred), so the wrong layout is made
    explicitly: one tensor of the cross-modal file saved with another shape."""
    import torch

    from s1_server.cli import main

    state = torch.load(ckpts[True], map_location="cpu", weights_only=True)
    state["input_embed.weight"] = state["input_embed.weight"][:, :2].clone()
    bad = tmp_path / "bad.ckpt"
    torch.save(state, bad)
    assert main(["--backend", "navdp", "--checkpoint", str(bad), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "navdp-cross-modal.ckpt" in err and "Shape mismatches" in err
