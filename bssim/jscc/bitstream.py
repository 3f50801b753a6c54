"""A real bitstream for JSCC latents: uniform quantisation + entropy coding (``constriction``).

The ``shannon`` link model (DESIGN.md section 2) delivers *bits*; this module turns the
JSCC's active latent channels into a byte string and back, and its length is what bssim
counts. Nothing is estimated: the count is ``8 · len(encode_latents(...))``.

Layout (all big-endian)::

    header   C (u8), h (u16), w (u16), b (u8)                         6 bytes
    per ch.  lo, hi (float16), family (u8: 0 Gaussian, 1 Laplace),
             mean, scale (float16, in quantisation steps)             9 bytes each
    payload  range-coded symbols (constriction ``RangeEncoder``, 32-bit words)

Quantisation of channel c with range [lo_c, hi_c] (the channel's min and max, rounded to
float16) and L = 2^b levels: step Δ_c = (hi_c − lo_c)/(L − 1), symbol i = round((y − lo_c)/Δ_c)
∈ {0, …, L−1}, reconstruction ŷ = lo_c + i·Δ_c; |y − ŷ| ≤ Δ_c/2.

Entropy model per channel: a Gaussian or Laplace distribution quantised to the integer
symbols (``constriction.stream.model.QuantizedGaussian`` / ``QuantizedLaplace``), with mean
and scale fitted to the channel's symbols and stored in the header (so the model's cost is
counted); the family with fewer coded bits is kept. The decoder rebuilds the same models
from the header, so decoding reproduces the encoder's symbols exactly.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

HEADER = struct.Struct(">BHHB")
CHANNEL = struct.Struct(">eeBee")
FAMILIES = ("gaussian", "laplace")
MIN_SCALE = 0.05  # in quantisation steps: keeps every model strictly positive (float16-exact)


@dataclass(frozen=True)
class Quantised:
    """Integer symbols (C, h, w) in [0, 2^b) and each channel's float16 range."""

    symbols: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    bits_per_value: int

    def dequantise(self) -> np.ndarray:
        """ŷ = lo + i·Δ, Δ = (hi − lo)/(2^b − 1), float32 (C, h, w)."""
        step = _steps(self.lo, self.hi, self.bits_per_value)
        return (self.lo[:, None, None] + self.symbols * step[:, None, None]).astype(np.float32)


def _steps(lo: np.ndarray, hi: np.ndarray, bits_per_value: int) -> np.ndarray:
    levels = (1 << bits_per_value) - 1
    return np.where(hi > lo, (hi.astype(np.float64) - lo) / levels, 1.0)


def _check_bits(bits_per_value: int) -> int:
    if isinstance(bits_per_value, bool) or int(bits_per_value) != bits_per_value or not 1 <= bits_per_value <= 12:
        raise ValueError(f"bits_per_value = {bits_per_value!r}: must be an integer in 1..12")
    return int(bits_per_value)


def quantise(values: np.ndarray, bits_per_value: int) -> Quantised:
    """Uniform quantisation of each channel of ``values`` (C, h, w) over its own [min, max]."""
    b = _check_bits(bits_per_value)
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 3 or 0 in y.shape:
        raise ValueError(f"latent values must be a non-empty (C, h, w) array, got shape {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError("latent values must be finite")
    if y.shape[0] > 255 or max(y.shape[1:]) > 65535:
        raise ValueError(f"latent shape {y.shape} exceeds the header's limits (C <= 255, h, w <= 65535)")
    flat = y.reshape(y.shape[0], -1)
    # float16 range, widened outward so that every value stays inside it
    lo = flat.min(axis=1).astype(np.float16)
    hi = flat.max(axis=1).astype(np.float16)
    lo = np.where(lo.astype(np.float64) > flat.min(axis=1), np.nextafter(lo, np.float16(-np.inf)), lo)
    hi = np.where(hi.astype(np.float64) < flat.max(axis=1), np.nextafter(hi, np.float16(np.inf)), hi)
    step = _steps(lo, hi, b)
    sym = np.rint((y - lo.astype(np.float64)[:, None, None]) / step[:, None, None])
    sym = np.clip(sym, 0, (1 << b) - 1).astype(np.int32)
    return Quantised(sym, lo, hi, b)


def _fit(symbols: np.ndarray, family: str) -> tuple[np.float16, np.float16]:
    """Mean and scale (float16) of a channel's symbols: Gaussian (mean, std) or Laplace (median, mean |dev|)."""
    s = symbols.astype(np.float64)
    if family == "gaussian":
        mean, scale = s.mean(), s.std()
    else:
        mean = np.median(s)
        scale = np.abs(s - mean).mean()
    return np.float16(mean), np.float16(max(scale, MIN_SCALE))


def _model(family: str, levels: int):
    import constriction

    cls = constriction.stream.model.QuantizedGaussian if family == "gaussian" else constriction.stream.model.QuantizedLaplace
    return cls(0, levels - 1)


def _code_channel(symbols: np.ndarray, family: str, mean, scale, levels: int) -> np.ndarray:
    import constriction

    enc = constriction.stream.queue.RangeEncoder()
    n = symbols.size
    enc.encode(symbols.ravel(), _model(family, levels),
               np.full(n, float(mean), np.float64), np.full(n, float(scale), np.float64))
    return enc.get_compressed()


def encode_latents(values: np.ndarray, bits_per_value: int = 6) -> bytes:
    """Quantise and entropy-code latents (C, h, w); returns the whole bitstream (see module doc)."""
    q = quantise(values, bits_per_value)
    c, h, w = q.symbols.shape
    levels = 1 << q.bits_per_value
    parts = [HEADER.pack(c, h, w, q.bits_per_value)]
    words = []
    for ch in range(c):
        best = None
        for fam_id, family in enumerate(FAMILIES):
            mean, scale = _fit(q.symbols[ch], family)
            coded = _code_channel(q.symbols[ch], family, mean, scale, levels)
            if best is None or coded.size < best[0].size:
                best = (coded, fam_id, mean, scale)
        coded, fam_id, mean, scale = best
        parts.append(CHANNEL.pack(q.lo[ch], q.hi[ch], fam_id, mean, scale))
        words.append(coded)
    lengths = struct.pack(f">{c}I", *[wd.size for wd in words])
    payload = b"".join(wd.astype(">u4").tobytes() for wd in words)
    return b"".join(parts) + lengths + payload


def decode_latents(data: bytes) -> np.ndarray:
    """Inverse of :func:`encode_latents`: the dequantised latents ŷ (C, h, w), float32."""
    import constriction

    try:
        c, h, w, b = HEADER.unpack_from(data, 0)
        off = HEADER.size
        chans = [CHANNEL.unpack_from(data, off + i * CHANNEL.size) for i in range(c)]
        off += c * CHANNEL.size
        lengths = struct.unpack_from(f">{c}I", data, off)
        off += 4 * c
    except struct.error as exc:
        raise ValueError(f"truncated JSCC bitstream ({len(data)} bytes): {exc}") from None
    levels = 1 << b
    sym = np.empty((c, h, w), dtype=np.int32)
    for ch, (lo, hi, fam_id, mean, scale) in enumerate(chans):
        n_bytes = 4 * lengths[ch]
        words = np.frombuffer(data[off : off + n_bytes], dtype=">u4").astype(np.uint32)
        off += n_bytes
        dec = constriction.stream.queue.RangeDecoder(words)
        n = h * w
        sym[ch] = dec.decode(_model(FAMILIES[fam_id], levels), np.full(n, float(mean)), np.full(n, float(scale))).reshape(h, w)
    lo = np.array([ch[0] for ch in chans], dtype=np.float16)
    hi = np.array([ch[1] for ch in chans], dtype=np.float16)
    return Quantised(sym, lo, hi, b).dequantise()


def empirical_entropy_bits(symbols: np.ndarray) -> float:
    """Σ over channels of n_c · H(empirical distribution of channel c's symbols), in bits:
    the zeroth-order bound a per-channel i.i.d. coder cannot beat (model cost excluded)."""
    total = 0.0
    for ch in np.asarray(symbols):
        _, counts = np.unique(ch, return_counts=True)
        p = counts / counts.sum()
        total += float(-(counts * np.log2(p)).sum())
    return total
