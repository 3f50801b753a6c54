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
    prune_with: list[int] | None = None,
) -> MatchResult:
    """Seed II.B matching of ``frame`` against every background of ``library``.

    ``person_mask`` (H, W) non-zero on people; its per-person convex hulls (dilated by the
    ORB patch radius) are excluded from the frame and from every background.
    ``frame_features``: ORB features of the whole frame computed earlier (then filtered by
    the mask instead of re-detected, as for the library's precomputed features).
    ``prune_with``: unmasked counts from an earlier pass; backgrounds are then tried in
    decreasing order of them and the search stops once the next one's unmasked count is
    below the best masked count found (masking removes key points, so a count can only grow
    through a changed cross-check pairing, which is rare); skipped ones get N_k = -1.
    """
    require_nonempty(library)
    keep = hull_exclusion_mask(person_mask) if person_mask is not None else None
    if frame_features is not None:  # precomputed on the whole frame: filter like the library's
        fx = frame_features.filtered(keep)
    else:
        fx = orb_features(frame, n_features, keep)
    if prune_with is None:
        counts = [match_count(fx, bg.features.filtered(keep), hamming_max) for bg in library.entries]
    else:
        if len(prune_with) != len(library):
            raise ValueError(f"prune_with has {len(prune_with)} counts for {len(library)} backgrounds")
        counts = [-1] * len(library)
        best_seen = -1
        for k in sorted(range(len(library)), key=lambda j: -prune_with[j]):
            if prune_with[k] < best_seen:
                break
            counts[k] = match_count(fx, library.entries[k].features.filtered(keep), hamming_max)
            best_seen = max(best_seen, counts[k])
    best = int(np.argmax(counts))
    ok = counts[best] >= n_min
    return MatchResult(ok, best if ok else -1, library.entries[best].name if ok else None, counts, len(fx))
