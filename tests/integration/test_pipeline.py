"""Key-information pipeline: library, matching, extraction, boxes, resolution, video backgrounds.

Real data (vtest.avi, Kodak, train_images, rembg's u2netp); skipped with a reason where the
shared files are absent. JSCC-dependent tests are in test_pipeline_measure.py.
"""

from __future__ import annotations

import socket

import cv2
import numpy as np
import pytest

from bssim.paths import shared_data, shared_models_dir
from bssim.pipeline import (
    BackgroundLibrary,
    ExtractorSettings,
    extract_foreground,
    library_from_folder,
    match_background,
    read_frames,
    read_image,
    side_info_bits,
    temporal_background,
)
from bssim.files import list_images
from bssim.pipeline.keyinfo import boxes_from_mask, merge_boxes
from bssim.pipeline.resolution import downscale, scaled_size, upscale

VIDEO = shared_data("vtest.avi")
needs_video = pytest.mark.skipif(not VIDEO.is_file(), reason=f"shared video missing: {VIDEO}")
needs_images = pytest.mark.skipif(
    not shared_data("kodak").is_dir() or not shared_data("train_images").is_dir(),
    reason="shared Kodak / train_images folders missing",
)
needs_rembg = pytest.mark.skipif(
    not (shared_models_dir() / "u2netp.onnx").is_file(), reason="shared rembg model u2netp.onnx missing"
)
TEST_FRAMES = (100, 400, 700)


@pytest.fixture(scope="module")
def frames():
    return read_frames(VIDEO, list(TEST_FRAMES) + [0, 9, 18])


@pytest.fixture(scope="module")
def video_bg():
    # background from frames disjoint from the test frames (every 20th, offset 10)
    sample = read_frames(VIDEO, range(10, 795, 20))
    return temporal_background(sample)


@pytest.fixture(scope="module")
def distractor_library(video_bg, frames):
    """True background among 24 Kodak images, 38 training photographs, the mirrored background
    and mirrored / upside-down-mirrored vtest frames (a frame rotated by 180 degrees is not a
    fair distractor: ORB is rotation invariant, it ties with the true background)."""
    lib = BackgroundLibrary(orb_features=1000)
    lib.add("vtest_frame0_mirrored", np.ascontiguousarray(frames[0][:, ::-1]))
    lib.add("vtest_frame9_flipped", np.ascontiguousarray(frames[9][::-1]))
    for p in list_images(shared_data("kodak")):
        lib.add("kodak_" + p.stem, read_image(p))
    for p in list_images(shared_data("train_images")):
        lib.add("train_" + p.stem, read_image(p, allow_grey=True))
    lib.add("vtest_mirrored", np.ascontiguousarray(video_bg.image[:, ::-1]))
    lib.add("vtest_true", video_bg.image)
    return lib


# ---- library -----------------------------------------------------------------------------
@needs_video
def test_library_save_load_roundtrip(tmp_path, video_bg):
    lib = BackgroundLibrary(orb_features=500)
    lib.add("a", video_bg.image, source="test")
    lib.add("b", np.ascontiguousarray(video_bg.image[::2, ::2]))
    lib.save(tmp_path / "lib")
    assert sorted(p.name for p in (tmp_path / "lib").iterdir()) == sorted(
        ["index.json", "a.png", "a.points.npy", "a.desc.npy", "b.png", "b.points.npy", "b.desc.npy"]
    )
    back = BackgroundLibrary.load(tmp_path / "lib")
    assert back.names == ["a", "b"] and back.orb_features == 500
    assert np.array_equal(back.get("a").image, video_bg.image)
    assert np.array_equal(back.get("a").features.descriptors, lib.get("a").features.descriptors)
    assert len(back.get("a").features) > 100


def test_library_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="index.json"):
        BackgroundLibrary.load(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        library_from_folder(tmp_path / "empty")
    img = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="library is empty"):
        match_background(img, BackgroundLibrary())
    with pytest.raises(ValueError, match="name"):
        BackgroundLibrary().add("bad name/with slash", img)


# ---- matching ----------------------------------------------------------------------------
@needs_video
@needs_images
def test_matching_picks_true_background_among_distractors(frames, distractor_library):
    for i in TEST_FRAMES:
        r = match_background(frames[i], distractor_library, None, hamming_max=40, n_min=60)
        assert r.matched and r.name == "vtest_true", (i, r.name)
        counts = dict(zip(distractor_library.names, r.counts))
        runner_up = max(v for k, v in counts.items() if k != "vtest_true")
        assert counts["vtest_true"] >= 60 > runner_up, (i, counts["vtest_true"], runner_up)


@needs_video
@needs_images
def test_matching_fails_for_unrelated_image(distractor_library, video_bg):
    lib = BackgroundLibrary(orb_features=1000)
    lib.add("vtest_true", video_bg.image)
    lib.add("vtest_mirrored", np.ascontiguousarray(video_bg.image[:, ::-1]))
    r = match_background(read_image(shared_data("kodak", "kodim05.png")), lib, hamming_max=40, n_min=60)
    assert not r.matched and r.index == -1 and r.best_count < 60


@needs_video
def test_person_mask_excludes_keypoints(frames, video_bg):
    """Masking the people (convex hulls) removes key points there but keeps the match."""
    lib = BackgroundLibrary(orb_features=1000)
    lib.add("bg", video_bg.image)
    from bssim.pipeline.extract import bgdiff_mask
    from bssim.pipeline.orb import hull_exclusion_mask, orb_features

    fg = bgdiff_mask(frames[400], video_bg.image)
    keep = hull_exclusion_mask(fg)
    assert keep[fg].max() == 0  # every person pixel is excluded
    feats = orb_features(frames[400], 1000, keep)
    xs, ys = feats.points[:, 0].astype(int), feats.points[:, 1].astype(int)
    assert not fg[ys, xs].any()
    r = match_background(frames[400], lib, fg)
    assert r.matched


# ---- extraction --------------------------------------------------------------------------
@needs_video
def test_bgdiff_finds_the_pedestrians(frames, video_bg):
    m = extract_foreground(frames[400], video_bg.image, ExtractorSettings("bgdiff"))
    boxes = boxes_from_mask(m, 8)
    # a handful of pedestrians cover a few per cent of the frame, not nothing, not everything
    assert 0.005 < m.mean() < 0.10
    assert 1 <= len(boxes) <= 12
    # the foreground differs from the background; the rest matches it closely
    d = np.abs(frames[400].astype(int) - video_bg.image.astype(int)).max(axis=2)
    assert d[m].mean() > 3 * d[~m].mean()


@needs_video
@needs_rembg
def test_rembg_and_hybrid_extractors_run(frames, video_bg):
    whole = extract_foreground(frames[400], None, ExtractorSettings("rembg"))
    hyb = extract_foreground(frames[400], video_bg.image, ExtractorSettings("hybrid"))
    bgd = extract_foreground(frames[400], video_bg.image, ExtractorSettings("bgdiff"))
    assert whole.shape == hyb.shape == frames[400].shape[:2]
    # hybrid refines bgdiff's regions: inside them, never outside
    region = cv2.dilate(bgd.astype(np.uint8), np.ones((17, 17), np.uint8)) > 0
    assert hyb.any() and not (hyb & ~region).any()
    # the lead's measurement: whole-frame u2netp marks far less than the pedestrians' area
    assert whole.mean() < bgd.mean()


def test_rembg_missing_model_is_a_clear_error_without_network(tmp_path, monkeypatch):
    from bssim.pipeline import extract

    def no_network(*a, **k):
        raise AssertionError("test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    extract.rembg_session.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match=r"u2netp\.onnx.*" + str(tmp_path).replace("/", ".")):
            extract.rembg_mask(np.zeros((64, 64, 3), np.uint8), "u2netp")
        with pytest.raises(ValueError, match="unknown rembg model"):
            extract.rembg_model_path("no_such_model")
    finally:
        extract.rembg_session.cache_clear()


# ---- key information, resolution ---------------------------------------------------------
def test_boxes_per_component_margin_merge_and_side_bits():
    m = np.zeros((100, 200), bool)
    m[10:20, 10:20] = True  # A
    m[10:20, 24:30] = True  # B, overlaps A once margins are added
    m[60:90, 150:170] = True  # C, far away
    boxes = boxes_from_mask(m, margin_px=3)
    assert boxes == [(7, 7, 33, 23), (147, 57, 173, 93)]
    assert merge_boxes([(0, 0, 5, 5), (4, 4, 8, 8), (7, 7, 9, 9)]) == [(0, 0, 9, 9)]
    assert boxes_from_mask(m, margin_px=3, max_boxes=1) == [(7, 7, 173, 93)]  # the seed's single box
    # 768 x 576 frame: 10 + 10 bits per coordinate, 4 fields; 8 bits box count; 6 bits for 64 backgrounds
    assert side_info_bits(2, 768, 576, 64) == 6 + 8 + 2 * 2 * (10 + 10)
    assert side_info_bits(0, 768, 576, 1) == 8


def test_resolution_detection_scales_below_threshold_and_back():
    assert scaled_size(100, 100, 20000) == (100, 100)
    h, w = scaled_size(576, 768, 65536)
    assert h * w <= 65536 and h * w > 0.9 * 65536 and abs(w / h - 768 / 576) < 0.05
    img = np.random.default_rng(0).integers(0, 256, (576, 768, 3), dtype=np.uint8)
    small = downscale(img, 65536)
    assert small.shape[:2] == (h, w)
    assert upscale(small, 576, 768).shape == img.shape


# ---- bad input ---------------------------------------------------------------------------
def test_bad_inputs_give_clear_errors(tmp_path):
    from bssim.files import check_rgb, read_frames

    bad = tmp_path / "broken.avi"
    bad.write_bytes(b"this is not a video" * 100)
    with pytest.raises(ValueError, match="broken.avi"):
        read_frames(bad)
    with pytest.raises(FileNotFoundError, match="missing.avi"):
        read_frames(tmp_path / "missing.avi")
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), np.full((64, 64), 128, np.uint8))
    with pytest.raises(ValueError, match="grey-scale"):
        read_image(grey)
    one = tmp_path / "one.png"
    cv2.imwrite(str(one), np.zeros((1, 1, 3), np.uint8))
    with pytest.raises(ValueError, match="1x1 pixels is too small"):
        read_image(one)
    with pytest.raises(ValueError, match=r"shape \(64, 64\)"):
        check_rgb(np.zeros((64, 64), np.uint8))


# ---- video backgrounds -------------------------------------------------------------------
@needs_video
def test_temporal_background_removes_people(frames, video_bg):
    """The background built from other frames is closer to each frame's non-foreground than
    any single frame is, and has no pedestrians: its difference to a frame is concentrated
    on that frame's foreground."""
    assert video_bg.hole_fraction < 0.01
    f = frames[700]
    m = extract_foreground(f, video_bg.image, ExtractorSettings("bgdiff"))
    d = np.abs(f.astype(int) - video_bg.image.astype(int)).max(axis=2)
    assert np.median(d[~m]) < 8


def test_masked_median_and_holes():
    from bssim.pipeline.video import masked_median

    frames = np.stack([np.full((4, 4, 3), v, np.uint8) for v in (10, 20, 200)])
    fg = np.zeros((3, 4, 4), bool)
    fg[2] = True  # the 200-frame is foreground everywhere
    fg[:, 0, 0] = True  # pixel (0, 0) never uncovered
    med, count = masked_median(frames, fg)
    assert med[1, 1, 0] == 10 and count[1, 1] == 2 and count[0, 0] == 0


# ---- segmentation, live mode, frame interpolation ---------------------------------------
@needs_video
@needs_images
def test_segment_by_orb_splits_at_scene_change(frames):
    """vtest frames then a camera panning over Kodak 'kodim21': two segments, cut at the change."""
    from bssim.pipeline import segment_by_orb

    k = read_image(shared_data("kodak", "kodim21.png"))
    seq = [frames[0], frames[9], frames[18], frames[100]]
    seq += [np.ascontiguousarray(k[0:448, x:x + 640]) for x in (0, 16, 32, 48)]
    assert segment_by_orb(seq, threshold=0.3) == [[0, 1, 2, 3], [4, 5, 6, 7]]


@needs_video
def test_live_background_fills_holes_and_counts_update_bits():
    from bssim.pipeline import LiveBackground

    fr = read_frames(VIDEO, range(0, 200, 4))
    live = LiveBackground(warmup=5, min_pixels=500)

    def lossless(img):  # a raw 24 bit/pixel link, so the test checks the update logic only
        return img.copy(), img.shape[0] * img.shape[1] * 24

    ups = [live.push(f, lossless) for f in fr.values()]
    first = ups[4]
    assert ups[:4] == [None] * 4 and first is not None and first.box == (0, 0, 768, 576)
    assert live.updates[0] is first and all(u.frame >= 4 for u in live.updates)
    assert live.total_bits == sum(u.bits for u in live.updates)
    for u in live.updates[1:]:  # each later update is one changed region, not the whole frame
        x1, y1, x2, y2 = u.box
        assert 0 <= x1 < x2 <= 768 and 0 <= y1 < y2 <= 576 and (x2 - x1) * (y2 - y1) < 768 * 576
    assert live.total_bits >= 768 * 576 * 24  # at least the first full background
    assert live.seen.mean() > 0.99  # nearly every pixel uncovered after 200 frames
    # the receiver's copy tracks the transmitter's estimate where it was updated
    diff = np.abs(live.receiver.astype(int) - live.estimate.astype(int)).max(axis=2)
    assert np.mean(diff[live.seen] <= live.delta + 1) > 0.95
    # updates are occasional, not every frame: far fewer bits than 50 full backgrounds
    assert sum(u is not None for u in ups[5:]) < 25 and live.total_bits < 10 * 768 * 576 * 24


@needs_video
def test_interpolated_frame_beats_repeating_a_frame():
    from bssim.metrics import psnr_db
    from bssim.pipeline import interpolate_frame

    fr = read_frames(VIDEO, [300, 302, 304])
    mid = interpolate_frame(fr[300], fr[304])
    blend = ((fr[300].astype(np.uint16) + fr[304]) // 2).astype(np.uint8)
    assert mid.shape == fr[302].shape
    assert psnr_db(fr[302], mid) > psnr_db(fr[302], fr[300])
    assert psnr_db(fr[302], mid) > psnr_db(fr[302], blend)


def test_box_snapping_keeps_boxes_inside_and_covering():
    from bssim.pipeline.keyinfo import snap_box

    assert snap_box((10, 10, 50, 30), 32, 200, 100) == (0, 4, 64, 36)
    for box in [(10, 10, 50, 30), (0, 0, 5, 5), (190, 90, 200, 100), (0, 0, 200, 100)]:
        b = snap_box(box, 32, 200, 100)
        assert 0 <= b[0] and 0 <= b[1] and b[2] <= 200 and b[3] <= 100
        assert b[0] <= box[0] and b[1] <= box[1] and b[2] >= box[2] and b[3] >= box[3]
        assert (b[2] - b[0]) % 32 == 0 or b[2] - b[0] == 200
        assert (b[3] - b[1]) % 32 == 0 or b[3] - b[1] == 100
    m = np.zeros((100, 200), bool)
    m[10:20, 10:20] = True
    m[60:90, 150:170] = True
    for b in boxes_from_mask(m, 3, quantum_px=32):
        assert (b[2] - b[0]) % 32 == 0 and (b[3] - b[1]) % 32 == 0


@needs_video
@needs_images
def test_pruned_masked_matching_agrees_with_full(frames, distractor_library, video_bg):
    from bssim.pipeline.extract import bgdiff_mask

    f = frames[400]
    fg = bgdiff_mask(f, video_bg.image)
    first = match_background(f, distractor_library, None, n_min=1)
    full = match_background(f, distractor_library, fg)
    pruned = match_background(f, distractor_library, fg, prune_with=first.counts)
    assert pruned.name == full.name == "vtest_true"
    assert pruned.best_count == full.best_count
    assert sum(c >= 0 for c in pruned.counts) < len(distractor_library) // 2  # most were skipped
