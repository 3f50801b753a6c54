"""Evaluation of the deep JSCC (``bssim jscc eval``): policy, forced rate levels, ceiling, baseline.

For every image, channel and SNR the model transmits the full image (:func:`bssim.jscc.transmit`):

- ``kind = "policy"``: the policy's own rate choice; ``rate`` is the share of the C'_c
  channels it keeps (mean over images, with the min and max over images and the number of
  distinct levels chosen); SSIM and MS-SSIM too; the ideal separation baseline at the same
  k (:mod:`bssim.jscc.baseline`) and the practical one: codec + 5G LDPC/QAM simulated with
  Sionna, with its cliff (:mod:`bssim.baselines.practical`);
- ``kind = "level"``: each forced rate level ``level`` (active channels) of ``rate_levels``;
- ``channel = "none"`` (noiseless ceiling): no noise, decoder told ``cfg.snr_max_db``.

Every row also has ``linear_psnr_db``: the linear analog code (:mod:`bssim.jscc.linear`, the
shipped ``linear_block``×``linear_block`` basis, SoftCast-style, the floor of issue 18) on the
same image, channel, SNR (noiseless: no noise) and channel seed, at the row's k/n =
n_active / 96 (n active channels of (H/4)·(W/4) real values: n/16 real values per pixel,
n/96 complex symbols per pixel-colour value; 8 channels ↔ 1/12).

Two PSNR conventions: ``psnr_db`` is the mean over images of each image's PSNR;
``psnr_mean_mse_db`` = 10 log10(255² / mean MSE), the PSNR of the mean squared error.
Image i at SNR index j uses channel seed ``seed + 1000·j + i`` (the same for every level, so
the levels see the same noise).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bssim.jscc.baseline import CODECS, capacity_bits, separation_baseline
from bssim.jscc.linear import default_linear_basis
from bssim.jscc.linear import linear_transmit
from bssim.jscc import transmit
from bssim.jscc import load_model
from bssim.files import list_images, read_image
from bssim.jscc.channels import CHANNELS, CSI_MODES
from bssim.jscc.config import BLOCKS_PX

SUMMARY_KEYS = ("psnr_db", "ssim", "ms_ssim", "rate", "cbr")


@dataclass(frozen=True)
class EvalSettings:
    """What to evaluate. ``quality_metrics``: SSIM and MS-SSIM on the policy rows."""

    snrs_db: tuple[float, ...]
    channels: tuple[str, ...] = ("awgn",)
    csi: str = "estimated"
    seed: int = 0
    bits_per_value: int = 8
    limit: int = 0
    baseline: bool = True
    levels: bool = True
    noiseless: bool = True
    quality_metrics: bool = True
    practical_baseline: bool = True  # with ``baseline``: codec + 5G LDPC/QAM (bssim.baselines.practical)
    linear_block: int = 8  # block side of the linear anchor's shipped basis (0: no linear anchor)

    def __post_init__(self) -> None:

        if not self.snrs_db:
            raise ValueError("--snr: expected at least one SNR")
        bad = [c for c in self.channels if c not in CHANNELS or c == "none"]
        if bad or not self.channels:
            raise ValueError(f"--channel must be a comma-separated list of awgn, rayleigh; got {','.join(self.channels)!r}")
        if self.csi not in CSI_MODES:
            raise ValueError(f"--csi must be one of {', '.join(CSI_MODES)}; got {self.csi!r}")
        if self.linear_block not in (0, *BLOCKS_PX):
            raise ValueError(f"--linear-block must be one of {BLOCKS_PX} (a shipped basis) or 0 (none), got {self.linear_block}")
        if self.bits_per_value < 1:
            raise ValueError(f"--bits-per-value must be >= 1, got {self.bits_per_value}")


def mse_u8(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error of two uint8 images (0–255 scale)."""
    d = a.astype(np.float64) - b.astype(np.float64)
    return float(np.mean(d * d))


def psnr_from_mse_u8(mse: float) -> float:
    """10 · log10(255² / MSE); inf for identical images."""
    return float("inf") if mse <= 0 else 10.0 * math.log10(255.0**2 / mse)


def level_k_over_n(n_active: int) -> float:
    """k/n of ``n_active`` channels on the H/4 × W/4 latent grid: n / (16 · 2 · 3)."""
    return n_active / 96.0


def _linear_psnr(img: np.ndarray, basis: Any, n_active: int, snr: float, channel: str, seed: int, s: EvalSettings) -> float:

    lin = linear_transmit(img, basis, level_k_over_n(n_active), None if channel == "none" else snr,
                          channel="awgn" if channel == "none" else channel, seed=seed, csi=s.csi)  # fmt: skip
    return psnr_from_mse_u8(mse_u8(img, lin.image))


def _row(model: Any, name: str, img: np.ndarray, snr: float, channel: str, level: int | None,
         seed: int, s: EvalSettings, basis: Any = None) -> dict[str, Any]:  # fmt: skip
    """Transmit one image once and measure it (and the linear anchor, with a ``basis``)."""

    res = transmit(model, img, snr, channel=channel, seed=seed, bits_per_value=s.bits_per_value,
                   csi=s.csi, n_active=level)  # fmt: skip
    mse = mse_u8(img, res.image)
    row: dict[str, Any] = {
        "kind": "policy" if level is None else "level", "level": level, "image": name,
        "channel": channel, "snr_db": float(snr), "psnr_db": psnr_from_mse_u8(mse), "mse": mse,
        "rate": res.rate, "n_active": res.n_active_channels, "cbr": res.cbr,
        "n_channel_uses": res.n_channel_uses, "payload_bits": res.payload_bits,
    }  # fmt: skip
    if basis is not None:
        row["linear_psnr_db"] = _linear_psnr(img, basis, res.n_active_channels, snr, channel, seed, s)
    if level is None and channel != "none" and s.quality_metrics:
        from bssim.metrics import ms_ssim, ssim

        row["ssim"], row["ms_ssim"] = ssim(img, res.image), ms_ssim(img, res.image)
    return row


def _with_baseline(row: dict[str, Any], img: np.ndarray, s: EvalSettings, j: int, i: int) -> dict[str, Any]:
    gain = 1.0
    if row["channel"] == "rayleigh":
        g = np.random.default_rng([s.seed, j, i])
        gain = float(np.abs((g.normal() + 1j * g.normal()) / math.sqrt(2.0)) ** 2)
    row["fading_gain"] = gain
    row.update(separation_baseline(img, capacity_bits(row["n_channel_uses"], row["snr_db"], gain)))
    if s.practical_baseline:
        from bssim.baselines.practical import practical_baseline

        row.update(practical_baseline(img, int(row["n_channel_uses"]), row["snr_db"], gain, seed=s.seed + 1000 * j + i))
    return row


def plan(model: Any, s: EvalSettings) -> list[tuple[str, float, int, int | None]]:
    """(channel, snr_db, snr index, level or None) of every transmission per image."""
    levels: list[int | None] = [None] + (list(model.rate_levels) if s.levels else [])
    runs = [(ch, float(snr), j, lv) for ch in s.channels for j, snr in enumerate(s.snrs_db) for lv in levels]
    if s.noiseless:
        runs += [("none", float(model.cfg.snr_max_db), 0, lv) for lv in levels]
    return runs


def evaluate(
    images: str | Path, s: EvalSettings, checkpoint: str | Path | None = None, precision: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Evaluate every image of a folder → (summary rows, per-image rows)."""

    files = list_images(images)[: s.limit or None]
    model = load_model(checkpoint, precision=precision)
    imgs = [(f.name, read_image(f, allow_grey=True)) for f in files]
    runs = plan(model, s)
    basis = default_linear_basis(s.linear_block) if s.linear_block else None
    rows: list[dict[str, Any]] = []
    for n, (channel, snr, j, level) in enumerate(runs):
        for i, (name, img) in enumerate(imgs):
            row = _row(model, name, img, snr, channel, level, s.seed + 1000 * j + i, s, basis)
            if s.baseline and level is None and channel != "none":
                row = _with_baseline(row, img, s, j, i)
            rows.append(row)
        if progress is not None:
            progress(n + 1, len(runs))
    return summarize(rows, model.model_version), rows


def _mean(rs: list[dict[str, Any]], key: str) -> float:
    vals = [r[key] for r in rs if key in r]
    return float(np.mean(vals)) if vals else float("nan")


def _summary_row(rs: list[dict[str, Any]], model_version: str) -> dict[str, Any]:
    r0 = rs[0]
    out: dict[str, Any] = {"kind": r0["kind"], "channel": r0["channel"], "snr_db": r0["snr_db"],
                           "level": r0["level"], "n_images": len(rs)}  # fmt: skip
    for k in SUMMARY_KEYS:
        out[k] = _mean(rs, k)
    out["psnr_mean_mse_db"] = psnr_from_mse_u8(_mean(rs, "mse"))
    if "linear_psnr_db" in r0:
        out["linear_psnr_db"] = _mean(rs, "linear_psnr_db")
        out["gain_over_linear_db"] = out["psnr_db"] - out["linear_psnr_db"]
    out["rate_min"] = float(min(r["rate"] for r in rs))
    out["rate_max"] = float(max(r["rate"] for r in rs))
    out["levels_used"] = len({r["n_active"] for r in rs})
    out["mean_active_channels"] = _mean(rs, "n_active")
    if "baseline_psnr_db" in r0:
        out["baseline_psnr_db"] = _mean(rs, "baseline_psnr_db")
        out["baseline_codec"] = Counter(r["baseline_codec"] for r in rs).most_common(1)[0][0]
        for c in CODECS:
            vals = [r[f"{c}_psnr_db"] for r in rs]
            out[f"{c}_psnr_db"] = float(np.mean(vals)) if not any(math.isnan(v) for v in vals) else float("nan")
        out["gain_db"] = out["psnr_db"] - out["baseline_psnr_db"]
    if "practical_baseline_psnr_db" in r0:
        out["practical_baseline_psnr_db"] = _mean(rs, "practical_baseline_psnr_db")
        for key in ("practical_baseline_codec", "practical_baseline_mcs"):
            out[key] = Counter(r[key] for r in rs).most_common(1)[0][0]
        out["practical_baseline_delivered"] = _mean(rs, "practical_baseline_crc_ok")
    out["model_version"] = model_version
    return out


def summarize(rows: list[dict[str, Any]], model_version: str) -> list[dict[str, Any]]:
    """Means over images per (kind, channel, SNR, level), in the order first seen."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["kind"], r["channel"], r["snr_db"], r["level"]), []).append(r)
    return [_summary_row(rs, model_version) for rs in groups.values()]
