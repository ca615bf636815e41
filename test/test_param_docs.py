"""config/mode_*.yaml (with a comment above every key) and docs/parameters.md are exactly what the
parameter table generates, so the page, the YAML files and the code cannot disagree."""
import yaml

from lingnav_ros import navigator_params as P
from lingnav_ros.param_docs import comment_line, unit_of

REGENERATE = "run python -m lingnav_ros.navigator_params --write-config"


def test_mode_files_are_the_generated_text_with_a_comment_on_every_key():
    for mode in P.MODE_OVERRIDES:
        text = P.mode_yaml_path(mode).read_text()
        assert text == P.mode_yaml_text(mode), REGENERATE
        lines = text.splitlines()
        for spec in P.param_specs():
            key_line = next(i for i, line in enumerate(lines) if line.startswith(f"    {spec.name}:"))
            assert lines[key_line - 1] == f"    # {comment_line(spec)}", spec.name
        assert yaml.safe_load(text) == P.mode_yaml(mode), "the comments change no value"


def test_parameters_page_is_generated_and_lists_every_parameter():
    page = P.docs_path().read_text()
    assert page == P.markdown_table(), REGENERATE
    for spec in P.param_specs():
        assert f"| `{spec.name}` | {spec.type_name} | {unit_of(spec.name, spec.type_name)} |" in page, spec.name
    assert "`cuda:0` (mode B)" in page, "a default that differs between the mode files shows both"


def test_units_come_from_the_names():
    assert unit_of("v_max_mps", "float") == "m/s" and unit_of("alpha_max_radps2", "float") == "rad/s^2"
    assert unit_of("odom_timeout_s", "float") == "s" and unit_of("camera_height_m", "float") == "m"
    assert unit_of("control_rate_hz", "float") == "Hz" and unit_of("fx", "float") == "px"
    assert unit_of("odom_frame", "str") == "" and unit_of("local_map_enabled", "bool") == ""
    floats = [s for s in P.param_specs() if s.type_name == "float"]
    unitless = [s.name for s in floats if not unit_of(s.name, s.type_name)]
    assert not unitless, f"float parameters without a unit: {unitless}"
