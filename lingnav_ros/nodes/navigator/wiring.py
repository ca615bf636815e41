"""The navigator's ROS surface: QoS profiles, subscriptions, publishers and timers.

Camera QoS follows the parameters (a RELIABLE subscriber never matches a best-effort driver);
commands and status are reliable; odometry is best effort with a deep queue. The slow calls
(S2, S1, server health) run on worker lanes that timers on the node clock only kick, so their
periods follow sim time. Topic names: the camera ones from the parameters, the rest from
lingnav_ros.topics, renamed by remaps (that module says why).
"""
from __future__ import annotations

from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import TransformStamped, Twist, TwistStamped
from lingnav_msgs.msg import NavStatus, S2Result, TrajectoryCandidates
from nav_msgs.msg import OccupancyGrid, Odometry, Path
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Bool, String
from visualization_msgs.msg import Marker, MarkerArray

from lingnav_ros import topics
from lingnav_ros.nodes.navigator.settings import WiringSettings
from lingnav_ros.nodes.navigator.views import ViewPublishers
from lingnav_ros.nodes.spinning import WorkerLane
from lingnav_ros.perception.sync import make_rgbd_sync


def camera_qos(w: WiringSettings) -> QoSProfile:
    rel = ReliabilityPolicy.RELIABLE if w.camera_qos_reliable else ReliabilityPolicy.BEST_EFFORT
    return QoSProfile(depth=w.camera_qos_depth, reliability=rel, history=HistoryPolicy.KEEP_LAST,
                      durability=DurabilityPolicy.VOLATILE)


def sensor_qos() -> QoSProfile:
    return QoSProfile(depth=50, reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST)


def command_qos() -> QoSProfile:
    return QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST)


def latched_qos() -> QoSProfile:
    """Like a static TF: the last value reaches subscribers that join later."""
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


@dataclass(frozen=True)
class Publishers:
    cmd_vel: object
    status: object
    diagnostics: object
    views: ViewPublishers
    local_map: object | None  # None while the local map is off


def make_publishers(node, w: WiringSettings, local_map_enabled: bool) -> Publishers:
    cmd_qos = command_qos()
    views = ViewPublishers(
        s2_result=node.create_publisher(S2Result, topics.S2_RESULT, cmd_qos),
        path=node.create_publisher(Path, topics.PLAN_PATH, 10),
        candidates=node.create_publisher(TrajectoryCandidates, topics.CANDIDATES, 10),
        markers=node.create_publisher(MarkerArray, topics.CANDIDATE_MARKERS, 10),
        target=node.create_publisher(Marker, topics.TARGET_MARKER, 10),
        debug_image=node.create_publisher(Image, topics.DEBUG_IMAGE, 5))
    return Publishers(
        cmd_vel=node.create_publisher(TwistStamped if w.cmd_vel_stamped else Twist, topics.CMD_VEL, cmd_qos),
        status=node.create_publisher(NavStatus, topics.STATUS, cmd_qos),
        diagnostics=node.create_publisher(DiagnosticArray, topics.DIAGNOSTICS, 10),
        views=views,
        local_map=node.create_publisher(OccupancyGrid, topics.LOCAL_MAP, 1) if local_map_enabled else None)


def subscribe(node, w: WiringSettings, sensors, control):
    """The inputs: RGB-D pairs (-> the synchroniser, returned), CameraInfo, mount, odometry,
    instructions and e-stop."""
    t, cam_qos, cmd_qos = w.topics, camera_qos(w), command_qos()
    sync = make_rgbd_sync(node, rgb_type=CompressedImage if w.rgb_compressed else Image, rgb_topic=t.rgb,
                          depth_type=Image, depth_topic=t.depth, qos=cam_qos, queue_size=w.sync_queue_size,
                          slop_s=w.sync_slop_s, callback=sensors.on_rgbd, callback_group=node.cb_camera)
    node.create_subscription(CameraInfo, t.camera_info, sensors.on_camera_info, cam_qos,
                             callback_group=node.cb_odom)
    node.create_subscription(TransformStamped, topics.CAMERA_MOUNT, sensors.on_camera_mount, latched_qos(),
                             callback_group=node.cb_odom)
    node.create_subscription(Odometry, topics.ODOM, sensors.on_odom, sensor_qos(), callback_group=node.cb_odom)
    node.create_subscription(String, topics.INSTRUCTION, control.on_instruction, cmd_qos,
                             callback_group=node.cb_misc)
    node.create_subscription(Bool, topics.ESTOP, control.on_estop, cmd_qos, callback_group=node.cb_misc)
    return sync


def start_timers(node, w: WiringSettings, control, calls, reporter, memory) -> list[WorkerLane]:
    """The control tick, the worker lanes' kicks, status, diagnostics and the local map; -> the lanes."""
    node.create_timer(w.control_period_s, control.on_control, callback_group=node.cb_control)
    # S1 is kicked at the control rate and plans once per planning period on the newest frame
    # (ServerCalls.s1_tick gates it): a frame then waits at most one control period for its plan
    # to start, instead of up to a whole planning period.
    work = {"s2": (calls.s2_tick, 0.1), "s1": (calls.s1_tick, min(w.control_period_s, w.planning_period_s)),
            "health": (calls.health_tick, 0.2)}
    lanes = [WorkerLane(name, fn, node.lane_failed) for name, (fn, _) in work.items()]
    for lane, (_, period_s) in zip(lanes, work.values()):
        node.create_timer(period_s, lane.kick, callback_group=node.cb_misc)
    node.create_timer(w.status_period_s, reporter.publish_status, callback_group=node.cb_misc)
    node.create_timer(w.diagnostics_period_s, reporter.publish_diagnostics, callback_group=node.cb_misc)
    if memory.pub is not None:
        node.create_timer(w.local_map_publish_period_s, memory.publish, callback_group=node.cb_misc)
    return lanes
