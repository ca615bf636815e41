"""The bridge for planning inside the robot's own process: NavDP on the Jetson (mode B) or the
weight-free geometric planner. The navigator imports this module and the HTTP clients, nothing
else of the servers, so a robot never loads FastAPI or a server CLI.

`InProcessPlanner` errors are `StartFailure`: the reason a planner cannot start here (no
checkpoint, no CUDA, fp16 on CPU), worded for the operator who set the parameters.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lingnav_core.s1_plan import Planner


class StartFailure(RuntimeError):
    """The in-process planner cannot run with these settings on this machine; the text says why."""


@dataclass(frozen=True)
class NavDPSettings:
    """What mode B needs to load NavDP: the values of the navigator's s1_* parameters."""

    checkpoint: str
    device: str
    half: bool
    runtime: str
    stop_threshold: float


def check_navdp_settings(s: NavDPSettings) -> None:
    """Checkpoint, runtime and device checked before anything is loaded."""
    if not s.checkpoint:
        raise StartFailure("s1_mode B needs s1_checkpoint (the NavDP .ckpt file)")
    path = Path(s.checkpoint).expanduser()
    onnx = s.runtime == "onnxruntime"
    if not (path.is_file() or (onnx and path.is_dir())):
        kind = "file or lingnav-s1-export directory" if onnx else "file"
        raise StartFailure(f"s1_checkpoint {str(path)!r} does not exist or is not a {kind}")
    if onnx:
        if s.half:
            raise StartFailure("s1_runtime onnxruntime runs fp32 only: set s1_half:=false")
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise StartFailure("s1_runtime onnxruntime needs the onnxruntime package "
                               "(pip install onnxruntime)") from exc
    import torch

    try:
        device = torch.device(s.device)
    except RuntimeError as exc:
        raise StartFailure(f"s1_device {s.device!r} is not a torch device: {exc}") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise StartFailure(f"s1_device {s.device!r}: CUDA is not available on this machine "
                               "(set s1_device:=cpu)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise StartFailure(f"s1_device {s.device!r}: only {torch.cuda.device_count()} CUDA device(s)")
    elif device.type != "cpu":
        raise StartFailure(f"s1_device {s.device!r}: only cpu and cuda devices are supported")
    if s.half and device.type != "cuda":
        raise StartFailure("s1_half needs a CUDA s1_device (fp16 on CPU is not supported)")


def navdp_planner(s: NavDPSettings) -> Planner:
    """NavDP loaded in this process (mode B), after `check_navdp_settings`."""
    check_navdp_settings(s)
    from s1_server.navdp_planner import make_navdp_planner

    return make_navdp_planner(s.checkpoint, device=s.device, half=s.half, runtime=s.runtime,
                              stop_threshold=s.stop_threshold)


def geometric_planner(robot_radius_m: float, stop_threshold: float, robot_height_m: float = 1.5) -> Planner:
    """The weight-free depth-arc planner, on the same `Planner` contract as NavDP; depth points
    above `robot_height_m` pass over the robot."""
    from s1_server.geometric import GeometricParams, GeometricPlanner

    return GeometricPlanner(GeometricParams(robot_radius_m=robot_radius_m, stop_threshold=stop_threshold,
                                            max_obstacle_height_m=robot_height_m))
