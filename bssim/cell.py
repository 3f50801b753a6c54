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


def large_scale(cell: Cell, distance_m: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """LOS state, path loss and shadowing (dB) for users at ``distance_m`` from the base station."""
    distance_m = np.asarray(distance_m, dtype=float)
    n = distance_m.size
    carrier_hz = cell.carrier_ghz * 1e9
    if cell.pathloss == "log_distance":
        los = np.ones(n, dtype=bool) if cell.los != "nlos" else np.zeros(n, dtype=bool)
        pathloss_db = link.log_distance_pathloss_db(distance_m, carrier_hz, cell.pathloss_exponent)
        default_sigma = np.full(n, 8.0)
    else:
        if cell.los == "probabilistic":
            los = rng.uniform(size=n) < link.los_probability(distance_m, cell.pathloss, cell.ue_height_m)
        else:
            los = np.full(n, cell.los == "los")
        h_bs = cell.bs_height_m
        fn = link.uma_pathloss_db if cell.pathloss == "uma" else link.umi_pathloss_db
        pathloss_db = fn(distance_m, carrier_hz, los, h_bs_m=h_bs, h_ut_m=cell.ue_height_m)
        default_sigma = np.where(
            los, link.SHADOWING_STD_DB[(cell.pathloss, True)], link.SHADOWING_STD_DB[(cell.pathloss, False)]
        )
    sigma = default_sigma if cell.shadowing_db is None else np.full(n, cell.shadowing_db)
    shadowing_db = rng.standard_normal(n) * sigma
    return pd.DataFrame({"los": los, "pathloss_db": pathloss_db, "shadowing_db": shadowing_db})


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
