"""A robot builds both packages with colcon; check the same here against the venv's ROS wheels."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(600)
def test_colcon_builds_lingnav_and_lingnav_msgs(tmp_path):
    colcon = Path(sys.prefix) / "bin" / "colcon"
    if not colcon.exists():
        pytest.skip("colcon is not installed in this environment")
    # Copy the sources so the build cannot write into the checkout.
    src = tmp_path / "src" / "lingnav"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv", "build", "install", "log", ".git",
                                                               "__pycache__", "*.egg-info", "runs"))
    env = dict(os.environ, AMENT_PREFIX_PATH=sys.prefix, CMAKE_PREFIX_PATH=sys.prefix,
               PATH=f"{Path(sys.prefix) / 'bin'}:{os.environ['PATH']}")
    cmd = [str(colcon), "--log-base", str(tmp_path / "log"), "build",
           "--paths", str(src), str(src / "lingnav_msgs"),
           "--build-base", str(tmp_path / "build"), "--install-base", str(tmp_path / "install"),
           "--cmake-args", f"-DPython3_EXECUTABLE={sys.executable}", "-DBUILD_TESTING=OFF"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    install = tmp_path / "install"
    assert (install / "lingnav" / "lib" / "lingnav" / "lingnav-navigator").exists()
    assert (install / "lingnav" / "share" / "lingnav" / "package.xml").exists()
    assert list((install / "lingnav" / "share" / "lingnav" / "launch").glob("*.launch.py"))
    assert list((install / "lingnav_msgs").rglob("lingnav_msgs/action/_navigate.py"))
