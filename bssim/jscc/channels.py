"""Channels for the deep JSCC symbols: AWGN, Rayleigh block fading, and none (noiseless).

The encoder output is a real tensor z (B, C, h, w) whose active real values have mean
square 1/2; consecutive pairs of real values (in C-order of the flattened tensor) are the
real and imaginary parts of complex symbols x with E|x|² = 1 (see
:func:`bssim.jscc.model.power_normalize`).

- AWGN:      y = x + n,   n ~ CN(0, σ²),  σ² = 1 / SNR  (SNR = 10^(snr_db/10), per symbol).
  Each real component carries noise of variance σ²/2.
- Rayleigh block fading: y = h·x + n with one h ~ CN(0, 1) per image (the whole codeword
  is one coherence block: slow fading, as in Bourtsoulatze et al. 2019, §IV). The receiver
  equalises with zero forcing, x̂ = y / ĥ:
  - ``csi="perfect"``: ĥ = h;
  - ``csi="estimated"``: ``n_pilots`` unit-power pilot symbols, least-squares estimate
    ĥ = mean(y_p) = h + e, e ~ CN(0, σ²/n_pilots). The pilots are channel uses
    (:func:`pilot_symbols`).
  The decoder is told the SNR the receiver believes it has after equalisation,
  |ĥ|²·SNR (clamped to the model's training range by the caller).

- ``none``: y = x, the decoder told the SNR given (the noiseless ceiling; also the
  decoding of a digital, error-free delivery of the latents at ``cfg.snr_max_db``).

All draws come from the ``generator`` passed in (or torch's global RNG when None).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

CHANNELS = ("awgn", "rayleigh", "none")
CSI_MODES = ("perfect", "estimated")


@dataclass(frozen=True)
class ChannelSpec:
    """Which channel: ``kind`` in :data:`CHANNELS`; for Rayleigh, ``csi`` and ``n_pilots``."""

    kind: str = "awgn"
    csi: str = "estimated"
    n_pilots: int = 4

    def __post_init__(self) -> None:
        if self.kind not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {self.kind!r}")
        if self.csi not in CSI_MODES:
            raise ValueError(f"csi must be one of {CSI_MODES}, got {self.csi!r}")
        if self.n_pilots < 1:
            raise ValueError(f"n_pilots must be >= 1, got {self.n_pilots}")


def pilot_symbols(spec: ChannelSpec) -> int:
    """Complex pilot symbols per image: ``n_pilots`` for Rayleigh with estimated CSI, else 0."""
    return spec.n_pilots if spec.kind == "rayleigh" and spec.csi == "estimated" else 0


def noise_variance(snr_db: torch.Tensor) -> torch.Tensor:
    """Complex noise variance σ² = 10^(-snr_db/10) for unit-power symbols."""
    return torch.pow(10.0, -snr_db / 10.0)


def _randn(shape: tuple[int, ...], like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.randn(shape, generator=generator, dtype=like.dtype, device="cpu").to(like.device)


def awgn(z: torch.Tensor, snr_db: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Add complex AWGN to real-pair symbols: each real value gets N(0, σ²/2), σ² = 10^(-snr/10)."""
    sigma2 = noise_variance(snr_db.to(z.dtype)).reshape(-1, *([1] * (z.dim() - 1)))
    return z + torch.sqrt(sigma2 / 2.0) * _randn(tuple(z.shape), z, generator)


def _to_complex(z: torch.Tensor) -> tuple[torch.Tensor, int]:
    b = z.shape[0]
    flat = z.reshape(b, -1)
    odd = flat.shape[1] % 2
    if odd:
        flat = torch.cat([flat, flat.new_zeros(b, 1)], dim=1)
    return torch.view_as_complex(flat.reshape(b, -1, 2).contiguous()), odd


def _from_complex(c: torch.Tensor, odd: int, shape: torch.Size) -> torch.Tensor:
    flat = torch.view_as_real(c).reshape(shape[0], -1)
    if odd:
        flat = flat[:, :-1]
    return flat.reshape(shape)


def rayleigh(
    z: torch.Tensor,
    snr_db: torch.Tensor,
    csi: str = "estimated",
    n_pilots: int = 4,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rayleigh block fading + zero-forcing equalisation.

    Returns (x̂ as real pairs, shape of z; receiver's post-equalisation SNR in dB, (B,)).
    """
    if csi not in CSI_MODES:
        raise ValueError(f"csi must be one of {CSI_MODES}, got {csi!r}")
    b = z.shape[0]
    x, odd = _to_complex(z)
    sigma2 = noise_variance(snr_db.to(z.dtype)).reshape(b, 1)
    h = torch.complex(*(_randn((b, 1), z, generator) for _ in range(2))) / (2.0**0.5)
    n = torch.complex(*(_randn(tuple(x.shape), z, generator) for _ in range(2))) * torch.sqrt(sigma2 / 2.0)
    y = h * x + n
    if csi == "perfect":
        h_hat = h
    else:
        e = torch.complex(*(_randn((b, n_pilots), z, generator) for _ in range(2))) * torch.sqrt(sigma2 / 2.0)
        h_hat = h + e.mean(dim=1, keepdim=True)
    x_hat = y / h_hat
    gain = (h_hat.abs() ** 2).reshape(b)
    snr_eff_db = snr_db.to(z.dtype) + 10.0 * torch.log10(gain.clamp_min(1e-12))
    return _from_complex(x_hat, odd, z.shape), snr_eff_db


def apply_channel(
    z: torch.Tensor, snr_db: torch.Tensor, spec: ChannelSpec, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pass symbols through the channel in ``spec``; returns (received symbols, decoder SNR dB)."""
    if spec.kind == "none":
        return z, snr_db.to(z.dtype)
    if spec.kind == "awgn":
        return awgn(z, snr_db, generator), snr_db.to(z.dtype)
    return rayleigh(z, snr_db, spec.csi, spec.n_pilots, generator)
