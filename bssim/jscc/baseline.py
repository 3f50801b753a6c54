"""Ideal separation baseline: the best image codec whose file fits the channel's capacity.

An ideal capacity-achieving channel code delivers B = k · log2(1 + SNR) bits over the k
channel uses the JSCC used for that image (Shannon). Each of JPEG (Pillow, quality 1–95),
WebP (Pillow, quality 0–100) and JPEG 2000 (Pillow/OpenJPEG, 9/7 wavelet, rate-controlled)
is run at the largest quality whose file fits in B bits; the baseline is the best PSNR of
the three. When no file of any codec fits (not even its header), nothing decodable arrives
and the receiver shows the image's mean colour (charitably assumed known). For Rayleigh
fading the budget uses the realised fading gain, B = k · log2(1 + |h|²·SNR) (a genie-aided
bound: an actual system without transmitter CSI would face outage).
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np

from bssim.metrics import psnr_db

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
