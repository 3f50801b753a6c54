"""Figures from results folders (matplotlib, PNG + PDF), for papers.

:func:`plot_results` takes a sweep folder (``bssim sweep``) or a run folder (``bssim run``):

* sweep — against the swept parameter (P_max by default), one line per value of the other
  swept fields (e.g. per scheduler, named in words), mean over seeds with a ±1 standard
  deviation band: ``objective`` (the scheduler's objective per epoch), ``quality`` (mean
  quality per request), ``power`` (share of the budget used when P_max is swept, else mean watts), ``served`` (share of
  requests served), and ``options`` (share of requests per option, scheme × rate level, one
  panel per scheduler);
* run — against time: objective, power, schemes and drops per epoch, and each request's
  scheme against the user's channel gain.

All functions also take DataFrames, so notebooks call them directly; no pyplot state is used.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from bssim.codecs import CODECS
from bssim.schemes import SCHEMES
from bssim.results import load_run
from bssim.results import option_shares

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
SOLVER_WORDS = {
    "dp": "dynamic programme (seed)",
    "cpsat": "CP-SAT (OR-Tools)",
    "mip": "MIP optimum (SCIP)",
    "greedy": "greedy (quality per watt)",
    "all_direct": "always direct, full rate",
    "all_key": "always key information, full rate",
}
METRIC_WORDS = {"ssim": "SSIM", "psnr_db": "PSNR (dB)", "ms_ssim": "MS-SSIM"}


def _subplots(nrows: int = 1, ncols: int = 1, figsize=(5.5, 3.8), **kw):
    """A figure without pyplot (no global state, no backend switch: safe in notebooks and servers)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, squeeze=False, **kw)


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
    line = ax.plot(xs, m.to_numpy(), marker="o", markersize=3, label=label, **kw)[0]
    if (n > 1).any():
        sd = s.fillna(0.0).to_numpy()
        ax.fill_between(xs, m.to_numpy() - sd, m.to_numpy() + sd, color=line.get_color(), alpha=0.2, linewidth=0)


def hue_words(column: str, value) -> str:
    """A swept value in words: solvers by name, other fields as 'label = value'."""
    if column == "solver":
        return SOLVER_WORDS.get(str(value), str(value))
    return f"{LABELS.get(column, column)} = {value}"


def _split_option(option: str) -> tuple[str, str, str]:
    """'key avif s0.75/q30' → ('key', 'avif', 's0.75/q30'); missing parts are ''."""
    parts = option.split(" ", 2)
    return tuple(parts + [""] * (3 - len(parts)))  # type: ignore[return-value]


def _token_words(token: str) -> str:
    if token.startswith("kn"):
        return f"k/n = {token[2:]}"
    if token.startswith("s"):
        return f"{float(token[1:]):.0%} resolution".replace("%", " %")
    if token.startswith("c"):
        return f"{token[1:]} channels"
    if token.startswith("q"):
        return f"quality {token[1:]}"
    return "channels by the JSCC policy" if token == "policy" else token


def option_words(option: str) -> str:
    """'direct avif s0.75/q30' → 'direct, AVIF, 75 % resolution, quality 30'."""
    if option == "not served" or " " not in option:
        return option
    scheme, codec, label = _split_option(option)
    parts = [SCHEMES[scheme].words if scheme in SCHEMES else scheme]
    parts.append(CODECS[codec].words if codec in CODECS else codec)
    parts += [_token_words(t) for t in label.split("/") if t]
    return ", ".join(p for p in parts if p)


def _objective_label(summary: pd.DataFrame) -> str:
    kind = str(summary["objective"].iloc[0]) if "objective" in summary else "sum"
    metric = METRIC_WORDS.get(str(summary["metric"].iloc[0]), "quality") if "metric" in summary else "quality"
    return {"sum": f"objective: Σ {metric} per epoch", "log": f"objective: Σ ln(1 + {metric}/ε) per epoch",
            "seed": "objective: Σ ρ (seed) per epoch"}.get(kind, "objective per epoch")


def _line_figure(summary, x, hue, col, ylabel, title, out, name) -> list[Path]:
    fig, axs = _subplots()
    ax = axs[0, 0]
    groups = summary.groupby(hue, sort=True) if hue else [((), summary)]
    for key, df in groups:
        key = key if isinstance(key, tuple) else (key,)
        label = "; ".join(hue_words(h, v) for h, v in zip(hue, key)) or ylabel
        _band(ax, df, x, col, label)
    ax.set_xlabel(LABELS.get(x, x))
    _x_scale(ax, summary[x])
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, out, name)


def _x_scale(ax, values: pd.Series) -> None:
    """Log x axis when the swept values are positive and span more than a decade."""
    xs = pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)
    if xs.size and xs.min() > 0 and xs.max() / xs.min() > 10:
        ax.set_xscale("log")


def dp_gain_figure(summary: pd.DataFrame, x: str, out: Path, name: str = "dp_gain") -> list[Path]:
    """The DP's objective minus each other solver's, paired by seed (mean ± 1 s.d.) against ``x``."""
    keys = [c for c in (x, "seed") if c in summary.columns]
    wide = summary.pivot_table(index=keys, columns="solver", values="objective_per_epoch", aggfunc="mean")
    fig, axs = _subplots()
    ax = axs[0, 0]
    for other in [c for c in wide.columns if c != "dp"]:
        diff = (wide["dp"] - wide[other]).rename("gain").reset_index()
        _band(ax, diff, x, "gain", f"DP − {SOLVER_WORDS.get(other, other)}")
    ax.axhline(0.0, color="k", linewidth=0.8)
    ax.set_yscale("symlog", linthresh=1.0)
    _x_scale(ax, summary[x])
    ax.set_xlabel(LABELS.get(x, x))
    ax.set_ylabel("objective gained by the DP per epoch")
    ax.set_title("what the optimisation buys (paired by seed)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, out, name)


def options_figure(shares: pd.DataFrame, x: str, hue: list[str], out: Path, name: str = "options") -> list[Path]:
    """Stacked share of requests per option against ``x``, one panel per ``hue`` group.

    ``shares``: columns ``x``, ``hue``..., ``option``, ``share`` (:func:`bssim.results.option_shares`)."""
    options = sorted(shares["option"].unique(), key=_option_order)
    colors = _option_colors(options)
    groups = list(shares.groupby(hue, sort=True)) if hue else [((), shares)]
    fig, axs = _subplots(1, len(groups), figsize=(3.6 * len(groups), 3.8), sharey=True)
    for ax, (key, df) in zip(axs[0], groups):
        key = key if isinstance(key, tuple) else (key,)
        piv = df.pivot_table(index=x, columns="option", values="share", aggfunc="mean").reindex(columns=options).fillna(0)
        xs = piv.index.to_numpy(float)
        ax.stackplot(xs, *[piv[o].to_numpy() for o in options], colors=[colors[o] for o in options],
                     labels=[option_words(o) for o in options])
        ax.set_xlabel(LABELS.get(x, x))
        ax.set_title("; ".join(hue_words(h, v) for h, v in zip(hue, key)) or "all requests", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_xlim(xs.min(), xs.max()) if xs.size > 1 else None
        _x_scale(ax, pd.Series(xs))
    axs[0, 0].set_ylabel("share of requests")
    handles, labels = axs[0, 0].get_legend_handles_labels()
    axs[0, -1].legend(handles[::-1], labels[::-1], fontsize=7, loc="center left", bbox_to_anchor=(1.03, 0.5))
    return _save(fig, out, name)


def _option_order(option: str) -> tuple:
    """Sort key: by scheme, codec, then by nominal payload s²·setting (cheap first); 'not served' last."""
    if option == "not served" or " " not in option:
        return (option == "not served", option, "", 0.0, option)
    scheme, codec, label = _split_option(option)
    scale, size = 1.0, 0.0
    for token in label.split("/"):
        try:
            if token.startswith("kn"):
                num, _, den = token[2:].partition("/")
                size = float(num) / float(den or 1)
            elif token.startswith("s"):
                scale = float(token[1:])
            elif token[:1] in ("c", "q"):
                size = float(token[1:].split("@")[0])
        except ValueError:
            pass
    order = list(SCHEMES).index(scheme) if scheme in SCHEMES else len(SCHEMES)
    return (False, order, codec, scale * scale * size, option)


def _option_colors(options: list[str]) -> dict[str, tuple]:
    """Each scheme × codec a colour map of the scheme (its levels shades of it); others grey."""
    from matplotlib import colormaps

    out = {"not served": (0.8, 0.8, 0.8, 1.0)}
    groups: dict[tuple[str, str], list[str]] = {}
    for o in options:
        if o != "not served":
            groups.setdefault(_split_option(o)[:2], []).append(o)
    fallback = ["Greens", "Purples", "Greys", "Reds"]
    for g, ((scheme, _codec), mine) in enumerate(groups.items()):
        cmap = SCHEMES[scheme].colour if scheme in SCHEMES else fallback[g % len(fallback)]
        codecs_of_scheme = [c for (s, c) in groups if s == scheme]
        j = codecs_of_scheme.index(_codec)
        lo, hi = 0.3 + 0.35 * j / max(1, len(codecs_of_scheme)), 0.3 + 0.35 * (j + 1) / max(1, len(codecs_of_scheme))
        for i, o in enumerate(mine):
            out[o] = colormaps[cmap](lo + (hi - lo + 0.3) * (i + 1) / max(1, len(mine)))
    return out


def sweep_figures(summary: pd.DataFrame, swept: list[str], out: Path, x: str | None = None,
                  user_epochs: pd.DataFrame | None = None) -> list[Path]:
    """The sweep figures (module docstring); ``x``: which swept column is the x axis."""
    if summary.empty:
        raise ValueError("the sweep has no finished points to plot")
    numeric = [c for c in swept if pd.api.types.is_numeric_dtype(summary[c])]
    if x is None:
        x = "p_max_w" if "p_max_w" in swept else (numeric[0] if numeric else None)
    if x is None or x not in summary.columns:
        raise ValueError(f"--x: choose a numeric swept column, one of {numeric}")
    hue = [c for c in swept if c != x]
    n_seeds = int(summary.groupby(swept).size().max())
    note = f" (mean ± 1 s.d. over {n_seeds} seeds)" if n_seeds > 1 else ""
    metric = METRIC_WORDS.get(str(summary["metric"].iloc[0]), "quality") if "metric" in summary else "quality"
    files = _line_figure(summary, x, hue, "objective_per_epoch", _objective_label(summary), "scheduler objective" + note,
                         out, "objective")
    files += _line_figure(summary, x, hue, "mean_quality", f"mean {metric} per request (0 if not served)",
                          "delivered quality" + note, out, "quality")
    if x == "p_max_w" and "power_share" in summary:  # against the budget, the share of it says more than watts
        files += _line_figure(summary, x, hue, "power_share", "share of the budget $P_{max}$ used", "power" + note,
                              out, "power")
    else:
        files += _line_figure(summary, x, hue, "mean_power_used_w", "mean power used per epoch (W)", "power" + note,
                              out, "power")
    files += _line_figure(summary, x, hue, "served_share", "share of requests served", "requests served" + note, out,
                          "served")
    if user_epochs is not None and not user_epochs.empty:

        files += options_figure(option_shares(user_epochs, [x] + hue), x, hue, out)
        if "codec" in user_epochs:
            files += options_figure(option_shares(user_epochs, [x] + hue, levels=False), x, hue, out,
                                    name="scheme_codec_shares")
    if "solver" in swept and "dp" in set(summary["solver"]) and summary["solver"].nunique() > 1:
        files += dp_gain_figure(summary, x, out)
    return files


def run_figures(epochs: pd.DataFrame, user_epochs: pd.DataFrame, out: Path, title: str = "") -> list[Path]:
    """Per-epoch time series and the per-request view of one run."""
    if epochs.empty:
        raise ValueError("the run has no epochs to plot")
    t = epochs["time_s"].to_numpy()
    fig, axes = _subplots(2, 2, figsize=(10, 6.5), sharex=True)
    axes[0, 0].plot(t, epochs["objective"], label="objective Σ u_n")
    axes[0, 0].set_ylabel("scheduler objective per epoch")
    axes[0, 1].plot(t, epochs["power_used_w"], label="power used")
    axes[0, 1].plot(t, epochs["p_max_w"], "k:", linewidth=1, label="budget $P_{max}$")
    axes[0, 1].set_ylabel("transmit power (W)")
    n = epochs["n_requests"].clip(lower=1)
    shown = [s for s in SCHEMES if f"n_{s}" in epochs and (s in ("direct", "key") or epochs[f"n_{s}"].any())]
    axes[1, 0].stackplot(t, *[epochs[f"n_{s}"] / n for s in shown], epochs["n_dropped"] / n,
                         labels=[SCHEMES[s].words for s in shown] + ["not served"], alpha=0.8)
    axes[1, 0].set_ylabel("share of requests")
    axes[1, 0].set_ylim(0, 1)
    axes[1, 1].plot(t, epochs["n_dropped"], color="C3", label="requests not served")
    axes[1, 1].set_ylabel("requests not served (deadline missed)")
    for a in axes[1]:
        a.set_xlabel(LABELS["time_s"])
    for a in axes.flat:
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    files = _save(fig, out, "timeline")
    if not user_epochs.empty:
        files += _users_figure(user_epochs, out)
    return files


def _users_figure(ue: pd.DataFrame, out: Path) -> list[Path]:
    fig, axes = _subplots(1, 2, figsize=(10, 3.8))
    words = {**{n: e.words for n, e in SCHEMES.items()}, "none": "not served"}
    for i, name in enumerate([*SCHEMES, "none"]):
        sel = ue[ue["scheme"].astype(str) == name]
        if len(sel) or name in ("direct", "key", "none"):
            axes[0, 0].scatter(sel["distance_m"], sel["gain_db"], s=4, alpha=0.4,
                               color="C3" if name == "none" else f"C{i if i < 3 else i + 1}", label=words[name])
    axes[0, 0].set_xlabel("distance to the base station (m)")
    axes[0, 0].set_ylabel("channel gain $G_n$ (dB)")
    axes[0, 0].legend(fontsize=8, markerscale=3)
    served = ue[ue["scheme"].astype(str) != "none"]
    dots = axes[0, 1].scatter(served["gain_db"], served["quality"], s=6, alpha=0.5, c=served["rate_level"],
                              cmap="viridis", vmin=served["rate_level"].min(), vmax=served["rate_level"].max())
    fig.colorbar(dots, ax=axes[0, 1], label="rate level (0 = cheapest)")
    axes[0, 1].set_xlabel("channel gain $G_n$ (dB)")
    axes[0, 1].set_ylabel("quality of served requests")
    for a in axes.flat:
        a.grid(alpha=0.3)
    return _save(fig, out, "users")


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
        ue_path = path / "user_epochs.parquet"
        ue = None
        if ue_path.is_file():
            have = set(pq.read_schema(ue_path).names)
            ue = pd.read_parquet(ue_path, columns=list(meta["columns"]) + [c for c in ("scheme", "codec", "rate_label")
                                                                           if c in have])
        return sweep_figures(pd.read_parquet(path / "summary.parquet"), list(meta["columns"]), out, x, ue)

    r = load_run(path)
    s = r.summary_dict()
    title = f"{s.get('scenario')} — {SOLVER_WORDS.get(s.get('solver'), s.get('solver'))}, P_max {s.get('p_max_w')} W, seed {s.get('seed')}"
    return run_figures(r.epochs, r.user_epochs, out, title)


def side_by_side(original: np.ndarray, direct: np.ndarray, key: np.ndarray | None, label: str) -> np.ndarray:
    """original | direct JSCC | key path (when there is one), captioned, as one RGB image."""
    import cv2

    pad = 24
    h, w = original.shape[:2]
    panels = [(original, "original"), (direct, "direct JSCC")] + ([(key, "key information")] if key is not None else [])
    canvas = np.full((h + pad, len(panels) * (w + 4) - 4, 3), 255, np.uint8)
    for i, (img, caption) in enumerate(panels):
        x = i * (w + 4)
        canvas[pad:, x:x + w] = img
        cv2.putText(canvas, f"{caption} {label if i else ''}", (x + 4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return canvas
