"""S1 benchmark: NavDP plan latency at 640x480 (full-size random network in the official layout)
for the official algorithm order (our `reference=True` path), ours on torch, ours on onnxruntime and
fp16 on CUDA where present, with the largest differences between them under the same noise; peak
memory; the geometric planner at 640x480; the HTTP overhead of the S1 server beyond the model call.

    .venv/bin/python bench/s1.py [--iters 2] [--device cpu] [--variant cross-modal|original]
                                 [--small] [--skip-navdp] [--skip-onnx]
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lingnav_core.camera import Intrinsics  # noqa: E402
from lingnav_core.s1_plan import PointGoal  # noqa: E402
from lingnav_http.serve import tcp_socket  # noqa: E402
from s1_server.codec import encode_depth_png, encode_rgb_jpeg  # noqa: E402
from s1_server.http_client import S1Client  # noqa: E402
from s1_server.navdp.model import NavDPConfig  # noqa: E402
from s1_server.navdp_planner import NavDPPlanner  # noqa: E402
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


def _timed_plans(planner: NavDPPlanner, iters: int) -> tuple[list, list, list]:
    """Plan on frames 0..iters (frame 0 is the warm-up, untimed); same frames and goal for every planner.
    Returns the plans, wall times and process CPU times (the latter barely move when other processes
    share the cores, so ratios are read from them)."""
    plans, wall, cpu = [], [], []
    for i in range(iters + 1):
        rgb, depth = frame(i)
        t0, c0 = time.perf_counter(), time.process_time()
        plans.append(planner.plan(rgb, depth, INTR, PointGoal(2.0, 0.5)))
        if i:
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return plans, wall, cpu


def _diff(a: list, b: list) -> str:
    traj = max(float(np.abs(x.candidates - y.candidates).max()) for x, y in zip(a, b))
    val = max(float(np.abs(x.values - y.values).max()) for x, y in zip(a, b))
    return f"max |diff| traj {traj:.1e} m, values {val:.1e}"


def _ratio(ref_wall: list, ref_cpu: list, wall: list, cpu: list) -> str:
    return (f"{pct(ref_wall, 50) / pct(wall, 50):.2f}x faster (p50 wall), "
            f"{min(ref_wall) / min(wall):.2f}x (min wall), {pct(ref_cpu, 50) / pct(cpu, 50):.2f}x (CPU)")


def bench_navdp(iters: int, device: str, cross_modal: bool, small: bool, skip_onnx: bool, rows: list):
    import torch

    from s1_server.navdp.onnx_export import export_onnx
    from s1_server.navdp.runtime import OnnxRuntime

    cfg = NavDPConfig.small(cross_modal) if small else NavDPConfig.full(cross_modal)
    size = f"{'small' if small else 'full'} {'cross-modal' if cross_modal else 'original'}"
    with tempfile.TemporaryDirectory() as d:
        path = write_random_checkpoint(Path(d) / "navdp.ckpt", cross_modal, cfg)
        t0 = time.perf_counter()
        ours = NavDPPlanner(path, device=device, seed=0, config=cfg)
        load_s = time.perf_counter() - t0
        official = NavDPPlanner(ours.model, device=device, seed=0, reference=True)
        ref_plans, ref_t, ref_c = _timed_plans(official, iters)
        our_plans, our_t, our_c = _timed_plans(ours, iters)
        note = f"{size}, 640x480, {device}, {torch.get_num_threads()} threads, 16x10 steps, {iters} iters"
        rows.append(("NavDP official order (torch) p50", f"{pct(ref_t, 50):.0f} ms",
                     f"min {min(ref_t) * 1000:.0f} ms, CPU {pct(ref_c, 50):.0f} ms; {note}"))
        rows.append(("NavDP ours (torch) p50", f"{pct(our_t, 50):.0f} ms",
                     f"min {min(our_t) * 1000:.0f} ms, CPU {pct(our_c, 50):.0f} ms, "
                     f"{_ratio(ref_t, ref_c, our_t, our_c)}; "
                     f"{_diff(our_plans, ref_plans)}"))
        if skip_onnx:
            rows.append(("NavDP ours (onnxruntime) p50", "skipped", "--skip-onnx"))
        else:
            t0 = time.perf_counter()
            out = export_onnx(NavDPPlanner(path, seed=0, config=cfg).model, Path(d) / "onnx", path)
            export_s = time.perf_counter() - t0
            ort_plans, ort_t, ort_c = _timed_plans(NavDPPlanner(OnnxRuntime(out), seed=0), iters)
            rows.append(("NavDP ours (onnxruntime CPU) p50", f"{pct(ort_t, 50):.0f} ms",
                         f"min {min(ort_t) * 1000:.0f} ms, CPU {pct(ort_c, 50):.0f} ms, "
                         f"{_ratio(ref_t, ref_c, ort_t, ort_c)}; "
                         f"{_diff(ort_plans, ref_plans)}; export {export_s:.0f} s"))
    rows.append(("NavDP load (torch)", f"{load_s:.1f} s", ""))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    rows.append(("NavDP peak RSS (process)", f"{rss:.0f} MiB", "includes the random checkpoint write"))
    if not torch.cuda.is_available():
        rows.append(("NavDP ours fp16 CUDA p50", "skipped", "torch.cuda.is_available() is False"))
        return
    with tempfile.TemporaryDirectory() as d:
        path = write_random_checkpoint(Path(d) / "navdp.ckpt", cross_modal, cfg)
        fp32_plans, fp32_t, _ = _timed_plans(NavDPPlanner(path, device="cuda", seed=0, config=cfg), iters)
        half_plans, half_t, _ = _timed_plans(NavDPPlanner(path, device="cuda", half=True, seed=0, config=cfg), iters)
    rows.append(("NavDP ours fp32 CUDA p50", f"{pct(fp32_t, 50):.0f} ms", torch.cuda.get_device_name()))
    rows.append(("NavDP ours fp16 CUDA p50", f"{pct(half_t, 50):.0f} ms",
                 f"vs fp32 CUDA: {_diff(half_plans, fp32_plans)}"))
    rows.append(("NavDP peak CUDA memory", f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB", ""))


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
    sock = tcp_socket("127.0.0.1", 0)  # as lingnav-s1-server binds: TCP_NODELAY on each connection
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    client = S1Client("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout_s=30.0, intrinsics=INTR)
    rgb, depth = frame()
    overheads, encode = [], []
    for i in range(21):
        plan = client.plan(rgb, depth, INTR, PointGoal(2.0, 0.0))  # the robot's own client, kept alive
        t0 = time.perf_counter()
        encode_rgb_jpeg(rgb)
        encode_depth_png(depth)
        if i:
            overheads.append(plan.latency_s - plan.info["model_ms"] / 1000.0)
            encode.append(time.perf_counter() - t0)
    server.should_exit = True
    thread.join(5)
    rows.append(("HTTP overhead beyond model, p50", f"{pct(overheads, 50):.1f} ms",
                 "640x480 via S1Client: JPEG+PNG encode, POST, decode, plan queue, JSON"))
    rows.append(("HTTP overhead beyond model, p99", f"{pct(overheads, 99):.1f} ms", "20 iters"))
    rows.append(("  JPEG + PNG encode one after the other, p50", f"{pct(encode, 50):.1f} ms",
                 "S1Client encodes them at once"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--iters", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--variant", choices=("cross-modal", "original"), default="cross-modal")
    ap.add_argument("--small", action="store_true", help="the reduced test network instead of the full size")
    ap.add_argument("--skip-navdp", action="store_true")
    ap.add_argument("--skip-onnx", action="store_true")
    args = ap.parse_args()
    rows: list = []
    bench_geometric(rows)
    bench_http(rows)
    if not args.skip_navdp:
        bench_navdp(args.iters, args.device, args.variant == "cross-modal", args.small, args.skip_onnx, rows)
    width = max(len(r[0]) for r in rows)
    print(f"{'metric':<{width}}  {'value':>10}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
