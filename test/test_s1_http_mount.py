"""The camera mount for clients that never send one: existing robot clients reset S1 with only
`intrinsic`, `stop_threshold` and `batch_size`, so the server's own flags must supply the mount
the planner uses, and a reset that does send mount keys still wins, key by key."""
from __future__ import annotations

import pytest
import requests

from lingnav_core.camera import CameraMount
from s1_server.cli import build_parser, main
from s1_server.options import S1Settings, settings_from_args
from test.s1_http_rig import goal_data, recording_app, reset_body, serve, step_files

FIELD_MOUNT = CameraMount(height_m=0.35, pitch_rad=0.2094, x_m=0.1)


def _mount_seen(url: str, reset_extra: dict) -> CameraMount:
    r = requests.post(url + "/navigator_reset", json={**reset_body(), **reset_extra}, timeout=10)
    assert r.status_code == 200, r.text
    r = requests.post(url + "/pointgoal_step", files=step_files(), data=goal_data([1.0], [0.0]), timeout=30)
    assert r.status_code == 200, r.text
    return r


def test_a_reset_without_a_mount_gets_the_servers_default():
    app = recording_app(settings=S1Settings(default_mount=FIELD_MOUNT))
    with serve(app) as url:
        _mount_seen(url, {})
        assert app.state.log[-1]["mount"] == FIELD_MOUNT
        # the reset's own keys win, one by one; the others stay the server's
        _mount_seen(url, {"camera_pitch_rad": 0.1})
        assert app.state.log[-1]["mount"] == CameraMount(height_m=0.35, pitch_rad=0.1, x_m=0.1)


def test_the_flags_set_the_default_mount():
    args = build_parser().parse_args(["--backend", "geometric", "--camera_pitch_rad", "0.2094",
                                      "--camera_height_m", "0.35", "--camera_x_m", "0.1"])
    assert settings_from_args(args).default_mount == FIELD_MOUNT
    plain = settings_from_args(build_parser().parse_args(["--backend", "geometric"]))
    assert plain.default_mount == CameraMount()


@pytest.mark.parametrize("flag, value", [("--camera_pitch_rad", "nan"), ("--camera_pitch_rad", "2.0"),
                                         ("--camera_height_m", "-0.1"), ("--camera_height_m", "inf"),
                                         ("--camera_x_m", "50")])
def test_bad_mount_flags_refuse_to_start(flag, value, capsys):
    assert main(["--backend", "geometric", flag, value]) == 1
    err = capsys.readouterr().err
    assert flag.lstrip("-") in err and "cannot start" in err


def test_bad_mount_in_a_reset_is_still_a_400():
    app = recording_app(settings=S1Settings(default_mount=FIELD_MOUNT))
    with serve(app) as url:
        r = requests.post(url + "/navigator_reset", json={**reset_body(), "camera_x_m": 3.0}, timeout=10)
        assert r.status_code == 400 and "camera_x_m" in r.json()["error"]
