"""Test-session set-up shared by every test module.

DDS traffic is kept on this machine and on a domain of its own, so two test runs (or a robot
on the same network) never see each other's topics. The venv is an ament prefix (scripts/
setup_env.sh registers `lingnav` in it), so launch_ros and `ros2` children find the package.

Tests of a fallback (perception/sync.py, perception/images.py, lingnav-bringup) carry the
`fallback_path` mark: `make test` runs them a second time with LINGNAV_FORCE_FALLBACKS=1, so
both the real-library path and the fallback path are covered on a machine that has both.
"""
import os
import sys
from pathlib import Path

import pytest

from lingnav_ros.ros_domain import ensure_domain_id  # noqa: E402

ensure_domain_id()
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_LOCALHOST_ONLY", "1")
os.environ.setdefault("RCUTILS_LOGGING_BUFFERED_STREAM", "1")
if (Path(sys.prefix) / "share" / "ament_index").is_dir():
    _prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    if sys.prefix not in _prefixes:
        os.environ["AMENT_PREFIX_PATH"] = os.pathsep.join([*_prefixes, sys.prefix])

# Modules whose tests exercise a fallback (or both paths); rerun with the fallbacks forced.
FALLBACK_MODULES = {
    "test_fallbacks.py",
    "test_perception_sync.py",
    "test_perception_images.py",
    "test_navigator_interfaces.py",
    "test_launch_description.py",
    "test_launch_e2e.py",
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "fallback_path: covers a fallback; `make test` reruns it with LINGNAV_FORCE_FALLBACKS=1")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in FALLBACK_MODULES:
            item.add_marker(pytest.mark.fallback_path)


@pytest.fixture(scope="module")
def servers():
    """S2 (color backend) and S1 (geometric) on loopback, one pair per test module; a module that
    needs other servers defines its own `servers`."""
    from test.navigator_rig import color_s2_and_geometric_s1

    with color_s2_and_geometric_s1() as pair:
        yield pair
