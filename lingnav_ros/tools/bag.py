"""rosbag2 recording and reading for LingNav runs, with `rosbags` (no rosbag2_py needed).

Messages are recorded as the CDR bytes rclpy received (raw subscriptions), so what lands in the
bag is exactly what was on the wire, and `ros2 bag play` on a robot replays it unchanged.
"""
from __future__ import annotations

import importlib
import queue
import threading
from pathlib import Path

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosbags.rosbag2 import Reader, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from lingnav_ros.paths import share_dir

BAG_VERSION = 8


def typestore_with_lingnav():
    """The Humble typestore plus lingnav_msgs, so bags carry their message definitions."""
    store = get_typestore(Stores.ROS2_HUMBLE)
    msg_dir = _lingnav_msg_dir()
    if msg_dir is not None:
        types = {}
        for path in sorted(msg_dir.glob("*.msg")):
            types.update(get_types_from_msg(path.read_text(), f"lingnav_msgs/msg/{path.stem}"))
        store.register(types)
    return store


def _lingnav_msg_dir() -> Path | None:
    for candidate in (share_dir() / "lingnav_msgs" / "msg", share_dir().parent / "lingnav_msgs" / "msg"):
        if candidate.is_dir():
            return candidate
    return None


def message_class(type_name: str):
    """'sensor_msgs/msg/Image' -> the rclpy message class."""
    pkg, kind, name = type_name.split("/")
    return getattr(importlib.import_module(f"{pkg}.{kind}"), name)


def type_name_of(msg_class) -> str:
    module = msg_class.__module__.split(".")
    return f"{module[0]}/{module[1]}/{msg_class.__name__}"


def offered_qos(profile: QoSProfile) -> Qos:
    """The bag-metadata form of a subscription's QoS, so `ros2 bag play` offers the same again.

    Best-effort camera topics then replay best effort, and latched topics stay latched.
    """
    zero = QosTime(0, 0)
    reliable = profile.reliability != ReliabilityPolicy.BEST_EFFORT
    latched = profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
    return Qos(history=QosHistory.KEEP_LAST, depth=int(profile.depth or 10),
               reliability=QosReliability.RELIABLE if reliable else QosReliability.BEST_EFFORT,
               durability=QosDurability.TRANSIENT_LOCAL if latched else QosDurability.VOLATILE,
               deadline=zero, lifespan=zero, liveliness=QosLiveliness.AUTOMATIC,
               liveliness_lease_duration=zero, avoid_ros_namespace_conventions=False)


class BagRecorder:
    """Subscribe to `topics` ({topic: message class}) on `node` and write a rosbag2 folder.

    The bag is written by a thread of its own: callbacks only enqueue bytes, so a slow disk
    never stalls the executor, and the storage is used from the one thread that opened it.
    """

    def __init__(self, node: Node, path: str | Path, topics: dict, qos: dict | None = None):
        self.path = Path(path)
        self.node = node
        self.store = typestore_with_lingnav()
        self.counts: dict[str, int] = dict.fromkeys(topics, 0)
        self.error: str = ""
        self._queue: queue.Queue = queue.Queue(maxsize=10000)
        self._closed = threading.Event()
        self._ready = threading.Event()
        self._conns: dict = {}
        self._topics = {t: type_name_of(c) for t, c in topics.items()}
        self._qos = {t: (qos or {}).get(t, QoSProfile(depth=50)) for t in topics}
        self._thread = threading.Thread(target=self._write_loop, name="bag-writer", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10.0)
        if self.error:
            raise RuntimeError(self.error)
        self._subs = [node.create_subscription(cls, topic, self._enqueue_for(topic),
                                               self._qos[topic], raw=True)
                      for topic, cls in topics.items()]

    def _enqueue_for(self, topic: str):
        def enqueue(raw: bytes) -> None:
            if not self._closed.is_set():
                try:
                    self._queue.put_nowait((topic, self.node.get_clock().now().nanoseconds, raw))
                except queue.Full:
                    self.error = "bag writer queue full: messages dropped"
        return enqueue

    def _write_loop(self) -> None:
        try:
            writer = Writer(self.path, version=BAG_VERSION)
            writer.open()
            for topic, type_name in self._topics.items():
                self._conns[topic] = writer.add_connection(
                    topic, type_name, typestore=self.store, offered_qos_profiles=[offered_qos(self._qos[topic])])
        except Exception as err:  # reported to the constructor's caller
            self.error = f"cannot open bag {self.path}: {err}"
            self._ready.set()
            return
        self._ready.set()
        try:
            while not (self._closed.is_set() and self._queue.empty()):
                try:
                    topic, stamp_ns, raw = self._queue.get(timeout=0.1)
                except queue.Empty:
                    continue
                writer.write(self._conns[topic], stamp_ns, raw)
                self.counts[topic] += 1
        finally:
            writer.close()

    def close(self) -> None:
        if self._closed.is_set():
            return
        for sub in self._subs:
            self.node.destroy_subscription(sub)
        self._closed.set()
        self._thread.join(timeout=30.0)


def read_messages(path: str | Path, topics: list[str] | None = None):
    """Yield (topic, type_name, timestamp_ns, rclpy message) in bag order."""
    from rclpy.serialization import deserialize_message

    with Reader(Path(path)) as reader:
        conns = [c for c in reader.connections if topics is None or c.topic in topics]
        classes = {c.id: message_class(c.msgtype) for c in conns}
        for conn, stamp_ns, raw in reader.messages(connections=conns):
            yield conn.topic, conn.msgtype, stamp_ns, deserialize_message(bytes(raw), classes[conn.id])


def holds_topic(path: str | Path, topic: str) -> bool:
    """Whether the bag recorded any message on `topic` (e.g. the instruction, in a recorded run)."""
    with Reader(Path(path)) as reader:
        return any(c.topic == topic and c.msgcount > 0 for c in reader.connections)
