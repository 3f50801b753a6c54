"""What every codec shares: its rate settings, its output, the registry it joins.

A **codec** decides *how* the pixels a scheme sends become bits (``kind = "digital"``: the
``shannon`` and ``nr`` links carry them) or complex channel symbols (``kind = "analog"``: the
``analog`` link). It is one file in this package that calls :func:`register_codec`, in the
manner of CompressAI's ``register_model``; :data:`CODECS` maps its name to a factory of the
scenario's :class:`CodecConfig`.

    image (H, W, 3) uint8 ─ codec.code(image, settings, job) ─> [Coded(cost, image, n_active)]

``cost`` is the bits of a real bitstream (digital) or the complex channel uses k (analog) of
one image, side information included. A :class:`RateSetting` is one value of the codec's own
rate knob (a quality, a number of JSCC channels, a k/n); the scheme combines it with a
resolution scale into a rate level (:mod:`bssim.schemes.base`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

KINDS = ("digital", "analog")


@dataclass(frozen=True)
class CodecConfig:
    """A scenario's codec settings (``[content]``): each codec reads the fields it needs."""

    qualities: tuple[int, ...] = (10, 30, 50)  # standard codecs: quality settings 1..100
    channel_levels: str | tuple[int, ...] = "model"  # JSCC: active channels ("model" = all)
    k_over_n: tuple[float, ...] = (1 / 24, 1 / 12, 1 / 6)  # linear analog code: bandwidth ratios
    bits_per_value: int = 6  # jscc_digital: uniform quantisation of the latents
    checkpoint: str | None = None  # JSCC weights (None: the shipped checkpoint)
    semantic_checkpoint: str | None = None  # the seed-002 fine-tune's weights (jscc_semantic*)
    linear_block_px: int = 8  # linear analog code: b×b×3 blocks


@dataclass(frozen=True)
class RateSetting:
    """One value of a codec's rate knob: ``value`` (None: the JSCC policy's choice), its
    ``label`` (e.g. ``q30``, ``c8``, ``kn0.083``) and ``nominal``, a number that grows with the
    payload at equal resolution (it orders rate levels)."""

    value: float | int | None
    label: str
    nominal: float


@dataclass(frozen=True)
class CodeJob:
    """How the symbols travel (analog codecs): per-symbol SNR in dB (None: noiseless), the
    channel (``awgn`` | ``rayleigh``) and the seed of the noise draw."""

    snr_db: float | None = None
    channel: str = "awgn"
    seed: int = 0


@dataclass(frozen=True)
class Coded:
    """One image through a codec at one setting: ``cost`` (bits or complex symbols), the
    receiver's image (H, W, 3) uint8, and the JSCC's active channels (NaN for other codecs)."""

    cost: int
    image: np.ndarray
    n_active: float = float("nan")


class Codec(Protocol):
    """A codec of the registry (module docstring): ``settings()`` its rate settings,
    ``version()`` what changes its output (part of the measurement cache key), ``code()``."""

    name: str
    kind: str  # "digital" | "analog"

    def settings(self) -> tuple[RateSetting, ...]: ...

    def version(self) -> str: ...

    def code(self, image: np.ndarray, settings: Sequence[RateSetting], job: CodeJob) -> list[Coded]: ...


@dataclass(frozen=True)
class CodecEntry:
    """A registry entry: what legends and checks need without building the codec (a JSCC codec
    loads a model), and the factory that builds it from a :class:`CodecConfig`."""

    name: str
    kind: str  # "digital" | "analog"
    words: str  # for legends, e.g. "AVIF"
    colour: str  # matplotlib colour of its series
    factory: Callable[[CodecConfig], Codec]


CODECS: dict[str, CodecEntry] = {}


def register_codec(name: str, kind: str, words: str, colour: str) -> Callable:
    """Factory decorator: ``@register_codec("avif", "digital", "AVIF", "tab:blue")`` makes
    ``make_codec("avif", cfg)`` work."""
    if kind not in KINDS:
        raise ValueError(f"codec {name!r}: kind {kind!r} must be one of {KINDS}")

    def wrap(factory: Callable[[CodecConfig], Codec]) -> Callable[[CodecConfig], Codec]:
        if name in CODECS:
            raise ValueError(f"codec {name!r} registered twice")
        CODECS[name] = CodecEntry(name, kind, words, colour, factory)
        return factory

    return wrap


def registry_entry(registry: dict[str, Any], what: str, name: str) -> Any:
    """``registry[name]``, or an error naming ``what``, the name and the choices."""
    if name not in registry:
        raise ValueError(f"{what} {name!r} unknown; choose from {', '.join(registry)}")
    return registry[name]


def codec_entry(name: str) -> CodecEntry:
    """The registry entry of ``name`` (an error naming the choices otherwise)."""
    return registry_entry(CODECS, "codec", name)


def make_codec(name: str, cfg: CodecConfig | None = None) -> Codec:
    """The codec registered as ``name``, configured by ``cfg``."""
    return codec_entry(name).factory(cfg or CodecConfig())
