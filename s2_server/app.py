"""The S2 HTTP service: one model, many robots.

Requests pass the shared HTTP doors (lingnav_http: token, streamed size limit, image header
check, JSON depth limit), are decoded and resized off the event loop, and queue for the single
model worker (s2_server.worker). Client mistakes are 4xx; 5xx means S2 or its model failed:
503 + Retry-After when the model is unreachable or overloaded, 502 when it rejected or broke on
the request, 504 when the client's deadline passed first.

Timeouts, outermost first: the robot's own timeout (sent as X-Client-Timeout-Ms) > S2's budget
per request (`request_budget_s`, queue + model) > the upstream call's timeout (openai backend).
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from lingnav_core.endpoints import S2_DEADLINE_HEADER
from lingnav_core.s2_decision import S2Decision
from lingnav_http import HttpError, TokenAuth, install_docs, install_error_handlers
from s2_server.backends import BackendError, BackendRejected, BackendReply, BackendRequest, DeadlineExpired
from s2_server.coords import CoordFrame
from s2_server.parser import parse
from s2_server.readiness import Readiness
from s2_server.step_input import InputLimits, client_timeout_s, decode_for_model, read_step
from s2_server.worker import Job, Worker

log = logging.getLogger("s2_server")

STEP_PATHS = ("/step", "/s2_step")


@dataclass(frozen=True)
class ServerSettings:
    resize_w: int = 640
    resize_h: int = 480
    max_upload_mb: float = 10.0
    max_image_pixels: int = 20_000_000  # header-checked before decoding (decompression bombs)
    token: str = ""
    queue_size: int = 16
    max_batch: int = 4
    batch_window_ms: float = 0.0  # wait this long for more requests before a generate call
    max_inflight: int = 0  # > 0: no micro-batches, up to this many single requests at once (remote models)
    max_instruction_chars: int = 1000
    retry_after_s: int = 1
    request_budget_s: float = 12.0  # queue + model per request; below the robot's 15 s timeout
    deadline_margin_s: float = 0.3  # answer this long before the client gives up (network, parsing)
    probe_interval_s: float = 2.0  # /health's view of the upstream is at most this old

    def __post_init__(self):
        for name in ("max_upload_mb", "request_budget_s", "probe_interval_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def _deadline_s(request: Request, settings: ServerSettings, arrived_s: float) -> float:
    budget = settings.request_budget_s
    client = client_timeout_s(request)
    if client is not None:
        budget = min(budget, client - settings.deadline_margin_s)
    if budget <= 0:
        raise HttpError(400, f"{S2_DEADLINE_HEADER} leaves no time to answer")
    return arrived_s + budget


def _failure(err: BackendError, settings: ServerSettings) -> HttpError:
    if isinstance(err, DeadlineExpired):
        return HttpError(504, str(err))
    if err.status == 503:
        retry = max(1, int(math.ceil(err.retry_after_s or settings.retry_after_s)))
        return HttpError(503, f"model unavailable: {err}", headers={"Retry-After": str(retry)})
    if isinstance(err, BackendRejected):
        return HttpError(502, f"model server rejected the request: {err}",
                         extra={"upstream_status": err.upstream_status, "upstream_body": err.upstream_body})
    return HttpError(502, f"model failed: {err}")


# The step routes' OpenAPI: a multipart body, the deadline header, and what each status means.
STEP_OPENAPI = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["image", "instruction"],
    "properties": {"image": {"type": "string", "format": "binary", "description": "JPEG or PNG"},
                   "instruction": {"type": "string", "example": "go to the red chair"},
                   "previous_target": {"type": "string", "description": "target named by the last answer"},
                   "context": {"type": "string", "description": "JSON object, e.g. "
                               '{"previous_target": "red chair", "instruction_moves_done": true}'}}}}}},
                "parameters": [{"name": S2_DEADLINE_HEADER, "in": "header", "required": False,
                                "schema": {"type": "number"},
                                "description": "the client's timeout in ms: work it can no longer use is dropped"}]}
STEP_RESPONSES = {200: {"description": "The deployed format: target, point_2d_norm (0..1000), point_2d_pixel "
                                       "(pixel of the received image), navigation, raw, tasks; plus kind, "
                                       "visible, latency_ms, model, timings_ms"},
                  400: {"description": "no image, corrupt image, empty instruction, bad or too deep context"},
                  401: {"description": "bearer token required"},
                  413: {"description": "upload too large, or an image declaring too many pixels"},
                  415: {"description": "not multipart/form-data"},
                  502: {"description": "the model failed or its server rejected the request"},
                  503: {"description": "queue full or model unreachable/overloaded; retry after Retry-After"},
                  504: {"description": "no answer before the client's deadline"}}


class _S2Service:
    """The handlers of one S2 app. A step is checked and decoded off the model's thread, queued for
    the one model worker, and parsed into the decision every client reads."""

    def __init__(self, backend, settings: ServerSettings, readiness: Readiness) -> None:
        self.backend = backend
        self.settings = settings
        self.readiness = readiness
        self.worker = Worker(backend, settings.queue_size, settings.max_batch, settings.batch_window_ms,
                             settings.max_inflight)
        self.auth = TokenAuth(settings.token)
        self.limits = InputLimits(int(settings.max_upload_mb * 1024 * 1024), settings.max_image_pixels,
                                  settings.max_instruction_chars)

    def health(self) -> dict:
        backend, settings = self.backend, self.settings
        family = getattr(backend, "family", None)
        state = self.readiness.snapshot()
        return {"status": "ok" if state["ready"] else "not_ready", **state,
                "model": backend.model, "backend": backend.name,
                "device": backend.device, "convention": backend.convention,
                "model_class": getattr(family, "class_name", None),
                "attn_implementation": getattr(backend, "attn_implementation", None),
                "resize": [settings.resize_w, settings.resize_h], "max_batch": settings.max_batch,
                "max_inflight": settings.max_inflight, "inflight": self.worker.inflight,
                "queue": self.worker.jobs.qsize(), "queue_size": settings.queue_size, "auth": self.auth.enabled,
                "request_budget_s": settings.request_budget_s}

    async def step(self, request: Request):
        """multipart: `image` (JPEG/PNG) + `instruction`; optional `previous_target` or `context` JSON."""
        t0 = time.monotonic()
        try:
            rgb, model_rgb, step_in, job, t_decoded = await self._answer(request, t0)
        except HttpError as err:
            if err.status >= 500:
                log.warning("[S2] %s %s -> %d: %s", request.method, request.url.path, err.status, err.reason)
                log.debug("[S2] failure detail", exc_info=err)
            raise
        self.readiness.note_success()
        t_done = time.monotonic()
        reply: BackendReply = job.future.result()
        frame = CoordFrame(self.backend.convention, rgb.shape[1], rgb.shape[0],
                           reply.model_w or model_rgb.shape[1], reply.model_h or model_rgb.shape[0])
        decision: S2Decision = parse(reply.text, frame, step_in.instruction)
        decision.model = self.backend.model
        body = decision.to_json()
        t_end = time.monotonic()
        decision_ms = (t_end - t0) * 1000.0
        body["latency_ms"] = decision_ms
        body["image_size"] = [rgb.shape[1], rgb.shape[0]]
        body["model_input_size"] = [frame.model_w, frame.model_h]
        body["timings_ms"] = {"read_decode": (t_decoded - t0) * 1000.0,
                              "queue": max(job.started_s - job.enqueued_s, 0.0) * 1000.0,
                              "generate": job.generate_s * 1000.0,
                              "parse": (t_end - t_done) * 1000.0, "total": decision_ms}
        body["batch_size"] = job.batch_size
        return body

    async def _answer(self, request: Request, t0: float):
        """Door checks, decode, queue and wait for the model: the job whose future holds the reply."""
        settings = self.settings
        self.auth.require(request.headers.get("authorization"))
        deadline_s = _deadline_s(request, settings, t0)
        step_in = await read_step(request, self.limits)
        rgb, model_rgb = await run_in_threadpool(decode_for_model, step_in.image, settings.resize_w,
                                                 settings.resize_h)
        t_decoded = time.monotonic()
        job = Job(BackendRequest(model_rgb, step_in.instruction, step_in.context, deadline_s))
        if not self.worker.submit(job):
            raise HttpError(503, "server busy: request queue is full",
                            headers={"Retry-After": str(settings.retry_after_s)})
        try:
            # a little past the deadline: the worker answers expired jobs itself
            await asyncio.wait_for(asyncio.wrap_future(job.future), max(deadline_s - time.monotonic(), 0.0) + 1.0)
        except asyncio.TimeoutError:
            job.future.cancel()
            raise HttpError(504, f"no answer within S2's budget of {deadline_s - t0:.1f} s") from None
        except BackendError as err:
            if err.status == 503:
                self.readiness.note_unavailable(str(err))
            raise _failure(err, settings) from err
        return rgb, model_rgb, step_in, job, t_decoded


def create_app(backend, settings: ServerSettings | None = None, readiness: Readiness | None = None) -> FastAPI:
    """The FastAPI app around `backend` (anything with generate(); see s2_server.backends)."""
    settings = settings or ServerSettings()
    service = _S2Service(backend, settings, readiness or Readiness(backend, settings.probe_interval_s))

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        service.readiness.start()
        yield
        service.readiness.stop()
        service.worker.stop()

    app = FastAPI(title="LingNav S2", version="0.3.0", lifespan=lifespan, docs_url=None, openapi_url=None,
                  redoc_url=None,
                  description="Vision-language grounding for instruction-following robots: where is the "
                              "target in this image, or which way should the robot turn.")
    install_error_handlers(app, log)
    install_docs(app, service.auth)
    app.state.worker = service.worker
    app.state.backend = backend
    app.state.settings = settings
    app.state.readiness = service.readiness
    app.add_api_route("/health", service.health, methods=["GET"],
                      summary="Liveness, readiness (cached probe of the model) and what is loaded")
    for path in STEP_PATHS:
        app.add_api_route(path, service.step, methods=["POST"], summary="Ground an instruction in an image",
                          openapi_extra=STEP_OPENAPI, responses=STEP_RESPONSES)
    return app
