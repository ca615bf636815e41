"""DDPM sampler equal to diffusers' DDPMScheduler(num_train_timesteps=10, squaredcos_cap_v2,
clip_sample=True, epsilon, fixed_small) with 10 inference steps; our own code so the robot needs no
diffusers and the noise source is explicit (seedable per call)."""
from __future__ import annotations

import math

import torch


def squaredcos_cap_v2_betas(num_steps: int, max_beta: float = 0.999) -> torch.Tensor:
    def alpha_bar(t: float) -> float:
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = [min(1 - alpha_bar((i + 1) / num_steps) / alpha_bar(i / num_steps), max_beta) for i in range(num_steps)]
    return torch.tensor(betas, dtype=torch.float32)


class DDPMSampler:
    def __init__(self, num_steps: int = 10, clip: float = 1.0):
        self.num_steps = num_steps
        self.clip = clip
        self.betas = squaredcos_cap_v2_betas(num_steps)
        self.alphas_cumprod = torch.cumprod(1.0 - self.betas, dim=0)
        self.timesteps = list(range(num_steps - 1, -1, -1))

    def step(self, eps: torch.Tensor, t: int, sample: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        """x_t -> x_{t-1}. `noise` (same shape) is used only for t > 0."""
        ac = self.alphas_cumprod
        a_t = ac[t]
        a_prev = ac[t - 1] if t > 0 else torch.tensor(1.0)
        beta_prod = 1 - a_t
        alpha_t = a_t / a_prev
        beta_t = 1 - alpha_t
        x0 = (sample - beta_prod ** 0.5 * eps) / a_t ** 0.5
        x0 = x0.clamp(-self.clip, self.clip)
        mean = (a_prev ** 0.5 * beta_t / beta_prod) * x0 + (alpha_t ** 0.5 * (1 - a_prev) / beta_prod) * sample
        if t > 0:
            variance = torch.clamp((1 - a_prev) / (1 - a_t) * beta_t, min=1e-20)
            mean = mean + variance ** 0.5 * noise
        return mean
