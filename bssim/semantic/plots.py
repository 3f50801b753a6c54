"""Figure of the seed-002 comparison (``bssim semantic compare --out DIR``): person IoU,
person F1, PSNR inside the people and whole-frame PSNR against channel SNR, one line per
model (means over the evaluation frames of all videos), paper style."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bssim.atomic import atomic_path

PANELS = (("person_iou", "person IoU"), ("person_f1", "person detection F1"),
          ("psnr_person_db", "PSNR inside the people (dB)"), ("psnr_db", "whole-frame PSNR (dB)"))  # fmt: skip


def plot_comparison(summary: pd.DataFrame, labels: dict[str, str], path: Path, title: str) -> None:
    """2 × 2 panels of :data:`PANELS` against SNR (dB); PNG and PDF next to each other."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 7.2), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    rows = summary[summary.video == "all"] if (summary.video == "all").any() else summary
    for ax, (metric, ylabel) in zip(axes, PANELS):
        for model, g in rows.groupby("model", sort=False):
            g = g.sort_values("snr_db")
            ax.plot(g.snr_db, g[metric], "o-", label=labels.get(model, model))
        ax.set_xlabel("channel SNR (dB)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    for suffix in (".png", ".pdf"):
        with atomic_path(path.with_suffix(suffix)) as tmp:
            fig.savefig(tmp, dpi=120, format=suffix[1:])
