"""S2 as the deployed robot pipeline sees it, written from that pipeline's documented request and
response formats, none of its code.

Requests are built as the Jetson pipeline builds them: `cv2.imencode(".jpg", frame)` of the BGR
camera array, multipart `image` plus form `instruction`, POST /s2_step (or /step). Responses are
read as it reads them: walk `tasks` in order, take `task`, `action`, `number`, `point_2d_pixel`.
"""
import cv2
import numpy as np
import pytest
import requests

from lingnav_core.s2_decision import S2Decision
from lingnav_ros.sim.simulator import Simulator
from lingnav_ros.sim.world import from_dict
from s2_server.app import create_app
from s2_server.backends.color_backend import ColorBackend
from s2_server.http_client import S2Client
from test.navigator_rig import ServerThread

TOP_LEVEL = {"target", "point_2d_norm", "point_2d_pixel", "navigation", "raw", "tasks"}
PIXEL_TASK = {"task", "target", "point_2d", "point_2d_pixel"}
MOVE_TASK = {"task", "action", "number"}


@pytest.fixture(scope="module")
def server():
    s = ServerThread(lambda: create_app(ColorBackend())).start()
    yield s
    s.stop()


def _camera_bgr(objects, size=None) -> np.ndarray:
    """What the robot's camera callback holds: a BGR array (bgr8), at the camera's own size."""
    world = from_dict({"room": [-1, -3, 6, 3], "start": [0, 0, 0], "objects": objects})
    rgb, _ = Simulator(world).render()
    if size is not None:
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_NEAREST)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _field_request(port: int, bgr: np.ndarray, instruction: str, path: str = "/s2_step") -> requests.Response:
    ok, jpeg = cv2.imencode(".jpg", bgr)
    assert ok
    return requests.post(f"http://127.0.0.1:{port}{path}", files={"image": ("frame.jpg", jpeg.tobytes(), "image/jpeg")},
                         data={"instruction": instruction}, timeout=10)


def _field_pipeline(body: dict):
    """The pipeline's reading: the first visible pixel goal, else the moves in order."""
    moves = []
    for task in body["tasks"]:
        if task["task"] == "pixel_point" and task["point_2d_pixel"] is not None:
            return ("pixel", tuple(task["point_2d_pixel"])), moves
        if task["task"] == "move":
            moves.append((task["action"], task["number"]))
    return None, moves


def _check_shape(body: dict, width: int, height: int) -> None:
    assert TOP_LEVEL <= set(body)
    for task in body["tasks"]:
        assert set(task) == (PIXEL_TASK if task["task"] == "pixel_point" else MOVE_TASK), task
        if task["task"] == "pixel_point" and task["point_2d_pixel"] is not None:
            x, y = task["point_2d"]
            u, v = task["point_2d_pixel"]
            assert 0 <= x <= 1000 and 0 <= y <= 1000  # point_2d means 0..1000, everywhere
            assert abs(u - x / 1000 * (width - 1)) <= 1 and abs(v - y / 1000 * (height - 1)) <= 1
        if task["task"] == "move":
            assert task["action"] in ("←", "→", "↑", "↓", "stop") and isinstance(task["number"], int)


RED_BOX = [{"label": "red box", "x": 3.0, "y": -0.3, "size": [0.5, 0.5], "color": "red"}]


@pytest.mark.parametrize("size,path", [(None, "/s2_step"), ((1280, 720), "/step")])
def test_visible_target_yields_a_pixel_goal_in_the_received_image(server, size, path):
    bgr = _camera_bgr(RED_BOX, size)
    height, width = bgr.shape[:2]
    r = _field_request(server.port, bgr, "go to the red box", path)
    assert r.status_code == 200, r.text
    body = r.json()
    _check_shape(body, width, height)
    goal, moves = _field_pipeline(body)
    assert goal is not None and goal[0] == "pixel" and moves == []
    u, v = goal[1]
    assert width / 2 < u < width * 0.75 and 0 <= v < height  # box slightly right of centre
    assert body["target"] == "red box" and body["point_2d_pixel"] == [u, v]
    nx, ny = body["point_2d_norm"]
    assert abs(nx / 1000 * (width - 1) - u) <= 1 and abs(ny / 1000 * (height - 1) - v) <= 1
    # the mask really is red in the pipeline's own BGR array at that pixel
    b, g, red = (int(c) for c in bgr[v, u])
    assert red > 150 and g < 90 and b < 90


def test_turn_left_30_degrees_is_two_left_steps(server):
    r = _field_request(server.port, _camera_bgr([]), "turn left 30 degrees")
    body = r.json()
    _check_shape(body, 640, 480)
    goal, moves = _field_pipeline(body)
    assert goal is None and moves[0] == ("←", 2)
    assert body["navigation"].startswith("←←")


def test_errors_carry_the_error_key(server):
    ok, jpeg = cv2.imencode(".jpg", _camera_bgr([]))
    r = requests.post(f"http://127.0.0.1:{server.port}/s2_step", data={"instruction": "  "}, timeout=10,
                      files={"image": ("frame.jpg", jpeg.tobytes(), "image/jpeg")})
    assert r.status_code == 400 and "instruction" in r.json()["error"]


def test_our_client_reads_the_same_single_format(server):
    bgr = _camera_bgr(RED_BOX)
    body = _field_request(server.port, bgr, "go to the red box").json()
    d = S2Client("127.0.0.1", server.port).step(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), "go to the red box")
    assert d.kind == "pixel" and abs(d.point_2d_pixel[0] - body["point_2d_pixel"][0]) <= 2
    assert d.tasks[0].task == "pixel_point" and d.tasks[0].point_2d_pixel == d.point_2d_pixel
    # a deployed server's body (no `kind`, no extras of ours) reads the same way
    field_only = {k: body[k] for k in TOP_LEVEL}
    again = S2Decision.from_json(field_only)
    assert again.kind == "pixel" and again.point_2d_pixel == tuple(body["point_2d_pixel"])
    assert again.to_json()["tasks"] == body["tasks"]


def test_from_json_survives_a_misbehaving_server():
    """Whatever a (field or broken) server answers, the robot gets a typed decision, never an exception."""
    garbage = {"target": 5, "point_2d_pixel": [float("nan"), 3], "point_2d_norm": "x", "navigation": None,
               "tasks": [{"task": "move", "action": "↗", "number": 2}, {"task": "move", "action": "←", "number": "x"},
                         {"task": "pixel_point", "point_2d": [1e400, 2]}, 7, {"task": "fly"}],
               "latency_ms": "inf"}
    d = S2Decision.from_json(garbage)
    assert d.kind == "none" and d.point_2d_pixel is None and d.point_2d_norm is None and d.latency_ms == 0.0
    assert [(t.task, t.action, t.number) for t in d.tasks] == [("move", "←", 1), ("pixel_point", None, 0)]
    assert d.tasks[1].point_2d is None
