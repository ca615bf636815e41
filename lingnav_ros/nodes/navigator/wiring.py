"""The navigator's ROS surface: QoS profiles, subscriptions, publishers and timers.

Camera QoS follows the parameters (a RELIABLE subscriber never matches a best-effort driver);
commands and status are reliable; odometry is best effort with a deep queue. The slow calls
(S2, S1, server health) run on worker lanes that timers on the node clock only kick, so their
periods follow sim time.
"""
from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import TransformStamped, Twist, TwistStamped
from lingnav_msgs.msg import NavStatus, S2Result, TrajectoryCandidates
from nav_msgs.msg import Odometry, Path
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Bool, String
from visualization_msgs.msg import Marker, MarkerArray

from lingnav_ros.navigator_params import NavigatorParams
from lingnav_ros.nodes.spinning import WorkerLane
from lingnav_ros.perception.sync import make_rgbd_sync


def camera_qos(p: NavigatorParams) -> QoSProfile:
    rel = ReliabilityPolicy.BEST_EFFORT if p.camera_qos_reliability == "best_effort" else ReliabilityPolicy.RELIABLE
    return QoSProfile(depth=p.camera_qos_depth, reliability=rel, history=HistoryPolicy.KEEP_LAST,
                      durability=DurabilityPolicy.VOLATILE)


def sensor_qos() -> QoSProfile:
    return QoSProfile(depth=50, reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST)


def command_qos() -> QoSProfile:
    return QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST)


def latched_qos() -> QoSProfile:
    """Like a static TF: the last value reaches subscribers that join later."""
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


def rgb_topic(p: NavigatorParams) -> str:
    return p.rgb_compressed_topic if p.rgb_transport == "compressed" else p.rgb_topic


def wire(node) -> None:
    """Create the node's subscriptions, publishers, timers and worker lanes (attributes on `node`)."""
    p = node.p
    cam_qos, cmd_qos = camera_qos(p), command_qos()
    rgb_type = CompressedImage if p.rgb_transport == "compressed" else Image
    node.sync = make_rgbd_sync(node, rgb_type=rgb_type, rgb_topic=rgb_topic(p), depth_type=Image,
                               depth_topic=p.depth_topic, qos=cam_qos, queue_size=p.sync_queue_size,
                               slop_s=p.sync_slop_s, callback=node.sensors.on_rgbd, callback_group=node.cb_camera)
    node.create_subscription(CameraInfo, p.camera_info_topic, node.sensors.on_camera_info, cam_qos,
                             callback_group=node.cb_odom)
    node.create_subscription(TransformStamped, p.camera_mount_topic, node.sensors.on_camera_mount, latched_qos(),
                             callback_group=node.cb_odom)
    node.create_subscription(Odometry, p.odom_topic, node.sensors.on_odom, sensor_qos(),
                             callback_group=node.cb_odom)
    node.create_subscription(String, p.instruction_topic, node.control.on_instruction, cmd_qos,
                             callback_group=node.cb_misc)
    node.create_subscription(Bool, p.estop_topic, node.control.on_estop, cmd_qos, callback_group=node.cb_misc)

    node.cmd_pub = node.create_publisher(TwistStamped if p.cmd_vel_stamped else Twist, p.cmd_vel_topic, cmd_qos)
    node.status_pub = node.create_publisher(NavStatus, p.status_topic, cmd_qos)
    node.s2_pub = node.create_publisher(S2Result, p.s2_result_topic, cmd_qos)
    node.diag_pub = node.create_publisher(DiagnosticArray, p.diagnostics_topic, 10)
    node.path_pub = node.create_publisher(Path, p.plan_topic, 10)
    node.cand_pub = node.create_publisher(TrajectoryCandidates, p.candidates_topic, 10)
    node.marker_pub = node.create_publisher(MarkerArray, p.candidate_markers_topic, 10)
    node.target_pub = node.create_publisher(Marker, p.target_marker_topic, 10)
    node.debug_pub = node.create_publisher(Image, p.debug_image_topic, 5)

    node.create_timer(1.0 / p.control_rate_hz, node.control.on_control, callback_group=node.cb_control)
    work = {"s2": (node.calls.s2_tick, 0.1), "s1": (node.calls.s1_tick, p.planning_period_s),
            "health": (node.calls.health_tick, 0.2)}
    node.lanes = [WorkerLane(name, fn, node.lane_failed) for name, (fn, _) in work.items()]
    for lane, (_, period_s) in zip(node.lanes, work.values()):
        node.create_timer(period_s, lane.kick, callback_group=node.cb_misc)
    node.create_timer(1.0 / p.status_rate_hz, node.reporter.publish_status, callback_group=node.cb_misc)
    node.create_timer(p.diagnostics_period_s, node.reporter.publish_diagnostics, callback_group=node.cb_misc)
