"""lingnav_http: the doors both servers share, tried on a real uvicorn server on 127.0.0.1."""
import io
import json
import socket
import struct
import zlib

import cv2
import numpy as np
import pytest
import requests
from fastapi import FastAPI, Request
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from lingnav_http import (
    HttpError,
    TokenAuth,
    check_image_header,
    install_docs,
    install_error_handlers,
    json_depth,
    load_token,
    parse_json,
    read_form,
)
from test.navigator_rig import ServerThread

LIMIT = 64 * 1024


def _app() -> FastAPI:
    app = FastAPI(docs_url=None, openapi_url=None, redoc_url=None)
    install_error_handlers(app)
    auth = TokenAuth("tok")
    install_docs(app, auth)

    @app.post("/upload")
    async def upload(request: Request):
        auth.require(request.headers.get("authorization"))
        form = await read_form(request, LIMIT)
        data = await form["image"].read()
        info = check_image_header(data, max_pixels=1000 * 1000)
        ctx = parse_json(str(form.get("context") or "{}"), "context", max_depth=8)
        return {"w": info.width, "h": info.height, "ctx": ctx}

    return app


@pytest.fixture(scope="module")
def server():
    s = ServerThread(_app).start()
    yield s
    s.stop()


def _png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h)).save(buf, "PNG")
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _bomb_png(w: int, h: int) -> bytes:
    """A PNG declaring w x h pixels with a few KB of zlib'd zeros: decoding it would take gigabytes."""
    rows = zlib.compress(b"\0" * (1 << 20), 9)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", rows) + _chunk(b"IEND", b""))


AUTH = {"Authorization": "Bearer tok"}


def test_small_upload_passes_and_errors_have_the_field_shape(server):
    url = f"http://127.0.0.1:{server.port}/upload"
    r = requests.post(url, files={"image": ("a.png", _png(32, 16), "image/png")}, data={"context": '{"a": [1]}'},
                      headers=AUTH, timeout=5)
    assert r.status_code == 200 and r.json() == {"w": 32, "h": 16, "ctx": {"a": [1]}}
    r = requests.post(url, files={"image": ("a.png", _png(32, 16), "image/png")}, timeout=5)
    assert r.status_code == 401 and r.json()["error"] == r.json()["detail"]
    assert requests.get(f"http://127.0.0.1:{server.port}/nowhere", timeout=5).json()["error"]


def test_limit_holds_for_chunked_uploads_without_content_length(server):
    body = b"--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x\"\r\n\r\n" + b"x" * (4 * LIMIT)

    def chunks():
        for i in range(0, len(body), 8192):
            yield body[i:i + 8192]

    r = requests.post(f"http://127.0.0.1:{server.port}/upload", data=chunks(), timeout=10,
                      headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and "larger" in r.json()["error"]


def test_raw_chunked_stream_is_cut_off_at_the_limit(server):
    """A client streaming chunks with no Content-Length gets 413 once the limit is passed."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        head = ("POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n")
        sock.sendall(head.encode())
        piece = b"y" * 16384
        try:
            for _ in range(16):
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        except OSError:
            pass  # the server may close before we finish: that is the point
        reply = sock.recv(4096).decode(errors="replace")
    assert reply.startswith("HTTP/1.1 413")


def test_decompression_bomb_is_413_before_decoding(server):
    r = requests.post(f"http://127.0.0.1:{server.port}/upload", headers=AUTH, timeout=5,
                      files={"image": ("b.png", _bomb_png(16000, 16000), "image/png")})
    assert r.status_code == 413 and "pixels" in r.json()["error"]
    r = requests.post(f"http://127.0.0.1:{server.port}/upload", headers=AUTH, timeout=5,
                      files={"image": ("b.png", _bomb_png(5000, 5000), "image/png")})
    assert r.status_code == 413 and "5000x5000" in r.json()["error"]
    ok, jpg = cv2.imencode(".jpg", np.zeros((1200, 1000, 3), np.uint8))
    r = requests.post(f"http://127.0.0.1:{server.port}/upload", headers=AUTH, timeout=5,
                      files={"image": ("b.jpg", jpg.tobytes(), "image/jpeg")})
    assert r.status_code == 413


@pytest.mark.parametrize("data,status", [(b"", 400), (b"GIF89a....", 400), (b"\x89PNG\r\n\x1a\nxx", 400)])
def test_non_images_are_400(data, status):
    with pytest.raises(HttpError) as err:
        check_image_header(data, 10**6)
    assert err.value.status == status


def test_deep_json_is_400_not_recursion_error(server):
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(HttpError) as err:
        parse_json(deep, "context")
    assert err.value.status == 400 and "deeper" in err.value.reason
    assert json_depth('{"a": "[[[[[[", "b": [[1]]}') == 3
    with pytest.raises(HttpError):
        parse_json('{"x": NaN}')
    r = requests.post(f"http://127.0.0.1:{server.port}/upload", headers=AUTH, timeout=5,
                      files={"image": ("a.png", _png(8, 8), "image/png")}, data={"context": deep[:20000]})
    assert r.status_code == 400 and "deeper" in r.json()["error"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='[]{}",:0a\\ ', max_size=200))
def test_parse_json_raises_only_http_400(text):
    try:
        parse_json(text, max_depth=5)
    except HttpError as err:
        assert err.status == 400


def test_token_compare_and_sources(tmp_path, monkeypatch):
    auth = TokenAuth("s3cret")
    assert auth.ok("Bearer s3cret") and auth.ok("bearer s3cret")
    assert not auth.ok("Bearer s3cre") and not auth.ok("s3cret") and not auth.ok(None) and not auth.ok("Bearer é")
    assert TokenAuth("").ok(None)
    path = tmp_path / "token"
    path.write_text("from-file\n")
    monkeypatch.setenv("LINGNAV_TEST_TOKEN", "from-env")
    assert load_token(str(path), "LINGNAV_TEST_TOKEN") == "from-file"
    assert load_token("", "LINGNAV_TEST_TOKEN") == "from-env"
    with pytest.raises(ValueError, match="cannot read"):
        load_token(str(tmp_path / "missing"), "")


def test_docs_and_schema_need_the_token(server):
    base = f"http://127.0.0.1:{server.port}"
    assert requests.get(base + "/openapi.json", timeout=5).status_code == 401
    assert requests.get(base + "/docs", timeout=5).status_code == 401
    schema = requests.get(base + "/openapi.json", headers=AUTH, timeout=5).json()
    assert "/upload" in schema["paths"]
    assert requests.get(base + "/docs", headers=AUTH, timeout=5).status_code == 200
    assert json.loads(json.dumps(schema))
