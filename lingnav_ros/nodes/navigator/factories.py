"""What the navigator is built from: declared parameters, the MPC settings, the S2 client and the
S1 planner for the configured mode. Kept apart so the node only wires ROS to these objects."""
from __future__ import annotations

from pathlib import Path

from rcl_interfaces.msg import ParameterDescriptor

from lingnav_ros import navigator_params as np_params
from lingnav_ros.control.mpc import MpcParams
from s1_server.camera import CameraMount


class StartError(RuntimeError):
    """The navigator cannot run with these parameters on this machine; the text says why."""


def declare_parameters(node) -> np_params.NavigatorParams:
    """Declare every navigator parameter on `node` (YAML and overrides apply) and read them back."""
    values = {}
    for spec in np_params.param_specs():
        desc = spec.description + (f" ({' | '.join(spec.choices)})" if spec.choices else "")
        node.declare_parameter(spec.name, spec.default, ParameterDescriptor(description=desc, dynamic_typing=True))
        values[spec.name] = node.get_parameter(spec.name).value
    return np_params.from_dict(values)


def mpc_params(p: np_params.NavigatorParams) -> MpcParams:
    fields = getattr(MpcParams, "__dataclass_fields__", {})
    wanted = {"horizon": p.mpc_horizon_steps, "n": p.mpc_horizon_steps,
              "horizon_steps": p.mpc_horizon_steps, "dt_s": p.mpc_dt_s, "dt": p.mpc_dt_s,
              "goal_tolerance_m": p.goal_tolerance_m,
              "control_period_s": 1.0 / p.control_rate_hz}
    return MpcParams(**{k: v for k, v in wanted.items() if k in fields})


def make_s2_client(p: np_params.NavigatorParams, for_health: bool = False):
    from s2_server.client import S2Client

    timeout = (min(p.s2_connect_timeout_s, 0.5), 1.0) if for_health else (p.s2_connect_timeout_s, p.s2_timeout_s)
    return S2Client(p.s2_host, p.s2_port, timeout_s=timeout, retries=0 if for_health else p.s2_retries,
                    token=p.s2_token or None, keep_alive=not for_health)


def make_s1_health_client(p: np_params.NavigatorParams):
    """Mode A only: the remote planner's liveness is probed like S2's (a local one cannot vanish)."""
    if p.s1_mode != "A":
        return None
    from s1_server.client import S1Client

    return S1Client(p.s1_host, p.s1_port, timeout_s=min(p.s1_timeout_s, 0.5), keep_alive=False)


def make_planner(p: np_params.NavigatorParams, mount: CameraMount):
    """The S1 planner for `p.s1_mode`, or StartError with the reason it cannot start."""
    try:
        return _make_planner(p, mount)
    except StartError:
        raise
    except Exception as exc:
        raise StartError(f"S1 planner (s1_mode {p.s1_mode}) could not start: {exc}") from exc


def check_local_navdp(p: np_params.NavigatorParams) -> None:
    """Mode B's checkpoint and device, checked before loading anything."""
    if not p.s1_checkpoint:
        raise StartError("s1_mode B needs s1_checkpoint (the NavDP .ckpt file)")
    path = Path(p.s1_checkpoint).expanduser()
    onnx = p.s1_runtime == "onnxruntime"
    if not (path.is_file() or (onnx and path.is_dir())):
        kind = "file or lingnav-s1-export directory" if onnx else "file"
        raise StartError(f"s1_checkpoint {str(path)!r} does not exist or is not a {kind}")
    if onnx:
        if p.s1_half:
            raise StartError("s1_runtime onnxruntime runs fp32 only: set s1_half:=false")
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise StartError("s1_runtime onnxruntime needs the onnxruntime package (pip install onnxruntime)") from exc
    import torch

    try:
        device = torch.device(p.s1_device)
    except RuntimeError as exc:
        raise StartError(f"s1_device {p.s1_device!r} is not a torch device: {exc}") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise StartError(f"s1_device {p.s1_device!r}: CUDA is not available on this machine "
                             "(set s1_device:=cpu)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise StartError(f"s1_device {p.s1_device!r}: only {torch.cuda.device_count()} CUDA device(s)")
    elif device.type != "cpu":
        raise StartError(f"s1_device {p.s1_device!r}: only cpu and cuda devices are supported")
    if p.s1_half and device.type != "cuda":
        raise StartError("s1_half needs a CUDA s1_device (fp16 on CPU is not supported)")


def _make_planner(p: np_params.NavigatorParams, mount: CameraMount):
    if p.s1_mode == "A":
        from s1_server.client import S1Client

        return S1Client(p.s1_host, p.s1_port, p.s1_timeout_s, intrinsics=None,
                        mount=mount, stop_threshold=p.s1_stop_threshold)
    if p.s1_mode == "B":
        check_local_navdp(p)
        from s1_server.navdp_planner import make_navdp_planner

        return make_navdp_planner(p.s1_checkpoint, device=p.s1_device, half=p.s1_half, runtime=p.s1_runtime,
                                  stop_threshold=p.s1_stop_threshold)
    from s1_server.geometric import GeometricParams, GeometricPlanner

    return GeometricPlanner(GeometricParams(robot_radius_m=p.robot_radius_m, stop_threshold=p.s1_stop_threshold))
