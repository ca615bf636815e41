"""Contract test, S1 side, written from the documented deployed formats.

Requests are built exactly as existing robot clients build them: `cv2.imencode` JPEG of the
array the client holds, depth as a uint16 PNG of metres x 10000, `goal_data` JSON, reset JSON
with `intrinsic` (3x3 or 4x4), `stop_threshold` and `batch_size`, two robots' frames stacked
vertically. Responses are read as the deployed pipeline reads them: `trajectory` [B,24,3],
`all_trajectory` [B,16,24,3], `all_values` [B,16], and the best value against `stop_threshold`.
Backends: geometric (no weights) and NavDP with tiny random checkpoints in the official layouts.
"""
from __future__ import annotations

import numpy as np
import pytest
import requests

from lingnav_core.camera import Intrinsics
from s1_server.navdp.model import NavDPConfig
from s1_server.testing import write_random_checkpoint
from test.s1_http_rig import K3, K4, H, W, cv2_jpeg, depth_png, geometric_app, goal_data, navdp_app, serve

B = 2
CAMERA_HEIGHT_M = 0.3


def scene(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A floor seen from 0.3 m with a wall 4 m ahead, as an RGB array and depth in metres."""
    intr = Intrinsics.from_matrix(np.asarray(K4), W, H)
    v = np.arange(H, dtype=np.float32)[:, None] - intr.cy
    floor = np.where(v > 0.5, CAMERA_HEIGHT_M * intr.fy / np.maximum(v, 0.5), np.inf)
    depth = np.minimum(np.broadcast_to(floor, (H, W)), 4.0).astype(np.float32)
    rng = np.random.default_rng(seed)
    rgb = np.where(depth[..., None] < 4.0, 110, 200).astype(np.uint8) + rng.integers(0, 8, (H, W, 3), np.uint8)
    return rgb, depth


def field_step_files(with_goal_image: str | None = None) -> dict:
    frames = [scene(i) for i in range(B)]
    rgb = np.concatenate([f[0] for f in frames])  # B frames stacked vertically
    depth = np.concatenate([f[1] for f in frames])
    files = {"image": ("image.jpg", cv2_jpeg(rgb), "image/jpeg"),
             "depth": ("depth.png", depth_png(depth), "image/png")}
    if with_goal_image:
        files[with_goal_image] = ("goal.jpg", cv2_jpeg(rgb[::-1].copy()), "image/jpeg")
    return files


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    d = tmp_path_factory.mktemp("s1_contract")
    cross = write_random_checkpoint(d / "cross.ckpt", True, NavDPConfig.small(True))
    original = write_random_checkpoint(d / "original.ckpt", False, NavDPConfig.small(False))
    with serve(geometric_app()) as geo, serve(navdp_app(cross, True)) as xm, serve(navdp_app(original, False)) as og:
        yield {"geometric": geo, "navdp_cross_modal": xm, "navdp_original": og}


# route, goal_data, goal image field: what each backend's existing clients send
POINT = ("/pointgoal_step", goal_data([1.5, 2.0], [0.0, -0.5]), None)
PIXEL = ("/pixelgoal_step", goal_data([W // 2, 10], [H - 10, H // 2]), None)
NOGOAL = ("/nogoal_step", {}, None)
IMAGE = ("/imagegoal_step", {}, "goal")
ORIGINAL_POINT = ("/navdp_step_xy", goal_data([1.5, 2.0], [0.0, -0.5]), None)
ORIGINAL_NOGOAL = ("/navdp_step_nogoal", {}, None)
ROUTES = {"geometric": ("/navigator_reset", [POINT, PIXEL, NOGOAL]),
          "navdp_cross_modal": ("/navigator_reset", [POINT, PIXEL, NOGOAL, IMAGE]),
          "navdp_original": ("/navdp_reset", [ORIGINAL_POINT, ORIGINAL_NOGOAL, POINT, NOGOAL])}


def reset(url: str, path: str, intrinsic, stop_threshold: float) -> None:
    r = requests.post(url + path, json={"intrinsic": intrinsic, "stop_threshold": stop_threshold, "batch_size": B},
                      timeout=30)
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["algo"], str)


def field_step(url: str, route: tuple) -> dict:
    path, data, goal_field = route
    r = requests.post(url + path, files=field_step_files(goal_field), data=data, timeout=60)
    assert r.status_code == 200, (path, r.text[:300])
    return r.json()


def read_as_field_pipeline(body: dict, stop_threshold: float) -> None:
    trajectory = np.asarray(body["trajectory"], dtype=float)
    values = [np.asarray(v, dtype=float) for v in body["all_values"]]
    candidates = [np.asarray(c, dtype=float) for c in body["all_trajectory"]]
    assert trajectory.shape == (B, 24, 3)
    assert len(values) == len(candidates) == B
    for b in range(B):
        assert np.isfinite(values[b]).all() and np.isfinite(candidates[b]).all()
        best = int(np.argmax(values[b]))
        np.testing.assert_allclose(trajectory[b], candidates[b][best], atol=1e-6)
        stop = values[b][best] < stop_threshold  # the deployed pipeline's reading: below it, the approach ends
        assert body["no_safe_path"][b] == stop


@pytest.mark.parametrize("backend", list(ROUTES))
@pytest.mark.parametrize("intrinsic, stop_threshold", [(K4, -3.0), (K3, -0.5)], ids=["4x4_lingnav", "3x3_navdp"])
def test_field_requests_work_on_every_route(servers, backend, intrinsic, stop_threshold):
    url = servers[backend]
    reset_path, routes = ROUTES[backend]
    reset(url, reset_path, intrinsic, stop_threshold)
    for route in routes:
        read_as_field_pipeline(field_step(url, route), stop_threshold)
    assert requests.post(url + "/navigator_reset_env", json={"env_id": 1}, timeout=10).status_code == 200


@pytest.mark.parametrize("backend", ["geometric", "navdp_cross_modal",
                                     "navdp_original"])
def test_navdp_candidate_shapes(servers, backend):
    url = servers[backend]
    reset_path, routes = ROUTES[backend]
    reset(url, reset_path, K4, -3.0)
    body = field_step(url, routes[0])
    assert np.asarray(body["all_trajectory"]).shape == (B, 16, 24, 3)
    assert np.asarray(body["all_values"]).shape == (B, 16)


@pytest.mark.parametrize("backend", ["navdp_cross_modal"])
def test_mixed_point_image_goal_on_navdp(servers, backend):
    url = servers[backend]
    reset(url, "/navigator_reset", K4, -3.0)
    body = field_step(url, ("/navdp_step_ip_mixgoal", goal_data([1.5, 2.0], [0.0, -0.5]), "image_goal"))
    read_as_field_pipeline(body, -3.0)
    assert np.asarray(body["all_trajectory"]).shape == (B, 16, 24, 3)


@pytest.mark.parametrize("backend", ["geometric", "navdp_original"])
def test_backends_without_goal_encoders_say_why(servers, backend):
    url = servers[backend]
    reset(url, ROUTES[backend][0], K4, -3.0)
    for path, data, field in (("/navdp_step_ip_mixgoal", goal_data([1.0, 1.0], [0.0, 0.0]), "image_goal"),
                              ("/imagegoal_step", {}, "goal")):
        r = requests.post(url + path, files=field_step_files(field), data=data, timeout=30)
        assert r.status_code == 400, r.text
        reason = r.json()["error"]
        assert "cannot plan" in reason and ("cross-modal" in reason or "geometric" in reason)
