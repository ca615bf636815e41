"""S2 under hostile input: thousands of random requests (test/s2_fuzz_requests.py: corrupt and
truncated images, decompression-bomb headers, deep or mistyped context JSON, bad headers, broken
multipart) against a real `python -m s2_server --backend color` process. Prints the status
codes, the number of 5xx and hangs, the slowest answer and the server's memory (RSS).

    .venv/bin/python bench/s2_fuzz.py [--requests 5000] [--seed 0]
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from s2_openai import Proc  # noqa: E402

from test.s2_fixtures import free_port  # noqa: E402
from test.s2_fuzz_requests import random_request, send  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    port = free_port()
    codes: Counter[int] = Counter()
    hangs, worst_ms, worst = 0, 0.0, None
    with Proc(["-m", "s2_server", "--backend", "color", "--port", str(port), "--max_upload_mb", "1",
               "--log_level", "error"], port, "/health") as server, requests.Session() as session:
        rss_start = rss_mb(server.proc.pid)
        rss_peak = rss_start
        t_start = time.monotonic()
        for i in range(args.requests):
            req = random_request(rng)
            t0 = time.perf_counter()
            try:
                status = send(session, server.url, req, timeout_s=10.0).status_code
            except requests.Timeout:
                hangs += 1
                continue
            except requests.ConnectionError:
                status = -1  # connection reset by the server
                session.close()
            ms = (time.perf_counter() - t0) * 1000.0
            codes[status] += 1
            if ms > worst_ms:
                worst_ms, worst = ms, (req.path, sorted(req.data), sorted(req.files))
            if i % 250 == 0:
                rss_peak = max(rss_peak, rss_mb(server.proc.pid))
        elapsed = time.monotonic() - t_start
        rss_end = rss_mb(server.proc.pid)
        alive = session.get(server.url + "/health", timeout=5).ok
    fives = sum(n for code, n in codes.items() if code >= 500)
    print(f"S2 fuzz: {args.requests} requests in {elapsed:.1f} s (seed {args.seed})")
    print(f"codes: {dict(sorted(codes.items()))}   (-1 = connection reset)")
    print(f"5xx: {fives}   hangs (> 10 s): {hangs}   resets: {codes.get(-1, 0)}   alive after: {alive}")
    print(f"slowest answer: {worst_ms:.0f} ms {worst}")
    print(f"server RSS: start {rss_start:.0f} MB, peak {rss_peak:.0f} MB, end {rss_end:.0f} MB")
    return 0 if fives == 0 and hangs == 0 and alive else 1


if __name__ == "__main__":
    sys.exit(main())
