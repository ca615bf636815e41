"""The OpenAI-compatible backend as a fleet runs it, against a real HTTP upstream on
127.0.0.1 (test/s2_openai_upstream.py) with per-request faults."""
import logging
import threading
import time

import numpy as np
import pytest
import requests

from s2_server import cli
from s2_server.app import ServerSettings, create_app
from s2_server.backends.openai_backend import OpenAIBackend, parse_extra_body
from s2_server.http_client import S2Client
from s2_server.images import encode_jpeg
from test.navigator_rig import ServerThread
from test.s2_openai_upstream import STANDARD, Upstream

MODEL = "qwen3-vl-4b"
JPEG = encode_jpeg(np.full((240, 320, 3), 90, np.uint8))


class Stack:
    """upstream model server -> S2 (openai backend) on loopback ports."""

    def __init__(self, upstream: Upstream | None = None, model: str = MODEL, backend_kw=None, **settings):
        self.upstream = upstream or Upstream([MODEL])
        self.up = ServerThread(self.upstream.app).start()
        self.backend = OpenAIBackend(f"http://127.0.0.1:{self.up.port}/v1", model, **(backend_kw or {}))
        self.s2 = ServerThread(lambda: create_app(self.backend, ServerSettings(**settings))).start()

    def post(self, instruction: str, headers=None) -> requests.Response:
        return requests.post(f"http://127.0.0.1:{self.s2.port}/step", data={"instruction": instruction},
                             files={"image": ("f.jpg", JPEG, "image/jpeg")}, headers=headers, timeout=20)

    def health(self) -> dict:
        return requests.get(f"http://127.0.0.1:{self.s2.port}/health", timeout=5).json()

    def wait_health(self, ready: bool, timeout_s: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            h = self.health()
            if h["ready"] is ready:
                return h
            time.sleep(0.05)
        raise AssertionError(f"/health never became ready={ready}: {h}")

    def close(self):
        self.s2.stop()
        self.up.stop()


@pytest.fixture
def stacks():
    made = []
    yield lambda *a, **k: made.append(Stack(*a, **k)) or made[-1]
    for s in made:
        s.close()


def test_standard_fields_only_and_the_image_reaches_the_model(stacks):
    st = stacks()
    d = S2Client("127.0.0.1", st.s2.port).step(np.zeros((240, 320, 3), np.uint8), "go to the red chair")
    assert d.kind == "pixel" and d.point_2d_pixel == (160, 179) and d.model == MODEL
    assert set(st.upstream.bodies[0]) == {"model", "max_tokens", "temperature"}  # messages aside
    assert st.upstream.image_shapes[0][:2] == (480, 640)  # resized for the model
    assert st.wait_health(True)["status"] == "ok"


def test_vendor_extras_only_through_extra_body(stacks):
    lenient = stacks(Upstream([MODEL], strict=False), backend_kw={"extra_body": parse_extra_body('{"top_k": 1}')})
    assert lenient.post("go to the red chair").status_code == 200
    assert lenient.upstream.bodies[-1]["top_k"] == 1
    strict = stacks(backend_kw={"extra_body": {"repetition_penalty": 1.05}})
    r = strict.post("go to the red chair")
    body = r.json()
    assert r.status_code == 502 and body["upstream_status"] == 422 and "not permitted" in body["upstream_body"]
    with pytest.raises(ValueError, match="may not set"):
        parse_extra_body('{"messages": []}')
    assert {"top_k", "repetition_penalty"}.isdisjoint(STANDARD)


def test_one_bad_request_in_a_micro_batch_fails_alone(stacks, caplog):
    st = stacks(Upstream([MODEL], delay_s=0.2), max_batch=4, batch_window_ms=400)
    instructions = ["go to the red chair", "go to the FAULT:500 chair", "find the red chair", "red chair please"]
    results: dict[str, requests.Response] = {}

    def one(text):
        results[text] = st.post(text)

    with caplog.at_level(logging.DEBUG, logger="s2_server"):
        threads = [threading.Thread(target=one, args=(t,)) for t in instructions]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    bad = results.pop("go to the FAULT:500 chair")
    assert bad.status_code == 502 and bad.json()["upstream_status"] == 500
    assert "CUDA error" in bad.json()["error"]
    assert all(r.status_code == 200 and r.json()["kind"] == "pixel" for r in results.values())
    assert max(r.json()["batch_size"] for r in results.values()) >= 2  # they really shared a batch
    assert st.upstream.calls["go to the FAULT:500 chair"] == 1  # a rejected request is not re-sent
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING and "502" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is None  # one line, no traceback above debug


def test_slow_upstream_read_timeout_is_503_and_never_resent(stacks):
    st = stacks(Upstream([MODEL], slow_s=2.0), backend_kw={"timeout_s": 0.5})
    r = st.post("go to the FAULT:slow chair")
    assert r.status_code == 503 and r.headers["retry-after"] and "did not answer" in r.json()["error"]
    assert st.upstream.calls["go to the FAULT:slow chair"] == 1


def test_client_deadline_travels_and_queued_work_is_dropped(stacks):
    st = stacks(Upstream([MODEL], slow_s=1.5), max_batch=1, backend_kw={"timeout_s": 5.0})
    slow = threading.Thread(target=st.post, args=("go to the FAULT:slow chair",))
    slow.start()
    time.sleep(0.3)  # the slow one holds the only worker now
    r = st.post("go to the queued chair", headers={"X-Client-Timeout-Ms": "600"})
    slow.join()
    assert r.status_code == 504 and "deadline" in r.json()["error"]
    assert st.upstream.calls["go to the queued chair"] == 0  # dropped before the model
    # a deadline shorter than the upstream timeout also cuts the upstream call short
    r = st.post("go to the FAULT:slow chair", headers={"X-Client-Timeout-Ms": "800"})
    assert r.status_code == 504
    assert st.post("go to the red chair", headers={"X-Client-Timeout-Ms": "abc"}).status_code == 400


def test_upstream_that_goes_away_and_comes_back(stacks):
    st = stacks(probe_interval_s=0.3)
    assert st.wait_health(True)["ready"]
    st.up.stop()
    r = st.post("go to the red chair")
    assert r.status_code == 503 and r.headers["retry-after"] and "unreachable" in r.json()["error"]
    h = st.wait_health(False)
    assert h["status"] == "not_ready" and "unreachable" in h["reason"] and h["checked_s_ago"] < 5
    st.up.start()
    st.wait_health(True)
    assert st.post("go to the red chair").status_code == 200


def test_overloaded_upstream_passes_retry_after_and_garbage_is_502(stacks):
    st = stacks()
    r = st.post("go to the FAULT:503 chair")
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    r = st.post("go to the FAULT:garbage chair")
    assert r.status_code == 502 and "unexpected answer" in r.json()["error"]
    r = st.post("go to the FAULT:400 chair")
    assert r.status_code == 502 and r.json()["upstream_status"] == 400 and "too small" in r.json()["upstream_body"]


def test_wrong_model_name_is_not_ready_and_the_cli_exits_clearly(stacks, capsys):
    st = stacks(model="qwen3-vl-8b", probe_interval_s=0.3)
    h = st.wait_health(False)
    assert "does not serve 'qwen3-vl-8b'" in h["reason"] and MODEL in h["reason"]
    r = st.post("go to the red chair")
    assert r.status_code == 502 and r.json()["upstream_status"] == 404
    rc = cli.main(["--backend", "openai", "--api_base", f"http://127.0.0.1:{st.up.port}/v1",
                   "--served_model", "qwen3-vl-8b", "--port", "1"])
    assert rc == 1 and "does not serve 'qwen3-vl-8b'" in capsys.readouterr().err
    rc = cli.main(["--backend", "openai", "--api_base", "http://127.0.0.1:1/v1", "--served_model", MODEL,
                   "--api_timeout_s", "20", "--request_budget_s", "12"])
    assert rc == 1 and "below --request_budget_s" in capsys.readouterr().err


def test_robot_client_sends_its_deadline():
    from fastapi import FastAPI, Request

    seen = {}
    app = FastAPI()

    @app.post("/step")
    async def step(request: Request):
        seen.update(request.headers)
        return {"target": None, "point_2d_norm": None, "point_2d_pixel": None, "navigation": "", "raw": "",
                "tasks": []}

    server = ServerThread(lambda: app).start()
    try:
        S2Client("127.0.0.1", server.port, timeout_s=(1.0, 15.0)).step(np.zeros((8, 8, 3), np.uint8), "go")
        assert seen["x-client-timeout-ms"] == "15000"
    finally:
        server.stop()


def test_dispatch_mode_keeps_failures_and_deadlines_per_request(stacks):
    st = stacks(Upstream([MODEL], slow_s=1.5), max_inflight=1, backend_kw={"timeout_s": 5.0})
    slow = threading.Thread(target=st.post, args=("go to the FAULT:slow chair",))
    slow.start()
    time.sleep(0.3)  # the only slot is taken
    r = st.post("go to the queued chair", headers={"X-Client-Timeout-Ms": "600"})
    slow.join()
    assert r.status_code == 504 and st.upstream.calls["go to the queued chair"] == 0
    wide = stacks(Upstream([MODEL], delay_s=0.2), max_inflight=4)
    results = {}
    threads = [threading.Thread(target=lambda t=t: results.__setitem__(t, wide.post(t)))
               for t in ("go to the red chair", "go to the FAULT:500 chair", "find the red chair")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.pop("go to the FAULT:500 chair").status_code == 502
    assert all(r.status_code == 200 for r in results.values())
    assert wide.health()["max_inflight"] == 4
