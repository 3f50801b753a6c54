"""Task metrics at the receiver: can it still find the people? (issue 12; docs/semantic.md)

* ``person_iou`` = |M_r ∩ M_o| / |M_r ∪ M_o|, M = U²-Net-p person mask (p > 0.5,
  :mod:`bssim.semantic.segment`) on the reconstruction r and on the original o; 1 when
  both masks are empty.
* ``person_f1`` = 2·TP / (|D_r| + |D_o|), D = HOG people detections
  (:mod:`bssim.semantic.detect`) on r and on o, TP = detections on r matched one-to-one
  to detections on o at IoU ≥ 0.5 (greedy, strongest first, as PASCAL VOC); 1 when both
  are empty. The original's detections stand in for the truth, so it measures what the
  channel lost, not the detector's own errors.

Each metric is an ``analyse`` (image → mask or boxes) and a ``compare`` (original's result,
reconstruction's result → score), so a caller measuring many reconstructions of one frame
analyses the original once (:data:`TASK_METRICS`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from bssim.semantic.segment import person_mask
from bssim.semantic.detect import detect_people

IOU_MIN = 0.5


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """|a ∩ b| / |a ∪ b| of two boolean masks of one shape; 1 when both are empty."""
    if a.shape != b.shape:
        raise ValueError(f"masks differ in shape: {a.shape} vs {b.shape}")
    union = int(np.logical_or(a, b).sum())
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of boxes (x1, y1, x2, y2, ...), x2/y2 exclusive; 0 when the union is empty."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, iw) * max(0.0, ih)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def match_boxes(found: np.ndarray, truth: np.ndarray, iou_min: float = IOU_MIN) -> list[tuple[int, int]]:
    """One-to-one matches (i found, j truth): each found box in the given order (strongest
    first) takes the free truth box of highest IoU if that IoU ≥ ``iou_min``."""
    if not 0.0 < iou_min <= 1.0:
        raise ValueError(f"iou_min = {iou_min!r}: must be in (0, 1]")
    free = set(range(len(truth)))
    pairs = []
    for i, f in enumerate(found):
        best = max(free, key=lambda j: box_iou(f, truth[j]), default=None)
        if best is not None and box_iou(f, truth[best]) >= iou_min:
            pairs.append((i, best))
            free.discard(best)
    return pairs


def detection_f1(original: np.ndarray, test: np.ndarray, iou_min: float = IOU_MIN) -> float:
    """F1 = 2·TP / (|test| + |original|) with the original's boxes as truth; 1 when both are empty."""
    n = len(original) + len(test)
    return 1.0 if n == 0 else 2.0 * len(match_boxes(test, original, iou_min)) / n


def _mask(image: np.ndarray) -> np.ndarray:

    return person_mask(image)


def _boxes(image: np.ndarray) -> np.ndarray:

    return detect_people(image)


TASK_METRICS: dict[str, tuple[Callable[[np.ndarray], object], Callable[[object, object], float]]] = {
    "person_iou": (_mask, mask_iou),
    "person_f1": (_boxes, detection_f1),
}


def person_iou(original: np.ndarray, test: np.ndarray) -> float:
    """IoU of the person masks of ``test`` and ``original`` (RGB uint8, same shape)."""
    return mask_iou(_mask(original), _mask(test))


def person_f1(original: np.ndarray, test: np.ndarray) -> float:
    """Detection F1 of the people found on ``test`` against those found on ``original``."""
    if original.shape != test.shape:
        raise ValueError(f"images differ in shape: {original.shape} vs {test.shape}")
    return detection_f1(_boxes(original), _boxes(test))
