"""Google OR-Tools references for the DP (DESIGN.md section 2).

* :func:`solve_cpsat` -- CP-SAT on exactly the DP's integer model: the same power quantum,
  integer costs and capacity (:func:`~bssim.sched.quantum.quantize`, in every mode: grid,
  quantum, auto) and the same integer qualities
  (:func:`integer_qualities`). Its optimum is therefore the same integer as the DP's
  ``info["int_objective"]``, exactly (when it reports OPTIMAL).
* :func:`solve_mip` -- a MIP (SCIP by default, or CBC) on the continuous powers and float
  qualities: the true optimum of the scheduling problem, which the DP approaches as the grid
  gets finer.

Both build the model only over usable options (finite power <= P_max), so infinite powers
never reach a solver.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .problem import Problem, Solution, evaluate, integer_qualities
from .problem import quality_scale as _quality_scale
from .quantum import DEFAULT_MAX_CAPACITY, quantize

#: Relative tolerance on the power budget that every solver's answer must meet.
BUDGET_RTOL = 1e-9


def solve_cpsat(
    problem: Problem,
    grid: int | None = None,
    *,
    quantum_w: float | None = None,
    steps_per_user: float | None = None,
    max_capacity: int = DEFAULT_MAX_CAPACITY,
    time_limit_s: float = 60.0,
    num_workers: int = 1,
    linearization_level: int = 2,
    presolve: bool = False,
    quality_scale: float | None = None,
    hint=None,
) -> Solution:
    """CP-SAT on the DP's integer model: max sum q_int·x s.t. sum c·x <= C, one option per user
    (c, C from :func:`~bssim.sched.quantum.quantize` with the same ``grid`` / ``quantum_w``).

    Defaults (one worker, linearization level 2, presolve off) come from measurements on
    2 cores (seed-style instances, ortools 9.15): with default parameters, or 2 workers, or
    linearization level 1, CP-SAT does not finish 1000-user instances in 20 s; with one
    worker and level 2 the LP relaxation (tight for this knapsack up to one fractional user)
    drives the search and it does. Turning presolve off then cuts the time further
    (N = 10 000, G = 1000: 10.4 s -> 0.6 s; N = 100 000, G = 10 000: no solution after 60 s
    with presolve -- and presolve overran the 60 s limit to 385 s -- vs optimal in 6 s).
    ``info["status"]`` is OPTIMAL, or FEASIBLE when the time limit stopped it (then
    ``info["best_bound"]`` bounds the integer optimum from above).
    """
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    qz = quantize(problem, grid, quantum_w, steps_per_user=steps_per_user, max_capacity=max_capacity)
    scale = _quality_scale(problem) if quality_scale is None else float(quality_scale)
    qint = integer_qualities(problem, scale)
    model, idx, xs = _cpsat_model(qz.costs, qint, qz.capacity, hint)
    build_time = time.perf_counter() - t0
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = int(num_workers)
    solver.parameters.linearization_level = int(linearization_level)
    solver.parameters.cp_model_presolve = bool(presolve)
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    status = solver.Solve(model)
    choice = np.full(problem.n_users, -1, dtype=np.int64)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for (n, k), x in zip(idx.tolist(), xs):
            if solver.Value(x):
                choice[n] = k
    solve_time = time.perf_counter() - t0
    served = choice >= 0
    objective, power = evaluate(problem, choice)
    info = qz.info()
    info.update({
        "quality_scale": scale,
        "status": solver.StatusName(status),
        "int_objective": int(qint[served, choice[served]].sum()),
        "best_bound": float(solver.BestObjectiveBound()) if xs else 0.0,
        "wall_time_s": float(solver.WallTime()),
        "build_time_s": build_time,
        "num_workers": int(num_workers),
        "linearization_level": int(linearization_level),
        "presolve": bool(presolve),
        "steps_used": int(qz.costs[served, choice[served]].sum()),
    })
    return Solution("cpsat", choice, objective, power, solve_time, info)


def _cpsat_model(costs: np.ndarray, qint: np.ndarray, capacity: int, hint):
    """max Σ q·x s.t. Σ c·x <= C, at most one x per user, over the usable options.
    Returns (model, (n, k) of each variable, variables)."""
    from ortools.sat.python import cp_model

    usable = (costs >= 0) & (qint > 0)
    model = cp_model.CpModel()
    idx = np.argwhere(usable)
    xs = [model.NewBoolVar(f"x_{n}_{k}") for n, k in idx.tolist()]
    by_user: dict[int, list] = {}
    for (n, _k), x in zip(idx.tolist(), xs):
        by_user.setdefault(n, []).append(x)
    for vs in by_user.values():
        if len(vs) > 1:
            model.AddAtMostOne(vs)
    if xs:
        # WeightedSum builds the expression in one go (Python's sum() is far slower at 1e5 terms)
        model.Add(cp_model.LinearExpr.WeightedSum(xs, costs[usable].tolist()) <= capacity)
        model.Maximize(cp_model.LinearExpr.WeightedSum(xs, qint[usable].tolist()))
        if hint is not None:
            hint = np.asarray(hint)
            for (n, k), x in zip(idx.tolist(), xs):
                model.AddHint(x, bool(hint[n] == k))
    return model, idx, xs


def solve_mip(
    problem: Problem,
    *,
    backend: str = "SCIP",
    time_limit_s: float = 60.0,
    relative_gap: float = 0.0,
) -> Solution:
    """MIP on the continuous powers: max sum q·x s.t. sum P·x <= P_max, one option per user.

    The budget row is written in units of P_max (powers / P_max <= 1) and SCIP's feasibility
    tolerance is set to 1e-9; the answer is then checked in exact (fsum) arithmetic and, if it
    still exceeds P_max·(1 + 1e-9), the MIP is re-solved with the budget reduced by the excess
    (``info["budget_retries"]``). ``info["status"]``: OPTIMAL, or FEASIBLE at the time limit
    (then ``info["best_bound"]`` is the solver's upper bound).
    """
    t0 = time.perf_counter()
    p_max = problem.p_max_w
    idx = np.argwhere(problem.feasible_mask())
    budget, retries = 1.0, 0
    while True:
        choice, status_name, mip_obj, best_bound, build_time = _mip_once(problem, idx, budget, backend,
                                                                         time_limit_s, relative_gap)
        _, power = evaluate(problem, choice)
        if power - p_max * (1.0 + BUDGET_RTOL) <= 0 or retries >= 5:
            break
        retries += 1
        budget -= 2.0 * (power - p_max) / p_max
    solve_time = time.perf_counter() - t0
    objective, power = evaluate(problem, choice)
    if power > p_max * (1.0 + BUDGET_RTOL):  # could not repair numerically: drop users
        served = np.flatnonzero(choice >= 0)
        order = served[np.argsort(-problem.power_w[served, choice[served]], kind="stable")]
        for n in order.tolist():  # largest power first
            choice[n] = -1
            objective, power = evaluate(problem, choice)
            if power <= p_max:
                break
        status_name += "+REPAIRED"
    info = {
        "backend": backend,
        "status": status_name,
        "mip_objective": mip_obj,
        "best_bound": best_bound,
        "mip_gap": (best_bound - mip_obj) / abs(mip_obj) if mip_obj else 0.0,
        "budget_retries": retries,
        "build_time_s": build_time,
    }
    return Solution("mip", choice, objective, power, solve_time, info)


def _mip_once(problem: Problem, idx: np.ndarray, budget: float, backend: str, time_limit_s: float,
              relative_gap: float):
    """Build and solve the MIP once with Σ (P / P_max)·x <= ``budget``. Returns (choice,
    status name, MIP objective, best bound, model build time in s)."""
    from ortools.linear_solver import pywraplp

    t0 = time.perf_counter()
    solver = pywraplp.Solver.CreateSolver(backend)
    if solver is None:
        raise ValueError(f"MIP backend {backend!r} is not available in this OR-Tools build")
    if backend.upper() == "SCIP":
        solver.SetSolverSpecificParametersAsString("numerics/feastol = 1e-9\nlimits/gap = %r\n" % float(relative_gap))
    solver.SetTimeLimit(int(math.ceil(time_limit_s * 1000)))
    choice = np.full(problem.n_users, -1, dtype=np.int64)
    if not len(idx):
        return choice, "OPTIMAL", 0.0, 0.0, time.perf_counter() - t0
    pairs = idx.tolist()
    xs = [solver.BoolVar(f"x_{n}_{k}") for n, k in pairs]
    by_user: dict[int, list] = {}
    for (n, _k), x in zip(pairs, xs):
        by_user.setdefault(n, []).append(x)
    for vs in by_user.values():
        if len(vs) > 1:
            solver.Add(solver.Sum(vs) <= 1)
    if problem.p_max_w > 0:  # else only zero-power options are usable: no budget row needed
        row = solver.RowConstraint(-solver.infinity(), budget, "budget")
        for wi, x in zip((problem.power_w[idx[:, 0], idx[:, 1]] / problem.p_max_w).tolist(), xs):
            row.SetCoefficient(x, wi)
    obj = solver.Objective()
    for qi, x in zip(problem.quality[idx[:, 0], idx[:, 1]].tolist(), xs):
        obj.SetCoefficient(x, qi)
    obj.SetMaximization()
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(params.RELATIVE_MIP_GAP, float(relative_gap))
    build_s = time.perf_counter() - t0
    status = solver.Solve(params)
    names = {pywraplp.Solver.OPTIMAL: "OPTIMAL", pywraplp.Solver.FEASIBLE: "FEASIBLE",
             pywraplp.Solver.INFEASIBLE: "INFEASIBLE", pywraplp.Solver.UNBOUNDED: "UNBOUNDED",
             pywraplp.Solver.ABNORMAL: "ABNORMAL", pywraplp.Solver.NOT_SOLVED: "NOT_SOLVED"}
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return choice, names.get(status, str(status)), 0.0, 0.0, build_s
    for (n, k), x in zip(pairs, xs):
        if x.solution_value() > 0.5:
            choice[n] = k
    return choice, names[status], float(obj.Value()), float(obj.BestBound()), build_s
