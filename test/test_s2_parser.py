"""S2's parser turns any model text into a typed decision and never raises."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s2_server.coords import ABSOLUTE, RELATIVE, CoordFrame, norm_to_pixel, to_norm
from s2_server.parser import parse

QWEN3 = CoordFrame(RELATIVE, 640, 480)
QWEN25 = CoordFrame(ABSOLUTE, 1280, 720, model_w=640, model_h=480)

CASES = [
    # (model text, kind, pixel, navigation)
    ('```json\n[{"task":"pixel_point","target":"red chair","point_2d":[500,500]}]\n```', "pixel", (320, 240), ""),
    ('[{"task":"pixel_point","target":"chair","point_2d":[0,1000]}]', "pixel", (0, 479), ""),
    ('[{"task":"pixel_point","target":"chair","point_2d":[null,null]},{"task":"move","action":"←","number":2}]',
     "move", None, "←←"),
    ('{"target":"chair","point_2d":[250.7, 100.2]}\n↑↑←', "pixel", (160, 48), "↑↑←"),
    ('{"target":"chair","point_2d":[null,null]}\n→→', "move", None, "→→"),
    ("↑↑←", "move", None, "↑↑←"),
    ("stop", "stop", None, "stop"),
    ('[{"task":"stop"}]', "stop", None, "stop"),
    ('[{"task":"pixel_point","target":"chair","point_2d":[4000,-20]}]', "none", None, ""),
    ('[{"task":"move","action":"←","number":2},{"task":"pixel_po', "move", None, "←←"),
    ("I cannot see a chair in this image.", "none", None, ""),
    ("", "none", None, ""),
    ('[{"task":"move","action":"left","number":"3"}]', "move", None, "←←←"),
    ('[{"task":"move","action":"↑","number":1},{"task":"pixel_point","target":"box","point_2d":[100,900]}]',
     "pixel", (64, 431), "↑"),
]


@pytest.mark.parametrize("text,kind,pixel,nav", CASES)
def test_realistic_outputs(text, kind, pixel, nav):
    d = parse(text, QWEN3)
    assert d.kind == kind, d
    assert d.point_2d_pixel == pixel
    assert d.navigation == nav
    assert d.raw == text
    if kind == "none":
        assert d.reason


def test_qwen25_absolute_pixels_are_rescaled_to_the_received_image():
    # [320, 240] in the 640x480 model input is the centre; the robot sent 1280x720.
    d = parse('[{"task":"pixel_point","target":"chair","point_2d":[320,240]}]', QWEN25)
    assert d.point_2d_pixel == (640, 360)
    assert d.point_2d_norm == pytest.approx((500.0, 500.0))


def test_the_same_numbers_mean_different_points_per_family():
    text = '[{"task":"pixel_point","target":"chair","point_2d":[300,200]}]'
    assert parse(text, CoordFrame(RELATIVE, 640, 480)).point_2d_pixel == (192, 96)
    assert parse(text, CoordFrame(ABSOLUTE, 640, 480, 640, 480)).point_2d_pixel == (300, 200)


def test_coordinate_helpers_reject_garbage_and_clamp_rounding():
    assert to_norm(float("nan"), 1, QWEN3) is None
    assert to_norm("12", 1, QWEN3) is None
    assert to_norm(1010, -5, QWEN3) == (1000.0, 0.0)
    assert norm_to_pixel(1000, 1000, 640, 480) == (639, 479)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_never_raises_on_any_text(text):
    d = parse(text, QWEN3)
    assert d.kind in ("pixel", "move", "stop", "none")
    if d.point_2d_pixel is not None:
        assert 0 <= d.point_2d_pixel[0] < 640 and 0 <= d.point_2d_pixel[1] < 480


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.floats(allow_subnormal=False) | st.integers() | st.text(max_size=10),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
                        st.sampled_from(["task", "target", "point_2d", "action", "number", "kind"]), kids,
                        max_size=4), max_leaves=12))
def test_never_raises_on_json_shaped_garbage(value):
    import json

    d = parse(json.dumps(value), QWEN25)
    assert d.kind in ("pixel", "move", "stop", "none")
