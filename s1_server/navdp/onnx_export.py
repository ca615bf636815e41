"""lingnav-s1-export: a NavDP checkpoint -> a directory of ONNX graphs for onnxruntime / TensorRT.

The graphs are the planner's fast path (`fast.py`), so an exported model plans exactly as the torch
one does given the same noise:
- frame.onnx       frames [N, 3, 224, 224] (0..1)            -> tokens [N, 256, D]
- goal_point.onnx  goal [B, 3] = (x, y, 1)                   -> token [B, 1, D]
- goal_pixel.onnx  mask [B, 1, 224, 224], rgb [B, 3, 224, 224] -> token [B, 1, D]   (cross-modal)
- goal_image.onnx  goal_rgb, rgb [B, 3, 224, 224]           -> token [B, 1, D]   (cross-modal)
- plan.onnx        rgb_tokens [B, 8*256, D], depth [B, 3, 224, 224], goal_tokens [B, slots, D],
                   noise [10, B*K, 24, 3]                    -> trajectories [B, K, 24, 3], values [B, K]
plus navdp_onnx.json describing the variant. On a Jetson, `trtexec --onnx=plan.onnx` (or
onnxruntime's TensorRT provider) builds engines from the same files.
"""
from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import torch

from lingnav_core import cli
from s1_server.navdp.checkpoint import CheckpointError, load_navdp
from s1_server.navdp.fast import FrameEncoder, ImageGoalEncoder, PixelGoalEncoder, PlanCore, PointGoalEncoder
from s1_server.navdp.model import NUM_SAMPLES, NUM_WAYPOINTS, NavDP
from s1_server.navdp.preprocess import IMAGE_PX
from s1_server.navdp.runtime import MANIFEST, ONNX_FORMAT

OPSET = 17


def _graphs(model: NavDP, batch: int = 1, samples: int = NUM_SAMPLES) -> dict:
    """name -> (module, example inputs, input names, output names, dynamic axes)."""
    cfg = model.config
    img = torch.rand(batch, 3, IMAGE_PX, IMAGE_PX)
    b_axis = {0: "batch"}
    graphs = {
        "frame": (FrameEncoder(model), (img,), ["frames"], ["tokens"], {"frames": b_axis, "tokens": b_axis}),
        "goal_point": (PointGoalEncoder(model), (torch.tensor([[2.0, 0.5, 1.0]] * batch),), ["goal"], ["token"],
                       {"goal": b_axis, "token": b_axis}),
    }
    if cfg.cross_modal:
        graphs["goal_pixel"] = (PixelGoalEncoder(model), (torch.rand(batch, 1, IMAGE_PX, IMAGE_PX), img),
                                ["mask", "rgb"], ["token"], {"mask": b_axis, "rgb": b_axis, "token": b_axis})
        graphs["goal_image"] = (ImageGoalEncoder(model), (img, img), ["goal_rgb", "rgb"], ["token"],
                                {"goal_rgb": b_axis, "rgb": b_axis, "token": b_axis})
    tokens = torch.randn(batch, cfg.memory_frames * 256, cfg.dim)
    goal = torch.randn(batch, cfg.goal_slots, cfg.dim)
    noise = torch.randn(10, batch * samples, NUM_WAYPOINTS, 3)
    graphs["plan"] = (PlanCore(model), (tokens, img * 4.0, goal, noise),
                      ["rgb_tokens", "depth", "goal_tokens", "noise"], ["trajectories", "values"],
                      {"rgb_tokens": b_axis, "depth": b_axis, "goal_tokens": b_axis, "noise": {1: "rows"},
                       "trajectories": {0: "batch", 1: "samples"}, "values": {0: "batch", 1: "samples"}})
    return graphs


def export_onnx(model: NavDP, out_dir: str | os.PathLike, source: str = "") -> Path:
    """Write the graphs and the manifest into `out_dir`; returns it. The model must be fp32 on CPU."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = model.float().cpu().eval()
    graphs = _graphs(model)
    # Traced with autograd on: torch's fused inference-only attention kernel (taken under no_grad)
    # has no ONNX form, the plain attention it falls back to has.
    with torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer notes
        for name, (module, args, inputs, outputs, axes) in graphs.items():
            module.eval()
            module(*args)  # fill the ViTs' pos_embed caches so the traced graphs hold them as constants
            torch.onnx.export(module, args, str(out / f"{name}.onnx"), dynamo=False, opset_version=OPSET,
                              input_names=inputs, output_names=outputs, dynamic_axes=axes, do_constant_folding=True)
    manifest = {"format": ONNX_FORMAT, "version": 1, "cross_modal": model.config.cross_modal,
                "dim": model.config.dim, "goal_slots": model.config.goal_slots,
                "memory_frames": model.config.memory_frames, "opset": OPSET, "graphs": sorted(graphs),
                "source": os.path.basename(source)}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("lingnav-s1-export", __doc__)
    p.add_argument("checkpoint", help="navdp-weights.ckpt or navdp-cross-modal.ckpt")
    p.add_argument("out_dir", help="directory for the .onnx files (created)")
    args = p.parse_args(argv)
    try:
        model = load_navdp(args.checkpoint)
        out = export_onnx(model, args.out_dir, args.checkpoint)
    except (CheckpointError, OSError, RuntimeError) as err:
        print(f"[S1] export failed: {err}", file=sys.stderr)
        return 1
    print(f"[S1] exported {'cross-modal' if model.config.cross_modal else 'original'} NavDP to {out}; "
          f"serve it with: lingnav-s1-server --runtime onnxruntime --checkpoint {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
