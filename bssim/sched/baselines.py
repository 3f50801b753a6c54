"""Baseline schedulers a researcher compares the optimum against. All work on the real
(continuous) powers, are deterministic (ties -> lower user index, then lower option index)
and always feasible: an option is only taken if the remaining budget covers it, checked with
exactly rounded sums (math.fsum), so sum P <= P_max holds exactly.

* ``greedy`` (quality per watt): each user's best option by efficiency q/P (P = 0 counts as
  infinitely efficient; ties -> higher quality, then lower option index); users visited in
  decreasing efficiency, each served with that option if it still fits (users that do not fit
  are skipped, the scan goes on). Then, if ``upgrade`` (default), one upgrade pass: every
  (user, option) whose quality exceeds the user's current quality (0 if not served) is a
  move with incremental efficiency (q - q_cur) / (P - P_cur); moves are visited in decreasing
  incremental efficiency and applied when the option still beats the user's current quality
  and the extra power fits.
* ``all_direct``: each user's option in ``problem.policies["all_direct"]`` (the seed: the
  direct column); users in increasing power, served while the budget lasts (the scan skips
  users that do not fit; -1 or an infeasible option = not served).
* ``all_key`` (key first): each user's ``policies["all_key"]`` option (the seed: key
  information; a caller with a menu puts the direct column where the key path does not
  exist) in increasing power while it fits; then leftover power upgrades served users to
  their ``all_direct`` option, where that has a higher quality, in increasing extra power
  while it fits. Users whose all_key option is -1 or infeasible are not served.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .problem import Problem, Solution, evaluate


class _Budget:
    """Running total of chosen powers with an exact acceptance test.

    A float running sum decides when it is clearly inside or clearly outside the budget (a
    rigorous bound on its rounding error); only near the edge is the exact sum (math.fsum of
    all parts) computed, so sum P <= P_max holds exactly at O(1) cost per decision."""

    _EPS = 2.3e-16

    def __init__(self, p_max: float) -> None:
        self.p_max = p_max
        self.parts: list[float] = []
        self.running = 0.0
        self.abs_sum = 0.0

    def try_take(self, extra: float, remove: float = 0.0) -> bool:
        new = self.running + extra - remove
        err = (len(self.parts) + 3) * self._EPS * (self.abs_sum + extra + remove)
        if new + err <= self.p_max:
            ok = True
        elif new - err > self.p_max:
            ok = False
        else:
            ok = math.fsum(self.parts + [extra, -remove]) <= self.p_max
        if ok:
            self.parts.append(extra)
            if remove:
                self.parts.append(-remove)
            self.running = new
            self.abs_sum += extra + remove
        return ok


def _finish(name: str, problem: Problem, choice: np.ndarray, t0: float, info: dict) -> Solution:
    t = time.perf_counter() - t0
    objective, power = evaluate(problem, choice)
    if power > problem.p_max_w:
        raise RuntimeError(f"{name} baseline exceeded the budget: {power} > {problem.p_max_w}")
    return Solution(name, choice, objective, power, t, info)


def upgrade_pass(problem: Problem, choice: np.ndarray, budget: "_Budget | None" = None) -> int:
    """One pass of improving moves, in place; returns how many were applied.

    Moves: every usable (user, option) whose quality beats the user's current quality (0 if
    not served); visited in decreasing incremental efficiency (q - q_cur) / (P - P_cur)
    (non-positive extra power first), ties by user then option index; applied when the option
    still beats the user's current quality and the extra power fits the budget exactly.
    Used by ``greedy`` and by the DP's ``polish`` option (spends the watts the grid rounding
    left unused)."""
    n = problem.n_users
    usable = problem.feasible_mask()
    if n == 0 or not usable.any():
        return 0
    P = np.where(usable, problem.power_w, 0.0)
    Q = problem.quality
    rows = np.arange(n)
    served = choice >= 0
    cur_q = np.where(served, Q[rows, np.maximum(choice, 0)], 0.0)
    cur_p = np.where(served, P[rows, np.maximum(choice, 0)], 0.0)
    if budget is None:
        budget = _Budget(problem.p_max_w)
        for p in cur_p[served].tolist():
            budget.parts.append(p)
            budget.running += p
            budget.abs_sum += p
    nn, kk = np.nonzero(usable & (Q > cur_q[:, None]))
    dq = Q[nn, kk] - cur_q[nn]
    dp = P[nn, kk] - cur_p[nn]
    with np.errstate(divide="ignore", over="ignore"):
        inc = np.where(dp > 0, dq / np.where(dp > 0, dp, 1.0), np.inf)
    order = np.lexsort((kk, nn, -inc))
    cq, cp = cur_q.tolist(), cur_p.tolist()
    moves = 0
    b = budget
    for u, j, q, p in zip(nn[order].tolist(), kk[order].tolist(), Q[nn, kk][order].tolist(),
                          P[nn, kk][order].tolist()):
        if q <= cq[u]:
            continue
        old = cp[u]
        # clearly over budget (the bound covers try_take's rounding-error margin): skip fast
        if b.running + p - old > b.p_max + 1e-6 * (b.abs_sum + p + old):
            continue
        if b.try_take(p, old):
            choice[u] = j
            cq[u], cp[u] = q, p
            moves += 1
    return moves


def greedy(problem: Problem, upgrade: bool = True) -> Solution:
    """Quality-per-watt greedy with an optional upgrade pass (module docstring)."""
    t0 = time.perf_counter()
    n, k = problem.power_w.shape
    choice = np.full(n, -1, dtype=np.int64)
    usable = problem.feasible_mask()
    if n == 0 or not usable.any():
        return _finish("greedy", problem, choice, t0, {"upgrade": upgrade})
    P = np.where(usable, problem.power_w, 0.0)
    Q = problem.quality
    with np.errstate(divide="ignore", over="ignore"):
        eff = np.where(P > 0, Q / np.where(P > 0, P, 1.0), np.inf)
    eff = np.where(usable, eff, -1.0)
    # best option per user: max efficiency, then higher quality, then lower index
    best = np.full(n, -1, dtype=np.int64)
    best_eff = np.full(n, -1.0)
    best_q = np.zeros(n)
    for j in range(k):
        e, q = eff[:, j], Q[:, j]
        better = usable[:, j] & ((e > best_eff) | ((e == best_eff) & (q > best_q)))
        best[better] = j
        best_eff[better] = e[better]
        best_q[better] = q[better]
    users = np.flatnonzero(best >= 0)
    order = users[np.lexsort((users, -best_eff[users]))]
    budget = _Budget(problem.p_max_w)
    for u in order.tolist():
        if budget.try_take(float(P[u, best[u]])):
            choice[u] = best[u]
    n_upgrades = upgrade_pass(problem, choice, budget) if upgrade else 0
    return _finish("greedy", problem, choice, t0, {"upgrade": upgrade, "n_upgrades": n_upgrades})


def _fill_policy(problem: Problem, choice: np.ndarray, cols: np.ndarray, budget: _Budget) -> None:
    """Serve not-yet-served users with their policy column ``cols[n]`` (-1 = none) in
    increasing power while it fits."""
    users = np.flatnonzero((cols >= 0) & (choice < 0))
    ok = problem.feasible_mask()[users, cols[users]]
    users = users[ok]
    P = problem.power_w[users, cols[users]]
    order = np.lexsort((users, P))
    for u, p in zip(users[order].tolist(), P[order].tolist()):
        if budget.try_take(p):
            choice[u] = cols[u]


def all_direct(problem: Problem, policy: str = "all_direct") -> Solution:
    """Serve each user's ``problem.policy(policy)`` option in increasing power while the
    budget lasts."""
    t0 = time.perf_counter()
    cols = problem.policy(policy)
    choice = np.full(problem.n_users, -1, dtype=np.int64)
    _fill_policy(problem, choice, cols, _Budget(problem.p_max_w))
    return _finish("all_direct", problem, choice, t0, {"policy": policy})


def all_key(problem: Problem, policy: str = "all_key", upgrade_policy: str = "all_direct") -> Solution:
    """Key option for everyone (cheapest first), then upgrades to the ``upgrade_policy``
    option where it has higher quality (cheapest extra power first)."""
    t0 = time.perf_counter()
    key = problem.policy(policy)
    up = problem.policy(upgrade_policy)
    choice = np.full(problem.n_users, -1, dtype=np.int64)
    budget = _Budget(problem.p_max_w)
    _fill_policy(problem, choice, key, budget)
    cand = np.flatnonzero((choice >= 0) & (up >= 0))
    kc, uc = choice[cand], up[cand]
    ok = problem.feasible_mask()[cand, uc] & (problem.quality[cand, uc] > problem.quality[cand, kc])
    cand, kc, uc = cand[ok], kc[ok], uc[ok]
    new_p, old_p = problem.power_w[cand, uc], problem.power_w[cand, kc]
    order = np.lexsort((cand, new_p - old_p))
    n_up = 0
    for m in order.tolist():
        if budget.try_take(float(new_p[m]), float(old_p[m])):
            choice[cand[m]] = uc[m]
            n_up += 1
    return _finish("all_key", problem, choice, t0, {"policy": policy, "upgrade_policy": upgrade_policy,
                                                     "n_upgrades": n_up})
