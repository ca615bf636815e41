"""The NavDP module tree; attribute names are the official state_dict keys.

`NavDPConfig.full(cross_modal)` is the checkpoint configuration. Smaller depths reuse the same
classes so tests exercise the real code path quickly on CPU.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from s1_server.navdp.rgbd_encoder import GoalImageEncoder, PositionEmbedding, RGBDEncoder
from s1_server.navdp.sampler import DDPMSampler

NUM_WAYPOINTS = 24
NUM_SAMPLES = 16
ACTION_SCALE = 4.0  # trajectory = cumsum(x0 / 4): each step <= 0.25 m
RGBD_TOKENS = 128


@dataclass(frozen=True)
class NavDPConfig:
    cross_modal: bool = False
    dim: int = 384
    vit_depth: int = 12
    decoder_layers: int = 16
    fusion_layers: int = 2
    memory_frames: int = 8
    fusion_ffn: int = 2048  # torch's TransformerDecoderLayer default, as in the checkpoint

    @classmethod
    def small(cls, cross_modal: bool) -> NavDPConfig:
        """Same classes and key structure at a fraction of the compute, for fast CPU tests."""
        return cls(cross_modal=cross_modal, dim=96, vit_depth=1, decoder_layers=2, fusion_ffn=256)

    @property
    def goal_slots(self) -> int:
        return 3 if self.cross_modal else 1

    @property
    def cond_length(self) -> int:
        return 1 + self.goal_slots + RGBD_TOKENS

    @classmethod
    def full(cls, cross_modal: bool) -> NavDPConfig:
        return cls(cross_modal=cross_modal)


class SinusoidalTimeEmbedding(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        half = self.dim // 2
        freqs = torch.exp(torch.arange(half, dtype=torch.float32, device=t.device) * -(math.log(10000) / (half - 1)))
        angles = t.float()[:, None] * freqs[None]
        return torch.cat([angles.sin(), angles.cos()], dim=-1)


class NavDP(nn.Module):
    def __init__(self, config: NavDPConfig):
        super().__init__()
        self.config = config
        d = config.dim
        self.rgbd_encoder = RGBDEncoder(d, config.memory_frames, config.vit_depth, RGBD_TOKENS, config.fusion_layers,
                                        fusion_ffn=config.fusion_ffn)
        self.point_encoder = nn.Linear(3, d)
        self.decoder_layer = nn.TransformerDecoderLayer(d, 8, dim_feedforward=4 * d, activation="gelu",
                                                        batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(self.decoder_layer, config.decoder_layers)
        self.input_embed = nn.Linear(3, d)
        self.cond_pos_embed = PositionEmbedding(config.cond_length, d)
        self.out_pos_embed = PositionEmbedding(NUM_WAYPOINTS, d)
        self.layernorm = nn.LayerNorm(d)
        self.action_head = nn.Linear(d, 3)
        self.critic_head = nn.Linear(d, 1)
        if config.cross_modal:
            self.pixel_encoder = GoalImageEncoder("pixelgoal_encoder", 4, d, config.vit_depth)
            self.image_encoder = GoalImageEncoder("imagegoal_encoder", 6, d, config.vit_depth)
        self.time_emb = SinusoidalTimeEmbedding(d)
        self.sampler = DDPMSampler(10)
        # True = may not attend. Causal: waypoint i sees waypoints <= i.
        causal = torch.triu(torch.ones(NUM_WAYPOINTS, NUM_WAYPOINTS, dtype=torch.bool), diagonal=1)
        self.register_buffer("tgt_mask", causal, persistent=False)
        critic = torch.zeros(NUM_WAYPOINTS, config.cond_length, dtype=torch.bool)
        critic[:, : 1 + config.goal_slots] = True  # the critic never sees time or goal
        self.register_buffer("critic_memory_mask", critic, persistent=False)

    @property
    def supports_pixel_goal(self) -> bool:
        return self.config.cross_modal

    # --- goal tokens -------------------------------------------------------------------------
    def _spread(self, token: torch.Tensor) -> torch.Tensor:
        return token.expand(-1, self.config.goal_slots, -1)

    def point_goal_tokens(self, goal_xyz: torch.Tensor) -> torch.Tensor:
        """goal_xyz [B,3] (x forward, y left, m) -> [B, slots, D]."""
        g = goal_xyz.clamp(-10.0, 10.0)
        g = torch.cat([g[:, :1].clamp(0.0, 10.0), g[:, 1:]], dim=1)
        return self._spread(self.point_encoder(g).unsqueeze(1))

    def no_goal_tokens(self, batch: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        return torch.zeros(batch, self.config.goal_slots, self.config.dim, dtype=dtype, device=device)

    def pixel_goal_tokens(self, mask: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        """mask [B,1,224,224] 0..1, rgb [B,3,224,224] 0..1."""
        return self._spread(self.pixel_encoder(torch.cat([mask, rgb], dim=1)))

    def image_goal_tokens(self, goal_rgb: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        return self._spread(self.image_encoder(torch.cat([goal_rgb, rgb], dim=1)))

    # --- denoiser and critic ------------------------------------------------------------------
    def _condition(self, t: torch.Tensor, goal_tokens: torch.Tensor, rgbd: torch.Tensor) -> torch.Tensor:
        time_tok = self.time_emb(t).to(rgbd.dtype).unsqueeze(1)
        cond = torch.cat([time_tok, goal_tokens, rgbd], dim=1)
        return cond + self.cond_pos_embed(cond.shape[1]).to(cond.dtype)

    def _embed_actions(self, x: torch.Tensor) -> torch.Tensor:
        return self.input_embed(x) + self.out_pos_embed(x.shape[1]).to(x.dtype)

    def predict_noise(self, x_t: torch.Tensor, t: torch.Tensor, goal_tokens: torch.Tensor,
                      rgbd: torch.Tensor) -> torch.Tensor:
        cond = self._condition(t, goal_tokens, rgbd)
        out = self.decoder(tgt=self._embed_actions(x_t), memory=cond, tgt_mask=self.tgt_mask)
        return self.action_head(self.layernorm(out))

    def predict_critic(self, x0: torch.Tensor, rgbd: torch.Tensor) -> torch.Tensor:
        zero_goal = self.no_goal_tokens(rgbd.shape[0], rgbd.dtype, rgbd.device)
        t = torch.zeros(rgbd.shape[0], device=rgbd.device)
        cond = self._condition(t, zero_goal, rgbd)
        out = self.decoder(tgt=self._embed_actions(x0), memory=cond, memory_mask=self.critic_memory_mask)
        return self.critic_head(self.layernorm(out).mean(dim=1))[:, 0]

    def sample(self, goal_tokens: torch.Tensor, rgbd: torch.Tensor, generator: torch.Generator | None,
               num_samples: int = NUM_SAMPLES) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (trajectories [B, K, 24, 3] metres, values [B, K]). Robot b owns rows b*K..b*K+K-1."""
        b = rgbd.shape[0]
        rgbd_k = rgbd.repeat_interleave(num_samples, dim=0)
        goal_k = goal_tokens.repeat_interleave(num_samples, dim=0)
        shape = (b * num_samples, NUM_WAYPOINTS, 3)
        x = torch.randn(shape, generator=generator, device=rgbd.device, dtype=torch.float32).to(rgbd.dtype)
        for t in self.sampler.timesteps:
            t_batch = torch.full((shape[0],), t, device=rgbd.device, dtype=torch.long)
            eps = self.predict_noise(x, t_batch, goal_k, rgbd_k)
            noise = None
            if t > 0:
                noise = torch.randn(shape, generator=generator, device=rgbd.device, dtype=torch.float32).to(x.dtype)
            x = self.sampler.step(eps, t, x, noise)
        values = self.predict_critic(x, rgbd_k)
        traj = torch.cumsum(x.float() / ACTION_SCALE, dim=1)
        return traj.reshape(b, num_samples, NUM_WAYPOINTS, 3), values.float().reshape(b, num_samples)
