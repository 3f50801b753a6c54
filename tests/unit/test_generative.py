"""Seed 003's generative scheme: the description (an inpainted palette thumbnail, its PNG
counted), the regeneration, and the rows (no shared data: a synthetic matched frame)."""

from __future__ import annotations

import numpy as np

from bssim.codecs import CodecConfig, make_codec
from bssim.metrics import psnr_db
from bssim.options.measure import MeasureSpec, measure_codec
from bssim.pipeline.keyinfo import side_info_bits
from bssim.pipeline.matching import MatchResult
from bssim.pipeline.transmitter import KeyInfo, PipelineSettings
from bssim.schemes import Frame
from bssim.schemes.generative import THUMB_WIDTHS, describe, regenerate


def _scene(h: int = 96, w: int = 128) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """A smooth background with a bright striped 'person' box: (frame, background, box)."""
    y, x = np.mgrid[0:h, 0:w]
    bg = np.stack([x * 200 / w + 20, y * 200 / h + 20, np.full_like(x, 90.0)], axis=-1).astype(np.uint8)
    frame = bg.copy()
    box = (40, 20, 72, 84)
    py, px = np.mgrid[0:64, 0:32]
    person = np.stack([200 + 50 * np.sin(px / 3.0), 180 + 60 * np.cos(py / 5.0), 220 - py], axis=-1)
    frame[20:84, 40:72] = np.clip(person, 0, 255).astype(np.uint8)
    return frame, bg, box


def test_the_thumbnail_leaves_the_people_out_and_more_pixels_cost_more_bits():
    frame, bg, box = _scene()
    small, large = describe(frame, [box], 16), describe(frame, [box], 64)
    assert len(large) > len(small)
    back = regenerate(large, *frame.shape[:2])
    assert back.shape == frame.shape
    x1, y1, x2, y2 = box
    assert psnr_db(bg[y1:y2, x1:x2], back[y1:y2, x1:x2]) > 20.0  # inpainted: the background, not the person
    assert psnr_db(bg, back) > psnr_db(bg, regenerate(describe(frame, [], 64), *frame.shape[:2]))


def test_generative_rows_count_boxes_description_and_crop_bits():
    frame, bg, box = _scene()
    mask = np.zeros(frame.shape[:2], bool)
    mask[20:84, 40:72] = True
    ki = KeyInfo(MatchResult(True, 0, "bg", [50], 100), mask, [box], bg)
    f = Frame(frame, ki, 1, PipelineSettings(), foreground=mask)
    codec = make_codec("webp", CodecConfig(qualities=(20, 80)))
    rows = measure_codec(f, codec, MeasureSpec(schemes=("key", "generative"))).rows
    gen = [r for r in rows if r["scheme"] == "generative"]
    key = {r["setting"]: r for r in rows if r["scheme"] == "key"}
    assert len(gen) == 2 * len(THUMB_WIDTHS) and len({r["rate_label"] for r in gen}) == len(gen)
    for r in gen:
        level, _, setting = r["setting"].partition("+")
        crop_bits = key[setting]["bits"] - side_info_bits(1, 128, 96, 1)  # key: one background, no index bits
        assert r["bits"] == side_info_bits(1, 128, 96, 1) + r["description_bits"] + crop_bits
        assert level in {f"t{w}" for w in THUMB_WIDTHS}
    by = {r["setting"]: r for r in gen}
    for w in THUMB_WIDTHS:  # the people are coded: better inside them at the higher quality
        assert by[f"t{w}+q80"]["psnr_fg_db"] > by[f"t{w}+q20"]["psnr_fg_db"] + 3.0
