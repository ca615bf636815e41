"""A weight-free S2 for demos and tests: it grounds colour words by segmentation.

It answers in the VLM's own text format and goes through the same parser, so everything
downstream of the model (parsing, coordinate conversion, the robot's search and approach)
runs exactly as it would with Qwen3-VL.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import cv2
import numpy as np

from s2_server.backends import BackendRequest
from s2_server.colors import PALETTE, colour_in, hue_deg
from s2_server.coords import RELATIVE

_NOUN = re.compile(r"\b(?:the|a|an)\s+((?:\w+\s+)?\w+)\s*$")
_TURN = re.compile(r"\bturn\s+(left|right)(?:\s+(?:by\s+)?(\d+(?:\.\d+)?)\s*(?:degrees?|deg))?")
_TURN_AROUND = re.compile(r"\bturn\s+around\b")
_DRIVE = re.compile(r"\b(?:go|move|drive)\s+(forward|ahead|back|backward|backwards)\s+"
                    r"(\d+(?:\.\d+)?)\s*(?:m|meters?|metres?)\b")


@dataclass(frozen=True)
class ColorParams:
    min_saturation: int = 110  # 0..255: walls, floor and grey obstacles stay below
    min_value: int = 50
    hue_tolerance_deg: float = 16.0
    min_area_fraction: float = 0.0004  # smaller blobs are noise
    stop_area_fraction: float = 0.27  # the target fills this much of the view: we are there
    search_turn_steps: int = 2  # 2 x 15 degrees when nothing is seen
    work_width_px: int = 320  # segment at this width: enough for a point, 4x cheaper


class ColorBackend:
    name = "color"
    convention = RELATIVE
    device = "cpu"
    attn_implementation = "none"

    def __init__(self, params: ColorParams | None = None):
        self.params = params or ColorParams()
        self.model = "color-segmentation"

    def generate(self, batch: list[BackendRequest]) -> list[str]:  # noqa: F811 (context-aware)
        return [self.answer(req.rgb, req.instruction, req.context.get("previous_target"),
                            bool(req.context.get("instruction_moves_done", False))) for req in batch]

    def answer(self, rgb: np.ndarray, instruction: str, previous_target: str | None = None,
               moves_done: bool = False) -> str:
        moves = [] if moves_done else explicit_moves(instruction)
        colour = colour_in(instruction) or (colour_in(previous_target) if previous_target else None)
        target = target_phrase(instruction) or previous_target
        if moves:
            # The instruction's own motions come first, as leading move tasks; the robot asks
            # again once they are done (context instruction_moves_done).
            goal = {"task": "pixel_point", "target": target, "point_2d": [None, None]} if colour else {"task": "stop"}
            return json.dumps(moves + [goal], ensure_ascii=False)
        if colour is None:
            return json.dumps([{"task": "pixel_point", "target": target, "point_2d": [None, None]},
                               {"task": "move", "action": "←", "number": self.params.search_turn_steps}],
                              ensure_ascii=False)
        mask = self._mask(rgb, colour)
        blob = self._largest_blob(mask)
        if blob is None:
            return json.dumps(self._search(mask, target), ensure_ascii=False)
        area_fraction, px, py = blob
        if area_fraction >= self.params.stop_area_fraction:
            return json.dumps([{"task": "stop"}])
        h, w = mask.shape
        point = [int(round(1000.0 * px / (w - 1))), int(round(1000.0 * py / (h - 1)))]
        return json.dumps([{"task": "pixel_point", "target": target, "point_2d": point}], ensure_ascii=False)

    def _mask(self, rgb: np.ndarray, colour: str) -> np.ndarray:
        p = self.params
        h, w = rgb.shape[:2]
        if w > p.work_width_px:
            rgb = cv2.resize(rgb, (p.work_width_px, max(1, round(h * p.work_width_px / w))),
                             interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV)
        hue = hsv[..., 0].astype(np.int16) * 2  # OpenCV hue is 0..179
        diff = np.abs(hue - int(round(hue_deg(colour))))
        diff = np.minimum(diff, 360 - diff)
        return ((diff <= p.hue_tolerance_deg) & (hsv[..., 1] >= p.min_saturation)
                & (hsv[..., 2] >= p.min_value)).astype(np.uint8)

    def _largest_blob(self, mask: np.ndarray):
        n, labels, stats, _centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if n <= 1:
            return None
        best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        area_fraction = stats[best, cv2.CC_STAT_AREA] / float(mask.size)
        if area_fraction < self.params.min_area_fraction:
            return None
        # Point at the blob's most interior pixel, not its centroid: a partly occluded object can
        # be a thin or bent strip, and the robot reads depth in a window around this point.
        blob = (labels == best).astype(np.uint8)
        inside = cv2.distanceTransform(np.pad(blob, 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
        v, u = np.unravel_index(int(np.argmax(inside)), inside.shape)
        return area_fraction, float(u), float(v)

    def _search(self, mask: np.ndarray, target: str | None) -> list[dict]:
        """Turn toward stray target-coloured pixels if any, else a default search turn left."""
        cols = np.nonzero(mask.any(axis=0))[0]
        action = "←"
        if cols.size:
            action = "←" if cols.mean() < mask.shape[1] / 2 else "→"
        return [{"task": "pixel_point", "target": target, "point_2d": [None, None]},
                {"task": "move", "action": action, "number": self.params.search_turn_steps}]


def explicit_moves(instruction: str) -> list[dict]:
    """'turn left 90 degrees, then go forward 1 m' -> field move tasks, in the order spoken."""
    text = instruction.lower()
    found = []
    for m in _TURN.finditer(text):
        degrees = float(m.group(2)) if m.group(2) else 90.0
        found.append((m.start(), {"task": "move", "action": "←" if m.group(1) == "left" else "→",
                                  "number": max(1, round(degrees / 15.0))}))
    for m in _TURN_AROUND.finditer(text):
        found.append((m.start(), {"task": "move", "action": "←", "number": 12}))
    for m in _DRIVE.finditer(text):
        forward = m.group(1) in ("forward", "ahead")
        found.append((m.start(), {"task": "move", "action": "↑" if forward else "↓",
                                  "number": max(1, round(float(m.group(2)) / 0.5))}))
    return [task for _, task in sorted(found, key=lambda item: item[0])]


def target_phrase(instruction: str) -> str | None:
    """'go to the red chair' -> 'red chair' (the last 'the ...' phrase, at most two words)."""
    text = re.sub(r"[^\w\s]", " ", instruction.lower()).strip()
    for clause in reversed(re.split(r"\b(?:then|and)\b", text)):
        match = _NOUN.search(clause.strip())
        if match:
            return match.group(1).strip()
    words = text.split()
    return " ".join(words[-2:]) if words else None


def palette_names() -> list[str]:
    return list(PALETTE)
