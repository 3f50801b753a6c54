"""Key-information pipeline (seed 000 sections II-III; DESIGN.md section 3).

Public API::

    from bssim.pipeline import extract_key_info, library_from_video, PipelineSettings, read_frames
    lib = library_from_video("vtest.avi")                 # temporal-median background
    frame = read_frames("vtest.avi", [300])[300]
    ki = extract_key_info(frame, lib, PipelineSettings()) # B*, person mask, boxes

Transmitter: :mod:`.io` (images, video), :mod:`.orb` (features, N_k), :mod:`.library`,
:mod:`.matching` (B*), :mod:`.extract` (rembg / bgdiff / hybrid), :mod:`.keyinfo` (boxes,
side-information bits), :mod:`.resolution` (seed II.D), :mod:`.transmitter` (the stages
together); receiver: :mod:`.synthesis` (alpha, compositing); video: :mod:`.video`
(backgrounds from video, segmentation, live mode, interpolation). Every option of a frame is
measured through these stages by :func:`bssim.options.measure.measure_item`.
"""

from __future__ import annotations

from bssim.pipeline.extract import EXTRACTORS, ExtractorSettings, extract_foreground, rembg_model_path, set_threads
from bssim.files import content_id, read_frames, read_image, video_info
from bssim.pipeline.keyinfo import boxes_from_mask, side_info_bits
from bssim.pipeline.library import BackgroundLibrary, library_from_folder, load_library
from bssim.pipeline.matching import MatchResult, match_background
from bssim.pipeline.transmitter import KeyInfo, PipelineSettings, extract_key_info
from bssim.pipeline.video import (
    LiveBackground,
    interpolate_frame,
    library_from_video,
    segment_by_orb,
    temporal_background,
    video_background,
)

__all__ = [
    "EXTRACTORS", "BackgroundLibrary", "ExtractorSettings", "KeyInfo", "LiveBackground", "MatchResult",
    "PipelineSettings", "boxes_from_mask", "content_id", "extract_foreground", "extract_key_info", "interpolate_frame",
    "library_from_folder", "library_from_video", "load_library", "match_background", "read_frames", "read_image",
    "rembg_model_path", "segment_by_orb", "set_threads", "side_info_bits", "temporal_background", "video_background",
    "video_info",
]
