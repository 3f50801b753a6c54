"""What every scheme shares: the frame it works on, the options it returns, the registry.

A **scheme** decides *what* is sent and how the receiver rebuilds the frame; the codec it is
given decides how those pixels become bits or symbols (:mod:`bssim.codecs`). One file per
scheme registers itself with :func:`register_scheme` (CompressAI's ``register_model``):

    Frame ─ scheme.measure(frame, codec, scales, job) ─> [SchemeOption] (one per rate level)

A rate level is a codec setting × a resolution scale s (seed II.D): the pixels are scaled by
s (INTER_AREA, at most ``max_pixels``) before the codec and back (INTER_CUBIC) after it.
Nominal scales that give the same pixels after the cap are one option, labelled with the
**effective** scale sqrt(coded pixels / original pixels) and measured once.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bssim.codecs.base import CodeJob, Codec, RateSetting, registry_entry
from bssim.pipeline.resolution import downscale
from bssim.pipeline.transmitter import KeyInfo, PipelineSettings


@dataclass(frozen=True)
class Frame:
    """One frame and what its schemes share: the key information (None without a library),
    the library's size (for the side information), the pipeline settings, the content key,
    and the reference foreground (bgdiff against the matched B*, dilated; None unmatched)."""

    image: np.ndarray  # (H, W, 3) uint8
    key_info: KeyInfo | None
    n_backgrounds: int
    settings: PipelineSettings
    content_key: str = ""
    foreground: np.ndarray | None = None  # (H, W) bool

    @property
    def matched(self) -> bool:
        return bool(self.key_info is not None and self.key_info.match.matched)


@dataclass(frozen=True)
class SchemeOption:
    """A scheme's result at one rate level: the codec setting, the effective scale, the cost
    (bits or complex symbols, side information included), the receiver's frame (H, W, 3)
    uint8, the JSCC's mean active channels (NaN otherwise) and the scheme's diagnostics."""

    setting: RateSetting
    scale: float
    cost: int
    image: np.ndarray
    n_active: float = float("nan")
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``s0.75/q30``: the effective scale, then the codec's setting."""
        return f"s{self.scale:.2f}/{self.setting.label}"

    @property
    def nominal(self) -> float:
        """s² × the setting's nominal size: orders the rate levels of a scheme and codec."""
        return self.scale**2 * self.setting.nominal


def scaled(image: np.ndarray, scale: float, max_pixels: int | None) -> np.ndarray:
    """Resolution control: at most ``max_pixels`` (seed II.D) and at most s² of the pixels."""
    h, w = image.shape[:2]
    budget = int(h * w * scale * scale) if scale < 1.0 else h * w
    if max_pixels is not None:
        budget = min(budget, max_pixels)
    return np.ascontiguousarray(downscale(image, max(16, budget)))


def scale_groups(images: Sequence[np.ndarray], scales: Sequence[float],
                 max_pixels: int | None) -> list[tuple[float, list[np.ndarray]]]:
    """[(effective scale, the scaled images)] per distinct result, largest scale first.

    Nominal scales whose scaled images have the same sizes are one group (module docstring).
    Where ``max_pixels`` binds, the label is the effective scale sqrt(coded / original pixels);
    elsewhere the nominal s (the sides' rounding to multiples of 4 is not a rate level)."""
    groups: dict[tuple, tuple[float, list[np.ndarray]]] = {}
    total = sum(im.shape[0] * im.shape[1] for im in images)
    for s in sorted(set(scales), reverse=True):
        small = [scaled(im, s, max_pixels) for im in images]
        sizes = tuple(im.shape[:2] for im in small)
        if sizes not in groups:
            capped = max_pixels is not None and any(im.shape[0] * im.shape[1] * s * s > max_pixels for im in images)
            coded = sum(im.shape[0] * im.shape[1] for im in small)
            groups[sizes] = (round(math.sqrt(coded / total), 2) if capped and total else s, small)
    return list(groups.values())


def side_cost(bits: int, kind: str) -> int:
    """Side information as a cost: bits on a digital link, ⌈bits/2⌉ QPSK symbols on the analog
    link (sent error-free on a control channel)."""
    return int(bits) if kind == "digital" else math.ceil(bits / 2)


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from the hash of ``parts``: each coded image gets its own noise draw."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little") & (2**63 - 1)


def job_for(job: CodeJob, *parts: object) -> CodeJob:
    """``job`` with a seed derived from its own and ``parts`` (scheme, scale, box …)."""
    return CodeJob(job.snr_db, job.channel, derive_seed(job.seed, *parts))


class Scheme:
    """A scheme of the registry: ``measure`` returns one option per rate level ([] when the
    scheme cannot serve the frame, e.g. key information without a matched background)."""

    name: str

    def version(self) -> str:
        """What changes this scheme's output besides the frame, the codec and the settings (e.g.
        a shared codebook's hash); part of the measurement cache key."""
        return "1"

    def measure(self, frame: Frame, codec: Codec, scales: Sequence[float], job: CodeJob) -> list[SchemeOption]:
        raise NotImplementedError


@dataclass(frozen=True)
class SchemeEntry:
    """A registry entry: the name, its words for legends, its colour map (a scheme's rate
    levels are shades of it) and the scheme."""

    name: str
    words: str
    colour: str
    scheme: Scheme


SCHEMES: dict[str, SchemeEntry] = {}


def register_scheme(name: str, words: str, colour: str) -> Callable:
    """Class decorator: ``@register_scheme("key", "key information", "Oranges")``."""

    def wrap(cls: type) -> type:
        if name in SCHEMES:
            raise ValueError(f"scheme {name!r} registered twice")
        cls.name = name
        SCHEMES[name] = SchemeEntry(name, words, colour, cls())
        return cls

    return wrap


def scheme_entry(name: str) -> SchemeEntry:
    """The registry entry of ``name`` (an error naming the choices otherwise)."""
    return registry_entry(SCHEMES, "scheme", name)
