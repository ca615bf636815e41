"""Which subsystem went wrong first, judged from a RunLog with pure functions.

Each check turns records into `Finding`s (time, subsystem, what): S2 pointed at another object or
away from the target (the simulator's ground truth says which object is meant), S1 found no
path, chose one the map blocked or answered past its deadline, the tracker left the plan, a
safety layer stopped the robot, a sensor went stale. A step is the stretch from one S2 answer to
the next; its verdict is its earliest finding, and the run's verdict is the first finding of all.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lingnav_core.camera import CameraMount, pixel_to_base, robust_depth_at
from lingnav_ros.tools.diagnosis.run_log import RunLog, S2Call

S2, S1, TRACKER, SAFETY, SENSOR = "S2", "S1", "tracker", "safety", "sensor"
SUBSYSTEMS = (S2, S1, TRACKER, SAFETY, SENSOR)


@dataclass(frozen=True)
class Thresholds:
    object_hit_m: float = 0.3  # an S2 point this close to an object's surface is on it
    s1_deadline_s: float = 1.5  # an S1 answer later than this is past the plan age limit (max_plan_age_s)
    tracking_error_m: float = 0.3  # off the tracked plan by more than this ...
    heading_error_rad: float = 0.35  # ... or facing this far away from it ...
    correcting_w_radps: float = 0.1  # ... without turning back toward it at least this fast ...
    tracking_error_s: float = 1.5  # ... for this long: the tracker diverged
    lookahead_m: float = 0.5  # the plan point the heading is judged against
    plan_fresh_s: float = 1.5  # a plan is tracked this long after it arrived
    sensor_gap_s: float = 0.5  # no image or odometry for this long while the mission runs


@dataclass(frozen=True)
class Finding:
    t_s: float  # bag time
    subsystem: str
    what: str


@dataclass(frozen=True)
class PointCheck:
    """Where one S2 answer pointed in the world."""

    call: S2Call
    on: str  # label of the object hit, "wall", "floor", or "" when unknown
    target: str  # the simulator's target label
    world_xy: tuple[float, float] | None


@dataclass(frozen=True)
class Step:
    index: int
    start_s: float
    end_s: float
    s2: S2Call | None
    findings: tuple[Finding, ...]

    @property
    def verdict(self) -> str:
        return f"{self.findings[0].subsystem}: {self.findings[0].what}" if self.findings else "ok"


# ---------------------------------------------------------------------------------- ground truth
def sim_pose_at(log: RunLog, t_sim_s: float) -> tuple[float, float, float] | None:
    """The simulator's robot pose (x, y, yaw) nearest to sim time `t_sim_s`."""
    if not log.sim:
        return None
    best = min(log.sim, key=lambda s: abs(float(s.get("t", math.inf)) - t_sim_s))
    if abs(float(best.get("t", math.inf)) - t_sim_s) > 0.25:
        return None
    return float(best["x"]), float(best["y"]), float(best["theta"])


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    e = b - a
    t = float(np.clip(np.dot(p - a, e) / max(float(np.dot(e, e)), 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(a + t * e - p))


def surface_distance(obj: dict, xy: np.ndarray) -> float:
    """Distance from a point to an object's footprint (0 inside a box)."""
    if obj.get("kind") == "box" and obj.get("corners"):
        c = np.asarray(obj["corners"], float)
        inside = all(np.cross(c[(i + 1) % 4] - c[i], xy - c[i]) >= 0 for i in range(4)) or \
            all(np.cross(c[(i + 1) % 4] - c[i], xy - c[i]) <= 0 for i in range(4))
        return 0.0 if inside else min(_segment_distance(xy, c[i], c[(i + 1) % 4]) for i in range(4))
    return max(float(np.hypot(*(xy - [obj["x"], obj["y"]]))) - float(obj.get("radius", 0.0)), 0.0)


def what_is_at(world: dict, xy: np.ndarray, hit_m: float) -> str:
    """The object label at `xy` (nearest within `hit_m`), else "wall" or "floor"."""
    objs = [(surface_distance(o, xy), o.get("label") or o.get("kind", "object")) for o in world.get("objects", [])]
    near = min(objs, default=(math.inf, ""))
    if near[0] <= hit_m:
        return near[1]
    walls = [_segment_distance(xy, np.array(w[:2], float), np.array(w[2:4], float)) for w in world.get("walls", [])]
    return "wall" if walls and min(walls) <= hit_m else "floor"


def check_s2_point(log: RunLog, call: S2Call, th: Thresholds) -> PointCheck:
    """Lift the S2 pixel with the recorded depth into the world and name what it lands on."""
    target = (log.world or {}).get("target", "")
    frame = log.frames.get(call.stamp_s)
    pose = sim_pose_at(log, call.stamp_s)
    if call.pixel is None or frame is None or frame.depth_m is None or pose is None or log.world is None \
            or log.intrinsics is None:
        return PointCheck(call, "", target, None)
    intr = log.intrinsics
    h, w = frame.depth_m.shape
    if (intr.width, intr.height) != (w, h):
        intr = intr.scaled_to(w, h)
    depth = robust_depth_at(frame.depth_m, call.pixel[0], call.pixel[1])
    base = pixel_to_base(call.pixel[0], call.pixel[1], depth, intr, log.mount or CameraMount())
    if base is None or not math.isfinite(depth):
        return PointCheck(call, "", target, None)
    x, y, yaw = pose
    c, s = math.cos(yaw), math.sin(yaw)
    xy = np.array([x + c * base[0] - s * base[1], y + s * base[0] + c * base[1]])
    return PointCheck(call, what_is_at(log.world, xy, th.object_hit_m), target, (float(xy[0]), float(xy[1])))


def s2_findings(log: RunLog, th: Thresholds) -> tuple[list[PointCheck], list[Finding]]:
    checks = [check_s2_point(log, c, th) for c in log.s2]
    findings = []
    for pc in checks:
        if not pc.on or not pc.target or pc.on == pc.target:
            continue
        if pc.on in ("wall", "floor"):
            what = f"S2 pointed away from the target '{pc.target}' (pixel {pc.call.pixel} lands on the {pc.on})"
        else:
            what = f"S2 pointed at another object: '{pc.on}' instead of '{pc.target}' (pixel {pc.call.pixel})"
        findings.append(Finding(pc.call.received_s, S2, what))
    return checks, findings


# ---------------------------------------------------------------------------------- S1, safety, sensors
def s1_findings(log: RunLog, th: Thresholds) -> list[Finding]:
    out = [Finding(c.received_s, S1, f"S1 found no safe path (best value {float(c.values.max()):.2f})")
           for c in log.s1 if c.no_safe_path and c.values.size]
    out += [Finding(c.received_s, S1, f"S1 answered in {c.latency_s:.2f} s, past its {th.s1_deadline_s:.1f} s "
                                      "deadline") for c in log.s1 if c.latency_s > th.s1_deadline_s]
    out += [Finding(p.received_s, S1, f"S1 chose a blocked path: {p.veto_reason}")
            for p in log.plans if "blocked" in p.veto_reason]
    return out


def safety_findings(log: RunLog) -> list[Finding]:
    """Safety stops, each attributed: stale sensors to the sensor, a late plan or a server away
    to that server, a collision-monitor stop to safety itself."""
    out = []
    for ev in log.safety:
        cause = ev.cause.lower()
        if ev.layer == "collision" and ev.zone == "stop":
            out.append(Finding(ev.t_s, SAFETY, f"collision monitor stopped the robot: {ev.cause}"))
        elif ev.layer == "watchdog" and "plan stale" in cause:
            out.append(Finding(ev.t_s, S1, f"watchdog: {ev.cause} (S1 plans came too late)"))
        elif ev.layer == "watchdog":
            out.append(Finding(ev.t_s, SENSOR, f"watchdog: {ev.cause}"))
        elif ev.layer == "outage":
            out.append(Finding(ev.t_s, S1 if "for s1" in cause else S2,
                               f"server away, robot held: {ev.cause}"))
    return out


def _active_spans(log: RunLog) -> list[tuple[float, float]]:
    active = {"QUERYING", "SEARCHING", "APPROACHING", "EXECUTING_MOVE"}
    spans, start = [], None
    for st in log.statuses:
        if st.state in active and start is None:
            start = st.t_s
        elif st.state not in active and start is not None:
            spans.append((start, st.t_s))
            start = None
    if start is not None:
        spans.append((start, log.end_s))
    return spans


def sensor_findings(log: RunLog, th: Thresholds) -> list[Finding]:
    """A gap in images or odometry while the mission was running."""
    out = []
    spans = _active_spans(log)
    for topic, arrivals in log.arrivals.items():
        times = np.array([a[0] for a in arrivals])
        if times.size < 2:
            continue
        gaps = np.diff(times)
        for i in np.flatnonzero(gaps > th.sensor_gap_s):
            t = float(times[i])
            if any(a <= t <= b for a, b in spans):
                out.append(Finding(t, SENSOR, f"{topic} stale: nothing for {gaps[i]:.2f} s"))
    return out


# ---------------------------------------------------------------------------------- tracking
@dataclass(frozen=True)
class TrackingSample:
    t_s: float
    off_path_m: float  # distance from the robot to the tracked plan
    bearing_rad: float  # from the robot's heading to the plan's point `lookahead_m` ahead (left positive)
    w_radps: float  # the yaw rate commanded then


def _nearest(xy: np.ndarray, path: np.ndarray) -> tuple[float, int]:
    d = np.linalg.norm(path[:, :2] - xy, axis=1)
    i = int(np.argmin(d))
    return float(d[i]), i


def _lookahead(path: np.ndarray, i: int, lookahead_m: float) -> np.ndarray:
    seg = np.linalg.norm(np.diff(path[i:, :2], axis=0), axis=1)
    j = i + int(np.searchsorted(np.cumsum(seg), lookahead_m)) + 1 if seg.size else i
    return path[min(j, len(path) - 1), :2]


def tracking_samples(log: RunLog, th: Thresholds) -> list[TrackingSample]:
    """Per odometry sample while a fresh plan (not `no_safe_path`) was tracked: how far off the
    plan the robot was, and the bearing to the plan's point a little ahead."""
    plans = [p for p in log.plans if not p.no_safe_path and len(p.chosen_path_odom) > 1]
    cmd_t = [c[0] for c in log.cmds]
    out, k = [], -1
    for stamp, x, y, yaw in log.odom:
        while k + 1 < len(plans) and plans[k + 1].received_s <= stamp:
            k += 1
        if k < 0 or stamp - plans[k].received_s > th.plan_fresh_s:
            continue
        path, xy = plans[k].chosen_path_odom, np.array([x, y])
        off, i = _nearest(xy, path)
        ahead = _lookahead(path, i, th.lookahead_m) - xy
        bearing = math.remainder(math.atan2(ahead[1], ahead[0]) - yaw, math.tau) if np.hypot(*ahead) > 0.1 else 0.0
        j = int(np.searchsorted(cmd_t, stamp, side="right")) - 1
        out.append(TrackingSample(stamp, off, bearing, log.cmds[j][2] if j >= 0 else 0.0))
    return out


def _diverging(s: TrackingSample, th: Thresholds) -> bool:
    """Off the plan, or facing away from it without turning back toward it."""
    turning_back = s.w_radps * math.copysign(1.0, s.bearing_rad) >= th.correcting_w_radps
    return s.off_path_m > th.tracking_error_m or (abs(s.bearing_rad) > th.heading_error_rad and not turning_back)


def tracker_findings(samples: list[TrackingSample], th: Thresholds) -> list[Finding]:
    out, since = [], None
    for s in samples:
        if not _diverging(s, th):
            since = None
            continue
        since = s.t_s if since is None else since
        if s.t_s - since >= th.tracking_error_s:
            out.append(Finding(since, TRACKER, f"tracker left the plan for {s.t_s - since:.1f} s: "
                                               f"{s.off_path_m:.2f} m off it, plan {math.degrees(s.bearing_rad):.0f} "
                                               f"deg off the heading, commanded w {s.w_radps:.2f} rad/s"))
            since = None
    return out


# ---------------------------------------------------------------------------------- steps
@dataclass
class Diagnosis:
    findings: list[Finding]
    steps: list[Step]
    s2_checks: list[PointCheck]
    tracking: list[TrackingSample]
    outcome: str
    verdict: str  # the first subsystem that went wrong, with what it did; "no fault found" otherwise
    first: Finding | None


def diagnose(log: RunLog, th: Thresholds | None = None) -> Diagnosis:
    th = th or Thresholds()
    checks, f_s2 = s2_findings(log, th)
    tracking = tracking_samples(log, th)
    findings = sorted(f_s2 + s1_findings(log, th) + safety_findings(log) + sensor_findings(log, th)
                      + tracker_findings(tracking, th), key=lambda f: f.t_s)
    starts = [log.start_s] + [c.received_s for c in log.s2]
    calls: list[S2Call | None] = [None, *log.s2]
    steps = []
    for i, (start, call) in enumerate(zip(starts, calls)):
        end = starts[i + 1] if i + 1 < len(starts) else log.end_s + 1e-9
        steps.append(Step(i, start, end, call, tuple(f for f in findings if start <= f.t_s < end)))
    outcome = f"{log.statuses[-1].state}: {log.statuses[-1].reason}" if log.statuses else "no status recorded"
    first = findings[0] if findings else None
    verdict = f"{first.subsystem}: {first.what}" if first else "no fault found"
    return Diagnosis(findings, steps, checks, tracking, outcome, verdict, first)
