"""Seed 000's own person mask, MediaPipe pose (``extractor = "pose"`` / ``"pose+bgdiff"``), on
the shared videos: it finds the close-up person of a Megamind frame, finds nobody among
vtest's small pedestrians (so ``pose+bgdiff`` falls back to bgdiff there), and runs through
the key-information pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from bssim.paths import shared_data
from bssim.pipeline import read_frames
from bssim.pipeline.extract import ExtractorSettings, bgdiff_mask, extract_foreground, pose_mask

mp = pytest.importorskip("mediapipe", reason="mediapipe 0.10.21 not installed (make install installs it)")
MEGAMIND, VTEST = shared_data("Megamind.avi"), shared_data("vtest.avi")
needs_videos = pytest.mark.skipif(not (MEGAMIND.is_file() and VTEST.is_file()), reason="shared videos missing")


@needs_videos
def test_pose_finds_the_close_up_person_and_not_the_small_pedestrians():
    close_up = read_frames(MEGAMIND, [150])[150]
    mask = pose_mask(close_up)
    assert 0.05 < mask.mean() < 0.8  # one person, a good part of the frame
    ys, xs = np.nonzero(mask)
    assert ys.max() - ys.min() > 0.3 * mask.shape[0]  # a body, not a speck
    street = read_frames(VTEST, [450])[450]
    assert not pose_mask(street).any()


@needs_videos
def test_pose_plus_bgdiff_falls_back_to_bgdiff_where_pose_finds_nobody():
    from bssim.pipeline.video import video_background

    bg = video_background(VTEST, max_frames=20).image
    street = read_frames(VTEST, [450])[450]
    both = extract_foreground(street, bg, ExtractorSettings("pose+bgdiff"))
    np.testing.assert_array_equal(both, bgdiff_mask(street, bg))
    assert both.any()
