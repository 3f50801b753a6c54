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
from bssim.scenario import Cell, DeclaredContent, Scenario, sample_value
from bssim.seeding import rng as seeded_rng


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


def declared_content(content: DeclaredContent, rng: np.random.Generator, n: int) -> pd.DataFrame:
    """D_bits, C_bits, alpha for ``n`` users from a declared content model.

    Raises a clear error if a draw gives C_n ≥ D_n, D_n ≤ 0 or α outside (0, 1) (seed section IV).
    """
    d_bits = sample_value(content.D_bits, rng, n)
    if content.C_bits is not None:
        c_bits = sample_value(content.C_bits, rng, n)
    else:
        c_bits = d_bits * sample_value(content.C_fraction, rng, n)  # type: ignore[arg-type]
    alpha = sample_value(content.alpha, rng, n)
    checks = [
        ("D_bits", d_bits, d_bits > 0, "> 0"),
        ("C_bits", c_bits, (c_bits > 0) & (c_bits < d_bits), "in (0, D_bits)"),
        ("alpha", alpha, (alpha > 0) & (alpha < 1), "in (0, 1)"),
    ]
    for name, values, ok, rule in checks:
        if not np.all(ok):
            i = int(np.argmin(ok))
            raise ValueError(
                f"content.{name}: user {i} drew {values[i]!r}, which is not {rule}; narrow the distribution"
            )
    return pd.DataFrame({"D_bits": d_bits, "C_bits": c_bits, "alpha": alpha})


def draw_users(scenario: Scenario, epoch: int = 0) -> pd.DataFrame:
    """One epoch's users: position, channel, noise and (declared) content, one row per user.

    Columns: ``user, x_m, y_m, distance_m, los, pathloss_db, shadowing_db, fading_gain, gain,
    gain_db, noise_w, loss_w, bandwidth_hz`` and, for declared content, ``D_bits, C_bits, alpha,
    content_source``. Positions, shadowing and content use the master seed; fading also uses
    ``epoch``, so epochs differ only in their fading.
    """
    cell, n, seed = scenario.cell, scenario.users.count, scenario.seed
    x_m, y_m = place_uniform_disc(seeded_rng(seed, "placement"), n, cell.radius_m, cell.min_distance_m)
    distance_m = np.hypot(x_m, y_m)
    ls = large_scale(cell, distance_m, seeded_rng(seed, "large_scale"))
    fading_gain = small_scale(cell, seeded_rng(seed, "fading", epoch), n)
    gain = channel_gain(ls["pathloss_db"].to_numpy(), ls["shadowing_db"].to_numpy(), fading_gain, cell.antenna_gain_db)
    users = pd.DataFrame({"user": np.arange(n), "x_m": x_m, "y_m": y_m, "distance_m": distance_m})
    users = pd.concat([users, ls], axis=1)
    users["fading_gain"] = fading_gain
    users["gain"] = gain
    users["gain_db"] = 10.0 * np.log10(np.maximum(gain, 1e-300))
    users["noise_w"] = scenario.noise_w()
    users["loss_w"] = cell.loss_w
    users["bandwidth_hz"] = cell.bandwidth_hz
    if isinstance(scenario.content, DeclaredContent):
        content = declared_content(scenario.content, seeded_rng(seed, "content"), n)
        users = pd.concat([users, content], axis=1)
        users["content_source"] = "declared"
    return users
