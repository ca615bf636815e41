"""RGB-D fusion: 8 remembered RGB frames + current depth -> 128 query tokens.

Two ViT trunks tokenise the frames; a small transformer decoder with 128 learned queries
compresses the 2304 tokens so the diffusion head has a fixed-size condition.
"""
from __future__ import annotations

import torch
from torch import nn

from s1_server.navdp.vit import DinoViT

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class PositionEmbedding(nn.Module):
    """Learned positions; the attribute name matches the checkpoint (`position_embedding.weight`)."""

    def __init__(self, length: int, dim: int):
        super().__init__()
        self.position_embedding = nn.Embedding(length, dim)

    def forward(self, length: int) -> torch.Tensor:
        return self.position_embedding.weight[:length].unsqueeze(0)


class RGBDEncoder(nn.Module):
    def __init__(self, dim: int = 384, memory_frames: int = 8, vit_depth: int = 12, query_tokens: int = 128,
                 fusion_layers: int = 2, tokens_per_frame: int = 256, fusion_ffn: int = 2048):
        super().__init__()
        self.memory_frames = memory_frames
        self.rgb_model = DinoViT(3, dim, vit_depth, mlp_dim=4 * dim)
        self.depth_model = DinoViT(3, dim, vit_depth, mlp_dim=4 * dim)
        self.former_query = PositionEmbedding(query_tokens, dim)
        self.former_pe = PositionEmbedding((memory_frames + 1) * tokens_per_frame, dim)
        layer = nn.TransformerDecoderLayer(dim, 8, dim_feedforward=fusion_ffn, batch_first=True)
        self.former_net = nn.TransformerDecoder(layer, fusion_layers)
        self.project_layer = nn.Linear(dim, dim)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, rgb_memory: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        """rgb_memory [B, T, 3, 224, 224] in 0..1, depth [B, 3, 224, 224] metres -> [B, 128, D]."""
        b, t = rgb_memory.shape[:2]
        frames = rgb_memory.reshape(b * t, *rgb_memory.shape[2:])
        frames = (frames - self.mean.to(frames.dtype)) / self.std.to(frames.dtype)
        rgb_tokens = self.rgb_model(frames).reshape(b, -1, self.project_layer.in_features)
        depth_tokens = self.depth_model(depth)
        tokens = torch.cat([rgb_tokens, depth_tokens], dim=1)
        tokens = tokens + self.former_pe(tokens.shape[1]).to(tokens.dtype)
        queries = self.former_query.position_embedding.weight.unsqueeze(0).expand(b, -1, -1)
        return self.project_layer(self.former_net(tgt=queries, memory=tokens))


class GoalImageEncoder(nn.Module):
    """Pixel-goal (4 channels: mask + RGB) or image-goal (6 channels) encoder of the cross-modal model."""

    def __init__(self, attr: str, in_chans: int, dim: int = 384, vit_depth: int = 12):
        super().__init__()
        self._attr = attr
        setattr(self, attr, DinoViT(in_chans, dim, vit_depth, mlp_dim=4 * dim))
        self.project_layer = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = getattr(self, self._attr)(x)
        return self.project_layer(tokens.mean(dim=1)).unsqueeze(1)
