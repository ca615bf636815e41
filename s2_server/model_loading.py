"""Choose and load the right transformers class from the checkpoint itself.

The deployed server picked the class from the path ("qwen3" in the name), which breaks on MoE checkpoints
and renamed folders. config.json's `architectures` / `model_type` says what the weights are.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2_server.coords import ABSOLUTE, RELATIVE

log = logging.getLogger("s2_server")


@dataclass(frozen=True)
class ModelFamily:
    model_type: str
    class_name: str
    convention: str  # how its points are expressed (coords.RELATIVE / coords.ABSOLUTE)
    min_transformers: str
    label: str


FAMILIES = (
    ModelFamily("qwen3_vl", "Qwen3VLForConditionalGeneration", RELATIVE, "4.57", "Qwen3-VL (2B/4B/8B/32B)"),
    ModelFamily("qwen3_vl_moe", "Qwen3VLMoeForConditionalGeneration", RELATIVE, "4.57",
                "Qwen3-VL MoE (30B-A3B, 235B-A22B)"),
    ModelFamily("qwen2_5_vl", "Qwen2_5_VLForConditionalGeneration", ABSOLUTE, "4.49", "Qwen2.5-VL"),
    ModelFamily("qwen2_vl", "Qwen2VLForConditionalGeneration", ABSOLUTE, "4.45", "Qwen2-VL"),
)
ATTENTION_ORDER = ("flash_attention_2", "sdpa", "eager")
DTYPES = ("auto", "float32", "float16", "bfloat16")


class ModelLoadError(RuntimeError):
    """The checkpoint cannot be served; the message says why and what would fix it."""


@dataclass
class LoadedModel:
    model: Any
    processor: Any
    family: ModelFamily
    attn_implementation: str
    device: str  # where inputs go ("cpu", "cuda:0")
    dtype: Any  # torch dtype of the weights; float inputs are cast to it


def supported() -> str:
    return "; ".join(f"{f.label}: model_type {f.model_type}, class {f.class_name}" for f in FAMILIES)


def read_config(model_path: str | Path) -> dict:
    config_path = Path(model_path) / "config.json"
    try:
        config = json.loads(config_path.read_text())
    except FileNotFoundError as err:
        raise ModelLoadError(f"{config_path} not found: --model_path must be a checkpoint folder") from err
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelLoadError(f"{config_path} is not valid JSON: {err}") from err
    if not isinstance(config, dict):
        raise ModelLoadError(f"{config_path} is not a JSON object")
    return config


def family_from_config(config: dict) -> ModelFamily:
    """`architectures` first (what the weights were saved as), then `model_type`."""
    architectures = config.get("architectures") or []
    for arch in architectures if isinstance(architectures, list) else []:
        for family in FAMILIES:
            if arch == family.class_name:
                return family
    model_type = config.get("model_type")
    for family in FAMILIES:
        if model_type == family.model_type:
            return family
    raise ModelLoadError(f"unsupported model (architectures={architectures}, model_type={model_type}); "
                         f"supported families: {supported()}")


def detect_family(model_path: str | Path) -> ModelFamily:
    return family_from_config(read_config(model_path))


def model_class(family: ModelFamily):
    import transformers

    cls = getattr(transformers, family.class_name, None)
    if cls is None:
        raise ModelLoadError(f"{family.label} needs transformers.{family.class_name}, which transformers "
                             f"{transformers.__version__} does not have; "
                             f"install transformers>={family.min_transformers}")
    return cls


def attention_candidates(requested: str) -> list[str]:
    """The requested implementation, then the ones after it in flash_attention_2 -> sdpa -> eager."""
    if requested == "auto":
        return list(ATTENTION_ORDER)
    if requested in ATTENTION_ORDER:
        return list(ATTENTION_ORDER[ATTENTION_ORDER.index(requested):])
    raise ModelLoadError(f"unknown attention implementation {requested!r}; use auto or one of {ATTENTION_ORDER}")


def resolve_device(device: str) -> tuple[str, bool]:
    """-> (input device, shard over all GPUs). 'auto' uses every visible GPU, else the CPU."""
    import torch

    if device == "auto":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        return ("cuda:0", count > 1) if count else ("cpu", False)
    if device == "cpu":
        return "cpu", False
    if device == "cuda" or device.startswith("cuda:"):
        index = 0 if device == "cuda" else device.split(":", 1)[1]
        if not str(index).isdigit():
            raise ModelLoadError(f"bad --device {device!r}: use auto, cpu or cuda:N")
        if not torch.cuda.is_available() or int(index) >= torch.cuda.device_count():
            raise ModelLoadError(f"--device {device} requested but torch sees "
                                 f"{torch.cuda.device_count() if torch.cuda.is_available() else 0} CUDA device(s)")
        return f"cuda:{int(index)}", False
    raise ModelLoadError(f"bad --device {device!r}: use auto, cpu or cuda:N")


def resolve_dtype(dtype: str, device: str):
    import torch

    if dtype not in DTYPES:
        raise ModelLoadError(f"unknown --dtype {dtype!r}; use one of {DTYPES}")
    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return getattr(torch, dtype)


def load(model_path: str, device: str = "auto", dtype: str = "auto", attn: str = "auto",
         trust_remote_code: bool = False) -> LoadedModel:
    """Load weights and processor. Attention falls back flash_attention_2 -> sdpa -> eager, with a log line."""
    from s2_server.qwen_processor import load_processor

    family = detect_family(model_path)
    cls = model_class(family)
    input_device, shard = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, input_device)
    errors = []
    for impl in attention_candidates(attn):
        kwargs: dict[str, Any] = {"dtype": torch_dtype, "attn_implementation": impl,
                                  "trust_remote_code": trust_remote_code}
        if shard:
            kwargs["device_map"] = "auto"
        try:
            model = cls.from_pretrained(model_path, **kwargs)
        except OSError as err:  # missing or unreadable weights: no attention choice fixes that
            raise ModelLoadError(f"cannot read the weights in {model_path}: {err}") from err
        except (ImportError, ValueError, RuntimeError) as err:
            errors.append(f"{impl}: {str(err).splitlines()[0][:200]}")
            log.warning("[S2] attn_implementation=%s unavailable (%s); falling back", impl,
                        str(err).splitlines()[0][:160])
            continue
        if not shard:
            model.to(input_device)
        model.eval()
        log.info("[S2] %s loaded as %s (%s, %s)", model_path, family.class_name, torch_dtype, input_device)
        try:
            processor = load_processor(model_path, trust_remote_code)
        except Exception as err:
            raise ModelLoadError(f"cannot build the processor for {model_path}: {err}") from err
        return LoadedModel(model, processor, family, impl, input_device, torch_dtype)
    raise ModelLoadError(f"no attention implementation could load {model_path}: " + "; ".join(errors))
