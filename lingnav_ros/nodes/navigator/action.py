"""The Navigate action server, on a companion node of its own.

Its execute callback waits for the mission to end, which must not hold the executor thread of
the sensors and the control loop, so it lives on a small node spun by a MultiThreadedExecutor.

The companion ignores the process's global arguments: a launch's `__node:=` remap would
otherwise rename it to the navigator's own name, and two nodes with one name make
`ros2 param get /lingnav_navigator ...` answer at random. It is named after the navigator as
actually named (`<name>_action`) and placed in its namespace explicitly; the action name comes
from the `navigate_action` parameter, not from a remap.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import rclpy
from lingnav_msgs.action import Navigate
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node

from lingnav_ros.mission.mission import Mission
from lingnav_ros.mission.states import MissionState, Reason
from lingnav_ros.nodes.navigator.settings import ActionSettings
from lingnav_ros.nodes.navigator.state import NodeTime
from lingnav_ros.safety.gate import CommandGate


def companion_name(navigator_name: str) -> str:
    return f"{navigator_name}_action"


class NavigateCompanion:
    def __init__(self, settings: ActionSettings, navigator_name: str, namespace: str, context, time: NodeTime,
                 mission: Mission, gate: CommandGate, status_msg: Callable[[], object]) -> None:
        """`status_msg`: the navigator's current NavStatus, sent as feedback."""
        self.s = settings
        self.context = context
        self.time = time
        self.mission = mission
        self.gate = gate
        self.status_msg = status_msg
        self.action_node = Node(companion_name(navigator_name), namespace=namespace,
                                context=context, use_global_arguments=False,
                                start_parameter_services=False)
        self.server = ActionServer(
            self.action_node, Navigate, settings.action_name, execute_callback=self.execute,
            goal_callback=lambda _goal: GoalResponse.ACCEPT,
            cancel_callback=lambda _handle: CancelResponse.ACCEPT, callback_group=ReentrantCallbackGroup())

    def destroy(self) -> None:
        self.server.destroy()
        self.action_node.destroy_node()

    def execute(self, goal_handle):
        mission, now_s = self.mission, self.time.now_s
        req = goal_handle.request
        result = Navigate.Result()
        if not mission.start(req.instruction, now_s(), timeout_s=float(req.timeout_s)):
            result.success, result.final_state, result.reason = False, int(MissionState.ESTOP), Reason.ESTOP
            goal_handle.abort()
            return result
        episode = mission.episode
        feedback_period = self.s.feedback_period_s
        next_feedback = 0.0
        while rclpy.ok(context=self.context):
            if mission.episode != episode:
                result.success, result.final_state, result.reason = False, int(MissionState.STOPPED), Reason.PREEMPTED
                goal_handle.abort()
                return result
            if goal_handle.is_cancel_requested:
                mission.cancel(now_s())
                self.gate.force_zero()
                goal_handle.canceled()
                return self.fill_result(result)
            if not mission.active:
                self.fill_result(result)
                if result.success:
                    goal_handle.succeed()
                else:
                    goal_handle.abort()
                return result
            if time.monotonic() >= next_feedback:
                goal_handle.publish_feedback(Navigate.Feedback(status=self.status_msg()))
                next_feedback = time.monotonic() + feedback_period
            time.sleep(0.02)
        return self.fill_result(result)

    def fill_result(self, result):
        st = self.mission.status(self.time.now_s())
        result.success = st.state == MissionState.ARRIVED
        result.final_state = int(st.state)
        result.reason = st.reason
        result.elapsed_s = float(st.elapsed_s)
        result.path_length_m = float(st.path_length_m)
        return result
