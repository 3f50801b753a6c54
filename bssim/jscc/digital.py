"""The deep JSCC as a *digital* source codec: image → bitstream → image.

Used by the ``shannon`` link model (DESIGN.md section 2), where bits arrive error-free when
the power covers the Shannon requirement, so the reconstruction is that of the decoded
bitstream and does not depend on the SNR. Transmitter: pad to multiples of 4, encode with
the SNR input at the model's top training SNR (``cfg.snr_max_db``: the channel adds no
noise), keep the rate level's active channels, then :func:`bssim.jscc.bitstream.encode_latents`
(uniform quantisation, entropy coding). Receiver: parse, dequantise, decode at the same SNR
input, crop the padding.

Bitstream of one image (its length × 8 is the bits bssim counts)::

    H, W (u16 each) | channel mask (ceil(C'_c / 8) bytes) | [side information] | latent bitstream

The side information is only there for models that need it (``model.side_bits(n) > 0``, the
anchored model of :mod:`bssim.jscc.anchored`): for ``coef_order = "variance"`` first a map of
the K coefficients, 1 bit each (sent or not, ceil(K / 8) bytes); then per sent coefficient,
in index order, its per-image mean (float16) and log2 variance code q (int16,
λ = 2^(q/256)), 4 bytes, big-endian.

A rate level is a number of active channels: ``None`` is the policy's own choice; an
integer from ``model.rate_levels`` forces the nested mask of that many channels (models
without ``rate_levels`` only have ``None``).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

import numpy as np
import torch

from bssim.jscc.bitstream import decode_latents, encode_latents
from bssim.jscc.policy import level_mask
from bssim.jscc.anchored import quantise_codes
from bssim.jscc.anchored import dequantise_codes

SIZE = struct.Struct(">HH")
DEFAULT_BITS_PER_VALUE = 6  # < 0.1 dB below unquantised latents on Kodak (docs/model.md)


def supported_levels(model) -> tuple[int | None, ...]:
    """The levels :func:`code_levels` accepts: ``model.rate_levels`` (forced nested masks) and None."""
    return tuple(getattr(model, "rate_levels", None) or ()) + (None,)


def _check_levels(model, levels: Sequence[int | None]) -> None:
    ok = supported_levels(model)
    for n in levels:
        if n not in ok:
            raise ValueError(f"rate level (active channels) {n!r} not supported by this JSCC model; allowed: {list(ok)}")


def image_tensor(image: np.ndarray, multiple: int = 4) -> torch.Tensor:
    """(H, W, 3) uint8 → (1, 3, H', W') in [0, 1], edge-padded to multiples of ``multiple``."""
    h, w = image.shape[:2]
    padded = np.pad(image, ((0, (-h) % multiple), (0, (-w) % multiple), (0, 0)), mode="edge")
    return torch.from_numpy(np.ascontiguousarray(padded)).permute(2, 0, 1)[None].float() / 255.0


def renormalise(z: torch.Tensor) -> torch.Tensor:
    """Power normalisation of a channel subset: mean square 1/2 per real value (model.power_normalize)."""
    return z / torch.sqrt(2.0 * (z * z).mean() + 1e-8)


def _has_side(model) -> bool:
    return bool(getattr(model, "side_bits", lambda n: 0)(1))


def _encode_masks_side(model, x: torch.Tensor, snr: torch.Tensor, levels: Sequence[int | None]):
    """Per level: (active latent values, mask, side bytes) for models with side information (one analysis)."""

    c, logits = model.analyse(x, snr)
    out = []
    for n in levels:
        mask = model.choose_mask(logits) if n is None else level_mask(n, 1, model.cfg)
        z, side = model.symbols(c, mask, snr)
        keep = mask[0] > 0.5
        out.append((z[0, keep].numpy(), keep.numpy(), side_bytes(model, side[0], mask[0])))
    return out


def side_bytes(model, side: torch.Tensor, mask: torch.Tensor) -> bytes:
    """Side information (2, K) of the sent coefficients → bytes ([coefficient map], float16 mean, int16 log2-variance code)."""

    active = model.sent_coefficients(side[1][None], mask[None])[0][0] > 0.5
    nu, q = quantise_codes(side[0, active], side[1, active])
    coded = np.stack([nu.numpy().astype(">f2").view(">i2"), q.numpy().astype(">i2")], axis=1).astype(">i2").tobytes()
    return (np.packbits(active.numpy()).tobytes() if model.sends_coefficient_map else b"") + coded


def parse_side(model, data: bytes, mask: np.ndarray) -> tuple[torch.Tensor, int]:
    """Inverse of :func:`side_bytes`: (side (2, K) with zeros at unsent coefficients, bytes read)."""

    n_map = math.ceil(model.k / 8) if model.sends_coefficient_map else 0
    if len(data) < n_map:
        raise ValueError(f"JSCC image bitstream too short for its coefficient map ({len(data)} < {n_map} bytes)")
    if n_map:
        active = np.unpackbits(np.frombuffer(data[:n_map], np.uint8))[: model.k].astype(bool)
    else:
        active = np.repeat(mask, model.coefficients_per_channel)
    n, needed = int(active.sum()), int(mask.sum()) * model.coefficients_per_channel
    if n != needed:
        raise ValueError(f"JSCC image bitstream: its coefficient map has {n} coefficients, its channel mask needs {needed}")
    if len(data) < n_map + 4 * n:
        raise ValueError(f"JSCC image bitstream too short for its side information ({len(data)} < {n_map + 4 * n} bytes)")
    raw = np.frombuffer(data[n_map : n_map + 4 * n], dtype=">i2").reshape(n, 2)
    nu, lam = dequantise_codes(torch.from_numpy(raw[:, 0].astype(">i2").view(">f2").astype(np.float32)),
                               torch.from_numpy(raw[:, 1].astype(np.int64)))  # fmt: skip
    side = torch.zeros(2, active.size)
    side[0, torch.from_numpy(active)] = nu
    side[1, torch.from_numpy(active)] = lam
    return side, n_map + 4 * n


def _encode_masks(model, x: torch.Tensor, snr: torch.Tensor, levels: Sequence[int | None]):
    """Per level: (active latent values (n, h, w) as numpy, mask (C,) as numpy bool, side bytes)."""
    if _has_side(model):
        return _encode_masks_side(model, x, snr, levels)
    c_out = model.cfg.c_out
    out = []
    forced = [n for n in levels if n is not None]
    if forced:  # nested masks: one encode with every level's channels, then a prefix per level
        z_all, _ = model.encode(x, snr, n_active=max(forced))
        for n in forced:
            mask = np.zeros(c_out, bool)
            mask[:n] = True
            out.append((n, renormalise(z_all[0, :n]).numpy(), mask))
    if None in levels:
        z, m = model.encode(x, snr)
        mask = m[0].numpy() > 0.5
        out.append((None, z[0, torch.from_numpy(mask)].numpy(), mask))
    by_level = {n: (y, mask, b"") for n, y, mask in out}
    return [by_level[n] for n in levels]


def stream_channels(model, data: bytes) -> int:
    """Active channels recorded in an image bitstream's mask."""
    n_mask = math.ceil(model.cfg.c_out / 8)
    return int(np.unpackbits(np.frombuffer(data[SIZE.size : SIZE.size + n_mask], np.uint8)).sum())


def _pack(height: int, width: int, mask: np.ndarray, side: bytes, latents: bytes) -> bytes:
    return SIZE.pack(height, width) + np.packbits(mask).tobytes() + side + latents


def encode_levels(model, image: np.ndarray, levels: Sequence[int | None] = (None,),
                  bits_per_value: int = DEFAULT_BITS_PER_VALUE) -> list[bytes]:
    """The bitstream of ``image`` at each rate level, from one encoder pass."""
    _check_levels(model, levels)
    h, w = image.shape[:2]
    if h > 65535 or w > 65535:
        raise ValueError(f"image of {h}x{w} px exceeds the bitstream's 65535 px side limit")
    snr = torch.tensor([float(model.cfg.snr_max_db)])
    with torch.inference_mode():
        coded = _encode_masks(model, image_tensor(image, getattr(model, "pad_px", 4)), snr, levels)
    return [_pack(h, w, mask, side, encode_latents(y, bits_per_value)) for y, mask, side in coded]


def code_levels(model, image: np.ndarray, levels: Sequence[int | None] = (None,),
                bits_per_value: int = DEFAULT_BITS_PER_VALUE) -> list[tuple[bytes, np.ndarray]]:
    """(bitstream, receiver's image decoded from that bitstream) for each rate level."""
    streams = encode_levels(model, image, levels, bits_per_value)
    return list(zip(streams, decode_images(model, streams)))


def _parse(model, data: bytes) -> tuple[int, int, np.ndarray, torch.Tensor | None, np.ndarray]:
    c_out = model.cfg.c_out
    n_mask = math.ceil(c_out / 8)
    if len(data) < SIZE.size + n_mask:
        raise ValueError(f"JSCC image bitstream too short ({len(data)} bytes)")
    h, w = SIZE.unpack_from(data, 0)
    mask = np.unpackbits(np.frombuffer(data[SIZE.size : SIZE.size + n_mask], np.uint8))[:c_out].astype(bool)
    start, side = SIZE.size + n_mask, None
    if _has_side(model):
        side, used = parse_side(model, data[start:], mask)
        start += used
    latents = decode_latents(data[start:])
    if latents.shape[0] != mask.sum():
        raise ValueError(f"bitstream carries {latents.shape[0]} channels but its mask has {int(mask.sum())}")
    return h, w, mask, side, latents


def decode_images(model, streams: Sequence[bytes]) -> list[np.ndarray]:
    """Receiver: bitstreams → RGB uint8 images; streams of equal size share one decoder pass."""
    parsed = [_parse(model, d) for d in streams]
    out: list[np.ndarray | None] = [None] * len(parsed)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (h, w, _, _, _) in enumerate(parsed):
        groups.setdefault((h, w), []).append(i)
    c_out = model.cfg.c_out
    for (h, w), idx in groups.items():
        lh, lw = parsed[idx[0]][4].shape[1:]
        y = torch.zeros(len(idx), c_out, lh, lw)
        masks = torch.zeros(len(idx), c_out)
        side = torch.stack([parsed[i][3] for i in idx]) if _has_side(model) else None
        for j, i in enumerate(idx):
            _, _, mask, _, latents = parsed[i]
            if latents.shape[1:] != (lh, lw):
                raise ValueError(f"bitstream of a {w}x{h} image carries a {latents.shape[2]}x{latents.shape[1]} latent grid, expected {lw}x{lh}")
            y[j, torch.from_numpy(mask)] = torch.from_numpy(latents)
            masks[j] = torch.from_numpy(mask.astype(np.float32))
        snr = torch.full((len(idx),), float(model.cfg.snr_max_db))
        with torch.inference_mode():
            rec = model.decode(y, masks, snr, side)
        imgs = (rec.clamp(0, 1) * 255.0).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        for j, i in enumerate(idx):
            out[i] = np.ascontiguousarray(imgs[j, :h, :w])
    return out  # type: ignore[return-value]


def encode_image(model, image: np.ndarray, n_active: int | None = None,
                 bits_per_value: int = DEFAULT_BITS_PER_VALUE) -> bytes:
    """The bitstream of one image at one rate level."""
    return encode_levels(model, image, (n_active,), bits_per_value)[0]


def decode_image(model, data: bytes) -> np.ndarray:
    """The receiver's image from one bitstream."""
    return decode_images(model, [data])[0]
