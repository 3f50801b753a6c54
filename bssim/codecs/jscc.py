"""The ``jscc`` codec: the deep JSCC's symbols over the air (the analog link).

One encoder pass at the top requested level; each level keeps its nested prefix of channels,
renormalised to unit power per complex symbol; the channel (:mod:`bssim.jscc.channels`) adds
noise at the job's SNR, drawn from the job's seed; the decoder is told the SNR (clamped to the
training range). k = ⌈active real values / 2⌉ complex channel uses (+ pilots for Rayleigh with
estimated CSI).
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
from bssim.jscc.channels import ChannelSpec, apply_channel, pilot_symbols
from bssim.jscc.digital import image_tensor, renormalise


def generator(*parts: object) -> torch.Generator:
    """A torch generator seeded from the hash of ``parts`` (reproducible noise per option)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))


def _mask(c_out: int, n: int) -> torch.Tensor:
    mask = torch.zeros(1, c_out)
    mask[0, :n] = 1.0
    return mask


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
        model, cfg = self.model, self.model.cfg
        spec = ChannelSpec(kind=job.channel)
        h, w = image.shape[:2]
        x = image_tensor(image)
        snr = torch.tensor([float(cfg.snr_max_db if job.snr_db is None else job.snr_db)])
        cond = snr.clamp(cfg.snr_min_db, cfg.snr_max_db)
        gen = generator(job.seed, float(snr))
        forced = [s.value for s in settings if s.value is not None]
        out = []
        with torch.inference_mode():
            z_all = model.encode(x, cond, n_active=max(forced))[0] if forced else None
            for s in settings:
                if s.value is None:
                    z, mask = model.encode(x, cond)
                else:
                    mask, z = _mask(cfg.c_out, s.value), torch.zeros_like(z_all)
                    z[:, : s.value] = renormalise(z_all[:, : s.value])
                y, snr_dec = (z, snr) if job.snr_db is None else apply_channel(z, snr, spec, gen)
                rec = model.decode(y, mask, snr_dec.clamp(cfg.snr_min_db, cfg.snr_max_db))
                n_act = int(round(float(mask.sum())))
                k = math.ceil(n_act * z.shape[2] * z.shape[3] / 2) + pilot_symbols(spec)
                img = (rec[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
                out.append(Coded(k, np.ascontiguousarray(img[:h, :w]), float(n_act)))
        return out


def analog_factory(name: str, semantic: bool):
    """A registry factory of an analog JSCC codec (plain or the seed-002 fine-tune)."""

    def factory(cfg: CodecConfig) -> JsccAnalog:
        return JsccAnalog(jscc_model(checkpoint_of(cfg, semantic)), cfg.channel_levels, name)

    return factory


register_codec("jscc", "analog", "deep JSCC", "tab:red")(analog_factory("jscc", False))
