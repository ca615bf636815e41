"""The slow calls, each run on its own worker lane: S2 (VLM decision), S1 (local plan) and the
servers' /health probes. Each answer or failure goes to the mission; none can block a control tick.

A server that is away (refused, reset, connect timeout, 5xx) starts an outage (see `outage`)
instead of failing the mission: the S2 query in flight is kept and retried with backoff, S1 is
re-asked with backoff, and the control loop holds the robot meanwhile. A server that answers
with a client error is not away: that still goes to the mission as before.
"""
from __future__ import annotations

import time

import requests

from lingnav_core.s1_plan import S1Error, S1Unavailable
from lingnav_ros.mission.states import MissionState


class ServerCalls:
    def __init__(self, node) -> None:
        self.node = node
        self.s1_last_stamp: float | None = None
        self.s1_episode = -1
        self.s2_pending = None  # the S2 request kept across an outage

    def _s2_request(self, now_s: float, frame_stamp_s: float):
        """The pending request when its retry is due, else a new one from the mission (or None)."""
        node = self.node
        mission = node.mission
        pending = self.s2_pending
        if pending is not None and (pending.episode != mission.episode or not mission.active):
            self.s2_pending = pending = None  # the mission moved on without it
            node.s2_outage.reset()
        if pending is not None:
            return pending if node.s2_outage.retry_due(now_s) else None
        return mission.s2_request(now_s, frame_stamp_s)

    # ------------------------------------------------------------------ S2
    def s2_tick(self) -> None:
        node = self.node
        with node.lock:
            frame = node.latest_frame
        if frame is None or frame.pose is None:
            return
        req = self._s2_request(node.now_s(), frame.stamp_s)
        if req is None:
            return
        from lingnav_core.s2_decision import S2BadRequest, S2Unavailable

        t0 = time.perf_counter()
        try:
            decision = node.s2.step(frame.rgb, req.instruction, req.context)
        except S2Unavailable as exc:
            node.s2_error = str(exc)
            self.s2_pending = req
            node.s2_outage.failed(node.now_s(), str(exc))
            node.get_logger().warning(f"S2 unreachable, robot held, retrying: {exc}", throttle_duration_sec=2.0)
            return
        except Exception as exc:
            self.s2_pending = None
            self._answered(node.s2_outage)
            node.s2_error = str(exc) if isinstance(exc, S2BadRequest) else f"{type(exc).__name__}: {exc}"
            # a rejected request or a malformed answer is a fault to report, never a node crash
            node.mission.on_s2_error(req, exc, node.now_s(), unreachable=False)
            node.get_logger().error(f"S2 {'rejected the request' if isinstance(exc, S2BadRequest) else 'call failed'}"
                                    f": {node.s2_error}")
            return
        self.s2_pending = None
        self._answered(node.s2_outage)
        latency = time.perf_counter() - t0
        node.stats.s2_wall_s.append(latency)
        node.s2_error = ""
        node.mission.on_s2_decision(req, decision, frame, node.now_s(), latency_s=latency)
        node.views.publish_s2_result(decision, frame, req.instruction, latency)
        node.get_logger().info(f"S2 ({latency:.2f} s): kind={decision.kind} target={decision.target} "
                               f"visible={decision.visible} point_2d_pixel={decision.point_2d_pixel} "
                               f"nav='{decision.navigation}' -> {node.mission.state.name}")

    def _answered(self, outage) -> None:
        began = outage.recovered()
        if began is not None:
            self.node.get_logger().info(f"{outage.name} answers again after {self.node.now_s() - began:.1f} s")

    # ------------------------------------------------------------------ S1
    def s1_tick(self) -> None:
        node = self.node
        remote = node.p.s1_mode == "A"
        if self.s1_episode != node.mission.episode:
            self.s1_episode = node.mission.episode
            node.s1_outage.reset()
            try:
                node.planner.reset()
            except S1Error as exc:
                node.get_logger().warning(f"S1 reset failed: {exc}")
        if not node.s1_outage.retry_due(node.now_s()):
            return
        with node.lock:
            frame = node.latest_frame
        if frame is None or (frame.stamp_s == self.s1_last_stamp and not node.s1_outage.active):
            return
        req = node.mission.s1_request(frame)
        if req is None:
            return
        self.s1_last_stamp = frame.stamp_s
        t0 = time.perf_counter()
        try:
            plan = node.planner.plan(frame.rgb, frame.depth_m, frame.intrinsics, req.goal, frame.mount)
        except S1Unavailable as exc:
            node.s1_error = str(exc)
            if remote:
                node.s1_outage.failed(node.now_s(), str(exc))
                node.get_logger().warning(f"S1 unreachable, robot held, retrying: {exc}", throttle_duration_sec=2.0)
            else:  # an in-process planner has no server to be away: its failure is a planner fault
                node.mission.on_s1_error(req, S1Error(str(exc)), node.now_s())
                node.get_logger().error(f"S1 failed: {exc}")
            return
        except S1Error as exc:
            node.s1_error = str(exc)
            self._answered(node.s1_outage)
            node.mission.on_s1_error(req, exc, node.now_s())
            node.get_logger().error(f"S1 error: {exc}")
            return
        except Exception as exc:  # a planner bug stops the robot with a reason, it does not crash
            node.s1_error = f"{type(exc).__name__}: {exc}"
            node.mission.on_s1_error(req, S1Error(node.s1_error), node.now_s())
            node.get_logger().error(f"S1 failed: {node.s1_error}")
            return
        self._answered(node.s1_outage)
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
        a second later. Probing /health every 0.2 s bounds that, both ways: a server that is
        back is noticed as fast, and a kept S2 query is retried at once.
        """
        node = self.node
        if not node.mission.active or node.mission.state == MissionState.QUERYING:
            return
        from lingnav_core.s2_decision import S2Unavailable

        node.s2_health = self.probe(node.s2_health_client, S2Unavailable, node.s2_outage,
                                    keep_outage=self.s2_pending is not None)
        if node.s1_health_client is not None and node.s2_health != "unreachable":
            node.s1_health = self.probe(node.s1_health_client, S1Unavailable, node.s1_outage, keep_outage=False)

    def probe(self, client, unavailable: type, outage, keep_outage: bool) -> str:
        """-> "ok" | "busy" | "unreachable" | "error".

        A refused or reset connection (or a 5xx) is a server that is away: the outage starts and
        the robot holds. A /health that times out belongs to a server busy with a plan or a
        generate call: the real call's own timeout decides about that one, so a loaded machine
        does not stop good missions. An answer ends the outage, or, while a query waits for its
        retry (`keep_outage`), makes that retry due now; the query's answer then ends it.
        """
        node = self.node
        try:
            client.health()
        except unavailable as exc:
            if isinstance(exc.__cause__, requests.exceptions.ReadTimeout):
                return "busy"
            if not outage.active:
                node.get_logger().warning(f"{outage.name} unreachable, robot held: {exc}")
            outage.failed(node.now_s(), str(exc))
            return "unreachable"
        except Exception as exc:
            node.get_logger().warning(f"health probe failed: {exc}", throttle_duration_sec=5.0)
            return "error"
        if keep_outage:
            outage.retry_now(node.now_s())
        else:
            self._answered(outage)
        return "ok"
