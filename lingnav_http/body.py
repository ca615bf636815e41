"""Request bodies read with the byte limit enforced while they stream.

A Content-Length check alone is bypassed by chunked transfer encoding; counting the bytes as
they arrive is not. The body is then replayed into Starlette's own form parser, so multipart
parsing stays the well-kept library's job.
"""
from __future__ import annotations

from fastapi import Request
from starlette.datastructures import FormData

from lingnav_http.errors import HttpError


def _limit_text(limit_bytes: int) -> str:
    return f"{limit_bytes / (1024 * 1024):.3g} MB" if limit_bytes >= 1024 * 1024 else f"{limit_bytes} bytes"


async def read_limited(request: Request, limit_bytes: int) -> bytes:
    """The whole body, or HttpError 413 as soon as more than `limit_bytes` arrived (or were announced)."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            raise HttpError(400, "Content-Length is not a number")
        if int(length) > limit_bytes:
            raise HttpError(413, f"body larger than {_limit_text(limit_bytes)}")
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit_bytes:
                raise HttpError(413, f"body larger than {_limit_text(limit_bytes)}")
            chunks.append(chunk)
    except HttpError:
        raise
    except Exception as err:  # client went away mid-body, or the stream was already read
        raise HttpError(400, f"could not read the request body: {type(err).__name__}") from err
    return b"".join(chunks)


async def read_form(request: Request, limit_bytes: int, max_fields: int = 32, max_files: int = 4) -> FormData:
    """multipart/form-data or urlencoded form, size-limited while streaming; 4xx on anything malformed."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise HttpError(415, "send multipart/form-data")
    body = await read_limited(request, limit_bytes)
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        return await Request(request.scope, replay).form(max_files=max_files, max_fields=max_fields,
                                                         max_part_size=limit_bytes)
    except Exception as err:
        msg = str(getattr(err, "detail", "") or err) or type(err).__name__
        raise HttpError(400, f"malformed form body: {msg}") from err
