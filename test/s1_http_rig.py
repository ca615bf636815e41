"""Helpers for the S1 HTTP tests: a real uvicorn server on a loopback port, requests built the way
existing robot clients build them, and a recording planner that keeps what the server handed it.

The recording planner stands in for the model only; everything between the socket and
`plan()` (multipart, header checks, decoding, colour convention, goal building, queue) is the
real server code under test.
"""
from __future__ import annotations

import contextlib
import io
import json
import struct
import threading
import time
import zlib

import cv2
import numpy as np
import uvicorn
from fastapi import FastAPI
from PIL import Image

from lingnav_core.camera import Intrinsics
from lingnav_core.s1_plan import NUM_CANDIDATES, NUM_WAYPOINTS, S1Plan
from lingnav_http.serve import tcp_socket

H, W = 96, 128
K4 = Intrinsics.from_fov(W, H, 1.2).matrix4().tolist()
K3 = [row[:3] for row in K4[:3]]


@contextlib.contextmanager
def serve(app: FastAPI):
    """Run `app` on a free 127.0.0.1 port in a thread; yields the base URL."""
    sock = tcp_socket("127.0.0.1", 0)  # as the servers bind: TCP_NODELAY on each connection
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


class RecordingPlanner:
    """Keeps every (rgb, depth, goal) it is asked to plan for; answers 16 straight candidates.

    `gate`, when given, makes plan() wait for it: the queue tests hold a plan in flight with it.
    """

    def __init__(self, log: list, gate: threading.Event | None = None):
        self.log = log
        self.gate = gate
        self.resets = 0

    def plan(self, rgb, depth_m, intrinsics, goal, mount=None) -> S1Plan:
        self.log.append({"rgb": rgb.copy(), "depth": depth_m.copy(), "goal": goal, "intrinsics": intrinsics,
                         "mount": mount})
        if self.gate is not None and not self.gate.wait(30):
            raise RuntimeError("test gate never opened")
        steps = np.linspace(0.1, 2.4, NUM_WAYPOINTS)
        cands = np.zeros((NUM_CANDIDATES, NUM_WAYPOINTS, 3), np.float32)
        cands[:, :, 0] = steps
        cands[:, :, 1] = np.linspace(-0.5, 0.5, NUM_CANDIDATES)[:, None] * steps / steps[-1]
        values = np.linspace(-1.0, 1.0, NUM_CANDIDATES).astype(np.float32)
        return S1Plan(cands[-1].copy(), cands, values, False, NUM_CANDIDATES - 1, "recording")

    def reset(self) -> None:
        self.resets += 1


def recording_app(log: list | None = None, gate: threading.Event | None = None, **kwargs) -> FastAPI:
    from s1_server.server import create_app

    log = [] if log is None else log
    app = create_app(lambda _t: RecordingPlanner(log, gate), "recording", **kwargs)
    app.state.log = log
    return app


def geometric_app(**kwargs) -> FastAPI:
    """As `lingnav-s1-server --backend geometric`."""
    from s1_server.geometric import GeometricParams, GeometricPlanner
    from s1_server.server import create_app

    return create_app(lambda t: GeometricPlanner(GeometricParams(stop_threshold=t)), "geometric",
                      supports_pixel_goal=True, supports_image_goal=False, **kwargs)


def navdp_app(ckpt: str, cross_modal: bool) -> FastAPI:
    """NavDP with a tiny checkpoint (`NavDPConfig.small`); each reset's planner is a sibling of
    the first, sharing its weights."""
    from s1_server.navdp.model import NavDPConfig
    from s1_server.navdp_planner import NavDPPlanner
    from s1_server.server import create_app

    first = NavDPPlanner(ckpt, config=NavDPConfig.small(cross_modal), seed=0)
    spare = [first]

    def factory(threshold: float):
        planner = spare.pop() if spare else first.sibling()
        planner.stop_threshold = threshold
        return planner

    return create_app(factory, "navdp", supports_pixel_goal=first.supports_pixel_goal,
                      supports_image_goal=first.supports_image_goal)


# ---- requests exactly as existing robot clients make them -------------------------------------------
def cv2_jpeg(array: np.ndarray, quality: int = 95) -> bytes:
    """What NavDP's clients and the LingNav Jetson client send: cv2.imencode of the array they hold."""
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(array), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def pil_jpeg(rgb: np.ndarray, quality: int = 95) -> bytes:
    """A true-colour JPEG as PIL (or a camera, or a browser) writes it from an RGB picture."""
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def depth_png(depth_m: np.ndarray) -> bytes:
    """The deployed clients' depth: uint16 PNG of metres x 10000."""
    ok, buf = cv2.imencode(".png", np.clip(depth_m * 10000.0, 0, 65535).astype(np.uint16))
    assert ok
    return buf.tobytes()


def frames(batch: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`batch` RGB frames and depths stacked vertically, as the batch API wants them."""
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (H * batch, W, 3), dtype=np.uint8)
    depth = rng.uniform(0.5, 4.0, (H * batch, W)).astype(np.float32)
    return rgb, depth


def step_files(batch: int = 1, seed: int = 0) -> dict:
    rgb, depth = frames(batch, seed)
    return {"image": ("image.jpg", cv2_jpeg(rgb), "image/jpeg"), "depth": ("depth.png", depth_png(depth), "image/png")}


def goal_data(xs, ys) -> dict:
    return {"goal_data": json.dumps({"goal_x": list(xs), "goal_y": list(ys)})}


def reset_body(batch: int = 1, intrinsic=None, stop_threshold: float = -3.0) -> dict:
    return {"intrinsic": K4 if intrinsic is None else intrinsic, "stop_threshold": stop_threshold,
            "batch_size": batch}


def png_header_only(width: int, height: int, bit_depth: int = 16, colour_type: int = 0) -> bytes:
    """A PNG that declares width x height pixels but carries almost no data: what a
    decompression bomb looks like to a header check (the real ones compress to ~1 KB per MP)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
