"""The navigator's parameters, cut into what each part uses.

`NavigatorParams` is validated once (navigator_params.from_dict); `from_params` turns it into one
frozen settings object per part and per logic component (like Nav2's regulated pure pursuit,
which hands its `Parameters*` to the collision checker), so a part's constructor shows what it
depends on and test/test_navigator_param_reach.py can check that every parameter lands somewhere.
No rclpy here: the QoS and topic wiring reads `WiringSettings` in `wiring`.
"""
from __future__ import annotations

from dataclasses import dataclass

from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_ros.control.limits import VelocityLimits
from lingnav_ros.control.mpc import MpcParams
from lingnav_ros.mission.episode import MissionConfig
from lingnav_ros.navigator_params import NavigatorParams
from lingnav_ros.perception.local_map import LocalMapConfig
from lingnav_ros.safety.collision import CollisionConfig
from lingnav_ros.safety.map_veto import VetoConfig
from lingnav_ros.safety.watchdog import WatchdogConfig


@dataclass(frozen=True)
class SensorSettings:
    """Intake: which intrinsics to trust, how to read depth, how to cut obstacle points."""

    use_camera_info: bool
    depth_encoding: str
    fallback_intrinsics: Intrinsics
    obstacles: CollisionConfig  # heights, stride and range of the depth -> obstacle points cut


@dataclass(frozen=True)
class MountSettings:
    """Where the camera sits: TF (base_frame <- camera_frame) when use_tf, else `fallback`."""

    fallback: CameraMount
    base_frame: str
    camera_frame: str
    use_tf: bool


@dataclass(frozen=True)
class ControlSettings:
    control_period_s: float
    initial_instruction: str
    predict_time_s: float  # rollout checked by the collision monitor when the tracker gave none
    cmd_vel_stamped: bool
    base_frame: str  # frame_id of a stamped command


@dataclass(frozen=True)
class PrimitiveSettings:
    """Closed-loop turn/move steps of the mission (search, instruction moves, recovery)."""

    turn_tolerance_rad: float
    move_tolerance_m: float
    reverse_mps: float


@dataclass(frozen=True)
class MapSettings:
    enabled: bool
    veto_enabled: bool
    local_map: LocalMapConfig
    veto: VetoConfig
    odom_frame: str  # frame of the published OccupancyGrid


@dataclass(frozen=True)
class FleetSettings:
    frame: str  # "" = no fleet
    base_frame: str  # with the namespace, this robot's name on the fleet topic
    peer_radius_m: float
    publish_period_s: float


@dataclass(frozen=True)
class S2ClientSettings:
    host: str
    port: int
    token: str
    connect_timeout_s: float
    read_timeout_s: float
    retries: int
    token_file: str = ""  # wins over `token`; both empty: $LINGNAV_S2_TOKEN


@dataclass(frozen=True)
class PlannerSettings:
    """S1 for `mode`: A = HTTP (host, port, timeout_s), B = local NavDP, geometric = depth arcs."""

    mode: str
    host: str
    port: int
    timeout_s: float
    checkpoint: str
    device: str
    half: bool
    runtime: str
    stop_threshold: float
    robot_radius_m: float
    robot_height_m: float
    token_file: str = ""  # mode A; empty: $LINGNAV_S1_TOKEN

    @property
    def remote(self) -> bool:
        return self.mode == "A"


@dataclass(frozen=True)
class StatusSettings:
    control_period_s: float  # the jitter reference
    odom_frame: str
    s2_server: str  # "host:port", shown on the diagnostics
    s1_mode: str


@dataclass(frozen=True)
class ActionSettings:
    action_name: str
    feedback_period_s: float


@dataclass(frozen=True)
class TopicSettings:
    """The camera topics, the only topic names that are parameters (lingnav_ros.topics says why);
    the wiring takes every other name from lingnav_ros.topics, renamed by remaps."""

    rgb: str  # raw or compressed, as rgb_transport says
    depth: str
    camera_info: str


@dataclass(frozen=True)
class WiringSettings:
    """The ROS surface: topics, message types, QoS and timer periods."""

    topics: TopicSettings
    rgb_compressed: bool
    camera_qos_reliable: bool
    camera_qos_depth: int
    sync_queue_size: int
    sync_slop_s: float
    cmd_vel_stamped: bool
    control_period_s: float
    planning_period_s: float
    status_period_s: float
    diagnostics_period_s: float
    local_map_publish_period_s: float


@dataclass(frozen=True)
class NavigatorSettings:
    sensors: SensorSettings
    mount: MountSettings
    control: ControlSettings
    primitives: PrimitiveSettings
    limits: VelocityLimits
    mpc: MpcParams
    mission: MissionConfig
    watchdog: WatchdogConfig
    collision: CollisionConfig
    map: MapSettings
    odom_buffer_s: float
    server_outage_timeout_s: float
    s2: S2ClientSettings
    planner: PlannerSettings
    status: StatusSettings
    action: ActionSettings
    wiring: WiringSettings
    fleet: FleetSettings


def collision_config(p: NavigatorParams) -> CollisionConfig:
    return CollisionConfig(
        robot_radius_m=p.robot_radius_m, stop_distance_m=p.collision_stop_distance_m,
        slowdown_distance_m=p.collision_slowdown_distance_m, slowdown_ratio=p.collision_slowdown_ratio,
        min_height_m=p.collision_min_height_m, max_height_m=p.robot_height_m,
        depth_stride=p.collision_depth_stride, target_clearance_m=p.target_clearance_m,
        brake_decel_mps2=p.collision_brake_decel_mps2, reaction_s=p.collision_reaction_s)


def map_settings(p: NavigatorParams) -> MapSettings:
    local_map = LocalMapConfig(
        size_m=p.local_map_size_m, resolution_m=p.local_map_resolution_m,
        min_height_m=p.collision_min_height_m, max_height_m=p.robot_height_m,
        clear_max_height_m=p.local_map_clear_max_height_m, obstacle_timeout_s=p.local_map_obstacle_timeout_s,
        moving_timeout_s=p.local_map_moving_obstacle_timeout_s,
        free_timeout_s=p.local_map_free_timeout_s, footprint_radius_m=p.robot_radius_m,
        peer_timeout_s=p.fleet_peer_timeout_s)
    # The veto refuses what S1 itself would refuse: a candidate valued below the stop threshold.
    veto = VetoConfig(robot_radius_m=p.robot_radius_m, target_clearance_m=p.target_clearance_m,
                      min_value=p.s1_stop_threshold)
    return MapSettings(bool(p.local_map_enabled), bool(p.s1_map_veto), local_map, veto, p.odom_frame)


def mpc_params(p: NavigatorParams) -> MpcParams:
    return MpcParams(horizon_steps=p.mpc_horizon_steps, dt_s=p.mpc_dt_s, goal_tolerance_m=p.goal_tolerance_m,
                     control_period_s=1.0 / p.control_rate_hz)


def topic_settings(p: NavigatorParams) -> TopicSettings:
    return TopicSettings(rgb=p.rgb_compressed_topic if p.rgb_transport == "compressed" else p.rgb_topic,
                         depth=p.depth_topic, camera_info=p.camera_info_topic)


def wiring_settings(p: NavigatorParams) -> WiringSettings:
    return WiringSettings(
        topics=topic_settings(p), rgb_compressed=p.rgb_transport == "compressed",
        camera_qos_reliable=p.camera_qos_reliability == "reliable", camera_qos_depth=p.camera_qos_depth,
        sync_queue_size=p.sync_queue_size, sync_slop_s=p.sync_slop_s, cmd_vel_stamped=p.cmd_vel_stamped,
        control_period_s=1.0 / p.control_rate_hz, planning_period_s=p.planning_period_s,
        status_period_s=1.0 / p.status_rate_hz, diagnostics_period_s=p.diagnostics_period_s,
        local_map_publish_period_s=1.0 / p.local_map_publish_rate_hz)


def from_params(p: NavigatorParams) -> NavigatorSettings:
    """Every part's settings from the validated parameters (the one place they are read)."""
    collision = collision_config(p)
    control_period_s = 1.0 / p.control_rate_hz
    return NavigatorSettings(
        sensors=SensorSettings(p.use_camera_info, p.depth_encoding,
                               Intrinsics(p.fx, p.fy, p.cx, p.cy, p.image_width, p.image_height), collision),
        mount=MountSettings(CameraMount(p.camera_height_m, p.camera_pitch_rad, p.camera_x_m, p.camera_y_m),
                            p.base_frame, p.camera_frame, p.use_tf),
        control=ControlSettings(control_period_s, p.initial_instruction, p.collision_predict_time_s,
                                p.cmd_vel_stamped, p.base_frame),
        primitives=PrimitiveSettings(p.turn_tolerance_rad, p.move_tolerance_m, p.recovery_reverse_mps),
        limits=VelocityLimits(v_max_mps=p.v_max_mps, v_min_mps=p.v_min_mps, w_max_radps=p.w_max_radps,
                              a_max_mps2=p.a_max_mps2, alpha_max_radps2=p.alpha_max_radps2),
        mpc=mpc_params(p),
        mission=MissionConfig.from_params(p),
        watchdog=WatchdogConfig(p.odom_timeout_s, p.depth_timeout_s, p.max_plan_age_s),
        collision=collision,
        map=map_settings(p),
        odom_buffer_s=p.odom_buffer_s,
        server_outage_timeout_s=p.server_outage_timeout_s,
        s2=S2ClientSettings(p.s2_host, p.s2_port, p.s2_token, p.s2_connect_timeout_s, p.s2_timeout_s,
                            p.s2_retries, p.s2_token_file),
        planner=PlannerSettings(p.s1_mode, p.s1_host, p.s1_port, p.s1_timeout_s, p.s1_checkpoint, p.s1_device,
                                p.s1_half, p.s1_runtime, p.s1_stop_threshold, p.robot_radius_m, p.robot_height_m,
                                p.s1_token_file),
        status=StatusSettings(control_period_s, p.odom_frame, f"{p.s2_host}:{p.s2_port}", p.s1_mode),
        action=ActionSettings(p.navigate_action, 1.0 / p.status_rate_hz),
        wiring=wiring_settings(p),
        fleet=FleetSettings(p.fleet_frame, p.base_frame, p.fleet_peer_radius_m, 1.0 / p.fleet_publish_rate_hz),
    )
