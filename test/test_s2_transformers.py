"""The transformers backend, end to end: tiny random Qwen-VL checkpoints in the official layout
(no weights can be downloaded here) served by the real S2 app over HTTP on 127.0.0.1.

Random weights answer garbage, which the server must turn into well-formed JSON. Checkpoints with
a scripted answer (s2_server.tiny_checkpoint) pin down what each family's coordinates mean.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from s2_server.app import ServerSettings, create_app
from s2_server.backends.transformers_backend import TransformersBackend
from s2_server.coords import ABSOLUTE, RELATIVE, CoordFrame
from s2_server.http_client import S2Client
from s2_server.images import encode_jpeg
from s2_server.model_loading import (
    FAMILIES,
    ModelFamily,
    ModelLoadError,
    attention_candidates,
    detect_family,
    model_class,
)
from s2_server.tiny_checkpoint import write_tiny_checkpoint
from test.navigator_rig import ServerThread
from test.s2_fixtures import free_port, paint_box, room_frame

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"target", "visible", "point_2d_pixel", "point_2d_norm", "navigation", "tasks", "raw", "latency_ms", "model"}
# A point at the centre of a Qwen2.5-VL input (640x480 is snapped to 644x476 by its processor) and
# the same numbers read as Qwen3-VL's relative 0..1000.
SCRIPTED = '[{"task":"pixel_point","target":"red chair","point_2d":[322,238]}]'


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny_qwen")
    made = {family: write_tiny_checkpoint(root / family, family) for family in ("qwen3_vl",)}
    for family in ("qwen3_vl_moe", "qwen2_5_vl", "qwen2_vl"):
        made[f"{family}+scripted"] = write_tiny_checkpoint(root / f"{family}_scripted", family, answer=SCRIPTED)
    return made


def _serve(path: Path, **settings) -> tuple[ServerThread, TransformersBackend]:
    backend = TransformersBackend(str(path), device="cpu", max_new_tokens=12)
    return ServerThread(lambda: create_app(backend, ServerSettings(**settings))).start(), backend


def _frame(width: int = 640, height: int = 480) -> np.ndarray:
    return paint_box(room_frame(width, height), "red", width // 2 - 40, height // 2 - 40, width // 2 + 40,
                     height // 2 + 40)


def test_config_picks_the_class_not_the_path(checkpoints, tmp_path):
    for key, path in checkpoints.items():
        family = detect_family(path)
        assert family.model_type == key.split("+")[0]
    misleading = tmp_path / "Qwen2.5-VL-7B-Instruct"  # the name says 2.5, the config says Qwen3-VL
    misleading.mkdir()
    (misleading / "config.json").write_text((checkpoints["qwen3_vl"] / "config.json").read_text())
    assert detect_family(misleading).class_name == "Qwen3VLForConditionalGeneration"


def test_unknown_or_missing_model_errors_say_what_to_do(tmp_path):
    (tmp_path / "config.json").write_text('{"architectures": ["LlavaForConditionalGeneration"], '
                                          '"model_type": "llava"}')
    with pytest.raises(ModelLoadError) as err:
        detect_family(tmp_path)
    assert all(f.class_name in str(err.value) for f in FAMILIES) and "llava" in str(err.value)
    with pytest.raises(ModelLoadError, match="config.json not found"):
        detect_family(tmp_path / "nowhere")
    future = ModelFamily("qwen9_vl", "Qwen9VLForConditionalGeneration", RELATIVE, "9.1", "Qwen9-VL")
    with pytest.raises(ModelLoadError, match=r"Qwen9VLForConditionalGeneration.*transformers>=9\.1"):
        model_class(future)
    with pytest.raises(ModelLoadError, match="unknown attention"):
        attention_candidates("flash_attention_9")
    assert attention_candidates("sdpa") == ["sdpa", "eager"]


def test_garbage_from_a_random_qwen3_vl_is_still_well_formed_json(checkpoints, caplog):
    with caplog.at_level(logging.INFO, logger="s2_server"):
        server, backend = _serve(checkpoints["qwen3_vl"])
    try:
        # flash-attn is not installed here: the fallback is taken and said.
        assert backend.attn_implementation in ("sdpa", "eager")
        assert any("flash_attention_2 unavailable" in r.getMessage() for r in caplog.records)
        health = requests.get(f"http://127.0.0.1:{server.port}/health", timeout=5).json()
        assert health["model_class"] == "Qwen3VLForConditionalGeneration" and health["convention"] == RELATIVE
        assert health["ready"] and health["backend"] == "transformers" and health["device"] == "cpu"
        assert str(checkpoints["qwen3_vl"].parent) not in str(health)  # /health names the model, not its path
        for instruction in ("go to the red chair", "turn left 90 degrees, then find the blue box"):
            r = requests.post(f"http://127.0.0.1:{server.port}/step", data={"instruction": instruction},
                              files={"image": ("f.jpg", encode_jpeg(_frame()), "image/jpeg")}, timeout=60)
            assert r.status_code == 200, r.text
            body = r.json()
            assert FIELDS <= set(body) and body["model"] == "qwen3_vl"
            assert isinstance(body["raw"], str) and isinstance(body["tasks"], list)
            assert body["timings_ms"]["generate"] > 0.0
            if body["point_2d_pixel"] is not None:  # garbage may still contain a point; it must be in the image
                assert 0 <= body["point_2d_pixel"][0] < 640 and 0 <= body["point_2d_pixel"][1] < 480
    finally:
        server.stop()


@pytest.mark.parametrize("key,class_name,convention,model_size", [
    ("qwen3_vl_moe+scripted", "Qwen3VLMoeForConditionalGeneration", RELATIVE, (640, 480)),
    ("qwen2_5_vl+scripted", "Qwen2_5_VLForConditionalGeneration", ABSOLUTE, (644, 476)),
    ("qwen2_vl+scripted", "Qwen2VLForConditionalGeneration", ABSOLUTE, (644, 476)),
])
def test_each_family_reads_its_own_coordinates(checkpoints, key, class_name, convention, model_size):
    server, backend = _serve(checkpoints[key])
    try:
        assert backend.family.class_name == class_name and backend.convention == convention
        # The robot sends 320x240; the server resizes to 640x480 for the model and answers in 320x240.
        r = requests.post(f"http://127.0.0.1:{server.port}/step", data={"instruction": "go to the red chair"},
                          files={"image": ("f.jpg", encode_jpeg(_frame(320, 240)), "image/jpeg")}, timeout=60)
        body = r.json()
        assert r.status_code == 200 and body["raw"] == SCRIPTED
        assert body["model_input_size"] == list(model_size)
        assert body["visible"] and body["target"] == "red chair"
        if convention == RELATIVE:  # 322/1000 and 238/1000 of the received image
            expected = (round(0.322 * 319), round(0.238 * 239))
        else:  # the centre of the 644x476 model input is the centre of the received image
            expected = (160, 120)
        assert abs(body["point_2d_pixel"][0] - expected[0]) <= 1 and abs(body["point_2d_pixel"][1] - expected[1]) <= 1
    finally:
        server.stop()


def test_micro_batching_answers_every_request_in_one_generate_call(checkpoints):
    """Requests queued together share a generate call; with left padding each still gets its answer."""
    server, backend = _serve(checkpoints["qwen2_5_vl+scripted"], max_batch=4, batch_window_ms=300.0)
    bodies: list[dict] = []
    lock = threading.Lock()

    def ask(instruction: str) -> None:
        d = requests.post(f"http://127.0.0.1:{server.port}/step", data={"instruction": instruction},
                          files={"image": ("f.jpg", encode_jpeg(_frame(320, 240)), "image/jpeg")}, timeout=60)
        with lock:
            bodies.append(d.json())

    try:
        # Different instructions give prompts of different lengths, so padding is exercised.
        threads = [threading.Thread(target=ask, args=(text,)) for text in
                   ("go to the red chair", "find the blue box please", "chair", "walk to the green bin now")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(bodies) == 4 and all(b["raw"] == SCRIPTED for b in bodies)
        assert all(b["point_2d_pixel"] is not None and abs(b["point_2d_pixel"][0] - 160) <= 1 for b in bodies)
        assert max(b["batch_size"] for b in bodies) > 1
        assert any(size > 1 for size, _ in backend.generate_s)
    finally:
        server.stop()


def test_client_reads_the_transformers_answer(checkpoints):
    server, _ = _serve(checkpoints["qwen3_vl_moe+scripted"])
    try:
        d = S2Client("127.0.0.1", server.port, timeout_s=60.0).step(_frame(), "go to the red chair")
        assert d.kind == "pixel" and d.model == "qwen3_vl_moe_scripted"
        assert d.point_2d_pixel == (round(0.322 * 639), round(0.238 * 479))
    finally:
        server.stop()


def test_cli_serves_a_checkpoint_and_prints_the_field_startup_lines(checkpoints):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "s2_server", "--backend", "transformers", "--device", "cpu",
                             "--model_path", str(checkpoints["qwen3_vl"]), "--port", str(port),
                             "--max_new_tokens", "8", "--resize_w", "600"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 120.0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=1.0).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        health = requests.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
        assert health["resize"] == [608, 480]  # 600 is not a multiple of 32: rounded, with a warning
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert "--resize_w 600 is not a multiple of 32; using 608" in output
    assert "Loaded with attn_implementation=sdpa" in output
    assert output.index("Model ready.") < output.index(f"Listening on http://127.0.0.1:{port}")


def test_cli_refuses_a_missing_checkpoint_with_a_reason(tmp_path):
    out = subprocess.run([sys.executable, "-m", "s2_server", "--backend", "transformers",
                          "--model_path", str(tmp_path / "missing")], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 1 and "config.json not found" in out.stderr



def test_absolute_frame_uses_the_size_the_model_saw():
    """Reading a Qwen2.5 point against the size we sent instead of the one it saw is off by ~half a patch."""
    from s2_server.coords import smart_resize, to_norm

    assert smart_resize(480, 640, 28) == (476, 644) and smart_resize(480, 640, 32) == (480, 640)
    frame = CoordFrame(ABSOLUTE, 640, 480, 644, 476)
    assert to_norm(644, 476, frame) == (1000.0, 1000.0)
    assert to_norm(float("nan"), 3, frame) is None
