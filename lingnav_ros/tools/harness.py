"""Run LingNav end to end on this machine: servers, simulator, navigator, a monitor and a bag.

`make demo` and `lingnav-eval` both use this. The S2 (color backend) and S1 (geometric) servers
run as real HTTP services on loopback, the simulator and the navigator as separate ROS
processes wired exactly like a mode A robot, and the monitor watches from outside: it only
sees topics, like a person in RViz would.
"""
from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from lingnav_msgs.msg import NavStatus, S2Result
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from std_msgs.msg import String

from lingnav_ros import topics
from lingnav_ros.launch_description import BringupArgs, describe, ros_args
from lingnav_ros.ros_domain import ensure_domain_id
from lingnav_ros.sim.robot import RobotParams
from lingnav_ros.sim.world import World, load
from lingnav_ros.tools.arrival_metrics import score_arrival, score_steps

TERMINAL = {NavStatus.ARRIVED: "ARRIVED", NavStatus.FAILED: "FAILED", NavStatus.STOPPED: "STOPPED",
            NavStatus.ESTOP: "ESTOP"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout_s: float) -> bool:
    import requests

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1.0).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


class Processes:
    """Children started here are stopped here, whatever happens (Ctrl-C included)."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list[str], env: dict, log_name: str = "") -> subprocess.Popen:
        log = open(self.log_dir / f"{log_name or name}.log", "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def stop(self, name: str | None = None) -> None:
        for pname, proc in list(self.procs):
            if name is not None and pname != name:
                continue
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGINT)
                    proc.wait(timeout=5.0)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    proc.wait(timeout=5.0)
            self.procs.remove((pname, proc))

    def dead(self) -> list[str]:
        return [f"{n} (exit {p.returncode})" for n, p in self.procs if p.poll() is not None]


@dataclass
class Servers:
    s2_port: int
    s1_port: int


def start_servers(procs: Processes, env: dict, timeout_s: float = 60.0) -> Servers:
    servers = Servers(free_port(), free_port())
    procs.start("s2_server", [sys.executable, "-m", "s2_server", "--backend", "color",
                              "--port", str(servers.s2_port)], env)
    start_s1_server(procs, env, servers.s1_port, "s1_server")
    for name, port in (("S2", servers.s2_port), ("S1", servers.s1_port)):
        if not wait_http(f"http://127.0.0.1:{port}/health", timeout_s):
            raise RuntimeError(f"{name} server did not come up on port {port}; see {procs.log_dir}")
    return servers


def start_s1_server(procs: Processes, env: dict, port: int, name: str) -> subprocess.Popen:
    """The geometric S1 server on `port`, planning for the simulated robot's height (it drives
    under what passes over it)."""
    return procs.start(name, [sys.executable, "-m", "s1_server", "--backend", "geometric", "--port", str(port),
                              "--robot_height_m", str(RobotParams().height_m)], env)


@dataclass
class RunResult:
    name: str
    instruction: str
    final_state: str
    reason: str
    success: bool
    sim_time_s: float  # from the start of the mission
    wall_time_s: float
    path_length_m: float
    contacts: int  # the robot drove into something
    target_distance_m: float
    s2_calls: int
    s1_calls: int
    s2_latency_ms: list[float] = field(default_factory=list)
    s1_latency_ms: list[float] = field(default_factory=list)
    spl: float = 0.0
    shortest_path_m: float = float("nan")  # grid A* to within the success radius (shortest_path.py)
    trajectory: list[tuple[float, float]] = field(default_factory=list)
    s2_query_points: list[tuple[float, float]] = field(default_factory=list)
    events: list[tuple[float, str, str]] = field(default_factory=list)  # mission state/reason changes
    bag_path: str = ""
    repeat: int = 0
    final_pose: tuple[float, float, float] = (float("nan"),) * 3  # sim ground truth x, y, theta
    heading_error_deg: float = float("nan")  # to the target's centre at the end (arrival_metrics.py)
    arrive_distance_m: float = float("nan")  # what the navigator was asked to stop at
    step_ends: list[tuple[float, float, float]] = field(default_factory=list)  # where each earlier step ended
    steps: list[dict] = field(default_factory=list)  # per step of a sequence: target, distance, ok

    hits_while_stopped: int = 0  # something walked into the standing robot: not the robot's doing
    sim_states: list[dict] = field(default_factory=list)  # every ground-truth state, with wall_s (benches)

    def summary(self) -> dict:
        skip = ("trajectory", "s2_query_points", "sim_states", "step_ends", "s2_latency_ms", "s1_latency_ms", "events")
        d = {k: v for k, v in self.__dict__.items() if k not in skip}
        d["recoveries"] = sum(1 for _, _, reason in self.events if reason.startswith("recovery "))
        d["s2_latency_ms_median"] = _median(self.s2_latency_ms)
        d["s1_latency_ms_median"] = _median(self.s1_latency_ms)
        return d


def _median(values: list[float]) -> float:
    vals = sorted(v for v in values if math.isfinite(v))
    return vals[len(vals) // 2] if vals else float("nan")


class Monitor(Node):
    """Watches the run from the outside (topics only) and optionally records a bag."""

    def __init__(self, context: Context, bag_path: Path | None, namespace: str = ""):
        super().__init__("lingnav_run_monitor", context=context, namespace=namespace,
                         parameter_overrides=[rclpy.parameter.Parameter("use_sim_time", value=True)])
        self.lock = threading.Lock()
        self.sim_state: dict = {}
        self.states: list[dict] = []
        self.status: NavStatus | None = None
        self.trajectory: list[tuple[float, float]] = []
        self.s2_points: list[tuple[float, float]] = []
        self.s2_latency_ms: list[float] = []
        self.s1_latency_ms: list[float] = []
        self.events: list[tuple[float, str, str]] = []  # (sim time, state, reason) on each change
        self.mission_start_sim_s = 0.0  # the time budget runs from here (later in a recorded run)
        self._last_s1 = float("nan")
        self.step_ends: list[tuple[float, float, float]] = []  # sim pose where each step but the last ended
        self.create_subscription(String, topics.SIM_STATE, self._on_sim, 10)
        self.create_subscription(NavStatus, topics.STATUS, self._on_status, 10)
        self.create_subscription(S2Result, topics.S2_RESULT, self._on_s2, 10)
        self.recorder = None
        if bag_path is not None:
            from lingnav_ros.tools.bag import BagRecorder
            from lingnav_ros.tools.diagnosis.recorded_topics import RECORDED_QOS, RECORDED_TOPICS

            self.recorder = BagRecorder(self, bag_path, RECORDED_TOPICS, qos=RECORDED_QOS)
        self.instruction_pub = self.create_publisher(String, topics.INSTRUCTION, 10)
        self.navigator_sensing = False  # its diagnostics report camera frames and odometry coming in
        self.create_subscription(DiagnosticArray, topics.DIAGNOSTICS, self._on_diagnostics, 10)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.endswith(": sensors"):
                values = {kv.key: kv.value for kv in status.values}
                rates = [float(values.get(k, "0") or 0.0) for k in ("rgbd_rate_hz", "odom_rate_hz")]
                self.navigator_sensing = all(r > 0.0 for r in rates)

    def hears(self, publishers: tuple[str, ...] = (), subscribers: tuple[str, ...] = ()) -> bool:
        """Discovery has shown each of these topics' other side (the graph, as `ros2 topic info`)."""
        return all(self.count_publishers(t) > 0 for t in publishers) and \
            all(self.count_subscribers(t) > 0 for t in subscribers)

    def _on_sim(self, msg: String) -> None:
        state = json.loads(msg.data)
        state["wall_s"] = time.monotonic()
        with self.lock:
            self.sim_state = state
            self.states.append(state)
            self.trajectory.append((state["x"], state["y"]))

    def _on_status(self, msg: NavStatus) -> None:
        with self.lock:
            self.status = msg
            while len(self.step_ends) < msg.step_index and self.sim_state:
                self.step_ends.append(tuple(float(self.sim_state[k]) for k in ("x", "y", "theta")))
            if not self.events or self.events[-1][1:] != (msg.state_name, msg.reason):
                self.events.append((float(self.sim_state.get("t", 0.0)), msg.state_name, msg.reason))
            if math.isfinite(msg.s1_latency_s) and msg.s1_latency_s != self._last_s1:
                self._last_s1 = msg.s1_latency_s
                self.s1_latency_ms.append(msg.s1_latency_s * 1000.0)

    def _on_s2(self, msg: S2Result) -> None:
        with self.lock:
            self.s2_latency_ms.append(msg.latency_s * 1000.0)
            if self.sim_state:
                self.s2_points.append((self.sim_state["x"], self.sim_state["y"]))


@dataclass
class RunOptions:
    world_path: Path
    instruction: str = ""
    max_sim_time_s: float = 180.0
    max_wall_time_s: float = 300.0
    real_time_factor: float = 1.0
    depth_encoding: str = "16UC1"
    record_bag: Path | None = None
    success_radius_m: float = 1.0
    expect_failure: bool = False
    progress: bool = False
    navigator_overrides: dict = field(default_factory=dict)


def child_env() -> dict:
    """Environment for the children, and for this process too: all of them must share the same
    DDS discovery settings or they never see each other. Runs stay on this machine by default."""
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("ROS_LOCALHOST_ONLY", "1")
    ensure_domain_id()  # a simulated run publishes cmd_vel: never on a domain that a robot or another run uses
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_scenario(opts: RunOptions, servers: Servers, procs: Processes, name: str = "") -> RunResult:
    """One closed-loop run: start simulator + navigator, watch until a terminal state, stop them."""
    world: World = load(opts.world_path)
    instruction = opts.instruction or world.instruction
    env = child_env()  # before rclpy.init: the monitor must use the same discovery settings
    specs = describe(BringupArgs(mode="A", s2_port=servers.s2_port, s1_port=servers.s1_port,
                                 instruction=instruction, camera="sim", use_sim_time=True, sim=True))
    sim_spec, nav_spec = specs[0], specs[1]
    sim_spec.parameters.append({"world": str(opts.world_path), "real_time_factor": opts.real_time_factor,
                                "depth_encoding": opts.depth_encoding})
    nav_spec.parameters.append(dict(opts.navigator_overrides))
    if opts.record_bag is not None:
        # the instruction comes by topic once the recorder hears the navigator (_start_recorded)
        nav_spec.parameters.append({"initial_instruction": ""})
    context = Context()
    rclpy.init(context=context)
    monitor = Monitor(context, opts.record_bag)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(monitor)
    spin = threading.Thread(target=executor.spin, daemon=True)
    spin.start()
    t_wall0 = time.monotonic()
    tag = name or world.name
    try:
        procs.start("sim", [sys.executable, "-m", sim_spec.module, *ros_args(sim_spec)], env, f"{tag}-sim")
        nav_cmd = [sys.executable, "-m", nav_spec.module, *ros_args(nav_spec)]
        if opts.record_bag is not None:
            _start_recorded(monitor, procs, nav_cmd, env, f"{tag}-navigator", instruction)
        else:
            procs.start("navigator", nav_cmd, env, f"{tag}-navigator")
        final, reason = _watch(opts, monitor, procs, t_wall0)
    finally:
        time.sleep(0.3)  # let the last sim state arrive
        procs.stop("navigator")
        procs.stop("sim")
        if monitor.recorder is not None:
            monitor.recorder.close()
        executor.shutdown()
        monitor.destroy_node()
        rclpy.shutdown(context=context)
        spin.join(timeout=5.0)
    result = _collect(monitor, opts, name or world.name, instruction, final, reason, t_wall0)
    _score(result, world, opts)
    return result


SIM_OUTPUTS = (topics.RGB, topics.DEPTH, topics.ODOM, topics.SIM_STATE)
NAVIGATOR_OUTPUTS = (topics.STATUS, topics.CMD_VEL, topics.S2_RESULT, topics.S1_ANSWER, topics.CANDIDATES,
                     topics.SAFETY_EVENTS, topics.STAGE_TIMES)


def _start_recorded(monitor: Monitor, procs: Processes, nav_cmd: list[str], env: dict, log_name: str,
                    instruction: str, timeout_s: float = 60.0) -> None:
    """A recorded run holds everything the navigator heard and said: the navigator starts once the
    recorder hears the simulator, and the mission once the recorder hears the navigator and the
    navigator reports frames and odometry coming in (the instruction then goes out on its topic,
    and into the bag, for the offline replay to resend). Otherwise discovery, seconds on a busy
    machine, loses the first frames and S2 answers."""
    _wait_until(lambda: monitor.hears(SIM_OUTPUTS), procs, timeout_s, "the simulator's topics")
    procs.start("navigator", nav_cmd, env, log_name)
    _wait_until(lambda: monitor.hears(NAVIGATOR_OUTPUTS, (topics.INSTRUCTION,)), procs, timeout_s,
                "the navigator's topics")
    _wait_until(lambda: monitor.navigator_sensing, procs, timeout_s, "the navigator report its sensors")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        monitor.instruction_pub.publish(String(data=instruction))
        if _wait_for(lambda: monitor.status is not None and bool(monitor.status.instruction), 1.0):
            with monitor.lock:
                monitor.mission_start_sim_s = float(monitor.sim_state.get("t", 0.0))
            return
    raise RuntimeError(f"the navigator did not take the instruction within {timeout_s:.0f} s")


def _wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _wait_until(condition, procs: Processes, timeout_s: float, what: str) -> None:
    if not _wait_for(lambda: condition() or bool(procs.dead()), timeout_s) or procs.dead():
        raise RuntimeError(f"the recorder never heard {what} within {timeout_s:.0f} s "
                           f"(exited: {procs.dead() or 'none'}); see {procs.log_dir}")


def _watch(opts: RunOptions, monitor: Monitor, procs: Processes, t_wall0: float) -> tuple[str, str]:
    """Poll the status until a terminal state, a dead process or the time budget: (final, reason)."""
    last_print = 0.0
    while True:
        time.sleep(0.1)
        with monitor.lock:
            st, sim = monitor.status, dict(monitor.sim_state)
        if st is not None and st.state in TERMINAL and st.instruction:
            return TERMINAL[st.state], st.reason
        dead = procs.dead()
        if dead:
            return "CRASHED", "process died: " + ", ".join(dead)
        wall = time.monotonic() - t_wall0
        if sim.get("t", 0.0) - monitor.mission_start_sim_s > opts.max_sim_time_s or wall > opts.max_wall_time_s:
            return "TIMEOUT", "run exceeded its time budget"
        if opts.progress and wall - last_print >= 2.0:
            last_print = wall
            state_name = st.state_name if st else "starting"
            dist = sim.get("target_distance_m", float("nan"))
            print(f"  t={sim.get('t', 0.0):6.1f}s  {state_name:<15} target {dist:5.2f} m"
                  f"  S2 calls {st.s2_calls if st else 0:3d}  S1 calls {st.s1_calls if st else 0:4d}"
                  f"  contacts {sim.get('contacts', 0)}", flush=True)


def _collect(monitor: Monitor, opts: RunOptions, name: str, instruction: str, final: str, reason: str,
             t_wall0: float) -> RunResult:
    """What the monitor saw of the run, as a RunResult (not yet scored)."""
    with monitor.lock:
        sim = dict(monitor.sim_state)
        st = monitor.status
        return RunResult(
            name=name, instruction=instruction, final_state=final, reason=reason,
            success=False, sim_time_s=float(sim.get("t", 0.0)) - monitor.mission_start_sim_s,
            wall_time_s=time.monotonic() - t_wall0,
            path_length_m=float(sim.get("distance_m", 0.0)), contacts=int(sim.get("contacts", 0)),
            hits_while_stopped=int(sim.get("hits_while_stopped", 0)), sim_states=list(monitor.states),
            target_distance_m=float(sim.get("target_distance_m", float("nan"))),
            s2_calls=int(st.s2_calls) if st else 0, s1_calls=int(st.s1_calls) if st else 0,
            s2_latency_ms=list(monitor.s2_latency_ms), s1_latency_ms=list(monitor.s1_latency_ms),
            trajectory=list(monitor.trajectory), s2_query_points=list(monitor.s2_points),
            events=list(monitor.events), bag_path=str(opts.record_bag) if opts.record_bag else "",
            final_pose=tuple(float(sim.get(k, float("nan"))) for k in ("x", "y", "theta")),
            step_ends=list(monitor.step_ends))


def _score(result: RunResult, world: World, opts: RunOptions) -> None:
    """Success against the expected outcome, and SPL against the grid shortest path."""
    score_arrival(result, world, opts.navigator_overrides)
    if opts.expect_failure:
        result.success = result.final_state == "FAILED"
        result.spl = 1.0 if result.success else result.spl
        return
    result.success = result.final_state == "ARRIVED" and math.isfinite(result.target_distance_m) \
        and result.target_distance_m <= opts.success_radius_m
    if len(world.target_labels) > 1:
        result.steps = score_steps(world, result.step_ends, result.final_pose, opts.success_radius_m)
        result.success = result.final_state == "ARRIVED" and all(s["ok"] for s in result.steps)
    from lingnav_ros.tools.shortest_path import shortest_path_m

    result.shortest_path_m = shortest_path_m(world, goal_radius_m=opts.success_radius_m)
    if result.success:
        shortest = result.shortest_path_m if math.isfinite(result.shortest_path_m) else result.path_length_m
        result.spl = shortest / max(result.path_length_m, shortest, 1e-6)


def draw_map(world: World, result: RunResult, path: Path, px_per_m: float = 80.0) -> Path:
    """Top-down PNG: walls, objects, the driven path, where S2 was asked, start and end."""
    import cv2
    import numpy as np

    pts = [(w[0], w[1]) for w in world.walls] + [(w[2], w[3]) for w in world.walls] + \
        [(s.x_m, s.y_m) for s in world.shapes] + list(result.trajectory)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1, y0, y1 = min(xs) - 0.5, max(xs) + 0.5, min(ys) - 0.5, max(ys) + 0.5
    w, h = int((x1 - x0) * px_per_m), int((y1 - y0) * px_per_m)
    img = np.full((h + 60, w, 3), 255, np.uint8)

    def px(x, y):
        return int((x - x0) * px_per_m), int((y1 - y) * px_per_m)

    for wx0, wy0, wx1, wy1 in world.walls:
        cv2.line(img, px(wx0, wy0), px(wx1, wy1), (60, 60, 60), 3)
    for s in world.shapes:
        colour = tuple(int(c) for c in s.rgb[::-1])
        if s.motion is not None:  # a walker: its path, drawn where it ends
            cv2.polylines(img, [np.array([px(*p) for p in s.motion.points], np.int32)], False, (200, 200, 200), 1)
            s = s.at(1e9)
        if s.kind == "box":
            cv2.fillPoly(img, [np.array([px(*c) for c in s.corners()], np.int32)], colour)
        else:
            cv2.circle(img, px(s.x_m, s.y_m), int(s.radius_m * px_per_m), colour, -1)
        if s.label:
            cv2.putText(img, s.label, px(s.x_m - 0.3, s.y_m - 0.45), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    if len(result.trajectory) > 1:
        cv2.polylines(img, [np.array([px(*p) for p in result.trajectory], np.int32)], False, (200, 80, 0), 2)
        cv2.circle(img, px(*result.trajectory[0]), 6, (0, 160, 0), -1)
        cv2.circle(img, px(*result.trajectory[-1]), 6, (0, 0, 200), -1)
    for q in result.s2_query_points:
        cv2.drawMarker(img, px(*q), (160, 0, 160), cv2.MARKER_TILTED_CROSS, 10, 2)
    text = f"{result.final_state}: {result.reason[:60]}  path {result.path_length_m:.1f} m  S2 x{result.s2_calls}"
    cv2.putText(img, text, (10, h + 25), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
    cv2.putText(img, "green: start  red: end  blue: path  purple x: S2 queries", (10, h + 48),
                cv2.FONT_HERSHEY_SIMPLEX, 0.4, (80, 80, 80), 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)
    return path
