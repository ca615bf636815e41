"""What the navigator is built from: declared parameters, the mission with its tracker, the S2
client and the S1 planner for the configured mode. Kept apart, and free of node attributes, so
the node only wires ROS to these objects and the parameter-reach test builds the same ones."""
from __future__ import annotations

from rcl_interfaces.msg import ParameterDescriptor

from lingnav_core.camera import CameraMount
from lingnav_core.endpoints import S1_TOKEN_ENV, S2_TOKEN_ENV
from lingnav_http.auth import load_token
from lingnav_ros import navigator_params as np_params
from lingnav_ros.control.mpc import MpcTracker
from lingnav_ros.mission.mission import Mission
from lingnav_ros.mission.moves import ControlPrimitives
from lingnav_ros.nodes.navigator.obstacle_memory import MapMemory
from lingnav_ros.nodes.navigator.settings import NavigatorSettings, PlannerSettings, S2ClientSettings


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


def make_mission(s: NavigatorSettings, memory: MapMemory) -> Mission:
    """The mission with its MPC tracker and turn/move primitives; with the map on, its dead-end
    memory lives in the same grid as the obstacle memory."""
    prim = s.primitives
    primitives = ControlPrimitives(s.limits, prim.turn_tolerance_rad, prim.move_tolerance_m,
                                   reverse_mps=prim.reverse_mps)
    return Mission(s.mission, MpcTracker(s.mpc, s.limits), primitives,
                   local_map=memory.map if memory.enabled else None, local_map_lock=memory.lock,
                   exploration_map=memory.exploration if memory.enabled else None)


def server_token(token_file: str, env_var: str, token: str = "") -> str:
    """The bearer token as the servers read theirs: a file (kept off the command line and out of
    `ros2 param get`), else the parameter, else the environment; StartError when the file is bad."""
    try:
        return load_token(token_file) if token_file else (token or load_token("", env_var))
    except ValueError as exc:
        raise StartError(str(exc)) from exc


def make_s2_client(s: S2ClientSettings, for_health: bool = False):
    from s2_server.http_client import S2Client

    timeout = (min(s.connect_timeout_s, 0.5), 1.0) if for_health else (s.connect_timeout_s, s.read_timeout_s)
    return S2Client(s.host, s.port, timeout_s=timeout, retries=0 if for_health else s.retries,
                    token=server_token(s.token_file, S2_TOKEN_ENV, s.token), keep_alive=not for_health)


def make_s1_health_client(s: PlannerSettings):
    """Mode A only: the remote planner's liveness is probed like S2's (a local one cannot vanish)."""
    if not s.remote:
        return None
    from s1_server.http_client import S1Client

    return S1Client(s.host, s.port, timeout_s=min(s.timeout_s, 0.5), keep_alive=False,
                    token=server_token(s.token_file, S1_TOKEN_ENV))


def navdp_settings(s: PlannerSettings):
    """What mode B hands to the in-process NavDP loader."""
    from s1_server import inprocess

    return inprocess.NavDPSettings(checkpoint=s.checkpoint, device=s.device, half=s.half, runtime=s.runtime,
                                   stop_threshold=s.stop_threshold)


def make_planner(s: PlannerSettings, mount: CameraMount):
    """The S1 planner for `s.mode`, or StartError with the reason it cannot start."""
    try:
        return _make_planner(s, mount)
    except StartError:
        raise
    except Exception as exc:
        raise StartError(f"S1 planner (s1_mode {s.mode}) could not start: {exc}") from exc


def _make_planner(s: PlannerSettings, mount: CameraMount):
    if s.remote:
        from s1_server.http_client import S1Client

        return S1Client(s.host, s.port, s.timeout_s, intrinsics=None, mount=mount, stop_threshold=s.stop_threshold,
                        token=server_token(s.token_file, S1_TOKEN_ENV))
    from s1_server import inprocess

    if s.mode == "B":
        try:
            return inprocess.navdp_planner(navdp_settings(s))
        except inprocess.StartFailure as exc:
            raise StartError(str(exc)) from exc
    return inprocess.geometric_planner(s.robot_radius_m, s.stop_threshold, s.robot_height_m)


def make_recorded_clients(bag: str):
    """(S2 client, S1 planner) answering from a recorded bag (lingnav-replay --offline)."""
    from lingnav_ros.nodes.navigator.recorded_answers import RecordedPlanner, RecordedS2Client, Recording

    try:
        recording = Recording.load(bag)
    except Exception as exc:
        raise StartError(f"recorded answers from {bag!r} cannot be read: {exc}") from exc
    return RecordedS2Client(recording), RecordedPlanner(recording)
