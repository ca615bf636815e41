"""The S2 HTTP service: one model, many robots.

Requests go through one bounded queue to a single worker thread that owns the model, so GPU
memory is never shared between threads and a burst from a fleet gets a 503 with Retry-After
instead of unbounded latency. The worker takes whatever is queued (up to `max_batch`) into one
generate call: micro-batching.
"""
from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from s2_server.backends import BackendError, BackendRequest
from s2_server.coords import CoordFrame
from s2_server.decision import S2Decision
from s2_server.images import ImageDecodeError, decode_rgb, resize_for_model
from s2_server.parser import parse

log = logging.getLogger("s2_server")


@dataclass(frozen=True)
class ServerSettings:
    resize_w: int = 640
    resize_h: int = 480
    max_upload_mb: float = 10.0
    token: str = ""
    queue_size: int = 16
    max_batch: int = 4
    batch_window_ms: float = 5.0
    max_instruction_chars: int = 1000


@dataclass
class _Job:
    request: BackendRequest
    frame: CoordFrame
    future: Future


class _Worker:
    """Owns the backend; drains the queue into micro-batches."""

    def __init__(self, backend, settings: ServerSettings):
        self.backend = backend
        self.settings = settings
        self.jobs: queue.Queue[_Job] = queue.Queue(maxsize=settings.queue_size)
        self.batch_sizes: list[int] = []
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

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self.jobs.get(timeout=0.1)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.monotonic() + self.settings.batch_window_ms / 1000.0
            while len(batch) < self.settings.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    batch.append(self.jobs.get(timeout=max(remaining, 0.0)) if remaining > 0
                                 else self.jobs.get_nowait())
                except queue.Empty:
                    break
            self.batch_sizes.append(len(batch))
            try:
                texts = self.backend.generate([j.request for j in batch])
                for job, text in zip(batch, texts):
                    job.future.set_result(text)
            except Exception as err:  # a model failure answers 502 for the whole batch
                log.exception("backend failed")
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(BackendError(f"{type(err).__name__}: {err}"))


def _error(status: int, reason: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": reason}, headers=headers)


def create_app(backend, settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()
    app = FastAPI(title="LingNav S2", version="0.1.0",
                  description="Vision-language grounding for instruction-following robots.")
    worker = _Worker(backend, settings)
    app.state.worker = worker
    app.state.backend = backend
    limit_bytes = int(settings.max_upload_mb * 1024 * 1024)

    @app.on_event("shutdown")
    def _shutdown() -> None:
        worker.stop()

    @app.get("/health")
    def health() -> dict:
        """Liveness and what is loaded."""
        return {"status": "ok", "ready": True, "model": backend.model, "backend": backend.name,
                "device": backend.device, "queue": worker.jobs.qsize(), "queue_size": settings.queue_size}

    async def step(request: Request):
        """multipart: `image` (JPEG/PNG) + `instruction`; optional `previous_target` or `context` JSON."""
        t0 = time.perf_counter()
        if settings.token and request.headers.get("authorization", "") != f"Bearer {settings.token}":
            return _error(401, "missing or wrong bearer token")
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            return _error(415, "send multipart/form-data with an 'image' file and an 'instruction' field")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit_bytes + 64 * 1024:
            return _error(413, f"upload larger than {settings.max_upload_mb} MB")
        try:
            form = await request.form(max_part_size=limit_bytes + 1)
        except Exception as err:
            msg = str(err)
            if "exceed" in msg.lower() or "too large" in msg.lower():
                return _error(413, f"upload larger than {settings.max_upload_mb} MB")
            return _error(400, f"malformed multipart body: {msg}")
        upload = form.get("image")
        if upload is None or isinstance(upload, str):
            return _error(400, "missing 'image' file")
        data = await upload.read()
        if len(data) > limit_bytes:
            return _error(413, f"upload larger than {settings.max_upload_mb} MB")
        instruction = str(form.get("instruction") or "").strip()
        if not instruction:
            return _error(400, "instruction is empty")
        if len(instruction) > settings.max_instruction_chars:
            return _error(400, f"instruction longer than {settings.max_instruction_chars} characters")
        context: dict = {}
        if form.get("context"):
            try:
                context = json.loads(str(form.get("context")))
                if not isinstance(context, dict):
                    raise ValueError("not an object")
            except ValueError as err:
                return _error(400, f"context must be a JSON object: {err}")
        if form.get("previous_target"):
            context["previous_target"] = str(form.get("previous_target"))
        try:
            rgb = decode_rgb(data)
        except ImageDecodeError as err:
            return _error(400, str(err))
        model_rgb = resize_for_model(rgb, settings.resize_w, settings.resize_h)
        frame = CoordFrame(backend.convention, rgb.shape[1], rgb.shape[0], model_rgb.shape[1], model_rgb.shape[0])
        job = _Job(BackendRequest(model_rgb, instruction, context), frame, Future())
        if not worker.submit(job):
            return _error(503, "server busy: request queue is full", headers={"Retry-After": "1"})
        try:
            text = await asyncio.wrap_future(job.future)
        except BackendError as err:
            return _error(502, f"model failed: {err}")
        decision: S2Decision = parse(text, frame, instruction)
        decision.model = backend.model
        decision.latency_ms = (time.perf_counter() - t0) * 1000.0
        body = decision.to_json()
        body["image_size"] = [rgb.shape[1], rgb.shape[0]]
        return body

    for path in ("/step", "/s2_step"):
        app.add_api_route(path, step, methods=["POST"], summary="Ground an instruction in an image",
                          openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                              "type": "object", "required": ["image", "instruction"],
                              "properties": {"image": {"type": "string", "format": "binary"},
                                             "instruction": {"type": "string"},
                                             "previous_target": {"type": "string"},
                                             "context": {"type": "string"}}}}}}})
    return app
