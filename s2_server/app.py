"""The S2 HTTP service: one model, many robots.

Requests go through one bounded queue to a single worker thread that owns the model, so GPU
memory is never shared between threads and a burst from a fleet gets a 503 with Retry-After
instead of unbounded latency. The worker takes whatever is queued (up to `max_batch`) into one
generate call: micro-batching. Everything else (upload checks, JPEG decode, resize, parsing)
happens per request outside the worker, so the model only ever waits for the model.
"""
from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from s2_server.backends import BackendError, BackendReply, BackendRequest, as_reply
from s2_server.coords import CoordFrame
from s2_server.decision import S2Decision
from s2_server.images import ImageDecodeError, decode_rgb, resize_for_model
from s2_server.parser import parse

log = logging.getLogger("s2_server")

STEP_PATHS = ("/step", "/s2_step")


@dataclass(frozen=True)
class ServerSettings:
    resize_w: int = 640
    resize_h: int = 480
    max_upload_mb: float = 10.0
    token: str = ""
    queue_size: int = 16
    max_batch: int = 4
    batch_window_ms: float = 0.0  # wait this long for more requests before a generate call
    max_instruction_chars: int = 1000
    retry_after_s: int = 1


@dataclass
class _Job:
    request: BackendRequest
    future: Future
    enqueued_s: float = field(default_factory=time.perf_counter)
    started_s: float = 0.0
    generate_s: float = 0.0
    batch_size: int = 0


class _Worker:
    """Owns the backend; drains the queue into micro-batches."""

    def __init__(self, backend, settings: ServerSettings):
        self.backend = backend
        self.settings = settings
        self.jobs: queue.Queue[_Job] = queue.Queue(maxsize=max(1, settings.queue_size))
        self.batch_sizes: deque[int] = deque(maxlen=1000)  # recent micro-batch sizes, bounded
        self.busy = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="s2-worker", daemon=True)
        self._thread.start()

    def submit(self, job: _Job) -> bool:
        try:
            self.jobs.put_nowait(job)
            return True
        except queue.Full:
            return False

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def _collect(self, first: _Job) -> list[_Job]:
        batch = [first]
        deadline = time.perf_counter() + self.settings.batch_window_ms / 1000.0
        while len(batch) < max(1, self.settings.max_batch):
            remaining = deadline - time.perf_counter()
            try:
                batch.append(self.jobs.get(timeout=remaining) if remaining > 0 else self.jobs.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self.jobs.get(timeout=0.1)
            except queue.Empty:
                continue
            batch = self._collect(first)
            self.batch_sizes.append(len(batch))
            self.busy = True
            t0 = time.perf_counter()
            try:
                replies = list(self.backend.generate([j.request for j in batch]))
                if len(replies) != len(batch):
                    raise BackendError(f"backend returned {len(replies)} answers for {len(batch)} requests")
            except Exception as err:  # a model failure answers 502 for the whole batch, never a 500
                log.exception("[S2] backend failed")
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(err if isinstance(err, BackendError)
                                                 else BackendError(f"{type(err).__name__}: {err}"))
                continue
            finally:
                self.busy = False
            elapsed = time.perf_counter() - t0
            for job, reply in zip(batch, replies):
                job.started_s, job.generate_s, job.batch_size = t0, elapsed, len(batch)
                if not job.future.done():
                    job.future.set_result(as_reply(reply))


def _error(status: int, reason: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": reason, "detail": reason}, headers=headers)


class _BadRequest(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _context(form) -> dict:
    """Optional `context` (JSON object) and the `previous_target` shortcut."""
    context: dict = {}
    raw = form.get("context")
    if raw not in (None, ""):
        try:
            context = json.loads(str(raw))
        except ValueError as err:
            raise _BadRequest(400, f"context must be a JSON object: {err}") from err
        if not isinstance(context, dict):
            raise _BadRequest(400, "context must be a JSON object")
    if form.get("previous_target"):
        context["previous_target"] = str(form.get("previous_target"))
    return context


def _decode(data: bytes, settings: ServerSettings):
    rgb = decode_rgb(data)
    return rgb, resize_for_model(rgb, settings.resize_w, settings.resize_h)


def create_app(backend, settings: ServerSettings | None = None) -> FastAPI:
    """The FastAPI app around `backend` (anything with generate(); see s2_server.backends)."""
    settings = settings or ServerSettings()
    worker = _Worker(backend, settings)
    limit_bytes = int(settings.max_upload_mb * 1024 * 1024)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        worker.stop()

    app = FastAPI(title="LingNav S2", version="0.2.0", lifespan=lifespan,
                  description="Vision-language grounding for instruction-following robots: where is the "
                              "target in this image, or which way should the robot turn.")
    app.state.worker = worker
    app.state.backend = backend
    app.state.settings = settings

    @app.get("/health", summary="Liveness and what is loaded")
    def health() -> dict:
        family = getattr(backend, "family", None)
        return {"status": "ok", "ready": True, "model": backend.model, "backend": backend.name,
                "device": backend.device, "convention": backend.convention,
                "model_class": getattr(family, "class_name", None),
                "attn_implementation": getattr(backend, "attn_implementation", None),
                "resize": [settings.resize_w, settings.resize_h], "max_batch": settings.max_batch,
                "queue": worker.jobs.qsize(), "queue_size": settings.queue_size, "auth": bool(settings.token)}

    async def read_step(request: Request) -> tuple[bytes, str, dict]:
        if settings.token and request.headers.get("authorization", "") != f"Bearer {settings.token}":
            raise _BadRequest(401, "missing or wrong bearer token")
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            raise _BadRequest(415, "send multipart/form-data with an 'image' file and an 'instruction' field")
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit_bytes + 64 * 1024:
            raise _BadRequest(413, f"upload larger than {settings.max_upload_mb} MB")
        try:
            form = await request.form(max_part_size=limit_bytes + 1)
        except Exception as err:
            msg = str(err) or type(err).__name__
            if "exceed" in msg.lower() or "too large" in msg.lower():
                raise _BadRequest(413, f"upload larger than {settings.max_upload_mb} MB") from err
            raise _BadRequest(400, f"malformed multipart body: {msg}") from err
        upload = form.get("image")
        if upload is None or isinstance(upload, str):
            raise _BadRequest(400, "missing 'image' file (multipart field 'image')")
        data = await upload.read()
        if len(data) > limit_bytes:
            raise _BadRequest(413, f"upload larger than {settings.max_upload_mb} MB")
        instruction = str(form.get("instruction") or "").strip()
        if not instruction:
            raise _BadRequest(400, "instruction is empty")
        if len(instruction) > settings.max_instruction_chars:
            raise _BadRequest(400, f"instruction longer than {settings.max_instruction_chars} characters")
        return data, instruction, _context(form)

    async def step(request: Request):
        """multipart: `image` (JPEG/PNG) + `instruction`; optional `previous_target` or `context` JSON."""
        t0 = time.perf_counter()
        try:
            data, instruction, context = await read_step(request)
        except _BadRequest as bad:
            return _error(bad.status, bad.reason)
        try:
            rgb, model_rgb = await run_in_threadpool(_decode, data, settings)
        except ImageDecodeError as err:
            return _error(400, str(err))
        t_decoded = time.perf_counter()
        job = _Job(BackendRequest(model_rgb, instruction, context), Future())
        if not worker.submit(job):
            return _error(503, "server busy: request queue is full",
                          headers={"Retry-After": str(settings.retry_after_s)})
        try:
            reply: BackendReply = await asyncio.wrap_future(job.future)
        except BackendError as err:
            return _error(502, f"model failed: {err}")
        t_done = time.perf_counter()
        frame = CoordFrame(backend.convention, rgb.shape[1], rgb.shape[0],
                           reply.model_w or model_rgb.shape[1], reply.model_h or model_rgb.shape[0])
        decision: S2Decision = parse(reply.text, frame, instruction)
        decision.model = backend.model
        body = decision.to_json()
        t_end = time.perf_counter()
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

    request_body = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["image", "instruction"],
        "properties": {"image": {"type": "string", "format": "binary", "description": "JPEG or PNG"},
                       "instruction": {"type": "string", "example": "go to the red chair"},
                       "previous_target": {"type": "string", "description": "target named by the last answer"},
                       "context": {"type": "string", "description": "JSON object, e.g. "
                                   '{"previous_target": "red chair", "instruction_moves_done": true}'}}}}}}}
    responses = {200: {"description": "S2Decision: kind, target, visible, point_2d (pixel in the received image), "
                                      "point_2d_norm (0..1000), navigation, tasks, raw, latency_ms, model"},
                 400: {"description": "no image, corrupt image, empty instruction or bad context"},
                 401: {"description": "bearer token required"}, 413: {"description": "upload too large"},
                 415: {"description": "not multipart/form-data"}, 502: {"description": "model failed"},
                 503: {"description": "queue full; retry after Retry-After seconds"}}
    for path in STEP_PATHS:
        app.add_api_route(path, step, methods=["POST"], summary="Ground an instruction in an image",
                          openapi_extra=request_body, responses=responses)
    return app
