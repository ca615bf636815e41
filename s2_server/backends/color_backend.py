"""A weight-free S2 for demos and tests: it grounds colour + object words by segmentation.

It answers in the VLM's own text format and goes through the same parser, so everything
downstream of the model (parsing, coordinate conversion, the robot's search and approach)
runs exactly as it would with Qwen3-VL. The instruction is read by color_instruction.py
(politeness, number words, "the bin that is green", negation); the image is segmented for the
colour, blobs are split by shade (dark: dim even on their lit face; light: washed out), and among
the blobs the one whose shape fits the object noun and size words wins (a red box over a
bigger red chair), not merely the largest.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import cv2
import numpy as np

from lingnav_core.colors import DARK_MAX_VALUE, LIGHT_MAX_SATURATION, PALETTE, hue_deg
from s2_server.backends import BackendRequest
from s2_server.backends.color_instruction import NOUN_ASPECT, TargetQuery, explicit_moves, parse_target
from s2_server.coords import RELATIVE


@dataclass(frozen=True)
class ColorParams:
    min_saturation: int = 50  # 0..255: walls, floor and grey obstacles stay below; light shades above
    min_value: int = 25
    hue_tolerance_deg: float = 16.0
    min_area_fraction: float = 0.0004  # smaller blobs are noise
    stop_area_fraction: float = 0.27  # the target fills this much of the view: we are there
    search_turn_steps: int = 2  # 2 x 15 degrees when nothing is seen
    work_width_px: int = 320  # segment at this width: enough for a point, 4x cheaper
    shape_weight: float = 3.0  # against log-aspect mismatch with the noun's typical shape
    size_weight: float = 2.0  # for big/small/tall/short words


@dataclass(frozen=True)
class Blob:
    area_fraction: float
    u: float  # most interior pixel, in the segmented image
    v: float
    aspect: float  # bounding box height / width
    shade: str | None  # 'dark' | 'light' | None
    clipped: bool = False  # touches the image's top edge: it may be taller than it looks


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
        spoken_moves = explicit_moves(instruction)
        moves = [] if moves_done else spoken_moves
        query = parse_target(instruction)
        if moves_done and spoken_moves and query.colour is None and query.noun is None:
            return json.dumps([{"task": "stop"}])  # "go two meters forward": done, nothing to find
        if query.colour is None and previous_target:
            previous = parse_target(previous_target)
            query = TargetQuery(previous.colour, previous.shade, query.noun or previous.noun,
                                query.size or previous.size, query.excluded)
        target = query.phrase or previous_target
        if moves:
            # The instruction's own motions come first, as leading move tasks; the robot asks
            # again once they are done (context instruction_moves_done).
            goal = ({"task": "pixel_point", "target": target, "point_2d": [None, None]} if query.colour
                    else {"task": "stop"})
            return json.dumps(moves + [goal], ensure_ascii=False)
        if query.colour is None:
            return json.dumps([{"task": "pixel_point", "target": target, "point_2d": [None, None]},
                               {"task": "move", "action": "←", "number": self.params.search_turn_steps}],
                              ensure_ascii=False)
        mask, blobs = self.blobs(rgb, query.colour)
        blob = self.choose(blobs, query)
        if blob is None:
            return json.dumps(self._search(mask, target), ensure_ascii=False)
        if blob.area_fraction >= self.params.stop_area_fraction:
            return json.dumps([{"task": "stop"}])
        h, w = mask.shape
        point = [int(round(1000.0 * blob.u / (w - 1))), int(round(1000.0 * blob.v / (h - 1)))]
        return json.dumps([{"task": "pixel_point", "target": target, "point_2d": point}], ensure_ascii=False)

    def blobs(self, rgb: np.ndarray, colour: str) -> tuple[np.ndarray, list[Blob]]:
        """The colour's mask and its connected blobs, each with shape and shade."""
        p = self.params
        h, w = rgb.shape[:2]
        if w > p.work_width_px:
            rgb = cv2.resize(rgb, (p.work_width_px, max(1, round(h * p.work_width_px / w))),
                             interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV)
        hue = hsv[..., 0].astype(np.int16) * 2  # OpenCV hue is 0..179
        diff = np.abs(hue - int(round(hue_deg(colour))))
        diff = np.minimum(diff, 360 - diff)
        mask = ((diff <= p.hue_tolerance_deg) & (hsv[..., 1] >= p.min_saturation)
                & (hsv[..., 2] >= p.min_value)).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        found = []
        for i in range(1, n):
            area = stats[i, cv2.CC_STAT_AREA] / float(mask.size)
            if area < p.min_area_fraction:
                continue
            blob = labels == i
            x0, y0, bw, bh = (int(stats[i, k]) for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP,
                                                         cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
            sat = float(np.median(hsv[..., 1][blob])) / 255.0
            val = float(np.percentile(hsv[..., 2][blob], 75)) / 255.0
            shade = "light" if sat < LIGHT_MAX_SATURATION else ("dark" if val < DARK_MAX_VALUE else None)
            # Point at the blob's most interior pixel, not its centroid: a partly occluded object
            # can be a thin or bent strip, and the robot reads depth in a window around this point.
            inside = cv2.distanceTransform(np.pad(blob[y0:y0 + bh, x0:x0 + bw].astype(np.uint8), 1),
                                           cv2.DIST_L2, 3)[1:-1, 1:-1]
            v, u = np.unravel_index(int(np.argmax(inside)), inside.shape)
            found.append(Blob(area, float(u + x0), float(v + y0), bh / max(bw, 1), shade, clipped=y0 == 0))
        return mask, found

    def choose(self, blobs: list[Blob], query: TargetQuery) -> Blob | None:
        """The blob of the right shade whose shape fits the noun and size words best; without
        such words, the largest (the nearest, usually)."""
        p = self.params
        right_shade = [b for b in blobs if b.shade == query.shade]
        pool = right_shade or ([b for b in blobs if b.shade != "light"] if query.shade is None else [])
        if not pool:
            return None
        prior = NOUN_ASPECT.get(query.noun or "")
        excluded = [NOUN_ASPECT[e.noun] for e in query.excluded
                    if e.colour in (None, query.colour) and e.noun in NOUN_ASPECT and e.noun != query.noun]

        def mismatch(b: Blob, aspect: float) -> float:
            if b.clipped and b.aspect < aspect:
                return 0.0  # cut off by the image's top: it may well be that tall
            return abs(math.log(b.aspect / aspect))

        def score(b: Blob) -> float:
            s = (0.3 if prior or excluded else 1.0) * math.log(b.area_fraction)
            if prior:
                s -= p.shape_weight * mismatch(b, prior)
            for other in excluded:
                s += p.shape_weight * min(mismatch(b, other), 1.0)
            if query.size in ("big", "small"):
                s += (1.0 if query.size == "big" else -1.0) * p.size_weight * math.log(b.area_fraction)
            if query.size in ("tall", "short"):
                s += (1.0 if query.size == "tall" else -1.0) * p.size_weight * 2.0 * math.log(b.aspect)
            return s

        return max(pool, key=score)

    def _search(self, mask: np.ndarray, target: str | None) -> list[dict]:
        """Turn toward stray target-coloured pixels if any, else a default search turn left."""
        cols = np.nonzero(mask.any(axis=0))[0]
        action = "←"
        if cols.size:
            action = "←" if cols.mean() < mask.shape[1] / 2 else "→"
        return [{"task": "pixel_point", "target": target, "point_2d": [None, None]},
                {"task": "move", "action": action, "number": self.params.search_turn_steps}]


def palette_names() -> list[str]:
    return list(PALETTE)
