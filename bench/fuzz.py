"""Fuzz both servers over real HTTP: random and malformed bodies, thousands of requests each.

S1 (`python -m s1_server --backend geometric`) and S2 (`python -m s2_server --backend color`)
run as real processes on 127.0.0.1 with a 1 MB upload limit, so oversized (chunked) bodies are
cheap to send. A few client threads send a seeded mix of valid requests and broken ones
(corrupt/truncated images, header-only decompression bombs, NaN/Infinity, deeply nested JSON,
wrong types and shapes, chunked bodies over the limit, wrong methods and paths); most of S2's
come from test/s2_fuzz_requests.py (also behind test/test_s2_fuzz.py: broken multipart, bad
headers, mistyped context JSON). Prints per server the status-code histogram, the 5xx and
timeout counts, latency p50/p99/max, /health latency while the fuzz runs, and the server's RSS
(now and peak). Bounded in count and time. Exit status 1 on any 5xx, timeout or dead server.

    .venv/bin/python bench/fuzz.py [--requests 5000] [--clients 4] [--time_limit_s 240] [--seed 0]
"""
from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import threading
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.servers import ServerProcess  # noqa: E402
from test.s1_http_rig import K4, cv2_jpeg, depth_png, png_header_only  # noqa: E402
from test.s2_fuzz_requests import as_call, random_request  # noqa: E402

H, W = 120, 160
UPLOAD_LIMIT_MB = 1.0


# ---- request generators: each returns (method, path, requests kwargs) -------------------------------
class Corpus:
    def __init__(self, rng: random.Random):
        nrng = np.random.default_rng(rng.randrange(2**32))
        rgb = nrng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        self.jpeg = cv2_jpeg(rgb)
        self.jpeg2 = cv2_jpeg(np.concatenate([rgb, rgb]))
        self.depth = depth_png(np.full((H, W), 2.0, np.float32))
        self.depth2 = depth_png(np.full((2 * H, W), 2.0, np.float32))
        self.bad_images = [b"", self.jpeg[: len(self.jpeg) // 3], b"\xff\xd8\xff\xe0" + bytes(64), self.depth,
                           png_header_only(16000, 16000, 8, 2), png_header_only(30000, 30000),
                           nrng.bytes(500), cv2_jpeg(np.zeros((H + 7, W, 3), np.uint8)), b"GIF89a" + bytes(30)]
        self.bad_depths = [b"", self.depth[:80], self.jpeg, png_header_only(16000, 16000), nrng.bytes(300),
                           depth_png(np.full((H, W + 5), 1.0, np.float32)),
                           cv2_jpeg(np.zeros((H, W, 3), np.uint8))]
        self.oversize = bytes(int(UPLOAD_LIMIT_MB * 1024 * 1024 * 1.5))


def weird_number(rng: random.Random):
    return rng.choice([float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 0, -1, 1.5, True, None, "3",
                       [], {}, 10**30, rng.uniform(-1e6, 1e6)])


def deep(rng: random.Random) -> str:
    n = rng.choice([50, 500, 5000, 20000])
    return rng.choice(["[" * n + "]" * n, '{"a":' * n + "1" + "}" * n])


def chunked(body: bytes, size: int = 65536):
    yield from (body[i:i + size] for i in range(0, len(body), size))


def s1_reset_request(rng: random.Random):
    """/navigator_reset (or its alias) with some numbers made weird, or a too-deep body."""
    body = {"intrinsic": K4, "stop_threshold": -3.0, "batch_size": rng.choice([1, 1, 1, 2])}
    for key in rng.sample(["intrinsic", "stop_threshold", "batch_size", "camera_pitch_rad"], rng.randint(0, 2)):
        body[key] = weird_number(rng) if rng.random() < 0.7 else [[weird_number(rng)] * 3] * 3
    text = json.dumps(body, allow_nan=True) if rng.random() < 0.9 else deep(rng)
    return "POST", rng.choice(["/navigator_reset", "/navdp_reset"]), {
        "data": text, "headers": {"Content-Type": "application/json"}}


def s1_break_step(rng: random.Random, c: Corpus, path: str, files: dict, data: dict, goal: dict):
    """Break one part of a valid step (in place), or return a whole malformed request instead."""
    broken = rng.random()
    if broken < 0.15:
        files["image"] = ("i.jpg", rng.choice(c.bad_images), "image/jpeg")
    elif broken < 0.3:
        files["depth"] = ("d.png", rng.choice(c.bad_depths), "image/png")
    elif broken < 0.45:
        goal[rng.choice(["goal_x", "goal_y"])] = rng.choice([[weird_number(rng)], weird_number(rng), [1, 2, 3]])
        data["goal_data"] = json.dumps(goal, allow_nan=True)
    elif broken < 0.5:
        data["goal_data"] = deep(rng)
    elif broken < 0.55:
        data["goal_data"] = rng.choice(["", "{", "null", "[]", '"x"', "\udcff".encode("utf-8", "surrogatepass")])
    elif broken < 0.6:
        files.pop(rng.choice(list(files)))
    elif broken < 0.65:
        return "POST", path, {"data": chunked(c.oversize), "headers": {"Content-Type": "multipart/form-data; b=x"}}
    elif broken < 0.7:
        return "POST", path, {"data": bytes(rng.randrange(256) for _ in range(rng.randrange(400))),
                              "headers": {"Content-Type": rng.choice(["multipart/form-data; boundary=q",
                                                                      "multipart/form-data", "text/plain"])}}
    return None


def s1_request(rng: random.Random, c: Corpus):
    roll = rng.random()
    if roll < 0.06:
        return s1_reset_request(rng)
    if roll < 0.09:
        return "POST", "/navigator_reset_env", {"data": json.dumps({"env_id": weird_number(rng)}, allow_nan=True),
                                                "headers": {"Content-Type": "application/json"}}
    if roll < 0.12:
        return rng.choice([("GET", "/health", {}), ("GET", "/docs", {}), ("GET", "/openapi.json", {}),
                           ("GET", "/pointgoal_step", {}), ("POST", "/nothing", {}), ("DELETE", "/health", {})])
    path = rng.choice(["/pointgoal_step", "/pixelgoal_step", "/nogoal_step", "/imagegoal_step",
                       "/navdp_step_xy", "/navdp_step_nogoal", "/navdp_step_ip_mixgoal"])
    batch2 = rng.random() < 0.1
    files = {"image": ("i.jpg", c.jpeg2 if batch2 else c.jpeg, "image/jpeg"),
             "depth": ("d.png", c.depth2 if batch2 else c.depth, "image/png")}
    if rng.random() < 0.3:
        files["goal" if rng.random() < 0.5 else "image_goal"] = ("g.jpg", c.jpeg, "image/jpeg")
    goal = {"goal_x": [rng.uniform(-3, 3) if path != "/pixelgoal_step" else rng.randrange(W)],
            "goal_y": [rng.uniform(-3, 3) if path != "/pixelgoal_step" else rng.randrange(H)]}
    data = {"goal_data": json.dumps(goal)}
    whole = s1_break_step(rng, c, path, files, data, goal)
    return whole if whole is not None else ("POST", path, {"files": files, "data": data})


def s2_request(rng: random.Random, c: Corpus):
    """Three in four from test/s2_fuzz_requests.py (the hostile step requests the bounded hypothesis
    test also sends); the rest are what that generator lacks: chunked bodies over the upload limit,
    wrong methods and paths, non-finite numbers in the context, very long or odd instructions."""
    if rng.random() < 0.75:
        return as_call(random_request(rng))
    roll = rng.random()
    if roll < 0.04:
        return rng.choice([("GET", "/health", {}), ("GET", "/docs", {}), ("GET", "/openapi.json", {}),
                           ("GET", "/s2_step", {}), ("POST", "/nothing", {})])
    path = rng.choice(["/s2_step", "/step"])
    files = {"image": ("i.jpg", c.jpeg, "image/jpeg")}
    data = {"instruction": rng.choice(["go to the red chair", "turn left 30 degrees", "go two meters forward"])}
    broken = rng.random()
    if broken < 0.2:
        files["image"] = ("i.jpg", rng.choice(c.bad_images), "image/jpeg")
    elif broken < 0.3:
        data["instruction"] = rng.choice(["", " ", "x" * 5000, "\u202e\u0000", "🤖" * 50])
    elif broken < 0.45:
        data["context"] = rng.choice([deep(rng), json.dumps({"previous_target": weird_number(rng)}, allow_nan=True),
                                      "[1]", "{", json.dumps({"instruction_moves_done": weird_number(rng)},
                                                             allow_nan=True)])
    elif broken < 0.5:
        data["previous_target"] = rng.choice(["", "x" * 3000, "red chair"])
    elif broken < 0.55:
        files.pop("image")
    elif broken < 0.6:
        return "POST", path, {"data": chunked(c.oversize), "headers": {"Content-Type": "multipart/form-data; b=x"}}
    elif broken < 0.65:
        return "POST", path, {"data": bytes(rng.randrange(256) for _ in range(rng.randrange(400))),
                              "headers": {"Content-Type": "multipart/form-data; boundary=q"}}
    return "POST", path, {"files": files, "data": data}


def _error_text(r: requests.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return ""
    return body.get("error", "") if isinstance(body, dict) else ""


def _send(session: requests.Session, url: str, method: str, path: str, kwargs: dict):
    """One fuzz request: (status code or failure word, what was wrong with the answer, the session
    to use next: a new one after a dropped connection)."""
    try:
        r = session.request(method, url + path, timeout=30, **kwargs)
    except requests.Timeout:
        return "timeout", "", session
    except requests.ConnectionError:
        return "connection error", "", requests.Session()
    code = r.status_code
    problem = ""
    if code >= 400 and not _error_text(r):
        problem = f"{method} {path} {code} without 'error': {r.text[:120]!r}"
    if code >= 500:
        problem = problem or f"{method} {path} -> {code}: {r.text[:120]!r}"
    return code, problem, session


def fuzz(server: ServerProcess, make, n: int, clients: int, time_limit_s: float, seed: int) -> dict:
    codes: collections.Counter = collections.Counter()
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + time_limit_s
    counter = iter(range(n))

    def worker(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        corpus = Corpus(rng)
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                if next(counter, None) is None:
                    return
            method, path, kwargs = make(rng, corpus)
            t0 = time.perf_counter()
            code, problem, session = _send(session, server.url, method, path, kwargs)
            dt = time.perf_counter() - t0
            with lock:
                codes[code] += 1
                latencies.append(dt)
                if problem:
                    failures.append(problem)

    health_ms: list[float] = []
    done = threading.Event()

    def probe() -> None:  # /health must stay responsive while the fuzz runs (the event loop never blocks)
        session = requests.Session()
        while not done.wait(0.05):
            t = time.perf_counter()
            try:
                session.get(server.url + "/health", timeout=30)
            except requests.RequestException:
                session = requests.Session()
            health_ms.append((time.perf_counter() - t) * 1000.0)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    prober = threading.Thread(target=probe)
    t0 = time.perf_counter()
    prober.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    done.set()
    prober.join()
    alive = server.alive() and requests.get(server.url + "/health", timeout=5).status_code == 200
    lat = np.asarray(latencies) * 1000.0
    rss, peak = server.rss_mib()
    return {"requests": len(latencies), "wall_s": wall, "codes": codes, "failures": failures, "alive": alive,
            "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99)),
            "max_ms": float(lat.max()), "rss_mib": rss, "peak_rss_mib": peak,
            "health_p99_ms": float(np.percentile(health_ms, 99)) if health_ms else float("nan"),
            "health_max_ms": max(health_ms, default=float("nan"))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=5000, help="per server")
    ap.add_argument("--clients", type=int, default=4, help="concurrent client threads per server")
    ap.add_argument("--time_limit_s", type=float, default=240.0, help="per server")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    limit = ["--max_upload_mb", str(UPLOAD_LIMIT_MB)]
    plans = [("S1 geometric", "s1_server", ["--backend", "geometric", *limit], s1_request),
             ("S2 color", "s2_server", ["--backend", "color", *limit], s2_request)]
    results = {}
    for name, module, server_args, make in plans:
        with ServerProcess.module(module, *server_args) as server:
            if module == "s1_server":
                requests.post(server.url + "/navigator_reset", json={"intrinsic": K4, "batch_size": 1}, timeout=10)
            results[name] = fuzz(server, make, args.requests, args.clients, args.time_limit_s, args.seed)
    bad = False
    for name, res in results.items():
        n5xx = sum(v for k, v in res["codes"].items() if isinstance(k, int) and k >= 500)
        hangs = sum(v for k, v in res["codes"].items() if not isinstance(k, int))
        histogram = ", ".join(f"{k}: {v}" for k, v in sorted(res["codes"].items(), key=lambda kv: str(kv[0])))
        print(f"{name}: {res['requests']} requests in {res['wall_s']:.1f} s ({args.clients} clients)")
        print(f"  codes      {histogram}")
        print(f"  5xx        {n5xx}    timeouts/connection errors {hangs}    alive after: {res['alive']}")
        print(f"  latency    p50 {res['p50_ms']:.1f} ms, p99 {res['p99_ms']:.1f} ms, max {res['max_ms']:.1f} ms")
        print(f"  /health during the fuzz: p99 {res['health_p99_ms']:.1f} ms, max {res['health_max_ms']:.1f} ms")
        print(f"  server RSS {res['rss_mib']:.0f} MiB now, {res['peak_rss_mib']:.0f} MiB peak")
        for line in res["failures"][:10]:
            print(f"  FAIL {line}")
        bad |= bool(n5xx or hangs or res["failures"] or not res["alive"] or res["requests"] < args.requests)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
