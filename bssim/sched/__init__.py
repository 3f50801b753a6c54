"""Schedulers: which users to serve, and how, within the base station's power budget.

Seed 000, section IV; DESIGN.md section 2. Problem: N users, each with a menu of K options
(schemes × rate levels; the seed's is K = 2: direct, key information) or not served;
maximise the total quality subject to the sum of powers <= P_max (a multiple-choice
knapsack).

    >>> from bssim.sched import Problem, solve
    >>> pb = Problem.seed(p_direct_w=[1.0, 2.0], p_key_w=[0.3, 0.5], alpha=[0.7, 0.8], p_max_w=1.6)
    >>> solve(pb, "dp").choice.tolist()
    [0, 1]

Solvers (:data:`SOLVERS`):

* ``dp``        the seed's DP on a power grid of step Δ (:mod:`bssim.sched.dp`); optimal for
                the rounded-up costs, always feasible in watts, never worse than greedy.
* ``cpsat``     OR-Tools CP-SAT on the DP's integer model; the same optimum, exactly.
* ``mip``       OR-Tools MIP (SCIP) on the continuous powers: the true optimum.
* ``greedy``, ``all_direct``, ``all_key``   baselines (:mod:`bssim.sched.baselines`);
                ``greedy`` with ``hull=True`` is the knapsack's LP greedy; the fixed policies
                read their option per user from ``Problem.policies``.

Every solver's ``power_used_w`` is <= ``p_max_w``; infinite powers (infeasible options) are
never chosen.

Design notes

* Power quantum (:mod:`bssim.sched.quantum`, one place for the DP, CP-SAT and the bounds):
  costs c = ceil(P / Δ) steps, exact, capacity C. ``grid=G``: Δ = P_max / G, C = G (the
  seed). ``quantum_w=Δ``: a fixed Δ, C = floor(P_max / Δ). Neither (default): Δ = mean
  over users of the cheapest positive power (capped at 1000 medians) / 4096, independent of P_max. In every mode
  the integer model's optimum is non-decreasing in P_max (on the grid too: C = G is fixed
  and the costs ceil(P·G / P_max) fall as P_max grows); only a fixed Δ lets the number of
  users the grid can serve (C) grow with the budget.
  ``info``: ``grid_mode``, ``quantum_w``, ``capacity``, ``warnings`` (plain English; the
  library never prints: callers show them) -- when the grid bound can bind (each served
  user costs >= 1 step, so at most C users), when rounding can waste > 10 % of P_max, when
  the capacity was capped.
* Exact agreement DP = CP-SAT in every mode: the same Δ, costs and capacity, and qualities
  q = round(quality · s) from :func:`integer_qualities` (s = 10**6 for the seed, 1e-6
  resolution relative to the largest quality). The optimum of that model is an integer, so
  ``info["int_objective"]`` is compared exactly (tests do). The float ``grid_objective`` of
  the two answers may differ only by the rounding of qualities, at most N / (2 s) in total.
* Cost bounded by the instance size (issue 19): where the power spread makes the grid long
  (C = P_max / Δ in the tens of millions of steps), the DP runs sparse -- F_n kept as its
  breakpoints, pruned by the Lagrangian bound, at most a fixed number of states per user
  (:mod:`bssim.sched.pareto`) -- and the core is capped at ``MAX_CORE_USERS``; ``info``
  reports ``dp_kind``, ``dp_cells`` (work) and ``dp_stored_cells`` (memory), bounded by
  :func:`bssim.sched.dp.dp_cell_bounds` (N, K). Exact unless a cap binds (then ``status``
  FEASIBLE with ``int_upper_bound``).
* Never worse than greedy: the DP's answer is replaced by greedy's (plain or hull) when
  that is better in watts (``info["fallback"]``): rounding up can cost a user that greedy,
  on continuous watts, still fits. The returned objective is then not guaranteed monotone
  in P_max (greedy is not; tests/test_sched_quantum.py has a counterexample), the integer
  optimum is.
* Grid bound (:mod:`bssim.sched.bounds`): OPT(P + Δ) <= DP <= OPT(P) (MIP optimum with every
  positive power raised by one step, and the true MIP optimum), and the a-priori form
  DP >= OPT(P, P_max - s_max·Δ) with s_max the most users servable at once.
  ``info["gap_bound"]`` (Lagrangian) certifies the gap without solving the MIP;
  ``mip_reference=True`` measures it (``info["gap"]``). ``polish=True`` spends the watts
  the rounding left unused.
"""

from __future__ import annotations

import inspect

from .baselines import all_direct, all_key, greedy, upgrade_pass
from .bounds import inflated_problem, lagrangian_upper_bound, reduced_budget
from .dp import solve_dp
from .instances import hetero_menu_problem, random_menu_problem, random_problem
from .ortools_ref import solve_cpsat, solve_mip
from .problem import (
    UNAVAILABLE,
    Problem,
    Solution,
    evaluate,
    integer_qualities,
    max_served,
    quality_scale,
)
from .quantum import Quantum, auto_quantum_w, auto_steps_per_user, integer_costs, quantize

SOLVERS: tuple[str, ...] = ("dp", "cpsat", "mip", "greedy", "all_direct", "all_key")


def solve(
    problem: Problem,
    solver: str = "dp",
    grid: int | None = None,
    quantum_w: float | None = None,
    **options,
) -> Solution:
    """Solve ``problem`` with the named solver.

    Power quantum of ``dp`` and ``cpsat`` (:mod:`bssim.sched.quantum`; at most one of the
    two; the other solvers work in watts and ignore both): ``grid=G`` (Δ = P_max / G, capacity G: the seed's grid), ``quantum_w`` (a fixed Δ
    in W, capacity floor(P_max / Δ)), or neither (default: automatic Δ from the option
    powers, independent of P_max; ``steps_per_user`` overrides its g). Both also take
    ``max_capacity`` and ``quality_scale``. ``info`` then has ``grid_mode``, ``quantum_w``,
    ``capacity`` and ``warnings`` (plain-English strings for the caller to show).
    Options per solver:

    * dp: ``reduce`` (default True: exact Lagrangian reduction to the core users before the
      DP), ``polish`` (default False: spend the watts the rounding left with one upgrade
      pass), ``fallback`` (default True: return greedy's choice if it is better,
      ``info["fallback"] = "greedy"``; ``info["grid_objective"]`` and
      ``info["int_objective"]`` keep the pure DP's), ``max_table_bytes`` (back-tracking table
      cap before checkpointing, default 128 MiB), ``max_dp_steps`` (longest grid the dense DP
      takes; longer ones run sparse), ``bound`` (default True: add the Lagrangian
      upper bound ``info["upper_bound"]`` and the certified gap ``info["gap_bound"]``),
      ``mip_reference`` (default False: also solve the MIP and add
      ``info["mip_objective"]``, ``info["gap"]`` = (MIP - DP) / MIP, ``info["mip_status"]``),
      ``mip_time_limit_s``.
    * cpsat: ``time_limit_s`` (60), ``num_workers`` (1), ``linearization_level`` (2),
      ``presolve`` (False), ``hint`` (a choice vector).
    * mip: ``backend`` ("SCIP" or "CBC"), ``time_limit_s`` (60), ``relative_gap`` (0).
    * greedy: ``upgrade`` (True). all_direct: ``policy`` ("all_direct").
      all_key: ``policy`` ("all_key"), ``upgrade_policy`` ("all_direct").
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a bssim.sched.Problem; got {type(problem).__name__}")
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    if solver == "dp":
        return _solve_dp(problem, grid, quantum_w, options)
    if solver == "cpsat":
        _check_options(solver, solve_cpsat, options)
        return solve_cpsat(problem, grid, quantum_w=quantum_w, **options)
    func = {"mip": solve_mip, "greedy": greedy, "all_direct": all_direct, "all_key": all_key}[solver]
    _check_options(solver, func, options)
    return func(problem, **options)


def _solve_dp(problem: Problem, grid, quantum_w, options: dict) -> Solution:
    """``dp`` with its reporting options: Lagrangian bound, reduced budget, MIP reference."""
    bound = bool(options.pop("bound", True))
    mip_ref = bool(options.pop("mip_reference", False))
    mip_tl = float(options.pop("mip_time_limit_s", 60.0))
    _check_options("dp", solve_dp, options)
    sol = solve_dp(problem, grid, quantum_w=quantum_w, **options)
    if bound:
        ub = lagrangian_upper_bound(problem)
        sol.info["upper_bound"] = ub
        sol.info["gap_bound"] = (ub - sol.objective) / ub if ub > 0 else 0.0
    sol.info["reduced_budget_w"] = max(0.0, problem.p_max_w - max_served(problem) * sol.info["quantum_w"])
    if mip_ref:
        ref = solve_mip(problem, time_limit_s=mip_tl)
        sol.info["mip_objective"] = ref.objective
        sol.info["mip_status"] = ref.info["status"]
        sol.info["gap"] = (ref.objective - sol.objective) / ref.objective if ref.objective > 0 else 0.0
    return sol


def _check_options(solver: str, func, options: dict) -> None:
    params = inspect.signature(func).parameters
    allowed = {n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    allowed -= {"problem", "grid", "quantum_w"}
    extra = set(options) - allowed
    if extra:
        raise ValueError(
            f"unknown option(s) {sorted(extra)} for solver {solver!r}; allowed: {sorted(allowed)}"
        )


__all__ = [
    "Problem",
    "Solution",
    "SOLVERS",
    "UNAVAILABLE",
    "solve",
    "solve_dp",
    "solve_cpsat",
    "solve_mip",
    "greedy",
    "all_direct",
    "all_key",
    "upgrade_pass",
    "integer_costs",
    "integer_qualities",
    "quality_scale",
    "evaluate",
    "inflated_problem",
    "lagrangian_upper_bound",
    "max_served",
    "reduced_budget",
    "random_problem",
    "hetero_menu_problem",
    "random_menu_problem",
    "Quantum",
    "quantize",
    "auto_quantum_w",
    "auto_steps_per_user",
]
