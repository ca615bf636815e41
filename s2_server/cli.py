"""lingnav-s2-server: the S2 grounding service (field-compatible flags and log lines)."""
from __future__ import annotations

import argparse
import ipaddress
import logging
import sys

from s2_server.coords import ABSOLUTE, RELATIVE
from s2_server.defaults import DEFAULT_HOST, DEFAULT_PORT
from s2_server.images import round_to_multiple

log = logging.getLogger("s2_server")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lingnav-s2-server", description=__doc__)
    p.add_argument("--backend", choices=("transformers", "openai", "color"), default="transformers")
    p.add_argument("--model_path", default="", help="checkpoint folder (transformers backend)")
    p.add_argument("--host", default=DEFAULT_HOST)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda:N (auto shards over all GPUs when >1)")
    p.add_argument("--dtype", default="auto", choices=("auto", "float32", "float16", "bfloat16"))
    p.add_argument("--attn", default="auto", help="auto | flash_attention_2 | sdpa | eager (falls back in that order)")
    p.add_argument("--image_width", type=int, default=640, help="accepted for field compatibility; "
                   "points are always returned in the received image's real size")
    p.add_argument("--image_height", type=int, default=480, help="accepted for field compatibility")
    p.add_argument("--resize_w", type=int, default=640, help="model input width (multiple of 32)")
    p.add_argument("--resize_h", type=int, default=480, help="model input height (multiple of 32)")
    p.add_argument("--max_new_tokens", type=int, default=128)
    p.add_argument("--api_base", default="", help="OpenAI-compatible server, e.g. http://gpu:8000/v1")
    p.add_argument("--api_key", default="")
    p.add_argument("--served_model", default="", help="model name on the OpenAI-compatible server")
    p.add_argument("--api_timeout_s", type=float, default=60.0, help="read timeout per upstream call")
    p.add_argument("--api_retries", type=int, default=2, help="retries on connection errors / 5xx / 429")
    p.add_argument("--coords", default=RELATIVE, choices=(RELATIVE, ABSOLUTE),
                   help="openai backend: the served model's points (Qwen3-VL relative_1000, Qwen2/2.5-VL "
                        "absolute_pixels)")
    p.add_argument("--token", default="", help="require 'Authorization: Bearer TOKEN'")
    p.add_argument("--max_upload_mb", type=float, default=10.0)
    p.add_argument("--queue_size", type=int, default=16, help="queued requests beyond this get 503 + Retry-After")
    p.add_argument("--max_batch", type=int, default=4, help="micro-batch size per generate call (1 = off)")
    p.add_argument("--batch_window_ms", type=float, default=0.0,
                   help="wait this long for more requests before a generate call")
    p.add_argument("--trust_remote_code", action="store_true", help="allow code from the checkpoint (off by default)")
    p.add_argument("--log_level", default="info", choices=("debug", "info", "warning", "error"))
    return p


def make_backend(args):
    if args.backend == "color":
        from s2_server.backends.color_backend import ColorBackend

        return ColorBackend()
    if args.backend == "openai":
        if not args.api_base or not args.served_model:
            raise ValueError("--backend openai needs --api_base and --served_model")
        from s2_server.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(args.api_base, args.served_model, args.api_key, timeout_s=args.api_timeout_s,
                             retries=args.api_retries, max_new_tokens=args.max_new_tokens, convention=args.coords)
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), format="%(message)s")
    args.resize_w = checked_resize("resize_w", args.resize_w)
    args.resize_h = checked_resize("resize_h", args.resize_h)
    if not is_loopback(args.host) and not args.token:
        log.warning("[S2] WARNING: listening on %s without --token: anyone on the network can use the model",
                    args.host)
    if args.trust_remote_code:
        log.warning("[S2] --trust_remote_code: code shipped with the checkpoint will run")
    try:
        backend = make_backend(args)
    except Exception as err:
        print(f"[S2] cannot start the {args.backend} backend: {err}", file=sys.stderr, flush=True)
        return 1
    print(f"[S2] Loaded with attn_implementation={getattr(backend, 'attn_implementation', 'none')}", flush=True)
    family = getattr(backend, "family", None)
    if family is not None:
        print(f"[S2] Model class {family.class_name} ({family.label}), points {family.convention}", flush=True)
    print("[S2] Model ready.", flush=True)

    import uvicorn

    from s2_server.app import ServerSettings, create_app

    settings = ServerSettings(resize_w=args.resize_w, resize_h=args.resize_h, max_upload_mb=args.max_upload_mb,
                              token=args.token, queue_size=args.queue_size, max_batch=args.max_batch,
                              batch_window_ms=args.batch_window_ms)
    app = create_app(backend, settings)
    print(f"[S2] Listening on http://{args.host}:{args.port}", flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    except (OSError, SystemExit) as err:
        print(f"[S2] cannot serve on {args.host}:{args.port}: {err}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
