"""Tiny random Qwen-VL checkpoints in the real on-disk layout (no weights can be downloaded here).

Tests and the benchmark serve these through the real transformers path: config.json picks the
class, the tokenizer carries the Qwen special tokens and a chat template, and the preprocessor
config has each family's real patch size and normalisation. The text they generate is garbage,
which is exactly what the parser must survive.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

# Qwen's special tokens, first in the vocabulary so their ids are small and fixed.
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
                  "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
                  "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>")

# The structure of Qwen-VL's chat template: system/user/assistant turns, images as a vision span.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for c in message['content'] %}"
    "{% if c['type'] == 'image' or 'image' in c %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

VOCAB_SIZE = 512  # model vocabulary; the trained tokenizer stays below it, leaving room for added tokens
FAMILIES = ("qwen3_vl", "qwen3_vl_moe", "qwen2_5_vl", "qwen2_vl")

_CORPUS = ('[{"task":"pixel_point","target":"red chair","point_2d":[512,640]}] '
           '[{"task":"move","action":"←","number":2}] [{"task":"stop"}] ↑↓←→ '
           "go to the red chair find the blue box turn left walk forward 0123456789 ")

_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def _tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE - 32, special_tokens=list(SPECIAL_TOKENS), show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([_CORPUS] * 4, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   chat_template=CHAT_TEMPLATE)
    fast.padding_side = "left"
    return fast


def _ids() -> dict[str, int]:
    return {name: i for i, name in enumerate(SPECIAL_TOKENS)}


def _text_config(moe: bool) -> dict:
    text = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "head_dim": 16, "vocab_size": VOCAB_SIZE, "max_position_embeddings": 4096,
            "rope_parameters": {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [2, 3, 3],
                                "mrope_interleaved": True},
            "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 0}
    if moe:
        text.update({"num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 32, "decoder_sparse_step": 1})
    return text


def _model(family: str):
    """A random model of `family` whose token ids match the tiny tokenizer."""
    import transformers

    ids = _ids()
    common = {"image_token_id": ids["<|image_pad|>"], "video_token_id": ids["<|video_pad|>"],
              "vision_start_token_id": ids["<|vision_start|>"], "vision_end_token_id": ids["<|vision_end|>"]}
    if family in ("qwen3_vl", "qwen3_vl_moe"):
        moe = family == "qwen3_vl_moe"
        vision = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
                  "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2,
                  "num_position_embeddings": 256, "deepstack_visual_indexes": [0, 1]}
        config_cls = transformers.Qwen3VLMoeConfig if moe else transformers.Qwen3VLConfig
        model_cls = (transformers.Qwen3VLMoeForConditionalGeneration if moe
                     else transformers.Qwen3VLForConditionalGeneration)
        config = config_cls(text_config=_text_config(moe), vision_config=vision, **common)
    elif family in ("qwen2_5_vl", "qwen2_vl"):
        text = _text_config(False)
        text.pop("head_dim")
        text["rope_parameters"] = {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2, 3, 3]}
        if family == "qwen2_5_vl":
            vision = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
                      "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": 112,
                      "fullatt_block_indexes": [1]}
            config = transformers.Qwen2_5_VLConfig(text_config=text, vision_config=vision, **common)
            model_cls = transformers.Qwen2_5_VLForConditionalGeneration
        else:
            vision = {"depth": 2, "embed_dim": 32, "hidden_size": 64, "mlp_ratio": 2, "num_heads": 2,
                      "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}
            config = transformers.Qwen2VLConfig(text_config=text, vision_config=vision, **common)
            model_cls = transformers.Qwen2VLForConditionalGeneration
    else:
        raise ValueError(f"unknown tiny family {family!r}; choose one of {', '.join(FAMILIES)}")
    return model_cls(config)


def _preprocessor(family: str) -> dict:
    """Each family's real image preprocessing (patch size, pixel limits, normalisation)."""
    if family.startswith("qwen3"):
        return {"image_processor_type": "Qwen2VLImageProcessorFast", "processor_class": "Qwen3VLProcessor",
                "patch_size": 16, "merge_size": 2, "temporal_patch_size": 2,
                "size": {"shortest_edge": 65536, "longest_edge": 16777216},
                "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
                "do_resize": True, "do_rescale": True, "do_normalize": True, "do_convert_rgb": True}
    processor = "Qwen2_5_VLProcessor" if family == "qwen2_5_vl" else "Qwen2VLProcessor"
    return {"image_processor_type": "Qwen2VLImageProcessor", "processor_class": processor,
            "patch_size": 14, "merge_size": 2, "temporal_patch_size": 2,
            "min_pixels": 3136, "max_pixels": 12845056, "image_mean": _CLIP_MEAN, "image_std": _CLIP_STD,
            "do_resize": True, "do_rescale": True, "do_normalize": True, "do_convert_rgb": True}


def _script_answer(model, tokenizer, answer: str) -> None:
    """Set weights so that greedy decoding after any prompt yields exactly `answer`, then <|im_end|>.

    `answer` becomes one added token. With every attention and MLP output projection zeroed, the
    last hidden state is the (normalised) embedding of the current token, so lm_head acts as a
    bigram table: the prompt's final newline -> answer -> <|im_end|>. Loading, image processing,
    M-RoPE, generation and decoding all stay the real ones; only the text is known in advance.
    """
    import torch

    tokenizer.add_tokens([answer])
    answer_id = tokenizer.convert_tokens_to_ids(answer)
    newline_id = tokenizer("<|im_start|>assistant\n")["input_ids"][-1]
    if answer_id >= VOCAB_SIZE:
        raise ValueError("tokenizer outgrew the tiny vocabulary")
    with torch.no_grad():
        for name, param in model.model.language_model.layers.named_parameters():
            if name.endswith("o_proj.weight") or "down_proj" in name:
                param.zero_()
        embed = model.model.language_model.embed_tokens.weight
        head = model.lm_head.weight
        head.zero_()
        head[answer_id] = 50.0 * embed[newline_id] / embed[newline_id].norm()
        head[_ids()["<|im_end|>"]] = 50.0 * embed[answer_id] / embed[answer_id].norm()


def write_tiny_checkpoint(path: str | os.PathLike, family: str = "qwen3_vl", seed: int = 0,
                          answer: str | None = None) -> Path:
    """Write a random `family` checkpoint folder (config, safetensors, tokenizer, preprocessor) to `path`.

    With `answer`, the weights are set so the model always replies `answer` (see _script_answer),
    which lets tests check what the server makes of a known reply from each family.
    """
    import torch

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = _model(family)
    tokenizer = _tokenizer()
    if answer is not None:
        _script_answer(model, tokenizer, answer)
    ids = _ids()
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "preprocessor_config.json").write_text(json.dumps(_preprocessor(family), indent=2))
    (out / "chat_template.jinja").write_text(CHAT_TEMPLATE)
    return out
