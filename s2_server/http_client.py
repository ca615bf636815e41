"""The robot's S2 client: bounded time, typed answers, typed failures.

It reads the deployed response format (lingnav_core.s2_decision), the same one the deployed
server answers, and sends its read timeout as X-Client-Timeout-Ms so S2 can drop work this
client will no longer wait for. Timeouts nest: this client's (15 s on the robot) > S2's
request budget (12 s) > the upstream model call's (10 s, openai backend).

The navigator must never hang on S2 and never guess on a failure: it gets an S2Decision, or an
S2Unavailable it turns into "stop, then explain".
"""
from __future__ import annotations

import json
import time

import numpy as np
import requests

from lingnav_core.endpoints import S2_DEADLINE_HEADER, S2_DEFAULT_HOST, S2_DEFAULT_PORT, S2_TOKEN_ENV
from lingnav_core.s2_decision import S2BadRequest, S2Decision, S2Unavailable
from lingnav_http.client import client_session, error_reason
from s2_server.images import encode_jpeg


class S2Client:
    def __init__(self, host: str = S2_DEFAULT_HOST, port: int = S2_DEFAULT_PORT,
                 timeout_s: float | tuple[float, float] = (1.0, 15.0), retries: int = 1,
                 backoff_s: float = 0.2, token: str | None = None, jpeg_quality: int = 90,
                 keep_alive: bool = True):
        """`keep_alive=False` opens a fresh connection per call (for liveness probes: a reset is
        then a dead server, never a keep-alive connection the server was closing). `token=None`
        takes the bearer token from $LINGNAV_S2_TOKEN, so it need not be a ROS parameter."""
        self.base_url = f"http://{host}:{port}"
        self.timeout_s = timeout_s if isinstance(timeout_s, tuple) else (min(timeout_s, 2.0), timeout_s)
        self.retries = max(0, int(retries))
        self.backoff_s = backoff_s
        self.jpeg_quality = jpeg_quality
        self.session = client_session(token, S2_TOKEN_ENV, keep_alive)

    def health(self) -> dict:
        return self._send("GET", "/health").json()

    def step(self, rgb: np.ndarray, instruction: str, context: dict | None = None) -> S2Decision:
        """Ask S2 about one RGB image (H x W x 3 uint8). Pixels come back in this image's size."""
        if rgb is None or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise S2BadRequest("rgb must be an H x W x 3 image")
        files = {"image": ("frame.jpg", encode_jpeg(rgb, self.jpeg_quality), "image/jpeg")}
        data = {"instruction": instruction}
        if context:
            data["context"] = json.dumps(context)
        t0 = time.perf_counter()
        # our deadline travels with the request: S2 drops the work if we will have given up
        headers = {S2_DEADLINE_HEADER: f"{self.timeout_s[1] * 1000.0:.0f}"}
        response = self._send("POST", "/step", files=files, data=data, headers=headers)
        try:
            body = response.json()
        except ValueError as err:
            raise S2Unavailable(f"S2 answered something that is not JSON: {err}") from err
        if not isinstance(body, dict):
            raise S2Unavailable(f"S2 answered a JSON {type(body).__name__}, not the deployed response object")
        decision = S2Decision.from_json(body)
        decision.latency_ms = (time.perf_counter() - t0) * 1000.0
        return decision

    def _send(self, method: str, path: str, **kwargs) -> requests.Response:
        last, last_err = "", None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * (2 ** (attempt - 1)))
            try:
                response = self.session.request(method, self.base_url + path, timeout=self.timeout_s, **kwargs)
            except requests.RequestException as err:
                last, last_err = f"{type(err).__name__}: {err}", err
                continue
            if response.status_code >= 500 or response.status_code == 429:
                last = f"HTTP {response.status_code}: {error_reason(response)}"
                continue
            if response.status_code >= 400:
                raise S2BadRequest(f"HTTP {response.status_code}: {error_reason(response)}")
            return response
        raise S2Unavailable(f"S2 at {self.base_url} unreachable after {self.retries + 1} attempt(s): {last}") \
            from last_err

    def close(self) -> None:
        self.session.close()
