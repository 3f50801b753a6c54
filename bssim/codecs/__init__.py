"""Codecs: how the pixels a scheme sends become bits or channel symbols (:mod:`.base`).

The registry: one file per codec below, each registering itself; adding a codec is its file
and one name in the import line.

* digital (links ``shannon``, ``nr``): ``avif``, ``webp``, ``jpeg2000`` (standard image codecs,
  :mod:`.standard`), ``jscc_digital`` (the deep JSCC's entropy-coded latents),
  ``jscc_semantic_digital`` (the seed-002 fine-tune's);
* analog (link ``analog``): ``jscc`` (the deep JSCC's symbols), ``jscc_semantic``, ``linear``
  (a SoftCast-style linear code, the analog baseline).
"""

from bssim.codecs import avif, jpeg2000, jscc, jscc_digital, jscc_semantic, jscc_semantic_digital, linear, webp  # noqa: F401  (the registry)
from bssim.codecs.base import (CODECS, KINDS, CodeJob, Coded, Codec, CodecConfig, CodecEntry, RateSetting, codec_entry,
                               make_codec, register_codec)

__all__ = ["CODECS", "KINDS", "CodeJob", "Coded", "Codec", "CodecConfig", "CodecEntry", "RateSetting", "codec_entry",
           "codec_names", "make_codec", "register_codec"]


def codec_names(kind: str | None = None) -> tuple[str, ...]:
    """Registered codec names, those of one ``kind`` when given (without building them)."""
    return tuple(n for n, e in CODECS.items() if kind is None or e.kind == kind)
