"""Figures from results folders (matplotlib, PNG + PDF), for papers.

:func:`plot_results` takes a sweep folder (``bssim sweep``) or a run folder (``bssim run``):

* sweep — against the swept parameter (P_max by default), one line per value of the other
  swept fields (e.g. per scheduler), mean over seeds with a ±1 standard-deviation band:
  ``quality`` (Σρ per epoch), ``power`` (mean power used, W), ``options`` (share of
  requests served direct / key information), ``deadline`` (share of requests dropped);
* run — against time: the same four quantities per epoch, and ``users`` (each request's
  quality and choice against the user's distance).

All functions also take DataFrames, so notebooks can call them directly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

LABELS = {
    "p_max_w": "power budget $P_{max}$ (W)",
    "delay_bound_s": "delay bound $T$ (s)",
    "count": "users in the cell",
    "bandwidth_hz": "bandwidth per user $B$ (Hz)",
    "radius_m": "cell radius (m)",
    "grid": "DP grid steps $G$",
    "arrival_rate_per_s": "user arrival rate (1/s)",
    "speed_mps": "user speed (m/s)",
    "time_s": "time (s)",
}


def _subplots(nrows: int = 1, ncols: int = 1, figsize=(5.5, 3.8), **kw):
    """A figure without pyplot (no global state, no backend switch: safe in notebooks and servers)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kw)


def _save(fig, out: Path, name: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for ext in ("png", "pdf"):
        f = out / f"{name}.{ext}"
        fig.savefig(f, dpi=150, bbox_inches="tight")
        files.append(f)
    return files


def _band(ax, df: pd.DataFrame, x: str, y: str, label: str, **kw) -> None:
    g = df.groupby(x)[y]
    m, s, n = g.mean(), g.std(ddof=1), g.count()
    xs = m.index.to_numpy(dtype=float)
    line = ax.plot(xs, m.to_numpy(), marker="o", label=label, **kw)[0]
    if (n > 1).any():
        sd = s.fillna(0.0).to_numpy()
        ax.fill_between(xs, m.to_numpy() - sd, m.to_numpy() + sd, color=line.get_color(), alpha=0.2, linewidth=0)


def sweep_figures(summary: pd.DataFrame, swept: list[str], out: Path, x: str | None = None) -> list[Path]:
    """The four sweep figures; ``swept``: the swept columns; ``x``: which one is the x axis."""
    if summary.empty:
        raise ValueError("the sweep has no finished points to plot")
    numeric = [c for c in swept if pd.api.types.is_numeric_dtype(summary[c])]
    if x is None:
        x = "p_max_w" if "p_max_w" in swept else (numeric[0] if numeric else None)
    if x is None or x not in summary.columns:
        raise ValueError(f"--x: choose a numeric swept column, one of {numeric}")
    hue = [c for c in swept if c != x]
    groups = summary.groupby(hue, sort=True) if hue else [((), summary)]
    n_seeds = summary.groupby(swept).size().max()
    band_note = f" (mean ± 1 s.d. over {n_seeds} seeds)" if n_seeds > 1 else ""
    xlabel = LABELS.get(x, x)
    specs = [
        ("quality", "quality_per_epoch", r"total quality $\Sigma_n\,\rho_n$ per epoch"),
        ("power", "mean_power_used_w", "mean power used per epoch (W)"),
        ("deadline", "drop_share", "share of requests dropped (deadline missed)"),
    ]
    files: list[Path] = []
    for name, col, ylabel in specs:
        fig, ax = _subplots(figsize=(5.5, 3.8))
        for key, df in groups:
            key = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{h}={v}" for h, v in zip(hue, key)) or col
            _band(ax, df, x, col, label)
        if name == "power" and x == "p_max_w":
            xs = np.sort(summary[x].unique())
            ax.plot(xs, xs, "k:", linewidth=1, label="budget $P_{max}$")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(ylabel.split(" (")[0] + band_note, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        files += _save(fig, out, name)
    fig, ax = _subplots(figsize=(5.5, 3.8))
    for key, df in groups:
        key = key if isinstance(key, tuple) else (key,)
        base = ", ".join(f"{h}={v}" for h, v in zip(hue, key))
        for col, ls, what in (("direct_share", "-", "direct"), ("key_share", "--", "key information")):
            _band(ax, df, x, col, f"{what}" + (f" ({base})" if base else ""), linestyle=ls)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of requests served")
    ax.set_title("requests served by option" + band_note, fontsize=9)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    files += _save(fig, out, "options")
    return files


def run_figures(epochs: pd.DataFrame, user_epochs: pd.DataFrame, out: Path, title: str = "") -> list[Path]:
    """Per-epoch time series and the per-user view of one run."""
    if epochs.empty:
        raise ValueError("the run has no epochs to plot")
    t = epochs["time_s"].to_numpy()
    files: list[Path] = []
    fig, axes = _subplots(2, 2, figsize=(10, 6.5), sharex=True)
    ax = axes[0, 0]
    ax.plot(t, epochs["objective"], label=r"$\Sigma_n\,\rho_n$")
    ax.plot(t, epochs["n_requests"], "k:", linewidth=1, label="requests")
    ax.set_ylabel(r"total quality $\Sigma_n\,\rho_n$")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.plot(t, epochs["power_used_w"], label="used")
    ax.plot(t, epochs["p_max_w"], "k:", linewidth=1, label="budget $P_{max}$")
    ax.set_ylabel("transmit power (W)")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    n = epochs["n_requests"].clip(lower=1)
    ax.stackplot(t, epochs["n_direct"] / n, epochs["n_key"] / n, epochs["n_dropped"] / n,
                 labels=["direct", "key information", "dropped"], alpha=0.8)
    ax.set_ylabel("share of requests")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="lower right")
    ax = axes[1, 1]
    ax.plot(t, epochs["n_dropped"], color="C3")
    ax.set_ylabel("requests dropped (deadline missed)")
    for a in axes[1]:
        a.set_xlabel(LABELS["time_s"])
    for a in axes.flat:
        a.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    files += _save(fig, out, "timeline")
    if not user_epochs.empty:
        fig, axes = _subplots(1, 2, figsize=(10, 3.8))
        ue = user_epochs
        for name, color in (("direct", "C0"), ("key", "C1"), ("none", "C3")):
            sel = ue[ue["choice_name"].astype(str) == name]
            axes[0].scatter(sel["distance_m"], sel["gain_db"], s=4, alpha=0.4, color=color,
                            label={"key": "key information", "none": "dropped"}.get(name, name))
        axes[0].set_xlabel("distance to the base station (m)")
        axes[0].set_ylabel("channel gain $G_n$ (dB)")
        axes[0].legend(fontsize=8, markerscale=3)
        per_user = ue.groupby("user").agg(distance_m=("distance_m", "mean"), quality=("quality", "mean"))
        axes[1].scatter(per_user["distance_m"], per_user["quality"], s=8)
        axes[1].set_xlabel("distance to the base station (m)")
        axes[1].set_ylabel(r"mean quality $\rho_n$ per request")
        for a in axes:
            a.grid(alpha=0.3)
        files += _save(fig, out, "users")
    return files


def plot_results(path: str | Path, out: str | Path | None = None, x: str | None = None) -> list[Path]:
    """Figures for a sweep folder or a run folder; returns the files written (PNG and PDF)."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: results folder not found")
    out = Path(out) if out is not None else path / "figures"
    if (path / "sweep.json").is_file():
        if not (path / "summary.parquet").is_file():
            raise ValueError(f"{path}: sweep has no summary.parquet yet (no point finished)")
        meta = json.loads((path / "sweep.json").read_text())
        return sweep_figures(pd.read_parquet(path / "summary.parquet"), list(meta["columns"]), out, x)
    from bssim.results import load_run

    r = load_run(path)
    s = r.summary_dict()
    title = f"{s.get('scenario')} — solver {s.get('solver')}, P_max {s.get('p_max_w')} W, seed {s.get('seed')}"
    return run_figures(r.epochs, r.user_epochs, out, title)
