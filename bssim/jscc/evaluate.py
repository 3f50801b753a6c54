"""Evaluation of the deep JSCC against the separation baseline (``bssim jscc eval``).

For every image and SNR the model transmits the full image (:func:`bssim.jscc.transmit`);
PSNR, SSIM and MS-SSIM come from :mod:`bssim.metrics`. The rate is the share of the C'_c
channels the policy kept and cbr = k / n the bandwidth ratio (k complex channel uses,
n = H·W·3 source values).

Separation baseline at the same bandwidth ratio: an ideal capacity-achieving channel code
delivers B = k · log2(1 + SNR) bits over the k channel uses the JSCC used for that image
(Shannon). Each of JPEG (Pillow, quality 1–95), WebP (Pillow, quality 0–100) and JPEG 2000
(Pillow/OpenJPEG, 9/7 wavelet, rate-controlled) is run at the largest quality whose file fits
in B bits; the baseline is the best PSNR of the three. When no file of any codec fits (not
even its header), nothing decodable arrives and the receiver shows the image's mean colour
(charitably assumed known). For Rayleigh fading the budget uses the realised fading gain,
B = k · log2(1 + |h|²·SNR) with h ~ CN(0, 1) drawn per image from ``seed`` (a genie-aided
bound: an actual system without transmitter CSI would face outage).
"""

from __future__ import annotations

import io
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from bssim.atomic import atomic_path
from bssim.metrics import ms_ssim, psnr_db, ssim


def _ms_ssim_or_nan(a: np.ndarray, b: np.ndarray) -> float:
    """MS-SSIM, or nan where the image is too small for it (pytorch-msssim needs > 160 px)."""
    try:
        return ms_ssim(a, b)
    except (AssertionError, ValueError):
        return float("nan")

CODECS = ("jpeg", "webp", "jpeg2000")


def capacity_bits(k: int, snr_db: float, gain: float = 1.0) -> int:
    """⌊k · log2(1 + gain · 10^(snr_db/10))⌋ bits: what an ideal code delivers over k uses."""
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    return int(math.floor(k * math.log2(1.0 + gain * 10.0 ** (snr_db / 10.0))))


def _encode(img: np.ndarray, codec: str, q: float) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    im = Image.fromarray(img)
    if codec == "jpeg":
        im.save(buf, format="JPEG", quality=int(q), optimize=True)
    elif codec == "webp":
        im.save(buf, format="WEBP", quality=int(q), method=4)
    elif codec == "jpeg2000":
        # q is the compression ratio (larger = smaller file); irreversible 9/7 wavelet
        im.save(buf, format="JPEG2000", quality_mode="rates", quality_layers=[float(q)], irreversible=True, mct=1)
    else:
        raise ValueError(f"codec must be one of {CODECS}, got {codec!r}")
    return buf.getvalue()


def _decode(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def best_fitting(img: np.ndarray, codec: str, budget_bits: int) -> tuple[np.ndarray | None, float | None, int]:
    """(decoded image, quality setting, size in bits) at the largest quality that fits, or (None, None, 0)."""
    budget_bytes = budget_bits // 8
    if budget_bytes <= 0:
        return None, None, 0
    if codec in ("jpeg", "webp"):
        lo, hi = (1, 95) if codec == "jpeg" else (0, 100)
        best: tuple[bytes, int] | None = None
        a, b = lo, hi
        while a <= b:  # size is monotone in quality for both codecs (checked: binary search)
            mid = (a + b) // 2
            data = _encode(img, codec, mid)
            if len(data) <= budget_bytes:
                best = (data, mid)
                a = mid + 1
            else:
                b = mid - 1
        if best is None:
            return None, None, 0
        return _decode(best[0]), float(best[1]), 8 * len(best[0])
    # JPEG 2000: start at the ratio that targets the budget, raise it until the file fits
    raw = img.size  # bytes of the 8-bit RGB image
    ratio = max(1.0, raw / budget_bytes)
    for _ in range(40):
        data = _encode(img, codec, ratio)
        if len(data) <= budget_bytes:
            return _decode(data), ratio, 8 * len(data)
        ratio *= 1.05
        if ratio > 1e6:
            break
    return None, None, 0


def separation_baseline(img: np.ndarray, budget_bits: int) -> dict[str, Any]:
    """Best of JPEG / WebP / JPEG 2000 within ``budget_bits``; mean colour when none fits."""
    row: dict[str, Any] = {"budget_bits": int(budget_bits)}
    best_psnr, best_codec = -1.0, "none"
    for codec in CODECS:
        dec, q, nbits = best_fitting(img, codec, budget_bits)
        p = psnr_db(img, dec) if dec is not None else float("nan")
        row[f"{codec}_psnr_db"] = p
        row[f"{codec}_quality"] = q
        row[f"{codec}_bits"] = nbits
        if dec is not None and p > best_psnr:
            best_psnr, best_codec = p, codec
    if best_codec == "none":
        mean = np.broadcast_to(img.reshape(-1, 3).mean(axis=0).round().astype(np.uint8), img.shape)
        best_psnr = psnr_db(img, np.ascontiguousarray(mean))
    row["baseline_psnr_db"] = best_psnr
    row["baseline_codec"] = best_codec
    return row


def evaluate(
    images: str | Path,
    snrs_db: list[float],
    *,
    channel: str = "awgn",
    csi: str = "estimated",
    checkpoint: str | Path | None = None,
    seed: int = 0,
    bits_per_value: int = 8,
    limit: int = 0,
    baseline: bool = True,
    progress: bool = True,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Evaluate on every image of a folder at each SNR → (summary per SNR, rows per image×SNR).

    Image i at SNR index j uses channel seed ``seed + 1000·j + i``.
    """
    from bssim.jscc import load_model, transmit
    from bssim.jscc.data import list_images, read_rgb

    files = list_images(images)
    if limit > 0:
        files = files[:limit]
    model = load_model(checkpoint)
    imgs = [(f.name, read_rgb(f)) for f in files]
    rows: list[dict[str, Any]] = []
    total = len(snrs_db) * len(imgs)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="jscc eval", unit="img", dynamic_ncols=True)
    for j, snr in enumerate(snrs_db):
        for i, (name, img) in enumerate(imgs):
            s = seed + 1000 * j + i
            res = transmit(model, img, snr, channel=channel, seed=s, bits_per_value=bits_per_value, csi=csi)
            row: dict[str, Any] = {
                "image": name,
                "snr_db": float(snr),
                "channel": channel,
                "psnr_db": psnr_db(img, res.image),
                "ssim": ssim(img, res.image),
                "ms_ssim": _ms_ssim_or_nan(img, res.image),
                "rate": res.rate,
                "cbr": res.cbr,
                "n_channel_uses": res.n_channel_uses,
                "payload_bits": res.payload_bits,
            }
            if baseline:
                gain = 1.0
                if channel == "rayleigh":
                    g = np.random.default_rng([seed, j, i])
                    gain = float(np.abs((g.normal() + 1j * g.normal()) / math.sqrt(2.0)) ** 2)
                row["fading_gain"] = gain
                row.update(separation_baseline(img, capacity_bits(res.n_channel_uses, snr, gain)))
            rows.append(row)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return summarize(rows, model.model_version, baseline), rows


def summarize(rows: list[dict[str, Any]], model_version: str, baseline: bool = True) -> list[dict[str, Any]]:
    """Means over images per SNR; ``baseline_codec`` is the codec that won most images."""
    out = []
    for snr in sorted({r["snr_db"] for r in rows}):
        rs = [r for r in rows if r["snr_db"] == snr]
        s: dict[str, Any] = {"snr_db": snr, "channel": rs[0]["channel"], "n_images": len(rs)}
        for k in ("psnr_db", "ssim", "ms_ssim", "rate", "cbr"):
            s[k] = float(np.mean([r[k] for r in rs]))
        if baseline:
            s["baseline_psnr_db"] = float(np.mean([r["baseline_psnr_db"] for r in rs]))
            s["baseline_codec"] = Counter(r["baseline_codec"] for r in rs).most_common(1)[0][0]
            for c in CODECS:
                vals = [r[f"{c}_psnr_db"] for r in rs]
                s[f"{c}_psnr_db"] = float(np.mean(vals)) if not any(math.isnan(v) for v in vals) else float("nan")
            s["gain_db"] = s["psnr_db"] - s["baseline_psnr_db"]
        s["model_version"] = model_version
        out.append(s)
    return out


def format_table(summary: list[dict[str, Any]]) -> str:
    """Plain-text table of the summary."""
    head = f"{'SNR dB':>7} {'PSNR':>7} {'SSIM':>6} {'MS-SSIM':>7} {'rate':>5} {'k/n':>7} | {'base PSNR':>9} {'codec':>8} {'JPEG':>6} {'WebP':>6} {'JP2':>6} | {'gain':>6}"
    lines = [head, "-" * len(head)]
    for s in summary:
        line = f"{s['snr_db']:7.1f} {s['psnr_db']:7.2f} {s['ssim']:6.3f} {s['ms_ssim']:7.3f} {s['rate']:5.2f} {s['cbr']:7.4f} |"
        if "baseline_psnr_db" in s:
            line += (
                f" {s['baseline_psnr_db']:9.2f} {s['baseline_codec']:>8} {s['jpeg_psnr_db']:6.2f}"
                f" {s['webp_psnr_db']:6.2f} {s['jpeg2000_psnr_db']:6.2f} | {s['gain_db']:+6.2f}"
            )
        lines.append(line)
    if summary:
        lines.append(f"model {summary[0]['model_version']}, channel {summary[0]['channel']}, {summary[0]['n_images']} images (PSNR in dB; nan = no file fits)")
    return "\n".join(lines)


def _atomic_write(path: Path, write) -> None:  # noqa: ANN001
    with atomic_path(path) as tmp:
        write(str(tmp))


def write_outputs(summary: list[dict[str, Any]], rows: list[dict[str, Any]], out: str | Path) -> None:
    """summary.csv/.parquet, per_image.csv/.parquet, table.txt and psnr_vs_snr.png in ``out``."""
    import pandas as pd

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sdf, rdf = pd.DataFrame(summary), pd.DataFrame(rows)
    for name, df in (("summary", sdf), ("per_image", rdf)):
        _atomic_write(out / f"{name}.csv", lambda p, df=df: df.to_csv(p, index=False))
        _atomic_write(out / f"{name}.parquet", lambda p, df=df: df.to_parquet(p, index=False))
    _atomic_write(out / "table.txt", lambda p: Path(p).write_text(format_table(summary) + "\n"))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    ax.plot(sdf["snr_db"], sdf["psnr_db"], "o-", lw=2, label="deep JSCC (this model)")
    if "baseline_psnr_db" in sdf:
        ax.plot(sdf["snr_db"], sdf["baseline_psnr_db"], "s--", lw=2, label="separation: best codec + capacity")
        for c, m in zip(CODECS, ("v:", "^:", "d:")):
            ax.plot(sdf["snr_db"], sdf[f"{c}_psnr_db"], m, alpha=0.6, label=f"{c} + capacity")
    ax.set_xlabel("channel SNR (dB)")
    ax.set_ylabel("PSNR (dB)")
    ch = summary[0]["channel"] if summary else ""
    cbr = float(sdf["cbr"].mean()) if len(sdf) else float("nan")
    ax.set_title(f"{ch.upper()}, mean k/n = {cbr:.4f}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _atomic_write(out / "psnr_vs_snr.png", lambda p: fig.savefig(p, dpi=120, format="png"))
    plt.close(fig)
