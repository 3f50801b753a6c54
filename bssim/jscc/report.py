"""Text tables and result files of a deep JSCC evaluation.

``write_outputs(summary, rows, out)`` writes ``summary.csv``, ``summary.json``,
``per_image.csv``, ``policy_vs_levels.csv`` (:func:`bssim.jscc.compare.policy_vs_levels`), ``table.txt`` and the figures of :mod:`bssim.jscc.plots` into ``out``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bssim.atomic import atomic_path, write_text
from bssim.jscc.compare import format_policy_vs_levels, policy_vs_levels
from bssim.jscc.compare import policy_vs_levels
from bssim.jscc.plots import write_plots


def json_clean(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Standard JSON values: nan and ±inf become null."""
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in rows]


def _f(v: Any, fmt: str) -> str:
    return "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)


def policy_table(summary: list[dict[str, Any]]) -> str:
    """One line per (channel, SNR) of the policy: both PSNR conventions, rate, baseline."""
    head = (f"{'channel':>8} {'SNR dB':>6} {'PSNR':>6} {'PSNR(mMSE)':>10} {'SSIM':>6} {'MS-SSIM':>7} "
            f"{'rate':>5} {'min-max':>9} {'k/n':>6} {'linear':>6} | {'base PSNR':>9} {'codec':>8} {'gain':>6}")  # fmt: skip
    lines = ["adaptive policy (PSNR = mean of per-image PSNR; PSNR(mMSE) = PSNR of the mean MSE; dB)", head, "-" * len(head)]
    for r in (r for r in summary if r["kind"] == "policy"):
        line = (f"{r['channel']:>8} {r['snr_db']:6.1f} {r['psnr_db']:6.2f} {r['psnr_mean_mse_db']:10.2f} "
                f"{_f(r.get('ssim'), '6.3f'):>6} {_f(r.get('ms_ssim'), '7.3f'):>7} {r['rate']:5.3f} "
                f"{r['rate_min']:4.2f}-{r['rate_max']:4.2f} {r['cbr']:6.4f} {_f(r.get('linear_psnr_db'), '6.2f'):>6} |")  # fmt: skip
        if "baseline_psnr_db" in r:
            line += f" {r['baseline_psnr_db']:9.2f} {r['baseline_codec']:>8} {r['gain_db']:+6.2f}"
        if "practical_baseline_psnr_db" in r:
            line += (f" | practical {r['practical_baseline_psnr_db']:6.2f} {r['practical_baseline_codec']:>8}"
                     f" MCS {r['practical_baseline_mcs']:>2}")
        lines.append(line)
    return "\n".join(lines)


def level_table(summary: list[dict[str, Any]]) -> str:
    """PSNR (mean of per-image PSNR) of each forced level (rows) at each channel/SNR (columns)."""
    lv_rows = [r for r in summary if r["kind"] == "level"]
    if not lv_rows:
        return ""
    cols = list(dict.fromkeys((r["channel"], r["snr_db"]) for r in lv_rows))
    head = f"{'level':>5} {'k/n':>6} " + " ".join(f"{(ch[:5] if ch != 'none' else 'noisel')+f'@{snr:g}':>13}" for ch, snr in cols)
    lines = ["forced rate levels: PSNR (dB), mean of per-image PSNR ('noisel' = no noise); "
             "in brackets the linear anchor (linear_psnr_db)", head, "-" * len(head)]  # fmt: skip
    by = {(r["level"], r["channel"], r["snr_db"]): r for r in lv_rows}
    for lv in sorted({r["level"] for r in lv_rows}):
        cbr = next(r["cbr"] for r in lv_rows if r["level"] == lv)
        vals = " ".join(f"{_cell(by.get((lv, ch, snr), {})):>13}" for ch, snr in cols)
        lines.append(f"{lv:5d} {cbr:6.4f} {vals}")
    return "\n".join(lines)


def _cell(r: dict[str, Any]) -> str:
    """'PSNR (linear)' of one level row, or PSNR alone without a linear anchor."""
    if r.get("linear_psnr_db") is None:
        return _f(r.get("psnr_db"), ".2f")
    return f"{_f(r.get('psnr_db'), '.2f')} ({_f(r['linear_psnr_db'], '.1f')})"


def format_tables(summary: list[dict[str, Any]]) -> str:
    """The policy table, the level table and a footer naming the model."""

    parts = [policy_table(summary), level_table(summary), format_policy_vs_levels(policy_vs_levels(summary))]
    if summary:
        parts.append(f"model {summary[0]['model_version']}, {summary[0]['n_images']} images")
    return "\n\n".join(p for p in parts if p)


def write_outputs(summary: list[dict[str, Any]], rows: list[dict[str, Any]], out: str | Path) -> list[Path]:
    """Tables (CSV, JSON, text) and figures into ``out``; returns the written paths."""
    import pandas as pd

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    tables = {"summary": summary, "per_image": rows, "policy_vs_levels": policy_vs_levels(summary)}
    for name, df in ((k, pd.DataFrame(v)) for k, v in tables.items()):
        with atomic_path(out / f"{name}.csv") as tmp:
            df.to_csv(tmp, index=False)
        written.append(out / f"{name}.csv")
    write_text(out / "summary.json", json.dumps(json_clean(summary), indent=1) + "\n")
    write_text(out / "table.txt", format_tables(summary) + "\n")
    written += [out / "summary.json", out / "table.txt"]

    return written + write_plots(summary, out)
