"""S2 benchmark: per-request server overhead with the color backend (640x480 JPEG), throughput and
p99 with concurrent clients, and the tiny Qwen3-VL's generate-call time per request with and
without micro-batching. Servers run as real `python -m s2_server` processes on 127.0.0.1.
Prints a table.

    .venv/bin/python bench/s2.py [--requests 300] [--clients 8] [--skip-tiny]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.servers import ServerProcess  # noqa: E402
from s2_server.images import encode_jpeg  # noqa: E402
from test.s2_fixtures import paint_box, room_frame  # noqa: E402

INSTRUCTION = "go to the red chair"


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def one_request(session: requests.Session, url: str, jpeg: bytes) -> tuple[float, dict]:
    t0 = time.perf_counter()
    r = session.post(url + "/step", files={"image": ("f.jpg", jpeg, "image/jpeg")},
                     data={"instruction": INSTRUCTION}, timeout=60)
    elapsed_ms = (time.perf_counter() - t0) * 1000.0
    r.raise_for_status()
    return elapsed_ms, r.json()


def sequential(url: str, jpeg: bytes, n: int) -> list[tuple[float, dict]]:
    with requests.Session() as session:
        for _ in range(10):
            one_request(session, url, jpeg)  # warm-up
        return [one_request(session, url, jpeg) for _ in range(n)]


def concurrent(url: str, jpeg: bytes, clients: int, per_client: int) -> tuple[list[tuple[float, dict]], float]:
    results: list[tuple[float, dict]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        with requests.Session() as session:
            one_request(session, url, jpeg)  # connect + warm-up
            barrier.wait()
            mine = [one_request(session, url, jpeg) for _ in range(per_client)]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return results, time.perf_counter() - t0


def bench_color(rows: list, n: int, clients: int) -> None:
    rgb = paint_box(room_frame(640, 480), "red", 280, 230, 360, 330)
    jpeg = encode_jpeg(rgb, 90)
    with ServerProcess.module("s2_server", "--backend", "color", ready_timeout_s=120.0) as server:
        res = sequential(server.url, jpeg, n)
        e2e = [ms for ms, _ in res]
        overhead = [ms - body["timings_ms"]["generate"] for ms, body in res]
        seg = [body["timings_ms"]["generate"] for _, body in res]
        decode = [body["timings_ms"]["read_decode"] for _, body in res]
        parse = [body["timings_ms"]["parse"] for _, body in res]
        assert all(body["kind"] == "pixel" for _, body in res)
        rows.append(("color: end-to-end latency, 1 client", f"p50 {pct(e2e, 50):.1f} ms", f"p99 {pct(e2e, 99):.1f} ms",
                     f"{n} requests, {len(jpeg) // 1024} KiB JPEG 640x480"))
        rows.append(("color: server overhead (all but segmentation)", f"p50 {pct(overhead, 50):.1f} ms",
                     f"p99 {pct(overhead, 99):.1f} ms", "target p50 < 15 ms"))
        rows.append(("  of which upload read + JPEG decode + resize", f"p50 {pct(decode, 50):.2f} ms",
                     f"p99 {pct(decode, 99):.2f} ms", "server-side"))
        rows.append(("  of which parse", f"p50 {pct(parse, 50):.2f} ms", f"p99 {pct(parse, 99):.2f} ms", "server-side"))
        rows.append(("color: segmentation (the 'model')", f"p50 {pct(seg, 50):.2f} ms", f"p99 {pct(seg, 99):.2f} ms",
                     "server-side"))
        per_client = max(5, n // clients)
        res, wall_s = concurrent(server.url, jpeg, clients, per_client)
        lat = [ms for ms, _ in res]
        rows.append((f"color: {clients} concurrent clients", f"{len(res) / wall_s:.0f} req/s",
                     f"p50 {pct(lat, 50):.1f} / p99 {pct(lat, 99):.1f} ms", f"{len(res)} requests"))


def bench_tiny(rows: list, clients: int, per_client: int) -> None:
    from s2_server.tiny_checkpoint import write_tiny_checkpoint

    rgb = paint_box(room_frame(640, 480), "red", 280, 230, 360, 330)
    jpeg = encode_jpeg(rgb, 90)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_tiny_checkpoint(Path(tmp) / "tiny-qwen3-vl", "qwen3_vl")
        for max_batch in (1, clients):
            with ServerProcess.module("s2_server", "--backend", "transformers", "--model_path", str(path),
                                      "--device", "cpu", "--max_new_tokens", "16", "--max_batch", str(max_batch),
                                      "--queue_size", str(4 * clients), ready_timeout_s=120.0) as server:
                sequential(server.url, jpeg, 0)
                res, wall_s = concurrent(server.url, jpeg, clients, per_client)
                per_req = [body["timings_ms"]["generate"] / max(body["batch_size"], 1) for _, body in res]
                sizes = [body["batch_size"] for _, body in res]
                lat = [ms for ms, _ in res]
                label = "off (max_batch 1)" if max_batch == 1 else f"on (max_batch {max_batch})"
                rows.append((f"tiny Qwen3-VL, micro-batching {label}",
                             f"generate {pct(per_req, 50):.0f} ms/req (p50)",
                             f"{len(res) / wall_s:.1f} req/s, p99 {pct(lat, 99):.0f} ms",
                             f"{clients} clients, mean batch {np.mean(sizes):.1f}, 16 new tokens"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--tiny-per-client", type=int, default=4)
    p.add_argument("--skip-tiny", action="store_true")
    args = p.parse_args(argv)
    rows: list[tuple[str, str, str, str]] = []
    bench_color(rows, args.requests, args.clients)
    if not args.skip_tiny:
        bench_tiny(rows, args.clients, args.tiny_per_client)
    widths = [max(len(r[i]) for r in rows + [("what", "p50 / value", "p99 / value", "notes")]) for i in range(4)]
    header = ("what", "p50 / value", "p99 / value", "notes")
    print(f"S2 server benchmark ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
