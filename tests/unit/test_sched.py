"""Tests of bssim.sched: the seed DP against brute force, CP-SAT (exact) and the MIP (grid
bound), baselines' feasibility, and edge cases. Real OR-Tools solvers throughout."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bssim.sched import (
    SOLVERS,
    UNAVAILABLE,
    Problem,
    evaluate,
    inflated_problem,
    integer_costs,
    integer_qualities,
    lagrangian_upper_bound,
    random_problem,
    reduced_budget,
    solve,
    solve_dp,
)

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


# ---------------------------------------------------------------- strategies


@st.composite
def problems(draw, max_users=6, max_options=3, inf_ok=True):
    n = draw(st.integers(0, max_users))
    k = draw(st.integers(1, max_options))
    p_max = draw(st.one_of(st.just(0.0), st.floats(0.01, 10.0, allow_nan=False)))
    power_el = st.one_of(
        st.floats(0.0, 12.0, allow_nan=False),
        st.just(0.0),
        st.sampled_from([p_max / 4, p_max / 3, p_max / 2, p_max]),  # exact-ish grid multiples
        *( [st.just(math.inf)] if inf_ok else [] ),
    )
    power = np.array(draw(st.lists(power_el, min_size=n * k, max_size=n * k)), dtype=float).reshape(n, k)
    quality = np.array(
        draw(st.lists(st.floats(0.01, 1.0, allow_nan=False), min_size=n * k, max_size=n * k)),
        dtype=float,
    ).reshape(n, k)
    return Problem(power, quality, p_max, tuple(f"opt{j}" for j in range(k)))


def brute_force_grid(problem: Problem, grid: int) -> int:
    """Best integer objective over all (K+1)^N choices with integer costs <= G."""
    c = integer_costs(problem, grid)
    q = integer_qualities(problem)
    n, k = c.shape
    best = 0
    for x in itertools.product(range(-1, k), repeat=n):
        cost = val = 0
        ok = True
        for i, xi in enumerate(x):
            if xi < 0:
                continue
            if c[i, xi] == UNAVAILABLE:
                ok = False
                break
            cost += int(c[i, xi])
            val += int(q[i, xi])
        if ok and cost <= grid:
            best = max(best, val)
    return best


def brute_force_watts(problem: Problem) -> float:
    """True optimum over all (K+1)^N choices with real powers (exact fsum) <= P_max."""
    n, k = problem.power_w.shape
    best = 0.0
    for x in itertools.product(range(-1, k), repeat=n):
        chosen = [(i, xi) for i, xi in enumerate(x) if xi >= 0]
        p = [problem.power_w[i, xi] for i, xi in chosen]
        if not all(math.isfinite(v) for v in p) or math.fsum(p) > problem.p_max_w:
            continue
        best = max(best, math.fsum(problem.quality[i, xi] for i, xi in chosen))
    return best


def assert_valid(problem: Problem, sol) -> None:
    assert sol.choice.dtype == np.int64 and sol.choice.shape == (problem.n_users,)
    served = np.flatnonzero(sol.choice >= 0)
    assert np.isfinite(problem.power_w[served, sol.choice[served]]).all(), "an infinite option was chosen"
    obj, power = evaluate(problem, sol.choice)
    assert sol.power_used_w == pytest.approx(power, rel=1e-12, abs=1e-300)
    assert sol.objective == pytest.approx(obj, rel=1e-12, abs=1e-12)
    assert power <= problem.p_max_w * (1 + 1e-9)
    assert math.isfinite(sol.objective) and math.isfinite(sol.power_used_w)


# ---------------------------------------------------------------- integer costs


@settings(max_examples=300, **SETTINGS)
@given(
    p_max=st.floats(1e-6, 1e6, allow_nan=False),
    grid=st.integers(1, 20000),
    k=st.integers(0, 20000),
    nudge=st.sampled_from([-2, -1, 0, 1, 2]),
)
def test_integer_cost_is_exact_ceil(p_max, grid, k, nudge):
    """c = smallest integer with P·G <= c·P_max in exact rational arithmetic, also for powers
    one or two ulps around k·Δ."""
    assume(k <= grid)
    p = k * p_max / grid
    for _ in range(abs(nudge)):
        p = np.nextafter(p, np.inf if nudge > 0 else -np.inf)
    assume(0 <= p <= p_max)
    c = int(integer_costs(Problem([[p]], [[1.0]], p_max, ("a",)), grid)[0, 0])
    exact = Fraction(p) * grid / Fraction(p_max)
    assert c == math.ceil(exact)
    assert 0 <= c <= grid


def test_integer_cost_exact_multiples_and_unavailable():
    pb = Problem([[0.375, 0.0, 1.0, 1.0000001, math.inf]], [[1, 1, 1, 1, 1]], 1.0, tuple("abcde"))
    c = integer_costs(pb, 8)
    assert c.tolist() == [[3, 0, 8, UNAVAILABLE, UNAVAILABLE]]
    # P_max = 0: only zero-power options are available
    pb0 = Problem([[0.0, 1e-300]], [[1, 1]], 0.0, ("a", "b"))
    assert integer_costs(pb0, 10).tolist() == [[0, UNAVAILABLE]]


# ---------------------------------------------------------------- DP vs brute force / CP-SAT


@settings(max_examples=250, **SETTINGS)
@given(pb=problems(), grid=st.integers(1, 40), table=st.sampled_from([1, 7, 10**6]), reduce=st.booleans())
def test_dp_equals_brute_force_on_grid(pb, grid, table, reduce):
    sol = solve_dp(pb, grid, max_table_bytes=table, reduce=reduce)
    assert sol.info["int_objective"] == brute_force_grid(pb, grid)
    assert_valid(pb, sol)
    assert sol.power_used_w <= pb.p_max_w  # exact: no tolerance needed for the DP
    assert sol.info["steps_used"] <= grid


@settings(max_examples=40, **SETTINGS)
@given(
    n=st.integers(0, 40),
    seed=st.integers(0, 2**31),
    grid=st.sampled_from([1, 7, 100, 1000, 5000]),
    inf_frac=st.sampled_from([0.0, 0.2]),
)
def test_dp_and_cpsat_agree_exactly(n, seed, grid, inf_frac):
    pb = random_problem(n, seed, infeasible_fraction=inf_frac)
    dp = solve(pb, "dp", grid=grid, fallback=False)
    cp = solve(pb, "cpsat", grid=grid, time_limit_s=30)
    assert cp.info["status"] == "OPTIMAL"
    assert dp.info["int_objective"] == cp.info["int_objective"]
    # same integer optimum => float objectives within the quality rounding, N / scale
    assert abs(dp.objective - cp.objective) <= n / dp.info["quality_scale"] + 1e-9
    assert_valid(pb, dp)
    assert_valid(pb, cp)


@settings(max_examples=40, **SETTINGS)
@given(pb=problems(max_users=8), grid=st.integers(1, 60))
def test_dp_and_cpsat_agree_on_general_menus(pb, grid):
    dp = solve(pb, "dp", grid=grid)
    cp = solve(pb, "cpsat", grid=grid)
    assert cp.info["status"] == "OPTIMAL"
    assert dp.info["int_objective"] == cp.info["int_objective"]


@settings(max_examples=25, **SETTINGS)
@given(
    n=st.integers(1, 3000),
    seed=st.integers(0, 2**31),
    grid=st.sampled_from([50, 1000, 10000]),
    inf_frac=st.sampled_from([0.0, 0.3]),
    sigma=st.sampled_from([0.1, 1.0, 2.0]),
)
def test_reduced_dp_equals_plain_dp(n, seed, grid, inf_frac, sigma):
    """The Lagrangian reduction is exact: same integer optimum as the plain DP over all users."""
    pb = random_problem(n, seed, infeasible_fraction=inf_frac, sigma=sigma)
    red = solve_dp(pb, grid, reduce=True)
    plain = solve_dp(pb, grid, reduce=False)
    assert red.info["int_objective"] == plain.info["int_objective"]
    assert red.info["steps_used"] <= grid and red.power_used_w <= pb.p_max_w


# ---------------------------------------------------------------- MIP and the grid bound


@settings(max_examples=60, **SETTINGS)
@given(pb=problems(max_users=6))
def test_mip_equals_brute_force_in_watts(pb):
    mip = solve(pb, "mip")
    assert mip.info["status"].startswith("OPTIMAL")
    assert_valid(pb, mip)
    assert mip.objective == pytest.approx(brute_force_watts(pb), abs=1e-7)


@settings(max_examples=30, **SETTINGS)
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 2**31),
    grid=st.sampled_from([10, 100, 1000, 10000]),
)
def test_dp_gap_to_mip_within_grid_bound(n, seed, grid):
    """OPT(P + Δ) <= DP <= OPT(P), and DP >= OPT(P, P_max - s_max·Δ) (bounds.py)."""
    pb = random_problem(n, seed, infeasible_fraction=0.1)
    tol = n / 1e6 + 1e-7  # integer quality rounding + MIP tolerance
    dp = solve(pb, "dp", grid=grid, mip_reference=True)
    mip = dp.info["mip_objective"]
    assert dp.info["mip_status"] == "OPTIMAL"
    assert dp.objective <= mip + tol
    assert dp.info["gap"] == pytest.approx((mip - dp.objective) / mip if mip > 0 else 0.0)
    lower = solve(inflated_problem(pb, grid), "mip").objective
    assert dp.objective >= lower - tol
    reduced = Problem(pb.power_w, pb.quality, reduce_budget(pb, grid), pb.option_names)
    assert dp.objective >= solve(reduced, "mip").objective - tol
    # the Lagrangian bound is a valid upper bound, so gap_bound >= the true gap
    assert dp.info["upper_bound"] >= mip - 1e-7
    assert dp.info["gap_bound"] >= dp.info["gap"] - 1e-7
    # polishing never loses quality and stays feasible
    pol = solve(pb, "dp", grid=grid, polish=True)
    assert pol.objective >= dp.objective - 1e-12
    assert pol.objective <= mip + 1e-7
    assert_valid(pb, pol)


def reduce_budget(pb, grid):
    return reduced_budget(pb, grid)


def test_dp_converges_to_mip_with_finer_grid():
    pb = random_problem(200, 7)
    mip = solve(pb, "mip").objective
    gaps = [(mip - solve(pb, "dp", grid=g, fallback=False).objective) / mip for g in (100, 1000, 10000, 100000)]
    assert gaps[0] > 0.05  # a coarse grid wastes a lot of power (s_max ~ 100 users)
    assert gaps[-1] < 2e-3
    assert gaps[-1] < gaps[1] < gaps[0]


# ---------------------------------------------------------------- baselines


@settings(max_examples=60, **SETTINGS)
@given(pb=problems(max_users=7, max_options=2))
def test_baselines_feasible_and_never_beat_mip(pb):
    pb = Problem(pb.power_w, pb.quality, pb.p_max_w, ("direct", "key")) if pb.n_options == 2 else pb
    mip = solve(pb, "mip").objective
    names = ["greedy"] + (["all_direct", "all_key"] if pb.n_options == 2 else [])
    for name in names:
        sol = solve(pb, name)
        assert_valid(pb, sol)
        assert sol.power_used_w <= pb.p_max_w
        assert sol.objective <= mip + 1e-7


def test_baselines_follow_their_rules():
    # users: direct power, key power, alpha
    pb = Problem.seed([1.0, 2.0, 4.0], [0.2, 0.5, 0.6], [0.5, 0.9, 0.6], 2.5)
    d = solve(pb, "all_direct")
    assert d.choice.tolist() == [0, -1, -1]  # 1.0 fits, then 2.0 does not
    k = solve(pb, "all_key")
    # key for all (1.3 W), then upgrades by cost: user0 +0.8 -> 2.1 W; user1 +1.5 no; user2 +3.4 no
    assert k.choice.tolist() == [0, 1, 1]
    assert k.power_used_w == pytest.approx(2.1)
    g = solve(pb, "greedy", upgrade=False)
    # efficiencies: u0 key 2.5, u1 key 1.8, u2 key 1.0 -> all keys (1.3 W)
    assert g.choice.tolist() == [1, 1, 1]
    g2 = solve(pb, "greedy")
    # upgrades by incremental efficiency: u0 (0.5/0.8=0.625) fits -> 2.1 W
    assert g2.choice.tolist() == [0, 1, 1]


# ---------------------------------------------------------------- edge cases


@pytest.mark.parametrize("solver", SOLVERS)
def test_no_users(solver):
    pb = Problem.seed([], [], [], 5.0)
    sol = solve(pb, solver)
    assert sol.choice.shape == (0,) and sol.objective == 0.0 and sol.power_used_w == 0.0


@pytest.mark.parametrize("solver", SOLVERS)
def test_p_max_zero_only_zero_power_options(solver):
    pb = Problem.seed([0.0, 1.0, 2.0], [0.0, 0.0, 1.0], [0.5, 0.6, 0.7], 0.0)
    sol = solve(pb, solver)
    assert sol.power_used_w == 0.0
    assert_valid(pb, sol)
    if solver in ("dp", "cpsat", "mip"):
        assert sol.choice.tolist() == [0, 1, -1]
        assert sol.objective == pytest.approx(1.6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_every_user_infeasible(solver):
    inf = math.inf
    pb = Problem.seed([inf, 10.0, inf], [inf, 20.0, 30.0], [0.5, 0.6, 0.7], 5.0)
    sol = solve(pb, solver)
    assert sol.choice.tolist() == [-1, -1, -1]
    assert sol.objective == 0.0 and sol.power_used_w == 0.0


@pytest.mark.parametrize("solver", SOLVERS)
def test_inf_powers_never_chosen(solver):
    inf = math.inf
    # direct infinite for users 0 and 2: the only way to serve them is the key option
    pb = Problem.seed([inf, 0.5, inf, 0.1], [0.2, 0.1, inf, 0.05], [0.8, 0.6, 0.9, 0.7], 100.0)
    with np.errstate(all="raise"):  # no inf/NaN arithmetic anywhere
        sol = solve(pb, solver)
    assert_valid(pb, sol)
    assert sol.choice[2] == -1
    assert sol.choice[0] in (-1, 1)
    if solver in ("dp", "cpsat", "mip", "greedy"):
        assert sol.choice.tolist() == [1, 0, -1, 0]


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.2, 1.5, math.nan])
def test_alpha_outside_open_interval_rejected(bad):
    with pytest.raises(ValueError, match=r"alpha\[1\] \(user 1\)") as e:
        Problem.seed([1.0, 1.0], [0.5, 0.5], [0.5, bad], 1.0)
    assert "0 < alpha < 1" in str(e.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(power_w=[[1.0, math.nan]], quality=[[1, 0.5]], p_max_w=1.0), r"power_w\[0, 1\].*NaN"),
        (dict(power_w=[[1.0, -0.1]], quality=[[1, 0.5]], p_max_w=1.0), r"power_w\[0, 1\].*negative"),
        (dict(power_w=[[1.0, 0.1]], quality=[[1, 0.0]], p_max_w=1.0), r"quality\[0, 1\]"),
        (dict(power_w=[[1.0, 0.1]], quality=[[1, 0.5]], p_max_w=-1.0), r"p_max_w = -1.0"),
        (dict(power_w=[[1.0, 0.1]], quality=[[1, 0.5]], p_max_w=math.nan), r"p_max_w = nan"),
        (dict(power_w=[[1.0, 0.1]], quality=[[1, 0.5]], p_max_w=math.inf), r"p_max_w = inf"),
        (dict(power_w=[[1.0, 0.1]], quality=[[1, 0.5, 0.2]], p_max_w=1.0), r"same shape"),
        (dict(power_w=[1.0, 0.1], quality=[1, 0.5], p_max_w=1.0), r"2-D"),
        (dict(power_w=[[1.0, 0.1, 0.2]], quality=[[1, 0.5, 0.2]], p_max_w=1.0), r"option_names"),
    ],
)
def test_problem_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Problem(**kwargs)


def test_seed_nan_power_names_user():
    with pytest.raises(ValueError, match=r"p_key_w\[2\] \(user 2\) is NaN"):
        Problem.seed([1, 1, 1], [0.5, 0.5, math.nan], [0.5, 0.5, 0.5], 1.0)


def test_solve_rejects_bad_arguments():
    pb = Problem.seed([1.0], [0.5], [0.5], 1.0)
    with pytest.raises(ValueError, match="unknown solver"):
        solve(pb, "magic")
    with pytest.raises(ValueError, match="grid"):
        solve(pb, "dp", grid=0)
    with pytest.raises(ValueError, match="unknown option"):
        solve(pb, "dp", nonsense=1)


def test_dp_deterministic_ties_and_checkpointing():
    # identical users: ties must be broken the same way every time, and the checkpointed
    # back-tracking (tiny table) must give the very same answer as the full table
    pb = Problem.seed([1.0] * 6, [0.5] * 6, [0.5] * 6, 2.0)
    a = solve_dp(pb, 100, fallback=False)
    b = solve_dp(pb, 100, max_table_bytes=1, fallback=False)
    assert a.choice.tolist() == b.choice.tolist()
    assert a.objective == pytest.approx(2.0)  # 4 keys (2.0) == 2 directs (2.0) -> tie
    big = random_problem(300, 11)
    full = solve_dp(big, 3000, reduce=False, fallback=False)
    small = solve_dp(big, 3000, max_table_bytes=50_000, reduce=False, fallback=False)
    assert small.info["n_blocks"] > 1
    assert full.choice.tolist() == small.choice.tolist()
    assert full.choice.tolist() == solve_dp(big, 3000, reduce=False, fallback=False).choice.tolist()
    assert solve_dp(big, 3000, fallback=False).choice.tolist() == solve_dp(big, 3000, fallback=False).choice.tolist()


def test_seed_problem_layout_and_lagrangian_bound():
    pb = Problem.seed([1.0, 2.0], [0.3, 0.5], [0.7, 0.8], 1.6)
    assert pb.quality.tolist() == [[1.0, 0.7], [1.0, 0.8]]
    assert pb.option_names == ("direct", "key")
    sol = solve(pb, "dp", grid=1000)
    assert sol.choice.tolist() == [0, 1]
    # user 1's direct option (2 W) exceeds P_max = 1.6 W: the LP optimum is integral here
    assert lagrangian_upper_bound(pb) == pytest.approx(1.8, abs=1e-9)
    # P_max = 2.2 W: LP = direct 0 + key 1 (1.5 W, 1.8) + 0.7 W of user 1's upgrade (0.2 / 1.5 W)
    pb2 = Problem.seed([1.0, 2.0], [0.3, 0.5], [0.7, 0.8], 2.2)
    assert lagrangian_upper_bound(pb2) == pytest.approx(1.8 + 0.7 * 0.2 / 1.5, abs=1e-9)
    assert solve(pb2, "mip").objective == pytest.approx(1.8)
