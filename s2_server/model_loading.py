"""Choose and load the right transformers class from the checkpoint itself.

The field picked the class from the path ("qwen3" in the name), which breaks on MoE checkpoints
and renamed folders. config.json's `architectures` / `model_type` says what the weights are.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from s2_server.coords import ABSOLUTE, RELATIVE

log = logging.getLogger("s2_server")


@dataclass(frozen=True)
class ModelFamily:
    model_type: str
    class_name: str
    convention: str
    min_transformers: str


FAMILIES = (
    ModelFamily("qwen3_vl", "Qwen3VLForConditionalGeneration", RELATIVE, "4.57"),
    ModelFamily("qwen3_vl_moe", "Qwen3VLMoeForConditionalGeneration", RELATIVE, "4.57"),
    ModelFamily("qwen2_5_vl", "Qwen2_5_VLForConditionalGeneration", ABSOLUTE, "4.49"),
    ModelFamily("qwen2_vl", "Qwen2VLForConditionalGeneration", ABSOLUTE, "4.45"),
)
ATTENTION_ORDER = ("flash_attention_2", "sdpa", "eager")


class ModelLoadError(RuntimeError):
    pass


def supported() -> str:
    return ", ".join(f"{f.model_type} ({f.class_name})" for f in FAMILIES)


def detect_family(model_path: str | Path) -> ModelFamily:
    config_path = Path(model_path) / "config.json"
    try:
        config = json.loads(config_path.read_text())
    except FileNotFoundError as err:
        raise ModelLoadError(f"{config_path} not found: --model_path must be a checkpoint folder") from err
    except ValueError as err:
        raise ModelLoadError(f"{config_path} is not valid JSON: {err}") from err
    for arch in config.get("architectures") or []:
        for family in FAMILIES:
            if arch == family.class_name:
                return family
    model_type = config.get("model_type")
    for family in FAMILIES:
        if model_type == family.model_type:
            return family
    raise ModelLoadError(f"unsupported model (architectures={config.get('architectures')}, "
                         f"model_type={model_type}); supported families: {supported()}")


def model_class(family: ModelFamily):
    import transformers

    cls = getattr(transformers, family.class_name, None)
    if cls is None:
        raise ModelLoadError(f"transformers {transformers.__version__} has no {family.class_name}; "
                             f"install transformers>={family.min_transformers}")
    return cls


def attention_candidates(requested: str) -> list[str]:
    if requested == "auto":
        return list(ATTENTION_ORDER)
    return [requested] + [a for a in ATTENTION_ORDER[ATTENTION_ORDER.index(requested) + 1:]] \
        if requested in ATTENTION_ORDER else [requested]


def load(model_path: str, device: str = "auto", dtype: str = "auto", attn: str = "auto",
         trust_remote_code: bool = False):
    """-> (model, processor, family, attn_implementation). Falls back flash -> sdpa -> eager."""
    import torch
    from transformers import AutoProcessor

    family = detect_family(model_path)
    cls = model_class(family)
    if device == "auto":
        device = "cuda:0" if torch.cuda.is_available() else "cpu"
    torch_dtype = {"auto": (torch.bfloat16 if device.startswith("cuda") else torch.float32),
                   "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype]
    errors = []
    for impl in attention_candidates(attn):
        try:
            model = cls.from_pretrained(model_path, dtype=torch_dtype, attn_implementation=impl,
                                        trust_remote_code=trust_remote_code)
        except (ImportError, ValueError, RuntimeError) as err:
            errors.append(f"{impl}: {err}")
            log.warning("[S2] attn_implementation=%s unavailable (%s); falling back", impl, str(err)[:120])
            continue
        model.to(device).eval()
        processor = AutoProcessor.from_pretrained(model_path, trust_remote_code=trust_remote_code)
        tokenizer = getattr(processor, "tokenizer", None)
        if tokenizer is not None:
            tokenizer.padding_side = "left"  # batched generation continues after the prompt
        return model, processor, family, impl, device
    raise ModelLoadError("no attention implementation worked: " + "; ".join(errors))
