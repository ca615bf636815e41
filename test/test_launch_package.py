"""`lingnav` is an installed ROS package, found by name as after `colcon build`: the ament
marker, share/lingnav (package.xml, launch/, config/) and the executables in lib/lingnav; and
`ros2 launch lingnav bringup.launch.py` shows and checks its arguments."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from lingnav_ros.launch_description import argument_specs
from test.real_tools import needs, ros2_cli

ROOT = Path(__file__).resolve().parents[1]


def _prefix() -> Path:
    from ament_index_python.packages import get_package_prefix

    return Path(get_package_prefix("lingnav"))


def test_the_package_is_in_the_ament_index_with_its_share_and_executables():
    from ament_index_python.packages import get_package_share_directory

    share = Path(get_package_share_directory("lingnav"))
    for rel in ("package.xml", "launch/bringup.launch.py", "config/mode_a.yaml", "config/mode_b.yaml",
                "config/cameras/sim.yaml", "config/lingnav.rviz"):
        assert (share / rel).is_file(), rel
        if (share / rel).is_symlink():  # the venv's registration: the live source tree, edits need no set-up
            assert (share / rel).resolve() == (ROOT / rel).resolve(), rel
    for exe in ("lingnav-navigator", "lingnav-sim", "lingnav-bringup", "lingnav-s1-server", "lingnav-s2-server"):
        path = _prefix() / "lib" / "lingnav" / exe
        assert path.is_file() and os.access(path, os.X_OK), path


def _ros2_launch(*args: str, timeout_s: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run([ros2_cli() or "ros2", "launch", "lingnav", "bringup.launch.py", *args],
                          capture_output=True, text=True, timeout=timeout_s, check=False)


@needs("launch", "launch_ros", "ros2launch")
def test_show_args_by_package_name_describes_every_argument():
    done = _ros2_launch("--show-args")
    assert done.returncode == 0, done.stderr
    for spec in argument_specs():
        assert f"'{spec.name}':" in done.stdout, spec.name
        assert spec.description.split(";")[0] in done.stdout, spec.name
    assert "no description given" not in done.stdout


@pytest.mark.parametrize("args, reason", [
    (["mode:=B"], "s1_checkpoint"),
    (["mode:=A", "s2_port:=eighty"], "s2_port must be a port"),
    (["mode:=C"], "mode"),
])
@needs("launch", "launch_ros", "ros2launch")
def test_a_bad_argument_stops_the_launch_with_its_reason(args, reason):
    done = _ros2_launch(*args)
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert reason in out and "Traceback" not in out, out
