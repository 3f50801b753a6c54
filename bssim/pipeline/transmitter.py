"""The transmitter's key-information stages (seed 000 II.B-II.D; DESIGN.md section 3).

Per frame: background matching against the shared library (II.B: ORB on the frame and
the backgrounds with the people masked out, B* = argmax N_k if N_k >= N_min), foreground
extraction (II.C: ``bgdiff`` against B*, ``rembg``, or ``hybrid``), and one box per
foreground component (margin, sides snapped to ``box_quantum_px``; the seed's single box
with ``single_box``). :class:`PipelineSettings` holds every setting that changes the result
(the measurement cache key includes it).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from bssim.pipeline.extract import EXTRACTORS, ExtractorSettings, bgdiff_mask, extract_foreground, rembg_mask, remove_small
from bssim.pipeline.keyinfo import MAX_BOXES, Box, boxes_from_mask
from bssim.pipeline.library import BackgroundLibrary, require_nonempty
from bssim.pipeline.matching import MatchResult, match_background
from bssim.pipeline.orb import orb_features
from bssim.pipeline.synthesis import ALPHA_MODES

MATCH_MASKS = ("auto", "rembg", "bgdiff2", "none")


@dataclass(frozen=True)
class PipelineSettings:
    """All settings that change a measurement (they form the cache key)."""

    extractor: str = "bgdiff"
    rembg_model: str = "u2netp"
    rembg_threshold: float = 0.5
    diff_threshold: float = 30.0
    open_px: int = 3
    close_px: int = 9
    min_area_px: int = 60
    margin_px: int = 8
    box_quantum_px: int = 4  # box sides snapped up to multiples of this (the JSCC pads to 4 anyway)
    single_box: bool = False  # the seed's one box around all foreground (default: one per component)
    orb_features: int = 1000
    hamming_max: int = 40  # T_h
    n_min: int = 60  # N_min
    match_mask: str = "auto"
    max_pixels: int | None = 768 * 576  # resolution-detection threshold (seed II.D)
    alpha_mode: str = "receiver_diff"  # no mask bits; within ~0.1-0.3 dB of "sent" (docs/pipeline.md)

    def __post_init__(self) -> None:
        if self.extractor not in EXTRACTORS:
            raise ValueError(f"extractor {self.extractor!r} unknown; choose one of {', '.join(EXTRACTORS)}")
        if self.match_mask not in MATCH_MASKS:
            raise ValueError(f"match_mask {self.match_mask!r} unknown; choose one of {', '.join(MATCH_MASKS)}")
        if self.alpha_mode not in ALPHA_MODES:
            raise ValueError(f"alpha_mode {self.alpha_mode!r} unknown; choose one of {', '.join(ALPHA_MODES)}")
        if not 0 <= self.hamming_max <= 256:
            raise ValueError(f"hamming_max (T_h) must be in 0..256 bits, got {self.hamming_max}")
        if self.n_min < 1:
            raise ValueError(f"n_min (N_min) must be >= 1, got {self.n_min}")
        if self.orb_features < 10:
            raise ValueError(f"orb_features must be >= 10, got {self.orb_features}")
        if self.max_pixels is not None and self.max_pixels < 16 * 16:
            raise ValueError(f"max_pixels must be >= 256 or None, got {self.max_pixels}")
        if self.box_quantum_px < 1:
            raise ValueError(f"box_quantum_px must be >= 1, got {self.box_quantum_px}")

    @property
    def extractor_settings(self) -> ExtractorSettings:
        # The extractor's settings are flat fields here (one flat cache key); copy them by name.
        shared = {f.name: getattr(self, f.name) for f in dataclasses.fields(ExtractorSettings) if f.name != "name"}
        return ExtractorSettings(name=self.extractor, **shared)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **kw) -> "PipelineSettings":
        return dataclasses.replace(self, **kw)


@dataclass
class KeyInfo:
    match: MatchResult
    mask: np.ndarray | None  # bool (H, W) foreground, None when matching failed
    boxes: list[Box]
    background: np.ndarray | None  # B* at frame size
    times: dict[str, float] = field(default_factory=dict)


def background_at(lib: BackgroundLibrary, idx: int, shape) -> np.ndarray:
    import cv2

    img = lib.entries[idx].image
    if img.shape[:2] != shape[:2]:
        img = cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    return img


def extract_key_info(frame: np.ndarray, library: BackgroundLibrary, s: PipelineSettings) -> KeyInfo:
    """Matching (seed II.B) + foreground extraction (II.C) + per-component boxes."""
    require_nonempty(library)
    es = s.extractor_settings
    mm = s.match_mask if s.match_mask != "auto" else ("rembg" if s.extractor == "rembg" else "bgdiff2")
    t0 = time.perf_counter()
    person = None
    first_index = -1
    t_mask_only = 0.0
    mkw = dict(n_features=s.orb_features, hamming_max=s.hamming_max, n_min=s.n_min)
    if mm == "rembg":
        person = remove_small(rembg_mask(frame, s.rembg_model, s.rembg_threshold), s.min_area_px)
    elif mm == "bgdiff2":
        # pass 1 without a person mask picks a provisional B*; its difference mask is the
        # person mask of pass 2 (the seed's masked matching).
        fx = orb_features(frame, s.orb_features)
        mkw["frame_features"] = fx
        if len(library) == 1:
            first_index = 0
        else:
            first = match_background(frame, library, None, **{**mkw, "n_min": 1})
            first_index = first.index
            mkw["prune_with"] = first.counts
        tm = time.perf_counter()
        person = bgdiff_mask(frame, background_at(library, first_index, frame.shape), s.diff_threshold,
                             s.open_px, s.close_px, s.min_area_px)
        t_mask_only = time.perf_counter() - tm
    t_mask = time.perf_counter() - t0
    m = match_background(frame, library, person, **mkw)
    t1 = time.perf_counter()
    times = {"t_match_s": t1 - t0}
    if not m.matched:
        return KeyInfo(m, None, [], None, times)
    bg = background_at(library, m.index, frame.shape)
    if s.extractor == "bgdiff" and mm == "bgdiff2" and m.index == first_index:
        mask = person  # the difference mask against this same B*, computed for matching
        times["t_match_s"] -= t_mask_only
        times["t_extract_s"] = t_mask_only
    elif s.extractor == "rembg" and person is not None:
        mask = person
        times["t_match_s"] -= t_mask
        times["t_extract_s"] = t_mask
    else:
        mask = extract_foreground(frame, bg, es)
        times["t_extract_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    boxes = boxes_from_mask(mask, s.margin_px, quantum_px=s.box_quantum_px, max_boxes=1 if s.single_box else MAX_BOXES)
    times["t_boxes_s"] = time.perf_counter() - t2
    return KeyInfo(m, mask, boxes, bg, times)
