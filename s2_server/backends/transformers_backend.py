"""Qwen-VL through transformers: one batched generate call per micro-batch."""
from __future__ import annotations

from PIL import Image

from s2_server import model_loading
from s2_server.backends import BackendRequest
from s2_server.prompts import SYSTEM, user_prompt


class TransformersBackend:
    name = "transformers"

    def __init__(self, model_path: str, device: str = "auto", dtype: str = "auto", attn: str = "auto",
                 max_new_tokens: int = 128, trust_remote_code: bool = False):
        (self.hf_model, self.processor, self.family, self.attn_implementation,
         self.device) = model_loading.load(model_path, device, dtype, attn, trust_remote_code)
        self.convention = self.family.convention
        self.model = str(model_path).rstrip("/").split("/")[-1]
        self.max_new_tokens = max_new_tokens

    def generate(self, batch: list[BackendRequest]) -> list[str]:
        import torch

        conversations = [[
            {"role": "system", "content": [{"type": "text", "text": SYSTEM}]},
            {"role": "user", "content": [
                {"type": "image", "image": Image.fromarray(req.rgb)},
                {"type": "text", "text": user_prompt(req.instruction, self.convention,
                                                     req.context.get("previous_target"))}]},
        ] for req in batch]
        inputs = self.processor.apply_chat_template(conversations, tokenize=True, add_generation_prompt=True,
                                                    return_dict=True, return_tensors="pt", padding=True)
        inputs = inputs.to(self.device)
        with torch.inference_mode():
            out = self.hf_model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        new_tokens = out[:, inputs["input_ids"].shape[1]:]
        return self.processor.batch_decode(new_tokens, skip_special_tokens=True)
