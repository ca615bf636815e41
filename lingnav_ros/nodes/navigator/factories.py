"""What the navigator is built from: declared parameters, the MPC settings, the S2 client and the
S1 planner for the configured mode. Kept apart so the node only wires ROS to these objects."""
from __future__ import annotations

from rcl_interfaces.msg import ParameterDescriptor

from lingnav_core.camera import CameraMount
from lingnav_ros import navigator_params as np_params
from lingnav_ros.control.mpc import MpcParams


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
    from s2_server.http_client import S2Client

    timeout = (min(p.s2_connect_timeout_s, 0.5), 1.0) if for_health else (p.s2_connect_timeout_s, p.s2_timeout_s)
    return S2Client(p.s2_host, p.s2_port, timeout_s=timeout, retries=0 if for_health else p.s2_retries,
                    token=p.s2_token or None, keep_alive=not for_health)


def make_s1_health_client(p: np_params.NavigatorParams):
    """Mode A only: the remote planner's liveness is probed like S2's (a local one cannot vanish)."""
    if p.s1_mode != "A":
        return None
    from s1_server.http_client import S1Client

    return S1Client(p.s1_host, p.s1_port, timeout_s=min(p.s1_timeout_s, 0.5), keep_alive=False)


def make_planner(p: np_params.NavigatorParams, mount: CameraMount):
    """The S1 planner for `p.s1_mode`, or StartError with the reason it cannot start."""
    try:
        return _make_planner(p, mount)
    except StartError:
        raise
    except Exception as exc:
        raise StartError(f"S1 planner (s1_mode {p.s1_mode}) could not start: {exc}") from exc


def _make_planner(p: np_params.NavigatorParams, mount: CameraMount):
    if p.s1_mode == "A":
        from s1_server.http_client import S1Client

        return S1Client(p.s1_host, p.s1_port, p.s1_timeout_s, intrinsics=None,
                        mount=mount, stop_threshold=p.s1_stop_threshold)
    from s1_server import inprocess

    if p.s1_mode == "B":
        settings = inprocess.NavDPSettings(checkpoint=p.s1_checkpoint, device=p.s1_device, half=p.s1_half,
                                           runtime=p.s1_runtime, stop_threshold=p.s1_stop_threshold)
        try:
            return inprocess.navdp_planner(settings)
        except inprocess.StartFailure as exc:
            raise StartError(str(exc)) from exc
    return inprocess.geometric_planner(p.robot_radius_m, p.s1_stop_threshold)
