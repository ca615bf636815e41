"""An OpenAI-compatible VLM server (vLLM, SGLang, LMDeploy, ...) as the S2 model.

This is how a fleet outgrows one GPU: the heavy server does tensor parallelism and continuous
batching; this backend only shapes requests and reads answers.
"""
from __future__ import annotations

import base64
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from s2_server.backends import BackendError, BackendRequest
from s2_server.coords import ABSOLUTE, RELATIVE
from s2_server.images import encode_jpeg
from s2_server.prompts import SYSTEM, user_prompt


class OpenAIBackend:
    name = "openai"
    device = "remote"
    attn_implementation = "remote"

    def __init__(self, api_base: str, served_model: str, api_key: str = "", timeout_s: float = 60.0,
                 retries: int = 2, max_new_tokens: int = 128, convention: str = RELATIVE):
        self.url = api_base.rstrip("/") + "/chat/completions"
        self.model = served_model
        self.timeout_s = timeout_s
        self.retries = retries
        self.max_new_tokens = max_new_tokens
        if convention not in (RELATIVE, ABSOLUTE):
            raise ValueError(f"unknown coordinate convention {convention}")
        self.convention = convention
        self.session = requests.Session()
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="s2-openai")

    def generate(self, batch: list[BackendRequest]) -> list[str]:
        # The upstream server batches on its own; send the micro-batch concurrently.
        return list(self._pool.map(self._one, batch))

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
                response = self.session.post(self.url, json=body, timeout=(min(5.0, self.timeout_s), self.timeout_s))
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
                return str(response.json()["choices"][0]["message"]["content"] or "")
            except (ValueError, KeyError, IndexError, TypeError) as err:
                raise BackendError(f"unexpected answer from {self.url}: {err}") from err
        raise BackendError(f"OpenAI-compatible server at {self.url} is unreachable: {last}")
