"""bssim.epoch.schedule: with the content fixed, more budget never lowers the optimum, for
every link model and objective, for the DP (default automatic quantum) and the MIP."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bssim.epoch import EpochConfig, EpochInput, schedule
from bssim.options.links import AnalogLink, Channels, ShannonLink
from bssim.options.objective import Objective
from bssim.options.table import OptionTable

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True, max_examples=25)


def _table(rng: np.random.Generator, n_items: int, n_levels: int, analog: bool) -> OptionTable:
    snrs = [0.0, 10.0, 20.0] if analog else [np.nan]
    rows = []
    for i in range(n_items):
        has_key = rng.random() < 0.6
        for scheme in ("direct", "key") if has_key else ("direct",):
            base = rng.uniform(1e5, 1e6) * (0.15 if scheme == "key" else 1.0)
            for level in range(n_levels):
                f = (level + 1) / n_levels
                for snr in snrs:
                    q = rng.uniform(0.3, 0.6) + 0.3 * f + (0.005 * snr if analog else 0.0)
                    rows.append({"item": f"i{i}", "scheme": scheme, "rate_level": level, "rate_label": f"r{level}",
                                 "snr_db": snr, "bits": np.nan if analog else base * f,
                                 "symbols": base * f / 8 if analog else np.nan, "ssim": q, "psnr_db": 20 + 15 * q})
    return OptionTable.from_rows(pd.DataFrame(rows))


def _inputs(seed: int, n_users: int, analog: bool) -> EpochInput:
    rng = np.random.default_rng(seed)
    table = _table(rng, 4, 3, analog)
    offers = table.offers(rng.integers(0, table.n_items, n_users), rng.integers(1, 3, n_users))
    gain = 10 ** (-rng.uniform(90, 130, n_users) / 10)
    ch = Channels(gain, np.full(n_users, 1e-13), np.zeros(n_users), np.full(n_users, 5e6), 0.1)
    return EpochInput(offers, ch)


@settings(**SETTINGS)
@given(seed=st.integers(0, 10_000), n_users=st.integers(1, 12), analog=st.booleans(),
       kind=st.sampled_from(["sum", "log", "seed"]), metric=st.sampled_from(["ssim", "psnr_db"]),
       budgets=st.lists(st.floats(1e-4, 5.0), min_size=2, max_size=4))
def test_the_optimum_never_falls_when_the_budget_grows(seed, n_users, analog, kind, metric, budgets):
    inputs = _inputs(seed, n_users, analog)
    link = AnalogLink() if analog else ShannonLink()
    objective = Objective(kind=kind, metric=metric)
    dp_int, dp, mip = [], [], []
    for p in sorted(budgets):
        res = schedule(inputs, EpochConfig(p_max_w=p, link=link, objective=objective))
        dp_int.append(res.solution.info["int_objective"])
        dp.append(res.solution.objective)
        mip.append(schedule(inputs, EpochConfig(p_max_w=p, link=link, objective=objective, solver="mip")).solution.objective)
        assert res.solution.power_used_w <= p * (1 + 1e-12)
        greedy = schedule(inputs, EpochConfig(p_max_w=p, link=link, objective=objective, solver="greedy"))
        assert res.solution.objective >= greedy.solution.objective - 1e-12
    assert all(b >= a for a, b in zip(dp_int, dp_int[1:])), dp_int
    assert all(b >= a - 1e-9 for a, b in zip(mip, mip[1:])), mip
    assert all(d <= m + 1e-6 for d, m in zip(dp, mip))


def test_dp_and_cpsat_agree_on_an_analog_menu():
    inputs = _inputs(3, 10, True)
    cfg = dict(p_max_w=0.05, link=AnalogLink(), objective=Objective(kind="log"))
    dp = schedule(inputs, EpochConfig(**cfg)).solution
    cp = schedule(inputs, EpochConfig(**cfg, solver="cpsat")).solution
    assert dp.info["int_objective"] == cp.info["int_objective"]
    assert dp.info["quantum_w"] == cp.info["quantum_w"]
