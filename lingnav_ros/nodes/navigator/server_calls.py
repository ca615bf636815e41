"""The slow calls, each run on its own worker lane: S2 (VLM decision), S1 (local plan) and the
servers' /health probes. Each answer or failure goes to the mission; none can block a control tick.

A server that is away (refused, reset, connect timeout, 5xx) starts an outage (see
`server_outage`) instead of failing the mission: the S2 query in flight is kept and retried with backoff, S1 is
re-asked with backoff, and the control loop holds the robot meanwhile. A server that answers
with a client error is not away: that still goes to the mission as before.
"""
from __future__ import annotations

import time

import requests

from lingnav_core.s1_plan import S1Error, S1Unavailable
from lingnav_ros.mission.mission import Mission
from lingnav_ros.mission.states import MissionState
from lingnav_ros.nodes.navigator.diagnosis_feed import DiagnosisFeed
from lingnav_ros.nodes.navigator.obstacle_memory import MapMemory
from lingnav_ros.nodes.navigator.server_outage import ServerOutage
from lingnav_ros.nodes.navigator.state import NavigatorState, NodeTime
from lingnav_ros.nodes.navigator.views import PlanViews

# A frame this much earlier than one planning period after the last planned one is still due
# (half a camera period at 10 Hz): frames and periods never line up exactly.
PLANNING_SLACK_S = 0.05


class ServerCalls:
    def __init__(self, state: NavigatorState, time: NodeTime, logger, mission: Mission, s2, planner,
                 s1_remote: bool, s2_health_client, s1_health_client, memory: MapMemory, views: PlanViews,
                 feed: DiagnosisFeed, planning_period_s: float) -> None:
        """`s1_remote`: the planner is a server that can be away (mode A), not an in-process one;
        `s1_health_client` is None when there is no server to probe; S1 plans at most once per
        `planning_period_s` (node clock), on the newest frame."""
        self.state = state
        self.time = time
        self.log = logger
        self.mission = mission
        self.s2 = s2
        self.planner = planner
        self.s1_remote = s1_remote
        self.s2_health_client = s2_health_client
        self.s1_health_client = s1_health_client
        self.memory = memory
        self.views = views
        self.feed = feed  # each S1 answer as given, and its stage times
        self.s1_last_stamp: float | None = None
        self.planning_period_s = planning_period_s
        self.s1_episode = -1
        self.s2_pending = None  # the S2 request kept across an outage

    def _s2_request(self, now_s: float, frame_stamp_s: float):
        """The pending request when its retry is due, else a new one from the mission (or None)."""
        mission, outage = self.mission, self.state.s2_outage
        pending = self.s2_pending
        if pending is not None and (pending.episode != mission.episode or not mission.active):
            self.s2_pending = pending = None  # the mission moved on without it
            outage.reset()
        if pending is not None:
            return pending if outage.retry_due(now_s) else None
        return mission.s2_request(now_s, frame_stamp_s)

    # ------------------------------------------------------------------ S2
    def s2_tick(self) -> None:
        st, time_ = self.state, self.time
        with st.lock:
            frame = st.latest_frame
        if frame is None or frame.pose is None:
            return
        req = self._s2_request(time_.now_s(), frame.stamp_s)
        if req is None:
            return
        from lingnav_core.s2_decision import S2BadRequest, S2Unavailable

        t0 = time.perf_counter()
        try:
            decision = self.s2.step(frame.rgb, req.instruction, req.context)
        except S2Unavailable as exc:
            st.s2_error = str(exc)
            self.s2_pending = req
            st.s2_outage.failed(time_.now_s(), str(exc))
            self.log.warning(f"S2 unreachable, robot held, retrying: {exc}", throttle_duration_sec=2.0)
            return
        except Exception as exc:
            self.s2_pending = None
            self._answered(st.s2_outage)
            st.s2_error = str(exc) if isinstance(exc, S2BadRequest) else f"{type(exc).__name__}: {exc}"
            # a rejected request or a malformed answer is a fault to report, never a node crash
            self.mission.on_s2_error(req, exc, time_.now_s())
            self.log.error(f"S2 {'rejected the request' if isinstance(exc, S2BadRequest) else 'call failed'}"
                           f": {st.s2_error}")
            return
        self.s2_pending = None
        self._answered(st.s2_outage)
        latency = time.perf_counter() - t0
        st.stats.s2_wall_s.append(latency)
        st.s2_error = ""
        self.mission.on_s2_decision(req, decision, frame, time_.now_s(), latency_s=latency)
        self.views.publish_s2_result(decision, frame, req.instruction, latency)
        self.log.info(f"S2 ({latency:.2f} s): kind={decision.kind} target={decision.target} "
                      f"visible={decision.visible} point_2d_pixel={decision.point_2d_pixel} "
                      f"nav='{decision.navigation}' -> {self.mission.state.name}")

    def _answered(self, outage: ServerOutage) -> None:
        began = outage.recovered()
        if began is not None:
            self.log.info(f"{outage.name} answers again after {self.time.now_s() - began:.1f} s")

    # ------------------------------------------------------------------ S1
    def s1_tick(self) -> None:
        st, time_, mission, outage = self.state, self.time, self.mission, self.state.s1_outage
        if self.s1_episode != mission.episode:
            self.s1_episode = mission.episode
            outage.reset()
            try:
                self.planner.reset()
            except S1Error as exc:
                self.log.warning(f"S1 reset failed: {exc}")
        if not outage.retry_due(time_.now_s()):
            return
        with st.lock:
            frame = st.latest_frame
        if frame is None or (frame.stamp_s == self.s1_last_stamp and not outage.active):
            return
        # Once per planning period by image stamps, so the plan starts with the first frame due,
        # at the next kick, instead of on whatever frame is newest when a timer fires.
        if not outage.active and self.s1_last_stamp is not None \
                and 0.0 <= frame.stamp_s - self.s1_last_stamp < self.planning_period_s - PLANNING_SLACK_S:
            return
        now = time_.now_s()
        req = mission.s1_request(frame)
        if req is None:
            return
        self.s1_last_stamp = frame.stamp_s
        self.feed.stages.plan_started(frame.stamp_s, now)
        t0 = time.perf_counter()
        try:
            plan = self.planner.plan(frame.rgb, frame.depth_m, frame.intrinsics, req.goal, frame.mount)
        except S1Unavailable as exc:
            st.s1_error = str(exc)
            if self.s1_remote:
                outage.failed(time_.now_s(), str(exc))
                self.log.warning(f"S1 unreachable, robot held, retrying: {exc}", throttle_duration_sec=2.0)
            else:  # an in-process planner has no server to be away: its failure is a planner fault
                mission.on_s1_error(req, exc, time_.now_s())
                self.log.error(f"S1 failed: {exc}")
            return
        except S1Error as exc:
            st.s1_error = str(exc)
            self._answered(outage)
            mission.on_s1_error(req, exc, time_.now_s())
            self.log.error(f"S1 error: {exc}")
            return
        except Exception as exc:  # a planner bug stops the robot with a reason, it does not crash
            st.s1_error = f"{type(exc).__name__}: {exc}"
            mission.on_s1_error(req, S1Error(st.s1_error), time_.now_s())
            self.log.error(f"S1 failed: {st.s1_error}")
            return
        self._answered(outage)
        t_answer = time.perf_counter()
        st.stats.s1_wall_s.append(t_answer - t0)
        st.s1_error = ""
        self.feed.s1_answer(plan, req.goal, frame.stamp_s, frame.frame_id, t_answer - t0)
        target = mission.target
        chosen_before = plan.chosen_index
        plan = self.memory.veto(plan, frame.pose, target.xy if target is not None else None, time_.now_s())
        self.feed.stages.plan_ready(frame.stamp_s, t_answer - t0, time.perf_counter() - t_answer, time_.now_s())
        mission.on_s1_plan(req, plan, frame, time_.now_s())
        if not plan.no_safe_path:
            st.pending_plan_stamp = frame.stamp_s
        self.views.publish_plan_views(frame, req.goal, chosen_before, self.memory.last_veto, t_answer - t0)

    # ------------------------------------------------------------------ health
    def health_tick(self) -> None:
        """Notice a dead S2 or S1 server within a fraction of a second, not at the next query.

        Between queries the tracker drives on the last plan; a server that died meanwhile would
        otherwise only show up when the next S1/S2 call fails, which on a loaded machine can be
        a second later. Probing /health every 0.2 s bounds that, both ways: a server that is
        back is noticed as fast, and a kept S2 query is retried at once.
        """
        st = self.state
        if not self.mission.active or self.mission.state == MissionState.QUERYING:
            return
        from lingnav_core.s2_decision import S2Unavailable

        st.s2_health = self.probe(self.s2_health_client, S2Unavailable, st.s2_outage,
                                  keep_outage=self.s2_pending is not None)
        if self.s1_health_client is not None and st.s2_health != "unreachable":
            st.s1_health = self.probe(self.s1_health_client, S1Unavailable, st.s1_outage, keep_outage=False)

    def probe(self, client, unavailable: type, outage: ServerOutage, keep_outage: bool) -> str:
        """-> "ok" | "busy" | "unreachable" | "error".

        A refused or reset connection (or a 5xx) is a server that is away: the outage starts and
        the robot holds. A /health that times out belongs to a server busy with a plan or a
        generate call: the real call's own timeout decides about that one, so a loaded machine
        does not stop good missions. An answer ends the outage, or, while a query waits for its
        retry (`keep_outage`), makes that retry due now; the query's answer then ends it.
        """
        try:
            client.health()
        except unavailable as exc:
            if isinstance(exc.__cause__, requests.exceptions.ReadTimeout):
                return "busy"
            if not outage.active:
                self.log.warning(f"{outage.name} unreachable, robot held: {exc}")
            outage.failed(self.time.now_s(), str(exc))
            return "unreachable"
        except Exception as exc:
            self.log.warning(f"health probe failed: {exc}", throttle_duration_sec=5.0)
            return "error"
        if keep_outage:
            outage.retry_now(self.time.now_s())
        else:
            self._answered(outage)
        return "ok"
