"""The simulation of a network of sectors (scenario section ``[network]``; docs/model.md, "Network").

:class:`NetworkEngine` is the single-cell :class:`~bssim.sim.engine.Engine` with three changes:

* **users and links** — users are dropped over the Sionna hexagonal layout (rings = 0: the
  cell's disc, as the single cell), every (user, site) link has its own large-scale draw
  (:mod:`bssim.network.links`) and every sector its TR 38.901 antenna pattern;
  users attach to the strongest sector (RSRP) and, when they move, hand over by the A3 rule
  (:mod:`bssim.network.handover`, stream ``shadowing`` as the single cell's moves);
* **SINR** — each request's channel carries the effective noise N + I
  (:func:`bssim.network.sinr.interference_w`; I from the other sectors at 0, P_max or the power
  they used the epoch before), so every link model prices its options at the SINR unchanged;
* **a scheduler per sector** — :func:`bssim.epoch.schedule` runs once per sector on that
  sector's requests under its own P_max, the solvers untouched.

Rows gain ``sector``, ``site``, ``snr_db`` and ``sinr_db`` (the serving sector's full-power
PSD P_max/W on the user's band B over N, and over N + I: sinr_db ≤ snr_db, equal without
interference), ``interference_dbm``, ``handovers`` (the user's count so far) and the position ``x_m``, ``y_m``. Epoch rows
report ``power_used_w`` per sector (the mean over sectors, so ``power_share`` stays the share of
one sector's P_max), ``power_used_total_w`` and ``n_handovers``.

With ``rings = 0``, ``sectors = 1`` and ``interference = "none"`` every draw, price and decision
is the single cell's (``tests/unit/test_network.py`` checks it row for row).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from bssim import link
from bssim.cell import place_uniform_disc
from bssim.epoch import EpochInput, EpochResult, schedule
from bssim.network.handover import HandoverState, a3_step
from bssim.network.links import Links, draw_links, move_links, sector_gain_db
from bssim.network.sinr import interference_w
from bssim.network.topology import Layout, drop_users, inside, make_layout, sector_pattern_db, site_offsets
from bssim.options.links import Channels
from bssim.options.table import Offers
from bssim.seeding import rng as seeded_rng
from bssim.sim.engine import Engine
from bssim.sim.population import Population


@dataclass
class NetworkPopulation(Population):
    """:class:`Population` with per-link arrays: ``distance_m``, ``los``, ``pathloss_db``,
    ``shadowing_*`` and ``decorrelation_m`` are (N, S); ``gain_ls`` / ``gain_db`` (N, K) per sector."""

    gain_db: np.ndarray = field(default=None)  # (N, K) large-scale gain in dB = RSRP up to a constant
    indoor_distance_m: np.ndarray = field(default=None)
    serving: np.ndarray = field(default=None)
    a3_target: np.ndarray = field(default=None)
    a3_held: np.ndarray = field(default=None)
    handovers: np.ndarray = field(default=None)

    def links(self) -> Links:
        """A view of the per-link arrays (updates write through)."""
        return Links(self.los, self.pathloss_db, self.shadowing_db, self.shadowing_std_db, self.decorrelation_m,
                     self.indoor, self.o2i_loss_db, self.indoor_distance_m)

    def handover_state(self) -> HandoverState:
        return HandoverState(self.serving, self.a3_target, self.a3_held, self.handovers)

    def set_handover_state(self, s: HandoverState) -> None:
        self.serving, self.a3_target, self.a3_held, self.handovers = s.serving, s.target, s.held, s.count


def subset_offers(offers: Offers, sel: np.ndarray) -> Offers:
    """The offers of requests ``sel`` (same options)."""
    return dataclasses.replace(offers, bits=offers.bits[sel], symbols=offers.symbols[sel],
                               quality={m: q[sel] for m, q in offers.quality.items()}, items=offers.items[sel])


def subset_channels(ch: Channels, sel: np.ndarray) -> Channels:
    return Channels(ch.gain[sel], ch.noise_w[sel], ch.loss_w[sel], ch.bandwidth_hz[sel], ch.delay_s)


class NetworkEngine(Engine):
    """One run of a scenario with a ``[network]`` section (module docstring)."""

    def __init__(self, scenario, source, progress=None, keep_results: bool = False) -> None:
        super().__init__(scenario, source, progress, keep_results)
        self.net = scenario.network
        self.layout: Layout = make_layout(self.net, self.cell)
        k = self.layout.n_sectors
        self.sector_power_w = np.full(k, float(self.config.p_max_w))  # load: the first epoch sees full buffer

    # ------------------------------------------------------------------ users and links
    def _gains(self, dx: np.ndarray, dy: np.ndarray, links: Links) -> np.ndarray:
        pattern = sector_pattern_db(self.layout, dx, dy)
        return sector_gain_db(self.cell, links, pattern, self.layout.sector_site)

    def _place(self, n: int, t: float, g_place, g_ls) -> NetworkPopulation:
        lay, cell = self.layout, self.cell
        if lay.disc:
            x, y = place_uniform_disc(g_place, n, cell.radius_m, cell.min_distance_m)
        else:
            x, y = drop_users(lay, g_place, n)
        dx, dy = site_offsets(lay, x, y)
        d = np.hypot(dx, dy)
        lk = draw_links(cell, d, g_ls)
        gdb = self._gains(dx, dy, lk)
        ho = HandoverState.attach(gdb)
        zeros = np.zeros(n)
        return NetworkPopulation(
            uid=np.arange(self.next_uid, self.next_uid + n, dtype=np.int64), x_m=x, y_m=y, distance_m=d,
            heading_rad=zeros.copy(), los=lk.los, indoor=lk.indoor, pathloss_db=lk.pathloss_db,
            o2i_loss_db=lk.o2i_loss_db, shadowing_db=lk.shadowing_db, shadowing_std_db=lk.shadowing_std_db,
            decorrelation_m=lk.decorrelation_m, gain_ls=link.db_to_linear(gdb), fading=np.ones(n),
            join_s=np.full(n, float(t)), leave_s=np.full(n, np.inf), phase_s=zeros.copy(),
            counter=np.zeros(n, dtype=np.int64), gain_db=gdb, indoor_distance_m=lk.indoor_distance_m,
            serving=ho.serving, a3_target=ho.target, a3_held=ho.held, handovers=ho.count,
        )

    def _move(self, epoch: int) -> None:
        """Random-direction step, reflected at the network's edge and at every site's minimum
        distance; links follow (:func:`bssim.network.links.move_links`); then one A3 step."""
        p = self.pop
        step = self.sc.sim.speed_mps * self.T
        x = p.x_m + step * np.cos(p.heading_rad)
        y = p.y_m + step * np.sin(p.heading_rad)
        out = ~inside(self.layout, x, y)
        if out.any():  # bounce: stay where you were, turn around
            x[out], y[out] = p.x_m[out], p.y_m[out]
            p.heading_rad[out] = (p.heading_rad[out] + np.pi) % (2 * np.pi)
        moved = np.hypot(x - p.x_m, y - p.y_m)
        dx, dy = site_offsets(self.layout, x, y)
        p.x_m, p.y_m, p.distance_m = x, y, np.hypot(dx, dy)
        move_links(self.cell, p.links(), p.distance_m, moved, seeded_rng(self.seed, "shadowing", epoch))
        p.gain_db = self._gains(dx, dy, p.links())
        p.gain_ls = link.db_to_linear(p.gain_db)
        state = p.handover_state()
        self.handed = a3_step(state, p.gain_db, self.net.handover_offset_db, self.net.time_to_trigger_epochs)
        p.set_handover_state(state)

    # ------------------------------------------------------------------ one epoch
    def interferer_power_w(self) -> np.ndarray:
        """(K,) transmit power each sector is assumed to radiate this epoch."""
        mode = self.net.interference
        if mode == "none":
            return np.zeros(self.layout.n_sectors)
        if mode == "full_buffer":
            return np.full(self.layout.n_sectors, float(self.config.p_max_w))
        return self.sector_power_w

    def epoch_input(self, e: int, t: float):
        """The requests of epoch ``e`` with their serving sector's channel and N + I as noise;
        returns (input, user indices, request info, active users, serving sectors, interference W)."""
        p = self.pop
        offers, info, idx, active = self.requests(e, t)
        n = idx.size
        serving = p.serving[idx]
        g_all = p.gain_ls[idx]
        band = np.full(n, float(self.cell.bandwidth_hz))
        if self.net.interference == "none":
            interference = np.zeros(n)
        else:
            interference = interference_w(g_all, serving, self.interferer_power_w(), band, self.net.bandwidth_hz)
        noise = np.full(n, self.noise_w) + interference
        gain = g_all[np.arange(n), serving] * p.fading[idx]
        channels = Channels(gain, noise, np.full(n, float(self.cell.loss_w)), band, self.T)
        return EpochInput(offers, channels), idx, info, active, serving, interference

    def _schedule_sectors(self, e: int, inputs: EpochInput, serving: np.ndarray):
        """Each sector's scheduler on its own requests; returns (merged columns, results, solve time)."""
        n = serving.size
        g_harq = seeded_rng(self.seed, "harq", e)
        if n == 0:
            res = schedule(inputs, self.config)
            return self.decision_columns(res, g_harq), [res], float(res.solution.solve_time_s)
        merged: dict[str, np.ndarray] = {}
        results, solve_s = [], 0.0
        used = np.zeros(self.layout.n_sectors)
        for k in np.unique(serving):
            sel = np.flatnonzero(serving == k)
            sub = EpochInput(subset_offers(inputs.offers, sel), subset_channels(inputs.channels, sel))
            res = schedule(sub, self.config)
            cols = self.decision_columns(res, g_harq)
            for name, v in cols.items():
                if name not in merged:
                    merged[name] = np.empty(n, dtype=v.dtype)
                merged[name][sel] = v
            used[k] = float(cols["power_w"].sum())
            results.append(res)
            solve_s += float(res.solution.solve_time_s)
        self.sector_power_w = used
        return merged, results, solve_s

    def _network_columns(self, idx: np.ndarray, serving: np.ndarray, interference: np.ndarray,
                         gain: np.ndarray) -> dict[str, np.ndarray]:
        """sector, site, snr_db, sinr_db (at the serving sector's full-power PSD), interference, handovers."""
        band = float(self.cell.bandwidth_hz)
        signal = float(self.config.p_max_w) * band / float(self.net.bandwidth_hz) * gain
        snr = 10.0 * np.log10(np.maximum(signal, 1e-300) / self.noise_w)
        sinr = 10.0 * np.log10(np.maximum(signal, 1e-300) / (self.noise_w + interference))
        return {"sector": serving.astype(np.int32), "site": self.layout.sector_site[serving].astype(np.int32),
                "snr_db": snr, "sinr_db": sinr,
                "interference_dbm": 10.0 * np.log10(np.maximum(interference, 1e-300)) + 30.0,
                "handovers": self.pop.handovers[idx].astype(np.int32),
                "x_m": self.pop.x_m[idx], "y_m": self.pop.y_m[idx]}

    def _base_station(self, epochs: int):
        for e in range(epochs):
            t = self.env.now
            self.handed = np.zeros(self.pop.size, bool)
            if self.sc.sim.speed_mps > 0:
                self._move(e)
            inputs, idx, info, active, serving, interference = self.epoch_input(e, t)
            cols, results, solve_s = self._schedule_sectors(e, inputs, serving)
            if self.keep_results:
                self.results.append(results)
            gain = inputs.channels.gain
            cols.update(self._network_columns(idx, serving, interference, gain))
            dist = self.pop.distance_m[idx, self.layout.sector_site[serving]] if idx.size else np.zeros(0)
            row = self._record_columns(e, t, cols, idx, info, int(active.size), inputs.offers.items, gain, dist, solve_s)
            total = row["power_used_w"]
            row.update(power_used_w=total / self.layout.n_sectors, power_used_total_w=total,
                       n_sectors=self.layout.n_sectors, n_handovers=int(self.handed.sum()))
            if self.progress is not None:
                self.progress(1)
            self._compact(t)
            yield self.env.timeout(self.T)
