"""The ``seb`` scheme: seed 001's explicit semantic base (Seb).

The transmitter and the receiver share the Seb codebooks (:mod:`.seb_codebook`, one per
granularity p×p patches, K Sebs). Per frame (scaled as every scheme's rate level is) and
granularity::

    indices  = nearest Seb of each patch's learned features          (N,) in 0..K−1
    ref      = the Sebs' reference patches, tiled                    (H, W, 3) uint8
    residual = clip(x − ref + 128, 0, 255)   (offset 128, gain 1; |x − ref| > 127 clips)
    codec    ─ residual ─> decoded residual r̂
    x̂        = clip(ref + r̂ − 128, 0, 255)

Bits: the index stream (:func:`encode_indices`: 40-bit header — height, width, granularity
— and the indices range-coded with constriction under the codebook's shared usage
distribution; its real length is counted) + the codec's cost of the residual (+ the 32 bits
of direct's frame size are inside the header). On an analog codec the index stream is side
information (:func:`bssim.schemes.base.side_cost`).

Rate levels: granularity × the codec's setting, labelled ``p16k256+q30`` (granularity, then
the codec's own label). Diagnostics: ``seb_bits`` (the index stream), ``seb_psnr_db`` (the
reference alone) and ``clip_fraction`` (residual values clipped by the uint8 mapping).
"""

from __future__ import annotations

import hashlib

import struct
from collections.abc import Sequence
from functools import lru_cache

import constriction
import numpy as np

from bssim.codecs.base import CodeJob, Codec, RateSetting
from bssim.metrics import psnr_db
from bssim.pipeline.resolution import upscale
from bssim.schemes.base import Frame, Scheme, SchemeOption, job_for, register_scheme, scale_groups, side_cost
from bssim.schemes.seb_codebook import SebCodebook, shipped_codebooks

HEADER = struct.Struct(">HHB")  # height, width, granularity index: 40 bits
OFFSET = 128  # the residual's uint8 offset (gain 1)


@lru_cache(maxsize=1)
def codebooks() -> tuple[SebCodebook, ...]:
    """The shipped codebooks, loaded once per process (an error when none is shipped)."""
    books = tuple(shipped_codebooks())
    if not books:
        raise FileNotFoundError("no Seb codebook in bssim/schemes/data: run `bssim seeds fit-seb` (docs/seeds.md)")
    return books


def _model(cb: SebCodebook):
    probs = cb.usage.astype(np.float64) / cb.usage.sum()
    return constriction.stream.model.Categorical(probs, perfect=False)


def encode_indices(cb: SebCodebook, indices: np.ndarray, hw: tuple[int, int], granularity: int) -> bytes:
    """Header + range-coded indices (module docstring)."""
    enc = constriction.stream.queue.RangeEncoder()
    enc.encode(indices.astype(np.int32), _model(cb))
    return HEADER.pack(hw[0], hw[1], granularity) + enc.get_compressed().astype(">u4").tobytes()


def decode_indices(cb: SebCodebook, data: bytes) -> tuple[np.ndarray, tuple[int, int]]:
    """Inverse of :func:`encode_indices`: (indices, (H, W))."""
    h, w, _ = HEADER.unpack_from(data, 0)
    p = cb.patch_px
    n = (-(-h // p)) * (-(-w // p))
    words = np.frombuffer(data[HEADER.size:], dtype=">u4").astype(np.uint32)
    return constriction.stream.queue.RangeDecoder(words).decode(_model(cb), n), (h, w)


def to_residual(image: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, float]:
    """The uint8 residual (offset 128, gain 1) and the share of values clipped."""
    r = image.astype(np.int16) - ref.astype(np.int16) + OFFSET
    return np.clip(r, 0, 255).astype(np.uint8), float(((r < 0) | (r > 255)).mean())


def from_residual(ref: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """The receiver's frame: reference + decoded residual − 128."""
    return np.clip(ref.astype(np.int16) + decoded.astype(np.int16) - OFFSET, 0, 255).astype(np.uint8)


def seb_stage(image: np.ndarray, cb: SebCodebook, granularity: int) -> tuple[bytes, np.ndarray]:
    """Transmitter and receiver of the index stream: (its bytes, the reference the receiver builds
    from them)."""
    hw = image.shape[:2]
    indices, padded = cb.assign(image)
    data = encode_indices(cb, indices, hw, granularity)
    got, _ = decode_indices(cb, data)
    return data, cb.reference(np.asarray(got), padded, hw)


@register_scheme("seb", "explicit semantic base", "Greens")
class Seb(Scheme):
    """Seb indices + residual through the codec (module docstring)."""

    def version(self) -> str:
        """The shipped codebooks' contents (a refitted codebook invalidates cached rows)."""
        digest = hashlib.sha256()
        for cb in codebooks():
            digest.update(np.ascontiguousarray(cb.patches, np.float32).tobytes())
            digest.update(np.ascontiguousarray(cb.centres, np.float32).tobytes())
        return digest.hexdigest()[:12]

    def measure(self, frame: Frame, codec: Codec, scales: Sequence[float], job: CodeJob) -> list[SchemeOption]:
        h, w = frame.image.shape[:2]
        out = []
        for eff, (small,) in scale_groups([frame.image], scales, frame.settings.max_pixels):
            for g, cb in enumerate(codebooks()):
                data, ref = seb_stage(small, cb, g)
                residual, clipped = to_residual(small, ref)
                extra = {"seb_bits": 8.0 * len(data), "seb_psnr_db": psnr_db(small, ref), "clip_fraction": clipped}
                settings = codec.settings()
                coded = codec.code(residual, settings, job_for(job, frame.content_key, "seb", eff, cb.label))
                for s, c in zip(settings, coded):
                    rs = RateSetting(s.value, f"{cb.label}+{s.label}", s.nominal)
                    rec = upscale(from_residual(ref, c.image), h, w)
                    out.append(SchemeOption(rs, eff, c.cost + side_cost(8 * len(data), codec.kind), rec, c.n_active, extra))
        return out
