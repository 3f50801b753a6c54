"""One scheduling epoch, the only place where options become a decision.

    offers (per user: schemes × rate levels, measured bits/symbols and quality)
      ─ link model ─>  menu (power in W per item, quality)           bssim.options.links
      ─ objective ─>   utility per item                               bssim.options.objective
      ─ scheduler ─>   one item per user, Σ P ≤ P_max                 bssim.sched

:func:`schedule` is used by the simulation engine every epoch, by ``bssim solve`` and by the
tests, so all three compute exactly the same thing (DESIGN.md section 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bssim import link
from bssim.options.links import Channels, LinkModel, Menu, ShannonLink
from bssim.options.objective import Objective
from bssim.options.table import Offers
from bssim.sched import Problem, Solution, solve
from bssim.options.links import make_link


#: Solvers that work on the power grid (the others ignore ``grid`` / ``quantum_w``).
GRID_SOLVERS = ("dp", "cpsat")


@dataclass(frozen=True)
class EpochInput:
    """What the base station knows at the start of an epoch: each request's menu and channel."""

    offers: Offers
    channels: Channels

    def __post_init__(self) -> None:
        if self.offers.n_users != self.channels.n_users:
            raise ValueError(f"{self.offers.n_users} requests but {self.channels.n_users} channels")


@dataclass(frozen=True)
class EpochConfig:
    """Link model, objective and scheduler of an epoch (from the scenario or the CLI)."""

    p_max_w: float
    link: LinkModel = field(default_factory=ShannonLink)
    objective: Objective = field(default_factory=Objective)
    solver: str = "dp"
    grid: int | None = None
    quantum_w: float | None = None
    solver_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_scenario(cls, scenario) -> "EpochConfig":
        """The epoch configuration a :class:`~bssim.scenario.Scenario` describes."""

        sch, ob = scenario.scheduler, scenario.objective
        objective = Objective(ob.kind, ob.metric_column, ob.epsilon, ob.min_quality)
        return cls(p_max_w=float(sch.p_max_w), link=make_link(scenario.link.model, scenario.link), objective=objective,
                   solver=sch.solver, grid=sch.grid, quantum_w=sch.power_quantum_w,
                   solver_options=sch.solver_options())


@dataclass
class EpochResult:
    """The priced menu, the utilities, the problem the scheduler saw and its solution."""

    inputs: EpochInput
    menu: Menu
    utility: np.ndarray
    problem: Problem
    solution: Solution

    @property
    def choice(self) -> np.ndarray:
        """(N,) menu item per user, −1 = not served."""
        return np.asarray(self.solution.choice, dtype=np.int64)

    def per_user(self, metric: str) -> dict[str, np.ndarray]:
        """Decision columns per user: scheme, codec, rate level, power, bits, symbols, quality, utility, SNR."""
        c = self.choice
        served = c >= 0
        rows = np.arange(c.size)
        cc = np.maximum(c, 0)

        def pick(a: np.ndarray, empty: float) -> np.ndarray:
            return np.where(served, a[rows, cc], empty) if a.size else np.full(c.size, empty)

        menu, ch = self.menu, self.inputs.channels
        scheme = np.array(("none",) + menu.scheme, dtype=object)[c + 1]
        codec = np.array(("none",) + menu.codec, dtype=object)[c + 1]
        label = np.array(("none",) + menu.rate_label, dtype=object)[c + 1]
        level = np.concatenate([[-1], menu.rate_level])[c + 1]
        snr_level = np.concatenate([[np.nan], menu.snr_level_db])[c + 1]
        power = pick(self.problem.power_w, 0.0)
        rx = link.snr_db(power, ch.gain, ch.noise_w, ch.loss_w)
        extra = {k: pick(v, -1 if v.dtype.kind == "i" else np.nan) for k, v in menu.item_info.items()}
        return {
            "scheme": scheme, "codec": codec, "rate_level": level.astype(np.int64), "rate_label": label,
            "snr_level_db": snr_level, "power_w": power,
            "bits": pick(menu.bits, 0.0), "symbols": pick(menu.symbols, 0.0),
            "quality": pick(menu.quality[metric], 0.0), "utility": pick(self.problem.quality, 0.0),
            "rx_snr_db": np.where(served, rx, np.nan), **extra, "served": served,
        }

    def table(self, metric: str) -> pd.DataFrame:
        return pd.DataFrame(self.per_user(metric))


def build_problem(menu: Menu, utility: np.ndarray, p_max_w: float) -> Problem:
    """The scheduler's instance: items with no utility (NaN) or no feasible power are unusable."""
    usable = np.isfinite(utility) & np.isfinite(menu.power_w)
    power = np.where(usable, menu.power_w, np.inf)
    return Problem(power, np.where(usable, utility, 1.0), p_max_w, menu.option_names, policies=menu.policies)


def schedule(inputs: EpochInput, config: EpochConfig) -> EpochResult:
    """Price, score and solve one epoch (module docstring)."""
    menu = config.link.price(inputs.offers, inputs.channels)
    utility = config.objective.utility(menu)
    problem = build_problem(menu, utility, config.p_max_w)
    grid_options = {"grid": config.grid, "quantum_w": config.quantum_w} if config.solver in GRID_SOLVERS else {}
    solution = solve(problem, solver=config.solver, **grid_options, **config.solver_options)
    return EpochResult(inputs, menu, utility, problem, solution)
