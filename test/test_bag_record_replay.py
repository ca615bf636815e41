"""Record the simulator with BagRecorder, read the bag back with rosbags, replay it with /clock."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import yaml
from nav_msgs.msg import Odometry
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rosbags.rosbag2 import Reader
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image

from lingnav_ros import topics
from lingnav_ros.nodes.sim_node import SimNode
from lingnav_ros.stamps import stamp_to_ns
from lingnav_ros.tools.bag import BagRecorder, typestore_with_lingnav
from lingnav_ros.tools.replay import Replayer
from test.ros_graph import ros_graph, wait_for


@pytest.mark.timeout(90)
def test_recorded_sim_run_reads_back_and_replays_with_clock(tmp_path):
    bag = tmp_path / "run"
    with ros_graph("recorder") as (context, (rec_node,), executor):
        sim = SimNode(context=context, parameter_overrides=[
            Parameter("image_width", value=96), Parameter("image_height", value=72),
            Parameter("real_time_factor", value=2.0)])
        executor.add_node(sim)
        # bag time is sim time, as in the demo harness, so replayed /clock matches header stamps
        rec_node.set_parameters([Parameter("use_sim_time", value=True)])
        recorder = BagRecorder(rec_node, bag, {topics.RGB: Image, topics.ODOM: Odometry, topics.CLOCK: Clock},
                               qos={topics.RGB: qos_profile_sensor_data})
        assert wait_for(lambda: recorder.counts[topics.RGB] >= 6 and recorder.counts[topics.ODOM] >= 20, 20.0), \
            recorder.counts
        recorder.close()
        executor.remove_node(sim)
        time.sleep(0.3)  # let an in-flight timer callback finish before the node goes away
        sim.destroy_node()
    assert not recorder.error

    # read back with rosbags alone: types, counts, ordered timestamps, decodable CDR
    meta = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert meta["storage_identifier"] in ("sqlite3", "mcap")
    offered = {t["topic_metadata"]["name"]: t["topic_metadata"]["offered_qos_profiles"]
               for t in meta["topics_with_message_count"]}
    assert "best_effort" in str(offered[topics.RGB]).lower() or "reliability: 2" in str(offered[topics.RGB])
    store = typestore_with_lingnav()
    with Reader(bag) as reader:
        types = {c.topic: c.msgtype for c in reader.connections}
        assert types == {topics.RGB: "sensor_msgs/msg/Image", topics.ODOM: "nav_msgs/msg/Odometry",
                         topics.CLOCK: "rosgraph_msgs/msg/Clock"}
        counts = {c.topic: c.msgcount for c in reader.connections}
        assert counts[topics.RGB] == recorder.counts[topics.RGB] >= 6
        stamps, images = [], []
        for conn, stamp_ns, raw in reader.messages():
            stamps.append(stamp_ns)
            if conn.topic == topics.RGB:
                images.append(store.deserialize_cdr(raw, conn.msgtype))
    assert stamps == sorted(stamps)
    assert all(m.encoding == "rgb8" and (m.width, m.height) == (96, 72) and len(m.data) == 96 * 72 * 3
               for m in images)

    # replay to a real subscriber: sensor topics with their types, plus /clock from bag time
    with ros_graph("replay_listener") as (context, (listener,), executor):
        got_rgb, got_odom, got_clock = [], [], []
        # Queues deep enough for the whole (short) bag: what this listener counts must not be lost
        # to its own history while its executor waits for a core.
        deep_sensor = QoSProfile(reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST,
                                 depth=100)
        listener.create_subscription(Image, topics.RGB, got_rgb.append, deep_sensor)
        listener.create_subscription(Odometry, topics.ODOM, got_odom.append, 200)
        listener.create_subscription(Clock, topics.CLOCK, got_clock.append, 50)
        replayer = Replayer(bag, rate=1.0, context=context)
        assert topics.CLOCK not in replayer.publishers_by_topic  # /clock comes from the replayer itself
        # Every topic this listener counts must be matched before play starts: on a loaded machine
        # discovery can take longer than the replayer's own wait for a first subscriber.
        counted = (replayer.publishers_by_topic[topics.RGB], replayer.publishers_by_topic[topics.ODOM],
                   replayer.clock_pub)
        assert wait_for(lambda: all(p.get_subscription_count() > 0 for p in counted), 20.0)
        player = threading.Thread(target=replayer.play, daemon=True)
        player.start()
        player.join(timeout=30.0)
        assert not player.is_alive()
        assert wait_for(lambda: len(got_rgb) >= 0.8 * counts[topics.RGB] and len(got_odom) >= counts[topics.ODOM]
                        and got_clock, 5.0), (len(got_rgb), len(got_odom), len(got_clock))
        assert bytes(got_rgb[0].data) == bytes(images[0].data)
        clock_ns = [stamp_to_ns(c.clock) for c in got_clock]
        assert clock_ns == sorted(clock_ns)
        odom_ns = [stamp_to_ns(m.header.stamp) for m in got_odom]
        assert abs(clock_ns[-1] - odom_ns[-1]) < 2 * 10**8 and abs(clock_ns[0] - odom_ns[0]) < 2 * 10**8
        replayer.destroy_node()


def test_offered_qos_metadata_keeps_best_effort_for_cameras():
    from rclpy.qos import QoSProfile
    from rosbags.interfaces import QosDurability, QosReliability

    from lingnav_ros.tools.bag import offered_qos

    cam = offered_qos(qos_profile_sensor_data)
    assert cam.reliability == QosReliability.BEST_EFFORT and cam.depth == qos_profile_sensor_data.depth
    odom = offered_qos(QoSProfile(depth=20))
    assert odom.reliability == QosReliability.RELIABLE and odom.durability == QosDurability.VOLATILE


@pytest.mark.timeout(60)
def test_replay_of_a_foreign_robot_bag(tmp_path):
    """A bag not written by BagRecorder (as `ros2 bag record` on a robot would): CompressedImage + odom."""
    from rosbags.rosbag2 import Writer
    from sensor_msgs.msg import CompressedImage

    store = typestore_with_lingnav()
    comp_t = store.types["sensor_msgs/msg/CompressedImage"]
    hdr_t, time_t = store.types["std_msgs/msg/Header"], store.types["builtin_interfaces/msg/Time"]
    bag = tmp_path / "robot"
    with Writer(bag, version=8) as writer:
        conn = writer.add_connection(topics.RGB_COMPRESSED, "sensor_msgs/msg/CompressedImage", typestore=store)
        for i in range(5):
            stamp_ns = 1_700_000_000 * 10**9 + i * 100_000_000
            msg = comp_t(header=hdr_t(stamp=time_t(sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9),
                                      frame_id="camera_color_optical_frame"),
                         format="jpeg", data=np.frombuffer(bytes([i]) * 16, dtype=np.uint8))
            writer.write(conn, stamp_ns, store.serialize_cdr(msg, "sensor_msgs/msg/CompressedImage"))
    with ros_graph("robot_listener") as (context, (listener,), executor):
        got, clock = [], []
        listener.create_subscription(CompressedImage, topics.RGB_COMPRESSED, got.append, qos_profile_sensor_data)
        listener.create_subscription(Clock, topics.CLOCK, clock.append, 50)
        replayer = Replayer(bag, rate=4.0, context=context)
        replayer.play()
        assert wait_for(lambda: len(got) >= 4 and clock, 5.0), (len(got), len(clock))
        assert got[-1].format == "jpeg" and len(got[-1].data) == 16
        assert clock[-1].clock.sec == 1_700_000_000
        replayer.destroy_node()
