"""Augmented random crops for training the deep JSCC.

Each crop: an image chosen uniformly; a scale s ~ U[min_scale, max_scale]; a square region
of side round(crop / s) (at most the image's shorter side) at a uniform position, resized
to crop × crop (OpenCV INTER_AREA), i.e. the photograph seen at s × its size; then a
rotation by k · 90° (k uniform in 0..3) and a horizontal flip with probability 1/2 (the
eight symmetries of the square). All draws come from the numpy Generator passed in.
"""

from __future__ import annotations

import numpy as np


class CropSampler:
    """Augmented ``crop`` × ``crop`` uint8 crops from a list of RGB images (extra planes, such
    as the semantic importance of :mod:`bssim.semantic.pixel_importance`, follow the pixels)."""

    def __init__(self, images: list[np.ndarray], crop: int, min_scale: float = 0.5, max_scale: float = 1.0) -> None:
        if crop < 4 or crop % 4:
            raise ValueError(f"crop must be a multiple of 4 and >= 4, got {crop}")
        if not 0.0 < min_scale <= max_scale <= 1.0:
            raise ValueError(f"scales must satisfy 0 < min_scale <= max_scale <= 1, got {min_scale}, {max_scale}")
        if not images:
            raise ValueError("no training images")
        self.crop, self.min_scale, self.max_scale = crop, min_scale, max_scale
        self.images = [self._pad(im, crop) for im in images]

    @staticmethod
    def _pad(im: np.ndarray, crop: int) -> np.ndarray:
        ph, pw = max(0, crop - im.shape[0]), max(0, crop - im.shape[1])
        return np.pad(im, ((0, ph), (0, pw), (0, 0)), mode="edge") if ph or pw else im

    def one(self, im: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One augmented crop of ``im``."""
        import cv2

        c = self.crop
        scale = rng.uniform(self.min_scale, self.max_scale)
        side = int(min(round(c / scale), im.shape[0], im.shape[1]))
        y = int(rng.integers(0, im.shape[0] - side + 1))
        x = int(rng.integers(0, im.shape[1] - side + 1))
        patch = im[y : y + side, x : x + side]
        if side != c:
            patch = cv2.resize(np.ascontiguousarray(patch), (c, c), interpolation=cv2.INTER_AREA)
        patch = np.rot90(patch, int(rng.integers(0, 4)))
        return patch[:, ::-1] if rng.random() < 0.5 else patch

    def batch(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, crop, crop, C) uint8, C the images' channels (3; 4 with a semantic-importance plane)."""
        out = np.empty((n, self.crop, self.crop, self.images[0].shape[2]), dtype=np.uint8)
        for j in range(n):
            out[j] = self.one(self.images[int(rng.integers(0, len(self.images)))], rng)
        return out
