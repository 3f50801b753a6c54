"""Adaptive-rate deep JSCC (Yang & Kim, ICASSP 2022) as used by seed 000 (§II.E, §V).

Public API::

    from bssim.jscc import load_model, transmit, payload_bits, default_checkpoint_path
    model = load_model()                       # shipped checkpoint (or a path of your own)
    res = transmit(model, image, snr_db=10.0)  # RGB uint8 (H, W, 3), any H, W >= 1
    res.image, res.payload_bits, res.rate, res.n_channel_uses, res.cbr, res.model_version

    model.rate_levels                          # e.g. (4, 6, 8, 10, 12, 14, 16) active channels
    transmit(model, image, 10.0, n_active=8)   # force a nested rate level

Modules: :mod:`.config` (settings, rate levels), :mod:`.layers`, :mod:`.policy` (rate
policy, nested masks), :mod:`.model` (network), :mod:`.precision`, :mod:`.channels`
(AWGN, Rayleigh + CSI), :mod:`.payload` (bits for the Shannon link), :mod:`.checkpoint`
(files), :mod:`.data` and :mod:`.sampler` (training images, augmented crops),
:mod:`.schedule` and :mod:`.train` (training), :mod:`.policy_fit` (fitting the rate policy
alone, networks frozen), :mod:`.evaluate`, :mod:`.baseline`, :mod:`.compare` and :mod:`.plots`
(evaluation). The shipped checkpoint and its model card are in ``checkpoints/``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bssim.jscc.channels import ChannelSpec, apply_channel, pilot_symbols
from bssim.files import file_hash
from bssim.jscc.anchored import AnchoredJSCC
from bssim.jscc.checkpoint import JSCCModel, model_from_checkpoint, read_checkpoint
from bssim.jscc.model import AdaptiveJSCC, JSCCConfig
from bssim.jscc.policy import level_index
from bssim.jscc.payload import channel_uses, payload_bits
from bssim.jscc.precision import resolve_precision

__all__ = [
    "AdaptiveJSCC",
    "AnchoredJSCC",
    "ChannelSpec",
    "JSCCConfig",
    "TransmitResult",
    "default_checkpoint_path",
    "yang_kim_checkpoint_path",
    "load_model",
    "payload_bits",
    "transmit",
]

DEFAULT_CHECKPOINT_NAME = "jscc_default.pt"
SEMANTIC_CHECKPOINT_NAME = "jscc_semantic.pt"
YANG_KIM_CHECKPOINT_NAME = "jscc_yang_kim.pt"


def default_checkpoint_path() -> Path:
    """The checkpoint shipped inside the package: ``bssim/jscc/checkpoints/jscc_default.pt``."""
    return Path(__file__).resolve().parent / "checkpoints" / DEFAULT_CHECKPOINT_NAME


def semantic_checkpoint_path() -> Path:
    """The shipped seed-002 fine-tune: ``bssim/jscc/checkpoints/jscc_semantic.pt`` (MODEL_CARD.md)."""
    return default_checkpoint_path().with_name(SEMANTIC_CHECKPOINT_NAME)


def yang_kim_checkpoint_path() -> Path:
    """The previous default, Yang & Kim's architecture (``e7ddf3f24410``), kept for the diagnosis of issue 18."""
    return default_checkpoint_path().with_name(YANG_KIM_CHECKPOINT_NAME)


def load_model(path: str | Path | None = None, device: str = "cpu", precision: str = "auto") -> JSCCModel:
    """Load a JSCC checkpoint (``None``: the shipped one) with ``torch.load(weights_only=True)``.

    The returned model is in eval mode and carries ``model_version`` (first 12 hex digits of
    the file's SHA-256), ``checkpoint_path`` and ``meta`` (the checkpoint's metadata).
    ``precision``: ``auto`` (bfloat16 autocast where the device runs it natively, see
    :mod:`bssim.jscc.precision`), ``fp32`` or ``bf16``. Raises FileNotFoundError naming the
    path when the file is missing, ValueError for unreadable or old-format files.
    """
    p = Path(path).expanduser() if path is not None else default_checkpoint_path()
    if not p.is_file():
        hint = "" if path is not None else " (the shipped checkpoint is missing from the package; pass path=...)"
        raise FileNotFoundError(f"JSCC checkpoint not found: {p}{hint}")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"device must be 'cpu' or 'cuda[:n]', got {device!r}")
    prec = resolve_precision(precision, device)
    obj = read_checkpoint(p)
    model = model_from_checkpoint(obj, device=device)
    model.precision = prec
    model.model_version = file_hash(p, n_hex=12)
    model.checkpoint_path = str(p)
    model.meta = obj.get("meta", {})
    return model


@dataclass(frozen=True)
class TransmitResult:
    """Outcome of one transmission (see :func:`transmit`)."""

    image: np.ndarray
    payload_bits: int
    rate: float
    n_channel_uses: int
    cbr: float
    model_version: str
    n_active_channels: int
    snr_db: float
    channel: str


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be RGB uint8 of shape (H, W, 3), got dtype {image.dtype}, shape {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"image must have H, W >= 1, got {image.shape}")


def pad_to_multiple(image: np.ndarray, m: int = 4) -> np.ndarray:
    """Pad an (H, W, 3) image at the bottom/right by edge replication to multiples of ``m``."""
    h, w = image.shape[:2]
    ph, pw = (-h) % m, (-w) % m
    if ph == 0 and pw == 0:
        return image
    return np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="edge")


def transmit(
    model: JSCCModel,
    image: np.ndarray,
    snr_db: float,
    channel: str = "awgn",
    seed: int = 0,
    bits_per_value: int = 8,
    side_info_bits: int = 0,
    *,
    csi: str = "estimated",
    n_pilots: int = 4,
    n_active: int | None = None,
) -> TransmitResult:
    """Send one RGB uint8 image through encoder → channel → decoder; deterministic per ``seed``.

    The image is padded to sides that are multiples of ``model.pad_px`` (4, or the block
    side b of the anchored model; edge replication) and the
    reconstruction cropped back. The SNR the networks are conditioned on is clamped to the
    model's training range (``cfg.snr_min_db``..``cfg.snr_max_db``); the channel noise uses
    the true ``snr_db``. ``payload_bits`` follows :func:`bssim.jscc.payload.payload_bits`, its side
    information including ``model.side_bits(n)`` (the anchored model's coefficient means
    and variances);
    ``n_channel_uses`` k = ceil(active real values / 2) (+ pilots for Rayleigh with estimated
    CSI); ``cbr`` = k / (H·W·3) on the unpadded image. ``n_active``: None = the policy's
    choice, or one of ``model.rate_levels`` (active channels) to force that nested mask.
    """
    _check_image(image)
    if not isinstance(model, (AdaptiveJSCC, AnchoredJSCC)):
        raise ValueError(f"model must be a JSCC model from load_model(), got {type(model).__name__}")
    if not math.isfinite(float(snr_db)):
        raise ValueError(f"snr_db must be finite, got {snr_db}")
    spec = ChannelSpec(kind=channel, csi=csi, n_pilots=n_pilots)
    cfg = model.cfg
    if n_active is not None:
        level_index(n_active, cfg)  # ValueError naming the allowed levels
    h0, w0 = image.shape[:2]
    padded = pad_to_multiple(image, model.pad_px)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(padded)).to(device).permute(2, 0, 1)[None].float() / 255.0
            snr_true = torch.tensor([float(snr_db)], dtype=torch.float32, device=device)
            snr_cond = snr_true.clamp(cfg.snr_min_db, cfg.snr_max_db)
            z, mask, side = model.encode_side(x, snr_cond, n_active=n_active)
            gen = torch.Generator(device="cpu").manual_seed(int(seed))
            y, snr_dec = apply_channel(z, snr_true, spec, gen)
            out = model.decode(y, mask, snr_dec.clamp(cfg.snr_min_db, cfg.snr_max_db), side)
    finally:
        model.train(was_training)
    rec = (out[0].permute(1, 2, 0).clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().numpy()
    rec = np.ascontiguousarray(rec[:h0, :w0])
    n_on = int(round(float(mask.sum())))
    lh, lw = z.shape[2], z.shape[3]
    bits = payload_bits(
        n_on, lh, lw, bits_per_value=bits_per_value, mask_bits=cfg.c_out,
        side_info_bits=side_info_bits + model.side_bits(n_on),
    )  # fmt: skip
    k = channel_uses(n_on, lh, lw, pilots=pilot_symbols(spec))
    return TransmitResult(
        image=rec,
        payload_bits=bits,
        rate=n_on / cfg.c_out,
        n_channel_uses=k,
        cbr=k / (h0 * w0 * 3),
        model_version=getattr(model, "model_version", "untracked"),
        n_active_channels=n_on,
        snr_db=float(snr_db),
        channel=channel,
    )
