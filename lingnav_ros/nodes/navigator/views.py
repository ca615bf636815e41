"""What the navigator shows, not what it does: the chosen path, the candidates with their values,
the target marker, the debug image and each S2 decision. Every publisher is skipped while nobody
subscribes, so visualisation costs nothing on a robot without RViz."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from geometry_msgs.msg import Point, PoseStamped
from lingnav_msgs.msg import S2Result, S2Task, TrajectoryCandidates
from nav_msgs.msg import Path
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from lingnav_core.s1_plan import PixelGoal
from lingnav_ros.mission.mission import Mission
from lingnav_ros.perception.debug_view import draw_debug, project_path, value_colour
from lingnav_ros.perception.images import rgb_to_image_fields
from lingnav_ros.perception.rgbd_frame import RgbdFrame
from lingnav_ros.stamps import time_msg


def path_msg(path_odom: np.ndarray, header: Header) -> Path:
    msg = Path(header=header)
    for x, y, yaw in np.asarray(path_odom).reshape(-1, 3):
        ps = PoseStamped(header=header)
        ps.pose.position.x, ps.pose.position.y = float(x), float(y)
        ps.pose.orientation.z, ps.pose.orientation.w = math.sin(yaw / 2.0), math.cos(yaw / 2.0)
        msg.poses.append(ps)
    return msg


def candidate_markers(record, header: Header) -> MarkerArray:
    arr = MarkerArray()
    clear = Marker(header=header, ns="lingnav_candidates", action=Marker.DELETEALL)
    arr.markers.append(clear)
    colours = value_colour(record.plan.values)
    for k, cand in enumerate(record.candidates_odom):
        m = Marker(header=header, ns="lingnav_candidates", id=k, type=Marker.LINE_STRIP, action=Marker.ADD)
        m.pose.orientation.w = 1.0
        chosen = k == record.plan.chosen_index
        m.scale.x = 0.04 if chosen else 0.015
        r, g, b, a = colours[k] if k < len(colours) else (0.5, 0.5, 0.5, 0.5)
        m.color.r, m.color.g, m.color.b, m.color.a = float(r), float(g), float(b), 1.0 if chosen else float(a)
        m.points = [Point(x=float(x), y=float(y), z=0.02) for x, y, _ in cand]
        arr.markers.append(m)
    return arr


def s2_result_msg(d, frame: RgbdFrame, instruction: str, latency: float) -> S2Result:
    msg = S2Result()
    msg.header = Header(stamp=time_msg(frame.stamp_s), frame_id=frame.frame_id)
    msg.instruction = instruction
    msg.target = d.target or ""
    msg.visible = bool(d.visible)
    u, v = d.point_2d_pixel if d.point_2d_pixel is not None else (-1, -1)
    msg.pixel_u, msg.pixel_v = int(u), int(v)
    nx, ny = d.point_2d_norm if d.point_2d_norm is not None else (math.nan, math.nan)
    msg.norm_x, msg.norm_y = float(nx), float(ny)
    msg.navigation = d.navigation or ""
    for t in d.tasks or []:
        task = S2Task(kind=S2Task.KIND_STOP if t.is_stop else t.task, target=t.target or "",
                      symbol="" if t.is_stop else (t.action or ""), count=int(t.number or 0))
        pu, pv = t.point_2d_pixel if t.point_2d_pixel is not None else (-1, -1)
        task.pixel_u, task.pixel_v = int(pu), int(pv)
        task.visible = t.point_2d_pixel is not None
        msg.tasks.append(task)
    msg.model = d.model or ""
    msg.latency_s = float(latency)
    return msg


@dataclass(frozen=True)
class ViewPublishers:
    s2_result: object
    path: object
    candidates: object
    markers: object
    target: object
    debug_image: object


class PlanViews:
    def __init__(self, odom_frame: str, mission: Mission, pubs: ViewPublishers) -> None:
        self.odom_frame = odom_frame
        self.mission = mission
        self.pubs = pubs
        self.last_published_decision = None

    def publish_s2_result(self, d, frame: RgbdFrame, instruction: str, latency: float) -> None:
        self.pubs.s2_result.publish(s2_result_msg(d, frame, instruction, latency))
        self.last_published_decision = d

    def publish_plan_views(self, frame: RgbdFrame, goal, chosen_before_veto: int = -1, veto_reason: str = "",
                           latency_s: float = math.nan) -> None:
        mission, pubs = self.mission, self.pubs
        record = mission.plan_record
        if record is None:
            return
        odom_frame = self.odom_frame
        header = Header(stamp=time_msg(record.stamp_s), frame_id=odom_frame)
        plan = record.plan
        if pubs.path.get_subscription_count() > 0 and len(record.path_odom):
            pubs.path.publish(path_msg(record.path_odom, header))
        if pubs.candidates.get_subscription_count() > 0:
            msg = TrajectoryCandidates(header=header, values=[float(v) for v in plan.values],
                                       chosen_index=int(plan.chosen_index), no_safe_path=bool(plan.no_safe_path),
                                       backend=str(plan.backend), chosen_before_veto=int(chosen_before_veto),
                                       veto_reason=veto_reason, latency_s=float(latency_s))
            msg.candidates = [path_msg(c, header) for c in record.candidates_odom]
            pubs.candidates.publish(msg)
        if pubs.markers.get_subscription_count() > 0:
            pubs.markers.publish(candidate_markers(record, header))
        if pubs.target.get_subscription_count() > 0 and mission.target is not None:
            pubs.target.publish(target_marker(mission.target, odom_frame))
        if pubs.debug_image.get_subscription_count() > 0 and frame.pose is not None:
            target_px = (goal.u, goal.v) if isinstance(goal, PixelGoal) else None
            plan_px = project_path(record.path_odom, frame.pose, frame.intrinsics, frame.mount)
            nav = getattr(mission.last_decision, "navigation", "") or ""
            img = draw_debug(frame.rgb, target_px, nav, plan_px, f"{mission.state.name} {mission.reason}")
            msg = Image(header=Header(stamp=time_msg(frame.stamp_s), frame_id=frame.frame_id),
                        **rgb_to_image_fields(img))
            pubs.debug_image.publish(msg)


def target_marker(t, odom_frame: str) -> Marker:
    m = Marker(header=Header(stamp=time_msg(t.stamp_s), frame_id=odom_frame), ns="lingnav_target",
               id=0, type=Marker.SPHERE, action=Marker.ADD)
    m.pose.position = Point(x=float(t.point_odom[0]), y=float(t.point_odom[1]), z=float(t.point_odom[2]))
    m.pose.orientation.w = 1.0
    m.scale.x = m.scale.y = m.scale.z = 0.2
    m.color.r, m.color.g, m.color.b, m.color.a = 1.0, 0.2, 0.8, 0.9
    return m
