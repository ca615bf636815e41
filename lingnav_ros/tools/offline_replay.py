"""`lingnav-replay BAG --offline`: re-run the navigator on a recorded run without any server.

The bag's sensors and /clock are played back (replay.Replayer); a navigator process is started on
sim time with `recorded_answers_bag` set, so its S2 and S1 answers come from the bag
(nodes/navigator/recorded_answers.py says why that is deterministic); its outputs are recorded
into a bag of their own, and its cmd_vel is compared with the recorded one
(diagnosis/replay_check.py): the share of commands within tolerance, and where and why the
two parted.
"""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import rclpy
from geometry_msgs.msg import Twist
from lingnav_msgs.msg import NavStatus, S1Answer, S2Result, SafetyEvent, StageTimes
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter

from lingnav_ros import topics
from lingnav_ros.launch_description import BringupArgs, describe, ros_args
from lingnav_ros.tools.bag import BagRecorder, holds_topic
from lingnav_ros.tools.bag_player import Replayer
from lingnav_ros.tools.diagnosis.replay_check import Comparison, Tolerance, compare_commands
from lingnav_ros.tools.diagnosis.run_log import find_bag, read_run
from lingnav_ros.tools.harness import Processes, child_env

REPLAYED_OUTPUTS = {topics.CMD_VEL: Twist, topics.STATUS: NavStatus, topics.S2_RESULT: S2Result,
                    topics.S1_ANSWER: S1Answer, topics.SAFETY_EVENTS: SafetyEvent, topics.STAGE_TIMES: StageTimes}


@dataclass
class OfflineResult:
    comparison: Comparison
    tolerance: Tolerance
    replayed_bag: Path
    instruction: str

    def summary(self) -> str:
        c, tol = self.comparison, self.tolerance
        lines = [f"offline replay of '{self.instruction}': {c.within}/{c.compared} cmd_vel within "
                 f"|dv| <= {tol.v_mps} m/s, |dw| <= {tol.w_radps} rad/s ({100 * c.fraction:.0f} %), "
                 f"max |dv| {c.max_dv_mps:.3f} m/s, max |dw| {c.max_dw_radps:.3f} rad/s: "
                 f"{'MATCHES' if c.matches(tol) else 'DIVERGES'}"]
        if c.divergence_s is not None:
            lines.append(f"first divergence at bag time {c.divergence_s:.2f} s (step {c.step} of the "
                         f"diagnosis, after {c.step} S2 answer(s)): {c.why}")
        return "\n".join(lines)


def _navigator_command(bag: Path, instruction: str, instruction_in_bag: bool) -> list[str]:
    """An instruction recorded on its topic is replayed with the sensors, at the time it came
    (the mission then starts on the same frame as in the run); else it starts the navigator."""
    nav = describe(BringupArgs(mode="A", instruction=None if instruction_in_bag else instruction, camera="sim",
                               use_sim_time=True))[0]
    nav.parameters.append({"recorded_answers_bag": str(bag.resolve())})
    if instruction_in_bag:
        nav.parameters.append({"initial_instruction": ""})
    return [sys.executable, "-m", "lingnav_ros.nodes.navigator_node", *ros_args(nav)]


def _wait_for_navigator(replayer: Replayer, procs: Processes, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    rgb = replayer.publishers_by_topic.get(topics.RGB)
    while time.monotonic() < deadline:
        if procs.dead():
            raise RuntimeError(f"navigator exited: {procs.dead()}; see {procs.log_dir}")
        if rgb is not None and rgb.get_subscription_count() > 0:
            time.sleep(1.0)  # its other subscriptions and timers come up with it
            return
        time.sleep(0.1)
    raise RuntimeError(f"navigator did not subscribe within {timeout_s:.0f} s; see {procs.log_dir}")


def run_offline(bag: Path, out: Path, rate: float = 1.0, tol: Tolerance | None = None,
                start_timeout_s: float = 60.0) -> OfflineResult:
    bag = find_bag(bag)
    recorded = read_run(bag, with_frames=False)
    out.mkdir(parents=True, exist_ok=True)
    replayed_bag = out / "replayed.bag"
    env = child_env()
    procs = Processes(out)
    context = Context()
    rclpy.init(context=context)
    replayer = Replayer(bag, rate, context=context)
    listener = Node("lingnav_offline_listener", context=context,
                    parameter_overrides=[Parameter("use_sim_time", value=True)])
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(listener)
    recorder = None
    try:
        recorder = BagRecorder(listener, replayed_bag, REPLAYED_OUTPUTS)
        nav_cmd = _navigator_command(bag, recorded.instruction, holds_topic(bag, topics.INSTRUCTION))
        procs.start("navigator", nav_cmd, env, "offline-navigator")
        spin = threading.Thread(target=executor.spin, daemon=True)
        spin.start()
        _wait_for_navigator(replayer, procs, start_timeout_s)
        replayer.play()
        time.sleep(0.5)
    finally:
        procs.stop()
        if recorder is not None:
            recorder.close()
        executor.shutdown()
        replayer.destroy_node()
        listener.destroy_node()
        rclpy.shutdown(context=context)
    replayed = read_run(replayed_bag, with_frames=False)
    tol = tol or Tolerance()
    return OfflineResult(compare_commands(recorded, replayed, tol), tol, replayed_bag, recorded.instruction)
