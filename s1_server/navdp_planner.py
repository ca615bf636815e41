"""NavDP in-process (mode B): RGB-D + goal -> 16 candidates, critic values and the chosen path.

The critic picks; when even the best value is below `stop_threshold` the plan carries
`no_safe_path=True` and the navigator stops. We never substitute a sideways point: that is how the
field robot drove into walls.
"""
from __future__ import annotations

import logging
import os
import resource
import time
from collections.abc import Sequence

import numpy as np
import torch

from s1_server.camera import CameraMount, Intrinsics
from s1_server.navdp.checkpoint import CheckpointError, load_navdp
from s1_server.navdp.memory import FrameMemory
from s1_server.navdp.model import NUM_SAMPLES, NavDP, NavDPConfig
from s1_server.navdp.preprocess import letterbox_depth, letterbox_mask, letterbox_rgb, pixel_goal_mask
from s1_server.plan import DEFAULT_STOP_THRESHOLD, Goal, ImageGoal, NoGoal, PixelGoal, PointGoal, S1Error, S1Plan

log = logging.getLogger("s1_server.navdp")

STAY_RADIUS_M = 0.5  # cross-modal goal modes: candidates ending this close are "stay put"
SHORT_PATH_M = 1.0  # no-goal mode: exploring paths shorter than this are penalised
SHORT_PATH_PENALTY = 10.0
_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def _goal_kind(goal: Goal) -> str:
    for kind, cls in (("point", PointGoal), ("pixel", PixelGoal), ("image", ImageGoal), ("none", NoGoal)):
        if isinstance(goal, cls):
            return kind
    raise S1Error(f"unsupported goal {goal!r}")


class NavDPPlanner:
    """One loaded NavDP; frame memories per robot (`robot` index in the batch API)."""

    def __init__(self, checkpoint: str | os.PathLike | NavDP, device: str = "cpu", half: bool = False,
                 seed: int | None = None, stop_threshold: float = DEFAULT_STOP_THRESHOLD,
                 config: NavDPConfig | None = None, dtype: str | None = None, num_samples: int = NUM_SAMPLES):
        self.device = torch.device(device)
        if self.device.type == "cpu":
            # Denormal floats (frequent with fp32 on CPU) slow the decoder by 10-30x; flushing them
            # to zero changes no output beyond 1e-38.
            torch.set_flush_denormal(True)
        self.dtype = _DTYPES[dtype] if dtype else (torch.float16 if half else torch.float32)
        self.stop_threshold = float(stop_threshold)
        self.seed = seed
        self.num_samples = int(num_samples)
        if isinstance(checkpoint, NavDP):
            self.model = checkpoint
        else:
            t0 = time.perf_counter()
            try:
                model = load_navdp(checkpoint, config)
            except CheckpointError as err:
                raise S1Error(str(err)) from err
            self.model = model.to(self.device, self.dtype).eval()
            self._log_load(os.fspath(checkpoint), time.perf_counter() - t0)
        self.generator = torch.Generator(device=self.device)
        if seed is not None:
            self.generator.manual_seed(seed)
        else:
            self.generator.seed()
        self._memories: dict[int, FrameMemory] = {}

    def _log_load(self, path: str, load_s: float) -> None:
        params = sum(p.numel() for p in self.model.parameters())
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        extra = ""
        if self.device.type == "cuda":
            extra = f", cuda allocated {torch.cuda.memory_allocated(self.device) / 2**20:.0f} MiB"
        variant = "cross-modal" if self.model.config.cross_modal else "original"
        log.info("[S1] NavDP %s loaded from %s in %.2f s: %.1f M params, %s on %s, peak RSS %.0f MiB%s",
                 variant, path, load_s, params / 1e6, str(self.dtype).replace("torch.", ""), self.device,
                 rss_mib, extra)

    @property
    def supports_pixel_goal(self) -> bool:
        return self.model.config.cross_modal

    @property
    def supports_image_goal(self) -> bool:
        return self.model.config.cross_modal

    def sibling(self) -> NavDPPlanner:
        """Another robot's planner sharing these weights, with its own memory and noise stream."""
        seed = None if self.seed is None else self.seed + 1 + len(self._memories)
        other = NavDPPlanner(self.model, str(self.device), seed=seed, stop_threshold=self.stop_threshold)
        other.dtype, other.num_samples = self.dtype, self.num_samples
        return other

    def memory(self, robot: int = 0) -> FrameMemory:
        return self._memories.setdefault(robot, FrameMemory(self.model.config.memory_frames))

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
        """Plan for several robots in one forward pass; all goals must be of one kind."""
        t0 = time.perf_counter()
        robots = list(range(len(rgbs))) if robots is None else list(robots)
        if not (len(rgbs) == len(depths_m) == len(goals) == len(robots)) or not rgbs:
            raise S1Error("plan_batch needs equally many (>=1) images, depths, goals and robot ids")
        kinds = {_goal_kind(g) for g in goals}
        if len(kinds) != 1:
            raise S1Error(f"one batch must share one goal kind, got {sorted(kinds)}")
        kind = kinds.pop()
        if kind in ("pixel", "image") and not self.model.config.cross_modal:
            raise S1Error(f"{kind} goals need the cross-modal model (navdp-cross-modal.ckpt); "
                          "this is the original navdp-weights.ckpt (point and no goal only)")
        try:
            memories, depth_in, current = [], [], []
            for rgb, depth, robot in zip(rgbs, depths_m, robots):
                rgb, depth = np.asarray(rgb), np.asarray(depth)
                if depth.ndim != 2 or rgb.shape[:2] != depth.shape:
                    raise ValueError(f"RGB {rgb.shape} and depth {depth.shape} must share height and width")
                frame = letterbox_rgb(rgb)
                memories.append(self.memory(robot).push(frame))
                current.append(frame.transpose(2, 0, 1))
                depth_in.append(letterbox_depth(depth).transpose(2, 0, 1))
            goal_arrays = self._goal_arrays(kind, goals, rgbs)
        except (ValueError, TypeError) as err:
            raise S1Error(str(err)) from err
        trajs, values = self._forward(kind, np.stack(memories), np.stack(depth_in), np.stack(current), goal_arrays)
        latency = time.perf_counter() - t0
        return [self._select(kind, trajs[i], values[i], latency, len(rgbs)) for i in range(len(rgbs))]

    @staticmethod
    def _goal_arrays(kind: str, goals: Sequence[Goal], rgbs: Sequence[np.ndarray]) -> np.ndarray | None:
        if kind == "point":
            return np.array([[g.x_m, g.y_m, 0.0] for g in goals], dtype=np.float32)
        if kind == "pixel":
            masks = []
            for g, rgb in zip(goals, rgbs):
                raw = pixel_goal_mask(g.u, g.v, rgb.shape[0], rgb.shape[1])
                masks.append(letterbox_mask(raw)[None])
            return np.stack(masks)
        if kind == "image":
            return np.stack([letterbox_rgb(np.asarray(g.rgb)).transpose(2, 0, 1) for g in goals])
        return None

    def _forward(self, kind: str, memories: np.ndarray, depth: np.ndarray, current: np.ndarray,
                 goal: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        def tensor(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)).to(self.device, self.dtype)

        m = self.model
        with torch.inference_mode():
            rgbd = m.rgbd_encoder(tensor(memories), tensor(depth))
            b = rgbd.shape[0]
            if kind == "point":
                tokens = m.point_goal_tokens(tensor(goal))
            elif kind == "pixel":
                tokens = m.pixel_goal_tokens(tensor(goal), tensor(current))
            elif kind == "image":
                tokens = m.image_goal_tokens(tensor(goal), tensor(current))
            else:
                tokens = m.no_goal_tokens(b, rgbd.dtype, rgbd.device)
            trajs, values = m.sample(tokens, rgbd, self.generator, self.num_samples)
        return trajs.cpu().numpy().astype(np.float32), values.cpu().numpy().astype(np.float32)

    def _select(self, kind: str, trajs: np.ndarray, values: np.ndarray, latency_s: float, batch: int) -> S1Plan:
        trajs, values = trajs.copy(), values.copy()
        final_xy_m = np.linalg.norm(trajs[:, -1, :2], axis=1)
        if kind in ("pixel", "image"):
            trajs[final_xy_m < STAY_RADIUS_M, :, :2] = 0.0
        elif kind == "none":
            values[final_xy_m < SHORT_PATH_M] -= SHORT_PATH_PENALTY
        chosen = int(np.argmax(values))
        no_safe = bool(values[chosen] < self.stop_threshold)
        return S1Plan(best=trajs[chosen].copy(), candidates=trajs, values=values, no_safe_path=no_safe,
                      chosen_index=chosen, backend="navdp", latency_s=latency_s,
                      info={"goal_kind": kind, "batch": batch, "max_value": float(values[chosen]),
                            "dtype": str(self.dtype).replace("torch.", "")})
