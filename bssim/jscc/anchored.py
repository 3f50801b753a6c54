"""A deep JSCC that starts as the linear analog code and can only add to it (issue 18).

At initialisation it *is* :mod:`bssim.jscc.linear` (SoftCast-style: block PCA, per-image
coefficient means and variances as side information, λ^(−1/4) power allocation, LMMSE);
training then adds nonlinear terms, each zero-initialised::

    x (B, 3, H, W), H, W multiples of b (the encoder pads)
    c  = A x + R(x, SNR)           A: stride-b b×b conv from the PCA basis (K = 4·C'_c·(b/4)²
                                   coefficients per block), R: residual CNN, last conv zero
    ν_i, λ_i per image and coefficient (side information: 16 + 16 bits each, quantised,
    straight-through in training)
    s_i = a · λ_i^(−1/4) · exp(γ_i(SNR)) · (c_i − ν_i)      γ: learned, zero-initialised;
                                   a sets the mean power per active real value to 1/2
    z  = pixel_shuffle(s_π, b/4)   (B, C'_c, H/4, W/4): channel j holds slots j·(b/4)² … (j+1)·(b/4)² − 1
                                   of the order π: basis order (coef_order "index"), or per
                                   image by decreasing λ_i (coef_order "variance", SoftCast's
                                   selection); the nested rate levels keep the first slots
    ĉ_i = ν_i + a g_i λ_i / (a² g_i² λ_i + N0) · y_i,  N0 = σ²/2 per real value   (LMMSE)
    x̂  = Aᵀ-init synthesis(ĉ) + block mean + F(x_lin, SNR)   F: refiner at H/4, last conv zero

So the policy, rate levels, channel-use counts and bitstreams of :class:`AdaptiveJSCC`
carry over; what is new is the side information (:meth:`side_bits`), which the decoder
needs: :meth:`encode_side` returns it and :meth:`decode` takes it. With ``variance`` order
the receiver repeats π from the λ_i it receives; a K-bit map says which coefficients they are.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bssim.jscc.config import JSCCConfig
from bssim.jscc.layers import ModulatedResStack, snr_feature
from bssim.jscc.policy import RatePolicy, argmax_choice, choice_to_mask, level_mask, pool_features, sample_choice
from bssim.jscc.precision import PRECISIONS

SIDE_BITS_PER_COEFFICIENT = 32  # float16 mean + 16-bit log2 variance
_LOG_STEPS = 256.0
_LAM_MIN = 2.0**-40


def quantise_side(nu: torch.Tensor, lam: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Receiver's copies of the side information, straight-through: ν as float16, λ = 2^(q/256), q integer.

    Same quantisers as :func:`bssim.jscc.linear.quantise_variances` (λ floored at 2^−40).
    """
    nu_q = nu.detach().half().float()
    lam_c = lam.clamp_min(_LAM_MIN)
    lam_q = torch.exp2(torch.round(torch.log2(lam_c.detach()) * _LOG_STEPS) / _LOG_STEPS)
    return nu + (nu_q - nu).detach(), lam_c + (lam_q - lam_c).detach()


def quantise_codes(nu: torch.Tensor, lam: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Side information → its transmitted form: (ν as float16, q = round(256·log2 λ) as int16)."""
    q = torch.round(torch.log2(lam.float().clamp_min(_LAM_MIN)) * _LOG_STEPS).clamp(-32768, 32767)
    return nu.half(), q.to(torch.int16)


def dequantise_codes(nu16: torch.Tensor, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`quantise_codes`: (ν float32, λ = 2^(q/256)), as :func:`quantise_side` computes them."""
    return nu16.float(), torch.exp2(q.float() / _LOG_STEPS)


class ResidualEncoder(nn.Module):
    """R: stride-2 convs to (C_s, H/b, W/b) (also the policy's view), modulated residual blocks, 1×1 to K, zero-initialised."""

    def __init__(self, cfg: JSCCConfig, k: int) -> None:
        super().__init__()
        s = min(cfg.block_px // 4, 2)  # strides 2, 2, s (b = 4: s = 1), then one stride-2 stage per doubling above 8
        n_extra = int(math.log2(cfg.block_px // 8)) if cfg.block_px > 8 else 0
        extra = [m for _ in range(n_extra) for m in (nn.Conv2d(cfg.c_s, cfg.c_s, 3, 2, 1), nn.ReLU(inplace=True))]
        self.features = nn.Sequential(
            nn.Conv2d(3, cfg.c_full, 5, 2, 2), nn.ReLU(inplace=True),
            nn.Conv2d(cfg.c_full, cfg.c_half, 3, 2, 1), nn.ReLU(inplace=True),
            nn.Conv2d(cfg.c_half, cfg.c_s, 3, s, 1), nn.ReLU(inplace=True),
            *extra,
        )  # fmt: skip
        self.res = ModulatedResStack(cfg.c_s, cfg.n_res, norm=False)
        self.out = nn.Conv2d(cfg.c_s, k, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)


class Refiner(nn.Module):
    """F: pixel-unshuffle (×4) of the linear estimate → conv → modulated residual blocks → conv (zero-init) → pixel-shuffle."""

    def __init__(self, cfg: JSCCConfig) -> None:
        super().__init__()
        self.head = nn.Conv2d(48, cfg.c_half, 3, padding=1)
        self.res = ModulatedResStack(cfg.c_half, cfg.n_res, norm=False)
        self.tail = nn.Conv2d(cfg.c_half, 48, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, x_lin: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.head(F.pixel_unshuffle(x_lin, 4)))
        return F.pixel_shuffle(self.tail(self.res(h, snr)), 4)


class AnchoredJSCC(nn.Module):
    """Linear-anchored deep JSCC (module docstring); same interface as :class:`AdaptiveJSCC` plus side information."""

    def __init__(self, cfg: JSCCConfig) -> None:
        super().__init__()
        if cfg.arch != "anchored":
            raise ValueError(f"AnchoredJSCC needs cfg.arch == 'anchored', got {cfg.arch!r}")
        self.cfg = cfg
        b = cfg.block_px
        self.r = b // 4
        self.k = cfg.c_out * self.r * self.r  # coefficients per block
        if self.k > 3 * b * b:
            raise ValueError(f"c_out={cfg.c_out} needs {self.k} coefficients per {b}x{b} block, more than 3·b² = {3 * b * b}")
        self.analysis = nn.Conv2d(3, self.k, b, stride=b, bias=True)
        self.synthesis = nn.ConvTranspose2d(self.k, 3, b, stride=b, bias=False)
        self.block_mean = nn.Parameter(torch.full((3, b, b), 0.5))
        self.source_encoder = ResidualEncoder(cfg, self.k)
        self.gain = nn.Linear(1, self.k)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.gain.bias)
        self.policy = RatePolicy(cfg)
        self.refiner = Refiner(cfg)
        self.precision = "fp32"
        self.model_version = "untracked"
        self.checkpoint_path: str | None = None
        self.meta: dict = {}

    # -- interface shared with AdaptiveJSCC -------------------------------------------------
    @property
    def rate_levels(self) -> tuple[int, ...]:
        return self.cfg.rate_levels

    @property
    def pad_px(self) -> int:
        """Images are padded to multiples of this (b) before encoding."""
        return self.cfg.block_px

    @property
    def coefficients_per_channel(self) -> int:
        """(b/4)²: coefficients per block that one channel carries."""
        return self.r * self.r

    @property
    def sends_coefficient_map(self) -> bool:
        """Whether the side information starts with a K-bit map of the sent coefficients (``variance`` order)."""
        return self.cfg.coef_order == "variance"

    def side_bits(self, n_active: int) -> int:
        """Side information of one image at ``n_active`` channels: 32 bits per sent coefficient (+ K map bits)."""
        return SIDE_BITS_PER_COEFFICIENT * int(n_active) * self.coefficients_per_channel + (self.k if self.sends_coefficient_map else 0)

    def encoder_modules(self) -> tuple[nn.Module, ...]:
        """What phase 3 of training freezes (the transmitter)."""
        return (self.analysis, self.source_encoder, self.gain, self.policy)

    def init_from_basis(self, components: np.ndarray, mean: np.ndarray) -> None:
        """Set A and the synthesis to the top K PCA directions ((d, d) rows, d = 3·b² in (y, x, colour) order) and μ."""
        b, k = self.cfg.block_px, self.k
        v = torch.from_numpy(np.asarray(components[:k], dtype=np.float32)).reshape(k, b, b, 3).permute(0, 3, 1, 2)
        mu = torch.from_numpy(np.asarray(mean, dtype=np.float32)).reshape(b, b, 3).permute(2, 0, 1)
        with torch.no_grad():
            self.analysis.weight.copy_(v)
            self.analysis.bias.copy_(-(v * mu).sum(dim=(1, 2, 3)))
            self.synthesis.weight.copy_(v)
            self.block_mean.copy_(mu)

    def _autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        b = self.cfg.block_px
        ph, pw = (-x.shape[2]) % b, (-x.shape[3]) % b
        return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x

    def analyse_pooled(self, x: torch.Tensor, snr_db: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(coefficients c (B, K, H/b, W/b) float32, policy logits (B, G + 1), pooled features (B, C_s))."""
        if x.dim() != 4 or x.shape[1] != 3 or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"x must be (B, 3, H, W) with H, W multiples of 4, got {tuple(x.shape)}")
        x = self._pad(x.float())
        snr = snr_feature(snr_db).to(x.device)
        with self._autocast(x.device):
            xs = self.source_encoder.features(x)
            resid = self.source_encoder.out(self.source_encoder.res(xs, snr))
            pooled = pool_features(xs)
            logits = self.policy.from_pooled(pooled, snr)
        c = F.conv2d(x, self.analysis.weight, self.analysis.bias, stride=self.cfg.block_px) + resid.float()
        return c, logits.float(), pooled

    def analyse(self, x: torch.Tensor, snr_db: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c, logits, _ = self.analyse_pooled(x, snr_db)
        return c, logits

    def choose_mask(self, logits: torch.Tensor, tau: float = 1.0, n_active: int | None = None) -> torch.Tensor:
        if n_active is not None:
            return level_mask(n_active, logits.shape[0], self.cfg, logits.device)
        choice = sample_choice(logits, tau) if self.training else argmax_choice(logits)
        return choice_to_mask(choice, self.cfg)

    def sent_coefficients(self, lam: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """λ (B, K), channel mask (B, C'_c) → (coefficient mask (B, K), slot order π (B, K)).

        Slot j of the channels carries coefficient π_j; the mask's first n channels carry the
        first n·(b/4)² slots. π: basis order (``index``) or decreasing λ, ties by index
        (``variance``; unsent coefficients have λ = 0 at the receiver, so it repeats π).
        """
        bsz, k = lam.shape
        if self.cfg.coef_order == "variance":
            order = torch.argsort(lam.detach(), dim=1, descending=True, stable=True)
        else:
            order = torch.arange(k, device=lam.device).expand(bsz, k)
        slots_on = mask.repeat_interleave(self.coefficients_per_channel, dim=1)
        return torch.zeros_like(slots_on).scatter(1, order, slots_on), order

    def _gains(self, lam: torch.Tensor, cm: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        """a·g_i (B, K): λ^(−1/4)·exp(γ(SNR)), scaled to mean power 1/2 per sent real value (cm: sent coefficients)."""
        lam = torch.where(cm > 0, lam, torch.ones_like(lam)).clamp_min(_LAM_MIN)  # unsent: may be 0
        g = lam.pow(-0.25) * torch.exp(self.gain(snr_feature(snr_db).to(lam.device)))
        power = (cm * g * g * lam).sum(dim=1, keepdim=True) / cm.sum(dim=1, keepdim=True).clamp_min(1.0)
        return g * torch.rsqrt(2.0 * power.clamp_min(1e-30)) * cm

    def symbols(self, c: torch.Tensor, mask: torch.Tensor, snr_db: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Coefficients → (channel symbols z (B, C'_c, H/4, W/4), side information (B, 2, K): ν, λ as received)."""
        nu, lam = quantise_side(c.mean(dim=(2, 3)), c.var(dim=(2, 3), unbiased=False))
        cm, order = self.sent_coefficients(lam, mask)
        s = (c - nu[:, :, None, None]) * self._gains(lam, cm, snr_db)[:, :, None, None]
        slots = s.gather(1, order[:, :, None, None].expand_as(s))
        return F.pixel_shuffle(slots, self.r), torch.stack([nu, lam], dim=1)

    def encode_side(self, x: torch.Tensor, snr_db: torch.Tensor, tau: float = 1.0, n_active: int | None = None):
        """x (B, 3, H, W) in [0, 1] → (z (B, C'_c, H'/4, W'/4), mask (B, C'_c), side (B, 2, K)); H' = H padded to b."""
        c, logits = self.analyse(x, snr_db)
        mask = self.choose_mask(logits, tau, n_active)
        z, side = self.symbols(c, mask, snr_db)
        return z, mask, side

    def encode(self, x: torch.Tensor, snr_db: torch.Tensor, tau: float = 1.0, n_active: int | None = None):
        """(z, mask) as :meth:`AdaptiveJSCC.encode`; the decoder also needs :meth:`encode_side`'s side information."""
        z, mask, _ = self.encode_side(x, snr_db, tau, n_active)
        return z, mask

    def decode(self, y: torch.Tensor, mask: torch.Tensor, snr_db: torch.Tensor, side: torch.Tensor | None = None) -> torch.Tensor:
        """Received (equalised) symbols y (B, C'_c, h, w), mask, SNR (dB, (B,)), side (B, 2, K) → image (B, 3, 4h, 4w)."""
        if side is None:
            raise ValueError("this JSCC model (arch 'anchored') needs the side information from encode_side() to decode")
        nu, lam = side[:, 0], side[:, 1]
        snr_db = snr_db.to(y.device).float().reshape(-1)
        cm, order = self.sent_coefficients(lam, mask)
        g = self._gains(lam, cm, snr_db)
        n0 = (0.5 * torch.pow(10.0, -snr_db / 10.0))[:, None]
        w = g * lam / (g * g * lam + n0).clamp_min(1e-30)
        slots = F.pixel_unshuffle(y.float() * mask[:, :, None, None], self.r)
        yc = torch.zeros_like(slots).scatter(1, order[:, :, None, None].expand_as(slots), slots)
        c_hat = (nu * cm)[:, :, None, None] + w[:, :, None, None] * yc
        x_lin = self._add_mean(F.conv_transpose2d(c_hat, self.synthesis.weight, stride=self.cfg.block_px))
        snr = snr_feature(snr_db)
        with self._autocast(y.device):
            delta = self.refiner(x_lin, snr)
        return x_lin + delta.float()

    def _add_mean(self, x: torch.Tensor) -> torch.Tensor:
        b = self.cfg.block_px
        bsz, _, h, w = x.shape
        x = x.reshape(bsz, 3, h // b, b, w // b, b) + self.block_mean[None, :, None, :, None, :]
        return x.reshape(bsz, 3, h, w)
