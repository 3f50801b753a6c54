"""The discrete-event simulation (DESIGN.md section 4), on SimPy, vectorised per epoch.

Processes (one SimPy process each, not one per user, so 10 000 users cost what 100 do):

* **base station** — every T (``scheduler.delay_bound_s``) one scheduling epoch at t = e·T:
  move the users (if ``sim.speed_mps`` > 0), find the active users and their pending
  requests, compute both options' powers from the current channel (Shannon inversion,
  :func:`bssim.link.required_power_w`), call the configured scheduler (:mod:`bssim.sched`),
  deliver, record one row per request and one row per epoch;
* **channel** — every coherence time (``sim.coherence_time_s``, default T) redraws the
  block fading |h|² of every user (stream ``fading``, block index);
* **arrivals** — users join as a Poisson process (``sim.arrival_rate_per_s``); each user
  (initial or joining) stays an exponential time of mean ``sim.mean_stay_s`` (none: forever)
  and leaves at its leave time (checked by the base station every epoch).

Requests (``sim.request``), the *user processes* computed for all users at once: the items
a user generates during epoch e, i.e. in [e·T, (e+1)·T), are scheduled at the epoch's
start and must be delivered by its end (deadline = the end of the epoch, the seed's delay
bound T). ``every_epoch``: one item per epoch; ``video``: frames at ``sim.fps`` from a
random phase after the user joins (fps·T frames per epoch on average; several frames in
one epoch are sent together, so bits scale with the count); ``poisson``: image requests
with rate ``sim.image_rate_per_s`` (Poisson count per epoch). The scheduler decides once
per user and epoch (quality ρ_n = 1, α_n or 0 per item, seed section IV). An item not
served in its epoch is dropped and counted (``deadline_met`` = False, ``items_dropped``).

Channel: G_n = antenna gain × path gain (TR 38.901 / log-distance, from the user's
position) × shadowing (drawn once per user) × block fading. A moving user keeps its LOS
state and shadowing and gets a new path loss from its new distance (random direction,
reflected at the cell edge and at the minimum distance).

Randomness: every draw comes from a named stream of the master seed (:mod:`bssim.seeding`):
the initial users use the same streams as :func:`bssim.cell.draw_users` (placement,
large_scale, content, fading block 0), so epoch 0 of ``bssim run`` is the instance of
``bssim solve``; a user joining later draws everything from stream ``arrival`` with its
user id. Two runs with the same scenario and seed are identical.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import simpy

from bssim import link
from bssim.cell import large_scale, place_uniform_disc, small_scale
from bssim.scenario import Cell, DeclaredContent, Scenario
from bssim.seeding import rng as seeded_rng
from bssim.sim.content import DeclaredSource, MeasuredSource, Requests

CHOICE_NAMES = {-1: "none", 0: "direct", 1: "key"}

#: Per-request columns recorded by the engine (``user_epochs`` table).
USER_EPOCH_COLUMNS = (
    "user", "epoch", "time_s", "items", "choice", "power_w", "p_direct_w", "p_key_w", "bits",
    "D_bits", "C_bits", "alpha", "quality", "deadline_met", "snr_db", "distance_m", "gain_db",
    "operating_snr_db", "content_id", "frame", "alpha_measured",
)


def pathloss_db(cell: Cell, distance_m: np.ndarray, los: np.ndarray) -> np.ndarray:
    """Deterministic path loss (dB) of users at ``distance_m`` with LOS state ``los`` (as in :func:`bssim.cell.large_scale`)."""
    carrier_hz = cell.carrier_ghz * 1e9
    if cell.pathloss == "log_distance":
        return link.log_distance_pathloss_db(distance_m, carrier_hz, cell.pathloss_exponent)
    fn = link.uma_pathloss_db if cell.pathloss == "uma" else link.umi_pathloss_db
    return fn(distance_m, carrier_hz, los, h_bs_m=cell.bs_height_m, h_ut_m=cell.ue_height_m)


class Engine:
    """One simulation run of a scenario. Use :func:`bssim.sim.simulate` (or :func:`bssim.sim.run`)."""

    def __init__(
        self,
        scenario: Scenario,
        source: DeclaredSource | MeasuredSource | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.sc = scenario
        self.seed = scenario.seed
        self.cell = scenario.cell
        self.T = float(scenario.scheduler.delay_bound_s)
        self.coherence_s = float(scenario.sim.coherence_time_s or self.T)
        self.noise_w = float(scenario.noise_w())
        self.loss_w = float(self.cell.loss_w)
        self.bandwidth_hz = float(self.cell.bandwidth_hz)
        if source is None:
            if not isinstance(scenario.content, DeclaredContent):
                raise ValueError("measured content needs a MeasuredSource (use bssim.sim.run, which builds it)")
            source = DeclaredSource(scenario.content)
        self.source = source
        self.progress = progress
        mc = scenario.content
        p_ref = getattr(mc, "operating_power_w", None)
        self.p_ref_w = float(p_ref) if p_ref else scenario.scheduler.p_max_w / max(scenario.users.count, 1)
        self.env = simpy.Environment()
        self.pop: dict[str, np.ndarray] = {}
        self.attrs: dict[str, np.ndarray] = {}
        self.next_uid = 0
        self.rows: list[tuple[np.ndarray, ...]] = []
        self.epoch_rows: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ population
    def _append(self, new: dict[str, np.ndarray], attrs: dict[str, np.ndarray]) -> None:
        if not self.pop:
            self.pop = {k: np.asarray(v) for k, v in new.items()}
            self.attrs = {k: np.asarray(v) for k, v in attrs.items()}
        else:
            self.pop = {k: np.concatenate([self.pop[k], new[k]]) for k in self.pop}
            self.attrs = {k: np.concatenate([self.attrs[k], attrs[k]]) for k in self.attrs}
        self._refresh_operating_snr(np.arange(self.pop["uid"].size - new["uid"].size, self.pop["uid"].size))

    def _new_users(self, n: int, t: float, g_place, g_ls, g_content, g_life, fading: np.ndarray) -> None:
        cell, sim = self.cell, self.sc.sim
        x, y = place_uniform_disc(g_place, n, cell.radius_m, cell.min_distance_m)
        d = np.hypot(x, y)
        ls = large_scale(cell, d, g_ls)
        attrs = self.source.new_users(g_content, n)
        stay = g_life.exponential(sim.mean_stay_s, size=n) if sim.mean_stay_s else np.full(n, np.inf)
        heading = g_life.uniform(0.0, 2 * np.pi, size=n)
        phase = g_life.uniform(0.0, 1.0 / sim.fps, size=n)
        los = ls["los"].to_numpy(bool)
        pl = ls["pathloss_db"].to_numpy(float)
        sh = ls["shadowing_db"].to_numpy(float)
        new = {
            "uid": np.arange(self.next_uid, self.next_uid + n, dtype=np.int64),
            "x": x, "y": y, "distance": d, "heading": heading, "los": los,
            "pathloss_db": pl, "shadowing_db": sh,
            "gain_ls": link.db_to_linear(cell.antenna_gain_db - pl - sh),
            "fading": np.asarray(fading, dtype=float),
            "join_s": np.full(n, float(t)), "leave_s": t + stay, "phase_s": phase,
            "counter": np.zeros(n, dtype=np.int64),
            "op_snr_db": np.zeros(n),
        }
        self.next_uid += n
        self._append(new, attrs)

    def _refresh_operating_snr(self, idx: np.ndarray) -> None:
        """Operating SNR at the reference power with the large-scale gain (see :mod:`bssim.sim.content`)."""
        p = self.pop
        snr = link.snr_db(self.p_ref_w, p["gain_ls"][idx], self.noise_w, self.loss_w)
        p["op_snr_db"][idx] = snr
        self.source.interp(self.attrs, idx, snr)

    def _compact(self, t: float) -> None:
        """Forget users who have left (keeps per-epoch work proportional to the users present)."""
        gone = self.pop["leave_s"] <= t
        if gone.sum() > max(1024, gone.size // 2):
            keep = ~gone
            self.pop = {k: v[keep] for k, v in self.pop.items()}
            self.attrs = {k: v[keep] for k, v in self.attrs.items()}

    def _move(self) -> None:
        p, cell = self.pop, self.cell
        step = self.sc.sim.speed_mps * self.T
        x = p["x"] + step * np.cos(p["heading"])
        y = p["y"] + step * np.sin(p["heading"])
        r = np.hypot(x, y)
        out = (r > cell.radius_m) | (r < cell.min_distance_m)
        if out.any():  # bounce: stay where you were, turn around
            x[out], y[out] = p["x"][out], p["y"][out]
            p["heading"][out] = (p["heading"][out] + np.pi) % (2 * np.pi)
            r = np.hypot(x, y)
        p["x"], p["y"], p["distance"] = x, y, r
        p["pathloss_db"] = pathloss_db(cell, r, p["los"])
        p["gain_ls"] = link.db_to_linear(cell.antenna_gain_db - p["pathloss_db"] - p["shadowing_db"])
        self._refresh_operating_snr(np.arange(r.size))

    # ------------------------------------------------------------------ processes
    def _channel(self):
        block = 0
        while True:
            n = self.pop["uid"].size if self.pop else 0
            self.pop["fading"] = small_scale(self.cell, seeded_rng(self.seed, "fading", block), n)
            block += 1
            yield self.env.timeout(self.coherence_s)

    def _arrivals(self):
        rate = self.sc.sim.arrival_rate_per_s
        if rate <= 0:
            return
        g = seeded_rng(self.seed, "arrivals")
        while True:
            yield self.env.timeout(g.exponential(1.0 / rate))
            uid = self.next_uid
            ga = seeded_rng(self.seed, "arrival", uid)
            self._new_users(1, self.env.now, ga, ga, ga, ga, small_scale(self.cell, ga, 1))

    def _items(self, idx: np.ndarray, epoch: int, t: float) -> np.ndarray:
        sim = self.sc.sim
        if sim.request == "every_epoch":
            return np.ones(idx.size, dtype=np.int64)
        if sim.request == "poisson":
            return seeded_rng(self.seed, "requests", epoch).poisson(sim.image_rate_per_s * self.T, size=idx.size)
        start = self.pop["join_s"][idx] + self.pop["phase_s"][idx]

        def before(tt: float) -> np.ndarray:  # frames with time < tt
            return np.where(tt > start, np.ceil((tt - start) * sim.fps - 1e-9), 0.0)

        return (before(t + self.T) - before(t)).astype(np.int64)

    def _base_station(self, epochs: int):
        from bssim.epoch import seed_problem
        from bssim.sched import solve

        sch = self.sc.scheduler
        p_max = float(sch.p_max_w)
        for e in range(epochs):
            t = self.env.now
            if self.sc.sim.speed_mps > 0:
                self._move()
            p = self.pop
            active = np.flatnonzero((p["join_s"] <= t) & (t < p["leave_s"]))
            items = self._items(active, e, t)
            req = items > 0
            idx, items = active[req], items[req]
            n = idx.size
            rq: Requests = self.source.requests(self.attrs, idx, p["counter"][idx])
            p["counter"][active] += self._items_advance(active, items, req)
            gain = p["gain_ls"][idx] * p["fading"][idx]
            common = dict(delay_s=self.T, bandwidth_hz=self.bandwidth_hz, noise_w=self.noise_w, gain=gain, loss_w=self.loss_w)
            p0 = link.required_power_w(items * rq.D_bits, **common)
            p1 = link.required_power_w(items * rq.C_bits, **common)
            p1 = np.where(rq.key_ok, p1, np.inf)
            if n:
                sol = solve(seed_problem(p0, p1, rq.alpha, p_max), solver=sch.solver, grid=sch.grid,
                            **sch.solver_options())
                choice = np.asarray(sol.choice, dtype=np.int8)
                solve_s = float(sol.solve_time_s)
            else:
                choice = np.zeros(0, dtype=np.int8)
                solve_s = 0.0
            served = choice >= 0
            power = np.where(choice == 0, p0, np.where(choice == 1, p1, 0.0))
            bits = np.where(choice == 0, items * rq.D_bits, np.where(choice == 1, items * rq.C_bits, 0.0))
            quality = np.where(choice == 0, 1.0, np.where(choice == 1, rq.alpha, 0.0))
            snr = np.where(served, link.snr_db(power, gain, self.noise_w, self.loss_w), np.nan)
            self.rows.append((
                p["uid"][idx], np.full(n, e, dtype=np.int32), np.full(n, t), items.astype(np.int32), choice,
                power, p0, p1, bits, rq.D_bits, rq.C_bits, rq.alpha, quality, served, snr,
                p["distance"][idx], 10.0 * np.log10(np.maximum(gain, 1e-300)), p["op_snr_db"][idx],
                rq.content_id.astype(np.int32), rq.frame.astype(np.int32),
                rq.alpha_measured if rq.alpha_measured is not None else np.full(n, np.nan),
            ))
            self.epoch_rows.append({
                "epoch": e, "time_s": t, "n_active": int(active.size), "n_requests": n,
                "items": int(items.sum()), "n_served": int(served.sum()),
                "n_direct": int((choice == 0).sum()), "n_key": int((choice == 1).sum()),
                "n_dropped": int(n - served.sum()), "items_dropped": int(items[~served].sum()),
                "objective": float(quality.sum()), "power_used_w": float(power.sum()),
                "p_max_w": p_max, "solve_time_s": solve_s,
            })
            if self.progress is not None:
                self.progress(1)
            self._compact(t)
            yield self.env.timeout(self.T)

    @staticmethod
    def _items_advance(active: np.ndarray, items: np.ndarray, req: np.ndarray) -> np.ndarray:
        adv = np.zeros(active.size, dtype=np.int64)
        adv[req] = items
        return adv

    # ------------------------------------------------------------------ run
    def run(self, epochs: int) -> tuple[pd.DataFrame, pd.DataFrame, float]:
        """Simulate ``epochs`` epochs; returns (user_epochs, epochs, wall seconds)."""
        sc, seed = self.sc, self.seed
        t0 = time.perf_counter()
        n0 = sc.users.count
        self._new_users(
            n0, 0.0, seeded_rng(seed, "placement"), seeded_rng(seed, "large_scale"),
            seeded_rng(seed, "content"), seeded_rng(seed, "lifecycle"), np.ones(n0),
        )
        self.env.process(self._channel())
        self.env.process(self._arrivals())
        bs = self.env.process(self._base_station(epochs))
        self.env.run(until=bs)
        wall = time.perf_counter() - t0
        return self._user_table(), pd.DataFrame(self.epoch_rows), wall

    def _user_table(self) -> pd.DataFrame:
        cols = {name: np.concatenate([r[i] for r in self.rows]) if self.rows else np.zeros(0)
                for i, name in enumerate(USER_EPOCH_COLUMNS)}
        df = pd.DataFrame(cols)
        df["choice_name"] = pd.Categorical.from_codes(df["choice"].to_numpy(np.int64) + 1, ["none", "direct", "key"])
        names = list(self.source.content_names)
        df["content"] = pd.Categorical.from_codes(df["content_id"].to_numpy(np.int64), names)
        df["content_source"] = pd.Categorical([self.source.source] * len(df), categories=["declared", "measured"])
        if self.source.source == "declared":
            df = df.drop(columns=["operating_snr_db", "frame", "content_id", "alpha_measured"])
        else:
            df = df.drop(columns=["content_id"])
        return df
