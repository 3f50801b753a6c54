"""Large-scale channel of every (user, site) link: LOS state, path loss, shadowing, and their
update when users move (TR 38.901 as in :mod:`bssim.cell`, one draw per link).

Site 0's link is drawn exactly as the single cell draws its users (:func:`bssim.cell.large_scale`,
same generator, same order), which also fixes each user's indoor state, indoor distance and O2I
penetration loss; the other sites' links then draw their own LOS state (at d_2D − d_2D-in) and
shadowing from the same generator, site after site. Sectors of one site share its link (the
TR's co-sited large-scale parameters); shadowing is independent between sites.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bssim import link
from bssim.cell import basic_pathloss_db, large_scale, shadowing_parameters
from bssim.scenario import Cell


@dataclass
class Links:
    """(N, S) per-link state; ``indoor`` / ``o2i_loss_db`` / ``indoor_distance_m`` are per user (N,)."""

    los: np.ndarray
    pathloss_db: np.ndarray  # basic path loss + the user's O2I loss
    shadowing_db: np.ndarray
    shadowing_std_db: np.ndarray
    decorrelation_m: np.ndarray
    indoor: np.ndarray
    o2i_loss_db: np.ndarray
    indoor_distance_m: np.ndarray


def draw_links(cell: Cell, distance_m: np.ndarray, rng: np.random.Generator) -> Links:
    """Links of N new users at 2D distances ``distance_m`` (N, S) from the sites (module docstring)."""
    n, n_sites = distance_m.shape
    first = large_scale(cell, distance_m[:, 0], rng)
    indoor = first["indoor"].to_numpy(bool)
    d_in = first["indoor_distance_m"].to_numpy(float)
    o2i = first["o2i_loss_db"].to_numpy(float)
    cols = {k: [first[c].to_numpy()] for k, c in (("los", "los"), ("pl", "pathloss_db"), ("sh", "shadowing_db"),
                                                  ("sigma", "shadowing_std_db"), ("dcorr", "decorrelation_m"))}
    for s in range(1, n_sites):
        d = distance_m[:, s]
        if cell.pathloss == "log_distance":
            los = np.full(n, cell.los != "nlos")
        elif cell.los == "probabilistic":
            los = rng.uniform(size=n) < link.los_probability(d - d_in, cell.pathloss, cell.ue_height_m)
        else:
            los = np.full(n, cell.los == "los")
        sigma, dcorr = shadowing_parameters(cell, los, indoor)
        cols["los"].append(los)
        cols["pl"].append(basic_pathloss_db(cell, d, los) + o2i)
        cols["sh"].append(rng.standard_normal(n) * sigma)
        cols["sigma"].append(sigma)
        cols["dcorr"].append(dcorr)
    stack = {k: np.column_stack(v) for k, v in cols.items()}
    return Links(stack["los"].astype(bool), stack["pl"].astype(float), stack["sh"].astype(float),
                 stack["sigma"].astype(float), stack["dcorr"].astype(float), indoor, o2i, d_in)


def move_links(cell: Cell, links: Links, distance_m: np.ndarray, moved_m: np.ndarray, rng: np.random.Generator) -> None:
    """After a move of ``moved_m`` (N,): path loss from the new distances (LOS, indoor state and O2I
    kept), shadowing by the correlated AR(1) update per link (site 0 first, as the single cell)."""
    for s in range(distance_m.shape[1]):
        links.pathloss_db[:, s] = basic_pathloss_db(cell, distance_m[:, s], links.los[:, s]) + links.o2i_loss_db
        links.shadowing_db[:, s] = link.correlated_shadowing_db(links.shadowing_db[:, s], moved_m,
                                                                links.shadowing_std_db[:, s], links.decorrelation_m[:, s], rng)


def sector_gain_db(cell: Cell, links: Links, pattern_db: np.ndarray, sector_site: np.ndarray) -> np.ndarray:
    """(N, K) large-scale gain G_ls = antenna gain + sector pattern − PL − SF, in dB."""
    return (cell.antenna_gain_db + pattern_db) - links.pathloss_db[:, sector_site] - links.shadowing_db[:, sector_site]
