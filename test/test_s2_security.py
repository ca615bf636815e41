"""S2's doors on a real server on 127.0.0.1."""
import json
import socket

import numpy as np
import pytest
import requests

from s2_server import cli
from s2_server.app import ServerSettings, create_app
from s2_server.backends.color_backend import ColorBackend
from s2_server.images import encode_jpeg
from test.navigator_rig import ServerThread
from test.s1_http_rig import png_header_only

JPEG = encode_jpeg(np.zeros((48, 64, 3), np.uint8))


@pytest.fixture(scope="module")
def server():
    s = ServerThread(lambda: create_app(ColorBackend(), ServerSettings(max_upload_mb=0.5))).start()
    yield s
    s.stop()


def _post(port, files=None, data=None, headers=None):
    return requests.post(f"http://127.0.0.1:{port}/step", files=files, data=data, headers=headers, timeout=10)


def test_decompression_bomb_is_413_from_the_header(server):
    bomb = png_header_only(16000, 16000, 8, 2)
    assert len(bomb) < 1000
    r = _post(server.port, files={"image": ("b.png", bomb, "image/png")}, data={"instruction": "go"})
    assert r.status_code == 413 and "pixels" in r.json()["error"]


def test_chunked_upload_over_the_limit_is_413(server):
    boundary = b"zz"
    head = (b"--zz\r\nContent-Disposition: form-data; name=\"instruction\"\r\n\r\ngo\r\n"
            b"--zz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"f.jpg\"\r\n"
            b"Content-Type: image/jpeg\r\n\r\n")

    def body():
        yield head
        for _ in range(64):
            yield b"\xff" * 16384  # 1 MB in all, no Content-Length
        yield b"\r\n--" + boundary + b"--\r\n"

    r = requests.post(f"http://127.0.0.1:{server.port}/step", data=body(), timeout=10,
                      headers={"Content-Type": "multipart/form-data; boundary=zz"})
    assert r.status_code == 413 and r.json()["error"]


def test_chunked_upload_is_cut_off_without_reading_it_all(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /step HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Type: multipart/form-data; boundary=zz\r\n\r\n")
        piece = b"y" * 65536
        try:
            for _ in range(200):  # 13 MB offered; the server stops reading after 0.5 MB
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        except OSError:
            pass
        assert sock.recv(4096).startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize("context,reason", [
    ("[" * 2000 + "]" * 2000, "deeper"),  # json.loads alone would raise RecursionError
    (json.dumps({"previous_target": 123}), "previous_target must be a string"),
    (json.dumps({"instruction_moves_done": "yes"}), "boolean"),
    ("[1, 2]", "JSON object"),
    ('{"previous_target": NaN}', "NaN"),
    ("{", "not valid JSON"),
])
def test_bad_context_is_400_never_5xx(server, context, reason):
    r = _post(server.port, files={"image": ("f.jpg", JPEG, "image/jpeg")},
              data={"instruction": "go to the red chair", "context": context})
    assert r.status_code == 400 and reason in r.json()["error"]


def test_token_guards_the_api_and_docs_but_not_health():
    server = ServerThread(lambda: create_app(ColorBackend(), ServerSettings(token="s3cret"))).start()
    base = f"http://127.0.0.1:{server.port}"
    auth = {"Authorization": "Bearer s3cret"}
    try:
        for path in ("/docs", "/openapi.json"):
            assert requests.get(base + path, timeout=5).status_code == 401
            assert requests.get(base + path, headers={"Authorization": "Bearer s3cre"}, timeout=5).status_code == 401
            assert requests.get(base + path, headers=auth, timeout=5).status_code == 200
        assert {"/step", "/s2_step"} <= set(requests.get(base + "/openapi.json", headers=auth, timeout=5)
                                            .json()["paths"])
        r = _post(server.port, files={"image": ("f.jpg", JPEG, "image/jpeg")}, data={"instruction": "go"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        health = requests.get(base + "/health", timeout=5)
        assert health.status_code == 200 and health.json()["auth"] is True
    finally:
        server.stop()


def test_token_comes_from_a_file_or_the_environment_never_the_command_line(tmp_path, capsys, monkeypatch):
    assert cli.main(["--backend", "color", "--token", "abc"]) == 2
    assert "LINGNAV_S2_TOKEN" in capsys.readouterr().err
    assert cli.main(["--backend", "color", "--token_file", str(tmp_path / "missing")]) == 1
    assert "cannot read the token file" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert cli.main(["--backend", "color", "--token_file", str(empty)]) == 1
    assert "is empty" in capsys.readouterr().err


def test_robot_client_takes_the_token_from_the_environment(monkeypatch):
    from s2_server.http_client import S2Client

    server = ServerThread(lambda: create_app(ColorBackend(), ServerSettings(token="s3cret"))).start()
    try:
        monkeypatch.setenv("LINGNAV_S2_TOKEN", "s3cret")
        assert S2Client("127.0.0.1", server.port).step(np.zeros((48, 64, 3), np.uint8), "go").kind
        monkeypatch.delenv("LINGNAV_S2_TOKEN")
        from s2_server.http_client import S2BadRequest

        with pytest.raises(S2BadRequest, match="401"):
            S2Client("127.0.0.1", server.port).step(np.zeros((48, 64, 3), np.uint8), "go")
    finally:
        server.stop()
