"""Person detection with OpenCV's HOG people detector (Dalal & Triggs, CVPR 2005; the linear
SVM OpenCV ships, ``cv2.HOGDescriptor_getDefaultPeopleDetector()``, trained on INRIA Person).

OpenCV 5 moved ``HOGDescriptor`` out of the main package; bssim needs opencv-python-headless 4.x.

Settings (:class:`DetectorSettings`), from the detector's geometry, not fitted to our frames:

* the SVM's 64×128 window holds a person about 96 px tall (Dalal & Triggs, section 6), so
  the image is first enlarged by u = 96/``min_person_px`` (bilinear) to find people from
  ``min_person_px`` = 64 px tall (vtest.avi's walkers are 60-146 px);
* ``detectMultiScale`` with OpenCV's defaults: hit threshold 0, stride 8 px, padding 8 px,
  pyramid step 1.05, grouping of ≥ 2 overlapping windows (``groupRectangles``);
* person box = the central 32×96 px of each 64×128 window (the window's person-free margin
  removed: 16 px left/right, 16 px top/bottom), scaled back by 1/u. Raw windows are twice as
  wide as a walker: none of them reaches IoU 0.5 with a tight box.

Boxes: (N, 5) float array ``(x1, y1, x2, y2, score)`` in input pixels, x2/y2 exclusive, strongest first.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from bssim.files import check_rgb

WIN_W_PX, WIN_H_PX = 64, 128
PERSON_H_PX = 96  # person height inside the training window
MARGIN_X_PX, MARGIN_Y_PX = 16, 16


@dataclass(frozen=True)
class DetectorSettings:
    min_person_px: float = 64.0
    hit_threshold: float = 0.0
    scale_step: float = 1.05
    group_threshold: int = 2

    def __post_init__(self) -> None:
        if not 8.0 <= self.min_person_px <= 1000.0:
            raise ValueError(f"min_person_px = {self.min_person_px!r}: must be in [8, 1000] px")
        if not self.scale_step > 1.0:
            raise ValueError(f"scale_step = {self.scale_step!r}: must be > 1")
        if self.group_threshold < 0:
            raise ValueError(f"group_threshold = {self.group_threshold!r}: must be >= 0")


def _hog() -> "cv2.HOGDescriptor":
    if not hasattr(cv2, "HOGDescriptor"):
        raise RuntimeError(f"person detection needs OpenCV's HOG people detector, absent from OpenCV "
                           f"{cv2.__version__} (OpenCV 5 moved it out); install 'opencv-python-headless>=4.8,<5'")
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return hog


def detect_people(image: np.ndarray, settings: DetectorSettings | None = None) -> np.ndarray:
    """People in an RGB uint8 image: (N, 5) boxes (x1, y1, x2, y2, score), strongest first."""

    s = settings or DetectorSettings()
    image = check_rgb(image)
    u = PERSON_H_PX / s.min_person_px
    big = image if u == 1.0 else cv2.resize(image, None, fx=u, fy=u, interpolation=cv2.INTER_LINEAR)
    if big.shape[0] < WIN_H_PX or big.shape[1] < WIN_W_PX:
        return np.zeros((0, 5))
    rects, weights = _hog().detectMultiScale(big, hitThreshold=s.hit_threshold, winStride=(8, 8), padding=(8, 8),
                                             scale=s.scale_step, groupThreshold=s.group_threshold)
    if len(rects) == 0:
        return np.zeros((0, 5))
    r = np.asarray(rects, float).reshape(-1, 4)
    fx, fy = r[:, 2] / WIN_W_PX, r[:, 3] / WIN_H_PX  # window scale in each direction
    x1, y1 = r[:, 0] + MARGIN_X_PX * fx, r[:, 1] + MARGIN_Y_PX * fy
    x2, y2 = r[:, 0] + r[:, 2] - MARGIN_X_PX * fx, r[:, 1] + r[:, 3] - MARGIN_Y_PX * fy
    boxes = np.stack([x1 / u, y1 / u, x2 / u, y2 / u, np.asarray(weights, float).ravel()], axis=1)
    return boxes[np.argsort(-boxes[:, 4], kind="stable")]
