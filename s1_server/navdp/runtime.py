"""Where the NavDP network runs: torch (CPU/CUDA, fp32/fp16/bf16) or onnxruntime (an exported
directory, see `s1_server.navdp.onnx_export`). Both run the same fast algorithm (`fast.PlanCore`)
and take the same noise, so their plans agree to float rounding.

`flush_denormal()` scopes the CPU's flush-to-zero mode to one inference: denormal floats slow the
decoder several-fold on CPU, but turning the flag on for the whole process would change every other
computation in it.
"""
from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from s1_server.navdp.fast import FrameEncoder, ImageGoalEncoder, PixelGoalEncoder, PlanCore, PointGoalEncoder
from s1_server.navdp.model import NavDP

MANIFEST = "navdp_onnx.json"
ONNX_FORMAT = "lingnav-navdp-onnx"
GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


def flush_denormal_enabled() -> bool:
    """Whether this thread's CPU flushes denormal floats to zero (torch has a setter, no getter)."""
    return float((torch.full((1,), 1e-30, dtype=torch.float32) * 1e-9).item()) == 0.0


@contextlib.contextmanager
def flush_denormal(enabled: bool = True) -> Iterator[None]:
    """Flush denormals inside the block only; afterwards the caller's mode is back, whatever the
    block did to it (onnxruntime's denormal option sets it on the calling thread too)."""
    previous = flush_denormal_enabled()
    if enabled and not previous:
        torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if flush_denormal_enabled() != previous:
            torch.set_flush_denormal(previous)


def _assemble(kind: str, parts: dict, slots: int, cat, repeat):
    """Goal tokens [B, slots, D] from the encoded parts: one goal fills every slot; the mixed goal
    fills [image, point, image] as the official sampler does."""
    if kind == "point_image":
        return cat([parts["image"], parts["point"], parts["image"]])
    return repeat(parts[kind], slots)


class TorchRuntime:
    name = "torch"

    def __init__(self, model: NavDP):
        self.model = model
        self.core = PlanCore(model)
        self.frames = FrameEncoder(model)
        self.point = PointGoalEncoder(model)
        if model.config.cross_modal:
            self.pixel, self.image = PixelGoalEncoder(model), ImageGoalEncoder(model)
        p = next(model.parameters())
        self.device, self.dtype = p.device, p.dtype

    def _t(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(self.device, self.dtype)

    def encode_frames(self, frames: np.ndarray) -> list:
        """frames [N, 3, 224, 224] 0..1 -> N token tensors [256, D]."""
        return list(self.frames(self._t(frames)))

    def stack_tokens(self, per_robot: Sequence[Sequence]) -> torch.Tensor:
        return torch.stack([torch.cat(list(tokens), dim=0) for tokens in per_robot])

    def goal_tokens(self, kind: str, arrays: dict, batch: int) -> torch.Tensor:
        slots, d = self.model.config.goal_slots, self.model.config.dim
        if kind == "none":
            return torch.zeros(batch, slots, d, dtype=self.dtype, device=self.device)
        parts = {}
        if "point" in arrays:
            parts["point"] = self.point(self._t(arrays["point"]))
        if "mask" in arrays:
            parts["pixel"] = self.pixel(self._t(arrays["mask"]), self._t(arrays["current"]))
        if "image" in arrays:
            parts["image"] = self.image(self._t(arrays["image"]), self._t(arrays["current"]))
        return _assemble(kind, parts, slots, lambda xs: torch.cat(xs, dim=1), lambda x, n: x.expand(-1, n, -1))

    def plan(self, rgb_tokens: torch.Tensor, depth: np.ndarray, goal_tokens: torch.Tensor,
             noise: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        trajs, values = self.core(rgb_tokens, self._t(depth), goal_tokens, noise.to(self.device, self.dtype))
        return trajs.cpu().numpy().astype(np.float32), values.cpu().numpy().astype(np.float32)


class OnnxRuntime:
    """The exported graphs on onnxruntime (CPU by default; CUDA/TensorRT providers where installed)."""

    name = "onnxruntime"

    def __init__(self, directory: str | os.PathLike, gpu: bool = False):
        try:
            import onnxruntime as ort
        except ImportError as err:
            raise RuntimeError("the onnxruntime runtime needs the onnxruntime package "
                               "(pip install onnxruntime)") from err
        self.directory = Path(directory)
        manifest_path = self.directory / MANIFEST
        try:
            self.manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError) as err:
            raise RuntimeError(f"{directory} is not a NavDP ONNX export (no readable {MANIFEST}); "
                               "make one with lingnav-s1-export") from err
        if self.manifest.get("format") != ONNX_FORMAT:
            raise RuntimeError(f"{manifest_path} is not a {ONNX_FORMAT} manifest")
        self.cross_modal = bool(self.manifest["cross_modal"])
        self.slots, self.dim = int(self.manifest["goal_slots"]), int(self.manifest["dim"])
        self.memory_frames = int(self.manifest["memory_frames"])
        options = ort.SessionOptions()
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
        # With gpu=True: TensorRT, then CUDA, where this onnxruntime build has them (onnxruntime-gpu).
        wanted = GPU_PROVIDERS if gpu else ()
        providers = [p for p in wanted if p in ort.get_available_providers()] + ["CPUExecutionProvider"]
        self.providers = providers
        self.sessions = {}
        with flush_denormal(False):  # creating a session with that option flips this thread's mode
            self._open(ort, options, providers)

    def _open(self, ort, options, providers: list[str]) -> None:
        for name in self.manifest["graphs"]:
            path = self.directory / f"{name}.onnx"
            try:
                self.sessions[name] = ort.InferenceSession(str(path), options, providers=providers)
            except Exception as err:  # onnxruntime raises its own exception types
                raise RuntimeError(f"cannot load {path}: {err}") from err

    def _run(self, name: str, **inputs: np.ndarray) -> np.ndarray:
        feed = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in inputs.items()}
        return self.sessions[name].run(None, feed)

    def encode_frames(self, frames: np.ndarray) -> list:
        return list(self._run("frame", frames=frames)[0])

    def stack_tokens(self, per_robot: Sequence[Sequence]) -> np.ndarray:
        return np.stack([np.concatenate(list(tokens), axis=0) for tokens in per_robot])

    def goal_tokens(self, kind: str, arrays: dict, batch: int) -> np.ndarray:
        if kind == "none":
            return np.zeros((batch, self.slots, self.dim), dtype=np.float32)
        parts = {}
        if "point" in arrays:
            parts["point"] = self._run("goal_point", goal=arrays["point"])[0]
        if "mask" in arrays:
            parts["pixel"] = self._run("goal_pixel", mask=arrays["mask"], rgb=arrays["current"])[0]
        if "image" in arrays:
            parts["image"] = self._run("goal_image", goal_rgb=arrays["image"], rgb=arrays["current"])[0]
        return _assemble(kind, parts, self.slots, lambda xs: np.concatenate(xs, axis=1),
                         lambda x, n: np.repeat(x, n, axis=1))

    def plan(self, rgb_tokens: np.ndarray, depth: np.ndarray, goal_tokens: np.ndarray,
             noise: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        trajs, values = self._run("plan", rgb_tokens=rgb_tokens, depth=depth, goal_tokens=goal_tokens,
                                  noise=noise.float().cpu().numpy())
        return trajs.astype(np.float32), values.astype(np.float32)
