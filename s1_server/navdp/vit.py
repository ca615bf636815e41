"""DINOv2 ViT-S/14 trunk with the official key names, so NavDP checkpoints load strictly.

The pos_embed interpolation matches DINOv2 exactly (bicubic, antialias off, scale factor with the
0.1 offset instead of a target size): a different interpolation silently changes every output.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

PATCH_PX = 14
POS_GRID = 37  # DINOv2 was built for 518 px: 37 x 37 patches
INTERPOLATE_OFFSET = 0.1


class PatchEmbed(nn.Module):
    def __init__(self, in_chans: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=PATCH_PX, stride=PATCH_PX)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class LayerScale(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), 1e-5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_dim: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.ls1 = LayerScale(dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, mlp_dim)
        self.ls2 = LayerScale(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


def interpolate_pos_embed(pos_embed: torch.Tensor, grid_h: int, grid_w: int) -> torch.Tensor:
    """[1, 1+37*37, D] -> [1, 1+grid_h*grid_w, D], computed in fp32 like DINOv2."""
    dtype = pos_embed.dtype
    pe = pos_embed.float()
    cls_pe, patch_pe = pe[:, :1], pe[:, 1:]
    dim = pe.shape[-1]
    m = int(math.sqrt(patch_pe.shape[1]))
    grid = patch_pe.reshape(1, m, m, dim).permute(0, 3, 1, 2)
    scale = ((grid_h + INTERPOLATE_OFFSET) / m, (grid_w + INTERPOLATE_OFFSET) / m)
    grid = F.interpolate(grid, scale_factor=scale, mode="bicubic", antialias=False)
    if grid.shape[-2:] != (grid_h, grid_w):
        raise RuntimeError(f"pos_embed interpolation gave {tuple(grid.shape[-2:])}, wanted {(grid_h, grid_w)}")
    patch_pe = grid.permute(0, 2, 3, 1).reshape(1, grid_h * grid_w, dim)
    return torch.cat([cls_pe, patch_pe], dim=1).to(dtype)


class DinoViT(nn.Module):
    """Returns patch tokens after the final norm, class token dropped: [N, (H/14)*(W/14), D]."""

    def __init__(self, in_chans: int = 3, dim: int = 384, depth: int = 12, heads: int = 6, mlp_dim: int = 1536):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + POS_GRID * POS_GRID, dim))
        self.mask_token = nn.Parameter(torch.zeros(1, dim))  # unused at inference, kept for the key layout
        self.patch_embed = PatchEmbed(in_chans, dim)
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        self._pos_cache: tuple[tuple, torch.Tensor] | None = None

    def pos_embed_for(self, grid_h: int, grid_w: int, dtype: torch.dtype) -> torch.Tensor:
        """The interpolated pos_embed, cached: it depends only on the weights and the grid, and the
        bicubic interpolation would otherwise run for every frame (and be traced into ONNX).
        In training mode it is recomputed so that gradients reach pos_embed."""
        pe = self.pos_embed
        if self.training:
            return interpolate_pos_embed(pe, grid_h, grid_w).to(dtype)
        key = (grid_h, grid_w, dtype, pe.device, pe.data_ptr(), pe._version)
        if self._pos_cache is None or self._pos_cache[0] != key:
            with torch.no_grad():
                self._pos_cache = (key, interpolate_pos_embed(pe.detach(), grid_h, grid_w).to(dtype))
        return self._pos_cache[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grid_h, grid_w = x.shape[-2] // PATCH_PX, x.shape[-1] // PATCH_PX
        tokens = self.patch_embed(x)
        tokens = torch.cat([self.cls_token.expand(tokens.shape[0], -1, -1).to(tokens.dtype), tokens], dim=1)
        tokens = tokens + self.pos_embed_for(grid_h, grid_w, tokens.dtype)
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens)[:, 1:]
