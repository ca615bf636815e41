"""RGB-D pairing: the small fallback, over real topics, and message_filters where it exists
(and LINGNAV_FORCE_FALLBACKS does not force the fallback)."""
import numpy as np
import pytest
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from lingnav_ros.perception.images import depth_to_image_fields, rgb_to_image_fields
from lingnav_ros.perception.sync import ApproxTimePairer, make_rgbd_sync, message_filters_available
from lingnav_ros.stamps import stamp_to_s, time_msg
from test.real_tools import needs
from test.ros_graph import ros_graph, wait_for


def _collect():
    pairs = []
    return pairs, (lambda a, b: pairs.append((a, b)))


def test_pairs_within_slop_in_either_arrival_order():
    pairs, cb = _collect()
    p = ApproxTimePairer(queue_size=5, slop_s=0.02, callback=cb)
    p.add(0, "rgb1", 1.000)
    p.add(1, "depth1", 1.010)
    p.add(1, "depth2", 1.100)
    p.add(0, "rgb2", 1.095)
    assert pairs == [("rgb1", "depth1"), ("rgb2", "depth2")]


def test_messages_outside_slop_never_pair_and_closest_wins():
    pairs, cb = _collect()
    p = ApproxTimePairer(queue_size=5, slop_s=0.02, callback=cb)
    p.add(0, "rgb_far", 1.0)
    p.add(1, "depth_far", 1.5)
    assert pairs == []
    p.add(1, "depth_a", 2.015)
    p.add(1, "depth_b", 2.003)
    p.add(0, "rgb", 2.0)
    assert pairs == [("rgb", "depth_b")]


def test_queue_size_bounds_memory():
    pairs, cb = _collect()
    p = ApproxTimePairer(queue_size=3, slop_s=0.001, callback=cb)
    for i in range(10):
        p.add(0, f"rgb{i}", float(i))
    assert len(p._queues[0]) == 3
    p.add(1, "depth", 1.0)
    assert pairs == [], "rgb at t=1 was pushed out of the queue"
    p.add(1, "depth9", 9.0005)
    assert pairs == [("rgb9", "depth9")]


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError):
        ApproxTimePairer(0, 0.1, lambda a, b: None)


def _stamped(fields, t):
    msg = Image(**fields)
    msg.header.stamp = time_msg(t)
    return msg


def _sync_over_topics(prefer_message_filters):
    best_effort = QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST)
    pairs = []
    with ros_graph("sync_sub", "camera_pub") as (_, (sub_node, pub_node), _):
        sync = make_rgbd_sync(sub_node, rgb_type=Image, rgb_topic="/t/rgb", depth_type=Image,
                              depth_topic="/t/depth", qos=best_effort, queue_size=10, slop_s=0.02,
                              callback=lambda a, b: pairs.append((a, b)),
                              prefer_message_filters=prefer_message_filters)
        rgb_pub = pub_node.create_publisher(Image, "/t/rgb", best_effort)
        depth_pub = pub_node.create_publisher(Image, "/t/depth", best_effort)
        rgb = rgb_to_image_fields(np.zeros((4, 4, 3), np.uint8))
        depth = depth_to_image_fields(np.ones((4, 4), np.float32), "32FC1")
        assert wait_for(lambda: rgb_pub.get_subscription_count() and depth_pub.get_subscription_count())
        t = 5.0

        def publish():
            nonlocal t
            t += 0.1
            rgb_pub.publish(_stamped(rgb, t))
            depth_pub.publish(_stamped(depth, t + 0.005))
            return len(pairs) >= 3

        assert wait_for(publish, timeout_s=10.0, period_s=0.05)
    for a, b in pairs:
        assert abs(stamp_to_s(a.header.stamp) - stamp_to_s(b.header.stamp)) <= 0.02
        assert a.encoding == "rgb8" and b.encoding == "32FC1"
    return sync.backend


def test_fallback_synchroniser_over_best_effort_topics():
    assert _sync_over_topics(prefer_message_filters=False) == "fallback"


@needs("message_filters")
def test_message_filters_synchroniser_over_best_effort_topics():
    assert _sync_over_topics(prefer_message_filters=True) == "message_filters"


def test_the_default_synchroniser_is_the_one_this_install_provides():
    """What the navigator gets: message_filters on a robot, the fallback without it or when forced."""
    expected = "message_filters" if message_filters_available() else "fallback"
    assert _sync_over_topics(prefer_message_filters=True) == expected
