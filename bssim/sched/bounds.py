"""Bounds that say how far a grid solution can be from the true (continuous-power) optimum.

Notation: OPT(P, B) = optimum of the problem with option powers P and budget B (the MIP);
the DP on G steps solves exactly OPT(ceil(P/Δ)·Δ, P_max), Δ = P_max / G.

1. Sandwich (exact). For every option with P > 0, P <= ceil(P/Δ)·Δ < P + Δ (zero powers
   cost 0 steps and lose nothing). Raising powers can only lower the optimum, so

       OPT(P⁺, P_max) <= DP <= OPT(P, P_max),      P⁺ = P + Δ·[P > 0]

   (the left inequality because DP's rounded powers are <= P⁺, the right because every grid
   solution is feasible in watts). :func:`inflated_problem` builds P⁺.

2. Reduced budget (a priori, cheap). Let s_max be the largest number of users that can be
   served together with positive power within P_max (take the users' cheapest positive
   powers in increasing order; :func:`max_served`). Any solution feasible for budget
   P_max - s_max·Δ serves at most s_max positive-power users, each rounding up by < Δ, so its
   rounded cost is <= P_max: it is a grid solution. Hence

       DP >= OPT(P, P_max - s_max·Δ),

   i.e. the grid costs at most the quality that s_max·Δ = s_max·P_max/G watts can buy. The
   relative budget loss is s_max / G: a grid much finer than the number of served users is
   needed (G >= 1000·s_max for a 0.1 % budget loss). When s_max >= G the bound is void, and
   indeed each served user then costs >= 1 step, so at most G users can be served.

3. A posteriori certificate (no MIP needed): the Lagrangian / LP bound
   UB(λ) = λ·P_max + Σ_n max(0, max_k (q_nk - λ·P_nk)) >= OPT(P, P_max) for every λ >= 0;
   :func:`lagrangian_upper_bound` minimises it over λ (its minimum is the LP relaxation).
   ``(UB - DP) / UB`` is then a certified upper bound on the DP's relative gap.
"""

from __future__ import annotations

import numpy as np

from .problem import Problem, _check_grid


def inflated_problem(problem: Problem, grid: int) -> Problem:
    """The problem with every positive power raised by one grid step Δ = P_max / G."""
    grid = _check_grid(grid)
    delta = problem.p_max_w / grid
    P = problem.power_w
    Pp = np.where(np.isfinite(P) & (P > 0), P + delta, P)
    return Problem(Pp, problem.quality, problem.p_max_w, problem.option_names)


def max_served(problem: Problem) -> int:
    """Largest number of users servable together with positive-power options within P_max."""
    P = np.where(problem.feasible_mask() & (problem.power_w > 0), problem.power_w, np.inf)
    if P.size == 0:
        return 0
    cheapest = np.sort(P.min(axis=1))
    cheapest = cheapest[np.isfinite(cheapest)]
    if cheapest.size == 0:
        return 0
    csum = np.cumsum(cheapest)
    return int(np.searchsorted(csum, problem.p_max_w * (1 + 1e-12), side="right"))


def reduced_budget(problem: Problem, grid: int) -> float:
    """P_max - s_max·Δ (clipped at 0): DP >= OPT(P, this budget). See bound 2."""
    grid = _check_grid(grid)
    return max(0.0, problem.p_max_w - max_served(problem) * problem.p_max_w / grid)


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
    lam_hi = float((np.where(ok & (P > 0), Q, 0.0) / np.where(P > 0, P, 1.0)).max()) * (1 + 1e-12)
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
