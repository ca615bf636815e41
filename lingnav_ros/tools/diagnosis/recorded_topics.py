"""What a LingNav run records for a later diagnosis and offline replay, with the QoS each needs.

Sensors as the navigator saw them (best effort camera topics, odometry, camera mount), the
instruction when it came by topic (an offline replay sends it again at the same time), what it
did (cmd_vel, status, S2 results, S1 answers and the candidates after the map veto, safety
events, stage times) and, in the simulator, the ground truth (robot state, the objects and the
target). `ros2 bag record` of the same list on a robot gives a bag lingnav-diagnose reads.
"""
from __future__ import annotations

from geometry_msgs.msg import TransformStamped, Twist
from lingnav_msgs.msg import NavStatus, S1Answer, S2Result, SafetyEvent, StageTimes, TrajectoryCandidates
from nav_msgs.msg import Odometry
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from lingnav_ros import topics

_LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)

RECORDED_TOPICS = {
    topics.RGB: Image, topics.DEPTH: Image, topics.CAMERA_INFO: CameraInfo, topics.ODOM: Odometry,
    topics.CAMERA_MOUNT: TransformStamped,
    topics.CMD_VEL: Twist, topics.STATUS: NavStatus, topics.S2_RESULT: S2Result,
    topics.S1_ANSWER: S1Answer, topics.CANDIDATES: TrajectoryCandidates, topics.SAFETY_EVENTS: SafetyEvent,
    topics.STAGE_TIMES: StageTimes,
    topics.SIM_STATE: String, topics.SIM_WORLD: String, topics.INSTRUCTION: String,
}

RECORDED_QOS = {
    topics.RGB: qos_profile_sensor_data, topics.DEPTH: qos_profile_sensor_data,
    topics.CAMERA_INFO: qos_profile_sensor_data, topics.CAMERA_MOUNT: _LATCHED, topics.SIM_WORLD: _LATCHED,
    topics.SAFETY_EVENTS: QoSProfile(depth=50), topics.S1_ANSWER: QoSProfile(depth=50),
    topics.STAGE_TIMES: QoSProfile(depth=50),
}
