"""Training schedule of the deep JSCC as pure functions of the epoch (resumable, deterministic).

Yang & Kim 2022 (code ``mingyuyng/Dynamic_JSCC``): 150 epochs at lr 5e-4, 150 at 5e-5, then
100 epochs with the encoder and the policy frozen at 1e-5; Gumbel temperature τ from 5,
multiplied by e^-0.015 per epoch. Here the phases are fractions of ``epochs``
(``phase_fractions``, default 0.6 / 0.25 / 0.15: more time at the high rate suits short CPU
runs) and τ falls geometrically from ``tau_start`` to ``tau_end`` over phases 1–2:

    τ(t) = τ_start · (τ_end / τ_start)^min(1, t / T12),   t = epoch + fraction of it done.

Policy warm-up: in the first ``policy_warmup`` share of the epochs every crop is sent at a
rate level drawn uniformly, so that the decoder learns every level before the policy
starts choosing (otherwise the policy settles on whatever level is best while the decoder
is still poor, and stays there).

Crops: ``crop`` px, then the last ``tail_fraction`` of the epochs at ``crop_tail`` px with
the batch and the crops per epoch scaled by (crop / crop_tail)², so the pixels per step and
per epoch stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    """The schedule's settings (a view of the training settings)."""

    epochs: int
    phase_fractions: tuple[float, float, float]
    lrs: tuple[float, float, float]
    tau_start: float
    tau_end: float
    crop: int
    crop_tail: int
    tail_fraction: float
    batch: int
    crops_per_epoch: int
    policy_warmup: float = 0.0

    def phase_ends(self) -> tuple[int, int]:
        """Epoch counts at which phases 1 and 2 end (phase 1 has at least one epoch)."""
        f1, f2, _ = self.phase_fractions
        e1 = max(1, round(f1 * self.epochs))
        e2 = max(e1, round((f1 + f2) * self.epochs))
        return e1, e2

    def phase(self, epoch: int) -> int:
        """Phase 1, 2 or 3 of 0-based ``epoch``."""
        e1, e2 = self.phase_ends()
        return 1 if epoch < e1 else (2 if epoch < e2 else 3)

    def lr(self, epoch: int) -> float:
        return self.lrs[self.phase(epoch) - 1]

    def tau(self, t_epochs: float) -> float:
        """Gumbel temperature after ``t_epochs`` epochs (fractional)."""
        t12 = max(1, self.phase_ends()[1])
        return self.tau_start * (self.tau_end / self.tau_start) ** min(1.0, t_epochs / t12)

    def is_warmup(self, epoch: int) -> bool:
        """True in the first ``policy_warmup`` share of the epochs (every crop at a forced level)."""
        return epoch < round(self.policy_warmup * self.epochs)

    def is_tail(self, epoch: int) -> bool:
        n_tail = round(self.tail_fraction * self.epochs) if self.crop_tail else 0
        return epoch >= self.epochs - n_tail

    def crops(self, epoch: int) -> tuple[int, int, int]:
        """(crop side px, batch, crops in the epoch) of ``epoch``."""
        if not self.is_tail(epoch):
            return self.crop, self.batch, self.crops_per_epoch
        f = (self.crop / self.crop_tail) ** 2
        return self.crop_tail, max(1, round(self.batch * f)), max(1, round(self.crops_per_epoch * f))
