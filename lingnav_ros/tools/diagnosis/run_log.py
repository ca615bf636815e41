"""A run's rosbag2 read into plain records, with `rosbags` alone (no ROS installation needed).

The bag carries its own message definitions (lingnav_msgs included), so `AnyReader` decodes it
on a laptop without ROS. Images are heavy: the first pass keeps every other topic and only the
stamps of the images; the second keeps the frames S2 was asked about, for the report's figures
and the check of where S2 pointed.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_ros import topics
from lingnav_ros.nodes.navigator.recorded_answers import open_rosbag2
from lingnav_ros.perception.extrinsics import mount_from_transform
from lingnav_ros.perception.images import ImageEncodingError, depth_to_metres, rgb_from_msg

NS = 1e-9


def _stamp(header) -> float:
    return int(header.stamp.sec) + int(header.stamp.nanosec) * NS


@dataclass
class S2Call:
    stamp_s: float  # image the answer is about
    received_s: float  # bag time of the answer
    latency_s: float
    target: str
    visible: bool
    pixel: tuple[int, int] | None
    navigation: str
    tasks: list[str]


@dataclass
class S1Call:
    stamp_s: float
    received_s: float
    latency_s: float
    goal: str
    candidates: np.ndarray  # K x N x 3, base frame at the image time
    values: np.ndarray
    chosen_index: int
    no_safe_path: bool
    backend: str
    model_ms: float = math.nan  # the planner's own time; the rest of latency_s is the wire (mode A)


@dataclass
class VetoedPlan:
    """The candidates as the robot tracked them (odom frame), after the map veto."""

    stamp_s: float
    received_s: float
    chosen_index: int
    chosen_before_veto: int
    veto_reason: str
    no_safe_path: bool
    chosen_path_odom: np.ndarray  # N x 3


@dataclass
class SafetyRecord:
    t_s: float
    layer: str
    zone: str
    cause: str
    requested: tuple[float, float]
    allowed: tuple[float, float]


@dataclass
class StatusRecord:
    t_s: float
    state: str
    reason: str
    distance_m: float


@dataclass
class Frame:
    stamp_s: float
    rgb: np.ndarray
    depth_m: np.ndarray | None = None


@dataclass
class RunLog:
    path: Path
    start_s: float = math.nan
    end_s: float = math.nan
    instruction: str = ""
    statuses: list[StatusRecord] = field(default_factory=list)
    s2: list[S2Call] = field(default_factory=list)
    s1: list[S1Call] = field(default_factory=list)
    plans: list[VetoedPlan] = field(default_factory=list)
    safety: list[SafetyRecord] = field(default_factory=list)
    stages: list[dict] = field(default_factory=list)
    cmds: list[tuple[float, float, float]] = field(default_factory=list)  # (bag t, v, w)
    odom: list[tuple[float, float, float, float]] = field(default_factory=list)  # (stamp, x, y, yaw)
    sim: list[dict] = field(default_factory=list)  # the simulator's state messages (ground truth)
    world: dict | None = None  # the simulator's objects and target, when the bag holds them
    intrinsics: Intrinsics | None = None
    mount: CameraMount | None = None
    arrivals: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # topic: [(bag t, stamp)]
    frames: dict[float, Frame] = field(default_factory=dict)  # the images S2 answered about

    def t(self, bag_s: float) -> float:
        """Seconds since the start of the run."""
        return bag_s - self.start_s


def _yaw(q) -> float:
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def _on_status(log: RunLog, t: float, m) -> None:
    log.instruction = log.instruction or m.instruction
    if not log.statuses or (log.statuses[-1].state, log.statuses[-1].reason) != (m.state_name, m.reason):
        log.statuses.append(StatusRecord(t, m.state_name, m.reason, float(m.distance_to_target_m)))


def _on_s2(log: RunLog, t: float, m) -> None:
    pixel = (int(m.pixel_u), int(m.pixel_v)) if m.visible and m.pixel_u >= 0 else None
    tasks = [f"{k.kind}:{k.target or k.symbol}{'x' + str(k.count) if k.count else ''}" for k in m.tasks]
    log.s2.append(S2Call(_stamp(m.header), t, float(m.latency_s), m.target, bool(m.visible), pixel,
                         m.navigation, tasks))


def _on_s1(log: RunLog, t: float, m) -> None:
    k, n = int(m.num_candidates), int(m.num_waypoints)
    cands = np.asarray(m.candidates, np.float32).reshape(k, n, 3) if k and n else np.zeros((0, 0, 3), np.float32)
    goal = f"{m.goal_kind} ({m.goal_x:.2f}, {m.goal_y:.2f})" if math.isfinite(m.goal_x) else m.goal_kind
    log.s1.append(S1Call(_stamp(m.header), t, float(m.latency_s), goal, cands, np.asarray(m.values, np.float32),
                         int(m.chosen_index), bool(m.no_safe_path), m.backend, float(m.model_ms)))


def _on_candidates(log: RunLog, t: float, m) -> None:
    chosen = int(m.chosen_index)
    path = np.zeros((0, 3))
    if 0 <= chosen < len(m.candidates):
        path = np.array([[p.pose.position.x, p.pose.position.y, _yaw(p.pose.orientation)]
                         for p in m.candidates[chosen].poses])
    log.plans.append(VetoedPlan(_stamp(m.header), t, chosen, int(m.chosen_before_veto), m.veto_reason,
                                bool(m.no_safe_path), path))


def _on_safety(log: RunLog, t: float, m) -> None:
    log.safety.append(SafetyRecord(_stamp(m.header), m.layer, m.zone, m.cause,
                                   (float(m.requested_v_mps), float(m.requested_w_radps)),
                                   (float(m.allowed_v_mps), float(m.allowed_w_radps))))


STAGE_FIELDS = ("transport_ms", "decode_ms", "local_map_ms", "wait_for_plan_ms", "s1_plan_ms", "veto_ms",
                "handover_ms", "mpc_ms", "safety_ms", "publish_ms", "total_ms")


def _on_stages(log: RunLog, t: float, m) -> None:
    log.stages.append({"stamp_s": _stamp(m.header), **{f: float(getattr(m, f)) for f in STAGE_FIELDS}})


def _on_cmd(log: RunLog, t: float, m) -> None:
    twist = getattr(m, "twist", m)  # Twist or TwistStamped
    log.cmds.append((t, float(twist.linear.x), float(twist.angular.z)))


def _on_odom(log: RunLog, t: float, m) -> None:
    p = m.pose.pose
    log.odom.append((_stamp(m.header), float(p.position.x), float(p.position.y), _yaw(p.orientation)))


def _on_camera_info(log: RunLog, t: float, m) -> None:
    if log.intrinsics is None and int(m.width) > 0:
        log.intrinsics = Intrinsics.from_matrix(np.asarray(m.k, float).reshape(3, 3), int(m.width), int(m.height))


def _on_mount(log: RunLog, t: float, m) -> None:
    tr, q = m.transform.translation, m.transform.rotation
    try:
        log.mount = mount_from_transform((tr.x, tr.y, tr.z), (q.x, q.y, q.z, q.w))
    except ValueError:
        log.mount = None


def _on_sim(log: RunLog, t: float, m) -> None:
    try:
        log.sim.append({**json.loads(m.data), "bag_t": t})
    except ValueError:
        pass


def _on_world(log: RunLog, t: float, m) -> None:
    try:
        log.world = json.loads(m.data)
    except ValueError:
        log.world = None


HANDLERS = {topics.STATUS: _on_status, topics.S2_RESULT: _on_s2, topics.S1_ANSWER: _on_s1,
            topics.CANDIDATES: _on_candidates, topics.SAFETY_EVENTS: _on_safety, topics.STAGE_TIMES: _on_stages,
            topics.CMD_VEL: _on_cmd, topics.ODOM: _on_odom, topics.CAMERA_INFO: _on_camera_info,
            topics.CAMERA_MOUNT: _on_mount, topics.SIM_STATE: _on_sim, topics.SIM_WORLD: _on_world}
IMAGE_TOPICS = (topics.RGB, topics.DEPTH)


class BagError(ValueError):
    """The path is no readable rosbag2 or holds none of a LingNav run's topics."""


def find_bag(run: Path) -> Path:
    """A bag folder, or the one bag inside an eval/demo run folder (the newest when several)."""
    run = Path(run)
    if (run / "metadata.yaml").is_file():
        return run
    bags = sorted((p.parent for p in run.rglob("metadata.yaml")), key=lambda p: p.stat().st_mtime)
    if not bags:
        raise BagError(f"no rosbag2 (metadata.yaml) in {run}")
    return bags[-1]


def read_run(run: Path, with_frames: bool = True) -> RunLog:
    bag = find_bag(run)
    log = RunLog(bag)
    try:
        with open_rosbag2(bag) as reader:
            _first_pass(reader, log)
            if with_frames and log.s2:
                _second_pass(reader, log, {c.stamp_s for c in log.s2})
    except Exception as exc:  # rosbags raises several kinds for a broken or foreign folder
        if isinstance(exc, BagError):
            raise
        raise BagError(f"cannot read {bag}: {type(exc).__name__}: {exc}") from exc
    if not (log.cmds or log.statuses or log.arrivals):
        raise BagError(f"{bag} holds none of a LingNav run's topics")
    return log


def _first_pass(reader, log: RunLog) -> None:
    conns = [c for c in reader.connections if c.topic in HANDLERS or c.topic in IMAGE_TOPICS]
    stamp_only = {topics.RGB, topics.DEPTH, topics.ODOM, topics.CAMERA_INFO}
    first = last = None
    for conn, t_ns, raw in reader.messages(connections=conns):
        t = t_ns * NS
        first, last = (t if first is None else first), t
        if conn.topic in IMAGE_TOPICS:
            header = reader.deserialize(raw, conn.msgtype).header
            log.arrivals.setdefault(conn.topic, []).append((t, _stamp(header)))
            continue
        msg = reader.deserialize(raw, conn.msgtype)
        if conn.topic in stamp_only:
            log.arrivals.setdefault(conn.topic, []).append((t, _stamp(msg.header)))
        HANDLERS[conn.topic](log, t, msg)
    log.start_s = first if first is not None else math.nan
    log.end_s = last if last is not None else math.nan


def _second_pass(reader, log: RunLog, stamps: set[float]) -> None:
    conns = [c for c in reader.connections if c.topic in IMAGE_TOPICS]
    for conn, _, raw in reader.messages(connections=conns):
        msg = reader.deserialize(raw, conn.msgtype)
        stamp = _stamp(msg.header)
        if stamp not in stamps:
            continue
        try:
            if conn.topic == topics.RGB:
                rgb = rgb_from_msg(msg)
                log.frames.setdefault(stamp, Frame(stamp, rgb)).rgb = rgb
            else:
                depth = depth_to_metres(msg, "auto")
                if stamp in log.frames:
                    log.frames[stamp].depth_m = depth
                else:
                    log.frames[stamp] = Frame(stamp, np.zeros((0, 0, 3), np.uint8), depth)
        except (ImageEncodingError, ValueError):
            continue
