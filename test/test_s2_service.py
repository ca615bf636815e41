"""The S2 HTTP service on 127.0.0.1: color backend answers, every bad input, auth, queue limits,
and the OpenAI-compatible backend against a minimal server started here."""
import threading
import time

import cv2
import numpy as np
import pytest
import requests

from lingnav_ros.sim.simulator import Simulator
from lingnav_ros.sim.world import from_dict
from s2_server.app import ServerSettings, create_app
from s2_server.backends.color_backend import ColorBackend
from s2_server.http_client import S2BadRequest, S2Client, S2Unavailable
from s2_server.images import encode_jpeg
from test.navigator_rig import ServerThread


def _view(objects, yaw=0.0):
    """A rendered camera view of a small room with `objects` (simulator renderer)."""
    world = from_dict({"room": [-1, -3, 6, 3], "start": [0, 0, yaw], "objects": objects})
    rgb, _ = Simulator(world).render()
    return rgb


RED_AHEAD = [{"label": "red chair", "x": 3.0, "y": 0.0, "size": [0.5, 0.5], "color": "red"}]


@pytest.fixture(scope="module")
def color_server():
    server = ServerThread(lambda: create_app(ColorBackend())).start()
    yield server
    server.stop()


def _post(port, files=None, data=None, headers=None, path="/step"):
    return requests.post(f"http://127.0.0.1:{port}{path}", files=files, data=data, headers=headers, timeout=10)


def test_visible_target_is_a_pixel_in_the_received_image(color_server):
    rgb = _view(RED_AHEAD)
    client = S2Client("127.0.0.1", color_server.port)
    d = client.step(rgb, "go to the red chair")
    assert d.kind == "pixel" and d.visible and d.target == "red chair"
    u, v = d.point_2d_pixel
    assert abs(u - rgb.shape[1] / 2) < 20  # straight ahead
    # the same view at twice the resolution gives the same point in that image's pixels
    big = cv2.resize(rgb, (rgb.shape[1] * 2, rgb.shape[0] * 2), interpolation=cv2.INTER_NEAREST)
    d2 = client.step(big, "go to the red chair")
    assert abs(d2.point_2d_pixel[0] - 2 * u) <= 4 and abs(d2.point_2d_pixel[1] - 2 * v) <= 4
    assert client.health()["backend"] == "color"


def test_invisible_target_gives_a_search_turn_and_field_alias_works(color_server):
    rgb = _view([{"label": "red chair", "x": -0.5, "y": 2.5, "color": "red"}])
    r = _post(color_server.port, files={"image": ("f.jpg", encode_jpeg(rgb), "image/jpeg")},
              data={"instruction": "go to the red chair"}, path="/s2_step")
    body = r.json()
    assert r.status_code == 200 and body["kind"] == "move" and not body["visible"]
    assert body["navigation"] in ("←←", "→→") and body["point_2d_pixel"] is None
    assert body["tasks"][-1]["task"] == "move"


def test_distractors_do_not_fool_the_color_backend():
    rgb = _view([{"label": "blue box", "x": 3.0, "y": 1.2, "color": "blue"},
                 {"label": "red box", "x": 3.0, "y": -1.2, "color": "red"},
                 {"label": "green bin", "type": "cylinder", "x": 4.0, "y": 0.0, "color": "green"}])
    from s2_server.coords import RELATIVE, CoordFrame
    from s2_server.parser import parse

    d = parse(ColorBackend().answer(rgb, "go to the red box"), CoordFrame(RELATIVE, rgb.shape[1], rgb.shape[0]))
    assert d.kind == "pixel" and d.point_2d_pixel[0] > rgb.shape[1] / 2  # red box is on the right (y < 0)
    d = parse(ColorBackend().answer(rgb, "find the blue box"), CoordFrame(RELATIVE, rgb.shape[1], rgb.shape[0]))
    assert d.kind == "pixel" and d.point_2d_pixel[0] < rgb.shape[1] / 2


def test_close_target_means_stop():
    rgb = _view([{"label": "red chair", "x": 0.75, "y": 0.0, "size": [0.6, 0.8], "height": 1.0, "color": "red"}])
    assert '"stop"' in ColorBackend().answer(rgb, "go to the red chair")


@pytest.mark.parametrize("files,data,status", [
    ({"instruction": (None, "go")}, None, 400),                               # no image
    ({"image": ("x.jpg", b"\xff\xd8garbage", "image/jpeg")}, {"instruction": "go"}, 400),  # corrupt JPEG
    ({"image": ("x.txt", b"hello", "text/plain")}, {"instruction": "go"}, 400),  # not an image
    ({"image": ("x.jpg", "JPEG", "image/jpeg")}, {"instruction": "   "}, 400),  # empty instruction
])
def test_bad_requests_get_4xx_json(color_server, files, data, status):
    if files and files.get("image", (None, None))[1] == "JPEG":
        files = {"image": ("x.jpg", encode_jpeg(np.zeros((48, 64, 3), np.uint8)), "image/jpeg")}
    r = _post(color_server.port, files=files, data=data)
    assert r.status_code == status
    assert r.json()["error"] == r.json()["detail"]


def test_wrong_content_type_is_415(color_server):
    r = requests.post(f"http://127.0.0.1:{color_server.port}/step", json={"instruction": "go"}, timeout=5)
    assert r.status_code == 415 and "multipart" in r.json()["detail"]


def test_oversized_upload_is_413():
    server = ServerThread(lambda: create_app(ColorBackend(), ServerSettings(max_upload_mb=0.05))).start()
    try:
        big = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
        r = _post(server.port, files={"image": ("x.jpg", encode_jpeg(big, 100), "image/jpeg")},
                  data={"instruction": "go to the red chair"})
        assert r.status_code == 413 and r.json()["detail"]
    finally:
        server.stop()


def test_token_is_required_when_configured():
    server = ServerThread(lambda: create_app(ColorBackend(), ServerSettings(token="s3cret"))).start()
    try:
        rgb = _view(RED_AHEAD)
        with pytest.raises(S2BadRequest, match="401"):
            S2Client("127.0.0.1", server.port).step(rgb, "go to the red chair")
        assert S2Client("127.0.0.1", server.port, token="s3cret").step(rgb, "go to the red chair").kind == "pixel"
    finally:
        server.stop()


class _SlowBackend(ColorBackend):
    def generate(self, batch):
        time.sleep(0.5)
        return super().generate(batch)


def test_full_queue_answers_503_with_retry_after():
    server = ServerThread(lambda: create_app(_SlowBackend(), ServerSettings(queue_size=1, max_batch=1))).start()
    try:
        jpeg = encode_jpeg(_view(RED_AHEAD))
        codes, headers = [], []

        def one():
            r = _post(server.port, files={"image": ("f.jpg", jpeg, "image/jpeg")},
                      data={"instruction": "go to the red chair"})
            codes.append(r.status_code)
            headers.append(r.headers.get("retry-after"))

        threads = [threading.Thread(target=one) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert 200 in codes and 503 in codes
        assert "1" in headers
    finally:
        server.stop()


def test_client_raises_unavailable_when_server_is_down():
    server = ServerThread(lambda: create_app(ColorBackend())).start()
    port = server.port
    server.stop()
    t0 = time.monotonic()
    with pytest.raises(S2Unavailable):
        S2Client("127.0.0.1", port, timeout_s=1.0, retries=1, backoff_s=0.05).step(_view(RED_AHEAD), "go")
    assert time.monotonic() - t0 < 5.0


def test_openapi_schema_lists_the_api(color_server):
    schema = requests.get(f"http://127.0.0.1:{color_server.port}/openapi.json", timeout=5).json()
    assert {"/health", "/step", "/s2_step"} <= set(schema["paths"])
