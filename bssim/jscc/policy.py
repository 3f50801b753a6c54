"""Rate policy of the adaptive JSCC: a choice among G + 1 nested channel masks.

Yang & Kim 2022 (§2.2): an MLP on [mean-pooled X_s, SNR] gives logits ℓ ∈ R^{G+1}; choice
k = 0..G switches on the first k selectable groups (on top of the always-on ones). The mask
of choice k is the "thermometer" code m_g = Σ_{j>g} onehot_j, so the masks are nested.

- Training: straight-through Gumbel-softmax (Jang et al. 2017) with temperature τ,
  s = softmax((ℓ + g)/τ), g ~ Gumbel(0, 1); the forward value is the one-hot arg-max of s,
  the gradient that of s.
- Inference: k = arg-max ℓ (deterministic).
- Mean pooling (not max pooling) keeps the policy's input statistics the same on training
  crops and on full frames.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bssim.jscc.config import JSCCConfig


class RatePolicy(nn.Module):
    """P: [mean_hw X_s, snr/20] → logits (B, G + 1)."""

    def __init__(self, cfg: JSCCConfig) -> None:
        super().__init__()
        h = cfg.policy_hidden
        self.mlp = nn.Sequential(
            nn.Linear(cfg.c_s + 1, h), nn.ReLU(inplace=True),
            nn.Linear(h, h), nn.ReLU(inplace=True),
            nn.Linear(h, cfg.n_choices),
        )  # fmt: skip
        nn.init.zeros_(self.mlp[-1].weight)  # start from uniform choice probabilities
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, xs: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        return self.from_pooled(pool_features(xs), snr)

    def from_pooled(self, pooled: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        """Logits from the pooled features (B, C_s) and the SNR feature (B, 1)."""
        return self.mlp(torch.cat([pooled, snr], dim=1))


def pool_features(xs: torch.Tensor) -> torch.Tensor:
    """The policy's view of X_s (B, C_s, h, w): mean over h, w, float32, (B, C_s)."""
    return xs.mean(dim=(2, 3)).float()


def choice_to_mask(choice: torch.Tensor, cfg: JSCCConfig) -> torch.Tensor:
    """One-hot (or soft) choices (B, G + 1) → channel mask (B, C'_c) of the nested groups.

    Group g (counting the selectable ones from 0) is on with weight Σ_{j > g} choice_j; the
    fixed groups are always on; each group weight repeats over its ``group_size`` channels.
    """
    sel = torch.flip(torch.cumsum(torch.flip(choice[:, 1:], [1]), dim=1), [1])  # (B, G)
    fixed = choice.new_ones(choice.shape[0], cfg.n_fixed_groups)
    groups = torch.cat([fixed, sel], dim=1)  # (B, n_groups)
    return groups.repeat_interleave(cfg.group_size, dim=1)


def sample_choice(logits: torch.Tensor, tau: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Straight-through Gumbel-softmax sample: one-hot forward, soft gradient, (B, G + 1)."""
    u = torch.rand(logits.shape, generator=generator, device="cpu").to(logits.device)
    g = -torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))
    soft = torch.softmax((logits + g) / tau, dim=-1)
    hard = F.one_hot(soft.argmax(dim=-1), logits.shape[-1]).to(soft.dtype)
    return hard + (soft - soft.detach())


def argmax_choice(logits: torch.Tensor) -> torch.Tensor:
    """Deterministic one-hot choice (B, G + 1) of the largest logit."""
    return F.one_hot(logits.argmax(dim=-1), logits.shape[-1]).to(logits.dtype)


def level_index(n_active: int, cfg: JSCCConfig) -> int:
    """Index k of a rate level (active-channel count); ValueError naming the allowed levels."""
    levels = cfg.rate_levels
    if isinstance(n_active, bool) or not isinstance(n_active, int) or n_active not in levels:
        raise ValueError(f"n_active must be one of the rate levels {levels}, got {n_active!r}")
    return levels.index(n_active)


def level_mask(n_active: int, batch: int, cfg: JSCCConfig, device: torch.device | str = "cpu") -> torch.Tensor:
    """Forced nested mask (batch, C'_c): channels 0..n_active−1 on."""
    k = level_index(n_active, cfg)
    onehot = F.one_hot(torch.full((batch,), k, dtype=torch.long, device=device), cfg.n_choices).float()
    return choice_to_mask(onehot, cfg)


def expected_groups(logits: torch.Tensor) -> torch.Tensor:
    """E[k] = Σ_k k · softmax(ℓ)_k per image (selectable groups switched on), shape (B,)."""
    k = torch.arange(logits.shape[-1], device=logits.device, dtype=torch.float32)
    return (torch.softmax(logits.float(), dim=-1) * k).sum(dim=-1)
