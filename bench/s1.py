"""S1 benchmark: NavDP latency (full size, random weights, CPU), peak memory, the geometric planner
at 640x480, and the HTTP overhead of the S1 server beyond the model call. Prints a table.

    .venv/bin/python bench/s1.py [--iters 3] [--device cpu] [--skip-navdp]
"""
from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from s1_server.camera import Intrinsics  # noqa: E402
from s1_server.codec import encode_depth_png, encode_rgb_jpeg  # noqa: E402
from s1_server.navdp.model import NavDPConfig  # noqa: E402
from s1_server.navdp_planner import NavDPPlanner  # noqa: E402
from s1_server.plan import PointGoal  # noqa: E402
from s1_server.server import create_app  # noqa: E402
from s1_server.testing import write_random_checkpoint  # noqa: E402

W, H = 640, 480
INTR = Intrinsics.from_fov(W, H, 1.2)


def frame(seed: int = 0):
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    depth = np.full((H, W), 3.0, np.float32)
    depth[:, : W // 3] = 1.2
    return rgb, depth


def pct(xs, q):
    return float(np.percentile(np.asarray(xs) * 1000.0, q))


def bench_navdp(iters: int, device: str, rows: list):
    with tempfile.TemporaryDirectory() as d:
        path = write_random_checkpoint(Path(d) / "navdp-weights.ckpt", False)
        t0 = time.perf_counter()
        planner = NavDPPlanner(path, device=device, seed=0)
        load_s = time.perf_counter() - t0
    rgb, depth = frame()
    planner.plan(rgb, depth, INTR, PointGoal(2.0, 0.0))  # warm-up
    times = []
    for i in range(iters):
        rgb, depth = frame(i + 1)
        times.append(planner.plan(rgb, depth, INTR, PointGoal(2.0, 0.0)).latency_s)
    rows.append(("NavDP full fp32 b1 16x10 plan p50", f"{pct(times, 50):.0f} ms", f"{device}, {iters} iters"))
    rows.append(("NavDP full fp32 b1 16x10 plan p99", f"{pct(times, 99):.0f} ms", f"load {load_s:.1f} s"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    rows.append(("NavDP peak RSS (process)", f"{rss:.0f} MiB", "includes the random checkpoint write"))
    if device.startswith("cuda"):
        import torch

        rows.append(("NavDP peak CUDA memory", f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB", device))


def bench_geometric(rows: list):
    try:
        from s1_server.geometric import GeometricPlanner
    except ImportError as err:
        rows.append(("geometric plan 640x480", "n/a", str(err)))
        return
    planner = GeometricPlanner()
    rgb, depth = frame()
    planner.plan(rgb, depth, INTR, PointGoal(3.0, 0.5))
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        planner.plan(rgb, depth, INTR, PointGoal(3.0, 0.5))
        times.append(time.perf_counter() - t0)
    rows.append(("geometric plan 640x480 p50", f"{pct(times, 50):.1f} ms", "target < 20 ms"))
    rows.append(("geometric plan 640x480 p99", f"{pct(times, 99):.1f} ms", "30 iters"))


def bench_http(rows: list):
    import uvicorn

    with tempfile.TemporaryDirectory() as d:
        cfg = NavDPConfig.small(False)
        planner = NavDPPlanner(write_random_checkpoint(Path(d) / "s.ckpt", False, cfg), config=cfg, seed=0)
    app = create_app(lambda _t: planner, "navdp", supports_pixel_goal=False, supports_image_goal=False)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    session = requests.Session()
    session.post(url + "/navigator_reset", json={"intrinsic": INTR.matrix4().tolist(), "batch_size": 1}, timeout=10)
    rgb, depth = frame()
    overheads, encode = [], []
    for i in range(21):
        t0 = time.perf_counter()
        files = {"image": ("rgb.jpg", encode_rgb_jpeg(rgb), "image/jpeg"),
                 "depth": ("depth.png", encode_depth_png(depth), "image/png")}
        t1 = time.perf_counter()
        body = session.post(url + "/pointgoal_step", files=files,
                            data={"goal_data": json.dumps({"goal_x": [2.0], "goal_y": [0.0]})}, timeout=30).json()
        total = time.perf_counter() - t0
        if i:
            overheads.append(total - body["model_ms"] / 1000.0)
            encode.append(t1 - t0)
    server.should_exit = True
    thread.join(5)
    rows.append(("HTTP overhead beyond model, p50", f"{pct(overheads, 50):.1f} ms",
                 "640x480 JPEG+PNG encode, POST, decode, JSON"))
    rows.append(("HTTP overhead beyond model, p99", f"{pct(overheads, 99):.1f} ms", "20 iters"))
    rows.append(("  of which client encode, p50", f"{pct(encode, 50):.1f} ms", ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--skip-navdp", action="store_true")
    args = ap.parse_args()
    rows: list = []
    bench_geometric(rows)
    bench_http(rows)
    if not args.skip_navdp:
        bench_navdp(args.iters, args.device, rows)
    width = max(len(r[0]) for r in rows)
    print(f"{'metric':<{width}}  {'value':>10}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
