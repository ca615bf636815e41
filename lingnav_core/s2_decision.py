"""What S2 decided for one image: the typed answer every backend, the server and the robot share.

Names and meanings are those of the deployed interface, exactly, so
the robots already deployed read our answers unchanged and our own client reads theirs:
- `point_2d` is always the model's relative 0..1000 point, `point_2d_pixel` a pixel of the
  image the robot sent (its real size), `point_2d_norm` the top-level 0..1000 point;
- a task is `{"task": "pixel_point", "target", "point_2d", "point_2d_pixel"}` or
  `{"task": "move", "action": "←|→|↑|↓|stop", "number": n}`.
The move vocabulary: ← / → turn 15 degrees each, ↑ / ↓ move 0.5 m each.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

TURN_STEP_RAD = math.radians(15.0)
MOVE_STEP_M = 0.5
MOVE_SYMBOLS = ("←", "→", "↑", "↓")
STOP_ACTION = "stop"
KINDS = ("pixel", "move", "stop", "none")
TASKS = ("pixel_point", "move")


class S2Error(RuntimeError):
    """Base of the failures of a call to S2 (any client)."""


class S2Unavailable(S2Error):
    """Down, timed out, or 5xx after the retries."""


class S2BadRequest(S2Error):
    """The server rejected the request (4xx): retrying the same request will not help."""


@dataclass
class S2Task:
    """One step of S2's decomposed plan, in the deployed task format."""

    task: str  # "pixel_point" | "move"
    target: str | None = None
    point_2d: tuple[float, float] | None = None  # 0..1000, None when the target is not visible
    point_2d_pixel: tuple[int, int] | None = None  # pixel of the received image
    action: str | None = None  # move: ← → ↑ ↓ or "stop"
    number: int = 0  # move: repetitions of the action

    @property
    def is_stop(self) -> bool:
        return self.task == "move" and self.action == STOP_ACTION

    @property
    def is_move(self) -> bool:
        """A motion (an arrow); a stop is a move task too in the deployed format, but not a motion."""
        return self.task == "move" and self.action in MOVE_SYMBOLS

    @property
    def turn_rad(self) -> float:
        """Signed turn of a move task (left positive), 0 for other tasks."""
        if not self.is_move or self.action not in ("←", "→"):
            return 0.0
        return (1.0 if self.action == "←" else -1.0) * TURN_STEP_RAD * self.number

    @property
    def distance_m(self) -> float:
        """Signed distance of a move task (forward positive), 0 for other tasks."""
        if not self.is_move or self.action not in ("↑", "↓"):
            return 0.0
        return (1.0 if self.action == "↑" else -1.0) * MOVE_STEP_M * self.number

    def to_json(self) -> dict[str, Any]:
        if self.task == "pixel_point":
            return {"task": "pixel_point", "target": self.target,
                    "point_2d": list(self.point_2d) if self.point_2d is not None else [None, None],
                    "point_2d_pixel": list(self.point_2d_pixel) if self.point_2d_pixel is not None else None}
        return {"task": "move", "action": self.action, "number": int(self.number)}


def stop_task() -> S2Task:
    return S2Task(task="move", action=STOP_ACTION, number=1)


@dataclass
class S2Decision:
    """S2's answer: the deployed top-level keys plus ours (`kind`, `visible`, `model`, `reason`...)."""

    kind: str  # ours: "pixel" | "move" | "stop" | "none"
    target: str | None = None
    visible: bool = False
    point_2d_norm: tuple[float, float] | None = None  # 0..1000
    point_2d_pixel: tuple[int, int] | None = None  # pixel of the received image
    navigation: str = ""
    tasks: list[S2Task] = field(default_factory=list)
    raw: str = ""
    latency_ms: float = 0.0
    model: str = ""
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target,
                "point_2d_norm": list(self.point_2d_norm) if self.point_2d_norm is not None else None,
                "point_2d_pixel": list(self.point_2d_pixel) if self.point_2d_pixel is not None else None,
                "navigation": self.navigation, "raw": self.raw, "tasks": [t.to_json() for t in self.tasks],
                "kind": self.kind, "visible": self.visible, "latency_ms": self.latency_ms, "model": self.model,
                "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> S2Decision:
        """Reads the deployed response format (ours or the official server's); `kind` is inferred when absent."""
        tasks = [t for t in (_task_from_json(t) for t in data.get("tasks") or [] if isinstance(t, dict)) if t]
        pixel = _pair(data.get("point_2d_pixel"), int)
        nav = str(data.get("navigation") or "")
        kind = data.get("kind")
        if kind not in KINDS:
            kind = "pixel" if pixel else ("stop" if nav == STOP_ACTION else ("move" if nav else "none"))
        target = data.get("target")
        return cls(kind=kind, target=str(target) if target not in (None, "") else None,
                   visible=bool(data.get("visible", pixel is not None)), point_2d_norm=_pair(data.get("point_2d_norm"),
                                                                                           float),
                   point_2d_pixel=pixel, navigation=nav, tasks=tasks, raw=str(data.get("raw") or ""),
                   latency_ms=_finite(data.get("latency_ms")), model=str(data.get("model") or ""),
                   reason=str(data.get("reason") or ""))


def _finite(value) -> float:
    try:
        out = float(value or 0.0)
    except (TypeError, ValueError):
        return 0.0
    return out if math.isfinite(out) else 0.0


def _pair(value, cast):
    if not isinstance(value, (list, tuple)) or len(value) != 2 or value[0] is None or value[1] is None:
        return None
    try:
        out = (cast(value[0]), cast(value[1]))
    except (TypeError, ValueError, OverflowError):
        return None
    return out if all(math.isfinite(c) for c in out) else None


def _task_from_json(t: dict[str, Any]) -> S2Task | None:
    task = t.get("task")
    if task == "pixel_point":
        target = t.get("target")
        return S2Task(task="pixel_point", target=str(target) if target not in (None, "") else None,
                      point_2d=_pair(t.get("point_2d"), float), point_2d_pixel=_pair(t.get("point_2d_pixel"), int))
    if task == "move":
        action = t.get("action")
        if action not in MOVE_SYMBOLS and action != STOP_ACTION:
            return None
        try:
            number = int(t.get("number") if t.get("number") is not None else 1)
        except (TypeError, ValueError, OverflowError):
            number = 1
        return S2Task(task="move", action=action, number=max(number, 0))
    return None


def navigation_string(tasks: list[S2Task]) -> str:
    """The deployed arrow string for a task list ("↑↑←", "stop" or "")."""
    if any(t.is_stop for t in tasks) and not any(t.is_move for t in tasks):
        return STOP_ACTION
    return "".join((t.action or "") * t.number for t in tasks if t.is_move)
