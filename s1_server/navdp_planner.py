"""NavDP in-process (mode B): RGB-D + goal -> 16 candidates, critic values and the chosen path.

The critic picks; when even the best value is below `stop_threshold` the plan carries
`no_safe_path=True` and the navigator stops. We never substitute a sideways point: that is how the
deployed robot drove into walls.

Two algorithms with one result: the fast path (`navdp/fast.py`: frame tokens cached, condition
keys/values shared across samples and steps, on torch or onnxruntime) and, with `reference=True`,
the official order (every frame re-encoded, the condition repeated per sample), kept to check the
fast path against and to benchmark it.
"""
from __future__ import annotations

import logging
import os
import resource
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from lingnav_core.camera import CameraMount, Intrinsics
from lingnav_core.s1_plan import (
    DEFAULT_STOP_THRESHOLD,
    S1_RUNTIMES,
    Goal,
    ImageGoal,
    NoGoal,
    PixelGoal,
    PointGoal,
    PointImageGoal,
    S1Error,
    S1Plan,
)
from s1_server.navdp.checkpoint import CheckpointError, load_navdp
from s1_server.navdp.frame_memory import FrameMemory
from s1_server.navdp.model import NUM_SAMPLES, NUM_WAYPOINTS, NavDP, NavDPConfig
from s1_server.navdp.preprocess import IMAGE_PX, letterbox_depth, letterbox_mask, letterbox_rgb, pixel_goal_mask
from s1_server.navdp.runtime import MANIFEST, OnnxRuntime, TorchRuntime, flush_denormal

log = logging.getLogger("s1_server.navdp")

STAY_RADIUS_M = 0.5  # cross-modal goal modes: candidates ending this close are "stay put"
SHORT_PATH_M = 1.0  # no-goal mode: exploring paths shorter than this are penalised
SHORT_PATH_PENALTY = 10.0
_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def _goal_kind(goal: Goal) -> str:
    kinds = (("point", PointGoal), ("pixel", PixelGoal), ("image", ImageGoal), ("point_image", PointImageGoal),
             ("none", NoGoal))
    for kind, cls in kinds:
        if isinstance(goal, cls):
            return kind
    raise S1Error(f"unsupported goal {goal!r}")


class NavDPPlanner:
    """One loaded NavDP; frame memories per robot (`robot` index in the batch API).

    `runtime="onnxruntime"` runs an export made by lingnav-s1-export (pass its directory as
    `checkpoint`; a .ckpt is exported to a temporary directory first). `reference=True` runs the
    official algorithm order in torch instead of the fast path (same results, several times slower).
    """

    def __init__(self, checkpoint: str | os.PathLike | NavDP, device: str = "cpu", half: bool = False,
                 seed: int | None = None, stop_threshold: float = DEFAULT_STOP_THRESHOLD,
                 config: NavDPConfig | None = None, dtype: str | None = None, num_samples: int = NUM_SAMPLES,
                 runtime: str = "torch", reference: bool = False):
        if runtime not in S1_RUNTIMES:
            raise S1Error(f"runtime must be one of {S1_RUNTIMES}, got {runtime!r}")
        self.device = torch.device(device)
        self.dtype = _DTYPES[dtype] if dtype else (torch.float16 if half else torch.float32)
        if runtime == "onnxruntime" and (self.dtype != torch.float32 or reference):
            raise S1Error("the onnxruntime runtime runs the fp32 fast path only (no half, no reference)")
        self.stop_threshold = float(stop_threshold)
        self.seed = seed
        self.num_samples = int(num_samples)
        self.reference = bool(reference)
        self.runtime_name = runtime
        self._export_dir: tempfile.TemporaryDirectory | None = None
        t0 = time.perf_counter()
        needs_loading = not isinstance(checkpoint, (NavDP, TorchRuntime, OnnxRuntime))  # a path, not a model
        if not needs_loading:
            self.runtime = checkpoint if not isinstance(checkpoint, NavDP) else TorchRuntime(checkpoint)
            self.runtime_name = self.runtime.name
        elif runtime == "onnxruntime":
            self.runtime = self._load_onnx(checkpoint, config)
        else:
            model = self._load(checkpoint, config)
            self.runtime = TorchRuntime(model.to(self.device, self.dtype).eval())
        if isinstance(self.runtime, TorchRuntime):
            self.model: NavDP | None = self.runtime.model
            self.cross_modal = self.model.config.cross_modal
            self.memory_frames = self.model.config.memory_frames
        else:
            self.model = None
            self.cross_modal, self.memory_frames = self.runtime.cross_modal, self.runtime.memory_frames
            if self.reference:
                raise S1Error("the official-order reference path runs on torch only")
        self.generator = torch.Generator(device=self.device if self.runtime_name == "torch" else "cpu")
        if seed is not None:
            self.generator.manual_seed(seed)
        else:
            self.generator.seed()
        self._memories: dict[int, FrameMemory] = {}
        self._empty_tokens = None  # an all-zero frame's tokens, the memory's front padding
        if needs_loading:
            self._log_load(os.fspath(checkpoint), time.perf_counter() - t0)

    @staticmethod
    def _load(checkpoint: str | os.PathLike, config: NavDPConfig | None) -> NavDP:
        try:
            return load_navdp(checkpoint, config)
        except CheckpointError as err:
            raise S1Error(str(err)) from err

    def _load_onnx(self, checkpoint: str | os.PathLike, config: NavDPConfig | None) -> OnnxRuntime:
        path = Path(checkpoint)
        if not (path / MANIFEST).is_file():
            from s1_server.navdp.onnx_export import export_onnx

            model = self._load(checkpoint, config)
            self._export_dir = tempfile.TemporaryDirectory(prefix="navdp_onnx_")
            log.info("[S1] exporting %s to ONNX in %s (export once with lingnav-s1-export to skip this)",
                     path, self._export_dir.name)
            path = export_onnx(model, self._export_dir.name, os.fspath(checkpoint))
        try:
            return OnnxRuntime(path, gpu=self.device.type == "cuda")
        except RuntimeError as err:
            raise S1Error(str(err)) from err

    def _log_load(self, path: str, load_s: float) -> None:
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        variant = "cross-modal" if self.cross_modal else "original"
        extra = ""
        if self.model is not None:
            params = sum(p.numel() for p in self.model.parameters())
            extra = f": {params / 1e6:.1f} M params, {str(self.dtype).replace('torch.', '')}"
        else:
            extra = f": {', '.join(self.runtime.providers)}"
        if self.device.type == "cuda" and torch.cuda.is_available():
            extra += f", cuda allocated {torch.cuda.memory_allocated(self.device) / 2**20:.0f} MiB"
        log.info("[S1] NavDP %s loaded from %s in %.2f s%s on %s (%s), peak RSS %.0f MiB", variant, path, load_s,
                 extra, self.device, self.runtime.name, rss_mib)

    @property
    def supports_pixel_goal(self) -> bool:
        return self.cross_modal

    @property
    def supports_image_goal(self) -> bool:
        return self.cross_modal

    def sibling(self) -> NavDPPlanner:
        """Another robot's planner sharing these weights, with its own memory and noise stream."""
        seed = None if self.seed is None else self.seed + 1 + len(self._memories)
        other = NavDPPlanner(self.runtime, str(self.device), seed=seed, stop_threshold=self.stop_threshold,
                             num_samples=self.num_samples, reference=self.reference)
        other.dtype = self.dtype
        return other

    def memory(self, robot: int = 0) -> FrameMemory:
        return self._memories.setdefault(robot, FrameMemory(self.memory_frames))

    def reset(self, robot: int | None = None) -> None:
        if robot is None:
            for m in self._memories.values():
                m.reset()
        else:
            self.memory(robot).reset()

    def plan(self, rgb: np.ndarray, depth_m: np.ndarray, intrinsics: Intrinsics, goal: Goal,
             mount: CameraMount | None = None) -> S1Plan:
        return self.plan_batch([rgb], [depth_m], [goal])[0]

    def plan_batch(self, rgbs: Sequence[np.ndarray], depths_m: Sequence[np.ndarray], goals: Sequence[Goal],
                   robots: Sequence[int] | None = None) -> list[S1Plan]:
        """Plan for several robots in one forward pass; all goals must be of one kind.
        RGB is HxWx3 uint8 in RGB order, depth HxW metres."""
        t0 = time.perf_counter()
        robots = list(range(len(rgbs))) if robots is None else list(robots)
        if not (len(rgbs) == len(depths_m) == len(goals) == len(robots)) or not rgbs:
            raise S1Error("plan_batch needs equally many (>=1) images, depths, goals and robot ids")
        if len(set(robots)) != len(robots):
            raise S1Error(f"robot ids in one batch must differ, got {robots}")
        kinds = {_goal_kind(g) for g in goals}
        if len(kinds) != 1:
            raise S1Error(f"one batch must share one goal kind, got {sorted(kinds)}")
        kind = kinds.pop()
        if kind in ("pixel", "image", "point_image") and not self.cross_modal:
            raise S1Error(f"{kind} goals need the cross-modal model (navdp-cross-modal.ckpt); "
                          "this is the original navdp-weights.ckpt (point and no goal only)")
        try:
            frames, depth_in = [], []
            for rgb, depth in zip(rgbs, depths_m):
                rgb, depth = np.asarray(rgb), np.asarray(depth)
                if depth.ndim != 2 or rgb.ndim != 3 or rgb.shape[:2] != depth.shape:
                    raise ValueError(f"RGB {rgb.shape} and depth {depth.shape} must share height and width")
                frames.append(letterbox_rgb(rgb))
                depth_in.append(letterbox_depth(depth).transpose(2, 0, 1))
            current = np.stack([f.transpose(2, 0, 1) for f in frames])
            goal_arrays = self._goal_arrays(kind, goals, rgbs, current)
        except (ValueError, TypeError) as err:
            raise S1Error(str(err)) from err
        with flush_denormal(self.device.type == "cpu"), torch.inference_mode():
            if self.reference:
                trajs, values = self._forward_reference(kind, frames, robots, np.stack(depth_in), goal_arrays)
            else:
                trajs, values = self._forward_fast(kind, frames, robots, np.stack(depth_in), goal_arrays)
        latency = time.perf_counter() - t0
        return [self._select(kind, trajs[i], values[i], latency, len(rgbs)) for i in range(len(rgbs))]

    @staticmethod
    def _goal_arrays(kind: str, goals: Sequence[Goal], rgbs: Sequence[np.ndarray], current: np.ndarray) -> dict:
        arrays: dict[str, np.ndarray] = {"current": current}
        if kind in ("point", "point_image"):
            # (x, y, 1): the official server appends a 1, and the network was trained with it
            arrays["point"] = np.array([[g.x_m, g.y_m, 1.0] for g in goals], dtype=np.float32)
            if not np.isfinite(arrays["point"]).all():
                raise ValueError("point goal must be finite")
        if kind == "pixel":
            masks = [letterbox_mask(pixel_goal_mask(g.u, g.v, rgb.shape[0], rgb.shape[1]))[None]
                     for g, rgb in zip(goals, rgbs)]
            arrays["mask"] = np.stack(masks)
        if kind in ("image", "point_image"):
            arrays["image"] = np.stack([letterbox_rgb(np.asarray(g.rgb)).transpose(2, 0, 1) for g in goals])
        return arrays

    def _noise(self, rows: int) -> torch.Tensor:
        """The initial sample and the 9 steps' variance noise, drawn in the official order."""
        shape = (rows, NUM_WAYPOINTS, 3)
        draws = [torch.randn(shape, generator=self.generator, device=self.generator.device, dtype=torch.float32)
                 for _ in range(10)]
        return torch.stack(draws)

    def _forward_fast(self, kind: str, frames: list, robots: list, depth: np.ndarray,
                      goal_arrays: dict) -> tuple[np.ndarray, np.ndarray]:
        rt = self.runtime
        if self._empty_tokens is None:
            self._empty_tokens = rt.encode_frames(np.zeros((1, 3, IMAGE_PX, IMAGE_PX), np.float32))[0]
        new_tokens = rt.encode_frames(goal_arrays["current"])
        for frame, tokens, robot in zip(frames, new_tokens, robots):
            self.memory(robot).append(frame, tokens)
        rgb_tokens = rt.stack_tokens([self.memory(r).token_list(self._empty_tokens) for r in robots])
        goal_tokens = rt.goal_tokens(kind, goal_arrays, len(robots))
        return rt.plan(rgb_tokens, depth, goal_tokens, self._noise(len(robots) * self.num_samples))

    def _forward_reference(self, kind: str, frames: list, robots: list, depth: np.ndarray,
                           goal_arrays: dict) -> tuple[np.ndarray, np.ndarray]:
        """The official order: all 8 frames re-encoded, the condition repeated for every sample,
        noise drawn as the sampler goes."""
        m, rt = self.model, self.runtime
        memories = np.stack([self.memory(r).push(f) for f, r in zip(frames, robots)])
        rgbd = m.rgbd_encoder(rt._t(memories), rt._t(depth))
        current = rt._t(goal_arrays["current"])
        if kind == "point":
            tokens = m.point_goal_tokens(rt._t(goal_arrays["point"]))
        elif kind == "pixel":
            tokens = m.pixel_goal_tokens(rt._t(goal_arrays["mask"]), current)
        elif kind == "image":
            tokens = m.image_goal_tokens(rt._t(goal_arrays["image"]), current)
        elif kind == "point_image":
            image = m.image_goal_tokens(rt._t(goal_arrays["image"]), current)[:, :1]
            tokens = torch.cat([image, m.point_goal_tokens(rt._t(goal_arrays["point"]))[:, :1], image], dim=1)
        else:
            tokens = m.no_goal_tokens(rgbd.shape[0], rgbd.dtype, rgbd.device)
        trajs, values = m.sample(tokens, rgbd, self.generator, self.num_samples)
        return trajs.cpu().numpy().astype(np.float32), values.cpu().numpy().astype(np.float32)

    def _select(self, kind: str, trajs: np.ndarray, values: np.ndarray, latency_s: float, batch: int) -> S1Plan:
        trajs, values = trajs.copy(), values.copy()
        final_xy_m = np.linalg.norm(trajs[:, -1, :2], axis=1)
        if self.cross_modal:
            # The cross-modal policy's rules: with a goal, a candidate ending within 0.5 m means
            # "stay" (xy zeroed, yaw kept); exploring, paths under 1 m lose 10 value points.
            # The original model applies neither.
            if kind == "none":
                values[final_xy_m < SHORT_PATH_M] -= SHORT_PATH_PENALTY
            else:
                trajs[final_xy_m < STAY_RADIUS_M, :, :2] = 0.0
        chosen = int(np.argmax(values))
        no_safe = bool(values[chosen] < self.stop_threshold)
        return S1Plan(best=trajs[chosen].copy(), candidates=trajs, values=values, no_safe_path=no_safe,
                      chosen_index=chosen, backend="navdp", latency_s=latency_s,
                      info={"goal_kind": kind, "batch": batch, "max_value": float(values[chosen]),
                            "dtype": str(self.dtype).replace("torch.", ""), "runtime": self.runtime_name,
                            "reference": self.reference})


def make_navdp_planner(checkpoint: str | os.PathLike, device: str = "cpu", half: bool = False,
                       runtime: str = "torch", seed: int | None = None,
                       stop_threshold: float = DEFAULT_STOP_THRESHOLD) -> NavDPPlanner:
    """The one way mode B and lingnav-s1-server build NavDP. `runtime`: "torch" (checkpoint = .ckpt)
    or "onnxruntime" (checkpoint = a lingnav-s1-export directory, or a .ckpt exported on the fly)."""
    return NavDPPlanner(checkpoint, device=device, half=half, seed=seed, stop_threshold=stop_threshold,
                        runtime=runtime)
