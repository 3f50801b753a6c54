"""The ``linear`` codec: a SoftCast-style linear analog code (Jakubczak & Katabi, 2011).

b×b×3 block PCA (basis fitted on the training photographs by ``bssim jscc fit-linear`` and
shipped), the top m = 2·(k/n)·3b² coefficients of each block sent as real values with power
∝ λ^(−1/4) (per-image variances λ, sent as side information), LMMSE at the receiver
(:func:`bssim.jscc.linear.linear_transmit`; formulas in docs/model.md). A rate setting is the
bandwidth ratio k/n (complex channel uses per pixel value); the side bits travel as QPSK
symbols on the control channel, counted as ⌈bits/2⌉ symbols.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from bssim.codecs.base import CodeJob, Coded, CodecConfig, RateSetting, register_codec
from bssim.jscc.linear import LinearBasis, default_linear_basis, linear_transmit


def ratio_label(k_over_n: float) -> str:
    """``kn1/12`` for 1/12 (a simple fraction where one is close), else ``kn0.0833``."""
    f = Fraction(k_over_n).limit_denominator(64)
    return f"kn{f.numerator}/{f.denominator}" if abs(float(f) - k_over_n) <= 1e-5 * k_over_n else f"kn{k_over_n:.4g}"


@dataclass(frozen=True)
class LinearCodec:
    """The linear analog code (module docstring)."""

    basis: LinearBasis
    k_over_n: tuple[float, ...]
    name: str = "linear"
    kind: str = "analog"

    def __post_init__(self) -> None:
        bad = [r for r in self.k_over_n if not 0 < r <= 0.5]
        if bad or not self.k_over_n:
            raise ValueError(f"content.k_over_n = {list(self.k_over_n)}: each must be in (0, 1/2] "
                             "(at most one complex symbol per two pixel values)")

    def settings(self) -> tuple[RateSetting, ...]:
        return tuple(RateSetting(float(r), ratio_label(float(r)), float(r)) for r in sorted(set(self.k_over_n)))

    def version(self) -> str:
        return f"linear:b{self.basis.block_px}:{self.basis.fitted_on}"

    def code(self, image: np.ndarray, settings: Sequence[RateSetting], job: CodeJob) -> list[Coded]:
        out = []
        for s in settings:
            t = linear_transmit(image, self.basis, float(s.value), job.snr_db, job.channel, job.seed)
            out.append(Coded(int(t.symbols) + math.ceil(t.side_bits / 2), t.image))
        return out


@register_codec("linear", "analog", "linear analog (SoftCast-style)", "tab:green")
def linear_codec(cfg: CodecConfig) -> LinearCodec:
    """The registry's factory: the shipped basis of ``cfg.linear_block_px``."""
    return LinearCodec(default_linear_basis(cfg.linear_block_px), tuple(cfg.k_over_n))
