"""Random step requests for S2, hostile as a network can be: for the bounded fuzz test (driven
by hypothesis) and for the S2 half of bench/fuzz.py (thousands of requests). Every one must get a JSON
answer below 500: a 5xx would tell a robot that the server is down."""
from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from test.s1_http_rig import png_header_only

INSTRUCTIONS = ["go to the red chair", "turn left 30 degrees", "find the blue box then stop", "", "   ",
                "x" * 1200, "ünïcödé ← → ↑ ↓", "go to the \x00 chair", "stop"]


@dataclass
class FuzzRequest:
    path: str
    files: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    raw_body: bytes | None = None  # sent as-is with `headers` when set


def _image(rng: random.Random) -> bytes:
    kind = rng.randrange(9)
    w, h = rng.randint(1, 96), rng.randint(1, 96)
    arr = np.frombuffer(rng.randbytes(w * h * 3), np.uint8).reshape(h, w, 3)
    if kind == 0:
        return cv2.imencode(".jpg", arr)[1].tobytes()
    if kind == 1:
        return cv2.imencode(".png", arr)[1].tobytes()
    if kind == 2:
        good = cv2.imencode(".jpg", arr)[1].tobytes()
        return good[: rng.randint(0, len(good))]  # truncated
    if kind == 3:
        return rng.randbytes(rng.randint(0, 2048))
    if kind == 4:
        return png_header_only(rng.choice([16000, 70000, 1]), rng.choice([16000, 3, 65535]), 8, 2)
    if kind == 5:
        buf = io.BytesIO()
        Image.new("L", (w, h)).save(buf, "GIF")
        return buf.getvalue()
    if kind == 6:
        good = bytearray(cv2.imencode(".jpg", arr)[1].tobytes())
        for _ in range(rng.randint(1, 20)):
            good[rng.randrange(len(good))] = rng.randrange(256)
        return bytes(good)
    if kind == 7:
        buf = io.BytesIO()
        Image.new("RGBA", (w, h)).save(buf, "PNG")
        return buf.getvalue()
    return b""


def _context(rng: random.Random) -> str | bytes:
    choice = rng.randrange(8)
    if choice == 0:
        depth = rng.choice([5, 50, 5000, 100000])
        return "[" * depth + "]" * depth
    if choice == 1:
        return json.dumps({"previous_target": rng.choice([123, None, [], {"a": 1}, True, "red chair", "x" * 500])})
    if choice == 2:
        return json.dumps({"instruction_moves_done": rng.choice([1, "yes", True, None])})
    if choice == 3:
        return rng.choice(["{", "null", "[]", "NaN", '{"a": NaN}', '{"a": 1e999}', '"str"', b"\xff\xfe{"])
    if choice == 4:
        return rng.randbytes(rng.randint(0, 64)).decode("latin-1")
    if choice == 5:
        return json.dumps({"previous_target": "red chair", "instruction_moves_done": False, "extra": [1, 2]})
    return ""


def random_request(rng: random.Random) -> FuzzRequest:
    path = rng.choice(["/step", "/s2_step"] * 6 + ["/health", "/nope", "/openapi.json"])
    req = FuzzRequest(path)
    mode = rng.randrange(10)
    if mode == 0:  # not multipart at all
        req.raw_body = rng.randbytes(rng.randint(0, 512))
        req.headers["Content-Type"] = rng.choice(["application/json", "text/plain", "multipart/form-data",
                                                  "multipart/form-data; boundary=zz", ""])
        return req
    if mode == 1:  # a multipart body with a broken structure
        req.raw_body = b"--zz\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n" + rng.randbytes(64)
        req.headers["Content-Type"] = "multipart/form-data; boundary=zz"
        return req
    if rng.random() < 0.9:
        req.files["image"] = ("f.jpg", _image(rng), rng.choice(["image/jpeg", "image/png", "text/plain"]))
    elif rng.random() < 0.5:
        req.data["image"] = "not a file"
    if rng.random() < 0.9:
        req.data["instruction"] = rng.choice(INSTRUCTIONS)
    ctx = _context(rng)
    if ctx:
        req.data["context"] = ctx
    if rng.random() < 0.2:
        req.data["previous_target"] = rng.choice(["red chair", "", "x" * 300])
    if rng.random() < 0.2:
        req.headers["X-Client-Timeout-Ms"] = rng.choice(["5000", "0", "-1", "nan", "inf", "1e12", "abc", "200"])
    if rng.random() < 0.1:
        req.headers["Authorization"] = rng.choice(["Bearer x", "Basic abc", "Bearer", ""])
    return req


def as_call(req: FuzzRequest) -> tuple[str, str, dict]:
    """(method, path, keyword arguments of requests' `request()`) for `req`."""
    if req.raw_body is not None:
        return "POST", req.path, {"data": req.raw_body, "headers": req.headers}
    if req.path in ("/health", "/nope", "/openapi.json") and not req.files:
        return "GET", req.path, {"headers": req.headers}
    return "POST", req.path, {"files": req.files or None, "data": req.data, "headers": req.headers}


def send(session, base_url: str, req: FuzzRequest, timeout_s: float = 20.0):
    method, path, kwargs = as_call(req)
    return session.request(method, base_url + path, timeout=timeout_s, **kwargs)
