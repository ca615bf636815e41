"""An OpenAI-compatible VLM server (vLLM, SGLang, LMDeploy, ...) as the S2 model.

This is how a fleet outgrows one GPU: the heavy server does tensor parallelism and continuous
batching; this backend only shapes requests and reads answers.
"""
from __future__ import annotations

import base64
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from s2_server.backends import BackendError, BackendReply, BackendRequest
from s2_server.coords import ABSOLUTE, RELATIVE, smart_resize
from s2_server.images import encode_jpeg
from s2_server.prompts import SYSTEM, user_prompt


class OpenAIBackend:
    name = "openai"
    device = "remote"
    attn_implementation = "remote"

    def __init__(self, api_base: str, served_model: str, api_key: str = "", timeout_s: float = 60.0,
                 retries: int = 2, max_new_tokens: int = 128, convention: str = RELATIVE,
                 vision_factor_px: int = 28, max_workers: int = 8):
        """`vision_factor_px`: the served model's patch x merge (28 Qwen2/2.5-VL, 32 Qwen3-VL); an
        absolute-pixel model answers in the grid its processor snaps our image to."""
        if not api_base.startswith(("http://", "https://")):
            raise ValueError(f"--api_base must be an http(s) URL such as http://gpu:8000/v1, not {api_base!r}")
        self.url = api_base.rstrip("/") + "/chat/completions"
        self.model = served_model
        self.timeout_s = timeout_s
        self.retries = retries
        self.max_new_tokens = max_new_tokens
        if convention not in (RELATIVE, ABSOLUTE):
            raise ValueError(f"unknown coordinate convention {convention}")
        self.convention = convention
        self.vision_factor_px = vision_factor_px
        self.api_key = api_key
        self._local = threading.local()  # one requests.Session per pool thread
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="s2-openai")

    def generate(self, batch: list[BackendRequest]) -> list[BackendReply]:
        # The upstream server batches on its own (continuous batching); send the micro-batch concurrently.
        return list(self._pool.map(self._reply, batch))

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            if self.api_key:
                session.headers["Authorization"] = f"Bearer {self.api_key}"
        return session

    def _reply(self, req: BackendRequest) -> BackendReply:
        text = self._one(req)
        if self.convention != ABSOLUTE:
            return BackendReply(text)
        model_h, model_w = smart_resize(req.rgb.shape[0], req.rgb.shape[1], self.vision_factor_px)
        return BackendReply(text, model_w, model_h)

    def _one(self, req: BackendRequest) -> str:
        data_url = "data:image/jpeg;base64," + base64.b64encode(encode_jpeg(req.rgb)).decode("ascii")
        body = {"model": self.model, "max_tokens": self.max_new_tokens, "temperature": 0.0,
                "messages": [{"role": "system", "content": SYSTEM},
                             {"role": "user", "content": [
                                 {"type": "image_url", "image_url": {"url": data_url}},
                                 {"type": "text", "text": user_prompt(req.instruction, self.convention,
                                                                      req.context.get("previous_target"))}]}]}
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(0.2 * 2 ** (attempt - 1))
            try:
                response = self._session().post(self.url, json=body, timeout=(min(5.0, self.timeout_s), self.timeout_s))
            except requests.RequestException as err:
                last = f"{type(err).__name__}: {err}"
                continue
            if response.status_code >= 500 or response.status_code == 429:
                last = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                raise BackendError(f"OpenAI-compatible server at {self.url} rejected the request: "
                                   f"HTTP {response.status_code} {response.text[:200]}")
            try:
                content = response.json()["choices"][0]["message"]["content"]
            except (ValueError, KeyError, IndexError, TypeError) as err:
                raise BackendError(f"unexpected answer from {self.url}: {err}") from err
            if isinstance(content, list):  # some servers answer with content parts
                content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
            return str(content or "")
        raise BackendError(f"OpenAI-compatible server at {self.url} is unreachable: {last}")
