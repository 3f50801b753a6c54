"""Seed 000's MediaPipe pose mask beside bgdiff and rembg on the shared videos (docs/seeds.md).

vtest.avi: the hand-labelled evaluation frames (tests/data/vtest_people.json). Per extractor:
person IoU = |mask ∩ boxes| / |mask ∪ boxes| with the union of the labelled boxes as the
person region (boxes are looser than silhouettes, so a perfect silhouette scores below 1),
the share of non-difficult people at least 20 % covered, and seconds per frame (median, one
thread, after a warm-up frame). Megamind.avi (no labels): frames 150-269 every 30, the share of
frames where the extractor finds anyone and seconds per frame.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pose_masks.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bssim.paths import shared_data
from bssim.pipeline import read_frames
from bssim.pipeline.extract import ExtractorSettings, extract_foreground, set_threads
from bssim.pipeline.video import video_background
from bssim.semantic.validate import load_truth, mask_figures

TRUTH = Path(__file__).resolve().parent.parent / "tests" / "data" / "vtest_people.json"
EXTRACTORS = ("bgdiff", "rembg", "hybrid", "pose", "pose+bgdiff")


def timed_masks(frames: dict, bg: np.ndarray, name: str) -> tuple[dict, float]:
    s = ExtractorSettings(name)
    first = next(iter(frames.values()))
    extract_foreground(first, bg, s)  # warm-up: model loading
    masks, times = {}, []
    for fid, img in frames.items():
        t = time.perf_counter()
        masks[fid] = extract_foreground(img, bg, s)
        times.append(time.perf_counter() - t)
    return masks, float(np.median(times))


def main() -> None:
    set_threads(1)
    truth = load_truth(TRUTH)["frames"]
    vt = shared_data("vtest.avi")
    frames = read_frames(vt, [int(f) for f in truth])
    bg = video_background(vt).image
    mm = shared_data("Megamind.avi")
    mframes = read_frames(mm, range(150, 270, 30))
    mbg = video_background(mm).image  # one median background: only bgdiff/hybrid use it
    print("| extractor | vtest person IoU (mask vs labelled boxes) | vtest people ≥ 20 % covered | vtest s/frame | "
          "Megamind frames with a person found | Megamind s/frame |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in EXTRACTORS:
        masks, t = timed_masks(frames, bg, name)
        ious, covered, people = [], 0, 0
        for fid, persons in truth.items():
            region = np.zeros(masks[int(fid)].shape, bool)
            for x1, y1, x2, y2 in (p["box"] for p in persons):
                region[y1:y2, x1:x2] = True
            m = masks[int(fid)]
            ious.append((m & region).sum() / max(1, (m | region).sum()))
            cov = mask_figures(m, persons)["coverage"]
            covered += sum(c >= 0.2 for c in cov)
            people += len(cov)
        mmasks, mt = timed_masks(mframes, mbg, name)
        found = np.mean([m.any() for m in mmasks.values()])
        print(f"| {name} | {np.mean(ious):.2f} | {covered}/{people} | {t:.3f} | {found:.0%} | {mt:.3f} |")


if __name__ == "__main__":
    main()
