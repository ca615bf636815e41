"""What S2 decided for one image: the typed answer every backend, the server and the robot share.

The field's move vocabulary is kept: ← / → turn 15 degrees each, ↑ / ↓ move 0.5 m each.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

TURN_STEP_RAD = math.radians(15.0)
MOVE_STEP_M = 0.5
MOVE_SYMBOLS = ("←", "→", "↑", "↓")
KINDS = ("pixel", "move", "stop", "none")
TASK_KINDS = ("pixel_point", "move", "stop")


@dataclass
class S2Task:
    """One step of S2's decomposed plan, in the field's task format."""

    kind: str
    target: str | None = None
    point_2d: tuple[int, int] | None = None
    point_2d_norm: tuple[float, float] | None = None
    symbol: str | None = None
    count: int = 0

    @property
    def turn_rad(self) -> float:
        """Signed turn of a move task (left positive), 0 for other tasks."""
        if self.kind != "move" or self.symbol not in ("←", "→"):
            return 0.0
        return (1.0 if self.symbol == "←" else -1.0) * TURN_STEP_RAD * self.count

    @property
    def distance_m(self) -> float:
        """Signed distance of a move task (forward positive), 0 for other tasks."""
        if self.kind != "move" or self.symbol not in ("↑", "↓"):
            return 0.0
        return (1.0 if self.symbol == "↑" else -1.0) * MOVE_STEP_M * self.count


@dataclass
class S2Decision:
    """S2's answer. `point_2d` is a pixel of the image that was sent (its real size)."""

    kind: str
    target: str | None = None
    visible: bool = False
    point_2d: tuple[int, int] | None = None
    point_2d_norm: tuple[float, float] | None = None
    navigation: str = ""
    tasks: list[S2Task] = field(default_factory=list)
    raw: str = ""
    latency_ms: float = 0.0
    model: str = ""
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("point_2d", "point_2d_norm"):
            out[key] = list(out[key]) if out[key] is not None else None
        for task in out["tasks"]:
            for key in ("point_2d", "point_2d_norm"):
                task[key] = list(task[key]) if task[key] is not None else None
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> S2Decision:
        """Tolerant of the field's responses: missing fields take defaults, kind is inferred."""
        tasks = [_task_from_json(t) for t in data.get("tasks") or [] if isinstance(t, dict)]
        point = _pair(data.get("point_2d"), int)
        kind = data.get("kind")
        if kind not in KINDS:
            nav = str(data.get("navigation") or "")
            kind = "pixel" if point else ("stop" if nav == "stop" else ("move" if nav else "none"))
        return cls(kind=kind, target=data.get("target"), visible=bool(data.get("visible", point is not None)),
                   point_2d=point, point_2d_norm=_pair(data.get("point_2d_norm"), float),
                   navigation=str(data.get("navigation") or ""), tasks=tasks, raw=str(data.get("raw") or ""),
                   latency_ms=float(data.get("latency_ms") or 0.0), model=str(data.get("model") or ""),
                   reason=str(data.get("reason") or ""))


def _pair(value, cast):
    if not isinstance(value, (list, tuple)) or len(value) != 2 or value[0] is None or value[1] is None:
        return None
    try:
        return (cast(value[0]), cast(value[1]))
    except (TypeError, ValueError):
        return None


def _task_from_json(t: dict[str, Any]) -> S2Task:
    kind = t.get("kind") or t.get("task") or "stop"
    return S2Task(kind=kind if kind in TASK_KINDS else "stop", target=t.get("target"),
                  point_2d=_pair(t.get("point_2d"), int), point_2d_norm=_pair(t.get("point_2d_norm"), float),
                  symbol=t.get("symbol") or t.get("action"), count=int(t.get("count") or t.get("number") or 0))


def navigation_string(tasks: list[S2Task]) -> str:
    """The field's arrow string for a task list ("↑↑←", "stop" or "")."""
    if any(t.kind == "stop" for t in tasks) and not any(t.kind == "move" for t in tasks):
        return "stop"
    return "".join((t.symbol or "") * t.count for t in tasks if t.kind == "move")
