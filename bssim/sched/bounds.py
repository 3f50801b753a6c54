"""Bounds that say how far a grid solution can be from the true (continuous-power) optimum.

Notation: OPT(P, B) = optimum of the problem with option powers P and budget B (the MIP);
the DP with power quantum Δ (:mod:`bssim.sched.quantum`: Δ = P_max / G, a fixed Δ, or the
automatic one) and capacity C = floor(P_max / Δ) solves exactly OPT(ceil(P/Δ)·Δ, C·Δ).
Every bound below takes the same ``grid`` / ``quantum_w`` arguments as the DP and resolves
the same Δ.

1. Sandwich (exact). For every option with P > 0, P <= ceil(P/Δ)·Δ < P + Δ (zero powers
   cost 0 steps and lose nothing). Raising powers can only lower the optimum, so

       OPT(P⁺, P_max) <= DP <= OPT(P, P_max),      P⁺ = P + Δ·[P > 0]

   (the left inequality because DP's rounded powers are <= P⁺ and an integer sum of steps
   <= P_max / Δ is <= C, the right because every grid solution is feasible in watts).
   :func:`inflated_problem` builds P⁺.

2. Reduced budget (a priori, cheap). Let s_max be the largest number of users that can be
   served together with positive power within P_max (take the users' cheapest positive
   powers in increasing order; :func:`max_served`). Any solution feasible for budget
   P_max - s_max·Δ serves at most s_max positive-power users, each rounding up by < Δ, so its
   rounded cost is < P_max, i.e. <= C steps: it is a grid solution. Hence

       DP >= OPT(P, P_max - s_max·Δ),

   i.e. the grid costs at most the quality that s_max·Δ watts can buy (s_max·P_max/G on the
   seed's grid). The relative budget loss is s_max·Δ / P_max: a step much finer than the
   served users' powers is needed (G >= 1000·s_max for a 0.1 % budget loss). When
   s_max >= C the bound is void, and indeed each served user then costs >= 1 step, so at
   most C users can be served (the quantizer warns).

3. A posteriori certificate (no MIP needed): the Lagrangian / LP bound
   UB(λ) = λ·P_max + Σ_n max(0, max_k (q_nk - λ·P_nk)) >= OPT(P, P_max) for every λ >= 0;
   :func:`lagrangian_upper_bound` minimises it over λ (its minimum is the LP relaxation).
   ``(UB - DP) / UB`` is then a certified upper bound on the DP's relative gap.
"""

from __future__ import annotations

import numpy as np

from .problem import Problem, max_served
from .quantum import quantize


def inflated_problem(problem: Problem, grid: int | None = None, quantum_w: float | None = None,
                     **options) -> Problem:
    """The problem with every positive power raised by one step Δ (the DP's Δ for the same
    ``grid`` / ``quantum_w`` / ``options``). See bound 1."""
    delta = quantize(problem, grid, quantum_w, **options).quantum_w
    P = problem.power_w
    Pp = np.where(np.isfinite(P) & (P > 0), P + delta, P)
    return Problem(Pp, problem.quality, problem.p_max_w, problem.option_names, problem.policies)


def reduced_budget(problem: Problem, grid: int | None = None, quantum_w: float | None = None,
                   **options) -> float:
    """P_max - s_max·Δ (clipped at 0): DP >= OPT(P, this budget). See bound 2."""
    delta = quantize(problem, grid, quantum_w, **options).quantum_w
    return max(0.0, problem.p_max_w - max_served(problem) * delta)


def lagrangian_upper_bound(problem: Problem, iterations: int = 100) -> float:
    """min over λ >= 0 of λ·P_max + Σ_n max(0, max_k (q_nk - λ·P_nk)) (>= the true optimum).

    Bisection on the subgradient P_max - Σ P(chosen at λ) down to a relative bracket of
    1e-10; every evaluated λ gives a valid bound and the smallest (times 1 + 1e-10, to
    cover summation rounding) is returned."""
    ok = problem.feasible_mask()
    if not ok.any():
        return 0.0
    P = np.where(ok, problem.power_w, 0.0)
    Q = np.where(ok, problem.quality, -np.inf)
    p_max = problem.p_max_w

    def evaluate(lam: float) -> tuple[float, float]:
        red = Q - lam * P
        j = np.argmax(red, axis=1)
        best = red[np.arange(red.shape[0]), j]
        take = best > 0
        # all terms are >= 0: numpy's pairwise sum is within ~1e-14 relative; the result
        # is inflated by 1e-10 relative below so that it stays a valid bound
        value = lam * p_max + float(best[take].sum())
        used = float(P[np.arange(P.shape[0]), j][take].sum())
        return value, p_max - used

    ub, g = evaluate(0.0)
    if g >= 0:
        return ub * (1 + 1e-10)
    with np.errstate(over="ignore"):  # subnormal powers: efficiency overflows, clipped below
        eff = np.where(ok & (P > 0), Q, 0.0) / np.where(P > 0, P, 1.0)
    lam_hi = min(float(eff.max()) * (1 + 1e-12), 1e300)  # finite: lam * 0 must stay 0
    lam_lo = 0.0
    best = ub
    v, _ = evaluate(lam_hi)
    best = min(best, v)
    for _ in range(iterations):
        mid = 0.5 * (lam_lo + lam_hi) if lam_lo > 0 else lam_hi / 2
        if lam_lo > 0 and lam_hi / lam_lo < 1 + 1e-10:
            break
        v, g = evaluate(mid)
        best = min(best, v)
        if g < 0:
            lam_lo = mid
        else:
            lam_hi = mid
    return best * (1 + 1e-10)
