"""The task metrics' instruments against hand-labelled people on vtest.avi (tests/data/vtest_people.json),
and the metrics' response to a degraded frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bssim.paths import shared_data

TRUTH = Path(__file__).resolve().parent.parent / "data" / "vtest_people.json"
VTEST = shared_data("vtest.avi")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def figures():
    from bssim.semantic.u2netp import default_onnx_path
    from bssim.semantic.validate import validate

    if not VTEST.is_file():
        pytest.skip(f"{VTEST} not found (shared data)")
    if not default_onnx_path().is_file():
        pytest.skip(f"u2netp.onnx not found at {default_onnx_path()}")
    return validate(TRUTH, VTEST)


def test_hog_detector_against_truth(figures):
    t = figures["total"]
    assert t["n"] == 21
    assert t["recall"] >= 0.75, t  # measured 18/21 = 0.86
    assert t["precision"] >= 0.70, t  # measured 18/23 = 0.78


def test_u2netp_mask_against_truth(figures):
    t = figures["total"]
    assert t["boxes_covered_20pct"] >= 0.80, t  # measured 18/21 boxes at least 20 % covered
    assert t["in_boxes_min"] >= 0.5, t  # measured >= 0.58: most of the mask lies on people
    for f in figures["frames"].values():
        assert max(f["coverage"]) >= 0.4  # a walker fills about half of its tight box


def test_metrics_fall_with_degradation():
    from bssim.files import read_frames
    from bssim.semantic.task import person_f1, person_iou

    if not VTEST.is_file():
        pytest.skip(f"{VTEST} not found (shared data)")
    frame = read_frames(VTEST, [550])[550]
    mild = cv2.imdecode(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1], cv2.IMREAD_UNCHANGED)
    harsh = cv2.GaussianBlur(frame, (0, 0), 6.0)
    assert person_iou(frame, frame) == 1.0 and person_f1(frame, frame) == 1.0
    iou_mild, iou_harsh = person_iou(frame, mild), person_iou(frame, harsh)
    f1_mild, f1_harsh = person_f1(frame, mild), person_f1(frame, harsh)
    assert iou_mild > 0.6 and f1_mild > 0.6, (iou_mild, f1_mild)
    assert iou_harsh < iou_mild - 0.2 and f1_harsh < f1_mild - 0.2, (iou_harsh, iou_mild, f1_harsh, f1_mild)


def test_seed002_importance_lies_on_the_people(figures):
    """Grad-CAM importance: most of its mass inside the truth boxes (which cover 2-6 % of the
    frame), far more than the input gradient it replaced."""
    for fid, f in figures["frames"].items():
        assert f["importance_in_boxes_grad_cam"] > 0.4, (fid, f)
        assert f["importance_in_boxes_grad_cam"] > 5 * f["box_area_share"], (fid, f)
        assert f["importance_in_boxes_grad_cam"] > 2 * f["importance_in_boxes_gradient"], (fid, f)
