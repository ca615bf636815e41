"""What a later diagnosis needs and the other topics do not say: every safety intervention with
its cause, each S1 answer as the planner gave it (before the map veto), and where the time went
from a camera image to the first cmd_vel computed from its plan.

`lingnav-diagnose` reads these from a bag to name the first subsystem that went wrong, and
`lingnav-replay --offline` feeds the recorded S1 answers back to a navigator. Unlike the views,
these are published whether or not anybody listens: they are small, and a bag recorder that
joins late must not miss the intervention that stopped the robot.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from lingnav_msgs.msg import S1Answer, SafetyEvent, StageTimes
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header

from lingnav_core.s1_plan import ImageGoal, NoGoal, PixelGoal, PointGoal, PointImageGoal, S1Plan
from lingnav_ros import topics
from lingnav_ros.control.types import Command
from lingnav_ros.stamps import time_msg

NAN = float("nan")
# A limiter change smaller than this is the tracker's own rounding, not an intervention.
LIMITER_EPS_MPS = 0.02
LIMITER_EPS_RADPS = 0.05


def goal_fields(goal) -> tuple[str, float, float]:
    """(kind, x, y) of a goal as S1Answer spells it."""
    if isinstance(goal, PointGoal):
        return "point", float(goal.x_m), float(goal.y_m)
    if isinstance(goal, PixelGoal):
        return "pixel", float(goal.u), float(goal.v)
    if isinstance(goal, PointImageGoal):
        return "point_image", float(goal.x_m), float(goal.y_m)
    if isinstance(goal, ImageGoal):
        return "image", NAN, NAN
    if isinstance(goal, NoGoal):
        return "none", NAN, NAN
    return type(goal).__name__, NAN, NAN


def s1_answer_msg(plan: S1Plan, goal, stamp_s: float, frame_id: str, latency_s: float) -> S1Answer:
    cands = np.asarray(plan.candidates, dtype=np.float32)
    kind, gx, gy = goal_fields(goal)
    msg = S1Answer(header=Header(stamp=time_msg(stamp_s), frame_id=frame_id), goal_kind=kind,
                   goal_x=gx, goal_y=gy, num_candidates=int(cands.shape[0]),
                   num_waypoints=int(cands.shape[1]) if cands.ndim == 3 else 0,
                   chosen_index=int(plan.chosen_index), no_safe_path=bool(plan.no_safe_path),
                   backend=str(plan.backend), latency_s=float(latency_s),
                   model_ms=float(plan.info.get("model_ms", NAN)) if plan.info else NAN)
    msg.candidates = cands.ravel().tolist()
    msg.best = np.asarray(plan.best, dtype=np.float32).ravel().tolist()
    msg.values = np.asarray(plan.values, dtype=np.float32).ravel().tolist()
    return msg


@dataclass
class _Stages:
    stamp_s: float
    transport_ms: float = NAN
    decode_ms: float = NAN
    local_map_ms: float = NAN
    stored_s: float = NAN  # node clock when the frame became the latest
    wait_for_plan_ms: float = NAN
    s1_plan_ms: float = NAN
    veto_ms: float = NAN
    ready_s: float = NAN  # node clock when the plan reached the mission


class StageClock:
    """Stage durations per image stamp, from the camera callback through S1 to the control tick.

    Each part reports its own stage; the control tick that first uses a plan closes the record.
    Only the newest few images are kept: a frame that was never planned on is simply dropped.
    """

    def __init__(self, keep: int = 64) -> None:
        self._lock = threading.Lock()
        self._records: OrderedDict[float, _Stages] = OrderedDict()
        self._keep = keep

    def _record(self, stamp_s: float) -> _Stages:
        rec = self._records.get(stamp_s)
        if rec is None:
            rec = self._records[stamp_s] = _Stages(stamp_s)
            while len(self._records) > self._keep:
                self._records.popitem(last=False)
        return rec

    def frame_stored(self, stamp_s: float, now_s: float, decode_s: float, local_map_s: float) -> None:
        with self._lock:
            rec = self._record(stamp_s)
            rec.transport_ms = 1e3 * (now_s - stamp_s)
            rec.decode_ms, rec.local_map_ms, rec.stored_s = 1e3 * decode_s, 1e3 * local_map_s, now_s

    def plan_started(self, stamp_s: float, now_s: float) -> None:
        with self._lock:
            rec = self._record(stamp_s)
            rec.wait_for_plan_ms = 1e3 * (now_s - rec.stored_s) if math.isfinite(rec.stored_s) else NAN

    def plan_ready(self, stamp_s: float, plan_s: float, veto_s: float, now_s: float) -> None:
        with self._lock:
            rec = self._record(stamp_s)
            rec.s1_plan_ms, rec.veto_ms, rec.ready_s = 1e3 * plan_s, 1e3 * veto_s, now_s

    def commanded(self, stamp_s: float, tick_s: float, published_s: float, mpc_s: float, safety_s: float,
                  publish_s: float) -> StageTimes | None:
        """The closed record of the plan made on image `stamp_s`, or None when it is unknown."""
        with self._lock:
            rec = self._records.pop(stamp_s, None)
        if rec is None:
            return None
        handover = 1e3 * (tick_s - rec.ready_s) if math.isfinite(rec.ready_s) else NAN
        return StageTimes(header=Header(stamp=time_msg(stamp_s)), transport_ms=rec.transport_ms,
                          decode_ms=rec.decode_ms, local_map_ms=rec.local_map_ms,
                          wait_for_plan_ms=rec.wait_for_plan_ms, s1_plan_ms=rec.s1_plan_ms, veto_ms=rec.veto_ms,
                          handover_ms=handover, mpc_ms=1e3 * mpc_s, safety_ms=1e3 * safety_s,
                          publish_ms=1e3 * publish_s, total_ms=1e3 * (published_s - stamp_s))


def _differs(a: Command, b: Command) -> bool:
    return abs(a.v_mps - b.v_mps) > LIMITER_EPS_MPS or abs(a.w_radps - b.w_radps) > LIMITER_EPS_RADPS


class DiagnosisFeed:
    """The publishers of the three diagnosis topics and the stage clock the parts report to."""

    def __init__(self, safety_pub, s1_answer_pub, stages_pub, frame_id: str) -> None:
        self.safety_pub = safety_pub
        self.s1_answer_pub = s1_answer_pub
        self.stages_pub = stages_pub
        self.frame_id = frame_id
        self.stages = StageClock()

    @classmethod
    def create(cls, node, frame_id: str) -> DiagnosisFeed:
        qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST)
        return cls(node.create_publisher(SafetyEvent, topics.SAFETY_EVENTS, qos),
                   node.create_publisher(S1Answer, topics.S1_ANSWER, qos),
                   node.create_publisher(StageTimes, topics.STAGE_TIMES, qos), frame_id)

    def safety(self, now_s: float, layer: str, zone: str, cause: str, requested: Command,
               allowed: Command) -> None:
        self.safety_pub.publish(SafetyEvent(
            header=Header(stamp=time_msg(now_s), frame_id=self.frame_id), layer=layer, zone=zone, cause=cause,
            requested_v_mps=float(requested.v_mps), requested_w_radps=float(requested.w_radps),
            allowed_v_mps=float(allowed.v_mps), allowed_w_radps=float(allowed.w_radps)))

    def limiter(self, now_s: float, requested: Command, allowed: Command) -> None:
        """An event when the limiter changed the command by more than the tracker's rounding."""
        if _differs(requested, allowed):
            cause = (f"v {requested.v_mps:.2f} -> {allowed.v_mps:.2f} m/s, "
                     f"w {requested.w_radps:.2f} -> {allowed.w_radps:.2f} rad/s")
            self.safety(now_s, SafetyEvent.LAYER_LIMITER, "clamp", cause, requested, allowed)

    def s1_answer(self, plan: S1Plan, goal, stamp_s: float, frame_id: str, latency_s: float) -> None:
        self.s1_answer_pub.publish(s1_answer_msg(plan, goal, stamp_s, frame_id, latency_s))

    def commanded(self, stamp_s: float | None, tick_s: float, published_s: float, mpc_s: float, safety_s: float,
                  publish_s: float) -> None:
        if stamp_s is None:
            return
        msg = self.stages.commanded(stamp_s, tick_s, published_s, mpc_s, safety_s, publish_s)
        if msg is not None:
            self.stages_pub.publish(msg)
