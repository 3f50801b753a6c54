"""Payload in bits of one deep JSCC transmission, for the scheduler's Shannon link.

DESIGN.md §3 (data volume): the JSCC sends k complex channel symbols; the scheduler needs
the bits d an ideal digital link would have to deliver for the same content::

    d = n_active · h · w · b  +  C'_c  +  s

- n_active · h · w: the number of active real latent values — the policy keeps n_active of
  the C'_c feature channels, each a map of h × w = (H/4) × (W/4) real values, where H, W
  are the image sides after padding to multiples of 4;
- b: bits per real value after quantisation (a setting, default 8);
- C'_c: the policy mask, one bit per feature channel (which channels are active);
- s: any side information the caller adds (e.g. crop position and size, 4 × 16 bits).

The complex channel uses are k = ceil(n_active · h · w / 2) (two real values per complex
symbol), plus pilots for Rayleigh with estimated CSI.
"""

from __future__ import annotations

import math


def _check_nonneg_int(name: str, value: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def payload_bits(
    n_active_channels: int,
    latent_h: int,
    latent_w: int,
    *,
    bits_per_value: int = 8,
    mask_bits: int = 16,
    side_info_bits: int = 0,
) -> int:
    """d = n_active_channels · latent_h · latent_w · bits_per_value + mask_bits + side_info_bits.

    ``mask_bits`` is C'_c (one bit per feature channel, seed: 16). All inputs are
    non-negative integers; ``bits_per_value`` must be >= 1.
    """
    n = _check_nonneg_int("n_active_channels", n_active_channels)
    h = _check_nonneg_int("latent_h", latent_h)
    w = _check_nonneg_int("latent_w", latent_w)
    b = _check_nonneg_int("bits_per_value", bits_per_value)
    if b < 1:
        raise ValueError(f"bits_per_value must be >= 1, got {bits_per_value}")
    m = _check_nonneg_int("mask_bits", mask_bits)
    s = _check_nonneg_int("side_info_bits", side_info_bits)
    if n > m:
        raise ValueError(f"n_active_channels ({n}) cannot exceed the number of channels / mask bits ({m})")
    return n * h * w * b + m + s


def channel_uses(n_active_channels: int, latent_h: int, latent_w: int, pilots: int = 0) -> int:
    """k = ceil(n_active · h · w / 2) complex symbols (+ pilots)."""
    n = _check_nonneg_int("n_active_channels", n_active_channels)
    return math.ceil(n * latent_h * latent_w / 2) + _check_nonneg_int("pilots", pilots)
