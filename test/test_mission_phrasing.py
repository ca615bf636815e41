"""What people type, read by the color S2 backend: shades, shapes and sizes,
relative clauses, number words, negation, politeness; and the object's name grounds the choice
between same-coloured objects in rendered images."""
import json
import math

import pytest

from lingnav_core.colors import PALETTE, named_rgb
from lingnav_ros.sim.simulator import CameraParams, Simulator
from lingnav_ros.sim.world import from_dict
from s2_server.backends.color_backend import ColorBackend
from s2_server.backends.color_instruction import explicit_moves, parse_target


@pytest.mark.parametrize("text,colour,shade,noun,size,excluded", [
    ("go to the red chair", "red", None, "chair", None, []),
    ("Please go to the dark-blue box.", "blue", "dark", "box", None, []),
    ("head over to the light-green bin", "green", "light", "bin", None, []),
    ("the bin that is green", "green", None, "bin", None, []),
    ("could you go to the bin which is dark red, please", "red", "dark", "bin", None, []),
    ("not the red box, the blue one", "blue", None, "box", None, [("red", "box")]),
    ("go to the blue box, not the red box", "blue", None, "box", None, [("red", "box")]),
    ("the big yellow crate", "yellow", None, "crate", "big", []),
    ("find the small orange bin please", "orange", None, "bin", "small", []),
    ("go to the tall red thing", "red", None, None, "tall", []),
    ("kindly navigate to the violet box", "purple", None, "box", None, []),
    ("go forward 1 m, then go to the orange bin", "orange", None, "bin", None, []),
    ("please go two meters forward", None, None, None, None, []),
    ("red box", "red", None, "box", None, []),
])
def test_target_parsing_table(text, colour, shade, noun, size, excluded):
    q = parse_target(text)
    assert (q.colour, q.shade, q.noun, q.size) == (colour, shade, noun, size)
    assert [(e.colour, e.noun) for e in q.excluded] == excluded


@pytest.mark.parametrize("text,moves", [
    ("go two meters forward", [("↑", 4)]),
    ("please go forward 1 m", [("↑", 2)]),
    ("move back half a meter", [("↓", 1)]),
    ("drive ahead by 1.5 metres", [("↑", 3)]),
    ("turn left 90 degrees, then go to the blue box", [("←", 6)]),
    ("turn ninety degrees to the right", [("→", 6)]),
    ("turn right by forty-five degrees and go 2 m ahead", [("→", 3), ("↑", 4)]),
    ("turn around", [("←", 12)]),
    ("turn left", [("←", 6)]),
    ("go to the red box", []),
])
def test_explicit_moves_table(text, moves):
    assert [(m["action"], m["number"]) for m in explicit_moves(text)] == moves


def test_shaded_colours_for_the_sim():
    assert named_rgb("blue") == PALETTE["blue"]
    assert named_rgb("dark-blue") == named_rgb("dark blue")
    assert max(named_rgb("dark blue")) < max(PALETTE["blue"]) * 0.5
    assert min(named_rgb("light green")) > min(PALETTE["green"])
    for bad in ("ultraviolet", "dark", "very dark blue", "light grey"):
        with pytest.raises(ValueError):
            named_rgb(bad)


CAM = CameraParams(width=320, height=240, height_m=0.35, pitch_rad=math.radians(12), x_m=0.1)


def _answer(objects, instruction):
    sim = Simulator(from_dict({"room": [-1.0, -3.0, 7.0, 3.0], "objects": objects}), CAM)
    rgb, _ = sim.render()
    tasks = json.loads(ColorBackend().answer(rgb, instruction))
    point = next(t["point_2d"] for t in tasks if t["task"] == "pixel_point")
    return point, tasks


def _side(point):
    """Left or right half of the image (objects are placed left/right of the robot)."""
    return "left" if point[0] < 500 else "right"


BOX = {"type": "box", "size": [0.5, 0.5]}


def test_the_box_not_the_bigger_nearer_chair():
    objects = [dict(BOX, label="red box", x=3.9, y=-1.0, height=0.45, color="red"),
               dict(BOX, label="red chair", x=3.0, y=1.0, size=[0.55, 0.55], height=1.15, color="red")]
    assert _side(_answer(objects, "go to the red box")[0]) == "right"
    assert _side(_answer(objects, "go to the red chair")[0]) == "left"
    assert _side(_answer(objects, "go to the tall red thing")[0]) == "left"


def test_shades_and_negation_in_rendered_images():
    objects = [dict(BOX, label="dark blue box", x=3.6, y=-0.9, height=0.7, color="dark blue"),
               dict(BOX, label="blue box", x=3.2, y=1.0, height=0.7, color="blue")]
    assert _side(_answer(objects, "Please go to the dark-blue box.")[0]) == "right"
    assert _side(_answer(objects, "go to the blue box")[0]) == "left"
    bins = [{"type": "cylinder", "radius": 0.25, "height": 0.75, "label": "light green bin", "x": 3.7, "y": 0.9,
             "color": "light green"},
            {"type": "cylinder", "radius": 0.25, "height": 0.75, "label": "green bin", "x": 3.0, "y": -0.9,
             "color": "green"}]
    assert _side(_answer(bins, "head over to the light-green bin")[0]) == "left"
    assert _side(_answer(bins, "the bin that is green")[0]) == "right"
    pair = [dict(BOX, label="red box", x=3.0, y=0.8, height=0.7, color="red"),
            dict(BOX, label="blue box", x=3.8, y=-0.8, height=0.7, color="blue")]
    point, tasks = _answer(pair, "not the red box, the blue one")
    assert _side(point) == "right" and tasks[0]["target"] == "blue box"


def test_moves_only_instruction_in_number_words():
    tasks = json.loads(ColorBackend().answer(None, "please go two meters forward"))
    assert tasks == [{"task": "move", "action": "↑", "number": 4}, {"task": "stop"}]
    done = json.loads(ColorBackend().answer(None, "please go two meters forward", moves_done=True))
    assert done == [{"task": "stop"}], "after the moves there is nothing to search for"
