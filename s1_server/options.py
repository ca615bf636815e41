"""The S1 HTTP server's settings and their command-line flags (one place for both)."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from lingnav_core.camera import CameraMount
from lingnav_core.endpoints import S1_TOKEN_ENV
from s1_server.codec import CLIENT_COLORS, DEFAULT_CLIENT_COLOR
from s1_server.inputs import MAX_BATCH, camera_mount


@dataclass(frozen=True)
class S1Settings:
    client_color: str = DEFAULT_CLIENT_COLOR  # see s1_server.codec: "rgb" as the official server
    queue_size: int = 4  # requests that may wait while one plans; more get 503 + Retry-After
    retry_after_s: int = 1
    max_upload_mb: float = 32.0  # whole multipart body, counted while it streams
    max_image_pixels: int = 8_388_608  # per upload (B frames stacked), from its header: 8 x 1280x720 fits
    max_json_bytes: int = 65_536  # reset bodies and goal_data
    max_json_depth: int = 8  # the API's JSON is at most 3 deep (4x4 intrinsic)
    max_batch: int = MAX_BATCH
    token: str = ""  # bearer token; "" = no auth (loopback or a trusted network only)
    # The mount used when a /navigator_reset sends none (existing robot clients never do)
    default_mount: CameraMount = field(default_factory=CameraMount)

    def __post_init__(self):
        if self.client_color not in CLIENT_COLORS:
            raise ValueError(f"client_color must be one of {CLIENT_COLORS}, not {self.client_color!r}")
        if self.queue_size < 0 or self.retry_after_s < 0 or self.max_batch < 1:
            raise ValueError("queue_size and retry_after_s must be >= 0, max_batch >= 1")
        if not self.max_upload_mb > 0 or self.max_image_pixels < 1 or self.max_json_bytes < 2:
            raise ValueError("upload, pixel and JSON limits must be positive")
        m = self.default_mount
        camera_mount({"camera_height_m": m.height_m, "camera_pitch_rad": m.pitch_rad, "camera_x_m": m.x_m},
                     CameraMount(), where="--")  # finite and in range, or InputError (a ValueError)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    d = S1Settings()
    parser.add_argument("--client_color", choices=CLIENT_COLORS, default=d.client_color,
                        help="colour order of the arrays clients pass to cv2.imencode. rgb (default, as the "
                             "official server; NavDP's own clients and LingNav's S1Client): the planner gets the "
                             "decoded array unchanged. bgr: the LingNav Jetson client's BGR camera arrays, and "
                             "any true-colour JPEG/PNG (PIL, cameras, browsers); swapped to RGB after decoding")
    parser.add_argument("--queue_size", type=int, default=d.queue_size,
                        help="requests that may wait while one plans; beyond that 503 with Retry-After")
    parser.add_argument("--max_upload_mb", type=float, default=d.max_upload_mb,
                        help="largest request body, enforced while it streams (chunked too); 413 beyond")
    parser.add_argument("--max_image_pixels", type=int, default=d.max_image_pixels,
                        help="largest uploaded image (all B frames), read from its header before decoding; 413")
    parser.add_argument("--token_file", default="",
                        help=f"require 'Authorization: Bearer TOKEN' with the token read from this file "
                             f"(else from the environment variable {S1_TOKEN_ENV}; unset = no auth)")
    m = d.default_mount
    parser.add_argument("--camera_height_m", type=float, default=m.height_m,
                        help="camera height above the floor (m) used when a /navigator_reset sends no "
                             "camera_height_m (existing robot clients never do)")
    parser.add_argument("--camera_pitch_rad", type=float, default=m.pitch_rad,
                        help="camera pitch down from horizontal (rad), used when a reset sends none")
    parser.add_argument("--camera_x_m", type=float, default=m.x_m,
                        help="camera offset forward of the base origin (m), used when a reset sends none")
    parser.add_argument("--token", default=None, help=argparse.SUPPRESS)  # refused: it would show in `ps`


def settings_from_args(args: argparse.Namespace) -> S1Settings:
    from lingnav_http import load_token

    if getattr(args, "token", None) is not None:
        raise ValueError(f"--token is not accepted (it shows in `ps`): put the token in a file for --token_file, "
                         f"or in the environment variable {S1_TOKEN_ENV}")
    return S1Settings(client_color=args.client_color, queue_size=args.queue_size,
                      max_upload_mb=args.max_upload_mb, max_image_pixels=args.max_image_pixels,
                      token=load_token(args.token_file, S1_TOKEN_ENV),
                      default_mount=CameraMount(height_m=args.camera_height_m, pitch_rad=args.camera_pitch_rad,
                                                x_m=args.camera_x_m))
