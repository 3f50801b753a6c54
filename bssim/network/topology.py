"""Site layout, user drops and sector antenna gains from Sionna's system-level topology.

* Sites: ``sionna.sys.HexGrid`` (spiral of hexagonal cells of radius ISD/√3, the TR 38.901
  layout) with its 7 wrap-around images per site (``mirror_cell_loc``); rings = 0 is one site.
* Sectors: the yaws and the downtilt of ``sionna.sys.gen_hexgrid_topology`` (60°, 180°, 300°;
  downtilt toward the sector centre, atan(h_BS / ((d_min + ISD/2)/2))), unless overridden.
* Antenna: the TR 38.901 Table 7.3-1 element of ``sionna.phy.channel.tr38901.AntennaElement``
  (8 dBi, 65° beamwidths, 30 dB front-to-back), evaluated at the local angles of TR 38.901
  eq. (7.1-7)/(7.1-8) for the sector's bearing α and downtilt β (slant γ = 0).

Shapes follow Sionna: users N, sites S, sectors K = S·sectors, sector k belongs to site
k // sectors. Angles in rad, distances in m.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bssim.scenario import Cell, Network


@dataclass(frozen=True)
class Layout:
    """Where the sites and sectors are and where users may be."""

    site_xy_m: np.ndarray  # (S, 2)
    images_xy_m: np.ndarray  # (S, I, 2) wrap-around images of each site (I = 7, or 1 without wrap-around)
    sector_site: np.ndarray  # (K,) site of each sector
    sector_yaw_rad: np.ndarray  # (K,) bearing α of each sector's boresight
    downtilt_rad: float  # β, positive = down
    sectorised: bool  # False: omnidirectional sites (no antenna pattern)
    hex_radius_m: float  # site hexagon circumradius ISD/√3 (rings >= 1); the cell radius for rings = 0
    disc: bool  # rings = 0: users in the cell's disc (as the single cell), else in the hexagons
    min_distance_m: float
    bs_height_m: float
    ue_height_m: float

    @property
    def n_sites(self) -> int:
        return int(self.site_xy_m.shape[0])

    @property
    def n_sectors(self) -> int:
        return int(self.sector_site.size)


def sionna_sector_orientation(net: Network, cell: Cell) -> tuple[np.ndarray, float]:
    """(yaws (3,), downtilt) of ``sionna.sys.gen_hexgrid_topology`` for this ISD, BS height and minimum distance."""
    import torch
    from sionna.sys import gen_hexgrid_topology

    topo = gen_hexgrid_topology(1, 1, 1, "uma", min_bs_ut_dist=cell.min_distance_m, isd=net.isd_m,
                                bs_height=cell.bs_height_m, min_ut_height=cell.ue_height_m,
                                max_ut_height=cell.ue_height_m, precision="double", device="cpu")
    orient = topo[3][0].to(torch.float64).numpy()  # (num_cells·3, 3): yaw, pitch (downtilt), roll
    return orient[:3, 0].copy(), float(orient[0, 1])


def make_layout(net: Network, cell: Cell) -> Layout:
    """The :class:`Layout` a scenario's ``[network]`` and ``[cell]`` describe (Sionna HexGrid)."""
    if net.rings == 0:
        site = np.zeros((1, 2))
        images = site[:, None, :]
        radius = cell.radius_m
    else:
        from sionna.sys import HexGrid

        grid = HexGrid(num_rings=net.rings, isd=net.isd_m, cell_height=cell.bs_height_m, precision="double", device="cpu")
        site = grid.cell_loc.numpy()[:, :2].copy()
        images = grid.mirror_cell_loc.numpy()[:, :, :2].copy() if net.wraparound else site[:, None, :]
        radius = net.isd_m / math.sqrt(3.0)
    n_sites = site.shape[0]
    if net.sectors == 3:
        yaws, tilt = sionna_sector_orientation(net, cell)
        if net.downtilt_deg is not None:
            tilt = math.radians(net.downtilt_deg)
    else:
        yaws, tilt = np.zeros(1), 0.0
    return Layout(site, images, np.repeat(np.arange(n_sites), net.sectors), np.tile(yaws, n_sites), tilt,
                  net.sectors == 3, radius, net.rings == 0, cell.min_distance_m, cell.bs_height_m, cell.ue_height_m)


def in_hexagon(dx: np.ndarray, dy: np.ndarray, radius_m: float) -> np.ndarray:
    """True where (dx, dy) lies in the hexagon of circumradius R with corners at 0°, 60°, … (HexGrid's)."""
    ax, ay = np.abs(dx), np.abs(dy)
    return (ay <= math.sqrt(3.0) / 2 * radius_m) & (math.sqrt(3.0) * ax + ay <= math.sqrt(3.0) * radius_m)


def site_offsets(layout: Layout, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dy) (N, S) from each site, or its nearest wrap-around image, to each user."""
    img = layout.images_xy_m
    dx = x_m[:, None] - img[None, :, 0, 0]
    dy = y_m[:, None] - img[None, :, 0, 1]
    best = dx**2 + dy**2
    for i in range(1, img.shape[1]):  # image by image: (N, S) temporaries, not (N, S, 7)
        ix = x_m[:, None] - img[None, :, i, 0]
        iy = y_m[:, None] - img[None, :, i, 1]
        d2 = ix**2 + iy**2
        closer = d2 < best
        dx, dy, best = np.where(closer, ix, dx), np.where(closer, iy, dy), np.where(closer, d2, best)
    return dx, dy


def inside(layout: Layout, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
    """Users inside the network area and not closer than the minimum distance to any site."""
    dx = x_m[:, None] - layout.site_xy_m[None, :, 0]
    dy = y_m[:, None] - layout.site_xy_m[None, :, 1]
    d = np.hypot(dx, dy)
    if layout.disc:
        region = d[:, 0] <= layout.hex_radius_m
    else:
        region = in_hexagon(dx, dy, layout.hex_radius_m).any(axis=1)
    return region & (d.min(axis=1) >= layout.min_distance_m)


def drop_users(layout: Layout, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(x_m, y_m) of ``n`` users uniform over the site hexagons (a site uniformly, then a point
    uniform in its hexagon by rejection), at least ``min_distance_m`` from every site."""
    x, y = np.empty(n), np.empty(n)
    todo = np.arange(n)
    r = layout.hex_radius_m
    while todo.size:
        site = rng.integers(0, layout.n_sites, size=todo.size)
        px = layout.site_xy_m[site, 0] + rng.uniform(-r, r, size=todo.size)
        py = layout.site_xy_m[site, 1] + rng.uniform(-r, r, size=todo.size)
        ok = in_hexagon(px - layout.site_xy_m[site, 0], py - layout.site_xy_m[site, 1], r) & inside(layout, px, py)
        x[todo[ok]], y[todo[ok]] = px[ok], py[ok]
        todo = todo[~ok]
    return x, y


def local_angles(cos_theta: np.ndarray, sin_theta: np.ndarray, cos_dphi: np.ndarray, sin_dphi: np.ndarray,
                 tilt: float) -> tuple[np.ndarray, np.ndarray]:
    """TR 38.901 eq. (7.1-7), (7.1-8) with slant γ = 0: the sector's local (θ', φ') from the global
    zenith θ and the azimuth off the bearing φ − α, given by their cosines and sines:
    θ' = arccos(cos β cos θ + sin β cos(φ−α) sin θ),
    φ' = arg(cos β sin θ cos(φ−α) − sin β cos θ + j sin(φ−α) sin θ)."""
    cb, sb = math.cos(tilt), math.sin(tilt)
    theta_l = np.arccos(np.clip(cb * cos_theta + sb * cos_dphi * sin_theta, -1.0, 1.0))
    phi_l = np.arctan2(sin_dphi * sin_theta, cb * sin_theta * cos_dphi - sb * cos_theta)
    return theta_l, phi_l


def sector_pattern_db(layout: Layout, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """(N, K) antenna gain in dBi of each sector toward each user (0 for omnidirectional sites).

    Global angles from the site to the user: φ = atan2(dy, dx), θ = 90° + atan((h_BS − h_UT)/d_2D),
    i.e. cos θ = −(h_BS − h_UT)/d_3D, sin θ = d_2D/d_3D."""
    n, k = dx.shape[0], layout.n_sectors
    if not layout.sectorised:
        return np.zeros((n, k))
    import torch
    from sionna.phy.channel.tr38901 import AntennaElement

    d2 = np.maximum(np.hypot(dx, dy), 1e-9)
    h = layout.bs_height_m - layout.ue_height_m
    d3 = np.hypot(d2, h)
    cos_t, sin_t, cos_p, sin_p = -h / d3, d2 / d3, dx / d2, dy / d2  # (N, S)
    element = AntennaElement(pattern="38.901", slant_angle=0.0, precision="double", device="cpu")
    per_site = k // layout.n_sites
    out = np.empty((n, k))
    for j in range(per_site):  # sector j of every site: (N, S) at a time
        yaw = float(layout.sector_yaw_rad[j])
        ca, sa = math.cos(yaw), math.sin(yaw)
        th_l, ph_l = local_angles(cos_t, sin_t, cos_p * ca + sin_p * sa, sin_p * ca - cos_p * sa, layout.downtilt_rad)
        f_theta, f_phi = element.field(torch.from_numpy(th_l), torch.from_numpy(ph_l))
        out[:, j::per_site] = 10.0 * np.log10(np.maximum((f_theta**2 + f_phi**2).numpy(), 1e-30))
    return out
