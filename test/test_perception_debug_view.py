"""Debug image and candidate colours."""
import numpy as np

from lingnav_ros.control.types import Pose2D
from lingnav_ros.perception.debug_view import draw_debug, project_path, value_colour
from test.navigator_scene import Scene


def test_value_colour_runs_from_red_to_green():
    c = value_colour(np.array([-5.0, 0.0, 5.0, np.nan]))
    assert c.shape == (4, 4)
    assert c[0, 0] == 1.0 and c[0, 1] == 0.0
    assert c[2, 0] == 0.0 and c[2, 1] == 1.0
    assert c[3, 1] == 0.0, "non-finite values are shown as worst"
    assert value_colour(np.array([])).shape == (0, 4)


def test_plan_projects_onto_the_floor_in_front_and_is_drawn():
    scene = Scene()
    pose = Pose2D(1.0, 1.0, 0.5)
    rgb, _ = scene.render(pose)
    ahead = np.array([[1.0 + d * np.cos(0.5), 1.0 + d * np.sin(0.5), 0.5] for d in np.linspace(1.0, 3.0, 10)])
    behind = np.array([[1.0 - np.cos(0.5), 1.0 - np.sin(0.5), 0.0]])
    px = project_path(np.concatenate([ahead, behind]), pose, scene.intrinsics, scene.mount)
    assert px.shape == (10, 2), "the point behind the camera is dropped"
    assert np.allclose(px[:, 0], scene.intrinsics.cx, atol=1.0), "straight ahead stays on the centre column"
    assert np.all(np.diff(px[:, 1]) < 0), "farther points are higher in the image"
    out = draw_debug(rgb, (80, 60), "←↑", px, "APPROACHING")
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert not np.array_equal(out, rgb)
    assert (out[:, :, 1] == 255).any(), "the plan is drawn in green"
