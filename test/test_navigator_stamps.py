"""The shared integer-nanosecond stamp helper: no second lost at a boundary."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingnav_ros import stamps
from lingnav_ros.nodes import sim_node
from lingnav_ros.nodes.navigator import views
from lingnav_ros.perception import sync

# No subnormals: times are never that small, and another test may have set flush-to-zero.
SECONDS = st.floats(min_value=0.0, max_value=4.0e6, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def test_a_time_just_below_a_whole_second_rounds_up_not_back():
    msg = stamps.time_msg(12.99999999995)
    assert (msg.sec, msg.nanosec) == (13, 0)
    assert stamps.stamp_to_s(msg) == 13.0


def test_the_sim_the_navigator_and_the_pairing_use_the_shared_helper():
    assert sync.stamp_to_s is stamps.stamp_to_s
    for convert in (sim_node.time_msg, views.time_msg):
        msg = convert(12.99999999995)
        assert (msg.sec, msg.nanosec) == (13, 0)


@settings(max_examples=400, deadline=None)
@given(SECONDS)
def test_a_stamp_is_the_nearest_nanosecond(t_s):
    msg = stamps.time_msg(t_s)
    assert 0 <= msg.nanosec < stamps.NS_PER_S
    assert abs(stamps.stamp_to_s(msg) - t_s) <= 1e-9 + 4 * math.ulp(t_s)


@settings(max_examples=400, deadline=None)
@given(SECONDS, SECONDS)
def test_stamps_keep_the_order_of_times(a_s, b_s):
    lo, hi = sorted((a_s, b_s))
    assert stamps.stamp_to_ns(stamps.time_msg(lo)) <= stamps.stamp_to_ns(stamps.time_msg(hi))


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=2**62))
def test_integer_nanoseconds_survive_the_message(t_ns):
    assert stamps.stamp_to_ns(stamps.time_msg_from_ns(t_ns)) == t_ns


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_time_is_refused(bad):
    with pytest.raises(ValueError, match="finite"):
        stamps.seconds_to_ns(bad)
