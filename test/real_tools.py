"""Skip marks for the tests of a real ROS library: they name what is missing, or that
LINGNAV_FORCE_FALLBACKS forces the fallback (lingnav_ros.fallbacks decides both)."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from lingnav_ros.fallbacks import ENV_VAR, forced, unavailable_reason


def missing(*modules: str) -> list[str]:
    """Why each of `modules` cannot be used (one line when the fallbacks are forced); [] if all can."""
    if forced():
        return [f"{ENV_VAR}=1 forces the fallbacks of {', '.join(modules)}"]
    return [r for r in (unavailable_reason(m) for m in modules) if r]


def needs(*modules: str) -> pytest.MarkDecorator:
    """skipif any of `modules` is unusable (not installed, broken, or forced off)."""
    reasons = missing(*modules)
    return pytest.mark.skipif(bool(reasons), reason="; ".join(reasons))


def ros2_cli() -> str | None:
    """The `ros2` command of this interpreter's environment (the venv's), else one on PATH."""
    here = Path(sys.executable).with_name("ros2")
    return str(here) if here.is_file() else shutil.which("ros2")
