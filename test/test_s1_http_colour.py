"""S1 image colour over real HTTP: what the planner receives for each way clients encode images.

Three encodings seen in deployments, one red patch each:
- NavDP's own clients: cv2.imencode of an RGB array, server default (`client_color=rgb`);
- the LingNav Jetson client: cv2.imencode of a BGR camera array, server `client_color=bgr`;
- a true-colour JPEG written by PIL from an RGB picture, server `client_color=bgr`.
In all three the planner must see red as red (RGB). The planner here records what it is handed;
the code under test is everything from the socket to plan().
"""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
import requests
from PIL import Image

from lingnav_core.camera import Intrinsics
from lingnav_core.s1_plan import ImageGoal, PointGoal
from s1_server.http_client import S1Client
from s1_server.options import S1Settings
from test.s1_http_rig import H, W, cv2_jpeg, depth_png, goal_data, pil_jpeg, recording_app, reset_body, serve

RED_RGB = (230, 20, 30)
PATCH = (slice(32, 64), slice(48, 96))  # rows, columns of the red patch (JPEG keeps flat 8x8 blocks)


def red_patch_rgb() -> np.ndarray:
    rgb = np.full((H, W, 3), 128, np.uint8)
    rgb[PATCH] = RED_RGB
    return rgb


def patch_colour(rgb: np.ndarray) -> np.ndarray:
    return rgb[40:56, 60:84].reshape(-1, 3).mean(axis=0)


def assert_red(rgb: np.ndarray) -> None:
    r, g, b = patch_colour(rgb)
    assert r > 200 and g < 50 and b < 60, f"planner got ({r:.0f}, {g:.0f}, {b:.0f}) where red (RGB) was"


def step(url: str, image_bytes: bytes) -> None:
    assert requests.post(url + "/navigator_reset", json=reset_body(), timeout=10).status_code == 200
    depth = depth_png(np.full((H, W), 2.0, np.float32))
    r = requests.post(url + "/pointgoal_step", data=goal_data([1.0], [0.0]), timeout=10,
                      files={"image": ("i.jpg", image_bytes, "image/jpeg"), "depth": ("d.png", depth, "image/png")})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("encoding, server_color", [
    ("navdp_client_rgb_array", "rgb"),
    ("jetson_client_bgr_array", "bgr"),
    ("true_colour_pil_jpeg", "bgr"),
])
def test_planner_sees_rgb_for_each_field_encoding(encoding, server_color):
    rgb = red_patch_rgb()
    image_bytes = {"navdp_client_rgb_array": lambda: cv2_jpeg(rgb),
                   "jetson_client_bgr_array": lambda: cv2_jpeg(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)),
                   "true_colour_pil_jpeg": lambda: pil_jpeg(rgb)}[encoding]()
    app = recording_app(settings=S1Settings(client_color=server_color))
    with serve(app) as url:
        step(url, image_bytes)
    assert_red(app.state.log[-1]["rgb"])


def test_default_matches_the_official_decode():
    """The official server opens the JPEG with PIL, converts to RGB, then swaps RGB->BGR: its agent
    gets exactly the array the client passed to cv2.imencode. Ours must hand over the same array,
    so a Jetson BGR array reaches the planner as BGR by default, just as it reaches the official one."""
    rgb = red_patch_rgb()
    bgr_bytes = cv2_jpeg(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    official = cv2.cvtColor(np.asarray(Image.open(io.BytesIO(bgr_bytes)).convert("RGB")), cv2.COLOR_RGB2BGR)
    app = recording_app()
    with serve(app) as url:
        step(url, bgr_bytes)
    got = app.state.log[-1]["rgb"]
    assert np.abs(got.astype(int) - official.astype(int)).max() <= 3  # two libjpeg builds, same bytes
    r, g, b = patch_colour(got)
    assert b > 200 and r < 60, "default must not swap: the Jetson's BGR array arrives as it was sent"


@pytest.mark.parametrize("server_color", ["rgb", "bgr"])
def test_s1_client_puts_rgb_into_the_planner(server_color):
    """Our robot client encodes for the server's convention; point and image goals alike."""
    app = recording_app(settings=S1Settings(client_color=server_color))
    intr = Intrinsics.from_fov(W, H, 1.2)
    with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        client = S1Client("127.0.0.1", port, timeout_s=10, client_color=server_color)
        client.plan(red_patch_rgb(), np.full((H, W), 2.0, np.float32), intr, PointGoal(1.0, 0.0))
        client.plan(red_patch_rgb(), np.full((H, W), 2.0, np.float32), intr, ImageGoal(red_patch_rgb()))
    assert_red(app.state.log[0]["rgb"])
    assert_red(app.state.log[1]["rgb"])
    assert_red(app.state.log[1]["goal"].rgb)
