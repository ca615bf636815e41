"""The status as a text over the robot in RViz (`lingnav/status_marker`, visualization_msgs/Marker):
state and reason where the operator is already looking, coloured by what the robot does. Placed
at the latest odometry pose in the odometry frame, so it needs no TF; published only while
something subscribes."""
from __future__ import annotations

from lingnav_msgs.msg import NavStatus
from std_msgs.msg import Header
from visualization_msgs.msg import Marker

from lingnav_ros import topics
from lingnav_ros.perception.odom_buffer import OdomBuffer

TEXT_HEIGHT_M = 0.6  # above the base origin
# NavStatus state -> RGB: green moving or arrived, yellow asking/searching, red failed/stopped
_COLOURS = {NavStatus.APPROACHING: (0.2, 0.9, 0.2), NavStatus.EXECUTING_MOVE: (0.2, 0.9, 0.2),
            NavStatus.ARRIVED: (0.2, 0.9, 0.2), NavStatus.QUERYING: (1.0, 0.85, 0.2),
            NavStatus.SEARCHING: (1.0, 0.85, 0.2), NavStatus.FAILED: (1.0, 0.25, 0.2),
            NavStatus.STOPPED: (1.0, 0.25, 0.2), NavStatus.ESTOP: (1.0, 0.25, 0.2)}
MAX_REASON_CHARS = 90


def status_text(status: NavStatus) -> str:
    reason = status.reason if len(status.reason) <= MAX_REASON_CHARS else status.reason[:MAX_REASON_CHARS] + "..."
    head = status.state_name + (f": {status.target}" if status.target else "")
    return f"{head}\n{reason}" if reason else head


def status_marker(status: NavStatus, x_m: float, y_m: float, header: Header) -> Marker:
    m = Marker(header=header, ns="lingnav_status", id=0, type=Marker.TEXT_VIEW_FACING, action=Marker.ADD)
    m.pose.position.x, m.pose.position.y, m.pose.position.z = float(x_m), float(y_m), TEXT_HEIGHT_M
    m.pose.orientation.w = 1.0
    m.scale.z = 0.15
    r, g, b = _COLOURS.get(status.state, (0.9, 0.9, 0.9))
    m.color.r, m.color.g, m.color.b, m.color.a = r, g, b, 1.0
    m.text = status_text(status)
    return m


class StatusMarker:
    def __init__(self, reporter, odom: OdomBuffer, odom_frame: str, publisher) -> None:
        self.reporter = reporter  # status.StatusReporter
        self.odom = odom
        self.odom_frame = odom_frame
        self.pub = publisher

    def publish(self) -> None:
        if self.pub.get_subscription_count() == 0:
            return
        latest = self.odom.latest()
        if latest is None:
            return
        status = self.reporter.status_msg()
        header = Header(stamp=status.header.stamp, frame_id=self.odom_frame)
        self.pub.publish(status_marker(status, latest.pose.x_m, latest.pose.y_m, header))


def attach(node, reporter, odom: OdomBuffer, odom_frame: str, period_s: float) -> StatusMarker:
    marker = StatusMarker(reporter, odom, odom_frame, node.create_publisher(Marker, topics.STATUS_MARKER, 5))
    node.create_timer(period_s, marker.publish, callback_group=node.cb_misc)
    return marker
