"""Network studies: the TR 38.901 large-scale calibration of the layout and channel, and a
figure of a network run (sites, sectors, users coloured by the scheme they were served with).

Calibration (TR 38.901 §7.8.1, Table 7.8-1, UMa at 6 GHz): 19 sites × 3 sectors, ISD 500 m,
wrap-around, BS 25 m with 12° downtilt, 49 dBm over 20 MHz, UT 1.5 m, noise figure 9 dB, 80 %
indoor (half behind high-loss walls), minimum distance 35 m, no fast fading, association by the
strongest sector. Per user: coupling loss (the gain to the serving sector, antennas included)
and geometry = P·G_s / (Σ_{k≠s} P·G_k + N). The drop uses the simulator's own functions
(:mod:`bssim.network`), so it calibrates what ``bssim run`` uses.

Reference: the 3GPP large-scale calibration results R1-165974 (median over companies, TR 38.900
v14.0.0 parameters), UMa 6 GHz, as tabulated in QuaDRiGa's ``tutorials/calib_3GPP_ref_data.m``
(``cl38900a(1,:,2)``, ``gf38900a(1,:,2)``; percentiles 5, 10, …, 95).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bssim import link
from bssim.codecs import CODECS
from bssim.network.links import draw_links, sector_gain_db
from bssim.network.sinr import geometry
from bssim.network.topology import drop_users, make_layout, sector_pattern_db, site_offsets
from bssim.plot import _save, _subplots
from bssim.scenario import Cell, Network
from bssim.schemes import SCHEMES, scheme_names
from bssim.seeding import rng as seeded_rng
from bssim.sim import make_source, run

PERCENTILES = np.arange(5, 100, 5)
#: R1-165974 UMa 6 GHz, percentiles 5..95 (QuaDRiGa calib_3GPP_ref_data.m): coupling loss and geometry, dB
#: (QuaDRiGa's tutorial compares that geometry with its SIR, serving over interference without noise)
REFERENCE_R1_165974 = {
    "coupling_loss_db": -np.array([150.4, 144.7, 140.6, 137, 133.9, 131.1, 128.4, 125.8, 123.1, 120.3, 117.5, 114.7,
                                   111.8, 109.1, 106.1, 102.8, 98.8, 93.7, 86]),
    "sir_db": np.array([-1, 0.1, 1.1, 2, 2.9, 3.9, 5, 6, 7.2, 8.6, 9.9, 11.3, 12.9, 14.7, 16.5, 18.6, 20.9, 23.4,
                             25.6]),
}
CALIBRATION_CELL = Cell(carrier_ghz=6.0, pathloss="uma", los="probabilistic", bs_height_m=25.0, ue_height_m=1.5,
                        min_distance_m=35.0, indoor_share=0.8, o2i_high_loss_share=0.5, antenna_gain_db=0.0,
                        noise_figure_db=9.0, bandwidth_hz=20e6, fading="none", radius_m=300.0)
CALIBRATION_TX_DBM = 49.0
METRIC_WORDS = {"coupling_loss_db": "coupling loss to the serving sector (dB)",
                "sir_db": "geometry without noise, SIR (dB)", "geometry_db": "geometry SINR with noise (dB)"}


def calibration_drop(users: int = 5700, seed: int = 0, downtilt_deg: float | None = 12.0,
                     cell: Cell = CALIBRATION_CELL, tx_dbm: float = CALIBRATION_TX_DBM) -> pd.DataFrame:
    """One drop of ``users`` over the 19 × 3 UMa layout: per user coupling loss, geometry SINR
    (full buffer, with noise over the whole band) and SIR, serving sector, indoor and LOS state."""
    net = Network(rings=2, sectors=3, isd_m=500.0, wraparound=True, downtilt_deg=downtilt_deg,
                  bandwidth_hz=cell.bandwidth_hz)
    lay = make_layout(net, cell)
    x, y = drop_users(lay, seeded_rng(seed, "placement"), users)
    dx, dy = site_offsets(lay, x, y)
    links = draw_links(cell, np.hypot(dx, dy), seeded_rng(seed, "large_scale"))
    gain_db = sector_gain_db(cell, links, sector_pattern_db(lay, dx, dy), lay.sector_site)
    noise = float(link.thermal_noise_w(cell.bandwidth_hz, cell.noise_figure_db))
    geo = geometry(gain_db, float(link.dbm_to_w(tx_dbm)), noise)
    site = lay.sector_site[geo["serving"]]
    return pd.DataFrame({"x_m": x, "y_m": y, "sector": geo["serving"], "indoor": links.indoor,
                         "los": links.los[np.arange(users), site], "coupling_loss_db": geo["coupling_loss_db"],
                         "geometry_db": geo["geometry_sinr_db"], "sir_db": geo["sir_db"]})


def markdown(df: pd.DataFrame) -> str:
    """A Markdown table of ``df`` (numbers as written by ``str``, NaN as a dash)."""
    cell = lambda v: "—" if isinstance(v, float) and np.isnan(v) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    return "\n".join(lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)])


def calibration_table(drops: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """5 % and median points of coupling loss, geometry without noise (SIR) and with noise, each
    drop beside R1-165974 (which has no separate with-noise curve here: NaN)."""
    rows = []
    for metric in ("coupling_loss_db", "sir_db", "geometry_db"):
        ref = REFERENCE_R1_165974.get(metric)
        row = {"metric": METRIC_WORDS[metric], "R1-165974 5 %": np.nan if ref is None else ref[0],
               "R1-165974 median": np.nan if ref is None else ref[9]}
        for name, df in drops.items():
            v = df[metric].to_numpy()
            row[f"{name} 5 %"] = float(np.percentile(v, 5))
            row[f"{name} median"] = float(np.percentile(v, 50))
        rows.append(row)
    return pd.DataFrame(rows)


def calibration_figure(drops: dict[str, pd.DataFrame], out: Path, name: str = "network_calibration") -> list[Path]:
    """CDFs of coupling loss and geometry for each drop, the R1-165974 percentiles as markers."""
    fig, axes = _subplots(1, 3, figsize=(14, 3.8))
    for ax, metric in zip(axes[0], ("coupling_loss_db", "sir_db", "geometry_db")):
        for label, df in drops.items():
            v = np.sort(df[metric].to_numpy())
            ax.plot(v, np.arange(1, v.size + 1) / v.size, label=label)
        if metric in REFERENCE_R1_165974:
            ax.plot(REFERENCE_R1_165974[metric], PERCENTILES / 100, "k+--", lw=0.8,
                    label="3GPP R1-165974 (median of companies)")
        ax.set_xlabel(METRIC_WORDS[metric])
        ax.set_ylabel("CDF over users")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("TR 38.901 UMa 6 GHz, 19 sites × 3 sectors, ISD 500 m, wrap-around", fontsize=10)
    return _save(fig, out, name)


def run_calibration(out: Path, users: int = 5700, seed: int = 0) -> pd.DataFrame:
    """The calibration: drops with the TR's 12° downtilt and Sionna's default, figure and table in ``out``."""
    drops = {"bssim, 12° downtilt": calibration_drop(users, seed, 12.0),
             "bssim, Sionna's downtilt": calibration_drop(users, seed, None)}
    out.mkdir(parents=True, exist_ok=True)
    table = calibration_table(drops)
    table.to_csv(out / "network_calibration.csv", index=False)
    (out / "network_calibration.md").write_text(markdown(table.round(1)) + "\n")
    calibration_figure(drops, out)
    return table


def sector_power_dynamics(user_epochs: pd.DataFrame) -> dict[str, float]:
    """How each sector's used power moves from epoch to epoch: mean power (overall, in epoch 0,
    over the last quarter of the epochs), mean |ΔP| between
    consecutive epochs, and the lag-1 autocorrelation of its deviation from its own mean
    (averaged over sectors). An oscillation of the ``load`` lag (high interference → high power
    → high interference next epoch, then the reverse) shows as a lag-1 autocorrelation near −1."""
    p = user_epochs.groupby(["epoch", "sector"], observed=True)["power_w"].sum().unstack(fill_value=0.0)
    dev = p - p.mean(axis=0)
    num = (dev.iloc[1:].to_numpy() * dev.iloc[:-1].to_numpy()).sum(axis=0)
    den = (dev.to_numpy() ** 2).sum(axis=0)
    rho = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    mean = p.mean(axis=1).to_numpy()
    return {"sector_power_w": float(p.to_numpy().mean()), "epoch0_power_w": float(mean[0]),
            "last_quarter_power_w": float(mean[-max(1, mean.size // 4):].mean()),
            "mean_abs_change_w": float(p.diff().abs().iloc[1:].to_numpy().mean()),
            "lag1_autocorrelation": float(np.nanmean(rho))}


def load_check(scenario, epochs: int, source=None) -> pd.DataFrame:
    """The scenario under ``full_buffer`` and ``load`` interference, with its fading and without:
    :func:`sector_power_dynamics` and the served share per case (same seed, same users)."""
    source = source if source is not None else make_source(scenario)
    rows = []
    for fading in (scenario.cell.fading, "none"):
        for mode in ("full_buffer", "load"):
            res = run(scenario, epochs=epochs, overrides={"network.interference": mode, "cell.fading": fading},
                      source=source)
            rows.append({"fading": fading, "interference": mode, **sector_power_dynamics(res.user_epochs),
                         "served_share": float(res.summary_dict()["served_share"]),
                         "mean_sinr_db": float(res.user_epochs["sinr_db"].mean())})
    return pd.DataFrame(rows)


def network_figure(user_epochs: pd.DataFrame, scenario, out: Path, epoch: int = 0,
                   name: str = "network_layout") -> list[Path]:
    """Sites (hexagons), sector boresights and the users of ``epoch`` coloured by the scheme and codec
    they were served with (circles: direct, triangles: key information)."""
    from matplotlib.patches import RegularPolygon

    lay = make_layout(scenario.network, scenario.cell)
    ue = user_epochs[user_epochs["epoch"] == epoch]
    fig, ax = _subplots(1, 1, figsize=(6.5, 6.0))
    ax = ax[0][0]
    for sx, sy in lay.site_xy_m:
        if not lay.disc:
            ax.add_patch(RegularPolygon((sx, sy), 6, radius=lay.hex_radius_m, orientation=np.pi / 6, fill=False,
                                        lw=0.6, color="0.5"))
        ax.plot(sx, sy, "k^", ms=5)
        for yaw in lay.sector_yaw_rad[:3] if lay.sectorised else ():
            r = 0.35 * lay.hex_radius_m
            ax.plot([sx, sx + r * np.cos(yaw)], [sy, sy + r * np.sin(yaw)], color="0.3", lw=0.8)
    scheme = ue["scheme"].astype(str).to_numpy()
    codec = ue["codec"].astype(str).to_numpy() if "codec" in ue else np.full(scheme.size, "")
    served = sorted({(s, c) for s, c in zip(scheme, codec) if s != "none"},
                    key=lambda sc: (scheme_names().index(sc[0]) if sc[0] in scheme_names() else 99, sc[1]))
    groups = [("none", None)] + served if (scheme == "none").any() else served
    for i, (sch, cod) in enumerate(groups):
        sel = scheme == sch if cod is None else (scheme == sch) & (codec == cod)
        words = "not served" if sch == "none" else ", ".join(
            [SCHEMES[sch].words if sch in SCHEMES else sch] + ([CODECS[cod].words] if cod in CODECS else []))
        ax.scatter(ue["x_m"].to_numpy()[sel], ue["y_m"].to_numpy()[sel], s=7, label=words,
                   color="0.75" if sch == "none" else f"C{i}", marker="o" if sch in ("none", "direct") else "^")
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.legend(fontsize=7, loc="upper right", markerscale=2)
    ax.set_title(f"{lay.n_sites} sites × {lay.n_sectors // lay.n_sites} sectors, epoch {epoch}: how each user is served",
                 fontsize=10)
    return _save(fig, out, name)
