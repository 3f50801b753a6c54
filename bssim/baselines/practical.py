"""Practical separation baseline: an image codec over 5G LDPC + QAM, simulated on the real bits.

For one image sent over k channel uses (the JSCC's own k) at SNR γ:

1. link adaptation: of the PDSCH MCS (TS 38.214 table 1), the one with the largest transport
   block TBS_m over k QAM symbols (Q_m·k coded bits, ``bssim.nr.phy.mcs_grid_for_symbols``)
   whose threshold SINR (TBLER ≤ 10 % in Sionna's tables) is ≤ γ and which Sionna's
   encoder supports (no BG1 below rate 1/3); none → nothing is sent;
2. source coding: JPEG 2000 (OpenCV), WebP and AVIF (Pillow) each at the largest quality
   whose file fits in TBS_m bits; the transmitter keeps the best PSNR (it knows the image);
3. transport: the file, zero-padded to TBS_m, through Sionna's TBEncoder → QAM → y = h·x + n
   → TBDecoder (``bssim.nr.coded.send_transport_block``); a failed TB CRC (or nothing sent)
   gives the receiver the mean image (a flat image of the image's mean colour, as the ideal
   baseline does): the cliff. The file length is assumed known (control channel).

The link adapts to the mean SNR γ (no transmitter CSI); over Rayleigh block fading the
realised |h|² decides the CRC, so deep fades fall off the cliff.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from bssim.metrics import psnr_db
from bssim.nr.coded import transport_block_encoder
from bssim.nr.coded import send_transport_block
from bssim.nr.phy import mcs_grid_for_symbols
from bssim.metrics import ssim

CODECS = ("jpeg2000", "webp", "avif")
#: Link adaptation's BLER target.
BLER_TARGET = 0.1


def jpeg2000_rate_x1000(quality: int) -> int:
    """OpenCV's JPEG 2000 rate parameter for a quality 1..100: ⌈q²/10⌉ (1..1000)."""
    return max(1, -(-int(quality) ** 2 // 10))


def encode(img: np.ndarray, codec: str, quality: int) -> bytes:
    """``img`` (H, W, 3 RGB uint8) as a ``codec`` file at ``quality`` (larger = better, bigger)."""
    if codec == "jpeg2000":
        import cv2

        # OpenCV's JPEG 2000 (OpenJPEG): "compression x1000" in 1..1000 is the rate as a
        # thousandth of 24 bpp; here ⌈quality²/10⌉, so that quality 10 / 30 / 50 / 100 give about
        # 0.24 / 2.2 / 6 bpp / lossless (the low rates, where the other codecs work, finely stepped)
        ok, buf = cv2.imencode(".jp2", np.ascontiguousarray(img[:, :, ::-1]),
                               [cv2.IMWRITE_JPEG2000_COMPRESSION_X1000, jpeg2000_rate_x1000(quality)])
        if not ok:
            raise RuntimeError("OpenCV could not encode JPEG 2000")
        return buf.tobytes()
    from PIL import Image

    out = io.BytesIO()
    if codec == "webp":
        Image.fromarray(img).save(out, format="WEBP", quality=int(quality), method=4)
    elif codec == "avif":
        Image.fromarray(img).save(out, format="AVIF", quality=int(quality))
    else:
        raise ValueError(f"codec = {codec!r}: must be one of {', '.join(CODECS)}")
    return out.getvalue()


def decode(data: bytes, codec: str) -> np.ndarray | None:
    """The RGB image of a ``codec`` file, or None if it does not decode."""
    try:
        if codec == "jpeg2000":
            import cv2

            im = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            return None if im is None else np.ascontiguousarray(im[:, :, ::-1])
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except Exception:  # a corrupted file is a lost image, whatever the decoder says
        return None


def largest_fitting(img: np.ndarray, codec: str, budget_bits: int) -> tuple[bytes, int] | None:
    """(file, quality) at the largest quality 1..100 whose file fits ``budget_bits`` (binary search)."""
    lo, hi, best = 1, 100, None
    while lo <= hi:
        mid = (lo + hi) // 2
        data = encode(img, codec, mid)
        if 8 * len(data) <= budget_bits:
            best, lo = (data, mid), mid + 1
        else:
            hi = mid - 1
    return best


def _bits(data: bytes, tb_size: int) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(data, np.uint8))
    return np.concatenate([bits, np.zeros(tb_size - bits.size, np.uint8)])


def _mean_image(img: np.ndarray) -> np.ndarray:
    colour = img.reshape(-1, 3).mean(axis=0).round().astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(colour, img.shape))


def adapt(g, n_symbols: int, snr_db: float) -> int:
    """Index into ``g`` of the largest-TBS MCS with threshold ≤ ``snr_db`` that Sionna's
    TBEncoder can build (it lacks BG1 below rate 1/3: such an MCS is skipped); −1 if none."""

    usable = np.flatnonzero(g.threshold_sinr_db <= snr_db)
    for j in usable[np.argsort(-g.tbs_bits[usable], kind="stable")]:
        try:
            transport_block_encoder(int(g.tbs_bits[j]), int(g.modulation_order[j]) * n_symbols,
                                    float(g.coderate[j]), int(g.modulation_order[j]))
        except ValueError:
            continue
        return int(j)
    return -1


def practical_baseline(img: np.ndarray, n_symbols: int, snr_db: float, fading_gain: float = 1.0,
                       seed: int = 0) -> dict[str, Any]:  # fmt: skip
    """Columns ``practical_baseline_psnr_db``, ``_codec``, ``_mcs``, ``_quality``, ``_bits``, ``_crc_ok``."""
    return practical_transmit(img, n_symbols, snr_db, fading_gain, seed)[0]


def practical_transmit(img: np.ndarray, n_symbols: int, snr_db: float, fading_gain: float = 1.0,
                       seed: int = 0) -> tuple[dict[str, Any], np.ndarray | None]:  # fmt: skip
    """(the columns of :func:`practical_baseline`, the decoded image or None when nothing
    arrived); with None the row's PSNR is that of the mean image (the cliff)."""

    row: dict[str, Any] = {"practical_baseline_codec": "none", "practical_baseline_mcs": -1,
                           "practical_baseline_quality": np.nan, "practical_baseline_bits": 0,
                           "practical_baseline_crc_ok": False}  # fmt: skip
    g = mcs_grid_for_symbols(int(n_symbols), 1, BLER_TARGET)
    j = adapt(g, int(n_symbols), snr_db)
    best = None
    if j >= 0:
        for codec in CODECS:
            fit = largest_fitting(img, codec, int(g.tbs_bits[j]))
            if fit is not None:
                p = psnr_db(img, decode(fit[0], codec))
                if best is None or p > best[0]:
                    best = (p, codec, fit)
    received = None
    if best is not None:
        _, codec, (data, q) = best
        tb = int(g.tbs_bits[j])
        res = send_transport_block(_bits(data, tb), int(g.modulation_order[j]) * int(n_symbols),
                                   float(g.coderate[j]), int(g.modulation_order[j]), snr_db, fading_gain, seed)
        row.update(practical_baseline_codec=codec, practical_baseline_mcs=int(g.mcs[j]),
                   practical_baseline_quality=q, practical_baseline_bits=8 * len(data),
                   practical_baseline_crc_ok=res.crc_ok)
        if res.crc_ok:
            got = decode(np.packbits(res.bits[: 8 * len(data)]).tobytes(), codec)
            received = got if got is not None and got.shape == img.shape else None
    row["practical_baseline_psnr_db"] = psnr_db(img, _mean_image(img) if received is None else received)
    return row, received


def practical_sequence(frames: dict[int, np.ndarray], n_symbols: dict[int, int], snr_db: float,
                       video: bool, seed: int = 0, fading_gains: list[float] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The practical baseline over a sequence at one mean SNR: one row per frame (in order).

    ``fading_gains``: |h|² per frame (block fading; default 1 = AWGN). What the receiver shows
    when a transport block fails (the cliff): for a video the last frame it decoded
    (``fallback = "previous_frame"``; the mean image before any), for images the mean image.
    PSNR and SSIM are against the frame that was sent."""

    rows, shown = [], None
    gains = list(fading_gains) if fading_gains is not None else [1.0] * len(frames)
    if len(gains) != len(frames):
        raise ValueError(f"fading_gains: {len(gains)} values for {len(frames)} frames")
    for i, (frame_id, img) in enumerate(frames.items()):
        row, got = practical_transmit(img, n_symbols[frame_id], snr_db, gains[i], seed=seed + i)
        fallback = "none"
        if got is None:
            usable = video and shown is not None and shown.shape == img.shape
            got, fallback = (shown, "previous_frame") if usable else (_mean_image(img), "mean_image")
        shown = got if fallback == "none" else shown
        row.update(frame=frame_id, snr_db=float(snr_db), n_symbols=int(n_symbols[frame_id]),
                   practical_baseline_fallback=fallback, practical_baseline_psnr_db=psnr_db(img, got),
                   practical_baseline_ssim=ssim(img, got))
        rows.append(row)
    return rows
