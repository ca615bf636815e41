"""S2's OpenAI-compatible backend under load: throughput and added latency at 1, 4 and 16
concurrent robots, against a local upstream (test/s2_openai_upstream.py) that answers after a
set delay, with S2 in dispatch mode and in micro-batch mode.

Every process is real: the upstream and S2 run as separate `python` processes on 127.0.0.1.
"direct" is the same chat request sent straight to the upstream (what the robot would pay
without S2); "added" is S2's p50 minus direct's p50 at the same concurrency; "own" is S2's
own work per request from its timings_ms (upload read + JPEG decode + resize + parse), "queue"
the time a request waited for the worker.

    .venv/bin/python bench/s2_openai.py [--delay_ms 200] [--seconds 4] [--clients 1 4 16]
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.servers import ServerProcess  # noqa: E402
from s2_server.backends import BackendRequest  # noqa: E402
from s2_server.backends.openai_backend import OpenAIBackend  # noqa: E402
from s2_server.images import encode_jpeg, resize_for_model  # noqa: E402
from test.s2_fixtures import free_port, paint_box, room_frame  # noqa: E402

MODEL = "qwen3-vl-4b"
INSTRUCTION = "go to the red chair"


def upstream(delay_s: float) -> ServerProcess:
    port = free_port()
    code = ("import uvicorn\nfrom test.s2_openai_upstream import Upstream\n"
            f"uvicorn.run(Upstream([{MODEL!r}], delay_s={delay_s}).app(), host='127.0.0.1', port={port}, "
            "log_level='warning')\n")
    return ServerProcess(["-c", code], port, "/v1/models")


def s2(api_base: str, *flags: str) -> ServerProcess:
    return ServerProcess.module("s2_server", "--backend", "openai", "--api_base", api_base, "--served_model", MODEL,
                                "--queue_size", "64", "--log_level", "warning", *flags)


def load(clients: int, seconds: float, call) -> tuple[list[float], list[dict], int]:
    """`clients` threads calling `call(session)` back to back for `seconds`; latencies in ms."""
    latencies: list[float] = []
    bodies: list[dict] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run():
        with requests.Session() as session:
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                try:
                    body = call(session)
                except Exception:
                    with lock:
                        errors[0] += 1
                    continue
                with lock:
                    latencies.append((time.perf_counter() - t0) * 1000.0)
                    bodies.append(body)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, bodies, errors[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--delay_ms", type=float, default=200.0, help="upstream answer delay")
    ap.add_argument("--seconds", type=float, default=4.0, help="load duration per row")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    args = ap.parse_args()

    rgb = paint_box(room_frame(), "red", 280, 250, 360, 330)
    jpeg = encode_jpeg(rgb)
    modes = [("dispatch 16", ["--max_inflight", "16"]), ("batch 1", ["--max_inflight", "0", "--max_batch", "1"]),
             ("batch 4", ["--max_inflight", "0", "--max_batch", "4"]),
             ("batch 16", ["--max_inflight", "0", "--max_batch", "16"])]
    print(f"upstream delay {args.delay_ms:.0f} ms, {args.seconds:.0f} s per row, 640x480 JPEG "
          f"({len(jpeg) / 1024:.0f} KB), {os.cpu_count()} CPUs")
    print(f"{'path':<15}{'clients':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'added p50':>10}"
          f"{'own p50':>9}{'queue p50':>10}{'batch':>7}{'errors':>7}")
    with upstream(args.delay_ms / 1000.0) as up:
        api_base = up.url + "/v1"
        direct_body = OpenAIBackend(api_base, MODEL).body(
            BackendRequest(resize_for_model(rgb, 640, 480), INSTRUCTION))
        direct_p50: dict[int, float] = {}
        for clients in args.clients:
            lat, _, err = load(clients, args.seconds, lambda s: s.post(
                api_base + "/chat/completions", json=direct_body, timeout=30).raise_for_status() or {})
            direct_p50[clients] = float(np.percentile(lat, 50))
            _row("direct", clients, lat, args.seconds, float("nan"), [], [], [], err)
        for name, flags in modes:
            with s2(api_base, *flags) as server:
                url = server.url + "/step"

                def call(session, url=url):
                    r = session.post(url, files={"image": ("f.jpg", jpeg, "image/jpeg")},
                                     data={"instruction": INSTRUCTION}, timeout=60)
                    r.raise_for_status()
                    return r.json()

                for clients in args.clients:
                    lat, bodies, err = load(clients, args.seconds, call)
                    own = [b["timings_ms"]["read_decode"] + b["timings_ms"]["parse"] for b in bodies]
                    queue = [b["timings_ms"]["queue"] for b in bodies]
                    added = float(np.percentile(lat, 50)) - direct_p50[clients] if lat else float("nan")
                    _row(f"S2 {name}", clients, lat, args.seconds, added, own, queue,
                         [b["batch_size"] for b in bodies], err)
    return 0


def _pct(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def _row(name, clients, lat, seconds, added, own, queue, batches, errors) -> None:
    batch = float(np.mean(batches)) if len(batches) else float("nan")
    print(f"{name:<15}{clients:>8}{len(lat) / seconds:>8.1f}{_pct(lat, 50):>8.0f}{_pct(lat, 95):>8.0f}"
          f"{added:>10.0f}{_pct(own, 50):>9.1f}{_pct(queue, 50):>10.1f}{batch:>7.1f}{errors:>7}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
