"""The S1 HTTP service, speaking the field's NavDP API so existing robot clients keep working.

One planner per robot (`batch_size` at reset): NavDP keeps an 8-frame memory per robot, so
robots must never share one. Nothing is written to disk per step.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from s1_server.camera import CameraMount, Intrinsics
from s1_server.codec import CodecError, decode_depth, decode_rgb, split_batch
from s1_server.plan import DEFAULT_STOP_THRESHOLD, Goal, ImageGoal, NoGoal, PixelGoal, PointGoal, S1Error

log = logging.getLogger("s1_server")
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": reason})


class _Session:
    def __init__(self, intrinsics_k: np.ndarray, stop_threshold: float, batch_size: int, mount: CameraMount,
                 planners: list):
        self.intrinsics_k = intrinsics_k
        self.stop_threshold = stop_threshold
        self.batch_size = batch_size
        self.mount = mount
        self.planners = planners


def create_app(planner_factory: Callable[[float], object], backend_name: str,
               supports_pixel_goal: bool = True, supports_image_goal: bool = True) -> FastAPI:
    """`planner_factory(stop_threshold)` makes one Planner for one robot."""
    app = FastAPI(title="LingNav S1", version="0.1.0", description="NavDP-compatible trajectory service.")
    lock = threading.Lock()
    state: dict = {"session": None, "steps": 0, "model_s": 0.0}
    app.state.stats = state

    @app.get("/health")
    def health() -> dict:
        s = state["session"]
        return {"status": "ok", "backend": backend_name, "ready": True,
                "reset": s is not None, "batch_size": s.batch_size if s else 0, "steps": state["steps"]}

    async def reset(request: Request):
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            k = np.asarray(body["intrinsic"], dtype=float)
            if k.shape not in ((4, 4), (3, 3)) or not np.all(np.isfinite(k)) or k[0, 0] <= 0 or k[1, 1] <= 0:
                raise ValueError("intrinsic must be a finite 3x3 or 4x4 matrix with positive focal lengths")
            threshold = float(body.get("stop_threshold", DEFAULT_STOP_THRESHOLD))
            batch = int(body.get("batch_size", 1))
            if not 1 <= batch <= 64:
                raise ValueError("batch_size must be in 1..64")
            mount = CameraMount(float(body.get("camera_height_m", CameraMount().height_m)),
                                float(body.get("camera_pitch_rad", 0.0)))
        except (KeyError, ValueError, TypeError) as err:
            return _error(400, f"bad reset request: {err}")
        with lock:
            state["session"] = _Session(k, threshold, batch, mount, [planner_factory(threshold) for _ in range(batch)])
        return {"algo": backend_name}

    async def reset_env(request: Request):
        try:
            env_id = int((await request.json())["env_id"])
        except (KeyError, ValueError, TypeError) as err:
            return _error(400, f"bad reset_env request: {err}")
        s = state["session"]
        if s is None:
            return _error(409, "call /navigator_reset first")
        if not 0 <= env_id < s.batch_size:
            return _error(400, f"env_id {env_id} outside 0..{s.batch_size - 1}")
        s.planners[env_id].reset()
        return {"algo": backend_name, "env_id": env_id}

    def make_step(mode: str):
        async def step(request: Request):
            s = state["session"]
            if s is None:
                return _error(409, "call /navigator_reset before stepping")
            if not request.headers.get("content-type", "").startswith("multipart/form-data"):
                return _error(415, "send multipart/form-data with 'image', 'depth' and 'goal_data'")
            try:
                form = await request.form(max_part_size=MAX_UPLOAD_BYTES)
            except Exception as err:
                return _error(400, f"malformed multipart body: {err}")
            try:
                rgbs, depths = await _frames(form, s.batch_size)
                goals = await _goals(form, mode, s.batch_size, rgbs[0].shape)
            except (CodecError, ValueError) as err:
                return _error(400, str(err))
            if mode == "pixel" and not supports_pixel_goal:
                return _error(400, "this model has no pixel-goal encoder: load navdp-cross-modal.ckpt")
            if mode == "image" and not supports_image_goal:
                return _error(400, "this model has no image-goal encoder: load navdp-cross-modal.ckpt")
            h, w = depths[0].shape
            k = s.intrinsics_k
            intr = Intrinsics(float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2]), w, h)
            t0 = time.perf_counter()
            try:
                with lock:
                    plans = [s.planners[i].plan(rgbs[i], depths[i], intr, goals[i], s.mount)
                             for i in range(s.batch_size)]
            except S1Error as err:
                return _error(400, str(err))
            state["steps"] += 1
            state["model_s"] = time.perf_counter() - t0
            # JSONResponse directly: FastAPI's jsonable_encoder walks every float and doubled the overhead.
            return JSONResponse({"trajectory": [p.best.tolist() for p in plans],
                    "all_trajectory": [p.candidates.tolist() for p in plans],
                    "all_values": [p.values.tolist() for p in plans],
                    "no_safe_path": [bool(p.no_safe_path) for p in plans],
                    "chosen_index": [int(p.chosen_index) for p in plans],
                    "model_ms": state["model_s"] * 1000.0})
        return step

    for path in ("/navigator_reset", "/navdp_reset"):
        app.add_api_route(path, reset, methods=["POST"], summary="Start an episode: intrinsics, threshold, batch")
    for path in ("/navigator_reset_env", "/navdp_reset_env"):
        app.add_api_route(path, reset_env, methods=["POST"], summary="Clear one robot's memory")
    routes = {"/pointgoal_step": "point", "/navdp_step_xy": "point", "/pixelgoal_step": "pixel",
              "/nogoal_step": "none", "/navdp_step_nogoal": "none", "/imagegoal_step": "image"}
    for path, mode in routes.items():
        app.add_api_route(path, make_step(mode), methods=["POST"], summary=f"Plan with a {mode} goal")
    return app


async def _read(form, name: str) -> bytes:
    item = form.get(name)
    if item is None or isinstance(item, str):
        raise ValueError(f"missing '{name}' file")
    return await item.read()


async def _frames(form, batch: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rgb = decode_rgb(await _read(form, "image"))
    depth = decode_depth(await _read(form, "depth"))
    if rgb.shape[:2] != depth.shape[:2]:
        raise ValueError(f"RGB {rgb.shape[1]}x{rgb.shape[0]} and depth {depth.shape[1]}x{depth.shape[0]} differ")
    return split_batch(rgb, batch, "image"), split_batch(depth, batch, "depth")


async def _goals(form, mode: str, batch: int, frame_shape) -> list[Goal]:
    if mode == "none":
        return [NoGoal() for _ in range(batch)]
    if mode == "image":
        goal_rgb = split_batch(decode_rgb(await _read(form, "goal")), batch, "goal")
        return [ImageGoal(g) for g in goal_rgb]
    raw = form.get("goal_data")
    if raw is None:
        raise ValueError("missing 'goal_data'")
    try:
        data = json.loads(raw if isinstance(raw, str) else (await raw.read()).decode())
        xs, ys = list(data["goal_x"]), list(data["goal_y"])
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"goal_data must be JSON {{'goal_x': [...], 'goal_y': [...]}}: {err}") from err
    if len(xs) != batch or len(ys) != batch:
        raise ValueError(f"goal_data needs {batch} goal(s), got {len(xs)}/{len(ys)}")
    goals: list[Goal] = []
    h, w = frame_shape[:2]
    for x, y in zip(xs, ys):
        if not isinstance(x, (int, float)) or not isinstance(y, (int, float)) or not np.isfinite([x, y]).all():
            raise ValueError(f"goal ({x}, {y}) is not a pair of finite numbers")
        if mode == "pixel":
            u, v = int(round(x)), int(round(y))  # NavDP indexes a mask: pixels must be integers
            if not (0 <= u < w and 0 <= v < h):
                raise ValueError(f"pixel goal ({u}, {v}) is outside the {w}x{h} image")
            goals.append(PixelGoal(u, v))
        else:
            goals.append(PointGoal(float(x), float(y)))
    return goals
