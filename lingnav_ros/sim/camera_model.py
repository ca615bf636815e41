"""What a real RGB-D camera does to the simulator's perfect frames.

Real cameras read 0 below their minimum and beyond their maximum range, lose pixels at depth
edges, in random and clustered holes and on IR-absorbing (black) surfaces, have depth noise that
grows with z^2, auto-exposure that drifts, pixel noise, latency, and lost frames. A stack that
only ever saw perfect depth fails on the robot; this model gives the sim those faults, with the
figures of each camera profile kept in one place: the `/**/lingnav_sim` section of
config/cameras/<profile>.yaml (datasheet sources cited there). Every random draw comes from one
seeded generator, so a run is reproducible.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, fields
from pathlib import Path

import cv2
import numpy as np
import yaml

from lingnav_ros.paths import config_file

SIM_SECTION = "/**/lingnav_sim"
MODEL_KEY = "sim_camera"
CAMERA_MODELS = ("ideal", "realistic")


@dataclass(frozen=True)
class CameraFaults:
    """One camera's faults. Defaults are a perfect camera (the `ideal` model)."""

    min_range_m: float = 0.0
    max_range_m: float = 20.0
    noise_c0_m: float = 0.0  # depth sigma(z) = c0 + c2 * z^2
    noise_c2_per_m: float = 0.0
    edge_jump_ratio: float = 0.0  # neighbours differing by more than this fraction of z: edge
    edge_width_px: int = 0
    hole_fraction: float = 0.0  # independent single-pixel holes
    cluster_fraction: float = 0.0  # share of the image in clustered holes
    cluster_size_px: float = 6.0
    rgb_noise_sigma: float = 0.0  # 0..255 units
    exposure_min: float = 1.0  # per-frame exposure gain drifts in [min, max]
    exposure_max: float = 1.0
    latency_s: float = 0.0  # capture to publication
    latency_jitter_s: float = 0.0
    drop_probability: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"camera model {f.name} must be finite, got {v}")
        if not 0.0 <= self.min_range_m < self.max_range_m:
            raise ValueError("camera model needs 0 <= min_range_m < max_range_m")
        for name in ("hole_fraction", "cluster_fraction", "drop_probability"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"camera model {name} must be in [0, 1)")
        for name in ("noise_c0_m", "noise_c2_per_m", "edge_jump_ratio", "rgb_noise_sigma", "latency_s",
                     "latency_jitter_s"):
            if getattr(self, name) < 0.0:
                raise ValueError(f"camera model {name} must be >= 0")
        if self.edge_width_px < 0 or self.cluster_size_px <= 0.0:
            raise ValueError("camera model edge_width_px must be >= 0 and cluster_size_px > 0")
        if not 0.0 < self.exposure_min <= self.exposure_max:
            raise ValueError("camera model needs 0 < exposure_min <= exposure_max")

    @classmethod
    def from_dict(cls, data: dict) -> CameraFaults:
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown camera model keys: {', '.join(unknown)}")
        out = {}
        for k, v in data.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"camera model {k} must be a number, got {v!r}")
            out[k] = int(v) if k in ("edge_width_px", "seed") else float(v)
        return cls(**out)


def profile_path(profile: str) -> Path:
    if not profile or "/" in profile or profile.startswith("."):
        raise ValueError(f"camera profile name {profile!r} is not a plain name")
    return config_file("cameras", f"{profile}.yaml")


def load_faults(profile: str, overrides: dict | None = None) -> CameraFaults:
    """The `realistic` faults of a camera profile, with per-run overrides (a scenario's
    `camera:` section, e.g. a seed)."""
    path = profile_path(profile)
    if not path.exists():
        raise ValueError(f"no camera profile '{profile}' ({path} is missing)")
    doc = yaml.safe_load(path.read_text()) or {}
    section = (doc.get(SIM_SECTION) or {}).get("ros__parameters", {}).get(MODEL_KEY)
    if not isinstance(section, dict):
        raise ValueError(f"camera profile '{profile}' has no {SIM_SECTION} ros__parameters.{MODEL_KEY} section")
    return CameraFaults.from_dict({**section, **(overrides or {})})


@dataclass(frozen=True)
class CameraFrame:
    stamp_s: float  # capture time: what the header carries
    rgb: np.ndarray
    depth_m: np.ndarray


class CameraModel:
    """Applies `CameraFaults` to rendered frames and delays/drops them like a camera driver."""

    def __init__(self, faults: CameraFaults | None = None, drop_windows: tuple[tuple[float, float], ...] = (),
                 realistic: bool = False):
        self.faults = faults or CameraFaults()
        self.realistic = realistic  # IR-absorbing surfaces read nothing only on a realistic camera
        for a, b in drop_windows:
            if not (math.isfinite(a) and math.isfinite(b) and 0.0 <= a < b):
                raise ValueError(f"drop window ({a}, {b}) must be 0 <= start < end")
        self.drop_windows = tuple(drop_windows)
        self.rng = np.random.default_rng(self.faults.seed)
        self._exposure = 0.5 * (self.faults.exposure_min + self.faults.exposure_max)
        self._queue: deque[tuple[float, CameraFrame]] = deque()
        self._banks: dict[tuple[str, int], np.ndarray] = {}
        self.dropped = 0
        self.captured = 0

    def _draw(self, kind: str, shape: tuple[int, ...]) -> np.ndarray:
        """Per-pixel random numbers of `shape`: a random window into a bank twice the size,
        drawn once from the seeded generator (fresh draws per pixel per frame cost more than the
        render itself; a shifted window is as random as a camera needs)."""
        n = int(np.prod(shape))
        key = (kind, n)
        bank = self._banks.get(key)
        if bank is None:
            bank = (self.rng.random(2 * n, dtype=np.float32) if kind == "uniform"
                    else self.rng.standard_normal(2 * n, dtype=np.float32))
            self._banks[key] = bank
        off = int(self.rng.integers(0, n))
        return bank[off:off + n].reshape(shape)

    # ------------------------------------------------------------------ image faults
    def depth(self, depth_m: np.ndarray, absorbing: np.ndarray | None = None) -> np.ndarray:
        """Faulty depth (metres, 0 where the camera reads nothing) from perfect depth."""
        f = self.faults
        d = np.array(depth_m, dtype=np.float32, copy=True)
        invalid = ~np.isfinite(d) | (d <= 0.0)
        if absorbing is not None and self.realistic:
            invalid |= absorbing
        if f.edge_jump_ratio > 0.0 and f.edge_width_px > 0:
            invalid |= self._edges(d)
        if f.hole_fraction > 0.0:
            invalid |= self._draw("uniform", d.shape) < f.hole_fraction
        if f.cluster_fraction > 0.0:
            invalid |= self._clusters(d.shape)
        if f.noise_c0_m > 0.0 or f.noise_c2_per_m > 0.0:
            sigma = np.float32(f.noise_c0_m) + np.float32(f.noise_c2_per_m) * np.square(d)
            d += self._draw("normal", d.shape) * sigma
        # range limits last: noise can push a reading out of range too
        invalid |= (d < f.min_range_m) | (d > f.max_range_m)
        d[invalid] = 0.0
        return d

    def _edges(self, d: np.ndarray) -> np.ndarray:
        f = self.faults
        ok = np.isfinite(d) & (d > 0.0)
        z = np.where(ok, d, 0.0)
        jump = np.zeros(d.shape, dtype=bool)
        # only between two valid readings: a hole is not an edge (else holes would grow)
        dx = (np.abs(np.diff(z, axis=1)) > f.edge_jump_ratio * np.minimum(z[:, 1:], z[:, :-1])) \
            & ok[:, 1:] & ok[:, :-1]
        dy = (np.abs(np.diff(z, axis=0)) > f.edge_jump_ratio * np.minimum(z[1:, :], z[:-1, :])) \
            & ok[1:, :] & ok[:-1, :]
        jump[:, 1:] |= dx
        jump[:, :-1] |= dx
        jump[1:, :] |= dy
        jump[:-1, :] |= dy
        k = 2 * f.edge_width_px - 1
        return cv2.dilate(jump.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool) if k > 1 else jump

    def _clusters(self, shape: tuple[int, int]) -> np.ndarray:
        """Blob-shaped holes: smoothed noise thresholded so that the wanted share is lost."""
        f = self.faults
        h, w = shape
        s = max(f.cluster_size_px, 1.0)
        small = self.rng.standard_normal((max(2, int(h / s)), max(2, int(w / s)))).astype(np.float32)
        field = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        thresh = np.quantile(field[::4, ::4], 1.0 - f.cluster_fraction)
        return field > thresh

    def rgb(self, rgb: np.ndarray) -> np.ndarray:
        """Exposure drift and pixel noise."""
        f, rng = self.faults, self.rng
        if f.exposure_max > f.exposure_min:
            span = f.exposure_max - f.exposure_min
            self._exposure = float(np.clip(self._exposure + rng.normal(0.0, 0.05 * span), f.exposure_min,
                                           f.exposure_max))
        if self._exposure == 1.0 and f.rgb_noise_sigma == 0.0:
            return rgb
        out = cv2.convertScaleAbs(rgb, alpha=self._exposure)  # saturating, like a sensor
        if f.rgb_noise_sigma > 0.0:
            noise = (self._draw("normal", rgb.shape) * np.float32(f.rgb_noise_sigma)).astype(np.int16)
            out = cv2.add(out, noise, dtype=cv2.CV_8U)
        return out

    # ------------------------------------------------------------------ timing
    def capture(self, t_s: float, rgb: np.ndarray, depth_m: np.ndarray, absorbing: np.ndarray | None = None) -> bool:
        """A frame exposed at `t_s`; False when it is lost (it never comes out of `due`)."""
        f = self.faults
        self.captured += 1
        if any(a <= t_s < b for a, b in self.drop_windows) or \
                (f.drop_probability > 0.0 and self.rng.random() < f.drop_probability):
            self.dropped += 1
            return False
        delay = f.latency_s + (self.rng.uniform(-f.latency_jitter_s, f.latency_jitter_s) if f.latency_jitter_s else 0.0)
        frame = CameraFrame(t_s, self.rgb(rgb), self.depth(depth_m, absorbing))
        self._queue.append((t_s + max(delay, 0.0), frame))
        return True

    def due(self, now_s: float) -> list[CameraFrame]:
        """Frames whose latency has passed, oldest first (a driver publishes in order)."""
        out = []
        while self._queue and self._queue[0][0] <= now_s + 1e-9:
            out.append(self._queue.popleft()[1])
        return out


def drop_windows_from(value) -> tuple[tuple[float, float], ...]:
    """A scenario's `drop_windows_s: [[start, end], ...]` (sim seconds) as tuples."""
    if value in (None, []):
        return ()
    try:
        out = tuple((float(a), float(b)) for a, b in value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"drop_windows_s must be a list of [start, end] pairs, got {value!r}") from exc
    return out


def make_camera_model(kind: str, profile: str, scenario_camera: dict | None = None) -> CameraModel:
    """`ideal` or `realistic` (the profile's faults), with a scenario's `camera:` overrides:
    `model`, `drop_windows_s` and any CameraFaults key."""
    extra = dict(scenario_camera or {})
    kind = str(extra.pop("model", kind))
    windows = drop_windows_from(extra.pop("drop_windows_s", None))
    profile = str(extra.pop("profile", profile))
    if kind not in CAMERA_MODELS:
        raise ValueError(f"camera_model must be one of {CAMERA_MODELS}, got {kind!r}")
    if kind == "ideal":
        return CameraModel(CameraFaults.from_dict(extra) if extra else CameraFaults(), windows)
    return CameraModel(load_faults(profile, extra), windows, realistic=True)
