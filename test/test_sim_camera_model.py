"""The sim's camera model: range limits, z^2 noise, edge/random/clustered holes, IR-absorbing
surfaces, RGB exposure and noise, latency, dropped frames, seeded reproducibility, profiles."""
import math

import numpy as np
import pytest

from lingnav_ros.sim.camera_model import (
    CameraFaults,
    CameraModel,
    load_faults,
    make_camera_model,
)
from lingnav_ros.sim.simulator import CameraParams, Simulator
from lingnav_ros.sim.world import from_dict

PROFILES = ("sim", "astra_s", "d435", "gemini_336l")


def _wall(z: float, shape=(120, 160)) -> np.ndarray:
    return np.full(shape, z, np.float32)


def _sim(objects=(), camera=None, kind="realistic", room=(-1.0, -3.0, 6.0, 3.0)):
    world = from_dict({"room": list(room), "start": [0.0, 0.0, 0.0], "objects": list(objects),
                       **({"camera": camera} if camera else {})})
    model = make_camera_model(kind, "sim", world.extra.get("camera"))
    return Simulator(world, CameraParams(width=160, height=120, pitch_rad=0.0), camera_model=model)


def test_ideal_model_passes_perfect_depth_and_rgb_through():
    m = CameraModel()
    d = _wall(2.0)
    d[0, 0] = np.nan
    out = m.depth(d, absorbing=np.ones_like(d, bool))
    assert out[0, 0] == 0.0 and np.all(out.ravel()[1:] == 2.0)
    rgb = np.full((120, 160, 3), 100, np.uint8)
    assert np.array_equal(m.rgb(rgb), rgb)


def test_range_limits_read_zero():
    m = CameraModel(CameraFaults(min_range_m=0.4, max_range_m=2.0))
    d = np.array([[0.2, 0.5, 1.9, 2.5]], np.float32)
    assert m.depth(d).tolist() == [[0.0, pytest.approx(0.5), pytest.approx(1.9), 0.0]]


def test_noise_grows_with_the_square_of_the_distance():
    m = CameraModel(CameraFaults(noise_c2_per_m=0.005, seed=1))
    s1 = float(np.std(m.depth(_wall(1.0)) - 1.0))
    s3 = float(np.std(m.depth(_wall(3.0)) - 3.0))
    assert s1 == pytest.approx(0.005, rel=0.1) and s3 == pytest.approx(0.045, rel=0.1)


def test_random_and_clustered_holes_take_their_share_and_clusters_are_blobs():
    rand = CameraModel(CameraFaults(hole_fraction=0.05, seed=2)).depth(_wall(2.0, (240, 320)))
    assert np.mean(rand == 0.0) == pytest.approx(0.05, abs=0.01)
    clus = CameraModel(CameraFaults(cluster_fraction=0.05, cluster_size_px=10.0, seed=2)).depth(_wall(2.0, (240, 320)))
    holes = clus == 0.0
    assert np.mean(holes) == pytest.approx(0.05, abs=0.025)
    # a clustered hole's right neighbour is a hole far more often than chance
    assert np.mean(holes[:, 1:][holes[:, :-1]]) > 0.7
    assert np.mean((rand == 0.0)[:, 1:][(rand == 0.0)[:, :-1]]) < 0.2


def test_pixels_at_depth_edges_are_invalid_but_holes_do_not_grow():
    d = _wall(3.0)
    d[:, 80:] = 1.0  # a box edge at column 80
    d[10, 10] = 0.0  # an existing hole
    out = CameraModel(CameraFaults(edge_jump_ratio=0.1, edge_width_px=2)).depth(d)
    assert np.all(out[:, 78:82] == 0.0) and np.all(out[:, 70:77] == 3.0) and np.all(out[:, 84:] == 1.0)
    assert out[10, 11] == 3.0 and out[11, 10] == 3.0


def test_ir_absorbing_objects_read_nothing_on_a_realistic_camera_only():
    black = {"label": "black box", "x": 1.5, "y": 0.0, "size": [0.6, 1.0], "height": 1.0, "ir_absorbing": True}
    real = _sim([black], camera={"hole_fraction": 0.0, "cluster_fraction": 0.0, "edge_width_px": 0,
                                 "drop_probability": 0.0, "latency_s": 0.0, "latency_jitter_s": 0.0})
    assert real.capture()
    (frame,) = real.frames_due()
    assert frame.stamp_s == 0.0 and frame.depth_m[60, 80] == 0.0
    assert frame.depth_m[60, 5] > 0.0, "the wall beside it still reads"
    ideal = _sim([black], kind="ideal")
    ideal.capture()
    assert ideal.frames_due()[0].depth_m[60, 80] == pytest.approx(1.1, abs=0.05)
    with pytest.raises(ValueError, match="ir_absorbing"):
        from_dict({"objects": [{"x": 1.0, "y": 0.0, "ir_absorbing": "yes"}]})


def test_rgb_exposure_drifts_and_noise_is_added():
    m = CameraModel(CameraFaults(rgb_noise_sigma=5.0, exposure_min=0.7, exposure_max=1.3, seed=3))
    rgb = np.full((60, 80, 3), 120, np.uint8)
    means = [float(m.rgb(rgb).mean()) for _ in range(40)]
    assert max(means) - min(means) > 3.0 and all(0.7 * 120 - 2 < v < 1.3 * 120 + 2 for v in means)
    assert float(np.std(m.rgb(rgb).astype(float))) > 3.0


def test_latency_delays_frames_and_keeps_the_capture_stamp():
    m = CameraModel(CameraFaults(latency_s=0.05))
    d, rgb = _wall(1.0), np.zeros((120, 160, 3), np.uint8)
    assert m.capture(1.0, rgb, d)
    assert m.due(1.04) == []
    (frame,) = m.due(1.05)
    assert frame.stamp_s == 1.0 and m.due(2.0) == []


def test_frames_are_dropped_at_random_and_in_bursts():
    m = CameraModel(CameraFaults(drop_probability=0.2, seed=4), drop_windows=((2.0, 3.0),))
    d, rgb = _wall(1.0, (12, 16)), np.zeros((12, 16, 3), np.uint8)
    kept = [m.capture(t / 10.0, rgb, d) for t in range(100)]
    assert not any(kept[20:30]), "all lost inside the burst"
    rest = kept[:20] + kept[30:]
    assert 0.6 < np.mean(rest) < 0.95 and m.dropped == kept.count(False)


def test_same_seed_same_frames():
    a = CameraModel(load_faults("sim"), realistic=True)
    b = CameraModel(load_faults("sim"), realistic=True)
    c = CameraModel(load_faults("sim", {"seed": 99}), realistic=True)
    d = _wall(2.0)
    da, db, dc = a.depth(d), b.depth(d), c.depth(d)
    assert np.array_equal(da, db) and not np.array_equal(da, dc)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_camera_profile_has_a_valid_model(profile):
    f = load_faults(profile)
    assert 0.0 < f.min_range_m < 0.5 and f.max_range_m >= 2.0 and f.noise_c2_per_m > 0.0
    assert isinstance(make_camera_model("realistic", profile), CameraModel)


def test_bad_profiles_and_values_are_refused_with_the_name():
    with pytest.raises(ValueError, match="no camera profile"):
        load_faults("nope")
    with pytest.raises(ValueError, match="plain name"):
        load_faults("../sim")
    with pytest.raises(ValueError, match="unknown camera model keys: warp"):
        load_faults("sim", {"warp": 1.0})
    with pytest.raises(ValueError, match="min_range_m"):
        CameraFaults(min_range_m=3.0, max_range_m=2.0)
    with pytest.raises(ValueError, match="hole_fraction"):
        CameraFaults(hole_fraction=1.5)
    with pytest.raises(ValueError, match="finite"):
        CameraFaults(latency_s=math.nan)
    with pytest.raises(ValueError, match="must be a number"):
        CameraFaults.from_dict({"seed": "x"})
    with pytest.raises(ValueError, match="camera_model"):
        make_camera_model("perfect", "sim")
    with pytest.raises(ValueError, match="drop window"):
        make_camera_model("ideal", "sim", {"drop_windows_s": [[3.0, 1.0]]})
