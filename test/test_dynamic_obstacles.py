"""People and raised furniture in the obstacle memory, the collision monitor and the mission's
stall timers: the simulator renders the depth, the real local map and monitor judge it."""
import math
import threading

import numpy as np

from lingnav_ros.control.types import Command, Pose2D
from lingnav_ros.mission.blocker_wait import BlockerWait
from lingnav_ros.mission.mission import Mission, MissionConfig
from lingnav_ros.mission.states import MissionState, Reason
from lingnav_ros.perception.local_map import LocalMap, LocalMapConfig
from lingnav_ros.safety.collision import CollisionConfig, CollisionMonitor, obstacles_from_depth, rollout
from lingnav_ros.sim.camera_model import make_camera_model
from lingnav_ros.sim.simulator import CameraParams, Simulator
from lingnav_ros.sim.world import from_dict
from lingnav_ros.stamps import seconds_to_ns
from test.mission_harness import LIMITS, ControlPrimitives, Harness, MpcParams, MpcTracker
from test.navigator_scene import Box, Scene
from test.test_mission_recovery import _feed, _path

ROBOT_HEIGHT_M = 0.5
CAM = CameraParams(width=160, height=120, height_m=0.35, pitch_rad=math.radians(12.0), x_m=0.1)


def _sim(objects):
    return Simulator(from_dict({"room": [-1.0, -3.0, 6.0, 3.0], "objects": objects}), CAM)


def _fuse(m: LocalMap, sim: Simulator, t_s: float) -> None:
    _, depth = sim.render()
    m.update(depth, CAM.intrinsics(), CAM.mount(), Pose2D(0.0, 0.0, 0.0), seconds_to_ns(t_s))


def _watch_free(m: LocalMap, sim: Simulator) -> None:
    """Fuse the view as it is now for 0.4 s (5 frames at 10 Hz): long enough for a cell seen free
    to count as free when someone then steps in (MOVED_IN_FREE_FOR_S)."""
    for k in range(5):
        _fuse(m, sim, 0.1 * k)


def _occupied_near(m: LocalMap, x: float, y: float, t_s: float, r: float = 0.3) -> int:
    pts = m.occupied_points(seconds_to_ns(t_s))
    return int(np.sum(np.hypot(pts[:, 0] - x, pts[:, 1] - y) < r)) if len(pts) else 0


def test_a_person_who_leaves_frees_their_cells_with_the_next_frame_and_counts_as_moving():
    person = {"type": "cylinder", "radius": 0.25, "height": 1.7, "path": [[1.5, 0.0], [1.5, 2.8]],
              "speed_mps": 1.0, "start_s": 3.0}
    sim = _sim([person])
    m = LocalMap(LocalMapConfig(max_height_m=ROBOT_HEIGHT_M))
    _fuse(m, sim, 0.0)  # the person stands at (1.5, 0)
    assert _occupied_near(m, 1.5, 0.0, 0.0) > 0
    # standing there since the first frame: nothing says they moved in
    assert not m.moving_obstacle_ahead(Pose2D(0, 0, 0), seconds_to_ns(0.1), 2.0, 0.35, 20.0)
    while sim.time_s < 5.9:  # they walk away to y = 2.8 (out of the corridor)
        sim.step(0.1)
    _fuse(m, sim, sim.time_s)
    assert _occupied_near(m, 1.5, 0.0, sim.time_s) == 0  # one frame later the doorway is open


def test_someone_stepping_into_seen_free_space_is_a_moving_obstacle_ahead():
    person = {"type": "cylinder", "radius": 0.25, "height": 1.7, "path": [[1.5, 2.5], [1.5, 0.0]],
              "speed_mps": 1.0, "start_s": 0.5}
    sim = _sim([person])
    m = LocalMap(LocalMapConfig(max_height_m=ROBOT_HEIGHT_M))
    _watch_free(m, sim)  # the corridor ahead is seen free
    assert not m.moving_obstacle_ahead(Pose2D(0, 0, 0), 0, 2.0, 0.35, 20.0)
    while sim.time_s < 3.2:
        sim.step(0.1)
    _fuse(m, sim, sim.time_s)
    assert m.moving_obstacle_ahead(Pose2D(0, 0, 0), seconds_to_ns(sim.time_s), 2.0, 0.35, 20.0)
    # a static box that was never seen free is not one
    box = _sim([{"x": 1.5, "y": 0.0, "size": [0.4, 0.4], "height": 0.8}])
    m2 = LocalMap(LocalMapConfig(max_height_m=ROBOT_HEIGHT_M))
    for k in range(5):
        _fuse(m2, box, 0.1 * k)
    assert not m2.moving_obstacle_ahead(Pose2D(0, 0, 0), seconds_to_ns(0.4), 2.0, 0.35, 20.0)


def test_a_low_table_top_stays_remembered_though_rays_pass_under_it():
    top = {"x": 1.3, "y": 0.0, "size": [0.6, 0.8], "z_min": 0.3, "height": 0.36}
    sim = _sim([top])
    m = LocalMap(LocalMapConfig(max_height_m=ROBOT_HEIGHT_M))
    for k in range(5):
        _fuse(m, sim, 0.1 * k)
    assert _occupied_near(m, 1.0, 0.0, 0.4, r=0.1) > 0  # its front edge, seen again and again


def test_collision_monitor_stops_for_a_low_top_and_drives_under_a_high_one():
    cfg = CollisionConfig(max_height_m=ROBOT_HEIGHT_M)
    monitor = CollisionMonitor(cfg)
    path = rollout(Pose2D(0, 0, 0), Command(0.25, 0.0), 3.0)
    verdicts = {}
    for name, z_min, height in (("low", 0.3, 0.36), ("high", 0.6, 0.66)):
        sim = _sim([{"x": 0.9, "y": 0.0, "size": [0.6, 0.8], "z_min": z_min, "height": height}])
        _, depth = sim.render()
        obs = obstacles_from_depth(depth, CAM.intrinsics(), CAM.mount(), cfg)
        verdicts[name] = monitor.check(path, obs)
    assert verdicts["low"].action in ("slow", "stop") and verdicts["low"].distance_to_contact_m < 0.6
    assert verdicts["high"].action == "clear"


def test_thin_table_legs_are_obstacles():
    legs = [{"type": "cylinder", "x": 0.7, "y": y, "radius": 0.025, "height": 0.7} for y in (-0.1, 0.3)]
    sim = _sim(legs)
    _, depth = sim.render()
    cfg = CollisionConfig(max_height_m=ROBOT_HEIGHT_M)
    obs = obstacles_from_depth(depth, CAM.intrinsics(), CAM.mount(), cfg)
    assert CollisionMonitor(cfg).check(rollout(Pose2D(0, 0, 0), Command(0.25, 0.0), 3.0), obs).action != "clear"


def test_blocker_wait_holds_within_its_bounds():
    w = BlockerWait(max_wait_s=10.0, max_total_s=15.0)
    assert not w.update(False, 0.0)
    assert w.update(True, 1.0) and w.update(True, 10.0)
    assert not w.update(True, 11.5)  # this blockage held longer than 10 s: the timers run again
    assert not w.update(False, 12.0)
    assert w.update(True, 13.0)
    assert not w.update(True, 17.0)  # 15 s in all this episode


def _mission_behind_a_person(wait_s: float):
    """A real mission approaching a red box with a real local map in which a person has just
    stepped into the way (rendered by the simulator), S1 saying 'no safe path' meanwhile."""
    box = Box(3.0, 3.4, -0.2, 0.2, 0.5, (255, 0, 0))
    local_map = LocalMap(LocalMapConfig(max_height_m=ROBOT_HEIGHT_M))
    cfg = MissionConfig(no_safe_path_timeout_s=2.0, max_recoveries=0, moving_obstacle_wait_s=wait_s)
    mission = Mission(cfg, MpcTracker(MpcParams(), LIMITS), ControlPrimitives(LIMITS, 0.03, 0.03), local_map,
                      threading.Lock())
    h = Harness(Scene(boxes=[box]), mission)
    person = {"type": "cylinder", "radius": 0.25, "height": 1.7, "path": [[1.3, 2.5], [1.3, 0.0]],
              "speed_mps": 2.0, "start_s": 0.3}
    sim = _sim([person])
    _watch_free(local_map, sim)
    while sim.time_s < 1.6:
        sim.step(0.1)
    _fuse(local_map, sim, 0.5)
    h.t = 0.5
    mission.start("go to the red box", h.t)
    assert h.query(lambda f: h.oracle(f, box)) is not None
    return h


def test_no_safe_path_behind_a_person_waits_instead_of_failing_within_the_bound():
    h = _mission_behind_a_person(wait_s=6.0)
    person = _sim([{"type": "cylinder", "x": 1.3, "y": 0.0, "radius": 0.25, "height": 1.7}])
    while h.t < 5.0:  # 4.5 s of no safe path, well past the 2 s timer; they stay in view
        _fuse(h.mission.local_map, person, h.t)
        _feed(h, _path(0.13, 0.0), no_safe=True)
        h.tick()
        h.t += 0.1
    assert h.mission.state == MissionState.APPROACHING, h.mission.reason
    assert h.mission.reason == Reason.WAITING_FOR_MOVER
    while h.t < 12.0 and h.mission.active:  # past the 6 s bound the timer runs again
        _fuse(h.mission.local_map, person, h.t)
        _feed(h, _path(0.13, 0.0), no_safe=True)
        h.tick()
        h.t += 0.1
    assert h.mission.state == MissionState.FAILED and h.mission.reason.startswith(Reason.NO_SAFE_PATH)
    assert h.t < 10.0


def test_without_the_wait_the_same_blockage_fails_at_the_timer():
    h = _mission_behind_a_person(wait_s=0.0)
    while h.t < 5.0 and h.mission.active:
        _feed(h, _path(0.13, 0.0), no_safe=True)
        h.tick()
        h.t += 0.1
    assert h.mission.state == MissionState.FAILED and h.t < 3.5


def test_a_person_who_left_unseen_is_forgotten_sooner_than_furniture():
    person = {"type": "cylinder", "radius": 0.25, "height": 1.7, "path": [[1.5, 2.5], [1.5, 0.0]],
              "speed_mps": 2.0, "start_s": 0.3}
    sim = _sim([person, {"x": 1.5, "y": -1.2, "size": [0.4, 0.4], "height": 0.8}])
    m = LocalMap(LocalMapConfig(max_height_m=ROBOT_HEIGHT_M, moving_timeout_s=4.0))
    _watch_free(m, sim)
    while sim.time_s < 1.6:
        sim.step(0.1)
    _fuse(m, sim, 1.6)  # the person has stepped in front; the box has stood there all along
    assert _occupied_near(m, 1.5, 0.0, 1.6) > 0 and _occupied_near(m, 1.5, -1.2, 1.6) > 0
    # the camera looks away (no more frames here): 4 s later the person is gone, the box is not
    assert _occupied_near(m, 1.5, 0.0, 6.0) == 0
    assert _occupied_near(m, 1.5, -1.2, 6.0) > 0


def test_the_wait_says_why_while_it_lasts_and_the_reason_clears_when_they_leave():
    """A stop always says why: while someone stands in the way the status and the hold reason
    say so, and once they have gone neither does (the reason used to stay until arrival)."""
    h = _mission_behind_a_person(wait_s=6.0)
    person = _sim([{"type": "cylinder", "x": 1.3, "y": 0.0, "radius": 0.25, "height": 1.7}])
    while h.t < 3.0:
        _fuse(h.mission.local_map, person, h.t)  # they stay in the doorway, in view
        _feed(h, _path(0.13, 0.0), no_safe=True)
        h.tick()
    assert h.mission.reason == Reason.WAITING_FOR_MOVER
    assert h.mission.hold_reason(h.t) == Reason.WAITING_FOR_MOVER
    _fuse(h.mission.local_map, _sim([]), h.t)  # they walked off: the next frame sees the way free
    h.tick()
    assert h.mission.state == MissionState.APPROACHING and h.mission.reason == ""
    assert h.mission.hold_reason(h.t) != Reason.WAITING_FOR_MOVER


def _drive_with_realistic_camera(world: dict, plan, m: LocalMap, ahead: list) -> None:
    """The simulator's realistic camera (noise 0.002 + 0.004 z^2 m, holes, 50 ms latency) on a
    robot driving `plan` [(v, w, seconds)]; each frame fused at the pose of its capture, and
    whether the map then says a mover stands in the mission's corridor (1.5 m, 0.35 m a side)."""
    sim = Simulator(from_dict(world), camera_model=make_camera_model("realistic", "sim"))
    intr, mount = sim.camera.intrinsics(), sim.camera.mount()
    poses: dict[int, Pose2D] = {}
    for v, w, seconds in plan:
        for k in range(int(round(seconds / 0.05))):
            sim.command(v, w)
            sim.step(0.05)
            stamp_ns = seconds_to_ns(sim.time_s)
            poses[stamp_ns] = Pose2D(sim.robot.x_m, sim.robot.y_m, sim.robot.theta_rad)
            if k % 2 == 0:
                sim.capture()
            for frame in sim.frames_due():
                at = poses[seconds_to_ns(frame.stamp_s)]
                m.update(frame.depth_m, intr, mount, at, seconds_to_ns(frame.stamp_s))
                ahead.append(m.moving_obstacle_ahead(at, seconds_to_ns(frame.stamp_s), 1.5, 0.35, 20.0))


def test_depth_noise_on_static_walls_and_boxes_is_not_a_moving_obstacle():
    # go_back's room: toward the bin, a turn past the box, on toward the wall; a static world
    # where the old rule (any seen-free cell marked) waited 5 s for a mover that was never there
    world = {"room": [-1.5, -3.0, 5.5, 3.0],
             "objects": [{"type": "cylinder", "x": 2.8, "y": 0.3, "radius": 0.25, "height": 0.7},
                         {"x": 1.0, "y": -2.2, "size": [0.5, 0.5], "height": 0.7}]}
    m, ahead = LocalMap(LocalMapConfig(max_height_m=ROBOT_HEIGHT_M)), []
    _drive_with_realistic_camera(world, [(0.2, 0.0, 6.0), (0.0, -0.5, 3.0), (0.2, 0.0, 8.0), (0.0, 0.0, 4.0)], m,
                                 ahead)
    assert len(ahead) > 150
    assert not any(ahead), f"a mover ahead in {sum(ahead)} of {len(ahead)} frames of a static room"


def test_a_person_walking_at_the_robot_from_afar_is_a_moving_obstacle_once_near():
    # person_approaching: first seen 4 m away, beyond the range where marks count as moving in,
    # then walking straight at the camera: their front moves a cell a frame and hides the last
    world = {"room": [-1.0, -3.0, 6.5, 3.0],
             "objects": [{"type": "cylinder", "radius": 0.22, "height": 1.7, "path": [[4.0, 0.05], [1.2, 0.05]],
                          "speed_mps": 0.6, "start_s": 1.0}]}
    m, ahead = LocalMap(LocalMapConfig(max_height_m=ROBOT_HEIGHT_M)), []
    _drive_with_realistic_camera(world, [(0.0, 0.0, 6.0)], m, ahead)
    assert any(ahead), "the person in the corridor was never taken for a mover"
    assert not any(ahead[:10]), "nothing moved in the first second"
