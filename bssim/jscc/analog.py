"""One image sent analog at several rate levels from one encoder pass (the ``jscc`` menus' measurement).

:func:`analog_levels` is what ``bssim.options.measure`` needs per image and SNR, for every
architecture: models with side information (:class:`bssim.jscc.anchored.AnchoredJSCC`) pass
it to the decoder; for :class:`bssim.jscc.model.AdaptiveJSCC` the computation is the one the
menus used before (the prefix of the all-channel encoding, renormalised).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from bssim.jscc.channels import ChannelSpec, apply_channel, pilot_symbols
from bssim.jscc.digital import image_tensor, renormalise
from bssim.jscc.policy import level_mask


def _symbols(model, x: torch.Tensor, cond: torch.Tensor, channels: Sequence[int | None]):
    """Per level: (symbols z (1, C, h, w), mask (1, C), side or None)."""
    cfg = model.cfg
    if model.side_bits(1):
        c, logits = model.analyse(x, cond)
        out = []
        for n in channels:
            mask = model.choose_mask(logits) if n is None else level_mask(n, 1, cfg)
            out.append((*model.symbols(c, mask, cond), mask))
        return [(z, mask, side) for z, side, mask in out]
    forced = [n for n in channels if n is not None]
    z_all = model.encode(x, cond, n_active=max(forced))[0] if forced else None
    out = []
    for n in channels:
        if n is None:
            z, mask = model.encode(x, cond)
        else:
            mask = torch.zeros(1, cfg.c_out)
            mask[0, :n] = 1.0
            z = torch.zeros_like(z_all)
            z[:, :n] = renormalise(z_all[:, :n])
        out.append((z, mask, None))
    return out


def analog_levels(model, image: np.ndarray, channels: Sequence[int | None], snr_db: float, channel: str,
                  gen: torch.Generator) -> list[tuple[int, np.ndarray, int]]:  # fmt: skip
    """(complex channel uses, received image, active channels) per channel count at one SNR.

    ``channels``: levels of ``model.rate_levels`` or None (the policy's choice); the noise of
    every level is drawn from ``gen`` in turn. The networks are told the SNR clamped to the
    model's range.
    """
    spec = ChannelSpec(kind=channel)
    cfg = model.cfg
    h, w = image.shape[:2]
    x = image_tensor(image, getattr(model, "pad_px", 4))
    snr = torch.tensor([float(snr_db)])
    cond = snr.clamp(cfg.snr_min_db, cfg.snr_max_db)
    out = []
    with torch.inference_mode():
        for z, mask, side in _symbols(model, x, cond, channels):
            y, snr_dec = apply_channel(z, snr, spec, gen)
            rec = model.decode(y, mask, snr_dec.clamp(cfg.snr_min_db, cfg.snr_max_db), side)
            n_act = int(round(float(mask.sum())))
            k = math.ceil(n_act * z.shape[2] * z.shape[3] / 2) + pilot_symbols(spec)
            img = (rec[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
            out.append((k, np.ascontiguousarray(img[:h, :w]), n_act))
    return out
