"""Model text -> S2Decision. It never raises: whatever the model says, the robot gets a typed answer.

Formats seen in deployments: a JSON array of tasks (often inside ```json fences), a legacy JSON
object followed by an arrow line, bare arrows, "stop", and prose. Truncated JSON is salvaged
object by object; anything unusable becomes kind "none" with the raw text kept for the logs.
"""
from __future__ import annotations

import json
import re
from typing import Any

from lingnav_core.s2_decision import MOVE_SYMBOLS, S2Decision, S2Task, navigation_string, stop_task
from s2_server.coords import CoordFrame, norm_to_pixel, to_norm

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)(?:```|$)", re.S)
_OBJECT = re.compile(r"\{[^{}]*\}")
_ARROWS = re.compile(r"^[\s←→↑↓]+$")
_STOP = re.compile(r"^\W*stop\W*$", re.I)
_LABEL = re.compile(r"^\s*[A-Za-z][\w ]{0,20}[:：]\s*")  # "Navigation: ↑↑←"
_ARROW_ALIASES = {"left": "←", "right": "→", "forward": "↑", "up": "↑", "back": "↓", "backward": "↓",
                  "down": "↓", "<-": "←", "->": "→"}
_MAX_COUNT = 24  # 24 x 15 deg = a full turn; more is garbage


def parse(raw: Any, frame: CoordFrame, instruction: str = "") -> S2Decision:
    try:
        return _parse(raw if isinstance(raw, str) else str(raw), frame)
    except Exception as err:  # the contract is "never raises": the robot must get an answer
        return S2Decision(kind="none", raw=str(raw)[:4000], reason=f"unparseable model output ({type(err).__name__})")


def _parse(raw: str, frame: CoordFrame) -> S2Decision:
    text = raw.strip()
    fenced = _FENCE.findall(text)
    body = "\n".join(fenced) if fenced else text
    items = _json_items(body)
    tasks = [t for t in (_task(item, frame) for item in items) if t is not None]
    tasks += _arrow_tasks(body, after_json=bool(items))
    decision = _decide(tasks, raw)
    if decision.kind == "none" and not decision.reason:
        decision.reason = "no decision in model output" if text else "empty model output"
    return decision


_DECODER = json.JSONDecoder()


def _json_items(body: str) -> list[dict]:
    start = min([i for i in (body.find("["), body.find("{")) if i >= 0], default=-1)
    if start < 0:
        return []
    try:
        value, _end = _DECODER.raw_decode(body, start)  # prose after the JSON is fine
    except (json.JSONDecodeError, ValueError):
        value = None
    if value is None:
        # A legacy object followed by an arrow line, or truncated JSON: salvage whole objects.
        value = []
        for match in _OBJECT.finditer(body):
            try:
                value.append(json.loads(match.group(0)))
            except (json.JSONDecodeError, ValueError):
                continue
    if isinstance(value, dict):
        value = [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _task(item: dict, frame: CoordFrame) -> S2Task | None:
    kind = str(item.get("task") or item.get("kind") or "").lower()
    if kind in ("move", "turn") or ("action" in item and kind != "pixel_point"):
        return _move_task(item.get("action") or item.get("symbol"), item.get("number", item.get("count", 1)))
    if kind == "stop":
        return stop_task()
    if kind == "pixel_point" or "point_2d" in item or "bbox_2d" in item or "target" in item:
        target = item.get("target")
        target = str(target) if target not in (None, "", "null") else None
        point = _point(item)
        norm = to_norm(point[0], point[1], frame) if point else None
        pixel = norm_to_pixel(norm[0], norm[1], frame.image_w, frame.image_h) if norm else None
        return S2Task(task="pixel_point", target=target, point_2d=norm, point_2d_pixel=pixel)
    return None


def _number(value: Any) -> Any:
    """Numbers stay numbers, numeric strings become floats, anything else is left for to_norm to reject."""
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return value
    return value


def _point(item: dict) -> tuple[Any, Any] | None:
    """point_2d [x, y]; else the centre of a bbox_2d [x1, y1, x2, y2] (Qwen's grounding format)."""
    point = item.get("point_2d")
    if isinstance(point, (list, tuple)) and len(point) >= 2:
        return _number(point[0]), _number(point[1])
    box = item.get("bbox_2d")
    if isinstance(box, (list, tuple)) and len(box) == 4:
        x1, y1, x2, y2 = (_number(v) for v in box)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (x1, y1, x2, y2)):
            return (x1 + x2) / 2.0, (y1 + y2) / 2.0
    return None


def _move_task(symbol: Any, count: Any) -> S2Task | None:
    sym = str(symbol or "").strip()
    if _STOP.match(sym):
        return stop_task()
    sym = _ARROW_ALIASES.get(sym.lower(), sym)
    if sym not in MOVE_SYMBOLS:
        return None
    try:
        n = int(float(count))
    except (TypeError, ValueError):
        n = 1
    return S2Task(task="move", action=sym, number=min(max(n, 1), _MAX_COUNT))


def _arrow_tasks(body: str, after_json: bool) -> list[S2Task]:
    """Arrow lines outside JSON: run-length encoded into move tasks, or a bare stop."""
    tasks: list[S2Task] = []
    for line in body.splitlines():
        line = _LABEL.sub("", line.strip())
        if not line or "{" in line or "}" in line:
            continue
        if _STOP.match(line):
            tasks.append(stop_task())
        elif _ARROWS.match(line):
            for match in re.finditer(r"(←+|→+|↑+|↓+)", line.replace(" ", "")):
                run = match.group(0)
                tasks.append(S2Task(task="move", action=run[0], number=min(len(run), _MAX_COUNT)))
    return tasks


def _decide(tasks: list[S2Task], raw: str) -> S2Decision:
    points = [t for t in tasks if t.task == "pixel_point"]
    visible = next((t for t in points if t.point_2d_pixel is not None), None)
    target = next((t.target for t in points if t.target), None)
    moves = [t for t in tasks if t.is_move]
    nav = navigation_string(tasks)
    if visible is not None:
        kind = "pixel"
    elif any(t.is_stop for t in tasks) and not moves:
        kind = "stop"
    elif moves:
        kind = "move"
    else:
        kind = "none"
    return S2Decision(kind=kind, target=target, visible=visible is not None,
                      point_2d_norm=visible.point_2d if visible else None,
                      point_2d_pixel=visible.point_2d_pixel if visible else None,
                      navigation=nav, tasks=tasks, raw=raw[:4000])
