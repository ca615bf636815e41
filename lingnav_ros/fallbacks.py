"""Which optional ROS libraries the robot side may use, decided in one place.

Robots have message_filters, cv_bridge, launch and launch_ros; pip-only installs do not, and the
code then uses its small documented equivalents (perception/sync.py, perception/images.py,
`lingnav-bringup`). Setting LINGNAV_FORCE_FALLBACKS=1 makes every one of them take the
equivalent even where the real library exists, so one machine can test both paths. Nothing
else reads the variable: ask `optional_module` / `unavailable_reason` instead.
"""
from __future__ import annotations

import importlib
import os
from types import ModuleType

ENV_VAR = "LINGNAV_FORCE_FALLBACKS"

# The optional libraries and what stands in for each where it is missing.
OPTIONAL_LIBRARIES = {
    "message_filters": "ApproxTimePairer (lingnav_ros.perception.sync)",
    "cv_bridge": "NumPy conversion (lingnav_ros.perception.images)",
    "launch": "lingnav-bringup (lingnav_ros.bringup)",
    "launch_ros": "lingnav-bringup (lingnav_ros.bringup)",
}

_IMPORTS: dict[str, ModuleType | str] = {}  # name -> module, or why it failed to import


def forced() -> bool:
    """True when LINGNAV_FORCE_FALLBACKS asks for the fallbacks (1/true/yes/on)."""
    return os.environ.get(ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on")


def unavailable_reason(name: str) -> str | None:
    """Why the optional library `name` will not be used, or None when it will be.

    The import is tried once, only when fallbacks are not forced, and its outcome remembered
    (a failed import is not retried per image). Any failure counts: Humble's cv_bridge raises
    at import under NumPy 2, not only ImportError.
    """
    if forced():
        return f"{ENV_VAR}=1 forces the fallback for {name}"
    if name not in _IMPORTS:
        try:
            _IMPORTS[name] = importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - any failure means: use the fallback
            _IMPORTS[name] = f"{name} is not usable here ({type(err).__name__}: {err})"
    outcome = _IMPORTS[name]
    return outcome if isinstance(outcome, str) else None


def optional_module(name: str) -> ModuleType | None:
    """The module `name` when it imports and fallbacks are not forced, else None."""
    if unavailable_reason(name) is not None:
        return None
    return _IMPORTS[name]


def report() -> dict[str, str]:
    """library -> 'real' or the reason its fallback is used (for logs and the README's table)."""
    return {name: unavailable_reason(name) or "real" for name in OPTIONAL_LIBRARIES}
