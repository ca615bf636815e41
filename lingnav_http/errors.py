"""One error shape for both servers: `{"error": reason, "detail": reason}` with a 4xx/5xx status.

The deployed test client prints `error`; older clients of ours read `detail`. Client mistakes are
4xx; a 5xx always means the server (or what it stands in front of) failed, because robots count
a 5xx as "server down" and retry or stop. This module is plain Python (the robot side imports
it); the FastAPI responses and handlers are in lingnav_http.responses.
"""
from __future__ import annotations


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
