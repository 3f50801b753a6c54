"""The ``jscc_digital`` codec: the deep JSCC as a source codec (quantised, range-coded latents).

The bits are those of :func:`bssim.jscc.digital.code_levels` (the frame size, the channel
mask, the constriction-coded latents at ``bits_per_value``); the receiver's image is decoded
from that bitstream, so it does not depend on the link's SNR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bssim.codecs.base import CodeJob, Coded, CodecConfig, RateSetting, register_codec
from bssim.codecs.jscc_common import channel_settings, checkpoint_of, jscc_model
from bssim.jscc.digital import code_levels, stream_channels


@dataclass(frozen=True)
class JsccDigital:
    """The deep JSCC's bitstream (module docstring)."""

    model: object
    bits_per_value: int
    channel_levels: str | tuple[int, ...]
    name: str = "jscc_digital"
    kind: str = "digital"

    def settings(self) -> tuple[RateSetting, ...]:
        return channel_settings(self.model, self.channel_levels)

    def version(self) -> str:
        return f"{self.model.model_version}:b{self.bits_per_value}"

    def code(self, image: np.ndarray, settings: Sequence[RateSetting], job: CodeJob) -> list[Coded]:
        coded = code_levels(self.model, image, [s.value for s in settings], self.bits_per_value)
        return [Coded(8 * len(data), dec, float(stream_channels(self.model, data))) for data, dec in coded]


def digital_factory(name: str, semantic: bool):
    """A registry factory of a digital JSCC codec (plain or the seed-002 fine-tune)."""

    def factory(cfg: CodecConfig) -> JsccDigital:
        return JsccDigital(jscc_model(checkpoint_of(cfg, semantic)), cfg.bits_per_value, cfg.channel_levels, name)

    return factory


register_codec("jscc_digital", "digital", "deep JSCC, entropy-coded latents", "tab:orange")(
    digital_factory("jscc_digital", False))
