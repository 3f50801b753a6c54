"""Adaptive-rate deep JSCC network (M. Yang and H.-S. Kim, ICASSP 2022; DESIGN.md §3 step 4).

Structure (as in the authors' public code ``mingyuyng/Dynamic_JSCC``, written anew here)::

    X (3, H, W) ─E_s─> X_s (C_s, H/4, W/4) ─E_c(·, SNR)─> Z (C'_c, H/4, W/4)
                         └─ policy P([mean X_s, SNR]) ─> choice k ─> nested mask W (C'_c)
    W ⊙ Z ─per-channel power normalisation─> channel ─> D(·, W, SNR) ─> X̂ (3, H, W)

- E_s: 7×7 conv (``c_full``) → two stride-2 3×3 stages (``c_half``, ``c_s``), each with
  BatchNorm and ReLU. X_s does not depend on the SNR.
- E_c: ``n_res`` residual blocks, each followed by an SNR modulation, then a 3×3 projection
  to C'_c = ``c_out`` channels.
- P and the nested masks: :mod:`bssim.jscc.policy`; the levels are ``cfg.rate_levels``.
- Decoder (mirror): 3×3 conv C'_c → C_s, ``n_res`` modulated residual blocks, two ×2
  transposed-conv stages with BatchNorm (``c_half``, ``c_full``), 5×5 conv to RGB, sigmoid.
  (A decoder without BatchNorm was tried: 3.5 dB lower after 3 epochs of a short run.)

Fully convolutional: any H, W that are multiples of 4 (the API pads and crops back).
``precision = "bf16"`` runs the convolutions under bfloat16 autocast (fast on CPUs with
AMX / AVX512-BF16); power normalisation, the policy and the output stay float32.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from bssim.jscc.config import JSCCConfig
from bssim.jscc.layers import ModulatedResStack, conv_bn_relu, snr_feature, up_bn_relu
from bssim.jscc.policy import RatePolicy, argmax_choice, choice_to_mask, level_mask, pool_features, sample_choice
from bssim.jscc.precision import PRECISIONS

__all__ = ["AdaptiveJSCC", "JSCCConfig", "power_normalize", "snr_feature"]


def power_normalize(z: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Per-channel power normalisation: z_c / sqrt(2 · mean_hw z_c²), inactive channels zeroed.

    Every active channel then has mean square 1/2 per real value, so complex symbols (pairs
    of real values) have E|x|² = 1 whichever channels are active: the first n channels of
    an all-on encoding are already normalised (Yang & Kim 2022, §2.1).
    z: (B, C, h, w); mask: (B, C) in {0, 1}.
    """
    z = z.float()
    power = (z * z).mean(dim=(2, 3), keepdim=True)
    return z / torch.sqrt(2.0 * power + eps) * mask[:, :, None, None]


class SourceEncoder(nn.Module):
    """E_s: 7×7 conv → stride-2 → stride-2, BatchNorm + ReLU after each."""

    def __init__(self, cfg: JSCCConfig) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *conv_bn_relu(3, cfg.c_full, 7),
            *conv_bn_relu(cfg.c_full, cfg.c_half, 3, stride=2),
            *conv_bn_relu(cfg.c_half, cfg.c_s, 3, stride=2),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ChannelEncoder(nn.Module):
    """E_c: modulated residual blocks → 3×3 projection to C'_c."""

    def __init__(self, cfg: JSCCConfig) -> None:
        super().__init__()
        self.res = ModulatedResStack(cfg.c_s, cfg.n_res)
        self.project = nn.Conv2d(cfg.c_s, cfg.c_out, 3, padding=1)

    def forward(self, xs: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        return self.project(self.res(xs, snr))


class Decoder(nn.Module):
    """3×3 conv from C'_c → modulated residual blocks → two ×2 up-sampling stages → 5×5 conv, sigmoid."""

    def __init__(self, cfg: JSCCConfig) -> None:
        super().__init__()
        self.head = nn.Conv2d(cfg.c_out, cfg.c_s, 3, padding=1)
        self.res = ModulatedResStack(cfg.c_s, cfg.n_res)
        self.up = nn.Sequential(
            *up_bn_relu(cfg.c_s, cfg.c_half), *up_bn_relu(cfg.c_half, cfg.c_full),
            nn.Conv2d(cfg.c_full, 3, 5, padding=2),
        )  # fmt: skip

    def forward(self, y: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.up(self.res(self.head(y), snr)).float())


class AdaptiveJSCC(nn.Module):
    """The whole adaptive-rate deep JSCC; ``rate_levels`` are the forcible active-channel counts."""

    def __init__(self, cfg: JSCCConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or JSCCConfig()
        self.source_encoder = SourceEncoder(self.cfg)
        self.channel_encoder = ChannelEncoder(self.cfg)
        self.policy = RatePolicy(self.cfg)
        self.decoder = Decoder(self.cfg)
        self.precision = "fp32"
        # provenance, filled in by bssim.jscc.load_model: SHA-256 of the checkpoint file
        # (12 hex digits; cache keys and manifests), its path and its training metadata
        self.model_version = "untracked"
        self.checkpoint_path: str | None = None
        self.meta: dict = {}
        self.to(memory_format=torch.channels_last)

    @property
    def rate_levels(self) -> tuple[int, ...]:
        """Ascending active-channel counts of the nested masks, e.g. (4, 6, ..., 16)."""
        return self.cfg.rate_levels

    @property
    def pad_px(self) -> int:
        """Images are padded to multiples of this before encoding (the latent grid is H/4)."""
        return 4

    def side_bits(self, n_active: int) -> int:
        """Side information the decoder needs besides the symbols and the mask: none."""
        return 0

    def encoder_modules(self) -> tuple[nn.Module, ...]:
        """What phase 3 of training freezes (the transmitter)."""
        return (self.source_encoder, self.channel_encoder, self.policy)

    def symbols(self, z: torch.Tensor, mask: torch.Tensor, snr_db: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Un-normalised latents → (channel symbols, side information: none) by :func:`power_normalize`."""
        return power_normalize(z, mask), None

    def encode_side(self, x: torch.Tensor, snr_db: torch.Tensor, tau: float = 1.0, n_active: int | None = None):
        """:meth:`encode` plus the side information (None for this model)."""
        z, mask = self.encode(x, snr_db, tau, n_active)
        return z, mask, None

    def _autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def analyse(self, x: torch.Tensor, snr_db: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(un-normalised latents Z (B, C'_c, H/4, W/4) float32, policy logits (B, G + 1))."""
        z, logits, _ = self.analyse_pooled(x, snr_db)
        return z, logits

    def analyse_pooled(self, x: torch.Tensor, snr_db: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`analyse` plus the policy's input: mean-pooled X_s (B, C_s) float32."""
        if x.dim() != 4 or x.shape[1] != 3 or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"x must be (B, 3, H, W) with H, W multiples of 4, got {tuple(x.shape)}")
        snr = snr_feature(snr_db).to(x.device)
        with self._autocast(x.device):
            xs = self.source_encoder(x.contiguous(memory_format=torch.channels_last))
            z = self.channel_encoder(xs, snr)
            pooled = pool_features(xs)
            logits = self.policy.from_pooled(pooled, snr)
        return z.float(), logits.float(), pooled

    def policy_probs(self, x: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        """Choice probabilities softmax(ℓ) (B, G + 1); choice k ↔ ``rate_levels[k]`` channels."""
        return torch.softmax(self.analyse(x, snr_db)[1], dim=-1)

    def expected_rate(self, x: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        """The policy's expected share of active channels Σ_k p_k · rate_levels[k] / C'_c, shape (B,)."""
        levels = torch.tensor(self.rate_levels, dtype=torch.float32, device=x.device)
        return self.policy_probs(x, snr_db) @ levels / self.cfg.c_out

    def choose_mask(self, logits: torch.Tensor, tau: float = 1.0, n_active: int | None = None) -> torch.Tensor:
        """Mask (B, C'_c): forced level ``n_active``, else Gumbel sample (training) or arg-max."""
        if n_active is not None:
            return level_mask(n_active, logits.shape[0], self.cfg, logits.device)
        choice = sample_choice(logits, tau) if self.training else argmax_choice(logits)
        return choice_to_mask(choice, self.cfg)

    def encode(
        self, x: torch.Tensor, snr_db: torch.Tensor, tau: float = 1.0, n_active: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 3, H, W) in [0, 1] → (power-normalised Z (B, C'_c, H/4, W/4), mask (B, C'_c) 0/1).

        ``n_active``: None = the policy's choice (arg-max in eval mode, Gumbel sample with
        temperature ``tau`` in training mode); one of ``rate_levels`` = that nested mask.
        """
        z, logits = self.analyse(x, snr_db)
        mask = self.choose_mask(logits, tau, n_active)
        return power_normalize(z, mask), mask

    def decode(self, y: torch.Tensor, mask: torch.Tensor, snr_db: torch.Tensor, side: None = None) -> torch.Tensor:
        """Received (equalised) symbols y (B, C'_c, h, w), mask (B, C'_c), SNR → image in [0, 1] (``side`` unused)."""
        snr = snr_feature(snr_db).to(y.device)
        y = (y.float() * mask[:, :, None, None]).contiguous(memory_format=torch.channels_last)
        with self._autocast(y.device):
            return self.decoder(y, snr)
