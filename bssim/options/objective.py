"""Objectives: the utility u_nm the scheduler maximises, Σ_n u_n (docs/model.md section 3).

Every user not served has u = 0 and Q = 0. For a served user with quality Q (the metric
chosen by ``metric``: SSIM, PSNR in dB or MS-SSIM against the original frame, or a task
metric, ``person_iou`` or ``person_f1``, people found on it versus on the original,
:mod:`bssim.semantic.task`):

* ``sum`` (default): u = Q, the total absolute quality.
* ``log`` (proportional fairness, Kelly 1998): u = ln(1 + Q/ε) = ln(ε + Q) − ln ε, i.e.
  Σ ln(ε + Q_n) up to a constant, with not-served users at ln ε. Serving one more user at
  modest quality is worth more than raising a served user's quality: the fair schedule.
* ``seed`` (seed 000 section IV): u = ρ = Q / Q_ref, Q_ref = the quality of the user's
  direct option at its top rate level (the seed's "direct = 1, key = α").

``min_quality``: items with Q below it are removed from the menu (a per-user quality floor
that a served user must receive). Items with u ≤ 0 (or NaN quality) are never useful and are
removed too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bssim.metrics import QUALITY_METRICS
from bssim.options.links import Menu

KINDS = ("sum", "log", "seed")
METRICS = QUALITY_METRICS


@dataclass(frozen=True)
class Objective:
    """Which utility and which quality metric (module docstring)."""

    kind: str = "sum"
    metric: str = "ssim"
    epsilon: float = 0.01
    min_quality: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"objective kind {self.kind!r}: choose one of {', '.join(KINDS)}")
        if self.metric not in METRICS:
            raise ValueError(f"quality metric {self.metric!r}: choose one of {', '.join(METRICS)}")
        if not (math.isfinite(self.epsilon) and self.epsilon > 0):
            raise ValueError(f"objective epsilon = {self.epsilon!r}: must be a finite number > 0")
        if self.min_quality is not None and not math.isfinite(self.min_quality):
            raise ValueError(f"objective min_quality = {self.min_quality!r}: must be finite")

    def quality(self, menu: Menu) -> np.ndarray:
        """(N, M) quality of the chosen metric; a clear error when it was not measured."""
        if self.metric not in menu.quality:
            raise ValueError(f"quality metric {self.metric!r} was not measured; measured: {', '.join(menu.quality)}")
        return menu.quality[self.metric]

    def utility(self, menu: Menu) -> np.ndarray:
        """(N, M) utility; NaN where the item is not usable (quality missing, ≤ 0, or below the floor)."""
        q = self.quality(menu)
        if self.kind == "sum":
            u = q.copy()
        elif self.kind == "log":
            u = np.log1p(np.maximum(q, 0.0) / self.epsilon)
        else:
            ref_col = menu.policies["all_direct"]
            rows = np.arange(q.shape[0])
            ref = np.where(ref_col >= 0, q[rows, np.maximum(ref_col, 0)], np.nan)
            with np.errstate(invalid="ignore", divide="ignore"):
                u = q / ref[:, None]
        bad = ~np.isfinite(u) | (u <= 0) | ~np.isfinite(q)
        if self.min_quality is not None:
            bad |= q < self.min_quality
        return np.where(bad, np.nan, u)
