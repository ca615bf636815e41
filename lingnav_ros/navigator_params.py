"""Every parameter of the `lingnav_navigator` node, described once.

The node declares its parameters from this table; `config/mode_a.yaml`, `config/mode_b.yaml`
(each key under a comment with its unit and meaning) and `docs/parameters.md` are written from it
(`lingnav_ros.param_docs` formats them), and a test checks that all of them agree. Names follow
Nav2 habits: snake case with the unit as a suffix.

Regenerate the YAML files and the page with `python -m lingnav_ros.navigator_params --write-config`.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lingnav_core import endpoints
from lingnav_core.s1_plan import S1_RUNTIMES
from lingnav_ros import topics

NODE_NAME = "lingnav_navigator"
# Parameter-file key that matches the node in any namespace (rcl wildcard syntax).
PARAMS_FILE_KEY = f"/**/{NODE_NAME}"

S1_MODES = ("A", "B", "geometric")
QOS_RELIABILITIES = ("best_effort", "reliable")
RGB_TRANSPORTS = ("raw", "compressed")
DEPTH_ENCODINGS = ("auto", "16UC1", "32FC1")


def _p(default: Any, description: str, choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={"description": description, "choices": choices})


@dataclass(frozen=True)
class NavigatorParams:
    """Typed parameters; each attribute's type is the ROS parameter type."""

    # --- S1 / S2 services -------------------------------------------------------------------
    s1_mode: str = _p("A", "S1 placement: A = remote HTTP (s1_host:s1_port), B = local NavDP "
                      "(s1_checkpoint), geometric = in-process depth planner without weights", S1_MODES)
    s2_host: str = _p(endpoints.S2_DEFAULT_HOST, "S2 (VLM grounding) server host")
    s2_port: int = _p(endpoints.S2_DEFAULT_PORT, "S2 server port")
    s2_token: str = _p("", "Bearer token for the S2 server; prefer s2_token_file or $LINGNAV_S2_TOKEN "
                       "(a parameter shows in `ros2 param get`); empty: from those, else none")
    s2_token_file: str = _p("", "File whose first line is the S2 bearer token; empty: s2_token, else "
                            "$LINGNAV_S2_TOKEN, else none")
    recorded_answers_bag: str = _p("", "Offline replay: answer S2 and S1 from this rosbag2's recorded "
                                   "S2 results and S1 answers instead of calling servers; empty = servers")
    s2_connect_timeout_s: float = _p(1.0, "S2 HTTP connect timeout")
    s2_timeout_s: float = _p(15.0, "S2 HTTP read timeout (a VLM answer can take seconds)")
    s2_retries: int = _p(1, "S2 retries before the server counts as unreachable")
    s1_host: str = _p(endpoints.S1_DEFAULT_HOST, "S1 server host (mode A)")
    s1_port: int = _p(endpoints.S1_DEFAULT_PORT, "S1 server port (mode A)")
    s1_timeout_s: float = _p(3.0, "S1 HTTP timeout (mode A)")
    s1_token_file: str = _p("", "File whose first line is the S1 bearer token (mode A); empty: "
                            "$LINGNAV_S1_TOKEN, else none")
    s1_checkpoint: str = _p("", "NavDP checkpoint path (mode B)")
    s1_device: str = _p("cpu", "Torch device for local NavDP (mode B), e.g. cuda:0")
    s1_half: bool = _p(False, "Run local NavDP in fp16 (mode B, CUDA only)")
    s1_runtime: str = _p("torch", "Local NavDP runtime (mode B): torch (s1_checkpoint = .ckpt) or onnxruntime "
                         "(s1_checkpoint = a lingnav-s1-export directory, or a .ckpt exported on the fly)",
                         S1_RUNTIMES)
    s1_stop_threshold: float = _p(-3.0, "Critic value below which S1 reports no safe path")
    server_outage_timeout_s: float = _p(15.0, "S2/S1 server away (refused, timed out, 5xx): stop, "
                                        "report 'waiting for S2/S1', retry with backoff, resume when "
                                        "it answers; fail the mission only after this long")

    # --- mission ------------------------------------------------------------------------------
    initial_instruction: str = _p("", "Instruction started once sensors are up; empty = wait for one")
    s2_requery_period_s: float = _p(2.0, "Re-ask S2 this often while approaching")
    planning_period_s: float = _p(0.3, "Ask S1 for a new plan this often")
    max_plan_age_s: float = _p(1.5, "Stop when the tracked plan is older than this")
    arrive_distance_m: float = _p(0.5, "Stop this far (horizontal, robot centre) from the target's "
                                  "surface: the fused depth point S2's pixel lies on")
    arrive_heading_tolerance_rad: float = _p(0.26, "Arrived facing the target within this (a final "
                                             "in-place turn when needed)")
    goal_tolerance_m: float = _p(0.25, "Tracker position tolerance at the end of a plan")
    mission_timeout_s: float = _p(180.0, "Fail a mission that has not arrived after this long")
    search_timeout_s: float = _p(60.0, "Fail a search that has not found the target after this long")
    search_turn_steps: int = _p(3, "15-degree steps per search turn when S2 gives no arrow")
    explore_max_area_m2: float = _p(150.0, "After a full scan finds nothing, explore until this much "
                                    "floor has been seen, then fail with 'not found'")
    explore_max_distance_m: float = _p(60.0, "... or until the robot has driven this far exploring")
    explore_timeout_s: float = _p(150.0, "... or until this long; 0 = no exploration (fail after a full scan)")
    no_safe_path_timeout_s: float = _p(8.0, "Fail after S1 has reported no safe path for this long")
    turn_tolerance_rad: float = _p(0.05, "Tolerance of closed-loop turns (move tasks, search)")
    move_tolerance_m: float = _p(0.05, "Tolerance of closed-loop forward/back moves")
    primitive_timeout_s: float = _p(20.0, "Abort one turn/move step after this long")
    # mission recovery
    progress_timeout_s: float = _p(15.0, "Recover when the distance to the target (or detour waypoint) "
                                   "has not dropped by min_progress_m for this long")
    min_progress_m: float = _p(0.3, "Distance gain that counts as progress")
    max_recoveries: int = _p(3, "Recoveries (the known way round, or back out along the trail and step "
                                "aside) before failing")
    backout_m: float = _p(1.2, "How far back along the driven trail a recovery returns")
    side_step_m: float = _p(1.5, "Sideways step of a recovery detour, from the back-out point")
    recovery_reverse_m: float = _p(0.3, "Reverse this far over driven ground to leave a wall; 0 = never")
    recovery_reverse_mps: float = _p(0.1, "Speed of that reverse")
    moving_obstacle_wait_s: float = _p(20.0, "An obstacle that moved into space seen free (a person) and "
                                       "blocks the way ahead holds the progress and no-safe-path timers "
                                       "this long (twice this in all per mission): wait, do not recover")
    target_hold_queries: int = _p(12, "S2 misses tolerated while the 3D target is out of view or occluded")

    # --- control ------------------------------------------------------------------------------
    control_rate_hz: float = _p(20.0, "Tracker and safety loop rate")
    v_max_mps: float = _p(0.25, "Maximum forward speed")
    v_min_mps: float = _p(0.0, "Minimum speed (negative allows reversing in tracking)")
    w_max_radps: float = _p(0.5, "Maximum yaw rate")
    a_max_mps2: float = _p(0.5, "Maximum linear acceleration/deceleration")
    alpha_max_radps2: float = _p(1.5, "Maximum angular acceleration")
    mpc_horizon_steps: int = _p(20, "MPC horizon N")
    mpc_dt_s: float = _p(0.1, "MPC step")
    cmd_vel_stamped: bool = _p(False, "Publish geometry_msgs/TwistStamped instead of Twist")

    # --- safety -------------------------------------------------------------------------------
    odom_timeout_s: float = _p(0.5, "Zero velocity when odometry is older than this")
    depth_timeout_s: float = _p(0.5, "Zero velocity when depth is older than this")
    robot_radius_m: float = _p(0.2, "Footprint radius for the collision monitor")
    collision_stop_distance_m: float = _p(0.15, "Stop when the predicted path collides within this "
                                          "path length")
    collision_slowdown_distance_m: float = _p(0.6, "Slow down when the predicted path collides "
                                              "within this path length")
    collision_slowdown_ratio: float = _p(0.4, "Speed scale inside the slowdown zone")
    collision_min_height_m: float = _p(0.05, "Depth points lower than this are floor")
    robot_height_m: float = _p(0.5, "Height of the robot's tallest part: depth points above it pass over "
                               "the robot (a table top higher than this is driven under; lower, or its "
                               "legs, is an obstacle)")
    collision_depth_stride: int = _p(4, "Depth pixel stride for obstacle back-projection")
    collision_predict_time_s: float = _p(1.5, "Horizon of the predicted path that is checked")
    target_clearance_m: float = _p(0.4, "Depth points this close to the target belong to it and "
                                   "never block the final approach")
    collision_brake_decel_mps2: float = _p(0.8, "Deceleration the base surely manages: speed is capped "
                                           "so the robot stops within the free space the local map knows")
    collision_reaction_s: float = _p(0.25, "Control period + command latency + frame age, for that cap")

    # --- local map (obstacle memory) ----------------------------------------------------------
    local_map_enabled: bool = _p(True, "Remember obstacles and free space in a rolling odom-frame grid "
                                 "for the collision monitor and the S1 veto")
    local_map_size_m: float = _p(6.0, "Side of the rolling grid, centred on the robot")
    local_map_resolution_m: float = _p(0.05, "Cell size of the rolling grid")
    local_map_obstacle_timeout_s: float = _p(30.0, "Forget an obstacle cell not seen again for this long")
    local_map_moving_obstacle_timeout_s: float = _p(4.0, "Forget an obstacle that moved into space seen free "
                                                    "(a person) once unseen for this long")
    local_map_free_timeout_s: float = _p(15.0, "Free space not seen again for this long becomes unknown")
    local_map_clear_max_height_m: float = _p(0.3, "A depth ray clears the cells it passes below this "
                                             "height (keep it below the camera height)")
    s1_map_veto: bool = _p(True, "Cut or replace S1 candidates that run into remembered obstacles")
    local_map_publish_rate_hz: float = _p(2.0, "Local map publish rate")

    # --- camera -------------------------------------------------------------------------------
    rgb_transport: str = _p("raw", "RGB as sensor_msgs/Image (raw) or CompressedImage", RGB_TRANSPORTS)
    depth_encoding: str = _p("auto", "auto = the message encoding decides (16UC1 mm, 32FC1 m); "
                             "a fixed value rejects other encodings", DEPTH_ENCODINGS)
    camera_qos_reliability: str = _p("best_effort", "QoS reliability of the camera subscriptions",
                                     QOS_RELIABILITIES)
    camera_qos_depth: int = _p(5, "QoS history depth of the camera subscriptions")
    sync_queue_size: int = _p(10, "RGB-D approximate-time synchroniser queue size")
    sync_slop_s: float = _p(0.05, "RGB-D approximate-time synchroniser slop")
    use_camera_info: bool = _p(True, "Take intrinsics from CameraInfo when it arrives")
    fx: float = _p(570.3, "Fallback focal length x (pixels at image_width)")
    fy: float = _p(570.3, "Fallback focal length y")
    cx: float = _p(319.5, "Fallback principal point x")
    cy: float = _p(239.5, "Fallback principal point y")
    image_width: int = _p(640, "Image width the fallback intrinsics refer to")
    image_height: int = _p(480, "Image height the fallback intrinsics refer to")
    use_tf: bool = _p(True, "Take the camera mount from TF (base_frame <- camera_frame) when "
                      "tf2_ros is available")
    camera_height_m: float = _p(0.3, "Fallback camera height above the floor")
    camera_pitch_rad: float = _p(0.0, "Fallback camera pitch (positive looks down)")
    camera_x_m: float = _p(0.0, "Fallback camera position ahead of the base origin")
    camera_y_m: float = _p(0.0, "Fallback camera position left of the base origin")
    odom_buffer_s: float = _p(5.0, "Odometry history kept for interpolation at image stamps")
    mount_check_on_start: bool = _p(True, "Fit the floor in the first depth frames and warn when the camera "
                                    "height or pitch disagrees with the mount in use (also on the "
                                    "lingnav/check_mount service)")
    mount_check_height_tolerance_m: float = _p(0.03, "Camera height difference the mount self-check tolerates")
    mount_check_pitch_tolerance_rad: float = _p(0.035, "Camera pitch difference the mount self-check tolerates")

    # --- frames -------------------------------------------------------------------------------
    odom_frame: str = _p(topics.ODOM_FRAME, "Odometry frame (plans are shown in it)")
    base_frame: str = _p(topics.BASE_FRAME, "Robot base frame")
    camera_frame: str = _p(topics.CAMERA_OPTICAL_FRAME, "Camera optical frame for the TF lookup")

    # --- fleet ---------------------------------------------------------------------------------
    fleet_frame: str = _p("", "Frame every robot of the fleet expresses its odometry in (the simulator's "
                          "fleet worlds: odom; a fleet localised in one map: map); set, the navigator "
                          f"shares its pose on {topics.FLEET} and keeps clear of the robots it hears "
                          "there; empty = no fleet")
    fleet_peer_radius_m: float = _p(0.2, "Footprint radius of the other robots of the fleet")
    fleet_peer_timeout_s: float = _p(0.5, "A fleet peer's footprint blocks this long after its last pose")
    fleet_publish_rate_hz: float = _p(10.0, "Rate of this robot's pose on the fleet topic")

    # --- topics -------------------------------------------------------------------------------
    # Only the names a camera profile (config/cameras/*.yaml) or the action companion needs are
    # parameters; every other topic is renamed with a remap (see lingnav_ros.topics).
    rgb_topic: str = _p(topics.RGB, "RGB image (raw transport)")
    rgb_compressed_topic: str = _p(topics.RGB_COMPRESSED, "RGB image (compressed transport)")
    depth_topic: str = _p(topics.DEPTH, "Depth image (16UC1 mm or 32FC1 m)")
    camera_info_topic: str = _p(topics.CAMERA_INFO, "CameraInfo of the RGB image")
    navigate_action: str = _p(topics.NAVIGATE_ACTION, "lingnav_msgs/action/Navigate server name (the "
                              "action's companion node ignores remaps, so this is how it is renamed)")
    status_rate_hz: float = _p(2.0, "NavStatus publish rate")
    diagnostics_period_s: float = _p(1.0, "Diagnostics publish period")


# Values that differ from the defaults in each shipped mode file.
MODE_OVERRIDES: dict[str, dict[str, Any]] = {
    "A": {"s1_mode": "A"},
    # s1_checkpoint stays empty: the bring-up must name the file (the node reports it missing).
    "B": {"s1_mode": "B", "s1_device": "cuda:0", "s1_half": True},
}


@dataclass(frozen=True)
class ParamSpec:
    name: str
    default: Any
    type_name: str  # 'str' | 'int' | 'float' | 'bool'
    description: str
    choices: tuple[str, ...] | None


class ParamError(ValueError):
    """A parameter value has the wrong type or is out of range."""


_TYPES = {"str": str, "int": int, "float": float, "bool": bool}


def param_specs() -> list[ParamSpec]:
    specs = []
    for f in dataclasses.fields(NavigatorParams):
        type_name = f.type if isinstance(f.type, str) else f.type.__name__
        specs.append(ParamSpec(f.name, f.default, type_name, f.metadata["description"], f.metadata["choices"]))
    return specs


def _coerce(spec: ParamSpec, value: Any) -> Any:
    if spec.type_name == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if spec.type_name == "bool" and not isinstance(value, bool):
        raise ParamError(f"{spec.name}: expected bool, got {value!r}")
    if not isinstance(value, _TYPES[spec.type_name]) or (spec.type_name == "int" and isinstance(value, bool)):
        raise ParamError(f"{spec.name}: expected {spec.type_name}, got {value!r}")
    if spec.choices is not None and value not in spec.choices:
        raise ParamError(f"{spec.name}: {value!r} is not one of {spec.choices}")
    if spec.type_name == "float" and not math.isfinite(value):
        raise ParamError(f"{spec.name}: must be finite")
    return value


def from_dict(values: dict[str, Any]) -> NavigatorParams:
    """Validated parameters from a name -> value mapping (unknown names are an error)."""
    specs = {s.name: s for s in param_specs()}
    unknown = set(values) - set(specs)
    if unknown:
        raise ParamError(f"unknown parameters: {sorted(unknown)}")
    params = NavigatorParams(**{k: _coerce(specs[k], v) for k, v in values.items()})
    validate(params)
    return params


# Range rules, checked after the types (every float is already finite).
POSITIVE = ("control_rate_hz", "fleet_peer_radius_m", "fleet_peer_timeout_s", "fleet_publish_rate_hz",
            "planning_period_s", "max_plan_age_s", "arrive_distance_m",
            "arrive_heading_tolerance_rad",
            "v_max_mps", "w_max_radps", "a_max_mps2", "alpha_max_radps2", "robot_radius_m",
            "s2_timeout_s", "s1_timeout_s", "s2_requery_period_s", "status_rate_hz",
            "sync_slop_s", "odom_timeout_s", "depth_timeout_s", "mpc_dt_s", "mission_timeout_s",
            "search_timeout_s", "explore_max_area_m2", "explore_max_distance_m",
            "fx", "fy", "diagnostics_period_s", "server_outage_timeout_s",
            "collision_brake_decel_mps2", "local_map_size_m", "local_map_resolution_m",
            "local_map_obstacle_timeout_s", "local_map_moving_obstacle_timeout_s", "local_map_free_timeout_s",
            "local_map_clear_max_height_m", "local_map_publish_rate_hz", "mount_check_height_tolerance_m",
            "mount_check_pitch_tolerance_rad", "progress_timeout_s", "min_progress_m", "backout_m", "side_step_m",
            "recovery_reverse_mps")
AT_LEAST_ONE = ("sync_queue_size", "camera_qos_depth", "collision_depth_stride", "image_width",
                "image_height", "mpc_horizon_steps", "search_turn_steps")
NON_NEGATIVE = ("max_recoveries", "target_hold_queries", "collision_reaction_s", "explore_timeout_s",
                "moving_obstacle_wait_s")


def validate(p: NavigatorParams) -> None:
    for name in POSITIVE:
        if not getattr(p, name) > 0:
            raise ParamError(f"{name} must be > 0")
    for name in AT_LEAST_ONE:
        if getattr(p, name) < 1:
            raise ParamError(f"{name} must be >= 1")
    for name in NON_NEGATIVE:
        if getattr(p, name) < 0:
            raise ParamError(f"{name} must be >= 0")
    _validate_relations(p)


def _validate_relations(p: NavigatorParams) -> None:
    """Ranges that depend on another parameter or have both ends."""
    if not 0.0 <= p.recovery_reverse_m <= 1.0:
        raise ParamError("recovery_reverse_m must be in [0, 1] m")
    if p.collision_slowdown_distance_m < p.collision_stop_distance_m:
        raise ParamError("collision_slowdown_distance_m must be >= collision_stop_distance_m")
    if not 0.0 < p.collision_slowdown_ratio <= 1.0:
        raise ParamError("collision_slowdown_ratio must be in (0, 1]")
    if not p.collision_min_height_m < p.robot_height_m:
        raise ParamError("robot_height_m must be above collision_min_height_m")
    if p.v_min_mps > p.v_max_mps:
        raise ParamError("v_min_mps must be <= v_max_mps")
    if p.local_map_size_m / p.local_map_resolution_m > 2000:
        raise ParamError("local_map_size_m / local_map_resolution_m must be <= 2000 cells")


def ros_parameters(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every parameter with its value, as a node's `ros__parameters` mapping."""
    values = {s.name: s.default for s in param_specs()}
    values.update(overrides or {})
    from_dict(values)
    return values


def mode_yaml(mode: str) -> dict[str, Any]:
    """The content of config/mode_<mode>.yaml."""
    return {PARAMS_FILE_KEY: {"ros__parameters": ros_parameters(MODE_OVERRIDES[mode])}}


def markdown_table() -> str:
    """The parameter table of docs/parameters.md."""
    from lingnav_ros.param_docs import parameters_markdown

    return parameters_markdown(param_specs(), {m: ros_parameters(o) for m, o in MODE_OVERRIDES.items()})


def mode_yaml_text(mode: str) -> str:
    """config/mode_<mode>.yaml with a comment (unit, meaning) above every key."""
    from lingnav_ros.param_docs import mode_yaml_text as text

    return text(mode, PARAMS_FILE_KEY, param_specs(), ros_parameters(MODE_OVERRIDES[mode]))


def mode_yaml_path(mode: str) -> Path:
    from lingnav_ros.paths import config_file

    return config_file(f"mode_{mode.lower()}.yaml")


def docs_path() -> Path:
    from lingnav_ros.paths import share_dir

    return share_dir() / "docs" / "parameters.md"


def write_mode_files() -> list[Path]:
    """config/mode_*.yaml and docs/parameters.md, rewritten from the table above."""
    written = []
    for mode in MODE_OVERRIDES:
        path = mode_yaml_path(mode)
        path.write_text(mode_yaml_text(mode))
        written.append(path)
    docs = docs_path()
    docs.parent.mkdir(exist_ok=True)
    docs.write_text(markdown_table())
    return [*written, docs]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-config", action="store_true",
                        help="rewrite config/mode_*.yaml and docs/parameters.md")
    parser.add_argument("--markdown", action="store_true", help="print docs/parameters.md")
    args = parser.parse_args(argv)
    if args.write_config:
        for path in write_mode_files():
            print(path)
    if args.markdown or not args.write_config:
        print(markdown_table())


if __name__ == "__main__":
    main()
