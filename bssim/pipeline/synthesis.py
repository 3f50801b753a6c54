"""Receiver synthesis (seed II.F): paste decoded crops onto B* with an alpha mask.

Alpha modes (``alpha_mode``):

- ``receiver_diff`` (no bits): the receiver holds B*, so it computes the alpha from the
  decoded crop itself: a = clip((max_c |G*crop - G*B*_box| - t_lo) / (t_hi - t_lo), 0, 1),
  closed morphologically and feathered (Gaussian). Where the JSCC reproduced background,
  B* (sharp, noise-free) is shown; where it differs, the decoded pixels are.
- ``receiver_rembg`` (no bits): the seed's way, rembg run on the decoded crop.
- ``sent``: the transmitter's foreground mask inside each box, sent losslessly; its bits
  are the size of the box's binary mask as a PNG (deflate) file, x 8.
- ``box``: alpha = 1 over the whole box (no bits).
"""

from __future__ import annotations

import cv2
import numpy as np

from bssim.pipeline.keyinfo import Box
from bssim.pipeline.extract import rembg_probability

ALPHA_MODES = ("receiver_diff", "receiver_rembg", "sent", "box")


def diff_alpha(crop: np.ndarray, bg_crop: np.ndarray, t_lo: float = 12.0, t_hi: float = 36.0,
               close_px: int = 7, feather_px: int = 3) -> np.ndarray:
    """Soft alpha in [0, 1] (float32) from the decoded crop and the same box of B*."""
    a = cv2.GaussianBlur(crop, (5, 5), 0).astype(np.int16)
    b = cv2.GaussianBlur(bg_crop, (5, 5), 0).astype(np.int16)
    d = np.abs(a - b).max(axis=2).astype(np.float32)
    alpha = np.clip((d - t_lo) / max(1e-6, t_hi - t_lo), 0.0, 1.0)
    if close_px > 1:
        alpha = cv2.morphologyEx(alpha, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close_px, close_px)))
    if feather_px > 0:
        k = 2 * feather_px + 1
        alpha = cv2.GaussianBlur(alpha, (k, k), 0)
    return alpha


def mask_png_bits(mask: np.ndarray) -> int:
    """Bits of a binary mask sent losslessly as a 1-channel PNG (deflate, max compression)."""
    ok, buf = cv2.imencode(".png", mask.astype(np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 9, cv2.IMWRITE_PNG_BILEVEL, 1])
    if not ok:
        raise ValueError("cannot PNG-encode mask")
    return int(buf.size) * 8


def composite(background: np.ndarray, crops: list[tuple[Box, np.ndarray, np.ndarray]]) -> np.ndarray:
    """B* with each (box, decoded crop, alpha) blended in: out = a crop + (1 - a) B*."""
    out = background.astype(np.float32).copy()
    for (x1, y1, x2, y2), crop, alpha in crops:
        a = alpha.astype(np.float32)[..., None]
        out[y1:y2, x1:x2] = a * crop.astype(np.float32) + (1.0 - a) * out[y1:y2, x1:x2]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def receiver_alpha(mode: str, crop: np.ndarray, bg_crop: np.ndarray, sent_mask: np.ndarray | None,
                   rembg_model: str = "u2netp") -> np.ndarray:
    """Alpha for one decoded crop under ``mode`` (see module docstring)."""
    if mode == "receiver_diff":
        return diff_alpha(crop, bg_crop)
    if mode == "receiver_rembg":

        return rembg_probability(crop, rembg_model)
    if mode == "sent":
        if sent_mask is None:
            raise ValueError("alpha_mode 'sent' needs the transmitter's mask")
        return cv2.GaussianBlur(sent_mask.astype(np.float32), (3, 3), 0)
    if mode == "box":
        return np.ones(crop.shape[:2], np.float32)
    raise ValueError(f"alpha_mode {mode!r} unknown; choose one of {', '.join(ALPHA_MODES)}")
