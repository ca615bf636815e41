"""One switch, read in one place, picks the real ROS libraries or their documented fallbacks."""
import numpy as np
import pytest
from sensor_msgs.msg import Image

from lingnav_ros import fallbacks
from lingnav_ros.perception import images, sync
from lingnav_ros.perception.images import rgb_from_msg, rgb_to_image_fields
from test.real_tools import needs


@pytest.mark.parametrize("value, forced", [("1", True), ("true", True), ("ON", True), ("0", False),
                                           ("", False), ("no", False)])
def test_the_variable_forces_the_fallbacks(monkeypatch, value, forced):
    monkeypatch.setenv(fallbacks.ENV_VAR, value)
    assert fallbacks.forced() is forced


def test_forcing_names_the_variable_and_hides_even_stdlib_modules(monkeypatch):
    monkeypatch.setenv(fallbacks.ENV_VAR, "1")
    reason = fallbacks.unavailable_reason("json")
    assert fallbacks.ENV_VAR in reason and "json" in reason
    assert fallbacks.optional_module("json") is None
    assert set(fallbacks.report()) == set(fallbacks.OPTIONAL_LIBRARIES)
    assert all(fallbacks.ENV_VAR in why for why in fallbacks.report().values())


def test_a_missing_library_is_named_and_a_present_one_is_used(monkeypatch):
    monkeypatch.delenv(fallbacks.ENV_VAR, raising=False)
    reason = fallbacks.unavailable_reason("lingnav_no_such_library")
    assert "lingnav_no_such_library" in reason and "ModuleNotFoundError" in reason
    assert fallbacks.optional_module("lingnav_no_such_library") is None
    import json

    assert fallbacks.optional_module("json") is json


def test_forced_fallbacks_switch_the_synchroniser_and_the_image_path(monkeypatch):
    monkeypatch.setenv(fallbacks.ENV_VAR, "1")
    assert not sync.message_filters_available()
    assert not images.cv_bridge_available()
    rgb = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    assert np.array_equal(rgb_from_msg(Image(**rgb_to_image_fields(rgb))), rgb)


@needs("message_filters")
def test_message_filters_is_used_unless_forced(monkeypatch):
    monkeypatch.delenv(fallbacks.ENV_VAR, raising=False)
    assert sync.message_filters_available()
    monkeypatch.setenv(fallbacks.ENV_VAR, "1")
    assert not sync.message_filters_available()
