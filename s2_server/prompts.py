"""Every prompt S2 sends to a model, in one place.

The answer format is the deployed task list, so existing deployments and our parser speak the
same language: pixel_point for a visible target, move with an arrow and a count, or stop.
"""
from __future__ import annotations

from s2_server.coords import ABSOLUTE

SYSTEM = (
    "You are the navigation brain of a small ground robot with a forward-facing camera. "
    "Answer only with a JSON array of tasks and nothing else."
)

_TASK_FORMAT = (
    'Decompose the instruction into tasks. Use {{"task":"pixel_point","target":"<object>","point_2d":[x,y]}} '
    "for the object the robot must reach, where [x,y] is the point on the floor at the object's base, "
    "{coords}; use [null,null] when the object is not visible. "
    'Use {{"task":"move","action":"<arrow>","number":n}} for explicit motions, where ← and → turn 15 degrees '
    "each and ↑ and ↓ move 0.5 m each; when the target is not visible, turn toward where it is most likely. "
    'Use {{"task":"stop"}} when the robot has reached the target.'
)

_COORDS = {
    "relative_1000": "with x and y relative to the image in 0..1000",
    ABSOLUTE: "with x and y in pixels of this image",
}


def user_prompt(instruction: str, convention: str, previous_target: str | None = None) -> str:
    text = f"Instruction: {instruction.strip()}\n" + _TASK_FORMAT.format(coords=_COORDS[convention])
    if previous_target:
        text += f"\nThe target so far was: {previous_target}."
    return text
