"""Cell geometry and channel draws for N users (DESIGN.md section 2).

Channel power gain of user n: G_n = antenna gain × path gain × shadowing × small-scale fading,
i.e. in dB ``G_dB = antenna_gain_db − pathloss_db − shadowing_db + 10·log10(|h|²)``.
Path loss and shadowing depend on the position (large scale); fading is redrawn every
coherence time (block fading).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bssim import link
from bssim.scenario import Cell


def place_uniform_disc(
    rng: np.random.Generator, n: int, radius_m: float, min_distance_m: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(x_m, y_m) of ``n`` points uniform in the annulus min_distance_m ≤ r ≤ radius_m around (0, 0).

    r = sqrt(U(r_min², R²)) gives a uniform density over the area.
    """
    r = np.sqrt(rng.uniform(min_distance_m**2, radius_m**2, size=n))
    phi = rng.uniform(0.0, 2.0 * np.pi, size=n)
    return r * np.cos(phi), r * np.sin(phi)


def basic_pathloss_db(cell: Cell, distance_m: np.ndarray, los: np.ndarray) -> np.ndarray:
    """Outdoor (basic) path loss PL_b in dB of users at 2D distance ``distance_m`` with LOS state ``los``."""
    carrier_hz = cell.carrier_ghz * 1e9
    if cell.pathloss == "log_distance":
        return link.log_distance_pathloss_db(distance_m, carrier_hz, cell.pathloss_exponent)
    fn = link.uma_pathloss_db if cell.pathloss == "uma" else link.umi_pathloss_db
    return fn(distance_m, carrier_hz, los, h_bs_m=cell.bs_height_m, h_ut_m=cell.ue_height_m)


def shadowing_parameters(cell: Cell, los: np.ndarray, indoor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per user (σ_SF in dB, decorrelation distance in m): TR 38.901 Tables 7.4.1-1 and 7.5-6."""
    n = los.size
    if cell.pathloss == "log_distance":
        sigma, dcorr = np.full(n, 8.0), np.full(n, 50.0)
    else:
        m = cell.pathloss
        sigma = np.where(los, link.SHADOWING_STD_DB[(m, True)], link.SHADOWING_STD_DB[(m, False)])
        dcorr = np.where(los, link.SHADOWING_DECORRELATION_M[(m, True)], link.SHADOWING_DECORRELATION_M[(m, False)])
        sigma = np.where(indoor, link.O2I_SHADOWING_STD_DB[m], sigma)
        dcorr = np.where(indoor, link.O2I_SHADOWING_DECORRELATION_M[m], dcorr)
    if cell.shadowing_db is not None:
        sigma = np.full(n, float(cell.shadowing_db))
    if cell.shadowing_decorrelation_m is not None:
        dcorr = np.full(n, float(cell.shadowing_decorrelation_m))
    return sigma, dcorr


def _o2i(cell: Cell, distance_m: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indoor, d_2D-in, O2I penetration loss in dB) per user, TR 38.901 §7.4.3.1.

    Drawn after every outdoor draw, so scenarios without indoor users keep their draws."""
    n = distance_m.size
    if cell.indoor_share <= 0:
        return np.zeros(n, bool), np.zeros(n), np.zeros(n)
    indoor = rng.uniform(size=n) < cell.indoor_share
    d_in = np.minimum(link.indoor_distance_m(rng, n, cell.indoor_distance_max_m), distance_m)
    high = rng.uniform(size=n) < cell.o2i_high_loss_share
    carrier_hz = cell.carrier_ghz * 1e9
    loss = np.where(high, link.o2i_penetration_loss_db("high", carrier_hz, d_in, rng),
                    link.o2i_penetration_loss_db("low", carrier_hz, d_in, rng))
    return indoor, np.where(indoor, d_in, 0.0), np.where(indoor, loss, 0.0)


def large_scale(cell: Cell, distance_m: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """LOS state, path loss (O2I included), shadowing and its parameters for users at ``distance_m``.

    Outdoor users: TR 38.901 LOS probability at d_2D, PL_b(d), shadowing N(0, σ_SF²) with the
    LOS/NLOS σ. Indoor users (share ``cell.indoor_share``, UMa/UMi): LOS probability at
    d_2D-out = d_2D − d_2D-in, PL = PL_b(d) + PL_tw + PL_in + N(0, σ_P²) (§7.4.3.1) and the O2I
    shadowing σ_SF = 7 dB (Table 7.5-6).
    """
    distance_m = np.asarray(distance_m, dtype=float)
    n = distance_m.size
    u_los = rng.uniform(size=n) if cell.pathloss != "log_distance" and cell.los == "probabilistic" else None
    z = rng.standard_normal(n)
    indoor, d_in, o2i_db = _o2i(cell, distance_m, rng)
    if cell.pathloss == "log_distance":
        los = np.ones(n, dtype=bool) if cell.los != "nlos" else np.zeros(n, dtype=bool)
    elif u_los is not None:
        los = u_los < link.los_probability(distance_m - d_in, cell.pathloss, cell.ue_height_m)
    else:
        los = np.full(n, cell.los == "los")
    sigma, dcorr = shadowing_parameters(cell, los, indoor)
    return pd.DataFrame({
        "los": los, "indoor": indoor, "pathloss_db": basic_pathloss_db(cell, distance_m, los) + o2i_db,
        "o2i_loss_db": o2i_db, "shadowing_db": z * sigma, "shadowing_std_db": sigma, "decorrelation_m": dcorr,
        "indoor_distance_m": d_in,
    })


def small_scale(cell: Cell, rng: np.random.Generator, n: int) -> np.ndarray:
    """Block-fading power gain |h|² (mean 1) for ``n`` users."""
    if cell.fading == "rayleigh":
        return link.rayleigh_power_gain(rng, n)
    if cell.fading == "rician":
        return link.rician_power_gain(rng, cell.rician_k_db, n)
    return np.ones(n)


def channel_gain(
    pathloss_db: np.ndarray, shadowing_db: np.ndarray, fading_gain: np.ndarray, antenna_gain_db: float
) -> np.ndarray:
    """Linear power gain G = 10^((G_ant − PL − SF)/10) · |h|²."""
    return link.db_to_linear(antenna_gain_db - np.asarray(pathloss_db) - np.asarray(shadowing_db)) * fading_gain
