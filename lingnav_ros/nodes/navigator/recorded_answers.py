"""S2 and S1 answers from a recorded bag instead of servers, for `lingnav-replay --offline`.

Why this design: the S2 and S1 clients are asked with an image, never with its stamp, so the
recorded answer is found by the image itself: every RGB frame of the bag is decoded once, as the
navigator decodes it, and hashed; the hash gives the frame's stamp and the stamp the answer that
was recorded for it (`S2Result` and `S1Answer` carry the image stamp). The navigator, its mission
and its control loop run unchanged, only the two clients are swapped, and no server, loopback or
network is involved, so a replay needs no S2/S1 and answers the same on every run.

A frame the recorded run never sent (a replay's worker lane may pick a neighbouring frame) gets
the answer recorded for the nearest stamp, and `substitutions` counts those, so the comparison
can say that this is where a replay may part from the recording. Each answer is returned after
the latency recorded with it, so plans reach the control loop when they did in the run.
"""
from __future__ import annotations

import bisect
import contextlib
import hashlib
import math
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lingnav_core.s1_plan import S1Error, S1Plan
from lingnav_core.s2_decision import S2Decision, S2Error
from lingnav_ros import topics
from lingnav_ros.perception.images import ImageEncodingError, rgb_from_msg

NS = 1e-9


@contextlib.contextmanager
def open_rosbag2(bag: str | Path):
    """`rosbags.highlevel.AnyReader` on one rosbag2 folder, whatever its name: AnyReader takes a
    path ending in `.bag` for a ROS 1 bag, and our runs name their folders `<scenario>.bag`, so
    such a folder is opened through a link with a neutral name."""
    from rosbags.highlevel import AnyReader
    from rosbags.typesys import Stores, get_typestore

    bag = Path(bag).resolve()
    with tempfile.TemporaryDirectory(prefix="lingnav-bag-") as tmp:
        path = bag
        if bag.suffix == ".bag":
            path = Path(tmp) / "rosbag2"
            path.symlink_to(bag, target_is_directory=True)
        with AnyReader([path], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
            yield reader


def image_key(rgb: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(rgb).tobytes(), digest_size=16).hexdigest()


def _stamp(header) -> float:
    return int(header.stamp.sec) + int(header.stamp.nanosec) * NS


def decision_from_result(m) -> S2Decision:
    """The S2Decision an S2Result was published from (the field's JSON shape, as the client reads it)."""
    tasks = []
    for t in m.tasks:
        if t.kind == "pixel_point":
            tasks.append({"task": "pixel_point", "target": t.target,
                          "point_2d_pixel": [t.pixel_u, t.pixel_v] if t.visible else None})
        else:
            tasks.append({"task": "move", "action": "stop" if t.kind == "stop" else t.symbol, "number": t.count})
    norm = [m.norm_x, m.norm_y] if math.isfinite(m.norm_x) else None
    pixel = [m.pixel_u, m.pixel_v] if m.visible and m.pixel_u >= 0 else None
    return S2Decision.from_json({"target": m.target or None, "point_2d_norm": norm, "point_2d_pixel": pixel,
                                 "navigation": m.navigation, "tasks": tasks, "visible": bool(m.visible),
                                 "model": m.model, "latency_ms": 1e3 * float(m.latency_s)})


def plan_from_answer(m) -> S1Plan:
    k, n = int(m.num_candidates), int(m.num_waypoints)
    cands = np.asarray(m.candidates, np.float32).reshape(k, n, 3)
    return S1Plan(np.asarray(m.best, np.float32).reshape(n, 3), cands, np.asarray(m.values, np.float32),
                  bool(m.no_safe_path), int(m.chosen_index), f"recorded {m.backend}", float(m.latency_s),
                  {"model_ms": float(m.model_ms)})


@dataclass
class Recording:
    """The bag's image keys and answers, by image stamp."""

    stamps_by_key: dict[str, float] = field(default_factory=dict)
    s2: dict[float, tuple[S2Decision, float]] = field(default_factory=dict)
    s1: dict[float, tuple[S1Plan, float]] = field(default_factory=dict)

    @classmethod
    def load(cls, bag: str | Path) -> Recording:
        rec = cls()
        wanted = (topics.RGB, topics.S2_RESULT, topics.S1_ANSWER)
        with open_rosbag2(bag) as reader:
            conns = [c for c in reader.connections if c.topic in wanted]
            for conn, _, raw in reader.messages(connections=conns):
                msg = reader.deserialize(raw, conn.msgtype)
                rec._add(conn.topic, msg)
        if not rec.s1 and not rec.s2:
            raise ValueError(f"{bag} holds no recorded S2 or S1 answers ({topics.S2_RESULT}, {topics.S1_ANSWER})")
        return rec

    def _add(self, topic: str, msg) -> None:
        stamp = _stamp(msg.header)
        if topic == topics.RGB:
            try:
                self.stamps_by_key[image_key(rgb_from_msg(msg))] = stamp
            except ImageEncodingError:
                return
        elif topic == topics.S2_RESULT:
            self.s2[stamp] = (decision_from_result(msg), float(msg.latency_s))
        else:
            self.s1[stamp] = (plan_from_answer(msg), float(msg.latency_s))


class _Answers:
    """Lookup by image, nearest stamp when the exact frame was never asked about."""

    def __init__(self, recording: Recording, answers: dict, what: str, error: type, delay: bool) -> None:
        self.recording = recording
        self.answers = answers
        self.stamps = sorted(answers)
        self.what = what
        self.error = error
        self.delay = delay
        self.lock = threading.Lock()
        self.exact = 0
        self.substitutions: list[tuple[float, float]] = []  # (frame stamp, stamp of the answer used)

    def lookup(self, rgb: np.ndarray):
        stamp = self.recording.stamps_by_key.get(image_key(rgb))
        if stamp is None:
            raise self.error(f"{self.what}: the image is not in the recorded bag")
        if not self.stamps:
            raise self.error(f"{self.what}: the bag holds no recorded answers")
        answer = self.answers.get(stamp)
        used = stamp
        if answer is None:
            i = bisect.bisect_left(self.stamps, stamp)
            near = [s for s in (self.stamps[i - 1] if i else None, self.stamps[i] if i < len(self.stamps) else None)
                    if s is not None]
            used = min(near, key=lambda s: abs(s - stamp))
            answer = self.answers[used]
        with self.lock:
            if used == stamp:
                self.exact += 1
            else:
                self.substitutions.append((stamp, used))
        value, latency_s = answer
        if self.delay and latency_s > 0:
            time.sleep(min(latency_s, 5.0))
        return value

    def health(self) -> dict:
        return {"status": "ok", "model": f"recorded {self.what}"}


class RecordedS2Client(_Answers):
    """The S2 client's interface (`step`, `health`), answering from the recording."""

    def __init__(self, recording: Recording, delay: bool = True) -> None:
        super().__init__(recording, recording.s2, "recorded S2", S2Error, delay)

    def step(self, rgb, instruction: str, context=None) -> S2Decision:
        return self.lookup(rgb)


class RecordedPlanner(_Answers):
    """The S1 Planner interface (`plan`, `reset`, `health`), answering from the recording."""

    def __init__(self, recording: Recording, delay: bool = True) -> None:
        super().__init__(recording, recording.s1, "recorded S1", S1Error, delay)

    def plan(self, rgb, depth_m, intrinsics, goal, mount=None) -> S1Plan:
        return self.lookup(rgb)

    def reset(self) -> None:
        """The recording has no per-episode state."""
