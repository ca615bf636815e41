"""Objects S2 has grounded since the navigator started, with label and position in odom.

A target that leaves the view during a detour is still where it was, and "go back to the red
chair" names a place the robot has already been shown. Each grounded sighting with depth is kept
here under S2's label; sightings of one label close together are one object (the median of its
last sightings, so one bad depth reading does not move it). The navigator clears the memory on
request (a Trigger service); nothing here knows ROS.
"""
from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field

import numpy as np

MERGE_RADIUS_M = 0.8  # sightings of one label closer than this are one object
MAX_SIGHTINGS = 12  # per object, the newest
MAX_OBJECTS = 200

_RECALL = re.compile(r"^\s*(?:please\s+)?(?:go|come|head|drive|move|get)\s+back\s+(?:to|towards?)\s+(.+?)[\s.!]*$"
                     r"|^\s*(?:please\s+)?return\s+(?:to|towards?)\s+(.+?)[\s.!]*$", re.IGNORECASE)
_ARTICLES = re.compile(r"^(?:the|a|an|that|this|my|our)\s+", re.IGNORECASE)


@dataclass
class RememberedObject:
    label: str
    points: list[np.ndarray] = field(default_factory=list)  # (x, y, z) odom sightings, newest last
    last_seen_s: float = 0.0

    @property
    def point_odom(self) -> np.ndarray:
        return np.median(np.array(self.points), axis=0)

    @property
    def xy(self) -> tuple[float, float]:
        p = self.point_odom
        return float(p[0]), float(p[1])

    @property
    def sightings(self) -> int:
        return len(self.points)


def recall_phrase(instruction: str) -> str | None:
    """The object an instruction sends the robot back to ("go back to the red chair" -> "red
    chair"), or None when it is not such an instruction."""
    m = _RECALL.match(instruction or "")
    if m is None:
        return None
    phrase = _ARTICLES.sub("", (m.group(1) or m.group(2) or "").strip())
    return phrase.lower() or None


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


class ObjectMemory:
    """Thread-safe: the mission adds from the S2 lane, the clear service runs on another."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: list[RememberedObject] = []

    def remember(self, label: str, point_odom, stamp_s: float) -> None:
        p = np.asarray(point_odom, dtype=float).reshape(-1)[:3]
        label = (label or "").strip().lower()
        if not label or p.size != 3 or not np.all(np.isfinite(p)):
            return
        with self._lock:
            same = [o for o in self._objects if o.label == label
                    and math.hypot(o.xy[0] - p[0], o.xy[1] - p[1]) < MERGE_RADIUS_M]
            obj = same[0] if same else RememberedObject(label)
            if not same:
                self._objects.append(obj)
                del self._objects[:-MAX_OBJECTS]
            obj.points.append(p)
            del obj.points[:-MAX_SIGHTINGS]
            obj.last_seen_s = float(stamp_s)

    def find(self, phrase: str) -> RememberedObject | None:
        """The best-remembered object whose label has every word of `phrase` (or, failing that,
        its last word: "the chair" finds "red chair"); among several, the most seen, then newest."""
        wanted = _words(phrase)
        if not wanted:
            return None
        with self._lock:
            full = [o for o in self._objects if wanted <= _words(o.label)]
            noun = phrase.lower().split()[-1]
            pool = full or [o for o in self._objects if noun in _words(o.label)]
            if not pool:
                return None
            return max(pool, key=lambda o: (o.sightings, o.last_seen_s))

    def forget(self, obj: RememberedObject) -> None:
        with self._lock:
            self._objects = [o for o in self._objects if o is not obj]

    def clear(self) -> int:
        with self._lock:
            n = len(self._objects)
            self._objects = []
            return n

    def objects(self) -> list[RememberedObject]:
        with self._lock:
            return list(self._objects)
