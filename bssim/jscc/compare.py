"""Adaptive rate against fixed-rate models at equal mean rate (``bssim jscc compare``).

Yang & Kim (2022) claim that the adaptive model is within about 0.3 dB of fixed-rate models
trained the same way, at the same average rate. Measured here per SNR on AWGN:

- the adaptive model sends each image at its policy's choice: mean PSNR P_a and mean rate r_a
  (share of the C'_c channels) over the images;
- each fixed-rate model (trained with ``--fixed-level n``, rate n / C'_c) sends every image
  at its level: mean PSNR P_f(r) at its rate r;
- P_f(r_a) is interpolated linearly in r between the two fixed models whose rates bracket
  r_a (never extrapolated: nan outside their range); the result is Δ = P_a − P_f(r_a).

Image i at SNR index j uses channel seed ``seed + 1000·j + i`` for every model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bssim.jscc.evaluate import mse_u8, psnr_from_mse_u8
from bssim.jscc import transmit
from bssim.jscc import load_model
from bssim.files import list_images, read_image


def _measure(model: Any, imgs: list[np.ndarray], snrs_db: list[float], level: int | None, seed: int) -> list[tuple[float, float]]:
    """(mean PSNR dB, mean rate) per SNR of one model at its policy (level None) or a forced level."""

    out = []
    for j, snr in enumerate(snrs_db):
        res = [transmit(model, img, snr, seed=seed + 1000 * j + i, n_active=level) for i, img in enumerate(imgs)]
        psnr = float(np.mean([psnr_from_mse_u8(mse_u8(img, r.image)) for img, r in zip(imgs, res)]))
        out.append((psnr, float(np.mean([r.rate for r in res]))))
    return out


def interpolate(rate: float, points: list[tuple[float, float]]) -> tuple[float, str]:
    """PSNR at ``rate`` on the piecewise-linear curve through (rate, PSNR) ``points``; nan outside."""
    pts = sorted(points)
    for (r0, p0), (r1, p1) in zip(pts, pts[1:]):
        if r0 <= rate <= r1:
            w = 0.0 if r1 == r0 else (rate - r0) / (r1 - r0)
            return p0 + w * (p1 - p0), f"{r0:.3f}-{r1:.3f}"
    if len(pts) == 1 and abs(pts[0][0] - rate) < 1e-9:
        return pts[0][1], f"{rate:.3f}"
    return float("nan"), "outside the fixed models' rates"


def compare(images: str | Path, adaptive: str | Path, fixed: list[str | Path], snrs_db: list[float],
            seed: int = 0, limit: int = 0, precision: str = "auto") -> list[dict[str, Any]]:  # fmt: skip
    """One row per SNR: adaptive PSNR and rate, fixed models' PSNRs, interpolated Δ (dB)."""

    imgs = [read_image(f, allow_grey=True) for f in list_images(images)[: limit or None]]
    ad = load_model(adaptive, precision=precision)
    ad_res = _measure(ad, imgs, snrs_db, None, seed)
    fixed_res: dict[int, list[tuple[float, float]]] = {}
    for path in fixed:
        m = load_model(path, precision=precision)
        level = int(m.meta.get("settings", {}).get("fixed_level", 0))
        if level not in m.rate_levels:
            raise ValueError(f"{path} is not a fixed-rate model (its settings have no fixed_level)")
        fixed_res[level] = _measure(m, imgs, snrs_db, level, seed)
    rows = []
    for j, snr in enumerate(snrs_db):
        p_a, r_a = ad_res[j]
        pts = [(res[j][1], res[j][0]) for res in fixed_res.values()]
        p_f, bracket = interpolate(r_a, pts)
        row = {"snr_db": snr, "adaptive_psnr_db": p_a, "adaptive_rate": r_a, "fixed_psnr_at_rate_db": p_f,
               "delta_db": p_a - p_f, "bracket": bracket, "n_images": len(imgs)}  # fmt: skip
        row.update({f"fixed{lv}_psnr_db": res[j][0] for lv, res in sorted(fixed_res.items())})
        rows.append(row)
    return rows


def policy_vs_levels(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The policy against the same model's forced levels at equal mean rate, per (channel, SNR).

    Sending a share w of the images at level a and the rest at level b (time sharing) has the
    mean PSNR (1 − w)·P_a + w·P_b at the mean rate (1 − w)·r_a + w·r_b, so P_forced(r̄) is
    :func:`interpolate` over the level rows of an evaluation summary at the policy's mean rate
    r̄; Δ = P_policy − P_forced(r̄) (dB, mean of per-image PSNR).
    """
    rows = []
    for pol in (r for r in summary if r["kind"] == "policy"):
        pts = [(r["rate"], r["psnr_db"]) for r in summary
               if r["kind"] == "level" and r["channel"] == pol["channel"] and r["snr_db"] == pol["snr_db"]]  # fmt: skip
        if not pts:
            continue
        forced, bracket = interpolate(pol["rate"], pts)
        rows.append({"channel": pol["channel"], "snr_db": pol["snr_db"], "policy_psnr_db": pol["psnr_db"],
                     "rate": pol["rate"], "forced_psnr_at_rate_db": forced, "delta_db": pol["psnr_db"] - forced,
                     "bracket": bracket})  # fmt: skip
    return rows


def format_policy_vs_levels(rows: list[dict[str, Any]]) -> str:
    """Text table of :func:`policy_vs_levels` ('' when there are no rows)."""
    if not rows:
        return ""
    head = f"{'channel':>8} {'SNR dB':>6} {'policy':>7} {'rate':>6} {'forced@r':>8} {'delta':>6}"
    lines = ["policy vs the same model's forced levels at equal mean rate (time sharing; PSNR dB)", head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['channel']:>8} {r['snr_db']:6.1f} {r['policy_psnr_db']:7.2f} {r['rate']:6.3f} "
                     f"{r['forced_psnr_at_rate_db']:8.2f} {r['delta_db']:+6.2f}")  # fmt: skip
    return "\n".join(lines)


def format_compare(rows: list[dict[str, Any]]) -> str:
    levels = [k for k in rows[0] if k.startswith("fixed") and k.endswith("_psnr_db") and k != "fixed_psnr_at_rate_db"] if rows else []
    head = f"{'SNR dB':>6} {'adaptive':>8} {'rate':>6} " + " ".join(f"{k[:-8]:>8}" for k in levels) + f" {'fixed@r':>8} {'delta':>6}"
    lines = ["PSNR (dB), mean of per-image PSNR; fixed@r = fixed-rate PSNR interpolated at the adaptive mean rate",
             head, "-" * len(head)]  # fmt: skip
    for r in rows:
        vals = " ".join(f"{r[k]:8.2f}" for k in levels)
        lines.append(f"{r['snr_db']:6.1f} {r['adaptive_psnr_db']:8.2f} {r['adaptive_rate']:6.3f} {vals} "
                     f"{r['fixed_psnr_at_rate_db']:8.2f} {r['delta_db']:+6.2f}")  # fmt: skip
    return "\n".join(lines)
