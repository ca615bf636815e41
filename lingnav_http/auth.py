"""Bearer-token auth: constant-time compare, token from a file or an environment variable.

A token on the command line or in a ROS parameter is visible to every user of the machine
(`ps`, `ros2 param get`); a file readable only by the service user, or the service's
environment, is not.
"""
from __future__ import annotations

import hmac
import os
from pathlib import Path

from lingnav_http.errors import HttpError


def load_token(token_file: str = "", env_var: str = "") -> str:
    """The token from `token_file` (first line, stripped), else from `env_var`, else "" (auth off)."""
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip().splitlines()
        except OSError as err:
            raise ValueError(f"cannot read the token file {token_file}: {err.strerror or err}") from err
        if not token or not token[0].strip():
            raise ValueError(f"token file {token_file} is empty")
        return token[0].strip()
    return os.environ.get(env_var, "").strip() if env_var else ""


class TokenAuth:
    """Checks `Authorization: Bearer <token>`; with no token configured every request passes."""

    def __init__(self, token: str = ""):
        self._token = token.encode("utf-8")

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    def ok(self, authorization: str | None) -> bool:
        if not self._token:
            return True
        scheme, _, value = (authorization or "").partition(" ")
        # compare_digest on bytes: time does not depend on where the first wrong byte is
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode("utf-8"), self._token)

    def require(self, authorization: str | None) -> None:
        if not self.ok(authorization):
            raise HttpError(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
