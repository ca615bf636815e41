"""A bring-up started as a person starts it, watched from outside, stopped with one Ctrl-C.

`ros2 launch lingnav bringup.launch.py ...` (the real launch tools) or `lingnav-bringup ...` (the
launch fallback) runs in a session of its own: a background process of a non-interactive shell
ignores SIGINT, and a terminal's Ctrl-C reaches the whole foreground process group, which
`interrupt()` reproduces with killpg. The `GraphObserver` sees only the ROS graph, like
`ros2 node/topic/param` or RViz would.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from lingnav_msgs.msg import NavStatus
from nav_msgs.msg import Odometry
from rcl_interfaces.msg import ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from std_msgs.msg import String

from lingnav_ros import topics
from test.real_tools import ros2_cli
from test.ros_graph import wait_for


def under(namespace: str, name: str) -> str:
    """The absolute name a node in `namespace` gives a relative (or default) topic `name`."""
    base = name.lstrip("/")
    return f"/{namespace}/{base}" if namespace else f"/{base}"


def ros2_launch_command(args: dict[str, str]) -> list[str]:
    return [ros2_cli() or "ros2", "launch", "lingnav", "bringup.launch.py", *(f"{k}:={v}" for k, v in args.items())]


def bringup_command(args: dict[str, str]) -> list[str]:
    out = [sys.executable, "-m", "lingnav_ros.bringup"]
    for key, value in args.items():
        out += [f"--{key}", value]
    return out


_VALUE_FIELDS = {
    ParameterType.PARAMETER_BOOL: "bool_value", ParameterType.PARAMETER_INTEGER: "integer_value",
    ParameterType.PARAMETER_DOUBLE: "double_value", ParameterType.PARAMETER_STRING: "string_value",
    ParameterType.PARAMETER_BYTE_ARRAY: "byte_array_value", ParameterType.PARAMETER_BOOL_ARRAY: "bool_array_value",
    ParameterType.PARAMETER_INTEGER_ARRAY: "integer_array_value",
    ParameterType.PARAMETER_DOUBLE_ARRAY: "double_array_value",
    ParameterType.PARAMETER_STRING_ARRAY: "string_array_value",
}


def parameter_value(pv: ParameterValue):
    """The Python value of a ParameterValue (rclpy's own converter is newer than Humble)."""
    if pv.type not in _VALUE_FIELDS:
        return None  # PARAMETER_NOT_SET
    value = getattr(pv, _VALUE_FIELDS[pv.type])
    return value if pv.type <= ParameterType.PARAMETER_STRING else list(value)


def _descendants(root: int) -> set[int]:
    """Every live process below `root` (by parent pid), read from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, pp in parents.items() if pp == pid]
        found.update(children)
        frontier.extend(children)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Stopped:
    returncode: int | None
    seconds: float
    left_running: list[int]


class LaunchProcess:
    """One bring-up process tree with its combined output in `log_path`."""

    def __init__(self, cmd: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.cmd = cmd
        self.log_path = log_path
        env = dict(os.environ if env is None else env)
        env["PYTHONUNBUFFERED"] = "1"
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()/kill()
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        self.children: set[int] = set()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def watch_children(self, at_least: int, timeout_s: float = 60.0) -> set[int]:
        """Wait for the node processes to exist and remember them (they must all end on Ctrl-C)."""
        wait_for(lambda: len(_descendants(self.proc.pid)) >= at_least or self.proc.poll() is not None,
                 timeout_s, 0.2)
        self.children = _descendants(self.proc.pid)
        return self.children

    def interrupt(self, timeout_s: float = 5.0) -> Stopped:
        """One Ctrl-C, as a terminal sends it (to the process group); how it ended."""
        self.children |= _descendants(self.proc.pid)
        t0 = time.monotonic()
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pass
        wait_for(lambda: not any(_alive(p) for p in self.children), max(0.0, timeout_s - (time.monotonic() - t0)),
                 0.05)
        seconds = time.monotonic() - t0
        left = sorted(p for p in self.children | {self.proc.pid} if _alive(p))
        return Stopped(self.proc.poll(), seconds, left)

    def kill(self) -> None:
        """Whatever is left after a failed test: nothing may outlive the test session."""
        for pid in sorted(self.children | _descendants(self.proc.pid)) + [self.proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


def run_cli(*args: str, until=None, timeout_s: float = 30.0, attempts: int = 3) -> str:
    """`ros2 <args>` with the venv's ros2; its stdout. Without the daemon each call discovers the
    graph afresh within --spin-time, which a loaded machine can miss: a failed call, or one whose
    output does not satisfy `until`, is retried (the caller then asserts on the last output)."""
    for _ in range(attempts):
        done = subprocess.run([ros2_cli() or "ros2", *args], capture_output=True, text=True, timeout=timeout_s,
                              check=False)
        if done.returncode == 0 and (until is None or until(done.stdout)):
            return done.stdout
    if done.returncode == 0:
        return done.stdout
    raise AssertionError(f"ros2 {' '.join(args)} failed {attempts} times ({done.returncode}): "
                         f"{done.stdout}{done.stderr}")


class GraphObserver:
    """An rclpy node of its own context, outside the launch: status, odometry, graph, parameters."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.context = Context()
        import rclpy

        rclpy.init(context=self.context)
        self.node = Node("lingnav_e2e_observer", context=self.context)
        self.statuses: list[NavStatus] = []
        self.odoms: list[Odometry] = []
        self._lock = threading.Lock()
        self.node.create_subscription(NavStatus, under(namespace, topics.STATUS), self._on_status,
                                      qos_profile_sensor_data)
        self.node.create_subscription(Odometry, under(namespace, topics.ODOM), self._on_odom, qos_profile_sensor_data)
        self.sim_distance_m: float | None = None
        self.node.create_subscription(String, under(namespace, topics.SIM_STATE), self._on_sim_state, 10)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def _on_status(self, msg: NavStatus) -> None:
        with self._lock:
            self.statuses.append(msg)

    def _on_odom(self, msg: Odometry) -> None:
        with self._lock:
            self.odoms.append(msg)

    def _on_sim_state(self, msg: String) -> None:
        try:
            distance_m = float(json.loads(msg.data)["distance_m"])
        except (ValueError, KeyError, TypeError):
            return
        with self._lock:
            self.sim_distance_m = distance_m

    def states(self) -> set[int]:
        with self._lock:
            return {s.state for s in self.statuses}

    def travelled_m(self) -> float:
        """How far the robot has driven since it started: the simulator's own odometer where a sim
        runs (right however late this observer joined the graph), else the straight-line distance
        between the first and the latest odometry pose this observer saw."""
        with self._lock:
            if self.sim_distance_m is not None:
                return self.sim_distance_m
            if len(self.odoms) < 2:
                return 0.0
            a, b = self.odoms[0].pose.pose.position, self.odoms[-1].pose.pose.position
        return float(((a.x - b.x) ** 2 + (a.y - b.y) ** 2) ** 0.5)

    def node_names(self) -> list[str]:
        """Full names as the graph lists them (a duplicate shows twice)."""
        return [f"{ns.rstrip('/')}/{name}" for name, ns in self.node.get_node_names_and_namespaces()]

    def topic_names(self) -> list[str]:
        return [name for name, _ in self.node.get_topic_names_and_types()]

    def parameters(self, node_name: str, names: list[str], timeout_s: float = 10.0) -> dict:
        client = self.node.create_client(GetParameters, f"{node_name}/get_parameters")
        try:
            assert client.wait_for_service(timeout_sec=timeout_s), f"{node_name} has no parameter service"
            future = client.call_async(GetParameters.Request(names=names))
            assert wait_for(future.done, timeout_s), f"{node_name}/get_parameters did not answer"
            return {n: parameter_value(v) for n, v in zip(names, future.result().values)}
        finally:
            self.node.destroy_client(client)

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.thread.join(timeout=5.0)  # spin has returned before the node goes away
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)
