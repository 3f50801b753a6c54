"""Figures and tables of a deep JSCC evaluation (``bssim jscc eval --out DIR``).

- ``psnr_vs_snr_<channel>.png``: PSNR (mean over images) against channel SNR for the
  policy, every forced rate level, the noiseless ceiling of the policy, and the ideal
  separation baseline and the practical one (codec + 5G LDPC/QAM, its cliff);
- ``rate_vs_snr.png``: the policy's mean share of active channels against SNR, with the
  range over images;
- ``psnr_vs_rate_<channel>.png``: PSNR against the bandwidth ratio k/n of the forced levels
  at each SNR, with the policy's own (mean k/n, PSNR) point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bssim.atomic import atomic_path


def _figure(w: float, h: float) -> tuple[Any, Any]:
    """A figure without pyplot (no global backend switch, nothing left open)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h))
    return fig, fig.subplots()


def _cmap(name: str) -> Any:
    import matplotlib

    return matplotlib.colormaps[name]


def _save(fig: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")


def _select(summary: list[dict[str, Any]], **kw: Any) -> list[dict[str, Any]]:
    return sorted((r for r in summary if all(r.get(k) == v for k, v in kw.items())), key=lambda r: r["snr_db"])


def plot_psnr_vs_snr(summary: list[dict[str, Any]], channel: str, path: Path) -> None:
    fig, ax = _figure(9.5, 4.8)
    pol = _select(summary, kind="policy", channel=channel)
    levels = sorted({r["level"] for r in summary if r["kind"] == "level"})
    cmap = _cmap("viridis")
    for i, lv in enumerate(levels):
        rs = _select(summary, kind="level", channel=channel, level=lv)
        c16 = rs[0]["rate"] if rs else 0.0
        ax.plot([r["snr_db"] for r in rs], [r["psnr_db"] for r in rs], "-", lw=1, color=cmap(i / max(1, len(levels) - 1)),
                label=f"forced: {lv} channels (rate {c16:.2f})")  # fmt: skip
    ax.plot([r["snr_db"] for r in pol], [r["psnr_db"] for r in pol], "o-", lw=2.5, color="crimson",
            label="adaptive: the policy's own choice")  # fmt: skip
    ceiling = _select(summary, kind="policy", channel="none")
    if ceiling and pol:
        ax.axhline(ceiling[0]["psnr_db"], color="crimson", ls=":", lw=1.2, label="policy without noise (ceiling)")
    if pol and "baseline_psnr_db" in pol[0]:
        ax.plot([r["snr_db"] for r in pol], [r["baseline_psnr_db"] for r in pol], "s--", color="black",
                label="separation: best of JPEG/WebP/JPEG 2000 at capacity, same k")  # fmt: skip
    if pol and "practical_baseline_psnr_db" in pol[0]:
        ax.plot([r["snr_db"] for r in pol], [r["practical_baseline_psnr_db"] for r in pol], "v-.", color="dimgray",
                label="practical: JPEG 2000/WebP/AVIF + 5G LDPC/QAM (Sionna), same k: the cliff")  # fmt: skip
    ax.set_xlabel("channel SNR (dB)")
    ax.set_ylabel("PSNR (dB), mean over images")
    ax.set_title(f"{channel.upper()}: quality against SNR per rate level")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    _save(fig, path)


def plot_rate_vs_snr(summary: list[dict[str, Any]], channels: list[str], path: Path) -> None:
    fig, ax = _figure(6, 4.2)
    for ch, color in zip(channels, ("tab:blue", "tab:orange", "tab:green")):
        pol = _select(summary, kind="policy", channel=ch)
        x = [r["snr_db"] for r in pol]
        ax.plot(x, [r["rate"] for r in pol], "o-", color=color, label=f"{ch.upper()}: mean over images")
        ax.fill_between(x, [r["rate_min"] for r in pol], [r["rate_max"] for r in pol], color=color, alpha=0.15,
                        label=f"{ch.upper()}: range over images")  # fmt: skip
    ax.set_xlabel("channel SNR (dB)")
    ax.set_ylabel("share of the C'_c channels sent (rate)")
    ax.set_ylim(0, 1.05)
    ax.set_title("rate chosen by the policy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def plot_psnr_vs_rate(summary: list[dict[str, Any]], channel: str, path: Path) -> None:
    fig, ax = _figure(8.6, 4.4)
    snrs = sorted({r["snr_db"] for r in summary if r["channel"] == channel})
    cmap = _cmap("plasma")
    for i, snr in enumerate(snrs):
        color = cmap(i / max(1, len(snrs) - 1) * 0.85)
        rs = sorted(_select(summary, kind="level", channel=channel, snr_db=snr), key=lambda r: r["cbr"])
        ax.plot([r["cbr"] for r in rs], [r["psnr_db"] for r in rs], "-", color=color, label=f"forced levels, {snr:g} dB")
        for p in _select(summary, kind="policy", channel=channel, snr_db=snr):
            ax.plot(p["cbr"], p["psnr_db"], "*", ms=11, color=color, markeredgecolor="black")
    ax.plot([], [], "*", ms=11, color="grey", markeredgecolor="black", label="adaptive policy (mean k/n)")
    ax.set_xlabel("bandwidth ratio k/n (complex channel uses per source value)")
    ax.set_ylabel("PSNR (dB), mean over images")
    ax.set_title(f"{channel.upper()}: quality against rate")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    _save(fig, path)


def write_plots(summary: list[dict[str, Any]], out: Path) -> list[Path]:
    """All figures of the summary into ``out``; returns their paths."""
    channels = list(dict.fromkeys(r["channel"] for r in summary if r["channel"] != "none"))
    paths: list[Path] = []
    for ch in channels:
        paths.append(out / f"psnr_vs_snr_{ch}.png")
        plot_psnr_vs_snr(summary, ch, paths[-1])
        if any(r["kind"] == "level" for r in summary):
            paths.append(out / f"psnr_vs_rate_{ch}.png")
            plot_psnr_vs_rate(summary, ch, paths[-1])
    paths.append(out / "rate_vs_snr.png")
    plot_rate_vs_snr(summary, channels, paths[-1])
    return paths
