"""The bag player behind lingnav-replay: a bag's topics and /clock published with rclpy, in
(scaled) real time. Kept apart from the command line so the offline replay uses it too."""
from __future__ import annotations

import time
from pathlib import Path

from rclpy.node import Node
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from rosgraph_msgs.msg import Clock

from lingnav_ros import topics
from lingnav_ros.stamps import NS_PER_S, seconds_to_ns, time_msg_from_ns
from lingnav_ros.tools.bag import message_class, read_messages

# What a navigator publishes (or the simulator knows): never replayed unless asked for.
NAVIGATOR_OUTPUTS = {topics.CMD_VEL, topics.STATUS, topics.S2_RESULT, topics.PLAN_PATH, topics.CANDIDATES,
                     topics.CANDIDATE_MARKERS, topics.TARGET_MARKER, topics.DEBUG_IMAGE, topics.DIAGNOSTICS,
                     topics.CLOCK, topics.SIM_STATE, topics.SIM_WORLD, topics.SAFETY_EVENTS, topics.S1_ANSWER,
                     topics.STAGE_TIMES}
SENSOR_TYPES = {"sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage", "sensor_msgs/msg/CameraInfo",
                "sensor_msgs/msg/PointCloud2", "sensor_msgs/msg/LaserScan"}


class Replayer(Node):
    def __init__(self, bag: Path, rate: float = 1.0, only_topics: list[str] | None = None,
                 include_outputs: bool = False, **kwargs):
        super().__init__("lingnav_replay", **kwargs)
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self.messages = [(t, ty, ns, m) for t, ty, ns, m in read_messages(bag, only_topics)
                         if include_outputs or only_topics or t not in NAVIGATOR_OUTPUTS]
        if not self.messages:
            raise ValueError(f"nothing to replay in {bag}")
        self.messages.sort(key=lambda item: item[2])
        self.publishers_by_topic = {}
        for topic, type_name, _, _ in self.messages:
            if topic not in self.publishers_by_topic:
                qos = qos_profile_sensor_data if type_name in SENSOR_TYPES else QoSProfile(depth=20)
                self.publishers_by_topic[topic] = self.create_publisher(message_class(type_name), topic, qos)
        self.clock_pub = self.create_publisher(Clock, topics.CLOCK, 10)
        self.published = 0

    @property
    def duration_s(self) -> float:
        return (self.messages[-1][2] - self.messages[0][2]) / NS_PER_S

    def play(self, clock_rate_hz: float = 100.0, wait_for_subscribers_s: float = 2.0) -> int:
        """Publish everything in (scaled) real time; returns the number of messages sent."""
        deadline = time.monotonic() + wait_for_subscribers_s
        while time.monotonic() < deadline and not any(p.get_subscription_count()
                                                      for p in self.publishers_by_topic.values()):
            time.sleep(0.05)
        t0_bag, end_bag = self.messages[0][2], self.messages[-1][2]
        t0_wall = time.monotonic()
        i = 0
        period = 1.0 / clock_rate_hz
        while i < len(self.messages):
            # /clock never runs past the bag's last message, even after a stall of this thread
            now_bag = min(t0_bag + seconds_to_ns((time.monotonic() - t0_wall) * self.rate), end_bag)
            self.clock_pub.publish(Clock(clock=time_msg_from_ns(now_bag)))
            while i < len(self.messages) and self.messages[i][2] <= now_bag:
                topic, _, _, msg = self.messages[i]
                self.publishers_by_topic[topic].publish(msg)
                i += 1
            time.sleep(period)
        self.published += i
        return i
