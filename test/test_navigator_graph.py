"""The navigator and the sim as the ROS graph sees them: names,
namespaces, remaps, the parameter service, start failures and Ctrl-C, with real rclpy nodes and
real processes."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import rclpy
from rcl_interfaces.srv import GetParameters
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter

from lingnav_ros.nodes.navigator.factories import StartError
from test.ros_graph import wait_for

ROOT = Path(__file__).resolve().parents[1]


class Observer:
    """A node in a context of its own (so the navigator's global arguments never touch it)."""

    def __init__(self) -> None:
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = Node("graph_observer", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def names(self) -> list[tuple[str, str]]:
        return [(ns, n) for n, ns in self.node.get_node_names_and_namespaces() if n != "graph_observer"]

    def topics(self) -> set[str]:
        return {name for name, _ in self.node.get_topic_names_and_types()}

    def get_parameter(self, node_fqn: str, name: str):
        client = self.node.create_client(GetParameters, f"{node_fqn}/get_parameters")
        try:
            if not client.wait_for_service(timeout_sec=10.0):
                return None
            future = client.call_async(GetParameters.Request(names=[name]))
            if not wait_for(future.done, 10.0):
                return None
            return Parameter.from_parameter_msg(
                type("P", (), {"name": name, "value": future.result().values[0]})()).value
        finally:
            self.node.destroy_client(client)

    def close(self) -> None:
        self.executor.shutdown()
        self.thread.join(timeout=5.0)
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


@pytest.fixture()
def observer():
    obs = Observer()
    yield obs
    obs.close()


def _navigator(args: list[str], **params):
    from lingnav_ros.nodes.navigator_node import NavigatorNode

    context = Context()
    rclpy.init(context=context, args=["--ros-args", *args])
    overrides = [Parameter(k, value=v) for k, v in {"s1_mode": "geometric", **params}.items()]
    node = NavigatorNode(context=context, parameter_overrides=overrides)
    executors = node.executors()
    threads = [threading.Thread(target=e.spin, daemon=True) for e in executors]
    for t in threads:
        t.start()

    def close():
        for e in executors:
            e.shutdown()
        for t in threads:
            t.join(timeout=5.0)
        node.destroy_node()
        rclpy.shutdown(context=context)

    return node, close


def test_a_node_remap_and_a_namespace_leave_one_navigator_and_move_every_topic(observer):
    node, close = _navigator(["-r", "__node:=lingnav_navigator", "-r", "__ns:=/robot1"])
    try:
        assert wait_for(lambda: ("/robot1", "lingnav_navigator_action") in observer.names(), 15.0), observer.names()
        names = observer.names()
        assert len(names) == len(set(names)), f"duplicate node names: {names}"
        assert names.count(("/robot1", "lingnav_navigator")) == 1
        assert observer.get_parameter("/robot1/lingnav_navigator", "s1_mode") == "geometric"
        wanted = {"/robot1/cmd_vel", "/robot1/odom", "/robot1/camera/color/image_raw",
                  "/robot1/camera/depth/image_raw", "/robot1/camera/color/camera_info", "/robot1/lingnav/status",
                  "/robot1/lingnav/instruction", "/robot1/lingnav/estop", "/robot1/camera/mount"}
        assert wait_for(lambda: wanted <= observer.topics(), 10.0), sorted(wanted - observer.topics())
        outside = {t for t in observer.topics() if not t.startswith("/robot1/")}
        assert outside <= {"/diagnostics", "/parameter_events", "/rosout", "/clock", "/tf", "/tf_static"}, outside
        assert wait_for(lambda: any(n.startswith("/robot1/lingnav/navigate/_action")
                                    for n, _ in observer.node.get_service_names_and_types()), 10.0)
    finally:
        close()


def test_a_renamed_navigator_names_its_companion_after_itself_and_remaps_still_apply(observer):
    node, close = _navigator(["-r", "__node:=nav_left", "-r", "cmd_vel:=/base/cmd_vel"])
    try:
        assert wait_for(lambda: ("/", "nav_left_action") in observer.names(), 15.0), observer.names()
        assert ("/", "nav_left") in observer.names()
        assert observer.get_parameter("/nav_left", "s1_mode") == "geometric"
        assert wait_for(lambda: "/base/cmd_vel" in observer.topics(), 10.0)
        assert "/cmd_vel" not in observer.topics()
    finally:
        close()


def test_a_namespace_moves_every_sim_topic_but_the_clock(observer):
    from lingnav_ros.nodes.sim_node import SimNode

    context = Context()
    rclpy.init(context=context, args=["--ros-args", "-r", "__ns:=/robot1"])
    sim = SimNode(context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(sim)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        wanted = {"/robot1/odom", "/robot1/camera/color/image_raw", "/robot1/camera/depth/image_raw",
                  "/robot1/camera/color/camera_info", "/robot1/camera/mount", "/robot1/sim/state",
                  "/robot1/cmd_vel", "/clock"}
        assert wait_for(lambda: wanted <= observer.topics(), 15.0), sorted(wanted - observer.topics())
        assert not {"/odom", "/cmd_vel", "/camera/color/image_raw"} & observer.topics()
    finally:
        executor.shutdown()
        thread.join(timeout=5.0)
        sim.destroy_node()
        rclpy.shutdown(context=context)


def test_the_navigator_takes_the_sims_camera_mount_without_tf():
    from lingnav_ros.nodes.navigator_node import NavigatorNode
    from lingnav_ros.nodes.sim_node import SimNode

    context = Context()
    rclpy.init(context=context)
    sim = SimNode(context=context, parameter_overrides=[Parameter("camera_pitch_rad", value=0.35),
                                                        Parameter("camera_height_m", value=0.62)])
    nav = NavigatorNode(context=context, parameter_overrides=[Parameter("s1_mode", value="geometric"),
                                                              Parameter("use_tf", value=False)])
    executor = SingleThreadedExecutor(context=context)
    for n in (sim, nav):
        executor.add_node(n)
    # Checked before anything spins: the latched mount may arrive within the first spin.
    assert nav.mounts.fallback.height_m == pytest.approx(0.3), "the parameter default until the sim speaks"
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        expected = sim.camera.mount()
        assert wait_for(lambda: nav.mounts.fallback.height_m == pytest.approx(expected.height_m), 10.0)
        got = nav.mounts.fallback
        assert got.pitch_rad == pytest.approx(0.35, abs=1e-6) and got.x_m == pytest.approx(expected.x_m)
    finally:
        executor.shutdown()
        thread.join(timeout=5.0)
        nav.destroy_node()
        sim.destroy_node()
        rclpy.shutdown(context=context)


# ------------------------------------------------------------------ mode B start
def _start_navigator(**params):
    from lingnav_ros.nodes.navigator_node import NavigatorNode

    context = Context()
    rclpy.init(context=context)
    try:
        node = NavigatorNode(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


def test_mode_b_without_a_checkpoint_fails_the_start():
    with pytest.raises(StartError, match="s1_checkpoint"):
        _start_navigator(s1_mode="B")
    with pytest.raises(StartError, match="does not exist"):
        _start_navigator(s1_mode="B", s1_checkpoint="/nonexistent/navdp-cross-modal.ckpt")


def test_mode_b_on_a_device_that_is_not_there_fails_the_start(tmp_path):
    import torch

    ckpt = tmp_path / "navdp-cross-modal.ckpt"
    ckpt.write_bytes(b"")
    with pytest.raises(StartError, match="s1_half needs a CUDA"):
        _start_navigator(s1_mode="B", s1_checkpoint=str(ckpt), s1_device="cpu", s1_half=True)
    with pytest.raises(StartError, match="not a torch device"):
        _start_navigator(s1_mode="B", s1_checkpoint=str(ckpt), s1_device="gpu7")
    if not torch.cuda.is_available():
        with pytest.raises(StartError, match="CUDA is not available"):
            _start_navigator(s1_mode="B", s1_checkpoint=str(ckpt), s1_device="cuda:0")
    with pytest.raises(StartError, match="could not start"):  # the empty file is no checkpoint
        _start_navigator(s1_mode="B", s1_checkpoint=str(ckpt), s1_device="cpu")


def test_mode_b_onnxruntime_checks_come_first(tmp_path):
    with pytest.raises(StartError, match="fp32 only"):
        _start_navigator(s1_mode="B", s1_checkpoint=str(tmp_path), s1_runtime="onnxruntime", s1_half=True)
    with pytest.raises(StartError, match="not a file or lingnav-s1-export directory"):
        _start_navigator(s1_mode="B", s1_checkpoint=str(tmp_path / "none"), s1_runtime="onnxruntime")
    with pytest.raises(StartError, match="onnxruntime|could not start"):  # not installed, or an empty export
        _start_navigator(s1_mode="B", s1_checkpoint=str(tmp_path), s1_runtime="onnxruntime")


# ------------------------------------------------------------------ processes
def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


def test_mode_b_start_failure_exits_non_zero_with_one_clear_line():
    proc = subprocess.run([sys.executable, "-m", "lingnav_ros.nodes.navigator_node", "--ros-args",
                           "-p", "s1_mode:=B"], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "cannot start" in proc.stderr and "s1_checkpoint" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("module,name,extra", [
    ("lingnav_ros.nodes.navigator_node", "lingnav_navigator", ["-p", "s1_mode:=geometric"]),
    ("lingnav_ros.nodes.sim_node", "lingnav_sim", []),
])
@pytest.mark.parametrize("interrupts", [1, 2])
@pytest.mark.parametrize("when", ["running", "starting"])
def test_ctrl_c_ends_the_process_cleanly(observer, module, name, extra, interrupts, when):
    """Running: the node is up (the navigator's companion exists, so construction is over).
    Starting: the node has just joined the graph and may still be building its parts."""
    proc = subprocess.Popen([sys.executable, "-m", module, "--ros-args", *extra], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    up = (f"{name}_action" if module.endswith("navigator_node") else name) if when == "running" else name
    try:
        assert wait_for(lambda: ("/", up) in observer.names() or proc.poll() is not None, 60.0)
        assert proc.poll() is None, proc.communicate()[0]
        time.sleep(0.5 if when == "running" else 0.0)
        for _ in range(interrupts):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.05)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    for bad in ("Traceback", "KeyboardInterrupt", "cannot use Destroyable", "never retrieved"):
        assert bad not in output, output
