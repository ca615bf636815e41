"""Every navigator parameter reaches the component that uses it.

For each parameter in navigator_params.param_specs(), a real NavigatorNode is started with that
one parameter at a distinct valid value, and what its parts and ROS surface were built with is
read back (collision, watchdog, mission, tracker, local map, veto, clients, planner, topics on
real subscriptions, QoS, timer periods, the action name). The value must show up among what
changed against the defaults; a few parameters must also show up at named places (the two that
once stayed at their defaults). A parameter added but not wired fails here.
"""
from __future__ import annotations

import dataclasses
import enum
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import rclpy
from rclpy.action import get_action_server_names_and_types_by_node
from rclpy.context import Context
from rclpy.parameter import Parameter

from lingnav_ros import navigator_params as P
from lingnav_ros import topics
from lingnav_ros.nodes.navigator import factories
from lingnav_ros.nodes.navigator_node import NavigatorNode
from lingnav_ros.perception.sync import optional_module

# Observed elsewhere or not at all, each with the reason; keep this short.
NOT_OBSERVABLE: dict[str, str] = {
    "recorded_answers_bag": "needs a recorded bag: test_offline_replay starts a navigator with one"}
if optional_module("tf2_ros") is None:
    NOT_OBSERVABLE["use_tf"] = "tf2_ros is not installed here: use_tf only decides whether a TF listener exists"

BASE = {"s1_mode": "A"}  # the remote planner starts without weights, and its client holds its settings
# Parameters that only act together with another one.
WITH = {"rgb_compressed_topic": {"rgb_transport": "compressed"}}

# Where some values must land, not only somewhere: these once stayed at their defaults.
MUST_REACH: dict[str, tuple[str, ...]] = {
    "s1_stop_threshold": ("memory.veto.min_value", "mission.config.s1_stop_threshold", "planner.stop_threshold"),
    "robot_radius_m": ("mission.dead_end_memory.robot_radius_m", "memory.veto.robot_radius_m",
                       "memory.local_map.footprint_radius_m", "collision.robot_radius_m"),
    "collision_min_height_m": ("collision.min_height_m", "sensors.obstacles.min_height_m",
                               "memory.local_map.min_height_m"),
    "target_clearance_m": ("collision.target_clearance_m", "memory.veto.target_clearance_m"),
    "server_outage_timeout_s": ("outage.s2", "outage.s1"),
}


def _token_file(name: str) -> str:
    """A token file whose token is its own path, so the path shows up in the client's header."""
    path = Path(tempfile.mkdtemp(prefix="lingnav_reach_")) / name
    path.write_text(f"{path}\n")
    return str(path)


def new_value(spec: P.ParamSpec) -> Any:
    """A valid value different from the default; s1_mode goes to the mode that starts without
    weights; a token file must exist."""
    d = spec.default
    if spec.name == "s1_mode":
        return "geometric"
    if spec.name.endswith("_token_file"):
        return _token_file(spec.name)
    if spec.choices:
        return next(c for c in spec.choices if c != d and c != BASE.get(spec.name))
    if spec.type_name == "bool":
        return not d
    if spec.type_name == "int":
        return d + 1
    if spec.type_name == "float":
        return round(d * 1.5 + 0.0137, 6) if d >= 0 else round(d / 2.0 + 0.0137, 6)
    return f"{d}_changed" if d else "changed_value"


def flatten(prefix: str, value: Any, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}" if prefix else k, v, out)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            flatten(f"{prefix}.{f.name}", getattr(value, f.name), out)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            flatten(f"{prefix}[{i}]", v, out)
    elif isinstance(value, enum.Enum):
        out[prefix] = value.name.lower()
    else:
        out[prefix] = value
    return out


def _qos(q) -> tuple:
    return q.depth, q.reliability.name.lower()


def _client(c) -> dict[str, Any]:
    return {"base_url": c.base_url, "timeout_s": c.timeout_s, "retries": getattr(c, "retries", None),
            "auth": c.session.headers.get("Authorization"), "stop_threshold": getattr(c, "stop_threshold", None),
            "mount": getattr(c, "mount", None)}


def observe(nav: NavigatorNode) -> dict[str, Any]:
    """What the running node's parts and ROS surface hold, flattened to path -> value."""
    nav.mission.start("observe", 0.0)  # the episode's dead-end memory is built at the start
    sync = nav.sync.handles[-1] if nav.sync.backend == "message_filters" else nav.sync.pairer
    planner = nav.calls.planner
    seen: dict[str, Any] = {
        "sensors": nav.sensors.s, "control": nav.control.s, "limits": nav.control.limits,
        "watchdog": nav.control.watchdog.config, "collision": nav.control.collision.config,
        "mission.config": nav.mission.config, "tracker": nav.mission.tracker.params,
        "primitives": (nav.mission.primitives.limits, nav.mission.primitives.turn_tolerance_rad,
                       nav.mission.primitives.move_tolerance_m, nav.mission.primitives.reverse_limits),
        "mission.dead_end_memory.robot_radius_m": getattr(nav.mission._ep.memory, "robot_radius_m", None),
        "memory.enabled": nav.memory.enabled, "memory.veto_enabled": nav.memory.veto_enabled,
        "memory.local_map": nav.memory.map.config, "memory.veto": nav.memory.veto_config,
        "memory.odom_frame": nav.memory.odom_frame, "views.odom_frame": nav.views.odom_frame,
        "odom.history_s": nav.odom.history_s,
        "mounts": (nav.mounts.fallback, nav.mounts.base_frame, nav.mounts.camera_frame,
                   nav.mounts._buffer is not None),
        "outage.s2": nav.state.s2_outage.timeout_s, "outage.s1": nav.state.s1_outage.timeout_s,
        "s2": _client(nav.calls.s2), "s2_health": _client(nav.calls.s2_health_client),
        "planner": {"type": type(planner).__name__, **(_client(planner) if hasattr(planner, "base_url") else {})},
        "s1_health": _client(nav.calls.s1_health_client) if nav.calls.s1_health_client else None,
        "calls.s1_remote": nav.calls.s1_remote, "calls.planning_period_s": nav.calls.planning_period_s,
        # mode B cannot start here (no checkpoint): what its loader would be handed
        "navdp": factories.navdp_settings(nav.settings.planner),
        "status": nav.reporter.s, "action": nav.companion.s, "mount_check": nav.mount_check.s,
        "fleet": nav.fleet.settings,
        "action.server": _action_servers(nav.action_node),
        "sync": (sync.queue_size, getattr(sync, "slop_s", None) or sync.slop.nanoseconds * 1e-9),
        "subscriptions": sorted((s.topic, s.msg_type.__name__, _qos(s.qos_profile)) for s in nav.subscriptions),
        "publishers": sorted((p.topic, p.msg_type.__name__, _qos(p.qos_profile)) for p in nav.publishers),
        "timers_s": sorted(t.timer_period_ns * 1e-9 for t in nav.timers),
    }
    return flatten("", seen, {})


def _action_servers(node) -> list[str]:
    for _ in range(100):  # the node's own entry reaches its graph cache within moments
        names = [n for n, _ in get_action_server_names_and_types_by_node(node, node.get_name(),
                                                                          node.get_namespace())]
        if names:
            return names
        time.sleep(0.02)
    return []


def _matches(new: Any, seen: Any) -> bool:
    """`seen` carries `new` as is (or as a speed bound's magnitude), as a period for a rate, or
    inside a name or URL."""
    if isinstance(seen, bool) or isinstance(new, bool):
        return seen is new
    if isinstance(new, (int, float)) and isinstance(seen, (int, float)):
        return any(math.isclose(seen, x, rel_tol=1e-6) or (seen < 0 < x and math.isclose(-seen, x, rel_tol=1e-6))
                   for x in (new, 1.0 / new if new else math.nan))
    if isinstance(new, str) and isinstance(seen, str):
        return seen == new or new in seen
    if isinstance(new, int) and isinstance(seen, str):
        return f":{new}" in seen
    return False


@pytest.fixture(scope="module")
def ros():
    context = Context()
    rclpy.init(context=context)
    yield context
    rclpy.shutdown(context=context)


def _start(context, overrides: dict[str, Any]) -> dict[str, Any]:
    nav = NavigatorNode(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()])
    try:
        return observe(nav)
    finally:
        nav.destroy_node()


def test_new_values_are_valid_and_not_defaults():
    for spec in P.param_specs():
        value = new_value(spec)
        assert value != spec.default, spec.name
        P.from_dict({**BASE, spec.name: value})


def test_every_parameter_reaches_the_component_that_uses_it(ros):
    baselines: dict[str, dict[str, Any]] = {}
    missed = []
    for spec in P.param_specs():
        if spec.name in NOT_OBSERVABLE:
            continue
        base = {**BASE, **WITH.get(spec.name, {})}
        key = repr(sorted(base.items()))
        if key not in baselines:
            baselines[key] = _start(ros, base)
        baseline = baselines[key]
        value = new_value(spec)
        seen = _start(ros, {**base, spec.name: value})
        changed = {k: v for k, v in seen.items() if baseline.get(k) != v}
        if not any(_matches(value, v) for v in changed.values()):
            missed.append(f"{spec.name}={value!r} (changed: {sorted(changed) or 'nothing'})")
        for path in MUST_REACH.get(spec.name, ()):
            assert _matches(value, seen[path]), f"{spec.name}={value!r} did not reach {path} ({seen[path]!r})"
    assert not missed, "parameters that reach no component:\n" + "\n".join(missed)


def test_the_map_veto_refuses_what_s1_refuses(ros):
    """At NavDP's own threshold the veto must not pick a candidate the navigator would refuse."""
    seen = _start(ros, {**BASE, "s1_stop_threshold": -0.5})
    assert seen["memory.veto.min_value"] == -0.5 == seen["planner.stop_threshold"]


def test_the_dead_end_memory_sweeps_with_the_robot_radius(ros):
    seen = _start(ros, {**BASE, "robot_radius_m": 0.35})
    assert seen["mission.dead_end_memory.robot_radius_m"] == 0.35 == seen["memory.veto.robot_radius_m"]


def test_camera_topics_and_qos_land_on_real_subscriptions(ros):
    seen = _start(ros, {**BASE, "rgb_transport": "compressed", "rgb_compressed_topic": "cam/rgb/compressed",
                        "depth_topic": "cam/depth", "camera_info_topic": "cam/info",
                        "camera_qos_reliability": "reliable", "camera_qos_depth": 7})
    subs = [v for k, v in seen.items() if k.startswith("subscriptions")]
    names = {v for v in subs if isinstance(v, str) and v.startswith(("cam/", topics.ODOM))}
    assert {"cam/rgb/compressed", "cam/depth", "cam/info"} <= names
    assert seen["sensors.use_camera_info"] is True
    rows = sorted(set(k.split("]", 1)[0] + "]" for k in seen if k.startswith("subscriptions[")))
    by_topic = {seen[f"{r}[0]"]: (seen[f"{r}[1]"], seen[f"{r}[2][0]"], seen[f"{r}[2][1]"]) for r in rows}
    assert by_topic["cam/rgb/compressed"] == ("CompressedImage", 7, "reliable")
    assert by_topic["cam/depth"] == ("Image", 7, "reliable")


def test_the_action_takes_its_name_from_the_parameter(ros):
    seen = _start(ros, {**BASE, "navigate_action": "robot/go"})
    assert any(v == "/robot/go" for k, v in seen.items() if k.startswith("action.server"))
