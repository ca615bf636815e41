"""An OpenAI-compatible VLM server (vLLM, SGLang, LMDeploy, TensorRT-LLM, ...) as the S2 model.

This is how a fleet outgrows one GPU: the heavy server does tensor parallelism and continuous
batching; this backend only shapes requests and reads answers. What it promises:
- each request of a micro-batch succeeds or fails on its own;
- a request is retried only when it never reached the upstream (connection refused or connect
  timeout); after a read timeout the upstream may still be generating, so it is never re-sent;
- the upstream call's timeout is the smaller of `timeout_s` and what is left of the client's
  deadline, so S2 never waits for an answer nobody will read;
- failures say what happened: unreachable or overloaded (BackendUnavailable -> 503), rejected
  (BackendRejected -> 502 with the upstream's status and the start of its body);
- only standard chat-completions fields are sent; vendor extras only through `extra_body`.
"""
from __future__ import annotations

import base64
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from s2_server.backends import (
    BackendError,
    BackendRejected,
    BackendReply,
    BackendRequest,
    BackendUnavailable,
    DeadlineExpired,
)
from s2_server.coords import ABSOLUTE, RELATIVE, smart_resize
from s2_server.images import encode_jpeg
from s2_server.prompts import SYSTEM, user_prompt

log = logging.getLogger("s2_server")

STANDARD_FIELDS = ("model", "messages", "max_tokens", "temperature")
BODY_EXCERPT_CHARS = 300


def _excerpt(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= BODY_EXCERPT_CHARS else text[:BODY_EXCERPT_CHARS] + "..."


def _retry_after(response: requests.Response, default_s: float) -> float:
    try:
        return max(1.0, float(response.headers.get("retry-after", default_s)))
    except ValueError:
        return default_s


def parse_extra_body(text: str) -> dict:
    """`--extra_body` JSON -> dict of vendor fields; it may not replace the fields S2 owns."""
    if not text:
        return {}
    try:
        extra = json.loads(text)
    except ValueError as err:
        raise ValueError(f"--extra_body is not valid JSON: {err}") from err
    if not isinstance(extra, dict):
        raise ValueError("--extra_body must be a JSON object, e.g. '{\"top_k\": 1}'")
    owned = sorted(set(extra) & {"model", "messages"})
    if owned:
        raise ValueError(f"--extra_body may not set {', '.join(owned)}")
    return extra


class OpenAIBackend:
    name = "openai"
    device = "remote"
    attn_implementation = "remote"

    def __init__(self, api_base: str, served_model: str, api_key: str = "", timeout_s: float = 10.0,
                 retries: int = 2, max_new_tokens: int = 128, convention: str = RELATIVE,
                 vision_factor_px: int = 28, max_workers: int = 16, connect_timeout_s: float = 2.0,
                 extra_body: dict | None = None, probe_timeout_s: float = 2.0):
        """`vision_factor_px`: the served model's patch x merge (28 Qwen2/2.5-VL, 32 Qwen3-VL); an
        absolute-pixel model answers in the grid its processor snaps our image to."""
        if not api_base.startswith(("http://", "https://")):
            raise ValueError(f"--api_base must be an http(s) URL such as http://gpu:8000/v1, not {api_base!r}")
        if convention not in (RELATIVE, ABSOLUTE):
            raise ValueError(f"unknown coordinate convention {convention}")
        for label, value in (("timeout_s", timeout_s), ("connect_timeout_s", connect_timeout_s)):
            if not value > 0:
                raise ValueError(f"{label} must be > 0")
        self.api_base = api_base.rstrip("/")
        self.url = self.api_base + "/chat/completions"
        self.model = served_model
        self.timeout_s = float(timeout_s)
        self.connect_timeout_s = min(float(connect_timeout_s), self.timeout_s)
        self.retries = max(0, int(retries))
        self.max_new_tokens = max_new_tokens
        self.convention = convention
        self.vision_factor_px = vision_factor_px
        self.api_key = api_key
        self.extra_body = dict(extra_body or {})
        self.probe_timeout_s = probe_timeout_s
        self.max_workers = max_workers
        self._local = threading.local()  # one requests.Session per pool thread
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="s2-openai")

    # ------------------------------------------------------------------ requests
    def generate(self, batch: list[BackendRequest]) -> list[BackendReply | BaseException]:
        """Concurrent upstream calls (the upstream batches on its own); one result or error per request."""
        futures = [self._pool.submit(self._reply, req) for req in batch]
        out: list[BackendReply | BaseException] = []
        for future in futures:
            try:
                out.append(future.result())
            except Exception as err:  # kept per item: neighbours in the batch are unaffected
                out.append(err)
        return out

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._new_session(self.retries)
        return session

    def _new_session(self, retries: int) -> requests.Session:
        session = requests.Session()
        # connect errors only: the request never reached the upstream, so re-sending is safe
        # (read=False re-raises a read timeout or a reset after sending as itself, never retried)
        retry = Retry(total=retries, connect=retries, read=False, status=0, other=0, redirect=0,
                      allowed_methods=None, backoff_factor=0.1, raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=self.max_workers)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        if self.api_key:
            session.headers["Authorization"] = f"Bearer {self.api_key}"
        return session

    def body(self, req: BackendRequest) -> dict:
        data_url = "data:image/jpeg;base64," + base64.b64encode(encode_jpeg(req.rgb)).decode("ascii")
        body = {"model": self.model, "max_tokens": self.max_new_tokens, "temperature": 0.0,
                "messages": [{"role": "system", "content": SYSTEM},
                             {"role": "user", "content": [
                                 {"type": "image_url", "image_url": {"url": data_url}},
                                 {"type": "text", "text": user_prompt(req.instruction, self.convention,
                                                                      req.context.get("previous_target"))}]}]}
        body.update(self.extra_body)
        return body

    def _reply(self, req: BackendRequest) -> BackendReply:
        text = self._one(req)
        if self.convention != ABSOLUTE:
            return BackendReply(text)
        model_h, model_w = smart_resize(req.rgb.shape[0], req.rgb.shape[1], self.vision_factor_px)
        return BackendReply(text, model_w, model_h)

    def _one(self, req: BackendRequest) -> str:
        remaining = req.remaining_s(time.monotonic())
        if remaining <= 0.05:
            raise DeadlineExpired("the client's deadline passed before the upstream call")
        read_timeout = min(self.timeout_s, remaining)
        body = self.body(req)
        try:
            response = self._session().post(self.url, json=body,
                                            timeout=(min(self.connect_timeout_s, read_timeout), read_timeout))
        except requests.exceptions.ConnectTimeout as err:
            raise BackendUnavailable(f"upstream {self.api_base} unreachable: {_connection_reason(err)} "
                                     f"(tried {self.retries + 1} times)") from err
        except requests.exceptions.ReadTimeout as err:
            if read_timeout < self.timeout_s:
                raise DeadlineExpired(f"upstream {self.api_base} had not answered when the client's "
                                      f"deadline came ({read_timeout:.1f} s)") from err
            raise BackendUnavailable(f"upstream {self.api_base} did not answer within {read_timeout:.1f} s "
                                     "(overloaded?); not retried") from err
        except requests.exceptions.ConnectionError as err:
            raise BackendUnavailable(f"upstream {self.api_base} unreachable: {_connection_reason(err)}") from err
        except requests.RequestException as err:
            raise BackendError(f"request to {self.url} failed: {type(err).__name__}: {err}") from err
        return self._content(response)

    def _content(self, response: requests.Response) -> str:
        status = response.status_code
        if status in (429, 503):
            raise BackendUnavailable(f"upstream overloaded: HTTP {status} {_excerpt(response.text)}",
                                     retry_after_s=_retry_after(response, 1.0))
        if status >= 400:
            body = _excerpt(response.text)
            raise BackendRejected(f"HTTP {status} from {self.url}: {body}", status, body)
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise BackendError(f"unexpected answer from {self.url} ({type(err).__name__}): "
                               f"{_excerpt(response.text)}") from err
        if isinstance(content, list):  # some servers answer with content parts
            content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
        return str(content or "")

    # ------------------------------------------------------------------ readiness
    def served_models(self) -> list[str]:
        """Model ids listed by GET /v1/models; BackendUnavailable / BackendRejected on failure."""
        url = self.api_base + "/models"
        session = getattr(self, "_probe_session", None) or self._new_session(0)
        self._probe_session = session
        try:
            response = session.get(url, timeout=(self.probe_timeout_s, self.probe_timeout_s))
        except requests.RequestException as err:
            raise BackendUnavailable(f"upstream {self.api_base} unreachable: {_connection_reason(err)}") from err
        if response.status_code >= 400:
            body = _excerpt(response.text)
            raise BackendRejected(f"GET {url}: HTTP {response.status_code} {body}", response.status_code, body)
        try:
            return [str(m["id"]) for m in response.json()["data"]]
        except (ValueError, KeyError, TypeError) as err:
            raise BackendError(f"GET {url} did not list models ({type(err).__name__})") from err

    def probe(self) -> tuple[bool, str]:
        """(ready, reason): the upstream answers and serves `served_model`."""
        try:
            models = self.served_models()
        except BackendError as err:
            return False, str(err)
        if self.model not in models:
            return False, (f"upstream {self.api_base} does not serve {self.model!r}; it serves: "
                           f"{', '.join(models) or 'nothing'}")
        return True, ""


def _connection_reason(err: BaseException) -> str:
    text = str(err)
    for needle, reason in (("Connection refused", "connection refused"), ("timed out", "connect timed out"),
                           ("Name or service not known", "unknown host"), ("reset by peer", "connection reset"),
                           ("RemoteDisconnected", "connection closed by the upstream"),
                           ("Connection aborted", "connection aborted")):
        if needle in text:
            return reason
    return f"{type(err).__name__}"
