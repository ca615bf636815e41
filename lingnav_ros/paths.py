"""Find the package's data (config, worlds, scenarios) installed or in a source checkout."""
from __future__ import annotations

from pathlib import Path

PACKAGE = "lingnav"
_SOURCE_ROOT = Path(__file__).resolve().parents[1]


def share_dir() -> Path:
    """share/lingnav on a colcon-installed robot; the repo root in a source checkout or venv."""
    if (_SOURCE_ROOT / "package.xml").exists() and (_SOURCE_ROOT / "config").is_dir():
        return _SOURCE_ROOT
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory(PACKAGE))
    except (ImportError, LookupError, ValueError):
        return _SOURCE_ROOT


def config_file(*parts: str) -> Path:
    return share_dir().joinpath("config", *parts)
