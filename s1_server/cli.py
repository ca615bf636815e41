"""lingnav-s1-server: NavDP (or the geometric planner) behind the NavDP HTTP API existing robot clients use."""
from __future__ import annotations

import argparse
import ipaddress
import logging
import math
import sys

from lingnav_core import cli
from lingnav_core.endpoints import S1_DEFAULT_HOST, S1_DEFAULT_PORT
from lingnav_core.s1_plan import DEFAULT_STOP_THRESHOLD
from s1_server.options import add_server_arguments, settings_from_args

log = logging.getLogger("s1_server")


def build_parser() -> argparse.ArgumentParser:
    p = cli.parser("lingnav-s1-server", __doc__)
    p.add_argument("--backend", choices=("navdp", "geometric"), default="navdp",
                   help="navdp: the NavDP network (--checkpoint); geometric: depth arcs, no weights")
    p.add_argument("--checkpoint", default="",
                   help="navdp-weights.ckpt or navdp-cross-modal.ckpt (or, with --runtime onnxruntime, "
                        "a lingnav-s1-export directory)")
    p.add_argument("--runtime", choices=("torch", "onnxruntime"), default="torch",
                   help="torch, or onnxruntime on graphs exported by lingnav-s1-export (a .ckpt is exported "
                        "at start-up)")
    p.add_argument("--host", default=S1_DEFAULT_HOST, help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=S1_DEFAULT_PORT, help="TCP port to listen on")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    p.add_argument("--half", action="store_true", help="fp16 weights and inputs (CUDA)")
    p.add_argument("--stop_threshold", type=float, default=DEFAULT_STOP_THRESHOLD,
                   help="critic value below which a plan means no safe path, until a client's reset sets its own")
    p.add_argument("--seed", type=int, default=None, help="seed of the sampler's noise (None: random)")
    p.add_argument("--robot_height_m", type=float, default=None,
                   help="geometric backend: depth points above this pass over the robot (None: 1.5 m)")
    add_server_arguments(p)
    return p


def make_app(args):
    from s1_server.server import create_app

    settings = settings_from_args(args)

    if args.backend == "geometric":
        from s1_server.geometric import GeometricParams, GeometricPlanner

        height = GeometricParams().max_obstacle_height_m if args.robot_height_m is None else args.robot_height_m
        if not (math.isfinite(height) and height > GeometricParams().min_obstacle_height_m):
            raise SystemExit(f"--robot_height_m must be finite and above the floor band, got {height}")

        def factory(threshold: float):
            return GeometricPlanner(GeometricParams(stop_threshold=threshold, max_obstacle_height_m=height))

        return create_app(factory, "geometric", supports_pixel_goal=True, supports_image_goal=False,
                          settings=settings, default_stop_threshold=args.stop_threshold)
    if not args.checkpoint:
        raise SystemExit("--backend navdp needs --checkpoint PATH")
    from s1_server.navdp_planner import make_navdp_planner

    first = make_navdp_planner(args.checkpoint, device=args.device, half=args.half, runtime=args.runtime,
                               seed=args.seed, stop_threshold=args.stop_threshold)
    planners = [first]

    def navdp_factory(threshold: float):
        # Robots share the loaded weights; each gets its own frame memory.
        planner = planners.pop() if planners else first.sibling()
        planner.stop_threshold = threshold
        return planner

    return create_app(navdp_factory, "navdp", supports_pixel_goal=first.supports_pixel_goal,
                      supports_image_goal=first.supports_image_goal, settings=settings,
                      default_stop_threshold=args.stop_threshold)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    try:
        is_loopback = args.host == "localhost" or ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        is_loopback = False
    try:
        app = make_app(args)
    except (ImportError, OSError, RuntimeError, ValueError) as err:
        print(f"[S1] cannot start the {args.backend} backend: {err}", file=sys.stderr)
        return 1
    if not is_loopback and not app.state.settings.token:
        log.warning("[S1] WARNING: listening on %s without a token (--token_file or LINGNAV_S1_TOKEN): "
                    "anyone on the network can use S1", args.host)
    from lingnav_http.serve import serve

    print(f"[S1] {args.backend} ready. Listening on http://{args.host}:{args.port}", flush=True)
    serve(app, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
