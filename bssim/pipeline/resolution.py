"""Resolution detection and compression (seed II.D).

If a JSCC input has more than ``max_pixels`` pixels it is scaled by s = sqrt(max_pixels / (H W))
(rounded down so that H' W' <= max_pixels, aspect ratio kept, sides a multiple of 4 no
larger than the scaled size, at least 4 px), INTER_AREA down; the receiver scales back
to (H, W) with INTER_CUBIC.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def scaled_size(height: int, width: int, max_pixels: int | None) -> tuple[int, int]:
    """(H', W') the JSCC sees; (H, W) unchanged when within the threshold."""
    if max_pixels is None or height * width <= max_pixels:
        return height, width
    s = math.sqrt(max_pixels / (height * width))
    h2, w2 = max(4, int(height * s) // 4 * 4), max(4, int(width * s) // 4 * 4)
    while h2 * w2 > max_pixels and min(h2, w2) > 4:
        h2, w2 = h2 - 4 if h2 >= w2 else h2, w2 - 4 if w2 > h2 else w2
    return h2, w2


def downscale(image: np.ndarray, max_pixels: int | None) -> np.ndarray:
    h, w = image.shape[:2]
    h2, w2 = scaled_size(h, w, max_pixels)
    if (h2, w2) == (h, w):
        return image
    return cv2.resize(image, (w2, h2), interpolation=cv2.INTER_AREA)


def upscale(image: np.ndarray, height: int, width: int) -> np.ndarray:
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)
