"""One error shape for both servers: `{"error": reason, "detail": reason}` with a 4xx/5xx status.

The field's test client prints `error`; older clients of ours read `detail`. Client mistakes are
4xx; a 5xx always means the server (or what it stands in front of) failed, because robots count
a 5xx as "server down" and retry or stop.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("lingnav_http")


class HttpError(Exception):
    """A request that ends here with `status` and a reason the client can act on."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None,
                 extra: dict | None = None):
        super().__init__(reason)
        self.status = int(status)
        self.reason = reason
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def error_body(reason: str, extra: dict | None = None) -> dict:
    body = {"error": reason, "detail": reason}
    body.update(extra or {})
    return body


def error_response(status: int, reason: str, headers: dict[str, str] | None = None,
                   extra: dict | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(reason, extra), headers=headers)


def from_http_error(err: HttpError) -> JSONResponse:
    return error_response(err.status, err.reason, err.headers or None, err.extra or None)


def install_error_handlers(app: FastAPI, logger: logging.Logger | None = None) -> None:
    """Route every failure through the one error shape; unexpected exceptions become a logged 500."""
    logger = logger or log

    async def on_http_error(_request: Request, err: HttpError) -> JSONResponse:
        return from_http_error(err)

    async def on_starlette(_request: Request, err: StarletteHTTPException) -> JSONResponse:
        return error_response(err.status_code, str(err.detail), getattr(err, "headers", None))

    async def on_validation(_request: Request, err: RequestValidationError) -> JSONResponse:
        first = (err.errors() or [{}])[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(422, f"invalid request: {where}: {first.get('msg', 'invalid')}")

    async def on_unexpected(request: Request, err: Exception) -> JSONResponse:
        logger.error("internal error on %s: %s: %s", request.url.path, type(err).__name__, err)
        logger.debug("traceback", exc_info=err)
        return error_response(500, f"internal server error ({type(err).__name__})")

    app.add_exception_handler(HttpError, on_http_error)
    app.add_exception_handler(StarletteHTTPException, on_starlette)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_unexpected)
