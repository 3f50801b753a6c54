"""Task-metric arithmetic: mask IoU, box IoU, one-to-one matching, detection F1; detector input checks."""

from __future__ import annotations

import numpy as np
import pytest

from bssim.semantic.task import box_iou, detection_f1, mask_iou, match_boxes


def test_mask_iou_counts_pixels_and_both_empty_is_one():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    assert mask_iou(a, b) == 1.0
    a[:2] = True  # 8 px
    b[1:3] = True  # 8 px, 4 shared
    assert mask_iou(a, b) == pytest.approx(4 / 12)
    assert mask_iou(a, np.zeros_like(a)) == 0.0
    with pytest.raises(ValueError, match="differ in shape"):
        mask_iou(a, np.zeros((4, 5), bool))


def test_box_iou_half_overlap():
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0


def test_matching_is_one_to_one_strongest_first():
    truth = np.array([[0, 0, 10, 20]], float)
    found = np.array([[0, 0, 10, 20, 2.0], [1, 0, 11, 20, 1.0]])  # both overlap the one truth box
    assert match_boxes(found, truth) == [(0, 0)]
    assert detection_f1(truth, found) == pytest.approx(2 * 1 / 3)
    with pytest.raises(ValueError, match="iou_min"):
        match_boxes(found, truth, iou_min=0.0)


def test_f1_threshold_at_iou_half():
    orig = np.array([[0, 0, 10, 10]], float)
    assert detection_f1(orig, np.array([[0, 0, 10, 20, 1.0]])) == 1.0  # IoU exactly 0.5
    assert detection_f1(orig, np.array([[0, 0, 10, 21, 1.0]])) == 0.0  # IoU 10/21 < 0.5
    assert detection_f1(np.zeros((0, 5)), np.zeros((0, 5))) == 1.0
    assert detection_f1(orig, np.zeros((0, 5))) == 0.0


def test_detector_settings_and_input_are_checked():
    from bssim.semantic.detect import DetectorSettings, detect_people

    with pytest.raises(ValueError, match="min_person_px"):
        DetectorSettings(min_person_px=0)
    with pytest.raises(ValueError, match="scale_step"):
        DetectorSettings(scale_step=1.0)
    with pytest.raises(ValueError, match="uint8"):
        detect_people(np.zeros((200, 100, 3), np.float32))


def test_detector_finds_nobody_on_a_flat_image():
    from bssim.semantic.detect import detect_people

    boxes = detect_people(np.full((256, 192, 3), 128, np.uint8))
    assert boxes.shape == (0, 5)
