"""lingnav-s2-server: the S2 grounding service (the deployed server's flags and log lines)."""
from __future__ import annotations

import argparse
import ipaddress
import logging
import sys

from lingnav_core import cli
from lingnav_core.endpoints import S2_API_KEY_ENV, S2_DEFAULT_HOST, S2_DEFAULT_PORT, S2_TOKEN_ENV
from lingnav_http.auth import load_token
from s2_server.coords import ABSOLUTE, RELATIVE
from s2_server.images import round_to_multiple

log = logging.getLogger("s2_server")



def build_parser() -> argparse.ArgumentParser:
    p = cli.parser("lingnav-s2-server", __doc__)
    p.add_argument("--backend", choices=("transformers", "openai", "color"), default="transformers",
                   help="transformers: a local checkpoint (--model_path); openai: an OpenAI-compatible server "
                        "(--api_base, --served_model); color: weight-free colour blobs for demos and tests")
    p.add_argument("--model_path", default="", help="checkpoint folder (transformers backend)")
    p.add_argument("--host", default=S2_DEFAULT_HOST, help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=S2_DEFAULT_PORT, help="TCP port to listen on")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda:N (auto shards over all GPUs when >1)")
    p.add_argument("--dtype", default="auto", choices=("auto", "float32", "float16", "bfloat16"),
                   help="model weights dtype (auto: the checkpoint's)")
    p.add_argument("--attn", default="auto", help="auto | flash_attention_2 | sdpa | eager (falls back in that order)")
    p.add_argument("--image_width", type=int, default=640,
                   help="accepted for compatibility with existing start scripts; points are always returned "
                        "in the received image's real size")
    p.add_argument("--image_height", type=int, default=480,
                   help="accepted for compatibility with existing start scripts")
    p.add_argument("--resize_w", type=int, default=640, help="model input width (multiple of 32)")
    p.add_argument("--resize_h", type=int, default=480, help="model input height (multiple of 32)")
    p.add_argument("--max_new_tokens", type=int, default=128, help="longest model answer, in tokens")
    p.add_argument("--api_base", default="", help="OpenAI-compatible server, e.g. http://gpu:8000/v1")
    p.add_argument("--api_key_file", default="",
                   help=f"file whose first line is the upstream server's API key (or set {S2_API_KEY_ENV}); "
                        "never on the command line")
    p.add_argument("--api_key", default=None, help=argparse.SUPPRESS)  # refused: it would show in `ps`
    p.add_argument("--served_model", default="", help="model name on the OpenAI-compatible server")
    p.add_argument("--api_timeout_s", type=float, default=10.0,
                   help="upstream read timeout per call; must be below --request_budget_s")
    p.add_argument("--api_retries", type=int, default=2,
                   help="retries only when the upstream refused the connection (never after a read timeout)")
    p.add_argument("--extra_body", default="",
                   help="vendor fields added to every upstream request, as JSON, e.g. '{\"top_k\": 1}' (vLLM)")
    p.add_argument("--request_budget_s", type=float, default=12.0,
                   help="S2's time per request (queue + model); below the robot's timeout (15 s)")
    p.add_argument("--probe_interval_s", type=float, default=2.0, help="how often /health re-checks the upstream")
    p.add_argument("--coords", default=RELATIVE, choices=(RELATIVE, ABSOLUTE),
                   help="openai backend: the served model's points (Qwen3-VL relative_1000, Qwen2/2.5-VL "
                        "absolute_pixels)")
    p.add_argument("--token_file", default="",
                   help=f"require 'Authorization: Bearer TOKEN' with TOKEN read from this file "
                        f"(or set {S2_TOKEN_ENV}); never on the command line")
    p.add_argument("--token", default=None, help=argparse.SUPPRESS)
    p.add_argument("--max_upload_mb", type=float, default=10.0,
                   help="largest request body, counted while it streams; 413 beyond")
    p.add_argument("--max_image_pixels", type=int, default=20_000_000,
                   help="larger images are refused (413) from their header, before decoding")
    p.add_argument("--queue_size", type=int, default=16, help="queued requests beyond this get 503 + Retry-After")
    p.add_argument("--max_batch", type=int, default=4, help="micro-batch size per generate call (1 = off)")
    p.add_argument("--max_inflight", type=int, default=None,
                   help="dispatch single requests, up to this many at once, instead of micro-batches "
                        "(default 16 for --backend openai, whose server batches on its own; 0 = micro-batches)")
    p.add_argument("--batch_window_ms", type=float, default=0.0,
                   help="wait this long for more requests before a generate call")
    p.add_argument("--trust_remote_code", action="store_true", help="allow code from the checkpoint (off by default)")
    p.add_argument("--log_level", default="info", choices=("debug", "info", "warning", "error"),
                   help="debug also logs tracebacks of failed requests")
    return p


def make_backend(args):
    if args.backend == "color":
        from s2_server.backends.color_backend import ColorBackend

        return ColorBackend()
    if args.backend == "openai":
        if not args.api_base or not args.served_model:
            raise ValueError("--backend openai needs --api_base and --served_model")
        from s2_server.backends.openai_backend import OpenAIBackend, parse_extra_body

        if not 0 < args.api_timeout_s < args.request_budget_s:
            raise ValueError(f"--api_timeout_s ({args.api_timeout_s}) must be > 0 and below --request_budget_s "
                             f"({args.request_budget_s}), which must be below the robot's timeout")
        try:
            api_key = load_token(args.api_key_file, S2_API_KEY_ENV)
        except ValueError as err:
            raise ValueError(f"--api_key_file: {err}") from None
        return OpenAIBackend(args.api_base, args.served_model, api_key, timeout_s=args.api_timeout_s,
                             retries=args.api_retries, max_new_tokens=args.max_new_tokens, convention=args.coords,
                             extra_body=parse_extra_body(args.extra_body))
    if not args.model_path:
        raise ValueError("--backend transformers needs --model_path (or use --backend color / openai)")
    from s2_server.backends.transformers_backend import TransformersBackend

    return TransformersBackend(args.model_path, args.device, args.dtype, args.attn, args.max_new_tokens,
                               trust_remote_code=args.trust_remote_code)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_resize(name: str, value: int) -> int:
    """Model inputs must be multiples of 32 (Qwen3-VL patch 16 x merge 2): round, with a warning."""
    if value % 32 == 0 and value > 0:
        return value
    rounded = round_to_multiple(value)
    log.warning("[S2] --%s %d is not a multiple of 32; using %d", name, value, rounded)
    return rounded


def default_inflight(args) -> int:
    if args.max_inflight is not None:
        return max(0, args.max_inflight)
    return 16 if args.backend == "openai" else 0


def startup_readiness(backend) -> tuple[bool, str] | None:
    """The upstream's state at start: exit on a wrong model name (it will not fix itself), start
    not ready when the upstream is down (it may still be loading). None for local backends."""
    probe = getattr(backend, "probe", None)
    if probe is None:
        return None
    ready, reason = probe()
    if not ready and "does not serve" in reason:
        raise ValueError(reason + " (check --served_model)")
    return ready, reason


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), format="%(message)s")
    if args.token is not None:
        print(f"[S2] --token is not accepted (it shows in `ps`); put the token in a file for --token_file "
              f"or in the {S2_TOKEN_ENV} environment variable", file=sys.stderr, flush=True)
        return 2
    if args.api_key is not None:
        print(f"[S2] --api_key is not accepted (it shows in `ps`); put the key in a file for --api_key_file "
              f"or in the {S2_API_KEY_ENV} environment variable", file=sys.stderr, flush=True)
        return 2
    try:
        token = load_token(args.token_file, S2_TOKEN_ENV)
    except ValueError as err:
        print(f"[S2] {err}", file=sys.stderr, flush=True)
        return 1
    args.resize_w = checked_resize("resize_w", args.resize_w)
    args.resize_h = checked_resize("resize_h", args.resize_h)
    if not is_loopback(args.host) and not token:
        log.warning("[S2] WARNING: listening on %s without a token (--token_file or %s): anyone on the "
                    "network can use the model", args.host, S2_TOKEN_ENV)
    if args.trust_remote_code:
        log.warning("[S2] --trust_remote_code: code shipped with the checkpoint will run")
    try:
        backend = make_backend(args)
        startup = startup_readiness(backend)
    except Exception as err:
        print(f"[S2] cannot start the {args.backend} backend: {err}", file=sys.stderr, flush=True)
        return 1
    if startup is not None and not startup[0]:
        log.warning("[S2] starting NOT READY: %s (/health says so until the upstream answers)", startup[1])
    print(f"[S2] Loaded with attn_implementation={getattr(backend, 'attn_implementation', 'none')}", flush=True)
    family = getattr(backend, "family", None)
    if family is not None:
        print(f"[S2] Model class {family.class_name} ({family.label}), points {family.convention}", flush=True)
    if startup is None or startup[0]:
        print("[S2] Model ready.", flush=True)

    from lingnav_http.serve import serve
    from s2_server.app import ServerSettings, create_app
    from s2_server.readiness import Readiness

    settings = ServerSettings(resize_w=args.resize_w, resize_h=args.resize_h, max_upload_mb=args.max_upload_mb,
                              max_image_pixels=args.max_image_pixels, token=token, queue_size=args.queue_size,
                              max_batch=args.max_batch, batch_window_ms=args.batch_window_ms,
                              max_inflight=default_inflight(args),
                              request_budget_s=args.request_budget_s, probe_interval_s=args.probe_interval_s)
    readiness = Readiness(backend, settings.probe_interval_s, *(startup or (None, "")))
    app = create_app(backend, settings, readiness)
    print(f"[S2] Listening on http://{args.host}:{args.port}", flush=True)
    try:
        serve(app, args.host, args.port)
    except (OSError, SystemExit) as err:
        print(f"[S2] cannot serve on {args.host}:{args.port}: {err}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
