"""Architecture settings of the adaptive-rate deep JSCC (:class:`JSCCConfig`).

Widths (Yang & Kim 2022, public code ``mingyuyng/Dynamic_JSCC``: 64 / 128 / 256):

- ``c_full``: channels of the 7×7 convolution at full resolution;
- ``c_half``: channels after the first stride-2 stage (H/2 × W/2);
- ``c_s``: channels of X_s after the second stride-2 stage (H/4 × W/4), also the width of
  the residual blocks (``n_res`` per side) of the channel encoder and the decoder.

Rate levels (nested channel groups): the ``c_out`` = C'_c feature channels form
``c_out / group_size`` groups of ``group_size`` consecutive channels; the first
``n_fixed_groups`` are always on, the policy switches on the next k of the remaining
G = groups − fixed ones (k = 0..G). A level is the number of active channels
(n_fixed_groups + k) · group_size, i.e. channels 0..n−1 on.

Architecture (``arch``): ``yang_kim`` (:class:`bssim.jscc.model.AdaptiveJSCC`) or ``anchored``
(:class:`bssim.jscc.anchored.AnchoredJSCC`, the linear-anchored model of issue 18, on
``block_px``×``block_px`` blocks; ``block_px`` is unused by ``yang_kim``).

Coefficient order (``coef_order``, anchored only): at n active channels the model sends
n·(b/4)² of its K coefficients per block, either the first ones in basis order (``index``)
or, per image, those of largest variance λ_i (``variance``, SoftCast's selection).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


BLOCKS_PX = (4, 8, 16)  # anchored: block sides with a shipped linear basis (linear_b{b}.pt)
ARCHS = ("yang_kim", "anchored")
COEF_ORDERS = ("index", "variance")  # anchored: which coefficients a rate level sends


@dataclass(frozen=True)
class JSCCConfig:
    """Widths, rate-level layout and the SNR range the model is conditioned on (dB)."""

    c_full: int = 32
    c_half: int = 64
    c_s: int = 128
    n_res: int = 2
    c_out: int = 16
    group_size: int = 2
    n_fixed_groups: int = 2
    policy_hidden: int = 64
    snr_min_db: float = 0.0
    snr_max_db: float = 20.0
    arch: str = "yang_kim"
    block_px: int = 8
    coef_order: str = "index"

    def __post_init__(self) -> None:
        for name in ("c_full", "c_half", "c_s", "c_out", "group_size", "policy_hidden"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_res < 0:
            raise ValueError(f"n_res must be >= 0, got {self.n_res}")
        if self.c_out % self.group_size:
            raise ValueError(f"c_out ({self.c_out}) must be a multiple of group_size ({self.group_size})")
        if not 1 <= self.n_fixed_groups <= self.n_groups:
            raise ValueError(f"n_fixed_groups must be in 1..{self.n_groups} (c_out / group_size), got {self.n_fixed_groups}")
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.block_px not in BLOCKS_PX:
            raise ValueError(f"block_px must be one of {BLOCKS_PX}, got {self.block_px}")
        if self.coef_order not in COEF_ORDERS:
            raise ValueError(f"coef_order must be one of {COEF_ORDERS}, got {self.coef_order!r}")
        if self.snr_max_db <= self.snr_min_db:
            raise ValueError(f"snr_max_db ({self.snr_max_db}) must exceed snr_min_db ({self.snr_min_db})")

    @property
    def n_groups(self) -> int:
        """All channel groups, c_out / group_size."""
        return self.c_out // self.group_size

    @property
    def n_choices(self) -> int:
        """Choices of the policy: G + 1 with G = n_groups − n_fixed_groups selectable groups."""
        return self.n_groups - self.n_fixed_groups + 1

    @property
    def rate_levels(self) -> tuple[int, ...]:
        """Active-channel counts of the nested masks, ascending: (n_fixed + k) · group_size."""
        return tuple((self.n_fixed_groups + k) * self.group_size for k in range(self.n_choices))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "JSCCConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown JSCC config keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**d)
