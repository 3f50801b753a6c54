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
    costs = qz.costs
    qint = integer_qualities(problem, scale)
    usable = (costs >= 0) & (qint > 0)
    model = cp_model.CpModel()
    idx = np.argwhere(usable)
    xs = [model.NewBoolVar(f"x_{n}_{k}") for n, k in idx.tolist()]
    by_user: dict[int, list] = {}
    for (n, _k), x in zip(idx.tolist(), xs):
        by_user.setdefault(n, []).append(x)
    for n, vs in by_user.items():
        if len(vs) > 1:
            model.AddAtMostOne(vs)
    c = costs[usable].tolist()
    q = qint[usable].tolist()
    if xs:
        # WeightedSum builds the expression in one go (Python's sum() is far slower at 1e5 terms)
        model.Add(cp_model.LinearExpr.WeightedSum(xs, c) <= qz.capacity)
        model.Maximize(cp_model.LinearExpr.WeightedSum(xs, q))
        if hint is not None:
            hint = np.asarray(hint)
            for (n, k), x in zip(idx.tolist(), xs):
                model.AddHint(x, bool(hint[n] == k))
    build_time = time.perf_counter() - t0
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = int(num_workers)
    solver.parameters.linearization_level = int(linearization_level)
    solver.parameters.cp_model_presolve = bool(presolve)
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    status = solver.Solve(model)
    status_name = solver.StatusName(status)
    choice = np.full(problem.n_users, -1, dtype=np.int64)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for (n, k), x in zip(idx.tolist(), xs):
            if solver.Value(x):
                choice[n] = k
    solve_time = time.perf_counter() - t0
    served = choice >= 0
    int_obj = int(qint[served, choice[served]].sum())
    objective, power = evaluate(problem, choice)
    info = qz.info()
    info.update({
        "quality_scale": scale,
        "status": status_name,
        "int_objective": int_obj,
        "best_bound": float(solver.BestObjectiveBound()) if xs else 0.0,
        "wall_time_s": float(solver.WallTime()),
        "build_time_s": build_time,
        "num_workers": int(num_workers),
        "linearization_level": int(linearization_level),
        "presolve": bool(presolve),
        "steps_used": int(costs[served, choice[served]].sum()),
    })
    return Solution("cpsat", choice, objective, power, solve_time, info)


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
    from ortools.linear_solver import pywraplp

    t0 = time.perf_counter()
    usable = problem.feasible_mask()
    p_max = problem.p_max_w
    idx = np.argwhere(usable)
    budget = 1.0
    retries = 0
    build_time = 0.0
    choice = np.full(problem.n_users, -1, dtype=np.int64)
    status_name = "OPTIMAL"
    best_bound = 0.0
    mip_obj = 0.0
    while True:
        solver = pywraplp.Solver.CreateSolver(backend)
        if solver is None:
            raise ValueError(f"MIP backend {backend!r} is not available in this OR-Tools build")
        if backend.upper() == "SCIP":
            solver.SetSolverSpecificParametersAsString(
                "numerics/feastol = 1e-9\nlimits/gap = %r\n" % float(relative_gap)
            )
        solver.SetTimeLimit(int(math.ceil(time_limit_s * 1000)))
        xs = [solver.BoolVar(f"x_{n}_{k}") for n, k in idx.tolist()]
        by_user: dict[int, list] = {}
        for (n, _k), x in zip(idx.tolist(), xs):
            by_user.setdefault(n, []).append(x)
        for vs in by_user.values():
            if len(vs) > 1:
                solver.Add(solver.Sum(vs) <= 1)
        if not xs:
            break
        if p_max > 0:
            w = (problem.power_w[usable] / p_max).tolist()
            row = solver.RowConstraint(-solver.infinity(), budget, "budget")
            for wi, x in zip(w, xs):
                row.SetCoefficient(x, wi)
        else:  # only zero-power options are usable; no budget row needed
            pass
        obj = solver.Objective()
        for qi, x in zip(problem.quality[usable].tolist(), xs):
            obj.SetCoefficient(x, qi)
        obj.SetMaximization()
        build_time = time.perf_counter() - t0
        params = pywraplp.MPSolverParameters()
        params.SetDoubleParam(params.RELATIVE_MIP_GAP, float(relative_gap))
        status = solver.Solve(params)
        names = {
            pywraplp.Solver.OPTIMAL: "OPTIMAL",
            pywraplp.Solver.FEASIBLE: "FEASIBLE",
            pywraplp.Solver.INFEASIBLE: "INFEASIBLE",
            pywraplp.Solver.UNBOUNDED: "UNBOUNDED",
            pywraplp.Solver.ABNORMAL: "ABNORMAL",
            pywraplp.Solver.NOT_SOLVED: "NOT_SOLVED",
        }
        status_name = names.get(status, str(status))
        choice[:] = -1
        if status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            vals = np.array([x.solution_value() for x in xs])
            for (n, k), v in zip(idx.tolist(), vals.tolist()):
                if v > 0.5:
                    choice[n] = k
            mip_obj = float(obj.Value())
            best_bound = float(obj.BestBound())
        _, power = evaluate(problem, choice)
        excess = power - p_max * (1.0 + BUDGET_RTOL)
        if excess <= 0 or retries >= 5:
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
