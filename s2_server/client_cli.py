"""lingnav-s2-client: ask a running S2 server about one image and print the decision."""
from __future__ import annotations

import json
import sys

import cv2
import numpy as np

from lingnav_core import cli
from lingnav_core.endpoints import S2_DEFAULT_HOST, S2_DEFAULT_PORT, S2_TOKEN_ENV
from lingnav_core.s2_decision import S2Error
from lingnav_http.auth import load_token
from s2_server.http_client import S2Client


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("lingnav-s2-client", __doc__)
    p.add_argument("--host", default=S2_DEFAULT_HOST, help="S2 server host")
    p.add_argument("--port", type=int, default=S2_DEFAULT_PORT, help="S2 server port")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--random", action="store_true", help="send a random 640x480 image")
    src.add_argument("--image", help="path of a JPEG/PNG image")
    p.add_argument("--instruction", default="go to the red chair", help="what the robot is told")
    p.add_argument("--token_file", default="", help=f"bearer token file (else ${S2_TOKEN_ENV})")
    p.add_argument("--timeout_s", type=float, default=30.0, help="read timeout for the answer")
    args = p.parse_args(argv)
    if args.random:
        rgb = np.random.default_rng().integers(0, 256, (480, 640, 3), dtype=np.uint8)
    else:
        bgr = cv2.imread(args.image, cv2.IMREAD_COLOR)
        if bgr is None:
            print(f"cannot read image {args.image}", file=sys.stderr)
            return 2
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    try:
        token = load_token(args.token_file, S2_TOKEN_ENV)
    except ValueError as err:
        print(str(err), file=sys.stderr)
        return 2
    client = S2Client(args.host, args.port, timeout_s=args.timeout_s, token=token or None)
    try:
        decision = client.step(rgb, args.instruction)
    except S2Error as err:
        print(f"S2 error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(decision.to_json(), ensure_ascii=False, indent=2))
    print(f"decision={decision.kind} target={decision.target} point_2d_pixel={decision.point_2d_pixel} "
          f"navigation={decision.navigation or '-'} latency={decision.latency_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
