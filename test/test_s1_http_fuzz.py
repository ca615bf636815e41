"""Bounded fuzz of the S1 server (geometric backend, real HTTP): whatever a client sends, the answer
is a 2xx or a 4xx with `{"error": reason}`, never a 5xx, and the server keeps answering.
`bench/fuzz.py` runs the long version (thousands of requests, both servers)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s1_server.server import STEP_ROUTES
from test.s1_http_rig import K4, H, W, cv2_jpeg, depth_png, geometric_app, png_header_only, reset_body, serve

_RGB = np.random.default_rng(1).integers(0, 256, (H, W, 3), dtype=np.uint8)
VALID_JPEG = cv2_jpeg(_RGB)
VALID_DEPTH = depth_png(np.full((H, W), 2.0, np.float32))
IMAGES = [VALID_JPEG, VALID_JPEG[: len(VALID_JPEG) // 2], VALID_DEPTH, png_header_only(20000, 20000), b"",
          cv2_jpeg(np.zeros((H + 1, W, 3), np.uint8))]
DEPTHS = [VALID_DEPTH, VALID_DEPTH[:100], VALID_JPEG, png_header_only(9000, 9000), b"\x89PNG\r\n\x1a\n",
          depth_png(np.full((H, W + 3), 1.0, np.float32))]
PATHS = [*STEP_ROUTES, "/navigator_reset", "/navdp_reset", "/navigator_reset_env", "/health", "/docs", "/x"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_subnormal=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)
reset_like = st.fixed_dictionaries({}, optional={
    "intrinsic": st.sampled_from([K4, [row[:3] for row in K4[:3]]]) | json_values,
    "stop_threshold": st.floats(allow_subnormal=False) | json_values,
    "batch_size": st.integers(-2, 70) | json_values,
    "camera_pitch_rad": st.floats(allow_subnormal=False),
    "env_id": st.integers(-2, 3) | json_values})
goal_like = st.fixed_dictionaries({}, optional={
    "goal_x": st.lists(st.floats(allow_subnormal=False) | st.integers(-500, 500), max_size=3) | json_values,
    "goal_y": st.lists(st.floats(allow_subnormal=False) | st.integers(-500, 500), max_size=3) | json_values})


def _json_text(value) -> str:
    return json.dumps(value, allow_nan=True)  # NaN/Infinity on the wire, as a careless client writes them


@st.composite
def requests_(draw):
    path = draw(st.sampled_from(PATHS))
    kind = draw(st.sampled_from(["multipart", "json", "bytes", "deep"]))
    if kind == "json":
        return path, {"data": _json_text(draw(reset_like | json_values)),
                      "headers": {"Content-Type": "application/json"}}
    if kind == "bytes":
        ctype = draw(st.sampled_from(["multipart/form-data; boundary=xyz", "multipart/form-data", "text/plain", ""]))
        return path, {"data": draw(st.binary(max_size=300)), "headers": {"Content-Type": ctype} if ctype else {}}
    if kind == "deep":
        depth = draw(st.integers(100, 5000))
        return path, {"data": "[" * depth + "]" * depth, "headers": {"Content-Type": "application/json"}}
    files = {}
    if draw(st.booleans()):
        files["image"] = ("i.jpg", draw(st.sampled_from(IMAGES)), "image/jpeg")
    if draw(st.booleans()):
        files["depth"] = ("d.png", draw(st.sampled_from(DEPTHS)), "image/png")
    for name in ("goal", "image_goal"):
        if draw(st.integers(0, 3)) == 0:
            files[name] = ("g.jpg", draw(st.sampled_from(IMAGES)), "image/jpeg")
    data = {}
    if draw(st.booleans()):
        data["goal_data"] = _json_text(draw(goal_like)) if draw(st.booleans()) else draw(st.text(max_size=30))
    return path, {"files": files or {"x": ("x", b"", "x/y")}, "data": data}


@pytest.fixture(scope="module")
def fuzz_server():
    with serve(geometric_app()) as url:
        assert requests.post(url + "/navigator_reset", json=reset_body(1), timeout=10).status_code == 200
        yield url


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests_())
def test_fuzzed_requests_never_get_5xx(fuzz_server, request):
    path, kwargs = request
    method = "GET" if path in ("/health", "/docs") else "POST"
    r = requests.request(method, fuzz_server + path, timeout=30, **kwargs)
    assert r.status_code < 500, (path, r.status_code, r.text[:300])
    if r.status_code >= 400 and path != "/docs":
        body = r.json()
        assert isinstance(body.get("error"), str) and body["error"], body
    assert requests.get(fuzz_server + "/health", timeout=10).json()["status"] == "ok"
