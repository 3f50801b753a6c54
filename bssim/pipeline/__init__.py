"""Key-information pipeline (seed 000 sections II-III; DESIGN.md section 3).

Public API::

    from bssim.pipeline import (BackgroundLibrary, library_from_folder, library_from_video,
                                PipelineSettings, measure, measure_frames, run_frame)
    lib = library_from_video("vtest.avi")                 # temporal-median background
    df = measure_frames(read_frames("vtest.avi", range(0, 795, 100)), lib, snr_db=[0, 10, 20])
    df[["frame", "snr_db", "D_bits", "C_bits", "q_direct", "q_key", "alpha", "matched"]]

Modules: :mod:`.io` (images, video), :mod:`.orb` (features, N_k), :mod:`.library`,
:mod:`.matching` (B*), :mod:`.extract` (rembg / bgdiff / hybrid), :mod:`.keyinfo` (boxes,
side-information bits), :mod:`.resolution` (seed II.D), :mod:`.synthesis` (receiver),
:mod:`.video` (backgrounds from video, segmentation, live mode, interpolation),
:mod:`.measure` (both paths, D_n, C_n, alpha_n, cache), :mod:`.experiments` (seed section V).
"""

from __future__ import annotations

from pathlib import Path

from bssim.pipeline.extract import EXTRACTORS, ExtractorSettings, extract_foreground, rembg_model_path, set_threads
from bssim.pipeline.io import content_id, read_frames, read_image, video_info
from bssim.pipeline.keyinfo import boxes_from_mask, side_info_bits
from bssim.pipeline.library import BackgroundLibrary, library_from_folder
from bssim.pipeline.matching import MatchResult, match_background
from bssim.pipeline.measure import PipelineSettings, cache_dir, extract_key_info, measure, measure_frames, run_frame
from bssim.pipeline.video import (
    LiveBackground,
    interpolate_frame,
    segment_by_orb,
    temporal_background,
    video_background,
)


def library_from_video(path: str | Path, max_frames: int = 60, orb_features: int = 1000, fill: str = "inpaint",
                       mask_method: str = "bgdiff", segment_threshold: float | None = None) -> BackgroundLibrary:
    """Library built from a video: one temporal-median background (seed III.B), or, with
    ``segment_threshold``, one per ORB-similarity segment (seed III.C)."""
    from bssim.pipeline.io import file_hash

    name = Path(path).stem
    lib = BackgroundLibrary(orb_features=orb_features)
    info = video_info(path)
    if segment_threshold is None:
        vb = video_background(path, max_frames, fill=fill, mask_method=mask_method)
        lib.add(f"{name}_bg", vb.image, source=f"{path} (sha256 {file_hash(path)}; temporal median of "
                f"{len(vb.frames_used)} frames, holes {100 * vb.hole_fraction:.2f} %, fill {fill})")
        return lib
    import numpy as np

    n = max(1, info["frames"])
    idx = sorted(set(np.linspace(0, n - 1, min(n, max_frames)).round().astype(int).tolist()))
    frames = read_frames(path, idx)
    for k, seg in enumerate(segment_by_orb(frames, segment_threshold)):
        vb = temporal_background({i: frames[i] for i in seg}, fill=fill, mask_method=mask_method)
        lib.add(f"{name}_seg{k}", vb.image, source=f"{path} frames {seg[0]}..{seg[-1]} ({len(seg)} sampled)")
    return lib


__all__ = [
    "EXTRACTORS", "BackgroundLibrary", "ExtractorSettings", "LiveBackground", "MatchResult", "PipelineSettings",
    "boxes_from_mask", "cache_dir", "content_id", "extract_foreground", "extract_key_info", "interpolate_frame",
    "library_from_folder", "library_from_video", "match_background", "measure", "measure_frames", "read_frames",
    "read_image", "rembg_model_path", "run_frame", "segment_by_orb", "set_threads", "side_info_bits", "temporal_background",
    "video_background", "video_info",
]
