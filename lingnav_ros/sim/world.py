"""World description: walls, boxes and cylinders on a floor, loaded from YAML.

Objects are vertical extrusions of 2D shapes between a bottom (`z_min`, 0 on the floor) and a
top: a table is a raised top plus legs, a shelf a raised box. An object with a `path` walks it
(sim/motion.py): people and other robots. That is all an indoor ground robot's RGB-D camera needs
to see furniture-like targets, obstacles it may pass under, and things that move.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

from lingnav_core.colors import named_rgb
from lingnav_ros.sim.motion import PathMotion
from lingnav_ros.sim.world_values import flag, number, numbers

WALL_RGB = (205, 205, 200)
FLOOR_RGB = (105, 100, 95)
GREY_RGB = (150, 150, 150)  # unlabelled obstacles: unsaturated, never a target colour


@dataclass(frozen=True)
class Shape:
    """A box (size_x/size_y/yaw) or a cylinder (radius) from `z_min_m` up to `height_m`,
    standing still or walking a path."""

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
    z_min_m: float = 0.0  # bottom above the floor: open floor below it
    motion: PathMotion | None = None

    def at(self, t_s: float) -> Shape:
        """This shape where it is at simulated time t."""
        if self.motion is None:
            return self
        x, y = self.motion.position(t_s)
        return replace(self, x_m=x, y_m=y)

    def corners(self) -> np.ndarray:
        hx, hy = self.size_x_m / 2.0, self.size_y_m / 2.0
        local = np.array([[hx, hy], [-hx, hy], [-hx, -hy], [hx, -hy]])
        c, s = math.cos(self.yaw_rad), math.sin(self.yaw_rad)
        return local @ np.array([[c, s], [-s, c]]) + [self.x_m, self.y_m]


@dataclass(frozen=True)
class RobotSpec:
    """One robot of a fleet world: its namespace, start pose and task."""

    name: str
    start: tuple[float, float, float]
    instruction: str = ""
    target_label: str = ""


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
    robots: list[RobotSpec] = field(default_factory=list)  # a fleet; empty: one robot at `start`

    def shapes_at(self, t_s: float) -> list[Shape]:
        return [s.at(t_s) for s in self.shapes]

    def moving(self) -> bool:
        return any(s.motion is not None for s in self.shapes)

    def segments(self, t_s: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """All vertical faces at time t as segments [M,4], their bottoms [M], tops [M] and
        colours [M,3]: the walls first, then four faces per box in shape order."""
        segs, bottoms, tops, colours = [], [], [], []
        for w in self.walls:
            segs.append(w)
            bottoms.append(0.0)
            tops.append(self.wall_height_m)
            colours.append(WALL_RGB)
        for s in self.shapes_at(t_s):
            if s.kind == "box":
                c = s.corners()
                for i in range(4):
                    segs.append((*c[i], *c[(i + 1) % 4]))
                    bottoms.append(s.z_min_m)
                    tops.append(s.height_m)
                    colours.append(s.rgb)
        return (np.array(segs, dtype=np.float32).reshape(-1, 4), np.array(bottoms, dtype=np.float32),
                np.array(tops, dtype=np.float32), np.array(colours, dtype=np.float32).reshape(-1, 3))

    def cylinders(self, t_s: float = 0.0) -> list[Shape]:
        return [s for s in self.shapes_at(t_s) if s.kind == "cylinder"]

    def find(self, label: str) -> Shape | None:
        return next((s for s in self.shapes if s.label == label), None)


def _colour(spec, key: str) -> tuple[int, int, int]:
    if spec is None or spec == "grey":
        return GREY_RGB
    if isinstance(spec, str):
        return named_rgb(spec)  # 'blue', 'dark blue', 'light-green' ...
    r, g, b = (int(c) for c in numbers(spec, key, 3, 0, 255))
    return (r, g, b)


MAX_COORD_M = 1000.0
WORLD_KEYS = ("walls", "room", "objects", "start", "instruction", "target", "wall_height", "name", "robots")
ROBOT_KEYS = {"name", "start", "instruction", "target"}
ROBOT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")


def robots_from_list(items) -> list[RobotSpec]:
    """The `robots:` list: unique ROS-safe names (they become namespaces), checked start poses."""
    if items is None:
        return []
    if not isinstance(items, list) or not items:
        raise ValueError(f"robots must be a non-empty list, got {items!r}")
    out = []
    for i, r in enumerate(items):
        key = f"robots[{i}]"
        if not isinstance(r, dict) or set(r) - ROBOT_KEYS or "name" not in r or "start" not in r:
            raise ValueError(f"{key} must be a mapping with name, start (and instruction, target), got {r!r}")
        name = str(r["name"])
        if not ROBOT_NAME.fullmatch(name):
            raise ValueError(f"{key}.name must be a ROS name (letter, then letters, digits, _), got {name!r}")
        out.append(RobotSpec(name, numbers(r["start"], f"{key}.start", 3, -MAX_COORD_M, MAX_COORD_M),
                             str(r.get("instruction", "")), str(r.get("target", ""))))
    names = [r.name for r in out]
    if len(set(names)) != len(names):
        raise ValueError(f"robot names must be unique, got {names}")
    return out
OBJECT_KEYS = {"type", "x", "y", "size", "yaw", "radius", "height", "z_min", "color", "label", "ir_absorbing",
               "path", "speed_mps", "start_s", "loop"}


def _motion(o: dict, key: str) -> PathMotion | None:
    if "path" not in o:
        for k in ("speed_mps", "start_s", "loop"):
            if k in o:
                raise ValueError(f"{key}.{k} needs a path")
        return None
    path = o["path"]
    if not isinstance(path, list) or len(path) < 2:
        raise ValueError(f"{key}.path must list at least two [x, y] points, got {path!r}")
    points = tuple(numbers(p, f"{key}.path[{i}]", 2, -MAX_COORD_M, MAX_COORD_M) for i, p in enumerate(path))
    if "speed_mps" not in o:
        raise ValueError(f"{key} has a path but no speed_mps")
    return PathMotion(points, number(o["speed_mps"], f"{key}.speed_mps", 0.0, 10.0, lo_open=True),
                      number(o.get("start_s", 0.0), f"{key}.start_s", 0.0, 1e6),
                      flag(o.get("loop", False), f"{key}.loop"))


def shape_from_dict(o: dict, key: str) -> Shape:
    """One object entry, every number checked finite and in range."""
    if not isinstance(o, dict):
        raise ValueError(f"{key} must be a mapping, got {o!r}")
    unknown = set(o) - OBJECT_KEYS
    if unknown:
        raise ValueError(f"{key} has unknown keys {sorted(unknown)}")
    kind = o.get("type", "box")
    if kind not in ("box", "cylinder"):
        raise ValueError(f"{key}.type must be box or cylinder, got {kind}")
    motion = _motion(o, key)
    if motion is not None and "x" not in o:
        x, y = motion.points[0]
    else:
        x = number(o.get("x"), f"{key}.x", -MAX_COORD_M, MAX_COORD_M)
        y = number(o.get("y"), f"{key}.y", -MAX_COORD_M, MAX_COORD_M)
    size = numbers(o.get("size", [0.4, 0.4]), f"{key}.size", 2, 0.0, 100.0)
    if min(size) <= 0.0:
        raise ValueError(f"{key}.size must be > 0, got {list(size)}")
    height = number(o.get("height", 0.8), f"{key}.height", 0.0, 100.0, lo_open=True)
    z_min = number(o.get("z_min", 0.0), f"{key}.z_min", 0.0, 100.0)
    if z_min >= height:
        raise ValueError(f"{key}.z_min ({z_min:g}) must be below its height ({height:g})")
    return Shape(kind=kind, x_m=x, y_m=y, height_m=height, rgb=_colour(o.get("color"), f"{key}.color"),
                 label=str(o.get("label", "")), size_x_m=size[0], size_y_m=size[1],
                 yaw_rad=number(o.get("yaw", 0.0), f"{key}.yaw", -100.0, 100.0),
                 radius_m=number(o.get("radius", 0.2), f"{key}.radius", 0.0, 100.0, lo_open=True),
                 ir_absorbing=flag(o.get("ir_absorbing", False), f"{key}.ir_absorbing"), z_min_m=z_min,
                 motion=motion)


def from_dict(data: dict, name: str = "") -> World:
    if not isinstance(data, dict):
        raise ValueError(f"a world must be a mapping, got {type(data).__name__}")
    walls = [numbers(w, f"walls[{i}]", 4, -MAX_COORD_M, MAX_COORD_M) for i, w in enumerate(data.get("walls") or [])]
    room = data.get("room")
    if room:  # rectangle [x_min, y_min, x_max, y_max]
        x0, y0, x1, y1 = numbers(room, "room", 4, -MAX_COORD_M, MAX_COORD_M)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"room must be [x_min, y_min, x_max, y_max] with max > min, got {room}")
        walls += [(x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)]
    shapes = [shape_from_dict(o, f"objects[{i}]") for i, o in enumerate(data.get("objects") or [])]
    start = numbers(data.get("start", [0.0, 0.0, 0.0]), "start", 3, -MAX_COORD_M, MAX_COORD_M)
    target = data.get("target", "")
    labels = tuple(str(t) for t in target) if isinstance(target, list) else ((str(target),) if target else ())
    return World(walls=walls, shapes=shapes,
                 wall_height_m=number(data.get("wall_height", 2.0), "wall_height", 0.0, 100.0, lo_open=True),
                 start=start, instruction=str(data.get("instruction", "")), target_label=labels[-1] if labels else "",
                 target_labels=labels,
                 name=name or str(data.get("name", "")),
                 extra={k: v for k, v in data.items() if k not in WORLD_KEYS},
                 robots=robots_from_list(data.get("robots")))


def load(path: str | Path) -> World:
    path = Path(path)
    return from_dict(yaml.safe_load(path.read_text()) or {}, name=path.stem)
