"""The discrete-event simulation (DESIGN.md section 4), on SimPy, vectorised per epoch.

Processes (one SimPy process each, not one per user, so 10 000 users cost what 100 do):

* **base station** — every T (``scheduler.delay_bound_s``) one scheduling epoch at t = e·T:
  move the users (if ``sim.speed_mps`` > 0), find the active users and their pending
  requests, ask the content source for each request's menu of options, and call
  :func:`bssim.epoch.schedule` (link model → power per item, objective → utility,
  scheduler → one item per user); record one row per request and one row per epoch;
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
one epoch are sent together, so bits and symbols scale with the count); ``poisson``: image
requests with rate ``sim.image_rate_per_s`` (Poisson count per epoch). The scheduler decides
once per user and epoch. An item not served in its epoch is dropped and counted
(``deadline_met`` = False, ``items_dropped``).

Channel: G_n = antenna gain × path gain (TR 38.901 / log-distance, from the user's
position; O2I penetration loss for indoor users) × shadowing × block fading. A moving user
(random direction, reflected at the cell edge and at the minimum distance) keeps its LOS and
indoor state, gets a new path loss from its new distance, and its shadowing follows the
spatially correlated AR(1) update exp(−Δd/d_corr) of TR 38.901's decorrelation distances
(stream ``shadowing``, epoch); a static user keeps its shadowing.

Links with transmission failures (``nr``): after each epoch's decision the link draws the
outcome per served user (stream ``harq``, epoch) and the rows carry ``delivered``,
``harq_retx`` and ``nr_tbler`` besides the MCS and slots of the menu item.

Randomness: every draw comes from a named stream of the master seed (:mod:`bssim.seeding`):
the initial users use streams ``placement``, ``large_scale``, ``content``, ``lifecycle`` and
fading block 0, so ``bssim solve`` (which runs this engine's epoch) sees exactly the instance
of ``bssim run``'s epoch; a user joining later draws everything from stream ``arrival`` with
its user id. Two runs with the same scenario and seed are identical. Nothing here depends on
P_max except the scheduler's decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import simpy

from bssim.cell import small_scale
from bssim.epoch import EpochConfig, EpochInput, EpochResult, schedule
from bssim.options.links import Channels
from bssim.schemes import scheme_names
from bssim.scenario import Scenario
from bssim.seeding import rng as seeded_rng
from bssim.sim.population import Population, place_users


class Engine:
    """One simulation run of a scenario with a content source. Use :func:`bssim.sim.run`.

    ``keep_results=True`` keeps every epoch's :class:`~bssim.epoch.EpochResult` in
    ``results`` (``bssim solve`` reads its epoch from there)."""

    def __init__(self, scenario: Scenario, source, progress: Callable[[int], None] | None = None,
                 keep_results: bool = False) -> None:
        self.sc = scenario
        self.seed = scenario.seed
        self.cell = scenario.cell
        self.T = float(scenario.scheduler.delay_bound_s)
        self.coherence_s = float(scenario.sim.coherence_time_s or self.T)
        self.noise_w = float(scenario.noise_w())
        self.config = EpochConfig.from_scenario(scenario)
        self.metric = scenario.objective.metric_column
        self.source = source
        self.progress = progress
        self.keep_results = keep_results
        self.results: list[EpochResult] = []
        self.env = simpy.Environment()
        self.pop: Population | None = None
        self.next_uid = 0
        self.rows: list[dict[str, np.ndarray]] = []
        self.epoch_rows: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ population
    def _new_users(self, n: int, t: float, g_place, g_ls, g_content, g_life, fading: np.ndarray) -> None:
        sim = self.sc.sim
        new = place_users(self.cell, n, self.next_uid, t, g_place, g_ls)
        new.content = self.source.new_users(g_content, n)
        if sim.mean_stay_s:
            new.leave_s = t + g_life.exponential(sim.mean_stay_s, size=n)
        new.heading_rad = g_life.uniform(0.0, 2 * np.pi, size=n)
        new.phase_s = g_life.uniform(0.0, 1.0 / sim.fps, size=n)
        new.fading = np.asarray(fading, dtype=float)
        self.next_uid += n
        if self.pop is None:
            self.pop = new
        else:
            self.pop.extend(new)

    def _compact(self, t: float) -> None:
        """Forget users who have left (keeps per-epoch work proportional to the users present)."""
        gone = self.pop.leave_s <= t
        if gone.sum() > max(1024, gone.size // 2):
            self.pop.keep(~gone)

    def _move(self, epoch: int) -> None:
        p, cell = self.pop, self.cell
        step = self.sc.sim.speed_mps * self.T
        x = p.x_m + step * np.cos(p.heading_rad)
        y = p.y_m + step * np.sin(p.heading_rad)
        r = np.hypot(x, y)
        out = (r > cell.radius_m) | (r < cell.min_distance_m)
        if out.any():  # bounce: stay where you were, turn around
            x[out], y[out] = p.x_m[out], p.y_m[out]
            p.heading_rad[out] = (p.heading_rad[out] + np.pi) % (2 * np.pi)
        p.move_to(cell, x, y, seeded_rng(self.seed, "shadowing", epoch))

    # ------------------------------------------------------------------ processes
    def _channel(self):
        block = 0
        while True:
            self.pop.fading = small_scale(self.cell, seeded_rng(self.seed, "fading", block), self.pop.size)
            block += 1
            yield self.env.timeout(self.coherence_s)

    def _arrivals(self):
        rate = self.sc.sim.arrival_rate_per_s
        if rate <= 0:
            return
        g = seeded_rng(self.seed, "arrivals")
        while True:
            yield self.env.timeout(g.exponential(1.0 / rate))
            ga = seeded_rng(self.seed, "arrival", self.next_uid)
            self._new_users(1, self.env.now, ga, ga, ga, ga, small_scale(self.cell, ga, 1))

    def _items(self, idx: np.ndarray, epoch: int, t: float) -> np.ndarray:
        sim = self.sc.sim
        if sim.request == "every_epoch":
            return np.ones(idx.size, dtype=np.int64)
        if sim.request == "poisson":
            return seeded_rng(self.seed, "requests", epoch).poisson(sim.image_rate_per_s * self.T, size=idx.size)
        start = self.pop.join_s[idx] + self.pop.phase_s[idx]

        def before(tt: float) -> np.ndarray:  # frames with time < tt
            return np.where(tt > start, np.ceil((tt - start) * sim.fps - 1e-9), 0.0)

        return (before(t + self.T) - before(t)).astype(np.int64)

    def epoch_input(self, e: int, t: float) -> tuple[EpochInput, np.ndarray, Any, np.ndarray]:
        """The requests of epoch ``e`` at time ``t``: (input, user indices, request info, active users)."""
        p = self.pop
        active = np.flatnonzero((p.join_s <= t) & (t < p.leave_s))
        items = self._items(active, e, t)
        idx = active[items > 0]
        offers, info = self.source.requests(p.content, idx, p.counter[idx], items[items > 0])
        p.counter[idx] += items[items > 0]
        n = idx.size
        channels = Channels(p.channel_gain(idx), np.full(n, self.noise_w), np.full(n, float(self.cell.loss_w)),
                            np.full(n, float(self.cell.bandwidth_hz)), self.T)
        return EpochInput(offers, channels), idx, info, active

    def _record(self, e: int, t: float, res: EpochResult, idx: np.ndarray, info, n_active: int) -> None:
        cols = res.per_user(self.metric)
        outcome = getattr(self.config.link, "outcome", None)  # links with transmission failures (nr)
        if outcome is not None:
            cols.update(outcome(res, seeded_rng(self.seed, "harq", e)))
        items = res.inputs.offers.items
        gain = res.inputs.channels.gain
        served = cols["served"]
        self.rows.append({
            "user": self.pop.uid[idx], "epoch": np.full(idx.size, e, np.int32), "time_s": np.full(idx.size, t),
            "items": items.astype(np.int32), **{k: v for k, v in cols.items() if k != "served"},
            "deadline_met": served, "distance_m": self.pop.distance_m[idx],
            "gain_db": 10.0 * np.log10(np.maximum(gain, 1e-300)), "content_id": info.content_id.astype(np.int32),
            "frame": info.frame.astype(np.int32), "key_available": info.key_available,
            "menu_items": np.isfinite(res.problem.power_w).sum(axis=1).astype(np.int32),
        })
        sol = res.solution
        row = {"epoch": e, "time_s": t, "n_active": n_active, "n_requests": int(idx.size), "items": int(items.sum()),
               "n_served": int(served.sum()), "n_dropped": int(idx.size - served.sum()),
               "items_dropped": int(items[~served].sum()), "objective": float(cols["utility"].sum()),
               "quality_sum": float(cols["quality"].sum()), "power_used_w": float(cols["power_w"].sum()),
               "p_max_w": self.config.p_max_w, "solve_time_s": float(sol.solve_time_s)}
        if "delivered" in cols:
            row["n_delivered"] = int(cols["delivered"].sum())
            row["quality_delivered_sum"] = float(cols["quality"][cols["delivered"]].sum())
        for scheme in scheme_names():
            row[f"n_{scheme}"] = int((cols["scheme"] == scheme).sum())
        self.epoch_rows.append(row)

    def _base_station(self, epochs: int):
        for e in range(epochs):
            t = self.env.now
            if self.sc.sim.speed_mps > 0:
                self._move(e)
            inputs, idx, info, active = self.epoch_input(e, t)
            res = schedule(inputs, self.config)
            if self.keep_results:
                self.results.append(res)
            self._record(e, t, res, idx, info, int(active.size))
            if self.progress is not None:
                self.progress(1)
            self._compact(t)
            yield self.env.timeout(self.T)

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
        if self.rows:
            df = pd.DataFrame({k: np.concatenate([r[k] for r in self.rows]) for k in self.rows[0]})
        else:
            df = pd.DataFrame({k: [] for k in ("user", "epoch", "scheme", "quality", "power_w", "content_id")})
        df["scheme"] = pd.Categorical(df["scheme"].astype(str), categories=["none", *scheme_names()])
        df["codec"] = df["codec"].astype(str) if "codec" in df else pd.Series(dtype=str)
        df["rate_label"] = df["rate_label"].astype(str) if "rate_label" in df else pd.Series(dtype=str)
        names = list(self.source.content_names)
        df["content"] = pd.Categorical.from_codes(df["content_id"].to_numpy(np.int64), names)
        df["content_source"] = pd.Categorical([self.source.source] * len(df), categories=["declared", "measured"])
        return df.drop(columns=["content_id"])
