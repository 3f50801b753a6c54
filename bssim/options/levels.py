"""Rate levels: the knobs that trade bits (or channel symbols) for quality within one scheme.

Two knobs, combined (issue 8; DESIGN.md section 1):

* **resolution scale** s (seed 000 section II.D, resolution control): the JSCC input is
  scaled by s (INTER_AREA, sides multiples of 4) and the receiver scales it back (INTER_CUBIC);
  the payload falls roughly as s²;
* **active channels** n of the JSCC (Yang & Kim's nested channel groups, ``model.rate_levels``);
  ``None`` is the policy's own choice (the only one a model without nested groups has).

A rate level's index orders the levels by their nominal payload s²·n (ties: larger s
first), so index 0 is the cheapest and the last is the full-rate JSCC of the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLevel:
    """Resolution scale (0, 1] and active channels (None: the JSCC policy's choice)."""

    scale: float
    n_active: int | None

    def __post_init__(self) -> None:
        if not 0.0 < self.scale <= 1.0:
            raise ValueError(f"resolution scale {self.scale!r}: must be in (0, 1]")
        if self.n_active is not None and self.n_active < 1:
            raise ValueError(f"active channels {self.n_active!r}: must be >= 1 (or None for the policy)")

    @property
    def label(self) -> str:
        """Short name, e.g. ``s0.75/c12`` or ``s1.00/policy``."""
        return f"s{self.scale:.2f}/" + ("policy" if self.n_active is None else f"c{self.n_active}")

    def nominal_size(self, c_policy: float) -> float:
        """s²·n (n = ``c_policy`` for the policy's level): the ordering key."""
        return self.scale**2 * (c_policy if self.n_active is None else self.n_active)


def rate_levels(scales: Sequence[float], channels: Sequence[int | None], c_policy: float = 8.0) -> tuple[RateLevel, ...]:
    """Every (scale, channels) pair, ordered by nominal payload (index = rate level)."""
    if not scales:
        raise ValueError("rate levels: give at least one resolution scale")
    if not channels:
        raise ValueError("rate levels: give at least one channel count (or None for the policy)")
    levels = {RateLevel(float(s), None if n is None else int(n)) for s in scales for n in channels}
    return tuple(sorted(levels, key=lambda lv: (lv.nominal_size(c_policy), -lv.scale)))


def model_channel_levels(model, requested: str | Sequence[int] = "model") -> tuple[int | None, ...]:
    """Channel counts to measure: ``"model"`` = all of ``model.rate_levels`` (None for a model
    without nested groups), or a list that must be a subset of them."""
    available = tuple(getattr(model, "rate_levels", None) or ())
    if isinstance(requested, str):
        if requested != "model":
            raise ValueError(f"channel_levels = {requested!r}: use \"model\" or a list of channel counts")
        return available or (None,)
    bad = [n for n in requested if n not in available]
    if bad:
        allowed = list(available) if available else "none (this JSCC has no nested channel groups; use \"model\")"
        raise ValueError(f"channel_levels {bad}: not rate levels of the JSCC model; allowed: {allowed}")
    return tuple(int(n) for n in requested)
