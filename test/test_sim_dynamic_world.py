"""Raised and moving objects in the simulator: what the camera sees, what the robot touches, and
that a world file with a bad number is refused at load."""
import math

import pytest

from lingnav_ros.sim.motion import PathMotion
from lingnav_ros.sim.robot import RobotParams
from lingnav_ros.sim.simulator import CameraParams, Simulator
from lingnav_ros.sim.world import from_dict


def _sim(objects, room=(-1.0, -3.0, 6.0, 3.0), robot=None, pitch=0.0):
    world = from_dict({"room": list(room), "objects": list(objects)})
    return Simulator(world, CameraParams(width=160, height=120, height_m=0.35, pitch_rad=pitch, x_m=0.1), robot)


def test_a_ray_under_a_raised_box_sees_the_wall_behind():
    # a shelf from 0.5 to 0.8 m at x = 2: the camera (0.35 m) looks level under it at the far wall
    sim = _sim([{"x": 2.0, "y": 0.0, "size": [0.4, 1.0], "z_min": 0.5, "height": 0.8}])
    _, depth = sim.render()
    assert depth[60, 80] == pytest.approx(5.9, abs=0.02)  # far wall at x = 6, camera at 0.1
    # rows above the horizon looking at 0.5..0.8 m meet the shelf's front face at 1.8 m
    fy = sim.camera.intrinsics().fy
    row = int(round(60 - fy * (0.65 - 0.35) / 1.8))
    assert depth[row, 80] == pytest.approx(1.7, abs=0.02)


def test_a_table_top_is_seen_from_above():
    # a top at 0.2..0.25 m, camera at 0.35 pitched down: pixels hit the top's upper face
    sim = _sim([{"x": 1.5, "y": 0.0, "size": [0.8, 0.8], "z_min": 0.2, "height": 0.25, "color": "red"}],
               pitch=math.radians(20))
    rgb, depth = sim.render()
    # the optical axis meets z = 0.25 at 0.1 / sin(20 deg) along the axis, i.e. x ~ 0.37 m: before the
    # table; a ray through a lower row sees the top at x in [1.1, 1.9]
    intr = sim.camera.intrinsics()
    ang = math.atan2(0.1, 1.5 - 0.1)  # depression angle to the top's centre from the camera
    row = int(round(60 + intr.fy * math.tan(math.radians(20) - ang) * -1))
    r, g, b = rgb[row, 80].astype(int)
    assert r > 100 and g < 60, rgb[row, 80]


def test_robot_passes_under_a_high_top_and_stops_at_a_low_one():
    top = {"x": 1.0, "y": 0.0, "size": [0.6, 0.6]}
    high = _sim([{**top, "z_min": 0.6, "height": 0.65}], robot=RobotParams(height_m=0.5))
    low = _sim([{**top, "z_min": 0.4, "height": 0.45}], robot=RobotParams(height_m=0.5))
    for sim in (high, low):
        for _ in range(150):
            sim.command(0.4, 0.0)
            sim.step(0.02)
    assert high.robot.x_m > 1.0 and high.robot.contacts == 0
    assert low.robot.x_m < 0.51 and low.robot.contacts == 1


def test_path_motion_walks_waits_and_loops():
    m = PathMotion(((0.0, 0.0), (2.0, 0.0)), speed_mps=1.0, start_s=1.0)
    assert m.position(0.5) == (0.0, 0.0)
    assert m.position(2.0) == pytest.approx((1.0, 0.0))
    assert m.position(10.0) == pytest.approx((2.0, 0.0))  # stays at the end
    loop = PathMotion(((0.0, 0.0), (2.0, 0.0)), speed_mps=1.0, loop=True)
    assert loop.position(3.0) == pytest.approx((1.0, 0.0))  # back along the path
    assert loop.position(4.5) == pytest.approx((0.5, 0.0))


def test_a_person_walking_into_a_standing_robot_is_not_the_robots_contact():
    person = {"type": "cylinder", "radius": 0.25, "height": 1.7, "path": [[2.0, 0.0], [-0.5, 0.0]], "speed_mps": 1.0}
    sim = _sim([person])
    for _ in range(200):
        sim.step(0.02)
    assert sim.robot.contacts == 0 and sim.robot.hits_while_stopped == 1
    state = sim.state()
    assert state["hits_while_stopped"] == 1 and state["contacts"] == 0


def test_the_robot_driving_into_a_standing_person_is_its_contact():
    person = {"type": "cylinder", "x": 1.0, "y": 0.0, "radius": 0.25, "height": 1.7}
    sim = _sim([person])
    for _ in range(200):
        sim.command(0.4, 0.0)
        sim.step(0.02)
    assert sim.robot.contacts == 1 and sim.robot.hits_while_stopped == 0


def test_a_moving_person_is_rendered_where_they_are():
    person = {"type": "cylinder", "radius": 0.25, "height": 1.7, "color": "blue",
              "path": [[2.0, -2.0], [2.0, 2.0]], "speed_mps": 1.0, "start_s": 0.0}
    sim = _sim([person], room=(-1.0, -3.0, 6.0, 3.0))
    _, before = sim.render()
    for _ in range(100):  # 2 s: the person walks from y = -2 to y = 0, in front of the camera
        sim.step(0.02)
    _, after = sim.render()
    assert before[60, 80] == pytest.approx(5.9, abs=0.02)
    assert after[60, 80] == pytest.approx(1.65, abs=0.03)


@pytest.mark.parametrize("bad, why", [
    ({"objects": [{"x": float("nan"), "y": 0.0}]}, "objects[0].x must be finite"),
    ({"objects": [{"x": 1.0, "y": 0.0, "z_min": 0.9, "height": 0.8}]}, "z_min"),
    ({"objects": [{"x": 1.0, "y": 0.0, "height": -1}]}, "objects[0].height must be in"),
    ({"objects": [{"x": 1.0, "y": 0.0, "size": [0.4, float("inf")]}]}, "size[1] must be finite"),
    ({"objects": [{"path": [[0, 0], [1, 0]]}]}, "no speed_mps"),
    ({"objects": [{"path": [[0, 0], [1, 0]], "speed_mps": 0}]}, "speed_mps must be in (0"),
    ({"objects": [{"path": [[0, 0]], "speed_mps": 1}]}, "at least two"),
    ({"objects": [{"x": 0, "y": 0, "speed_mps": 1}]}, "needs a path"),
    ({"objects": [{"x": 0, "y": 0, "loop": "yes", "path": [[0, 0], [1, 0]], "speed_mps": 1}]}, "loop must be true"),
    ({"objects": [{"x": 0, "y": 0, "hieght": 1}]}, "unknown keys"),
    ({"start": [0, float("nan"), 0]}, "start[1] must be finite"),
    ({"room": [0, 0, "a", 1]}, "room[2] must be a number"),
    ({"wall_height": float("nan")}, "wall_height must be finite"),
    ({"walls": [[0, 0, 1]]}, "walls[0] must be a list of 4"),
])
def test_bad_world_numbers_are_refused_with_the_key(bad, why):
    with pytest.raises(ValueError, match=None) as err:
        from_dict(bad)
    assert why in str(err.value)


def test_robot_params_refuse_bad_height():
    with pytest.raises(ValueError, match="height_m"):
        RobotParams(height_m=float("nan"))


def _fleet(robots, objects=()):
    world = from_dict({"room": [-1.0, -3.0, 6.0, 3.0], "objects": list(objects), "robots": robots})
    return Simulator(world, CameraParams(width=160, height=120, height_m=0.35, pitch_rad=0.0, x_m=0.1))


def test_fleet_robots_see_and_touch_each_other():
    sim = _fleet([{"name": "robot1", "start": [0.0, 0.0, 0.0], "target": "red box"},
                  {"name": "robot2", "start": [2.0, 0.0, math.pi]}],
                 [{"label": "red box", "x": 5.0, "y": 0.0, "color": "red"}])
    assert [a.name for a in sim.agents] == ["robot1", "robot2"]
    _, depth = sim.render(0)
    # robot2 (radius 0.2) stands 2 m ahead: its near surface at 1.8 m, camera at 0.1
    assert depth[60, 80] == pytest.approx(1.7, abs=0.02)
    assert sim.state(0)["target_distance_m"] == pytest.approx(4.8, abs=0.01)
    for _ in range(300):  # robot1 drives into the standing robot2
        sim.command(0.4, 0.0, 0)
        sim.step(0.02)
    assert sim.robot.contacts == 1, "the robot that drove into the other made the contact"
    assert sim.agents[1].robot.contacts == 0
    assert sim.robot.x_m == pytest.approx(1.6, abs=0.03)  # stopped at touching distance


@pytest.mark.parametrize("robots, why", [
    ([{"name": "robot 1", "start": [0, 0, 0]}], "ROS name"),
    ([{"name": "a", "start": [0, 0, 0]}, {"name": "a", "start": [1, 0, 0]}], "unique"),
    ([{"name": "a", "start": [0, float("nan"), 0]}], "robots[0].start[1] must be finite"),
    ([{"name": "a"}], "name, start"),
    ([], "non-empty"),
])
def test_bad_fleets_are_refused(robots, why):
    with pytest.raises(ValueError) as err:
        from_dict({"robots": robots})
    assert why in str(err.value)
