"""The S1 HTTP service, speaking the official NavDP API so existing robot clients keep working.

One planner per robot (`batch_size` at reset): NavDP keeps an 8-frame memory per robot, so
robots must never share one. Nothing from a request reaches a planner before it passed the
door: token, body size while it streams, image size from the header, JSON depth, every number
finite and in range (s1_server.inputs). Decoding and planning run off the event loop behind a
bounded queue (s1_server.plan_queue). Errors are `{"error": reason, "detail": reason}`.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from lingnav_core.camera import Intrinsics
from lingnav_core.s1_plan import DEFAULT_STOP_THRESHOLD, Goal, ImageGoal, NoGoal, PointImageGoal, S1Error
from lingnav_http import (
    HttpError,
    TokenAuth,
    check_image_header,
    install_docs,
    install_error_handlers,
    parse_json,
    read_form,
    read_limited,
)
from s1_server.codec import CodecError, decode_depth, decode_rgb, split_batch
from s1_server.inputs import InputError, ResetRequest, goal_xy, parse_env_id, parse_reset, pixel_goals, point_goals
from s1_server.options import S1Settings
from s1_server.plan_queue import PlanQueue, QueueFull

log = logging.getLogger("s1_server")

# route -> goal mode. The first names are the cross-modal server's, the navdp_* ones the original model's.
STEP_ROUTES = {"/pointgoal_step": "point", "/navdp_step_xy": "point", "/pixelgoal_step": "pixel",
               "/nogoal_step": "none", "/navdp_step_nogoal": "none", "/imagegoal_step": "image",
               "/navdp_step_ip_mixgoal": "point_image"}
# multipart file holding the goal picture; the official mixed-goal route names it `image_goal`
GOAL_IMAGE_FIELDS = {"image": ("goal",), "point_image": ("image_goal", "goal")}
MAX_REASON_CHARS = 300


@dataclass
class _Session:
    request: ResetRequest
    planners: list


@dataclass
class _Upload:
    """A step request after the loop-side checks: raw bytes whose headers passed, parsed goal numbers."""

    image: bytes
    depth: bytes
    goal_image: bytes | None
    goal_pairs: list[tuple[float, float]] | None


def _reason(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    return text if len(text) <= MAX_REASON_CHARS else text[:MAX_REASON_CHARS] + "..."


@dataclass(frozen=True)
class Capabilities:
    """Which goal modes this backend can plan to (the mixed goal needs NavDP's cross-modal model)."""

    pixel: bool = True
    image: bool = True
    point_image: bool = True

    def supports(self, mode: str) -> bool:
        return {"point": True, "none": True, "pixel": self.pixel, "image": self.image,
                "point_image": self.point_image}[mode]


class _S1Service:
    """The handlers of one S1 app: one session (a planner per robot), the plan queue, the token.

    Handlers run on the event loop and only check and queue; every decode and plan runs on the
    queue's thread, so /health answers while a plan runs."""

    def __init__(self, planner_factory: Callable[[float], object], backend_name: str, caps: Capabilities,
                 settings: S1Settings, default_stop_threshold: float) -> None:
        self.planner_factory = planner_factory
        self.backend_name = backend_name
        self.caps = caps
        self.settings = settings
        self.default_stop_threshold = default_stop_threshold
        self.auth = TokenAuth(settings.token)
        self.queue = PlanQueue(settings.queue_size)
        self.state: dict = {"session": None, "steps": 0, "model_s": 0.0}

    async def health(self) -> dict:
        s = self.state["session"]
        return {"status": "ok", "backend": self.backend_name, "ready": True, "reset": s is not None,
                "batch_size": s.request.batch_size if s else 0, "steps": self.state["steps"],
                "queue": self.queue.in_flight, "queue_limit": self.queue.limit,
                "client_color": self.settings.client_color, "auth": self.auth.enabled}

    async def run_on_planner(self, plan: Callable, decode: Callable | None = None):
        try:
            future = self.queue.submit(plan, decode)
        except QueueFull as err:
            raise HttpError(503, f"server busy: {err}",
                            headers={"Retry-After": str(self.settings.retry_after_s)}) from err
        try:
            return await asyncio.wrap_future(future)
        except HttpError:
            raise
        except (CodecError, InputError, S1Error) as err:
            raise HttpError(400, _reason(err)) from err
        except Exception as err:
            log.exception("[S1] planner failed")
            raise HttpError(500, f"planner failed: {type(err).__name__}: {_reason(err)}") from err

    async def read_json(self, request: Request, what: str):
        self.auth.require(request.headers.get("authorization"))
        body = await read_limited(request, self.settings.max_json_bytes)
        return parse_json(body, what, max_depth=self.settings.max_json_depth)

    async def reset(self, request: Request):
        try:
            req = parse_reset(await self.read_json(request, "reset body"), self.default_stop_threshold,
                              self.settings.max_batch, self.settings.default_mount)
        except InputError as err:
            raise HttpError(400, f"bad reset request: {err}") from err

        def apply(_):
            planners = [self.planner_factory(req.stop_threshold) for _ in range(req.batch_size)]
            self.state["session"] = _Session(req, planners)

        await self.run_on_planner(apply)
        return {"algo": self.backend_name}

    async def reset_env(self, request: Request):
        body = await self.read_json(request, "reset_env body")
        s = self.state["session"]
        if s is None:
            raise HttpError(409, "call /navigator_reset first")
        try:
            env_id = parse_env_id(body, s.request.batch_size)
        except InputError as err:
            raise HttpError(400, f"bad reset_env request: {err}") from err

        def apply(_):
            s.planners[env_id].reset()

        await self.run_on_planner(apply)
        return {"algo": self.backend_name, "env_id": env_id}

    def step_handler(self, mode: str):
        async def step(request: Request):
            return await self.step(request, mode)
        return step

    async def step(self, request: Request, mode: str):
        self.auth.require(request.headers.get("authorization"))
        s = self.state["session"]
        if s is None:
            raise HttpError(409, "call /navigator_reset before stepping")
        if not self.caps.supports(mode):
            raise HttpError(400, f"the {self.backend_name} backend cannot plan to {mode.replace('_', ' + ')} goals"
                                 + (": load navdp-cross-modal.ckpt" if self.backend_name == "navdp" else ""))
        upload = await _read_upload(request, mode, s.request.batch_size, self.settings)
        t0 = time.perf_counter()

        def decode():
            return _decode(upload, mode, s.request.batch_size, self.settings.client_color)

        def plan(decoded):
            if self.state["session"] is not s:
                raise HttpError(409, "the session was reset while this request waited; send it again")
            return _plan_all(s, *decoded)

        plans, t_plan, t_done = await self.run_on_planner(plan, decode)
        self.state["steps"] += 1
        self.state["model_s"] = t_done - t_plan
        # JSONResponse directly: FastAPI's jsonable_encoder walks every float and doubled the overhead.
        return JSONResponse({"trajectory": [p.best.tolist() for p in plans],
                             "all_trajectory": [p.candidates.tolist() for p in plans],
                             "all_values": [p.values.tolist() for p in plans],
                             "no_safe_path": [bool(p.no_safe_path) for p in plans],
                             "arrived": [bool(p.info.get("arrived", False)) for p in plans],
                             "chosen_index": [int(p.chosen_index) for p in plans],
                             "model_ms": self.state["model_s"] * 1000.0,
                             "timings_ms": {"wait_decode": (t_plan - t0) * 1000.0,
                                            "plan": (t_done - t_plan) * 1000.0}})


def _plan_all(s: _Session, rgbs: list, depths: list, goals: list) -> tuple[list, float, float]:
    """Every robot's plan of one step, on the planner thread, with the plan's start and end times."""
    h, w = depths[0].shape
    k = s.request.intrinsic
    intr = Intrinsics(float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2]), w, h)
    t_plan = time.perf_counter()
    plans = [s.planners[i].plan(rgbs[i], depths[i], intr, goals[i], s.request.mount) for i in range(len(rgbs))]
    return plans, t_plan, time.perf_counter()


def create_app(planner_factory: Callable[[float], object], backend_name: str,
               supports_pixel_goal: bool = True, supports_image_goal: bool = True,
               supports_point_image_goal: bool | None = None, settings: S1Settings | None = None,
               default_stop_threshold: float = DEFAULT_STOP_THRESHOLD) -> FastAPI:
    """`planner_factory(stop_threshold)` makes one Planner for one robot. The mixed point + image
    goal needs the cross-modal model, so it follows `supports_image_goal` unless given."""
    settings = settings or S1Settings()
    if not np.isfinite(default_stop_threshold):
        raise ValueError(f"default stop threshold must be finite, got {default_stop_threshold}")
    caps = Capabilities(pixel=supports_pixel_goal, image=supports_image_goal,
                        point_image=supports_image_goal if supports_point_image_goal is None
                        else supports_point_image_goal)
    service = _S1Service(planner_factory, backend_name, caps, settings, default_stop_threshold)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        service.queue.close()

    app = FastAPI(title="LingNav S1", version="0.2.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, description="NavDP-compatible trajectory service.")
    install_error_handlers(app, log)
    install_docs(app, service.auth)
    app.state.stats = service.state
    app.state.queue = service.queue
    app.state.settings = settings
    app.add_api_route("/health", service.health, methods=["GET"],
                      summary="Liveness (open without a token; names no paths)")
    for path in ("/navigator_reset", "/navdp_reset"):
        app.add_api_route(path, service.reset, methods=["POST"],
                          summary="Start an episode: intrinsics, threshold, batch")
    for path in ("/navigator_reset_env", "/navdp_reset_env"):
        app.add_api_route(path, service.reset_env, methods=["POST"], summary="Clear one robot's memory")
    for path, mode in STEP_ROUTES.items():
        app.add_api_route(path, service.step_handler(mode), methods=["POST"], summary=f"Plan with a {mode} goal")
    return app


async def _file(form, names: tuple[str, ...], settings: S1Settings, allowed: tuple[str, ...]) -> bytes:
    for name in names:
        item = form.get(name)
        if item is not None and not isinstance(item, str):
            data = await item.read()
            check_image_header(data, settings.max_image_pixels, allowed=allowed, what=name)
            return data
    raise HttpError(400, f"missing '{names[0]}' file")


async def _read_upload(request: Request, mode: str, batch: int, settings: S1Settings) -> _Upload:
    form = await read_form(request, settings.max_upload_bytes, max_fields=8, max_files=4)
    image = await _file(form, ("image",), settings, ("JPEG", "PNG"))
    depth = await _file(form, ("depth",), settings, ("PNG",))
    goal_image = None
    if mode in GOAL_IMAGE_FIELDS:
        goal_image = await _file(form, GOAL_IMAGE_FIELDS[mode], settings, ("JPEG", "PNG"))
    pairs = None
    if mode in ("point", "pixel", "point_image"):
        raw = form.get("goal_data")
        if raw is None:
            raise HttpError(400, "missing 'goal_data' (JSON {'goal_x': [...], 'goal_y': [...]})")
        text = raw if isinstance(raw, str) else await raw.read(settings.max_json_bytes + 1)
        if len(text) > settings.max_json_bytes:
            raise HttpError(413, f"goal_data longer than {settings.max_json_bytes} bytes")
        try:
            pairs = goal_xy(parse_json(text, "goal_data", max_depth=settings.max_json_depth), batch)
        except InputError as err:
            raise HttpError(400, str(err)) from err
    return _Upload(image, depth, goal_image, pairs)


def _decode(upload: _Upload, mode: str, batch: int, client_color: str) -> tuple[list, list, list[Goal]]:
    """On the decode pool: pixels out of the checked bytes, split per robot, goals built."""
    rgb = decode_rgb(upload.image, client_color)
    depth = decode_depth(upload.depth)
    if rgb.shape[:2] != depth.shape[:2]:
        raise InputError(f"RGB {rgb.shape[1]}x{rgb.shape[0]} and depth {depth.shape[1]}x{depth.shape[0]} differ")
    rgbs, depths = split_batch(rgb, batch, "image"), split_batch(depth, batch, "depth")
    goal_rgbs = None
    if upload.goal_image is not None:
        goal_rgbs = split_batch(decode_rgb(upload.goal_image, client_color, "goal image"), batch, "goal image")
    h, w = depths[0].shape
    goals: list[Goal]
    if mode == "none":
        goals = [NoGoal() for _ in range(batch)]
    elif mode == "image":
        goals = [ImageGoal(np.ascontiguousarray(g)) for g in goal_rgbs]
    elif mode == "pixel":
        goals = list(pixel_goals(upload.goal_pairs, w, h))
    elif mode == "point":
        goals = list(point_goals(upload.goal_pairs))
    else:
        goals = [PointImageGoal(p.x_m, p.y_m, np.ascontiguousarray(g))
                 for p, g in zip(point_goals(upload.goal_pairs), goal_rgbs)]
    return rgbs, depths, goals
