"""World description: walls, boxes and cylinders on a floor, loaded from YAML.

Objects are vertical extrusions of 2D shapes, which is all an indoor ground robot's RGB-D
camera needs to see furniture-like targets and obstacles.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from lingnav_core.colors import named_rgb

WALL_RGB = (205, 205, 200)
FLOOR_RGB = (105, 100, 95)
GREY_RGB = (150, 150, 150)  # unlabelled obstacles: unsaturated, never a target colour


@dataclass(frozen=True)
class Shape:
    """A box (size_x/size_y/yaw) or a cylinder (radius) standing on the floor."""

    kind: str  # 'box' | 'cylinder'
    x_m: float
    y_m: float
    height_m: float
    rgb: tuple[int, int, int]
    label: str = ""
    size_x_m: float = 0.0
    size_y_m: float = 0.0
    yaw_rad: float = 0.0
    radius_m: float = 0.0
    ir_absorbing: bool = False  # black/IR-absorbing material: depth cameras read nothing on it

    def corners(self) -> np.ndarray:
        hx, hy = self.size_x_m / 2.0, self.size_y_m / 2.0
        local = np.array([[hx, hy], [-hx, hy], [-hx, -hy], [hx, -hy]])
        c, s = math.cos(self.yaw_rad), math.sin(self.yaw_rad)
        return local @ np.array([[c, s], [-s, c]]) + [self.x_m, self.y_m]


@dataclass
class World:
    walls: list[tuple[float, float, float, float]]  # segments x0, y0, x1, y1
    shapes: list[Shape]
    wall_height_m: float = 2.0
    start: tuple[float, float, float] = (0.0, 0.0, 0.0)
    instruction: str = ""
    target_label: str = ""  # the (last) target: the sim's target_distance_m
    name: str = ""
    extra: dict = field(default_factory=dict)
    target_labels: tuple[str, ...] = ()  # a sequence's targets in order (`target: [a, b]`)

    def segments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All vertical faces as segments [M,4], their heights [M] and colours [M,3]."""
        segs, heights, colours = [], [], []
        for w in self.walls:
            segs.append(w)
            heights.append(self.wall_height_m)
            colours.append(WALL_RGB)
        for s in self.shapes:
            if s.kind == "box":
                c = s.corners()
                for i in range(4):
                    segs.append((*c[i], *c[(i + 1) % 4]))
                    heights.append(s.height_m)
                    colours.append(s.rgb)
        return (np.array(segs, dtype=np.float32).reshape(-1, 4), np.array(heights, dtype=np.float32),
                np.array(colours, dtype=np.float32).reshape(-1, 3))

    def cylinders(self) -> list[Shape]:
        return [s for s in self.shapes if s.kind == "cylinder"]

    def find(self, label: str) -> Shape | None:
        return next((s for s in self.shapes if s.label == label), None)


def _colour(spec) -> tuple[int, int, int]:
    if spec is None or spec == "grey":
        return GREY_RGB
    if isinstance(spec, str):
        return named_rgb(spec)  # 'blue', 'dark blue', 'light-green' ...
    r, g, b = (int(c) for c in spec)
    return (r, g, b)


def _flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"object {name} must be true or false, got {value!r}")
    return value


def from_dict(data: dict, name: str = "") -> World:
    walls = []
    for w in data.get("walls", []):
        walls.append(tuple(float(v) for v in w))
    room = data.get("room")
    if room:  # rectangle [x_min, y_min, x_max, y_max]
        x0, y0, x1, y1 = (float(v) for v in room)
        walls += [(x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)]
    shapes = []
    for o in data.get("objects", []):
        kind = o.get("type", "box")
        if kind not in ("box", "cylinder"):
            raise ValueError(f"object type must be box or cylinder, got {kind}")
        size = o.get("size", [0.4, 0.4])
        shapes.append(Shape(kind=kind, x_m=float(o["x"]), y_m=float(o["y"]), height_m=float(o.get("height", 0.8)),
                            rgb=_colour(o.get("color")), label=str(o.get("label", "")),
                            size_x_m=float(size[0]), size_y_m=float(size[1]),
                            yaw_rad=float(o.get("yaw", 0.0)), radius_m=float(o.get("radius", 0.2)),
                            ir_absorbing=_flag(o.get("ir_absorbing", False), "ir_absorbing")))
    start = data.get("start", [0.0, 0.0, 0.0])
    target = data.get("target", "")
    labels = tuple(str(t) for t in target) if isinstance(target, list) else ((str(target),) if target else ())
    return World(walls=walls, shapes=shapes, wall_height_m=float(data.get("wall_height", 2.0)),
                 start=(float(start[0]), float(start[1]), float(start[2])),
                 instruction=str(data.get("instruction", "")), target_label=labels[-1] if labels else "",
                 target_labels=labels,
                 name=name or str(data.get("name", "")), extra={k: v for k, v in data.items() if k not in (
                     "walls", "room", "objects", "start", "instruction", "target", "wall_height", "name")})


def load(path: str | Path) -> World:
    path = Path(path)
    return from_dict(yaml.safe_load(path.read_text()) or {}, name=path.stem)
