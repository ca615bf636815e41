"""The clients' half of the servers' HTTP conventions, shared by the S1 and S2 HTTP clients.

The servers answer every failure as `{"error": reason, "detail": reason}` (lingnav_http.errors)
and take a bearer token; both clients read that shape and send that header the same way here,
so a reason shown on the robot's status reads alike whichever server gave it.
"""
from __future__ import annotations

import os

import requests


def client_session(token: str | None, token_env: str, keep_alive: bool = True) -> requests.Session:
    """A session with the bearer token (`token=None`: from $`token_env`; blank: none).

    `keep_alive=False` opens a fresh connection per call: a liveness probe then never meets a
    keep-alive connection the server was closing, so a reset means the server is away.
    """
    session = requests.Session()
    token = (os.environ.get(token_env, "") if token is None else token).strip()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    if not keep_alive:
        session.headers["Connection"] = "close"
    return session


def error_reason(response: requests.Response) -> str:
    """The server's `error` text, else `detail` (other servers of the same API), else the raw body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error", "detail"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key][:300]
    return response.text[:200]
