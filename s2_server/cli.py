"""lingnav-s2-server: the S2 grounding service (field-compatible flags and log lines)."""
from __future__ import annotations

import argparse
import ipaddress
import logging
import sys

from s2_server.defaults import DEFAULT_HOST, DEFAULT_PORT
from s2_server.images import round_to_multiple

log = logging.getLogger("s2_server")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lingnav-s2-server", description=__doc__)
    p.add_argument("--backend", choices=("transformers", "openai", "color"), default="transformers")
    p.add_argument("--model_path", default="", help="checkpoint folder (transformers backend)")
    p.add_argument("--host", default=DEFAULT_HOST)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda:N")
    p.add_argument("--dtype", default="auto", choices=("auto", "float32", "float16", "bfloat16"))
    p.add_argument("--attn", default="auto", help="auto | flash_attention_2 | sdpa | eager")
    p.add_argument("--image_width", type=int, default=640, help="accepted for field compatibility")
    p.add_argument("--image_height", type=int, default=480, help="accepted for field compatibility")
    p.add_argument("--resize_w", type=int, default=640)
    p.add_argument("--resize_h", type=int, default=480)
    p.add_argument("--max_new_tokens", type=int, default=128)
    p.add_argument("--api_base", default="", help="OpenAI-compatible server, e.g. http://gpu:8000/v1")
    p.add_argument("--api_key", default="")
    p.add_argument("--served_model", default="", help="model name on the OpenAI-compatible server")
    p.add_argument("--coords", default="relative_1000", choices=("relative_1000", "absolute_pixels"),
                   help="coordinate convention of the served model (openai backend)")
    p.add_argument("--token", default="", help="require 'Authorization: Bearer TOKEN'")
    p.add_argument("--max_upload_mb", type=float, default=10.0)
    p.add_argument("--queue_size", type=int, default=16)
    p.add_argument("--max_batch", type=int, default=4)
    p.add_argument("--trust_remote_code", action="store_true")
    return p


def make_backend(args):
    if args.backend == "color":
        from s2_server.backends.color_backend import ColorBackend

        return ColorBackend()
    if args.backend == "openai":
        if not args.api_base or not args.served_model:
            raise SystemExit("--backend openai needs --api_base and --served_model")
        from s2_server.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(args.api_base, args.served_model, args.api_key,
                             max_new_tokens=args.max_new_tokens, convention=args.coords)
    if not args.model_path:
        raise SystemExit("--backend transformers needs --model_path")
    from s2_server.backends.transformers_backend import TransformersBackend

    return TransformersBackend(args.model_path, args.device, args.dtype, args.attn, args.max_new_tokens,
                               trust_remote_code=args.trust_remote_code)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    for name in ("resize_w", "resize_h"):
        value = getattr(args, name)
        if value % 32:
            rounded = round_to_multiple(value)
            log.warning("[S2] --%s %d is not a multiple of 32; using %d", name, value, rounded)
            setattr(args, name, rounded)
    if not _is_loopback(args.host) and not args.token:
        log.warning("[S2] WARNING: listening on %s without --token: anyone on the network can use the model",
                    args.host)
    try:
        backend = make_backend(args)
    except Exception as err:
        print(f"[S2] cannot load the model: {err}", file=sys.stderr)
        return 1
    print(f"[S2] Loaded with attn_implementation={getattr(backend, 'attn_implementation', 'none')}", flush=True)
    print("[S2] Model ready.", flush=True)

    import uvicorn

    from s2_server.app import ServerSettings, create_app

    settings = ServerSettings(resize_w=args.resize_w, resize_h=args.resize_h, max_upload_mb=args.max_upload_mb,
                              token=args.token, queue_size=args.queue_size, max_batch=args.max_batch)
    app = create_app(backend, settings)
    print(f"[S2] Listening on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
