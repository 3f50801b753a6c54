"""Standard image codecs as digital codecs: the file's bytes are the bits a link carries.

The encoders are those of the practical separation baseline (:mod:`bssim.baselines.practical`:
Pillow's AVIF and WebP, OpenCV's JPEG 2000), reused. An image with a side below the encoder's
minimum (OpenJPEG's 6 resolution levels need 32 px) is padded by edge replication first and
the decoded image cropped back (the receiver knows the size from the side information); the
padding's bits are counted. A rate setting is the encoder's quality
(1..100, larger = better and bigger); one encoder call per quality, run in a thread pool (the
encoders release the GIL). The receiver decodes the file. Side information: none beyond the
file (its header carries the size).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np

from bssim.baselines.practical import decode, encode
from bssim.codecs.base import CodeJob, Coded, CodecConfig, RateSetting

POOL_WORKERS = 2
MIN_SIDE_PX = {"jpeg2000": 32}  # smallest side the encoder accepts (default 1)
LADDER = {"jpeg2000": "x1000=ceil(q^2/10)"}  # how a quality maps to the encoder's parameter, where not 1:1


@dataclass(frozen=True)
class StandardCodec:
    """A standard codec (module docstring); ``codec`` names the encoder in :mod:`bssim.baselines.practical`."""

    name: str
    qualities: tuple[int, ...]
    kind: str = "digital"

    def __post_init__(self) -> None:
        bad = [q for q in self.qualities if not (isinstance(q, int) and 1 <= q <= 100)]
        if bad or not self.qualities:
            raise ValueError(f"content.qualities = {list(self.qualities)}: give integers in 1..100 ({self.name})")

    def settings(self) -> tuple[RateSetting, ...]:
        return tuple(RateSetting(int(q), f"q{int(q)}", float(q)) for q in sorted(set(self.qualities)))

    def version(self) -> str:
        ladder = LADDER.get(self.name, "q")
        return f"{self.name}:{ladder}:pillow{version('pillow')}:opencv{version('opencv-python-headless')}"

    def _one(self, image: np.ndarray, quality: int) -> Coded:
        h, w = image.shape[:2]
        side = MIN_SIDE_PX.get(self.name, 1)
        padded = np.pad(image, ((0, max(0, side - h)), (0, max(0, side - w)), (0, 0)), mode="edge")
        data = encode(np.ascontiguousarray(padded), self.name, quality)
        dec = decode(data, self.name)
        if dec is None or dec.shape != padded.shape:
            raise RuntimeError(f"{self.name} could not decode its own file (quality {quality}, {h}x{w} px)")
        return Coded(8 * len(data), np.ascontiguousarray(dec[:h, :w]))

    def code(self, image: np.ndarray, settings: Sequence[RateSetting], job: CodeJob) -> list[Coded]:
        """One file per quality setting (thread pool); ``job`` is unused (digital)."""
        with ThreadPoolExecutor(POOL_WORKERS) as pool:
            return list(pool.map(lambda s: self._one(image, int(s.value)), settings))


def standard_codec(name: str):
    """A registry factory for the standard codec ``name``."""

    def factory(cfg: CodecConfig) -> StandardCodec:
        return StandardCodec(name, tuple(cfg.qualities))

    return factory
