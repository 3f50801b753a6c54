"""The ``generative`` scheme: seed 003's key / non-key transmission, as an offline equivalent.

Seed 003 sends the key regions (the people) through an image codec and the non-key regions
as a text prompt that a text-to-image model regenerates. No captioning or text-to-image
model can be installed or downloaded on these machines, so the description here is a small
image one and the regeneration is classical (documented as such in docs/seeds.md):

* **key regions**: the people's boxes — the frame's key information where its background
  matched the library (seed 000's mask), else the rembg (u²-net-p) mask of the frame itself —
  through the codec at the rate level, pasted whole (box alpha) at the receiver;
* **description of the rest**: a thumbnail ``width`` px wide of the frame with the boxes
  inpainted away (``cv2.inpaint``, Telea, at thumbnail size), reduced to a palette of
  ``colours`` colours (Pillow median cut) and sent as a palette PNG (deflate: the entropy
  coding; its whole file is counted, palette and headers included);
* **regeneration**: the thumbnail upsampled (INTER_CUBIC) and smoothed (Gaussian, σ = half an
  upsampling step), the decoded boxes pasted on it.

Where the background matched, the library index is the description (the seed's retrieval
case): that option is the ``key`` scheme's, so ``generative`` adds the thumbnail description,
offered on every frame, matched or not. Side information: the boxes
(:func:`bssim.pipeline.keyinfo.side_info_bits` without a library index) + the PNG.
Rate levels: thumbnail width × the codec's setting, labelled ``t32+q30``. Diagnostics:
``description_bits`` and ``box_fraction``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from bssim.codecs.base import CodeJob, Codec, RateSetting
from bssim.pipeline.extract import rembg_mask, remove_small
from bssim.pipeline.keyinfo import Box, box_area, boxes_from_mask, side_info_bits
from bssim.pipeline.resolution import upscale
from bssim.pipeline.synthesis import composite
from bssim.schemes.base import Frame, Scheme, SchemeOption, job_for, register_scheme, scale_groups, side_cost

THUMB_WIDTHS = (24, 48)  # description levels: thumbnail width in px
COLOURS = 16  # palette size


def key_regions(frame: Frame) -> list[Box]:
    """The people's boxes: the key information's where matched, else from the rembg mask."""
    if frame.matched:
        return list(frame.key_info.boxes)
    s = frame.settings
    mask = remove_small(rembg_mask(frame.image, s.rembg_model, s.rembg_threshold), s.min_area_px)
    return boxes_from_mask(mask, s.margin_px, quantum_px=s.box_quantum_px)


def describe(image: np.ndarray, boxes: Sequence[Box], width: int, colours: int = COLOURS) -> bytes:
    """The non-key description: the inpainted, palettised thumbnail as PNG bytes."""
    h, w = image.shape[:2]
    tw, th = min(width, w), max(1, round(h * min(width, w) / w))
    thumb = cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA)
    hole = np.zeros((h, w), np.uint8)
    for (x1, y1, x2, y2) in boxes:
        hole[y1:y2, x1:x2] = 255
    small_hole = cv2.resize(hole, (tw, th), interpolation=cv2.INTER_AREA) > 0
    if small_hole.any() and not small_hole.all():
        thumb = cv2.inpaint(thumb, small_hole.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    pal = Image.fromarray(thumb).quantize(colours, method=Image.Quantize.MEDIANCUT)
    buf = io.BytesIO()
    pal.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def regenerate(description: bytes, h: int, w: int) -> np.ndarray:
    """The receiver's background (H, W, 3) uint8 from the description (module docstring)."""
    thumb = np.asarray(Image.open(io.BytesIO(description)).convert("RGB"))
    up = cv2.resize(thumb, (w, h), interpolation=cv2.INTER_CUBIC)
    sigma = 0.5 * w / thumb.shape[1]
    return cv2.GaussianBlur(up, (0, 0), sigma)


@register_scheme("generative", "generative non-key regions", "Purples")
class Generative(Scheme):
    """People through the codec, the rest as a regenerated thumbnail (module docstring)."""

    def measure(self, frame: Frame, codec: Codec, scales: Sequence[float], job: CodeJob) -> list[SchemeOption]:
        h, w = frame.image.shape[:2]
        boxes = key_regions(frame)
        crops = [np.ascontiguousarray(frame.image[y1:y2, x1:x2]) for (x1, y1, x2, y2) in boxes]
        descriptions = {tw: describe(frame.image, boxes, tw) for tw in THUMB_WIDTHS}
        backgrounds = {tw: regenerate(d, h, w) for tw, d in descriptions.items()}
        settings = codec.settings()
        out = []
        for eff, small in scale_groups(crops, scales, frame.settings.max_pixels) if crops else [(1.0, [])]:
            per_box = [codec.code(c, settings, job_for(job, frame.content_key, "generative", eff, b))
                       for b, c in enumerate(small)]
            for j, s in enumerate(settings):
                coded = [c[j] for c in per_box]
                pasted = [(b, upscale(c.image, b[3] - b[1], b[2] - b[0]), np.ones((b[3] - b[1], b[2] - b[0]), np.float32))
                          for b, c in zip(boxes, coded)]
                n_act = float(np.mean([c.n_active for c in coded])) if coded else float("nan")
                for tw, data in descriptions.items():
                    side = side_cost(side_info_bits(len(boxes), w, h, 1) + 8 * len(data), codec.kind)
                    extra = {"description_bits": 8.0 * len(data), "box_fraction": box_area(boxes) / (h * w)}
                    out.append(SchemeOption(RateSetting(s.value, f"t{tw}+{s.label}", s.nominal), eff,
                                            side + sum(c.cost for c in coded), composite(backgrounds[tw], pasted),
                                            n_act, extra))
        return out
