"""S1's door over real HTTP: bad numbers, decompression bombs, chunked uploads, deep JSON, the
bearer token, the bounded queue, the mixed point + image goal, and one error shape throughout."""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
import requests
from urllib3 import encode_multipart_formdata

from lingnav_core.camera import Intrinsics
from lingnav_core.s1_plan import PointGoal, PointImageGoal, S1Error, S1Unavailable
from s1_server.cli import build_parser
from s1_server.http_client import S1Client
from s1_server.options import S1Settings, settings_from_args
from test.s1_http_rig import (
    K3,
    K4,
    H,
    W,
    cv2_jpeg,
    depth_png,
    frames,
    geometric_app,
    goal_data,
    png_header_only,
    recording_app,
    reset_body,
    serve,
    step_files,
)


def assert_error(r: requests.Response, status: int, *words: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert isinstance(body["error"], str) and body["error"], body
    for word in words:
        assert word in body["error"], (word, body["error"])
    return body


@pytest.fixture(scope="module")
def rec():
    app = recording_app()
    with serve(app) as url:
        yield url, app


def test_reset_numbers_are_checked(rec):
    url, _ = rec

    def reset(body, *words):
        data = body if isinstance(body, str) else json.dumps(body)
        r = requests.post(url + "/navigator_reset", data=data, headers={"Content-Type": "application/json"},
                          timeout=10)
        return assert_error(r, 400, *words)

    base = reset_body()
    k4 = json.dumps(K4)
    reset(f'{{"intrinsic": {k4}, "stop_threshold": NaN, "batch_size": 1}}', "NaN")
    reset({**base, "stop_threshold": 1e400}, "Infinity")  # json.dumps writes the constant Infinity
    reset(f'{{"intrinsic": {k4}, "stop_threshold": 1e400, "batch_size": 1}}', "stop_threshold")
    reset({**base, "stop_threshold": "low"}, "stop_threshold")
    reset({**base, "camera_pitch_rad": 4.0}, "camera_pitch_rad")
    reset({**base, "camera_height_m": -1.0}, "camera_height_m")
    for batch in (0, 65, 1.5, True, "2", None):
        reset({**base, "batch_size": batch}, "batch_size")
    for k in ([[1, 0], [0, 1]], [[0, 0, 64], [0, 100, 48], [0, 0, 1]], [[100, 0, 64], [0, -5, 48], [0, 0, 1]],
              [[100, 0, None], [0, 100, 48], [0, 0, 1]], "K", [[True, 0, 1], [0, 1, 1], [0, 0, 1]]):
        reset({**base, "intrinsic": k}, "intrinsic")
    reset({"stop_threshold": -3.0}, "intrinsic")
    reset([1, 2, 3], "JSON object")
    reset("{not json", "JSON")
    reset("[" * 30_000 + "]" * 30_000, "nested")  # under the 64 KB body limit, deep enough to recurse
    reset({**base, "intrinsic": [[[[[[[[[[1]]]]]]]]]]}, "nested")
    ok = requests.post(url + "/navigator_reset", json=reset_body(2, K3, -0.5), timeout=10)
    assert ok.status_code == 200 and ok.json() == {"algo": "recording"}
    for env in (2, -1, True, 0.5, "0"):
        assert_error(requests.post(url + "/navigator_reset_env", json={"env_id": env}, timeout=5), 400, "env_id")
    assert requests.post(url + "/navigator_reset_env", json={"env_id": 1}, timeout=5).status_code == 200


def test_goal_numbers_are_checked(rec):
    url, app = rec
    assert requests.post(url + "/navigator_reset", json=reset_body(1), timeout=10).status_code == 200

    def step(path, data, *words):
        return assert_error(requests.post(url + path, files=step_files(), data=data, timeout=10), 400, *words)

    step("/pointgoal_step", {"goal_data": '{"goal_x": [NaN], "goal_y": [0]}'}, "NaN")
    step("/pointgoal_step", {"goal_data": '{"goal_x": [1e999], "goal_y": [0]}'}, "goal_x")
    step("/pointgoal_step", goal_data([5000.0], [0.0]), "goal_x")
    step("/pointgoal_step", goal_data([True], [0.0]), "goal_x")
    step("/pointgoal_step", goal_data(["1"], [0.0]), "goal_x")
    step("/pointgoal_step", goal_data([1.0, 2.0], [0.0, 0.0]), "1 goal")
    step("/pointgoal_step", {"goal_data": "[" * 30_000 + "]" * 30_000}, "nested")
    step("/pointgoal_step", {}, "goal_data")
    step("/pixelgoal_step", goal_data([W], [0]), "outside")
    step("/pixelgoal_step", goal_data([-1], [0]), "outside")
    n = len(app.state.log)
    r = requests.post(url + "/pixelgoal_step", files=step_files(), data=goal_data([10.4], [H - 1]), timeout=10)
    assert r.status_code == 200, r.text
    goal = app.state.log[n]["goal"]
    assert (goal.u, goal.v) == (10, H - 1) and isinstance(goal.u, int)  # integer pixels, as NavDP indexes


def test_decompression_bombs_get_413_before_decoding(rec):
    url, _ = rec
    assert requests.post(url + "/navigator_reset", json=reset_body(1), timeout=10).status_code == 200
    bomb = png_header_only(16000, 16000)
    assert len(bomb) < 2000
    point = goal_data([1.0], [0.0])
    depth_bomb = {**step_files(), "depth": ("d.png", bomb, "image/png")}
    assert_error(requests.post(url + "/pointgoal_step", files=depth_bomb, data=point, timeout=10), 413, "pixels")
    image_bomb = {**step_files(), "image": ("i.png", png_header_only(16000, 16000, 8, 2), "image/png")}
    assert_error(requests.post(url + "/pointgoal_step", files=image_bomb, data=point, timeout=10), 413, "pixels")
    not_png = {**step_files(), "depth": ("d.jpg", cv2_jpeg(np.zeros((H, W, 3), np.uint8)), "image/jpeg")}
    assert_error(requests.post(url + "/pointgoal_step", files=not_png, data=point, timeout=10), 400, "depth")
    corrupt = {**step_files(), "image": ("i.jpg", b"\xff\xd8\xff\xe0garbage", "image/jpeg")}
    assert_error(requests.post(url + "/pointgoal_step", files=corrupt, data=point, timeout=10), 400, "image")


def test_a_real_oversized_image_is_refused_by_its_header():
    app = recording_app(settings=S1Settings(max_image_pixels=W * H * 2))
    with serve(app) as url:
        assert requests.post(url + "/navigator_reset", json=reset_body(4), timeout=10).status_code == 200
        files = step_files(batch=4)
        r = requests.post(url + "/nogoal_step", files=files, timeout=10)
        assert_error(r, 413, f"{W}x{4 * H}")
        assert app.state.log == []


def test_body_limit_holds_for_chunked_uploads():
    app = recording_app(settings=S1Settings(max_upload_mb=0.05))  # 52 KB
    with serve(app) as url:
        assert requests.post(url + "/navigator_reset", json=reset_body(1), timeout=10).status_code == 200
        rgb, depth = frames(1)
        fields = {"image": ("i.jpg", cv2_jpeg(rgb), "image/jpeg"), "depth": ("d.png", depth_png(depth), "image/png")}
        small, ctype = encode_multipart_formdata(fields)
        assert len(small) < 0.05 * 1024 * 1024
        big, big_ctype = encode_multipart_formdata({**fields, "pad": ("p.bin", b"\0" * 200_000, "x/y")})

        def chunked(body: bytes):  # a generator body makes requests send Transfer-Encoding: chunked
            yield from (body[i:i + 8192] for i in range(0, len(body), 8192))

        r = requests.post(url + "/nogoal_step", data=chunked(small), headers={"Content-Type": ctype}, timeout=10)
        assert r.status_code == 200, r.text
        assert r.request.headers.get("Transfer-Encoding") == "chunked"
        r = requests.post(url + "/nogoal_step", data=chunked(big), headers={"Content-Type": big_ctype}, timeout=10)
        assert_error(r, 413, "larger")
        r = requests.post(url + "/nogoal_step", data=big, headers={"Content-Type": big_ctype}, timeout=10)
        assert_error(r, 413, "larger")
        assert_error(requests.post(url + "/nogoal_step", data=b"x", headers={"Content-Type": "text/plain"},
                                   timeout=10), 415)


def test_token_guards_api_and_docs_but_not_health(tmp_path, monkeypatch):
    token_file = tmp_path / "s1.token"
    token_file.write_text("s3cret-token\n")
    settings = settings_from_args(build_parser().parse_args(["--backend", "geometric", "--token_file",
                                                             str(token_file)]))
    assert settings.token == "s3cret-token"
    monkeypatch.setenv("LINGNAV_S1_TOKEN", "from-env")
    assert settings_from_args(build_parser().parse_args(["--backend", "geometric"])).token == "from-env"
    monkeypatch.delenv("LINGNAV_S1_TOKEN")
    app = recording_app(settings=settings)
    with serve(app) as url:
        good = {"Authorization": "Bearer s3cret-token"}
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
            assert_error(requests.post(url + "/navigator_reset", json=reset_body(), headers=headers, timeout=5),
                         401, "token")
            assert_error(requests.post(url + "/nogoal_step", files=step_files(), headers=headers, timeout=5), 401)
            assert_error(requests.get(url + "/docs", headers=headers, timeout=5), 401)
            assert_error(requests.get(url + "/openapi.json", headers=headers, timeout=5), 401)
        health = requests.get(url + "/health", timeout=5)
        assert health.status_code == 200 and health.json()["auth"] is True
        assert "/" not in json.dumps(health.json())  # no model or file path
        assert requests.get(url + "/docs", headers=good, timeout=5).status_code == 200
        schema = requests.get(url + "/openapi.json", headers=good, timeout=5).json()
        assert "/navdp_step_ip_mixgoal" in schema["paths"]
        assert requests.post(url + "/navigator_reset", json=reset_body(), headers=good, timeout=5).status_code == 200
        port = int(url.rsplit(":", 1)[1])
        intr_args = (np.zeros((H, W, 3), np.uint8), np.full((H, W), 2.0, np.float32))
        intr = Intrinsics.from_fov(W, H, 1.2)
        with pytest.raises(S1Error, match="401 missing or wrong bearer token"):
            S1Client("127.0.0.1", port, timeout_s=5, token="").plan(*intr_args, intr, PointGoal(1.0, 0.0))
        monkeypatch.setenv("LINGNAV_S1_TOKEN", "s3cret-token")
        plan = S1Client("127.0.0.1", port, timeout_s=5).plan(*intr_args, intr, PointGoal(1.0, 0.0))
        assert plan.best.shape == (24, 3)


def test_queue_is_bounded_and_health_answers_while_planning():
    gate = threading.Event()
    app = recording_app(gate=gate, settings=S1Settings(queue_size=1, retry_after_s=2))
    with serve(app) as url:
        assert requests.post(url + "/navigator_reset", json=reset_body(), timeout=10).status_code == 200
        answers: list = []

        def send():
            answers.append(requests.post(url + "/nogoal_step", files=step_files(), timeout=60).status_code)

        def wait_queue(n: int) -> None:
            deadline = time.monotonic() + 20
            while requests.get(url + "/health", timeout=5).json()["queue"] != n:
                assert time.monotonic() < deadline, "request never reached the queue"
                time.sleep(0.02)

        first = threading.Thread(target=send)
        first.start()
        wait_queue(1)  # planning, held by the gate
        for _ in range(5):  # the event loop stays free while a plan runs
            assert requests.get(url + "/health", timeout=5).json()["status"] == "ok"
        second = threading.Thread(target=send)
        second.start()
        wait_queue(2)  # one planning, one waiting: the queue is full
        r = requests.post(url + "/nogoal_step", files=step_files(), timeout=10)
        assert_error(r, 503, "busy")
        assert r.headers["Retry-After"] == "2"
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(S1Unavailable, match="503"):
            S1Client("127.0.0.1", port, timeout_s=5)._post("/nogoal_step", files=step_files())
        gate.set()
        first.join(30)
        second.join(30)
        assert answers == [200, 200]
        wait_queue(0)


def test_mixed_point_image_goal():
    app = recording_app()
    with serve(app) as url:
        assert requests.post(url + "/navigator_reset", json=reset_body(2), timeout=10).status_code == 200
        goal_rgb = np.zeros((2 * H, W, 3), np.uint8)
        goal_rgb[H:] = 200  # robot 1's goal picture is bright
        files = {**step_files(2), "image_goal": ("g.jpg", cv2_jpeg(goal_rgb), "image/jpeg")}
        r = requests.post(url + "/navdp_step_ip_mixgoal", files=files, data=goal_data([1.5, 2.0], [0.5, -1.0]),
                          timeout=10)
        assert r.status_code == 200, r.text
        assert np.asarray(r.json()["all_trajectory"]).shape == (2, 16, 24, 3)
        g0, g1 = app.state.log[-2]["goal"], app.state.log[-1]["goal"]
        assert isinstance(g0, PointImageGoal) and (g0.x_m, g0.y_m) == (1.5, 0.5) and (g1.x_m, g1.y_m) == (2.0, -1.0)
        assert g0.rgb.shape == (H, W, 3) and g0.rgb.mean() < 10 and g1.rgb.mean() > 190
        files = {**step_files(2), "goal": ("g.jpg", cv2_jpeg(goal_rgb), "image/jpeg")}  # the imagegoal name
        assert requests.post(url + "/navdp_step_ip_mixgoal", files=files, data=goal_data([1.0, 1.0], [0, 0]),
                             timeout=10).status_code == 200
        assert_error(requests.post(url + "/navdp_step_ip_mixgoal", files=step_files(2),
                                   data=goal_data([1.0, 1.0], [0, 0]), timeout=10), 400, "image_goal")
        files = {**step_files(2), "image_goal": ("g.jpg", cv2_jpeg(goal_rgb), "image/jpeg")}
        assert_error(requests.post(url + "/navdp_step_ip_mixgoal", files=files, timeout=10), 400, "goal_data")
    with serve(geometric_app()) as url:
        assert requests.post(url + "/navigator_reset", json=reset_body(1), timeout=10).status_code == 200
        files = {**step_files(1), "image_goal": ("g.jpg", cv2_jpeg(goal_rgb[:H]), "image/jpeg")}
        r = requests.post(url + "/navdp_step_ip_mixgoal", files=files, data=goal_data([1.0], [0.0]), timeout=10)
        assert_error(r, 400, "geometric", "point + image")


def test_every_error_has_the_field_shape(rec):
    url, _ = rec
    assert_error(requests.get(url + "/nowhere", timeout=5), 404)
    assert_error(requests.get(url + "/pointgoal_step", timeout=5), 405)
    with serve(recording_app()) as fresh:
        body = assert_error(requests.post(fresh + "/nogoal_step", files=step_files(), timeout=5), 409, "reset")
        assert body["detail"] == body["error"]


class _FailingPlanner:
    """Fails as a model can: a bad-input S1Error (client's fault) or a crash (the server's)."""

    def __init__(self, error: Exception):
        self.error = error

    def plan(self, *args, **kwargs):
        raise self.error

    def reset(self) -> None:
        pass


@pytest.mark.parametrize("error, status", [(S1Error("goal behind the camera"), 400),
                                           (RuntimeError("CUDA out of memory"), 500)])
def test_planner_failures_map_to_4xx_or_5xx(error, status):
    from s1_server.server import create_app

    with serve(create_app(lambda _t: _FailingPlanner(error), "failing")) as url:
        assert requests.post(url + "/navigator_reset", json=reset_body(), timeout=10).status_code == 200
        for _ in range(2):  # the planner thread survives and answers the next request too
            r = requests.post(url + "/nogoal_step", files=step_files(), timeout=10)
            assert_error(r, status, str(error))
        assert requests.get(url + "/health", timeout=5).json()["queue"] == 0


def test_token_on_the_command_line_is_refused(capsys):
    from s1_server.cli import main

    assert main(["--backend", "geometric", "--token", "visible-in-ps"]) == 1
    assert "--token_file" in capsys.readouterr().err
