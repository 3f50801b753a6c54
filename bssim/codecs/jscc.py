"""The ``jscc`` codec: the deep JSCC's symbols over the air (the analog link).

One encoder pass for every level (:func:`bssim.jscc.analog.analog_levels`): each level keeps
its nested prefix of channels at unit power per complex symbol; the channel
(:mod:`bssim.jscc.channels`) adds noise at the job's SNR, drawn from the job's seed; the decoder
is told the SNR (clamped to the training range). k = ⌈active real values / 2⌉ complex channel
uses (+ pilots for Rayleigh with estimated CSI) + the model's side information as ⌈bits/2⌉.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bssim.codecs.base import CodeJob, Coded, CodecConfig, RateSetting, register_codec
from bssim.codecs.jscc_common import channel_settings, checkpoint_of, jscc_model
from bssim.jscc.analog import analog_levels


def generator(*parts: object) -> torch.Generator:
    """A torch generator seeded from the hash of ``parts`` (reproducible noise per option)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))


@dataclass(frozen=True)
class JsccAnalog:
    """The deep JSCC over the analog link (module docstring)."""

    model: object
    channel_levels: str | tuple[int, ...]
    name: str = "jscc"
    kind: str = "analog"

    def settings(self) -> tuple[RateSetting, ...]:
        return channel_settings(self.model, self.channel_levels)

    def version(self) -> str:
        return str(self.model.model_version)

    def code(self, image: np.ndarray, settings: Sequence[RateSetting], job: CodeJob) -> list[Coded]:
        """:func:`bssim.jscc.analog.analog_levels` at the job's SNR (noiseless: ``channel = none`` at
        the top training SNR); a model's side information (the anchored JSCC's coefficient
        statistics) rides the control channel as ⌈bits/2⌉ QPSK symbols, as for ``linear``."""
        model = self.model
        snr = float(model.cfg.snr_max_db if job.snr_db is None else job.snr_db)
        channel = "none" if job.snr_db is None else job.channel
        levels = analog_levels(model, image, [s.value for s in settings], snr, channel, generator(job.seed, snr))
        return [Coded(k + math.ceil(model.side_bits(n) / 2), img, float(n)) for k, img, n in levels]


def analog_factory(name: str, semantic: bool):
    """A registry factory of an analog JSCC codec (plain or the seed-002 fine-tune)."""

    def factory(cfg: CodecConfig) -> JsccAnalog:
        return JsccAnalog(jscc_model(checkpoint_of(cfg, semantic)), cfg.channel_levels, name)

    return factory


register_codec("jscc", "analog", "deep JSCC", "tab:red")(analog_factory("jscc", False))
