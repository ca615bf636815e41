"""Bounded fuzz of the real S2 service (color backend) on 127.0.0.1: whatever arrives, the answer
is JSON with a status below 500, and the service still answers a good request afterwards."""
import random

import numpy as np
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s2_server.app import ServerSettings, create_app
from s2_server.backends.color_backend import ColorBackend
from s2_server.images import encode_jpeg
from test.navigator_rig import ServerThread
from test.s2_fuzz_requests import random_request, send

STATS = {"requests": 0, "codes": {}}


@pytest.fixture(scope="module")
def server():
    s = ServerThread(lambda: create_app(ColorBackend(), ServerSettings(max_upload_mb=0.25,
                                                                       max_image_pixels=2_000_000))).start()
    yield s
    s.stop()
    print(f"\nS2 fuzz: {STATS['requests']} requests, codes {dict(sorted(STATS['codes'].items()))}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          derandomize=True)
@given(st.randoms(use_true_random=False))
def test_no_5xx_whatever_arrives(server, rng: random.Random):
    with requests.Session() as session:
        req = random_request(rng)
        r = send(session, f"http://127.0.0.1:{server.port}", req)
    STATS["requests"] += 1
    STATS["codes"][r.status_code] = STATS["codes"].get(r.status_code, 0) + 1
    assert r.status_code < 500, (req, r.status_code, r.text[:300])
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
    if r.status_code >= 400:
        assert body and body["error"], (req, r.text[:300])


def test_still_answers_after_the_fuzz(server):
    rgb = np.zeros((48, 64, 3), np.uint8)
    r = requests.post(f"http://127.0.0.1:{server.port}/step", data={"instruction": "go to the red chair"},
                      files={"image": ("f.jpg", encode_jpeg(rgb), "image/jpeg")}, timeout=10)
    assert r.status_code == 200 and r.json()["tasks"]
