"""Seed 002 on bssim's data: task performance and PSNR of JSCC models at the same rate and SNR.

Each evaluation frame is sent whole (the ``direct`` scheme) by every model through the same
AWGN channel (the same noise draw per frame and SNR: common random numbers), at the same forced
rate level (``n_active`` channels, k/n = n_active / 96 for C'_c = 16), for every SNR. For each
reconstruction r of an original o the rows give

* ``person_iou``, ``person_f1``: the task metrics of :mod:`bssim.semantic.task`;
* ``psnr_db``: whole-frame PSNR; ``psnr_person_db``: PSNR inside the original's U²-Net-p
  person mask (NaN when it is empty).

:func:`paired_summary` gives per model and SNR the means over frames and, against a
reference model, the mean paired difference with a 95 % interval (t over frames).
Frames must come from the evaluation part of a video (vtest.avi 400-794, Megamind.avi
135-269); :func:`check_disjoint` refuses frames a model was trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from bssim.jscc import default_checkpoint_path
from bssim.jscc.checkpoint import read_checkpoint
from bssim.semantic.task import TASK_METRICS
from bssim.metrics import masked_psnr_db, psnr_db
from bssim.jscc import transmit
from bssim.content.media import video_frame_range
from bssim.files import read_frames

EVAL_FRAMES = {"vtest.avi": (400, 795), "Megamind.avi": (135, 270)}  # [start, stop) of the evaluation parts


@dataclass(frozen=True)
class CompareSettings:
    """SNRs (dB), the forced rate level (active channels), channel and noise seed."""

    snrs_db: tuple[float, ...] = (0.0, 5.0, 10.0, 15.0, 20.0)
    n_active: int = 8
    channel: str = "awgn"
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.snrs_db:
            raise ValueError("--snr: give at least one SNR")
        if self.channel not in ("awgn", "rayleigh"):
            raise ValueError(f"--channel {self.channel!r}: choose awgn or rayleigh")


@dataclass(frozen=True)
class EvalFrame:
    """One evaluation frame: its video's file name, index and RGB pixels."""

    video: str
    index: int
    image: np.ndarray


def check_disjoint(frames: Sequence[EvalFrame], trained_on: Sequence[str], model_name: str) -> None:
    """ValueError when a frame (``file#index``) is among a model's training frames."""
    seen = set(trained_on)
    clash = [f"{f.video}#{f.index}" for f in frames if f"{f.video}#{f.index}" in seen]
    if clash:
        raise ValueError(f"model {model_name!r} was trained on evaluation frame(s) {clash[:5]}: use other frames")


def training_frames(checkpoint: str | Path | None) -> list[str]:
    """Video frames (``file#index``) a checkpoint was trained on (its meta ``video_frames``)."""

    meta = read_checkpoint(checkpoint if checkpoint is not None else default_checkpoint_path()).get("meta", {})
    return list(meta.get("video_frames", []))


def _original_analysis(image: np.ndarray) -> dict:

    return {m: analyse(image) for m, (analyse, _) in TASK_METRICS.items()}


def score(original: np.ndarray, analysis: dict, rec: np.ndarray) -> dict[str, float]:
    """Task metrics, whole-frame PSNR and PSNR inside the original's person mask."""

    out = {m: compare(analysis[m], analyse(rec)) for m, (analyse, compare) in TASK_METRICS.items()}
    out["psnr_db"] = psnr_db(original, rec)
    out["psnr_person_db"] = masked_psnr_db(original, rec, analysis["person_iou"])
    return out


def compare_models(models: dict[str, object], frames: Sequence[EvalFrame], s: CompareSettings = CompareSettings(),
                   progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:  # fmt: skip
    """One row per (frame, model, SNR); module docstring."""

    rows, total, done = [], len(frames) * len(models) * len(s.snrs_db), 0
    for f in frames:
        analysis = _original_analysis(f.image)
        for j, snr in enumerate(s.snrs_db):
            noise_seed = s.seed * 1_000_003 + f.index * 101 + j
            for name, model in models.items():
                r = transmit(model, f.image, snr, s.channel, seed=noise_seed, n_active=s.n_active)
                rows.append({"video": f.video, "frame": f.index, "model": name, "snr_db": float(snr),
                             "n_active": r.n_active_channels, "cbr": r.cbr,
                             **score(f.image, analysis, r.image)})  # fmt: skip
                done += 1
                if progress is not None:
                    progress(done, total)
    return pd.DataFrame(rows)


def _t95(n: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.975, n - 1)) if n > 1 else float("nan")


def paired_summary(rows: pd.DataFrame, reference: str,
                   metrics: Sequence[str] = ("person_iou", "person_f1", "psnr_db", "psnr_person_db")) -> pd.DataFrame:  # fmt: skip
    """Per (video or 'all', model, SNR): mean of each metric over frames, and for models other
    than ``reference`` the paired difference to it (mean and 95 % half-width over frames)."""
    if reference not in set(rows["model"]):
        raise ValueError(f"reference model {reference!r} not among {sorted(set(rows['model']))}")
    parts = [rows.assign(video="all"), rows] if rows["video"].nunique() > 1 else [rows]
    data = pd.concat(parts, ignore_index=True)
    out = []
    for (video, model, snr), g in data.groupby(["video", "model", "snr_db"], sort=True):
        row = {"video": video, "model": model, "snr_db": snr, "frames": len(g)}
        ref = data[(data.video == video) & (data.model == reference) & (data.snr_db == snr)].set_index("frame")
        for m in metrics:
            row[m] = float(g[m].mean())
            if model != reference:
                d = (g.set_index("frame")[m] - ref[m]).dropna()
                row[f"d_{m}"] = float(d.mean()) if len(d) else float("nan")
                row[f"d_{m}_ci95"] = _t95(len(d)) * float(d.std(ddof=1)) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
        out.append(row)
    return pd.DataFrame(out)


def read_eval_frames(spec: str) -> list[EvalFrame]:
    """Frames ``PATH:START:STOP:STEP``; they must lie in the video's evaluation part when it is
    one of :data:`EVAL_FRAMES`."""

    path, idx = video_frame_range(spec)
    lo, hi = EVAL_FRAMES.get(path.name, (0, 1 << 30))
    if idx.start < lo or idx[-1] >= hi:
        raise ValueError(f"--video {spec!r}: evaluation frames are {lo}-{hi - 1} in {path.name} "
                         f"(the rest is the training part)")  # fmt: skip
    return [EvalFrame(path.name, i, img) for i, img in read_frames(path, idx).items()]
