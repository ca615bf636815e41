"""A small OpenAI-compatible model server for S2's tests and bench (no model: scripted answers).

It behaves like the strict servers S2 meets in a fleet: it lists its models at /v1/models,
rejects an unknown model (404) and, when `strict`, any non-standard request field (422, as
vLLM's and SGLang's request validation does). Faults are per request, chosen by a marker in the
instruction, so one request of a micro-batch can fail while its neighbours succeed:
  FAULT:500   answer HTTP 500 with a body      FAULT:400   answer HTTP 400 with a body
  FAULT:503   answer 503 + Retry-After: 2      FAULT:slow  answer after `slow_s`
  FAULT:garbage  answer 200 with no choices
Every call is counted by instruction, so tests can check what was (not) re-sent.
"""
from __future__ import annotations

import asyncio
import base64
import re
import threading
from collections import Counter

import cv2
import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

STANDARD = {"model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "stream",
            "stop", "seed", "presence_penalty", "frequency_penalty", "logprobs", "user", "response_format"}
ANSWER = '```json\n[{"task":"pixel_point","target":"red chair","point_2d":[500,750]}]\n```'
_INSTRUCTION = re.compile(r"Instruction: (.*)")


class Upstream:
    def __init__(self, models=("qwen3-vl-4b",), delay_s: float = 0.0, slow_s: float = 3.0, strict: bool = True):
        self.models = list(models)
        self.delay_s = delay_s
        self.slow_s = slow_s
        self.strict = strict
        self.calls: Counter[str] = Counter()
        self.bodies: list[dict] = []
        self.image_shapes: list[tuple] = []
        self._lock = threading.Lock()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/models")
        async def models():
            return {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "test"} for m in self.models]}

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            body = await request.json()
            text, shape = _read_user(body)
            with self._lock:
                self.calls[text] += 1
                self.bodies.append({k: v for k, v in body.items() if k != "messages"})
                self.image_shapes.append(shape)
            unknown = sorted(set(body) - STANDARD)
            if self.strict and unknown:
                return JSONResponse({"object": "error", "message": f"extra fields not permitted: {unknown}"}, 422)
            if body.get("model") not in self.models:
                return JSONResponse({"object": "error", "message": f"The model `{body.get('model')}` does not exist."},
                                    404)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if "FAULT:500" in text:
                return JSONResponse({"object": "error", "message": "CUDA error: device-side assert triggered"}, 500)
            if "FAULT:400" in text:
                return JSONResponse({"object": "error", "message": "image too small for the vision encoder"}, 400)
            if "FAULT:503" in text:
                return JSONResponse({"object": "error", "message": "engine overloaded"}, 503,
                                    headers={"Retry-After": "2"})
            if "FAULT:slow" in text:
                await asyncio.sleep(self.slow_s)
            if "FAULT:garbage" in text:
                return {"id": "x", "choices": []}
            return {"id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": ANSWER}}]}

        return app


def _read_user(body: dict) -> tuple[str, tuple]:
    """(instruction, decoded image shape) from an OpenAI chat body with one image_url part."""
    text, shape = "", ()
    for part in body.get("messages", [{}])[-1].get("content", []):
        if part.get("type") == "text":
            match = _INSTRUCTION.search(part.get("text", ""))
            text = match.group(1) if match else part.get("text", "")
        elif part.get("type") == "image_url":
            url = part["image_url"]["url"]
            data = base64.b64decode(url.split(",", 1)[1])
            img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            shape = img.shape if img is not None else ()
    return text, shape
