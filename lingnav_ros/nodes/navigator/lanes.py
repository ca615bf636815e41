"""The slow calls, each run on its own worker lane: S2 (VLM decision), S1 (local plan) and the
servers' /health probes. Each answer or failure goes to the mission; none can block a control tick."""
from __future__ import annotations

import time

import requests

from lingnav_ros.mission.states import MissionState, Reason
from s1_server.plan import S1Error, S1Unavailable


class ServerCalls:
    def __init__(self, node) -> None:
        self.node = node
        self.s1_last_stamp: float | None = None
        self.s1_episode = -1

    # ------------------------------------------------------------------ S2
    def s2_tick(self) -> None:
        node = self.node
        with node.lock:
            frame = node.latest_frame
        if frame is None or frame.pose is None:
            return
        req = node.mission.s2_request(node.now_s(), frame.stamp_s)
        if req is None:
            return
        from s2_server.client import S2BadRequest, S2Unavailable

        t0 = time.perf_counter()
        try:
            decision = node.s2.step(frame.rgb, req.instruction, req.context)
        except S2Unavailable as exc:
            node.s2_error = str(exc)
            node.mission.on_s2_error(req, exc, node.now_s(), unreachable=True)
            node.get_logger().error(f"S2 unreachable: {exc}")
            return
        except S2BadRequest as exc:
            node.s2_error = str(exc)
            node.mission.on_s2_error(req, exc, node.now_s(), unreachable=False)
            node.get_logger().error(f"S2 rejected the request: {exc}")
            return
        except Exception as exc:  # a malformed answer is a server fault, never a node crash
            node.s2_error = f"{type(exc).__name__}: {exc}"
            node.mission.on_s2_error(req, exc, node.now_s(), unreachable=False)
            node.get_logger().error(f"S2 call failed: {node.s2_error}")
            return
        latency = time.perf_counter() - t0
        node.stats.s2_wall_s.append(latency)
        node.s2_error = ""
        node.mission.on_s2_decision(req, decision, frame, node.now_s(), latency_s=latency)
        node.views.publish_s2_result(decision, frame, req.instruction, latency)
        node.get_logger().info(f"S2 ({latency:.2f} s): kind={decision.kind} target={decision.target} "
                               f"visible={decision.visible} point={decision.point_2d} "
                               f"nav='{decision.navigation}' -> {node.mission.state.name}")

    # ------------------------------------------------------------------ S1
    def s1_tick(self) -> None:
        node = self.node
        if node.planner is None:
            if node.mission.state == MissionState.APPROACHING:
                node.mission.fail(f"{Reason.S1_UNREACHABLE}: {node.planner_error}", node.now_s())
            return
        if self.s1_episode != node.mission.episode:
            self.s1_episode = node.mission.episode
            try:
                node.planner.reset()
            except S1Error as exc:
                node.get_logger().warning(f"S1 reset failed: {exc}")
        with node.lock:
            frame = node.latest_frame
        if frame is None or frame.stamp_s == self.s1_last_stamp:
            return
        req = node.mission.s1_request(frame)
        if req is None:
            return
        self.s1_last_stamp = frame.stamp_s
        t0 = time.perf_counter()
        try:
            plan = node.planner.plan(frame.rgb, frame.depth_m, frame.intrinsics, req.goal, frame.mount)
        except S1Error as exc:
            node.s1_error = str(exc)
            node.mission.on_s1_error(req, exc, node.now_s())
            node.get_logger().error(f"S1 {'unreachable' if isinstance(exc, S1Unavailable) else 'error'}: {exc}")
            return
        except Exception as exc:  # a planner bug stops the robot with a reason, it does not crash
            node.s1_error = f"{type(exc).__name__}: {exc}"
            node.mission.on_s1_error(req, S1Error(node.s1_error), node.now_s())
            node.get_logger().error(f"S1 failed: {node.s1_error}")
            return
        node.stats.s1_wall_s.append(time.perf_counter() - t0)
        node.s1_error = ""
        target = node.mission.target
        plan = node.memory.veto(plan, frame.pose, target.xy if target is not None else None, node.now_s())
        node.mission.on_s1_plan(req, plan, frame, node.now_s())
        if not plan.no_safe_path:
            node.pending_plan_stamp = frame.stamp_s
        node.views.publish_plan_views(frame, req.goal)

    # ------------------------------------------------------------------ health
    def health_tick(self) -> None:
        """Notice a dead S2 or S1 server within a fraction of a second, not at the next query.

        Between queries the tracker drives on the last plan; a server that died meanwhile would
        otherwise only show up when the next S1/S2 call fails, which on a loaded machine can be
        a second later. Probing /health every 0.2 s bounds that.
        """
        node = self.node
        if not node.mission.active or node.mission.state == MissionState.QUERYING:
            return
        from s2_server.client import S2Unavailable

        node.s2_health = self.probe(node.s2_health_client, S2Unavailable, Reason.S2_UNREACHABLE)
        if node.s1_health_client is not None and node.s2_health != "unreachable":
            node.s1_health = self.probe(node.s1_health_client, S1Unavailable, Reason.S1_UNREACHABLE)

    def probe(self, client, unavailable: type, reason: str) -> str:
        """-> "ok" | "busy" | "unreachable" | "error"; only a server that is gone fails the mission.

        A refused or reset connection (or a 5xx) is a dead server. A /health that times out
        belongs to a server busy with a plan or a generate call: the real call's own timeout
        decides about that one, so a loaded machine does not abort good missions.
        """
        node = self.node
        try:
            client.health()
            return "ok"
        except unavailable as exc:
            if isinstance(exc.__cause__, requests.exceptions.ReadTimeout):
                return "busy"
            node.mission.fail(f"{reason}: {exc}", node.now_s())
            return "unreachable"
        except Exception as exc:
            node.get_logger().warning(f"health probe failed: {exc}", throttle_duration_sec=5.0)
            return "error"
