"""Image and depth conversion: every encoding real cameras send, units decided by the encoding."""
import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from lingnav_ros.perception.images import (
    ImageEncodingError,
    compressed_to_rgb,
    depth_to_image_fields,
    depth_to_metres,
    image_to_rgb,
    match_depth_to_rgb,
    rgb_from_msg,
    rgb_to_image_fields,
)


def _rgb(h=6, w=5):
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, size=(h, w, 3), dtype=np.uint8)


def test_rgb8_round_trip_through_a_real_message():
    rgb = _rgb()
    msg = Image(**rgb_to_image_fields(rgb))
    np.testing.assert_array_equal(image_to_rgb(msg), rgb)
    np.testing.assert_array_equal(rgb_from_msg(msg), rgb)


def test_bgr8_with_row_padding_is_reordered():
    rgb = _rgb()
    h, w = rgb.shape[:2]
    padded = np.zeros((h, w * 3 + 4), np.uint8)
    padded[:, : w * 3] = rgb[:, :, ::-1].reshape(h, w * 3)
    msg = Image(height=h, width=w, encoding="bgr8", step=w * 3 + 4, data=padded.tobytes())
    np.testing.assert_array_equal(image_to_rgb(msg), rgb)


def test_rgba_bgra_and_mono():
    rgb = _rgb()
    h, w = rgb.shape[:2]
    rgba = np.concatenate([rgb, np.full((h, w, 1), 7, np.uint8)], axis=2)
    np.testing.assert_array_equal(
        image_to_rgb(Image(height=h, width=w, encoding="rgba8", step=w * 4, data=rgba.tobytes())), rgb)
    bgra = np.concatenate([rgb[:, :, ::-1], np.full((h, w, 1), 7, np.uint8)], axis=2)
    np.testing.assert_array_equal(
        image_to_rgb(Image(height=h, width=w, encoding="bgra8", step=w * 4, data=bgra.tobytes())), rgb)
    mono = rgb[:, :, 0].copy()
    out = image_to_rgb(Image(height=h, width=w, encoding="mono8", step=w, data=mono.tobytes()))
    assert out.shape == (h, w, 3) and np.all(out[:, :, 2] == mono)


def test_compressed_png_decodes_to_rgb():
    rgb = _rgb(16, 12)
    ok, png = cv2.imencode(".png", rgb[:, :, ::-1])
    assert ok
    msg = CompressedImage(format="png", data=png.tobytes())
    np.testing.assert_array_equal(compressed_to_rgb(msg), rgb)
    np.testing.assert_array_equal(rgb_from_msg(msg), rgb)


def test_broken_compressed_image_is_a_typed_error():
    with pytest.raises(ImageEncodingError):
        compressed_to_rgb(CompressedImage(format="jpeg", data=b"not a jpeg"))


def test_16uc1_millimetres_and_32fc1_metres_agree():
    depth = np.array([[0.5, 1.25, np.nan], [2.0, 0.0, 3.5]], np.float32)
    mm = depth_to_metres(Image(**depth_to_image_fields(depth, "16UC1")))
    m = depth_to_metres(Image(**depth_to_image_fields(depth, "32FC1")))
    np.testing.assert_allclose(mm, m, atol=1e-3, equal_nan=True)
    assert np.isnan(m[0, 2]) and np.isnan(m[1, 1]), "zero and NaN mean unknown"
    assert m[0, 1] == pytest.approx(1.25)


def test_big_endian_16uc1():
    d = np.array([[1000, 2500]], dtype=">u2")
    msg = Image(height=1, width=2, encoding="16UC1", is_bigendian=1, step=4, data=d.tobytes())
    np.testing.assert_allclose(depth_to_metres(msg), [[1.0, 2.5]])


@pytest.mark.parametrize("encoding", ["8UC1", "rgb8", "32FC3", "16SC1", ""])
def test_unknown_depth_encoding_is_a_typed_error(encoding):
    msg = Image(height=1, width=1, encoding=encoding, step=4, data=b"\x00\x00\x00\x00")
    with pytest.raises(ImageEncodingError):
        depth_to_metres(msg)


def test_profile_encoding_mismatch_is_reported():
    msg = Image(**depth_to_image_fields(np.ones((2, 2), np.float32), "32FC1"))
    with pytest.raises(ImageEncodingError, match="profile"):
        depth_to_metres(msg, expected="16UC1")
    assert depth_to_metres(msg, expected="32FC1").shape == (2, 2)


def test_truncated_data_and_unknown_colour_encoding_are_errors():
    with pytest.raises(ImageEncodingError):
        image_to_rgb(Image(height=4, width=4, encoding="rgb8", step=12, data=b"\x00" * 10))
    with pytest.raises(ImageEncodingError):
        image_to_rgb(Image(height=1, width=1, encoding="yuv422", step=2, data=b"\x00\x00"))


def test_depth_resampled_to_rgb_size_without_inventing_values():
    depth = np.array([[1.0, 2.0], [3.0, np.nan]], np.float32)
    out = match_depth_to_rgb(depth, (4, 4, 3))
    assert out.shape == (4, 4)
    assert set(np.unique(out[np.isfinite(out)])) <= {1.0, 2.0, 3.0}
    assert np.isnan(out[3, 3])
