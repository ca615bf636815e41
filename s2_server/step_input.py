"""A step request checked at the door: every field typed and bounded, or a 4xx with a reason.

Client mistakes must never reach the model: a `previous_target` of 123 used to fail inside the
backend and come back as a 502, which a robot counts as "server down".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from fastapi import Request

from lingnav_core.endpoints import S2_DEADLINE_HEADER
from lingnav_http import HttpError, check_image_header, parse_json, read_form
from s2_server.images import ImageDecodeError, decode_rgb, resize_for_model

CONTEXT_KEYS = {"previous_target": str, "instruction_moves_done": bool}
MAX_CONTEXT_DEPTH = 8


@dataclass(frozen=True)
class InputLimits:
    max_upload_bytes: int
    max_image_pixels: int
    max_instruction_chars: int
    max_context_chars: int = 4096


@dataclass
class StepInput:
    image: bytes
    instruction: str
    context: dict


def client_timeout_s(request: Request) -> float | None:
    """The robot's own timeout from the deadline header, or None when it sent none."""
    raw = request.headers.get(S2_DEADLINE_HEADER)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise HttpError(400, f"{S2_DEADLINE_HEADER} must be a number of milliseconds") from None
    if not math.isfinite(value) or not 0.0 < value <= 3_600_000.0:
        raise HttpError(400, f"{S2_DEADLINE_HEADER} must be in (0, 3600000] ms")
    return value / 1000.0


def check_context(value, where: str = "context") -> dict:
    if not isinstance(value, dict):
        raise HttpError(400, f"{where} must be a JSON object")
    out = {}
    for key, kind in CONTEXT_KEYS.items():
        if key not in value or value[key] is None:
            continue
        if not isinstance(value[key], kind):
            raise HttpError(400, f"{where}.{key} must be a {'string' if kind is str else 'boolean'}")
        out[key] = value[key].strip()[:200] if kind is str else value[key]
    return out


async def read_step(request: Request, limits: InputLimits) -> StepInput:
    form = await read_form(request, limits.max_upload_bytes + 64 * 1024)
    upload = form.get("image")
    if upload is None or isinstance(upload, str):
        raise HttpError(400, "missing 'image' file (multipart field 'image')")
    data = await upload.read()
    if len(data) > limits.max_upload_bytes:
        raise HttpError(413, f"image larger than {limits.max_upload_bytes} bytes")
    check_image_header(data, limits.max_image_pixels)
    instruction = form.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise HttpError(400, "instruction is empty")
    instruction = instruction.strip()
    if len(instruction) > limits.max_instruction_chars:
        raise HttpError(400, f"instruction longer than {limits.max_instruction_chars} characters")
    context: dict = {}
    raw = form.get("context")
    if raw not in (None, ""):
        if not isinstance(raw, str):
            raise HttpError(400, "context must be a form field, not a file")
        context = check_context(parse_json(raw, "context", MAX_CONTEXT_DEPTH, limits.max_context_chars))
    previous = form.get("previous_target")
    if previous not in (None, ""):
        if not isinstance(previous, str):
            raise HttpError(400, "previous_target must be a form field, not a file")
        context["previous_target"] = previous.strip()[:200]
    return StepInput(data, instruction, context)


def decode_for_model(data: bytes, resize_w: int, resize_h: int) -> tuple[np.ndarray, np.ndarray]:
    """(received RGB, RGB resized for the model); 400 when the bytes do not decode."""
    try:
        rgb = decode_rgb(data)
    except ImageDecodeError as err:
        raise HttpError(400, str(err)) from err
    return rgb, resize_for_model(rgb, resize_w, resize_h)
