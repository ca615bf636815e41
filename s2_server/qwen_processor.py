"""Qwen-VL model inputs for images + chat text, for when transformers' own processor cannot be built.

The official Qwen3-VL/Qwen2.5-VL processors also construct a video processor, which needs
torchvision; a lean inference box (or this CI) may not have it, and S2 never sends video. This
processor does the image half of the same job with the checkpoint's own image processor and
tokenizer: render the chat template, expand each <|image_pad|> to the number of merged patches,
tokenize with left padding (batched generation continues after the prompt) and mark image tokens
in `mm_token_type_ids` for M-RoPE.
"""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("s2_server")

IMAGE_TOKEN = "<|image_pad|>"


class QwenImageChatProcessor:
    """The subset of a Qwen-VL processor S2 uses: apply_chat_template, __call__, batch_decode."""

    def __init__(self, image_processor, tokenizer, chat_template: str | None = None):
        self.image_processor = image_processor
        self.tokenizer = tokenizer
        self.chat_template = chat_template or getattr(tokenizer, "chat_template", None)
        if not self.chat_template:
            raise ValueError("the checkpoint has no chat template (chat_template.jinja / tokenizer_config.json)")
        self.image_token_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
        if self.image_token_id is None or self.image_token_id == getattr(tokenizer, "unk_token_id", -1):
            raise ValueError(f"the tokenizer has no {IMAGE_TOKEN} token: not a Qwen-VL tokenizer")
        self.merge_size = int(getattr(image_processor, "merge_size", 2))
        tokenizer.padding_side = "left"

    def apply_chat_template(self, conversation, tokenize: bool = False, add_generation_prompt: bool = True, **_):
        if tokenize:
            raise ValueError("QwenImageChatProcessor renders text only; call it with the images to tokenize")
        return self.tokenizer.apply_chat_template(conversation, chat_template=self.chat_template, tokenize=False,
                                                  add_generation_prompt=add_generation_prompt)

    def __call__(self, text: list[str], images: list, padding: bool = True, return_tensors: str = "pt"):
        from transformers import BatchFeature

        vision = self.image_processor(images=images, return_tensors=return_tensors)
        counts = [int(n) for n in (vision["image_grid_thw"].prod(-1) // (self.merge_size ** 2)).tolist()]
        expanded, k = [], 0
        for sample in text:
            parts = sample.split(IMAGE_TOKEN)
            if k + len(parts) - 1 > len(counts):
                raise ValueError("more <|image_pad|> tokens in the text than images")
            pieces = [parts[0]]
            for part in parts[1:]:
                pieces.append(IMAGE_TOKEN * counts[k] + part)
                k += 1
            expanded.append("".join(pieces))
        if k != len(counts):
            raise ValueError(f"{len(counts)} images but {k} <|image_pad|> tokens in the text")
        encoded = self.tokenizer(expanded, padding=padding, return_tensors=return_tensors)
        data = dict(encoded)
        data["mm_token_type_ids"] = (encoded["input_ids"] == self.image_token_id).long()
        data.update(vision)
        return BatchFeature(data)

    def batch_decode(self, sequences, skip_special_tokens: bool = True):
        return self.tokenizer.batch_decode(sequences, skip_special_tokens=skip_special_tokens)


def load_processor(model_path: str | Path, trust_remote_code: bool = False):
    """transformers' AutoProcessor when it can be built, else QwenImageChatProcessor (with a log line)."""
    from transformers import AutoImageProcessor, AutoProcessor, AutoTokenizer

    try:
        processor = AutoProcessor.from_pretrained(model_path, trust_remote_code=trust_remote_code)
    except Exception as err:  # e.g. the video processor needs torchvision; S2 only needs images
        log.info("[S2] AutoProcessor unavailable (%s); using the image-only Qwen processor",
                 str(err).splitlines()[0][:160])
    else:
        tokenizer = getattr(processor, "tokenizer", None)
        if tokenizer is not None:
            tokenizer.padding_side = "left"
        return processor
    tokenizer = AutoTokenizer.from_pretrained(model_path, trust_remote_code=trust_remote_code)
    image_processor = AutoImageProcessor.from_pretrained(model_path, trust_remote_code=trust_remote_code)
    template_file = Path(model_path) / "chat_template.jinja"
    template = template_file.read_text() if template_file.is_file() else None
    return QwenImageChatProcessor(image_processor, tokenizer, template)


def patch_size(processor) -> int:
    """Pixels per vision patch side (16 for Qwen3-VL, 14 for Qwen2/2.5-VL)."""
    image_processor = getattr(processor, "image_processor", None)
    return int(getattr(image_processor, "patch_size", 14) or 14)
