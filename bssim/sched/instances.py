"""Random seed-style instances for tests and benchmarks (not for results: real instances come
from the link model and measured alpha).

P_n0 (direct) lognormal, P_n1 = P_n0 · u with u ~ U(u_low, u_high), alpha ~ U(alpha_low,
alpha_high), and P_max = the sum of the ``served_fraction`` · N smallest key powers, i.e.
that fraction of the users could be served if everybody used the key option.
"""

from __future__ import annotations

import numpy as np

from .problem import Problem


def random_problem(
    n_users: int,
    seed: int,
    *,
    median_direct_w: float = 0.5,
    sigma: float = 1.0,
    u_low: float = 0.05,
    u_high: float = 0.6,
    alpha_low: float = 0.5,
    alpha_high: float = 0.95,
    served_fraction: float = 0.5,
    infeasible_fraction: float = 0.0,
) -> Problem:
    """A seed-style instance (K = 2: direct, key). ``infeasible_fraction`` of the options get
    power ``np.inf`` (link model overflow), drawn independently."""
    if n_users < 0:
        raise ValueError(f"n_users must be >= 0; got {n_users}")
    if not 0.0 <= served_fraction <= 1.0:
        raise ValueError(f"served_fraction = {served_fraction}; allowed [0, 1]")
    rng = np.random.default_rng(seed)
    p0 = median_direct_w * np.exp(sigma * rng.standard_normal(n_users))
    p1 = p0 * rng.uniform(u_low, u_high, n_users)
    alpha = rng.uniform(alpha_low, alpha_high, n_users)
    if infeasible_fraction > 0:
        p0[rng.random(n_users) < infeasible_fraction] = np.inf
        p1[rng.random(n_users) < infeasible_fraction] = np.inf
    finite_key = np.sort(p1[np.isfinite(p1)])
    m = int(round(served_fraction * n_users))
    p_max = float(finite_key[:m].sum())
    return Problem.seed(p0, p1, alpha, p_max)
