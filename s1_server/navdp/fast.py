"""The planner's fast path: NavDP's sampling algorithm with the repeated work hoisted out.

The official sampler runs 16 decoder layers x 10 steps on 16 copies of one condition, and
recomputes the cross-attention keys/values of its 132 condition tokens for every copy, every
layer and every step, although only the time token changes between steps and nothing differs
between the 16 samples of one robot. Here:

- the keys/values of the goal and RGB-D tokens are computed once per plan for all layers (one
  matmul), the time token's once per step, and every sample of a robot attends to that one copy;
- the critic reuses the RGB-D keys/values (its mask hides the time and goal columns exactly, so
  dropping those columns is the same computation);
- the RGB ViT runs once per frame, not once per frame per plan: `FrameEncoder` tokens are kept in
  the frame memory (`PlanCore` takes tokens, not pixels).

Same weights, same noise, same operations per sample: outputs agree with the official order
(`NavDP.sample`) to float rounding. `PlanCore` and `FrameEncoder` are also the modules exported
to ONNX, so onnxruntime/TensorRT run this algorithm too.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from s1_server.navdp.model import ACTION_SCALE, NUM_WAYPOINTS, NavDP

HEADS = 8  # the decoder's nn.TransformerDecoderLayer(d, 8, ...)


class FrameEncoder(nn.Module):
    """frames [N, 3, 224, 224] in 0..1 -> RGB ViT tokens [N, 256, D] (ImageNet-normalised inside)."""

    def __init__(self, model: NavDP):
        super().__init__()
        self.encoder = model.rgbd_encoder

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        enc = self.encoder
        x = (frames - enc.mean.to(frames.dtype)) / enc.std.to(frames.dtype)
        return enc.rgb_model(x)


class PointGoalEncoder(nn.Module):
    """goal [B, 3] = (x, y, 1) metres -> one goal token [B, 1, D]."""

    def __init__(self, model: NavDP):
        super().__init__()
        self.model = model

    def forward(self, goal_xyz: torch.Tensor) -> torch.Tensor:
        return self.model.point_goal_tokens(goal_xyz)[:, :1]


class PixelGoalEncoder(nn.Module):
    """mask [B, 1, 224, 224] + current RGB [B, 3, 224, 224] -> [B, 1, D] (cross-modal only)."""

    def __init__(self, model: NavDP):
        super().__init__()
        self.model = model

    def forward(self, mask: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        return self.model.pixel_goal_tokens(mask, rgb)[:, :1]


class ImageGoalEncoder(nn.Module):
    """goal RGB + current RGB, both [B, 3, 224, 224] -> [B, 1, D] (cross-modal only)."""

    def __init__(self, model: NavDP):
        super().__init__()
        self.model = model

    def forward(self, goal_rgb: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        return self.model.image_goal_tokens(goal_rgb, rgb)[:, :1]


class PlanCore(nn.Module):
    """(rgb_tokens [B, T*256, D], depth [B, 3, 224, 224], goal_tokens [B, slots, D],
    noise [10, B*K, 24, 3]) -> (trajectories [B, K, 24, 3] metres, values [B, K]).

    noise[0] is the initial sample, noise[i] the variance noise of step i (t = 9..1): the order in
    which the official sampler draws them.
    """

    def __init__(self, model: NavDP):
        super().__init__()
        self.model = model
        layers = model.decoder.layers
        d = model.config.dim
        self.dim, self.num_layers, self.head_dim = d, len(layers), d // HEADS
        self.register_buffer("kv_weight", torch.cat([lay.multihead_attn.in_proj_weight[d:] for lay in layers]).detach(),
                             persistent=False)
        self.register_buffer("kv_bias", torch.cat([lay.multihead_attn.in_proj_bias[d:] for lay in layers]).detach(),
                             persistent=False)
        self.register_buffer("causal_allowed", ~model.tgt_mask, persistent=False)  # sdpa: True = may attend

    # --- pieces -------------------------------------------------------------------------------
    def fuse(self, rgb_tokens: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        enc = self.model.rgbd_encoder
        tokens = torch.cat([rgb_tokens, enc.depth_model(depth)], dim=1)
        tokens = tokens + enc.former_pe(tokens.shape[1]).to(tokens.dtype)
        queries = enc.former_query.position_embedding.weight.unsqueeze(0).expand(rgb_tokens.shape[0], -1, -1)
        return enc.project_layer(enc.former_net(tgt=queries, memory=tokens))

    def _kv(self, tokens: torch.Tensor) -> torch.Tensor:
        """[B, M, D] -> per-layer keys and values [L, 2, B, H, M, hd] in one matmul."""
        b, m = tokens.shape[:2]
        kv = F.linear(tokens, self.kv_weight, self.kv_bias)
        kv = kv.reshape(b, m, self.num_layers, 2, HEADS, self.head_dim)
        return kv.permute(2, 3, 0, 4, 1, 5)

    def _layer(self, i: int, x: torch.Tensor, mem_k: torch.Tensor, mem_v: torch.Tensor, causal: bool) -> torch.Tensor:
        """One norm-first decoder layer for x [B*K, 24, D]; memory keys/values [B, H, M, hd] per robot."""
        lay = self.model.decoder.layers[i]
        n, w, d = x.shape[0], NUM_WAYPOINTS, self.dim  # static where ONNX needs constants
        b = mem_k.shape[0]
        h = F.layer_norm(x, (d,), lay.norm1.weight, lay.norm1.bias, lay.norm1.eps)
        qkv = F.linear(h, lay.self_attn.in_proj_weight, lay.self_attn.in_proj_bias)
        qkv = qkv.reshape(n, w, 3, HEADS, self.head_dim).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=self.causal_allowed if causal else None)
        x = x + F.linear(a.transpose(1, 2).reshape(n, w, d), lay.self_attn.out_proj.weight, lay.self_attn.out_proj.bias)
        h = F.layer_norm(x, (d,), lay.norm2.weight, lay.norm2.bias, lay.norm2.eps)
        q = F.linear(h, lay.multihead_attn.in_proj_weight[:d], lay.multihead_attn.in_proj_bias[:d])
        q = q.reshape(b, -1, HEADS, self.head_dim).transpose(1, 2)  # a robot's samples share one memory
        a = F.scaled_dot_product_attention(q, mem_k, mem_v)
        a = a.transpose(1, 2).reshape(n, w, d)
        x = x + F.linear(a, lay.multihead_attn.out_proj.weight, lay.multihead_attn.out_proj.bias)
        h = F.layer_norm(x, (d,), lay.norm3.weight, lay.norm3.bias, lay.norm3.eps)
        return x + lay.linear2(F.gelu(lay.linear1(h)))

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        m = self.model
        return m.input_embed(x) + m.out_pos_embed(NUM_WAYPOINTS).to(x.dtype)

    # --- the plan -----------------------------------------------------------------------------
    def forward(self, rgb_tokens: torch.Tensor, depth: torch.Tensor, goal_tokens: torch.Tensor,
                noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.model
        b, dtype = rgb_tokens.shape[0], rgb_tokens.dtype
        slots = goal_tokens.shape[1]
        rgbd = self.fuse(rgb_tokens, depth)
        pos = m.cond_pos_embed.position_embedding.weight.to(dtype)
        rest_kv = self._kv(torch.cat([goal_tokens, rgbd], dim=1) + pos[1:])  # fixed across steps
        x = noise[0]
        for i, t in enumerate(m.sampler.timesteps):
            t_tensor = torch.full((1,), t, dtype=torch.long, device=x.device)
            time_kv = self._kv((m.time_emb(t_tensor).to(dtype) + pos[:1]).unsqueeze(0))
            h = self._embed(x)
            for layer in range(self.num_layers):
                k = torch.cat([time_kv[layer, 0].expand(b, -1, -1, -1), rest_kv[layer, 0]], dim=2)
                v = torch.cat([time_kv[layer, 1].expand(b, -1, -1, -1), rest_kv[layer, 1]], dim=2)
                h = self._layer(layer, h, k, v, causal=True)
            eps = m.action_head(m.layernorm(h))
            x = m.sampler.step(eps, t, x, noise[i + 1] if t > 0 else None)
        h = self._embed(x)
        for layer in range(self.num_layers):  # the critic sees neither time nor goal: RGB-D columns only
            h = self._layer(layer, h, rest_kv[layer, 0, :, :, slots:], rest_kv[layer, 1, :, :, slots:], causal=False)
        values = m.critic_head(m.layernorm(h).mean(dim=1))[:, 0]
        traj = torch.cumsum(x.float() / ACTION_SCALE, dim=1)
        return traj.reshape(b, -1, NUM_WAYPOINTS, 3), values.float().reshape(b, -1)
