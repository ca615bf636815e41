"""S1 over HTTP with the same Planner interface as the local models (mode A).

Every call is bounded by connect/read timeouts; any failure is an S1Unavailable the navigator
turns into a stop, instead of the deployed pipeline's "log a warning and keep executing the old plan".
"""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import requests

from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_core.endpoints import S1_DEFAULT_HOST, S1_DEFAULT_PORT, S1_TOKEN_ENV
from lingnav_core.s1_plan import (
    DEFAULT_STOP_THRESHOLD,
    Goal,
    ImageGoal,
    NoGoal,
    PixelGoal,
    PointGoal,
    PointImageGoal,
    S1Error,
    S1Plan,
    S1Unavailable,
)
from lingnav_http.client import client_session, error_reason
from s1_server.codec import CLIENT_COLORS, DEFAULT_CLIENT_COLOR, encode_depth_png, encode_rgb_jpeg


class S1Client:
    def __init__(self, host: str = S1_DEFAULT_HOST, port: int = S1_DEFAULT_PORT, timeout_s: float = 3.0,
                 intrinsics: Intrinsics | None = None, mount: CameraMount | None = None,
                 stop_threshold: float = DEFAULT_STOP_THRESHOLD, keep_alive: bool = True,
                 token: str | None = None, client_color: str = DEFAULT_CLIENT_COLOR):
        """`keep_alive=False` opens a fresh connection per call: a liveness probe then never meets a
        keep-alive connection the server is closing at that very moment, so a reset means dead.

        `token`: bearer token; None reads the environment variable LINGNAV_S1_TOKEN (unset = none).
        `client_color`: the server's `--client_color`; the JPEG is made so the planner sees RGB.
        """
        if client_color not in CLIENT_COLORS:
            raise ValueError(f"client_color must be one of {CLIENT_COLORS}, not {client_color!r}")
        self.base_url = f"http://{host}:{port}"
        self.timeout_s = (min(1.0, timeout_s), timeout_s)
        self.stop_threshold = stop_threshold
        self.client_color = client_color
        self.session = client_session(token, S1_TOKEN_ENV, keep_alive)
        self._reset_key = None
        self.intrinsics, self.mount = intrinsics, mount
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s1-encode")

    def reset(self) -> None:
        """Forget the server-side episode (memory); the next plan() resets it again."""
        self._reset_key = None

    def plan(self, rgb: np.ndarray, depth_m: np.ndarray, intrinsics: Intrinsics, goal: Goal,
             mount: CameraMount | None = None) -> S1Plan:
        t0 = time.perf_counter()
        mount = mount or self.mount or CameraMount()
        key = (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy, mount.height_m, mount.pitch_rad)
        if key != self._reset_key:
            self._post_json("/navigator_reset", {"intrinsic": intrinsics.matrix4().tolist(),
                                                 "stop_threshold": self.stop_threshold, "batch_size": 1,
                                                 "camera_height_m": mount.height_m,
                                                 "camera_pitch_rad": mount.pitch_rad})
            self._reset_key = key
        # JPEG and PNG encode at once: OpenCV releases the GIL, so the two take the time of one
        depth_png = self._encoder.submit(encode_depth_png, depth_m)
        files = {"image": ("rgb.jpg", self._jpeg(rgb), "image/jpeg"),
                 "depth": ("depth.png", depth_png.result(), "image/png")}
        data = {}
        if isinstance(goal, PointGoal):
            path, data["goal_data"] = "/pointgoal_step", json.dumps({"goal_x": [goal.x_m], "goal_y": [goal.y_m]})
        elif isinstance(goal, PixelGoal):
            path, data["goal_data"] = "/pixelgoal_step", json.dumps({"goal_x": [int(goal.u)], "goal_y": [int(goal.v)]})
        elif isinstance(goal, ImageGoal):
            path = "/imagegoal_step"
            files["goal"] = ("goal.jpg", self._jpeg(goal.rgb), "image/jpeg")
        elif isinstance(goal, PointImageGoal):
            path, data["goal_data"] = "/navdp_step_ip_mixgoal", json.dumps({"goal_x": [goal.x_m], "goal_y": [goal.y_m]})
            files["image_goal"] = ("goal.jpg", self._jpeg(goal.rgb), "image/jpeg")
        elif isinstance(goal, NoGoal):
            path = "/nogoal_step"
        else:
            raise S1Error(f"unsupported goal {goal!r}")
        body = self._post(path, files=files, data=data).json()
        try:
            best = np.asarray(body["trajectory"][0], dtype=np.float32)
            cands = np.asarray(body["all_trajectory"][0], dtype=np.float32)
            values = np.asarray(body["all_values"][0], dtype=np.float32)
        except (KeyError, IndexError, TypeError, ValueError) as err:
            raise S1Error(f"S1 answered an unexpected body: {err}") from err
        if best.ndim != 2 or best.shape[1] != 3 or cands.ndim != 3 or values.shape[0] != cands.shape[0]:
            raise S1Error(f"S1 answered trajectories of shape {best.shape} / {cands.shape}")
        if not (np.isfinite(best).all() and np.isfinite(cands).all() and np.isfinite(values).all()):
            raise S1Error("S1 answered non-finite trajectories or values")
        chosen = int(body.get("chosen_index", [int(np.argmax(values))])[0])
        no_safe = bool(body.get("no_safe_path", [float(values.max()) < self.stop_threshold])[0])
        return S1Plan(best, cands, values, no_safe, chosen, "remote", time.perf_counter() - t0,
                      {"model_ms": float(body.get("model_ms", float("nan")))})

    def _jpeg(self, rgb: np.ndarray) -> bytes:
        """Bytes that put RGB into the planner: the RGB array as is for a `rgb` server (NavDP's
        clients do the same), a true-colour JPEG (BGR array to cv2) for a `bgr` server."""
        rgb = np.asarray(rgb)
        return encode_rgb_jpeg(rgb[..., ::-1] if self.client_color == "bgr" else rgb)

    def health(self) -> dict:
        try:
            response = self.session.get(self.base_url + "/health", timeout=self.timeout_s)
        except requests.RequestException as err:
            raise S1Unavailable(f"S1 at {self.base_url} unreachable: {err}") from err
        if response.status_code >= 500:
            raise S1Unavailable(f"S1 at {self.base_url} unhealthy: HTTP {response.status_code}")
        try:
            return dict(response.json())
        except (ValueError, TypeError) as err:
            raise S1Error(f"S1 at {self.base_url} answered /health with {response.text[:80]!r}") from err

    def _post_json(self, path: str, body: dict) -> requests.Response:
        return self._post(path, json=body)

    def _post(self, path: str, **kwargs) -> requests.Response:
        # One immediate retry on a connection error: a reused keep-alive connection that the server
        # closed as we sent is not a dead server, and a dead one refuses the retry within a millisecond.
        # Timeouts are not retried: that would double the time the robot waits.
        for attempt in (0, 1):
            try:
                response = self.session.post(self.base_url + path, timeout=self.timeout_s, **kwargs)
                break
            except requests.RequestException as err:
                reused_connection_lost = (isinstance(err, requests.ConnectionError)
                                          and not isinstance(err, requests.ConnectTimeout))
                if attempt == 0 and reused_connection_lost:
                    continue
                self._reset_key = None  # a restarted server has lost our episode
                raise S1Unavailable(f"S1 at {self.base_url} unreachable: {type(err).__name__}: {err}") from err
        if response.status_code == 409:
            self._reset_key = None
        if response.status_code >= 500:
            raise S1Unavailable(f"S1 at {self.base_url} failed: HTTP {response.status_code} {error_reason(response)}")
        if response.status_code >= 400:
            raise S1Error(f"S1 rejected {path}: HTTP {response.status_code} {error_reason(response)}")
        return response
