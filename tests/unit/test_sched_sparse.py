"""The DP's cost is bounded by the instance size, not by the power spread (issue 19): the
sparse (Pareto-state) DP against brute force, and work / memory counts under a bound that
depends only on N and K for instances of any spread."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bssim.sched import Problem, hetero_menu_problem, integer_costs, integer_qualities, solve, solve_dp
from bssim.sched.dp import dp_cell_bounds
from bssim.sched.instances import hetero_menu_rows

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@st.composite
def spread_problems(draw, max_users=40, max_options=6):
    """Powers log-uniform over up to 14 decades (10^-9 .. 10^5 W), any P_max."""
    n = draw(st.integers(1, max_users))
    k = draw(st.integers(1, max_options))
    seed = draw(st.integers(0, 2**31))
    decades = draw(st.floats(0.0, 14.0))
    rng = np.random.default_rng(seed)
    power = 10.0 ** rng.uniform(-9.0, -9.0 + decades, (n, k))
    power[rng.random((n, k)) < 0.1] = np.inf
    quality = rng.uniform(0.05, 1.0, (n, k))
    frac = draw(st.floats(0.01, 1.0))
    finite = np.where(np.isfinite(power), power, 0.0).min(axis=1)
    return Problem(power, quality, float(frac * finite.sum()) + 1e-12, tuple(f"o{j}" for j in range(k)))


def _brute(pb: Problem, grid: int) -> int:
    c, q = integer_costs(pb, grid), integer_qualities(pb)
    best = 0
    for ch in itertools.product(range(-1, pb.n_options), repeat=pb.n_users):
        used = [(n, j) for n, j in enumerate(ch) if j >= 0]
        if all(c[n, j] >= 0 for n, j in used) and sum(c[n, j] for n, j in used) <= grid:
            best = max(best, sum(int(q[n, j]) for n, j in used))
    return best


@settings(max_examples=40, **SETTINGS)
@given(pb=spread_problems(max_users=5, max_options=3), grid=st.sampled_from([7, 100, 10_000]),
       reduce=st.booleans())
def test_sparse_dp_equals_brute_force(pb, grid, reduce):
    sol = solve_dp(pb, grid, max_dp_steps=1, reduce=reduce, fallback=False)  # forces the sparse DP
    # max_dp_steps = 1 leaves only a capacity of 0 or 1 steps to the dense table
    assert sol.info["dp_kind"] in ("sparse", "none") or sol.info["dp_capacity"] <= 1
    assert sol.info["int_objective"] == _brute(pb, grid)
    assert sol.power_used_w <= pb.p_max_w


@settings(max_examples=60, **SETTINGS)
@given(pb=spread_problems(), reduce=st.booleans())
def test_dp_work_and_memory_bounded_by_n_and_k(pb, reduce):
    sol = solve(pb, "dp", bound=False, reduce=reduce)
    i = sol.info
    work, memory = dp_cell_bounds(pb.n_users, pb.n_options)
    assert i.get("dp_cells", 0) + i.get("subcore_cells", 0) <= work
    assert i.get("dp_stored_cells", 0) + i.get("subcore_stored_cells", 0) <= memory
    assert sol.power_used_w <= pb.p_max_w * (1 + 1e-12)
    assert sol.objective >= solve(pb, "greedy").objective - 1e-12


def test_heterogeneous_menu_of_the_issue_is_cheap_and_optimal():
    """Issue 19's instance shape: gains over three decades made the dense DP's capacity
    ~3·10^7 steps (17 s, 1.3 GB); the sparse DP stays in a few thousand cells."""
    pb = hetero_menu_problem(1000, 10, 1)
    sol = solve(pb, "dp", bound=False)
    assert sol.info["capacity"] > 10**7  # the spread is really there
    assert sol.info["dp_kind"] == "sparse" and sol.info["status"] == "OPTIMAL"
    assert sol.info["dp_cells"] <= 10**6
    assert sol.objective >= solve(pb, "greedy", hull=True).objective
    cp = solve(pb, "cpsat", time_limit_s=60)
    if cp.info["status"] == "OPTIMAL":
        assert cp.info["int_objective"] == sol.info["int_objective"]


def test_hetero_rows_match_the_problem():
    rows = hetero_menu_rows(3, 4, 5)
    pb = hetero_menu_problem(3, 4, 5)
    assert len(rows) == 12 and {r["scheme"] for r in rows} == {"direct", "key"}
    assert [r["quality"] for r in rows[:4]] == pytest.approx(pb.quality[0].tolist(), abs=1e-4)
