"""Every status reason the navigator can give, by the words it starts with.

An operator reads `lingnav/status` `reason` first when the robot stops. Each reason starts with
one of the prefixes below (the rest says what exactly happened); this table names the subsystem
behind it and the command that checks it, and docs/troubleshooting.md shows it
(`python -m lingnav_ros.status_reasons` prints that table). A test walks the navigator's code for
the reasons it can set and fails when one starts with words not listed here, and another fails
when the page lacks a row. Plain Python (no ROS): the safety and mission parts use the templates.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

STATUS_ECHO = "ros2 topic echo /lingnav/status --field reason"
DIAGNOSTICS = "ros2 topic echo /diagnostics"


@dataclass(frozen=True)
class ReasonKind:
    prefix: str  # every reason of this kind starts with these words
    subsystem: str
    check: str  # the command that shows the cause
    meaning: str  # what happened and what to do


def _hz(topic: str) -> str:
    return f"ros2 topic hz {topic}"


# --- templates the code fills in (one wording for one cause) -----------------------------------
def no_input_for(what: str, age_s: float, limit_s: float, look_ahead_s: float) -> str:
    """The watchdog's stop: the age it saw and the limit it used, look-ahead included, so the
    numbers never read as a contradiction (0.42 s + 0.10 s look-ahead > 0.50 s)."""
    if age_s == float("inf"):
        return f"no {what} received yet (limit {limit_s:.2f} s)"
    return f"no {what} for {age_s:.2f} s (limit {limit_s:.2f} s, {look_ahead_s:.2f} s look-ahead)"


def waiting_for(server: str, waited_s: float, limit_s: float, attempts: int, error: str) -> str:
    return f"waiting for {server} ({waited_s:.1f} s of {limit_s:.0f} s, {attempts} attempt(s)): {error}"


def no_answer_for(waited_s: float, error: str) -> str:
    """The tail of "S2 server unreachable: ..." when an outage ends the mission."""
    return f"no answer for {waited_s:.1f} s: {error}"


def plan_too_old(age_s: float, limit_s: float) -> str:
    if age_s == float("inf"):
        return "tracked plan has no stamp"
    return f"tracked plan {age_s:.2f} s old (limit {limit_s:.2f} s)"


REASONS: tuple[ReasonKind, ...] = (
    # sensors, checked at the subscription
    ReasonKind("odometry rejected:", "sensors (odometry)", "ros2 topic echo /odom --once",
               "the base driver published a NaN/inf or absurd pose or speed; the message was dropped and "
               "the robot holds until a good one arrives"),
    ReasonKind("camera_info rejected:", "sensors (camera)", "ros2 topic echo /camera/color/camera_info --once",
               "the camera driver's intrinsics are non-finite or out of range; frames are not used"),
    ReasonKind("camera mount rejected:", "sensors (camera mount)", "ros2 topic echo /camera/mount --once",
               "the published base <- camera transform is non-finite or out of range"),
    ReasonKind("sensor error:", "sensors (camera)",
               "ros2 topic echo /camera/depth/image_raw --once --field encoding",
               "an image in an encoding the navigator does not read (depth must be 16UC1 mm or 32FC1 m; "
               "RGB rgb8/bgr8/mono8 or compressed) or a depth_encoding parameter that disagrees"),
    ReasonKind("no odometry at the image stamp", "sensors (time)", _hz("/odom"),
               "images carry stamps the odometry history does not cover: odometry stopped, or the camera "
               "and base clocks differ (use_sim_time on one side only, unsynchronised computers)"),
    ReasonKind("odometry never received", "sensors (odometry)", _hz("/odom"),
               "no nav_msgs/Odometry yet: check the base driver and the odom remap"),
    # watchdog (first in the control tick)
    ReasonKind("no odometry", "watchdog", _hz("/odom"),
               "odometry older than odom_timeout_s (the watchdog looks two control periods ahead): "
               "the base driver stalled or the topic is remapped wrongly"),
    ReasonKind("no depth", "watchdog", _hz("/camera/depth/image_raw"),
               "no usable RGB-D pair for depth_timeout_s (look-ahead included): camera dropout, a QoS "
               "mismatch (reliability), or RGB and depth stamps further apart than sync_slop_s"),
    ReasonKind("tracked plan", "watchdog", "ros2 topic echo /lingnav/status --field plan_age_s",
               "the plan being followed is older than max_plan_age_s: S1 is slow or stopped answering"),
    # collision monitor (after the limiter)
    ReasonKind("no valid predicted path to check", "collision monitor", DIAGNOSTICS,
               "the controller produced a non-finite path; the robot stops"),
    ReasonKind("obstacle on the predicted path in", "collision monitor", "ros2 topic echo /lingnav/local_map --once",
               "depth (this frame or the local map) shows an obstacle within collision_slowdown_distance_m "
               "(slow) or collision_stop_distance_m (stop) along the path"),
    ReasonKind("near field blind", "collision monitor (local map)", "ros2 topic echo /lingnav/local_map --once",
               "the camera reads mostly invalid depth right ahead (too close, black or shiny floor, sunlight): "
               "speed capped to what stops within the known free space"),
    ReasonKind("unknown space ahead", "collision monitor (local map)", "ros2 topic echo /lingnav/local_map --once",
               "the path leaves the free space the local map knows; speed capped to stop inside it"),
    ReasonKind("S1 path blocked at", "S1 map veto", "ros2 topic echo /lingnav/local_map --once",
               "every S1 candidate runs into a remembered obstacle or unseen space (log line; the plan "
               "becomes no safe path)"),
    ReasonKind("S1 path cut at", "S1 map veto", "ros2 topic echo /lingnav/local_map --once",
               "S1's choice was cut short where it meets a remembered obstacle (log line)"),
    # servers
    ReasonKind("waiting for S2", "S2 server", "curl http://S2_HOST:8890/health; lingnav-s2-client --host S2_HOST "
               "--random", "S2 refused, reset or timed out: the robot holds and retries with backoff; the "
               "mission fails after server_outage_timeout_s"),
    ReasonKind("waiting for S1", "S1 server", "curl http://S1_HOST:8901/health",
               "S1 (mode A) refused, reset or timed out: the robot holds and retries; fails after "
               "server_outage_timeout_s"),
    ReasonKind("S2 server unreachable", "S2 server", "curl http://S2_HOST:8890/health",
               "S2 did not answer for server_outage_timeout_s: the mission failed"),
    ReasonKind("S1 server unreachable", "S1 server", "curl http://S1_HOST:8901/health",
               "S1 did not answer for server_outage_timeout_s: the mission failed"),
    ReasonKind("S2 rejected the request", "S2 server", "lingnav-s2-client --host S2_HOST --image frame.jpg "
               "--instruction '...'", "S2 answered 4xx (wrong token: 401; bad image or instruction: 400)"),
    ReasonKind("S1 failed", "S1 planner", f"{DIAGNOSTICS} (lingnav_navigator: s1)",
               "S1 answered an error or the in-process planner raised; the text after the colon is its reason"),
    # mission
    ReasonKind("asking S2 where the target is", "mission (S2)", "lingnav-s2-client --host S2_HOST --random",
               "the robot stands still while S2 looks at the current image (normal for a second or two; "
               "longer: the model is slow, see s2 latency on /diagnostics)"),
    ReasonKind("waiting for the first S1 plan", "mission (S1)", f"{STATUS_ECHO}; {DIAGNOSTICS}",
               "the target is known and the robot waits for S1's first plan toward it"),
    ReasonKind("no safe path", "mission (S1 + depth)", "ros2 topic echo /lingnav/candidates --once",
               "S1's best candidate is below s1_stop_threshold (blocked, or depth too poor to see the floor: "
               "check the camera height/pitch and depth); the robot holds, asks S2 again and recovers after "
               "no_safe_path_timeout_s"),
    ReasonKind("waiting for a moving obstacle to clear the way", "mission (local map)",
               "ros2 topic echo /lingnav/local_map --once",
               "something that moved into space the camera had just seen free (a person, another robot) "
               "blocks the path; the robot waits without counting toward recovery, up to moving_obstacle_wait_s "
               "per blockage"),
    ReasonKind("out of sight:", "mission (object memory)", STATUS_ECHO,
               "the target left the view while the robot detoured; it drives to where it was seen and looks "
               "again before searching"),
    ReasonKind("going back to the", "mission (object memory)", STATUS_ECHO,
               "the instruction names an object seen before; the robot drives to where it was seen and lets S2 "
               "confirm it there (ros2 service call /lingnav/clear_objects std_srvs/srv/Trigger forgets them)"),
    ReasonKind("exploring:", "mission (exploration)", "ros2 topic echo /lingnav/local_map --once",
               "a full look around did not find the target; the robot drives to an unexplored opening and looks "
               "again, within explore_max_area_m2, explore_max_distance_m and explore_timeout_s"),
    ReasonKind("at the end of the plan", "mission (tracker)", STATUS_ECHO,
               "the tracker reached the end of its plan and holds for the next one"),
    ReasonKind("no progress", "mission", STATUS_ECHO,
               "the distance to the target did not drop by min_progress_m within progress_timeout_s"),
    ReasonKind("recovery ", "mission", STATUS_ECHO,
               "driving the known way round, or backing out along the trail and stepping aside, after a "
               "stall (recovery N/M: why)"),
    ReasonKind("resuming the approach after recovery", "mission", STATUS_ECHO, "the detour is done"),
    ReasonKind("timeout", "mission", STATUS_ECHO, "the mission took longer than mission_timeout_s"),
    ReasonKind("search exhausted", "mission (S2)", "lingnav-s2-client --host S2_HOST --image frame.jpg "
               "--instruction '...'", "S2 never saw the target within search_timeout_s or a full turn"),
    ReasonKind("move step failed", "mission (base)", "ros2 topic echo /cmd_vel; ros2 topic echo /odom",
               "a turn or move reached less than half its amount within primitive_timeout_s: cmd_vel does "
               "not reach the base (remap) or the base is blocked"),
    ReasonKind("cancelled", "mission", STATUS_ECHO, "the Navigate action goal was cancelled"),
    ReasonKind("preempted by a new instruction", "mission", STATUS_ECHO, "a new instruction replaced this one"),
    ReasonKind("e-stop engaged", "e-stop", "ros2 topic echo /lingnav/estop",
               "true on lingnav/estop: latched until false"),
    ReasonKind("e-stop released", "e-stop", "ros2 topic echo /lingnav/estop",
               "the robot stays stopped until the next instruction"),
    ReasonKind("S2 says stop", "mission (S2)", STATUS_ECHO, "arrived: S2 answered stop"),
    ReasonKind("target within arrive distance", "mission", STATUS_ECHO, "arrived: within arrive_distance_m"),
    ReasonKind("instruction moves completed", "mission", STATUS_ECHO, "arrived: the instruction's moves are done"),
    # mount self-check
    ReasonKind("camera mount check:", "camera mount", "ros2 service call /lingnav/check_mount std_srvs/srv/Trigger",
               "the floor seen in depth puts the camera at another height or pitch than configured; the "
               "text gives both and the parameter lines to set"),
)


def kind_of(reason: str) -> ReasonKind | None:
    """The kind a reason belongs to (the longest matching prefix), None for an unlisted one."""
    matches = [k for k in REASONS if reason.startswith(k.prefix)]
    return max(matches, key=lambda k: len(k.prefix)) if matches else None


def markdown_table() -> str:
    """The reason table of docs/troubleshooting.md."""
    rows = ["| reason starts with | subsystem | check with | what it means, what to do |", "|---|---|---|---|"]
    for k in REASONS:
        rows.append(f"| `{k.prefix.strip()}` | {k.subsystem} | `{k.check}` | {k.meaning} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description="Print the status reason table of docs/troubleshooting.md.",
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter).parse_args(argv)
    print(markdown_table())


if __name__ == "__main__":
    main()
