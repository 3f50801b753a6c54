"""The task metrics' instruments against hand-labelled people (tests/data/vtest_people.json).

For each labelled frame: the HOG detector's precision and recall against the truth boxes
(match at IoU ≥ 0.5, :func:`bssim.semantic.task.match_boxes`; a detection matching a
'difficult' person is neither a hit nor a false positive, PASCAL VOC's rule), and the
U²-Net-p mask's coverage of each truth box (share of the box's pixels in the mask) and the
share of mask pixels inside some truth box; and the share of the seed-002 importance map's
mass inside the truth boxes (Grad-CAM, and the rejected input gradient;
:mod:`bssim.semantic.pixel_importance`). Run ``python -m bssim.semantic.validate
tests/data/vtest_people.json`` for the figures of docs/semantic.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from bssim.semantic.task import match_boxes
from bssim.semantic.pixel_importance import pixel_importance
from bssim.files import read_frames
from bssim.semantic.detect import detect_people
from bssim.semantic.segment import person_mask
from bssim.paths import shared_data


def load_truth(path: str | Path) -> dict:
    """The truth file: ``{"video", "frames": {frame: [{"box", "difficult"}, ...]}}``."""
    truth = json.loads(Path(path).read_text())
    for fid, people in truth["frames"].items():
        for p in people:
            x1, y1, x2, y2 = p["box"]
            if not (0 <= x1 < x2 and 0 <= y1 < y2):
                raise ValueError(f"{path}: frame {fid}: box {p['box']} is not x1 < x2, y1 < y2 (>= 0)")
    return truth


def detection_counts(boxes: np.ndarray, people: list[dict]) -> dict:
    """True positives, false positives and the number of people to find (not difficult)."""

    truth = np.array([p["box"] for p in people], float).reshape(-1, 4)
    pairs = match_boxes(boxes, truth)
    tp = sum(not people[j]["difficult"] for _, j in pairs)
    return {"tp": tp, "fp": len(boxes) - len(pairs), "n": sum(not p["difficult"] for p in people)}


def mask_figures(mask: np.ndarray, people: list[dict]) -> dict:
    """Coverage of each non-difficult truth box, and the share of mask pixels inside any box."""
    inside = np.zeros(mask.shape, bool)
    cover = []
    for p in people:
        x1, y1, x2, y2 = p["box"]
        inside[y1:y2, x1:x2] = True
        if not p["difficult"]:
            cover.append(float(mask[y1:y2, x1:x2].mean()))
    return {"coverage": cover, "in_boxes": float((mask & inside).sum() / max(1, mask.sum()))}


def importance_on_people(image: np.ndarray, people: list[dict]) -> dict:
    """Share of the importance mass inside the truth boxes (Grad-CAM and input gradient), and
    the boxes' share of the frame."""

    inside = np.zeros(image.shape[:2], bool)
    for p in people:
        x1, y1, x2, y2 = p["box"]
        inside[y1:y2, x1:x2] = True
    out = {"box_area_share": float(inside.mean())}
    for method in ("grad_cam", "gradient"):
        g = pixel_importance(image, method=method)
        out[f"importance_in_boxes_{method}"] = float(g[inside].sum() / max(g.sum(), 1e-30))
    return out


def validate(truth_path: str | Path, video: str | Path) -> dict:
    """Per-frame detector counts and mask figures on the labelled frames, and their totals."""

    truth = load_truth(truth_path)
    frames = read_frames(video, [int(f) for f in truth["frames"]])
    out = {"frames": {}}
    for fid, people in truth["frames"].items():
        image = frames[int(fid)]
        out["frames"][fid] = {**detection_counts(detect_people(image), people),
                              **mask_figures(person_mask(image), people), **importance_on_people(image, people)}
    tp, fp, n = (sum(f[k] for f in out["frames"].values()) for k in ("tp", "fp", "n"))
    cover = [c for f in out["frames"].values() for c in f["coverage"]]
    out["total"] = {"precision": tp / max(1, tp + fp), "recall": tp / max(1, n), "tp": tp, "fp": fp, "n": n,
                    "boxes_covered_20pct": float(np.mean(np.array(cover) >= 0.2)),
                    "mean_coverage": float(np.mean(cover)),
                    "in_boxes_min": min(f["in_boxes"] for f in out["frames"].values())}
    return out


if __name__ == "__main__":

    arg = sys.argv[1] if len(sys.argv) > 1 else "tests/data/vtest_people.json"
    res = validate(arg, shared_data(load_truth(arg)["video"]))
    print(json.dumps(res, indent=1))
