"""The ``key`` scheme: key information (seed 000 II.B–II.F).

Each person box (II.C) goes through the codec at the rate level; the receiver pastes the
decoded crops onto the matched background B* of the shared library (II.F), with the alpha of
``alpha_mode``. Side information (:func:`bssim.pipeline.keyinfo.side_info_bits`): background
index, box count, box positions and sizes, plus the mask's PNG bits when the mask is sent.
Only offered where background matching succeeded (II.B); otherwise the frame goes direct.
Diagnostics: ``fg_fraction``, ``box_fraction`` and ``fg_missed_fraction`` (the share of the
reference foreground outside every box).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bssim.codecs.base import CodeJob, Codec
from bssim.pipeline.keyinfo import box_area, side_info_bits
from bssim.pipeline.resolution import upscale
from bssim.pipeline.synthesis import composite, mask_png_bits, receiver_alpha
from bssim.pipeline.transmitter import KeyInfo
from bssim.schemes.base import Frame, Scheme, SchemeOption, job_for, register_scheme, scale_groups, side_cost


def side_bits(frame: Frame) -> int:
    """Background index, boxes (and mask bits when the mask is sent)."""
    ki, (h, w) = frame.key_info, frame.image.shape[:2]
    bits = side_info_bits(len(ki.boxes), w, h, frame.n_backgrounds)
    if frame.settings.alpha_mode == "sent":
        bits += sum(mask_png_bits(ki.mask[y1:y2, x1:x2]) for (x1, y1, x2, y2) in ki.boxes)
    return bits


def geometry(ki: KeyInfo, fg: np.ndarray) -> dict[str, float]:
    """Foreground share, box share, and the share of the reference foreground the boxes miss."""
    h, w = ki.mask.shape
    inbox = np.zeros((h, w), bool)
    for (x1, y1, x2, y2) in ki.boxes:
        inbox[y1:y2, x1:x2] = True
    missed = float((fg & ~inbox).sum() / fg.sum()) if fg.any() else 0.0
    return {"fg_fraction": float(ki.mask.mean()), "box_fraction": box_area(ki.boxes) / (h * w),
            "fg_missed_fraction": missed}


def rebuild(frame: Frame, decoded: list[np.ndarray]) -> np.ndarray:
    """The receiver: each decoded crop scaled back to its box and pasted onto B*."""
    ki, s = frame.key_info, frame.settings
    crops = []
    for (x1, y1, x2, y2), dec in zip(ki.boxes, decoded):
        dec = upscale(dec, y2 - y1, x2 - x1)
        sent = ki.mask[y1:y2, x1:x2] if s.alpha_mode == "sent" else None
        crops.append(((x1, y1, x2, y2), dec,
                      receiver_alpha(s.alpha_mode, dec, ki.background[y1:y2, x1:x2], sent, s.rembg_model)))
    return composite(ki.background, crops)


@register_scheme("key", "key information", "Oranges")
class Key(Scheme):
    """People crops + library background (module docstring)."""

    def measure(self, frame: Frame, codec: Codec, scales: Sequence[float], job: CodeJob) -> list[SchemeOption]:
        if not frame.matched:
            return []
        ki = frame.key_info
        side = side_cost(side_bits(frame), codec.kind)
        extra = geometry(ki, frame.foreground)
        boxes = [np.ascontiguousarray(frame.image[y1:y2, x1:x2]) for (x1, y1, x2, y2) in ki.boxes]
        settings = codec.settings()
        out = []
        for eff, small in scale_groups(boxes, scales, frame.settings.max_pixels):
            per_box = [codec.code(crop, settings, job_for(job, frame.content_key, "key", eff, b))
                       for b, crop in enumerate(small)]
            for j, s in enumerate(settings):
                coded = [c[j] for c in per_box]
                n_act = float(np.mean([c.n_active for c in coded])) if coded else float("nan")
                out.append(SchemeOption(s, eff, side + sum(c.cost for c in coded),
                                        rebuild(frame, [c.image for c in coded]), n_act, extra))
        return out
