"""Background matching, seed section II.B.

B* = argmax_k N_k if max_k N_k >= N_min, else matching fails (the frame goes the direct way).
See :mod:`bssim.pipeline.orb` for how N_k and the person mask are computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bssim.pipeline.library import BackgroundLibrary, require_nonempty
from bssim.pipeline.orb import OrbFeatures, hull_exclusion_mask, match_count, orb_features


@dataclass
class MatchResult:
    matched: bool
    index: int  # index of B* in the library (-1 when no background reaches N_min)
    name: str | None
    counts: list[int]  # N_k for every background, library order
    n_frame_keypoints: int

    @property
    def best_count(self) -> int:
        return max(self.counts) if self.counts else 0


def match_background(
    frame: np.ndarray,
    library: BackgroundLibrary,
    person_mask: np.ndarray | None = None,
    *,
    n_features: int = 1000,
    hamming_max: int = 40,
    n_min: int = 30,
    frame_features: OrbFeatures | None = None,
) -> MatchResult:
    """Seed II.B matching of ``frame`` against every background of ``library``.

    ``person_mask`` (H, W) non-zero on people; its per-person convex hulls (dilated by the
    ORB patch radius) are excluded from the frame and from every background.
    ``frame_features``: ORB features of the whole frame computed earlier (then filtered by
    the mask instead of re-detected, as for the library's precomputed features).
    """
    require_nonempty(library)
    keep = hull_exclusion_mask(person_mask) if person_mask is not None else None
    if frame_features is not None:  # precomputed on the whole frame: filter like the library's
        fx = frame_features.filtered(keep)
    else:
        fx = orb_features(frame, n_features, keep)
    counts = []
    for bg in library.entries:
        fb = bg.features.filtered(keep)
        counts.append(match_count(fx, fb, hamming_max))
    best = int(np.argmax(counts))
    ok = counts[best] >= n_min
    return MatchResult(ok, best if ok else -1, library.entries[best].name if ok else None, counts, len(fx))
