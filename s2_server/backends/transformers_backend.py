"""Qwen-VL through transformers: one batched generate call per micro-batch."""
from __future__ import annotations

import inspect
import time
from collections import deque
from pathlib import Path

from PIL import Image

from s2_server import model_loading
from s2_server.backends import BackendReply, BackendRequest
from s2_server.prompts import SYSTEM, user_prompt
from s2_server.qwen_processor import patch_size


class TransformersBackend:
    name = "transformers"

    def __init__(self, model_path: str, device: str = "auto", dtype: str = "auto", attn: str = "auto",
                 max_new_tokens: int = 128, trust_remote_code: bool = False):
        loaded = model_loading.load(model_path, device, dtype, attn, trust_remote_code)
        self.hf_model = loaded.model
        self.processor = loaded.processor
        self.family = loaded.family
        self.attn_implementation = loaded.attn_implementation
        self.device = loaded.device
        self.dtype = loaded.dtype
        self.convention = loaded.family.convention
        self.model = Path(str(model_path).rstrip("/")).name
        self.max_new_tokens = max_new_tokens
        self.patch_px = patch_size(self.processor)
        self._forward_args = set(inspect.signature(self.hf_model.forward).parameters)
        # (batch size, seconds) of recent generate calls; bounded, the server runs for weeks
        self.generate_s: deque[tuple[int, float]] = deque(maxlen=1000)

    def conversation(self, req: BackendRequest) -> list[dict]:
        return [
            {"role": "system", "content": [{"type": "text", "text": SYSTEM}]},
            {"role": "user", "content": [
                {"type": "image", "image": Image.fromarray(req.rgb)},
                {"type": "text", "text": user_prompt(req.instruction, self.convention,
                                                     req.context.get("previous_target"))}]},
        ]

    def inputs(self, batch: list[BackendRequest]):
        """Tokenised, padded model inputs on the model's device, floats in the model's dtype."""
        texts = [self.processor.apply_chat_template(self.conversation(req), tokenize=False,
                                                    add_generation_prompt=True) for req in batch]
        images = [Image.fromarray(req.rgb) for req in batch]
        inputs = self.processor(text=texts, images=images, padding=True, return_tensors="pt")
        out = {}
        for key, value in inputs.items():
            if key not in self._forward_args or not hasattr(value, "to"):
                continue
            value = value.to(self.device)
            # The deployed server cast weights to fp16 but fed fp32 pixels: cast every float input too.
            out[key] = value.to(self.dtype) if value.is_floating_point() else value
        return out

    def generate(self, batch: list[BackendRequest]) -> list[BackendReply]:
        import torch

        inputs = self.inputs(batch)
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = self.hf_model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        self.generate_s.append((len(batch), time.perf_counter() - t0))
        texts = self.processor.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        grid = inputs.get("image_grid_thw")
        replies = []
        for i, text in enumerate(texts):
            model_w = model_h = 0
            if grid is not None and i < len(grid):
                model_h, model_w = int(grid[i][1]) * self.patch_px, int(grid[i][2]) * self.patch_px
            replies.append(BackendReply(text, model_w, model_h))
        return replies
