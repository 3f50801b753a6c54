"""ORB features and the seed's match count N_k (section II.B).

Matching (seed II.B): ``Match(D_X, D_B) = {(d_Xi, d_Bj) : H(d_Xi, d_Bj) <= T_h}``,
``N_k = |Match(D_X, D_Bk)|``. A literal all-pairs count would let one descriptor match
many; we count one-to-one pairs: brute-force Hamming nearest neighbours with cross-check
(each pair is the other's nearest), kept when the distance is <= T_h.

Masking (seed II.B, X_m and B_m): the seed's formula keeps the person region and zeroes
the rest, the opposite of its stated intent (see DESIGN.md section 3); we exclude the
person hull. Zeroing pixels would create strong artificial corners on the hull border,
identical in X_m and every B_m, that "match" any background; instead key points inside the
(dilated) hull are excluded in both images, which is what OpenCV's detector mask does.
Library descriptors are precomputed on whole backgrounds and filtered by the same mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

ORB_PATCH_PX = 31  # OpenCV ORB default patchSize; descriptors read a disc of this diameter


@dataclass
class OrbFeatures:
    """Key point positions (N, 2) float32 in pixels (x, y) and descriptors (N, 32) uint8."""

    points: np.ndarray
    descriptors: np.ndarray
    image_size: tuple[int, int]  # (width, height) the points refer to

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def filtered(self, keep_mask: np.ndarray | None) -> "OrbFeatures":
        """Key points whose pixel is non-zero in ``keep_mask`` (any size; rescaled to ours)."""
        if keep_mask is None or len(self) == 0:
            return self
        w, h = self.image_size
        if keep_mask.shape[:2] != (h, w):
            keep_mask = cv2.resize(keep_mask, (w, h), interpolation=cv2.INTER_NEAREST)
        xs = np.clip(self.points[:, 0].astype(np.int64), 0, w - 1)
        ys = np.clip(self.points[:, 1].astype(np.int64), 0, h - 1)
        keep = keep_mask[ys, xs] > 0
        return OrbFeatures(self.points[keep], self.descriptors[keep], self.image_size)


def orb_features(image_rgb: np.ndarray, n_features: int, keep_mask: np.ndarray | None = None) -> OrbFeatures:
    """ORB (OpenCV, default scale pyramid) on the grey image; ``keep_mask`` uint8, 0 = exclude."""
    grey = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY)
    orb = cv2.ORB_create(nfeatures=int(n_features))
    kps, desc = orb.detectAndCompute(grey, keep_mask)
    h, w = grey.shape
    if desc is None or not kps:
        return OrbFeatures(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8), (w, h))
    pts = np.array([k.pt for k in kps], dtype=np.float32)
    return OrbFeatures(pts, desc.astype(np.uint8), (w, h))


def match_count(a: OrbFeatures, b: OrbFeatures, hamming_max: int) -> int:
    """N = number of cross-checked nearest-neighbour pairs with Hamming distance <= T_h."""
    if len(a) == 0 or len(b) == 0:
        return 0
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True)
    matches = matcher.match(a.descriptors, b.descriptors)
    return int(sum(1 for m in matches if m.distance <= hamming_max))


def hull_exclusion_mask(fg_mask: np.ndarray, dilate_px: int = ORB_PATCH_PX // 2 + 1) -> np.ndarray:
    """Keep-mask M (uint8 255 = keep, 0 = person) from a foreground mask: the convex hull of
    each connected component (one per person, not one hull over everyone, which would cover
    most of a crowded frame), dilated by ``dilate_px`` so no kept descriptor patch overlaps
    a person. Seed II.B: M(x, y) = 0 inside H, 1 outside."""
    fg = (fg_mask > 0).astype(np.uint8)
    keep = np.full(fg.shape, 255, np.uint8)
    if not fg.any():
        return keep
    contours, _ = cv2.findContours(fg, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hulls = [cv2.convexHull(c) for c in contours]
    cv2.fillPoly(keep, hulls, 0)
    if dilate_px > 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate_px + 1, 2 * dilate_px + 1))
        keep = cv2.erode(keep, k)
    return keep
