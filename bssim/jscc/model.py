"""Adaptive-rate deep JSCC network (M. Yang and H.-S. Kim, ICASSP 2022; seed 000 §II.E, §V).

Structure (seed 000 Fig. 2, DESIGN.md §3 step 4)::

    X (3, H, W) ──E_s──> X_s (C_s, H/4, W/4) ──E_c──> X'_c (C'_c, H/4, W/4)
                          │                                  │
                          └──policy P(X_s, SNR)──> mask W ───┴─> X_c = W ⊙ X'_c (active channels)
    X_c ──power normalisation──> channel (AWGN / Rayleigh) ──> D_c ──> D_s ──> X̂ (3, H, W)

- E_s: one convolution at full resolution and two stride-2 down-sampling stages, then a
  residual block, all at width ``c_s`` (seed: C_s = 256).
- E_c: convolutions to ``c_out`` = C'_c real feature channels (seed: 16).
- SNR conditioning: attention-feature (AF) modules — a channel-wise gate computed from the
  globally pooled features and the SNR (Xu et al., "Wireless image transmission using deep
  source channel coding with attention modules", 2021) — in E_s, E_c, the policy and the
  decoder, so that one model serves 0–20 dB.
- Policy P: pooled X_s and SNR → per-channel two-class logits (off, on). Training samples a
  binary mask with the straight-through Gumbel-softmax estimator (Jang et al. 2017); at
  inference the mask is the arg-max (deterministic). At least one channel is kept.
- Power normalisation: the active real values are scaled so that the mean power of the
  complex symbols they form (pairs of real values) is 1, i.e. each real value has mean
  square 1/2 (:func:`power_normalize`).
- The decoder mirrors the encoder with sub-pixel (pixel-shuffle) up-sampling, sigmoid output.

Fully convolutional: any H, W that are multiples of 4 (the API pads and crops back).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class JSCCConfig:
    """Architecture settings. Defaults are the seed's (C_s = 256, C'_c = 16, C_c = 8).

    ``target_rate`` is the share of the C'_c channels the rate term of the loss aims at on
    average (seed: C_c / C'_c = 8 / 16 = 0.5). ``snr_min_db``/``snr_max_db`` is the training
    SNR range; the SNR input is scaled as snr_db / 20.
    """

    c_s: int = 256
    c_out: int = 16
    target_rate: float = 0.5
    af_hidden: int = 32
    policy_hidden: int = 64
    snr_min_db: float = 0.0
    snr_max_db: float = 20.0

    def __post_init__(self) -> None:
        if self.c_s < 4 or self.c_s % 4:
            raise ValueError(f"c_s must be a positive multiple of 4, got {self.c_s}")
        if self.c_out < 1:
            raise ValueError(f"c_out must be >= 1, got {self.c_out}")
        if not 0.0 < self.target_rate <= 1.0:
            raise ValueError(f"target_rate must be in (0, 1], got {self.target_rate}")
        if self.snr_max_db <= self.snr_min_db:
            raise ValueError(f"snr_max_db ({self.snr_max_db}) must exceed snr_min_db ({self.snr_min_db})")

    @property
    def c_c(self) -> float:
        """Average number of active channels the rate target implies (seed: 8)."""
        return self.target_rate * self.c_out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "JSCCConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown JSCC config keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**d)


def snr_feature(snr_db: torch.Tensor) -> torch.Tensor:
    """SNR input of the conditioning modules: snr_db / 20, shape (B, 1)."""
    return (snr_db.reshape(-1, 1) / 20.0).to(torch.float32)


class AFModule(nn.Module):
    """Attention-feature module: x · sigmoid(MLP([mean_hw(x), snr/20])) per channel."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(channels + 1, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels)
        )

    def forward(self, x: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        ctx = torch.cat([x.mean(dim=(2, 3)), snr], dim=1)
        return x * torch.sigmoid(self.mlp(ctx))[:, :, None, None]


class ResBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.a1 = nn.PReLU(c)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)
        self.a2 = nn.PReLU(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a2(x + self.c2(self.a1(self.c1(x))))


class SourceEncoder(nn.Module):
    """E_s: conv (full res, c_s/2) → two stride-2 stages (c_s) → residual block → AF."""

    def __init__(self, cfg: JSCCConfig) -> None:
        super().__init__()
        c = cfg.c_s
        self.body = nn.Sequential(
            nn.Conv2d(3, c // 2, 3, padding=1), nn.PReLU(c // 2),
            nn.Conv2d(c // 2, c, 3, stride=2, padding=1), nn.PReLU(c),
            nn.Conv2d(c, c, 3, stride=2, padding=1), nn.PReLU(c),
            ResBlock(c),
        )  # fmt: skip
        self.af = AFModule(c, cfg.af_hidden)

    def forward(self, x: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        return self.af(self.body(x), snr)


class ChannelEncoder(nn.Module):
    """E_c: conv + AF → conv to C'_c channels."""

    def __init__(self, cfg: JSCCConfig) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(cfg.c_s, cfg.c_s, 3, padding=1)
        self.a1 = nn.PReLU(cfg.c_s)
        self.af = AFModule(cfg.c_s, cfg.af_hidden)
        self.c2 = nn.Conv2d(cfg.c_s, cfg.c_out, 3, padding=1)

    def forward(self, xs: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        return self.c2(self.af(self.a1(self.c1(xs)), snr))


class PolicyNet(nn.Module):
    """P: (pooled X_s, snr/20) → logits (B, C'_c, 2) for (off, on)."""

    def __init__(self, cfg: JSCCConfig) -> None:
        super().__init__()
        self.c_out = cfg.c_out
        self.mlp = nn.Sequential(
            nn.Linear(2 * cfg.c_s + 1, cfg.policy_hidden), nn.ReLU(inplace=True),
            nn.Linear(cfg.policy_hidden, 2 * cfg.c_out),
        )  # fmt: skip

    def forward(self, xs: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([xs.mean(dim=(2, 3)), xs.amax(dim=(2, 3)), snr], dim=1)
        return self.mlp(pooled).view(-1, self.c_out, 2)


class Decoder(nn.Module):
    """D_c + D_s: conv from C'_c → AF → residual block → two pixel-shuffle ×2 stages → RGB."""

    def __init__(self, cfg: JSCCConfig) -> None:
        super().__init__()
        c = cfg.c_s
        self.head = nn.Sequential(nn.Conv2d(cfg.c_out, c, 3, padding=1), nn.PReLU(c))
        self.af1 = AFModule(c, cfg.af_hidden)
        self.res = ResBlock(c)
        self.af2 = AFModule(c, cfg.af_hidden)
        self.up = nn.Sequential(
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(c // 2),
            nn.Conv2d(c // 2, c, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(c // 4),
            nn.Conv2d(c // 4, 3, 3, padding=1),
        )  # fmt: skip

    def forward(self, y: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        h = self.af1(self.head(y), snr)
        h = self.af2(self.res(h), snr)
        return torch.sigmoid(self.up(h))


def power_normalize(z: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale each image's active real values so complex symbols have mean power 1.

    z: (B, C, h, w) real; mask: (B, C) in {0, 1}. With P = Σ mask·z² / (n_active_real) the
    output is mask·z / sqrt(2P): every real value has mean square 1/2, so a complex symbol
    (a pair of real values) has E|x|² = 1. Inactive channels are zero.
    """
    m = mask[:, :, None, None]
    zm = z * m
    n_active = (m.sum(dim=(1, 2, 3)) * z.shape[2] * z.shape[3]).clamp_min(1.0)
    power = (zm * zm).sum(dim=(1, 2, 3)) / n_active
    return zm / torch.sqrt(2.0 * power + eps)[:, None, None, None]


class AdaptiveJSCC(nn.Module):
    """The whole adaptive-rate deep JSCC (encoder side + decoder side)."""

    def __init__(self, cfg: JSCCConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or JSCCConfig()
        self.source_encoder = SourceEncoder(self.cfg)
        self.channel_encoder = ChannelEncoder(self.cfg)
        self.policy = PolicyNet(self.cfg)
        self.decoder = Decoder(self.cfg)
        self.stochastic_mask = True  # Gumbel sampling while training; arg-max otherwise
        self.last_expected_rate = torch.tensor(0.0)  # mean on-probability of the last encode()

    def encode(
        self, x: torch.Tensor, snr_db: torch.Tensor, tau: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, 3, H, W) in [0, 1], H, W multiples of 4 → (normalised symbols, mask (B, C'_c))."""
        if x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"image sides must be multiples of 4, got {tuple(x.shape[2:])}")
        snr = snr_feature(snr_db)
        xs = self.source_encoder(x, snr)
        z = self.channel_encoder(xs, snr)
        logits = self.policy(xs, snr)
        self.last_expected_rate = torch.softmax(logits, dim=-1)[..., 1].mean()
        mask = self.make_mask(logits, tau)
        return power_normalize(z, mask), mask

    def make_mask(self, logits: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
        """Binary mask (B, C'_c): straight-through Gumbel-softmax in training, arg-max otherwise.

        Forward values are exactly 0 or 1 (``hard + (soft - soft.detach())``); the backward
        pass uses the gradient of the (Gumbel-)softmax probability of "on".
        """
        if self.training and self.stochastic_mask:
            gumbel = -torch.empty_like(logits).exponential_().log()
            soft = torch.softmax((logits + gumbel) / tau, dim=-1)[..., 1]
            hard = (soft > 0.5).to(logits.dtype)
        else:
            soft = torch.softmax(logits, dim=-1)[..., 1]
            hard = (logits[..., 1] > logits[..., 0]).to(logits.dtype)
            # never send nothing: keep the channel with the largest on-margin if all are off
            margin = logits[..., 1] - logits[..., 0]
            best = F.one_hot(margin.argmax(dim=1), margin.shape[1]).to(logits.dtype)
            empty = (hard.sum(dim=1, keepdim=True) == 0).to(logits.dtype)
            hard = hard + empty * best
        return hard.detach() + (soft - soft.detach())

    def decode(self, y: torch.Tensor, mask: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        """Received (equalised) symbols y (B, C'_c, h, w) and the mask → image in [0, 1]."""
        return self.decoder(y * mask[:, :, None, None], snr_feature(snr_db))
