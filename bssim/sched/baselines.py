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
  ``hull=True`` replaces the first pass by the multiple-choice knapsack's LP greedy (Sinha &
  Zoltners 1979; Kellerer, Pferschy, Pisinger, *Knapsack Problems*, 2004, section 11.2):
  each user's options reduced to the upper concave hull of (P, q) from (0, 0), all users'
  hull steps in decreasing incremental efficiency, each taken while it fits. On menus of
  rate levels the plain first pass spends the budget on many users' cheapest levels and
  leaves nothing for upgrades (on bench_sched's menu instances it ends 20-57 % below the
  optimum, below ``all_key``); the hull pass ends within ~0.01 % where the budget binds.
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

    def take_all(self, values: np.ndarray) -> None:
        """Record parts known to fit (the caller checked the total with a margin)."""
        parts = values.tolist()
        self.parts.extend(parts)
        self.running += math.fsum(parts)
        self.abs_sum += float(np.abs(values).sum()) * (1 + 1e-12)  # only scales the error bound

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
    nn, kk = np.nonzero(usable & (Q > cur_q[:, None]) & _may_fit(problem, usable, P, cur_p, cur_q, budget))
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


def _may_fit(problem: Problem, usable, P, cur_p, cur_q, budget: "_Budget") -> np.ndarray:
    """(N, K) mask of upgrade moves that can ever fit during the pass (a pruning that keeps
    the pass's result): user v's power never drops below min(P_v now, its cheapest better
    option), so the slack never exceeds slack_now + Σ_v max(0, P_v now - that); and when
    option k is taken the user holds an option of lower quality, so the move's extra power
    is at least P_k - max(P_v now, max power of its options of lower or equal quality
    before k in increasing quality)."""
    better = usable & (problem.quality > cur_q[:, None])
    m = np.where(better, P, np.inf).min(axis=1)
    slack_ub = problem.p_max_w - budget.running + float(np.maximum(0.0, cur_p - m).sum())
    order = np.argsort(problem.quality, axis=1, kind="stable")
    Ps = np.take_along_axis(np.where(usable, P, 0.0), order, axis=1)
    prev = np.maximum.accumulate(np.concatenate([np.zeros((len(P), 1)), Ps[:, :-1]], axis=1), axis=1)
    below = np.empty_like(prev)
    np.put_along_axis(below, order, prev, axis=1)
    extra_lb = P - np.maximum(cur_p[:, None], below)
    tol = 1e-6 * (problem.p_max_w + budget.abs_sum + float(P.max(initial=0.0)))
    return extra_lb <= slack_ub + tol


def greedy(problem: Problem, upgrade: bool = True, hull: bool = False) -> Solution:
    """Quality-per-watt greedy with an optional upgrade pass (module docstring);
    ``hull=True``: the multiple-choice knapsack's LP greedy as the first pass."""
    t0 = time.perf_counter()
    n = problem.n_users
    choice = np.full(n, -1, dtype=np.int64)
    info = {"upgrade": upgrade, "hull": hull}
    if n == 0 or not problem.feasible_mask().any():
        return _finish("greedy", problem, choice, t0, info)
    budget = _Budget(problem.p_max_w)
    (_hull_pass if hull else _efficiency_pass)(problem, choice, budget)
    info["n_upgrades"] = upgrade_pass(problem, choice, budget) if upgrade else 0
    return _finish("greedy", problem, choice, t0, info)


def _efficiency_pass(problem: Problem, choice: np.ndarray, budget: _Budget) -> None:
    """Each user's most efficient option, users in decreasing efficiency, while it fits."""
    n, k = problem.power_w.shape
    usable = problem.feasible_mask()
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
    p = P[order, best[order]]
    # the leading users whose running total stays below P_max·(1 - 1e-9) all fit: take them
    n_pre = int(np.searchsorted(np.cumsum(p), (budget.p_max - budget.running) * (1 - 1e-9), side="right"))
    if n_pre:
        choice[order[:n_pre]] = best[order[:n_pre]]
        budget.take_all(p[:n_pre])
    # the others fit only if below today's slack (the margin covers the float running sum)
    rest = budget.running + p[n_pre:] <= budget.p_max + 1e-6 * (budget.abs_sum + p[n_pre:])
    for u, pu in zip(order[n_pre:][rest].tolist(), p[n_pre:][rest].tolist()):
        if budget.try_take(pu):
            choice[u] = best[u]


def _hull_steps(problem: Problem):
    """Each user's upper concave hull of its usable (P, q) from (0, 0) (monotone chain over
    the options sorted by power, all users at once; collinear points kept), as steps
    (user, option, slope, step index), slope = Δq / ΔP (infinite for ΔP = 0)."""
    usable = problem.feasible_mask()
    n, k = usable.shape
    P = np.where(usable, problem.power_w, np.inf)
    Q = np.where(usable, problem.quality, -np.inf)
    idx = np.lexsort((-Q, P), axis=1)  # by power, then higher quality first
    Ps, Qs = np.take_along_axis(P, idx, axis=1), np.take_along_axis(Q, idx, axis=1)
    sp, sq = np.zeros((n, k + 1)), np.zeros((n, k + 1))
    sj = np.full((n, k + 1), -1, dtype=np.int64)
    top = np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    for c in range(k):
        p, q = Ps[:, c], Qs[:, c]
        ok = np.isfinite(p)
        ok[ok] = q[ok] > sq[rows[ok], top[ok]]
        r = rows[ok]
        while r.size:  # pop the top while it lies strictly below the chord to the new point
            r = r[top[r] >= 1]
            t = top[r]
            a = (sq[r, t] - sq[r, t - 1]) * (p[r] - sp[r, t])
            b = (q[r] - sq[r, t]) * (sp[r, t] - sp[r, t - 1])
            r = r[a < b]
            top[r] -= 1
        top[ok] += 1
        r = rows[ok]
        sp[r, top[r]], sq[r, top[r]], sj[r, top[r]] = p[r], q[r], idx[r, c]
    step = np.arange(1, k + 1)[None, :]
    has = step <= top[:, None]
    if not has.any():
        return None
    uu, ss = np.nonzero(has)
    dP = sp[uu, ss + 1] - sp[uu, ss]
    dQ = sq[uu, ss + 1] - sq[uu, ss]
    with np.errstate(over="ignore"):  # a subnormal ΔP: the slope overflows to inf, as it should
        slope = np.where(dP > 0, dQ / np.where(dP > 0, dP, 1.0), np.inf)
    return uu, sj[uu, ss + 1], slope, ss


def _hull_pass(problem: Problem, choice: np.ndarray, budget: _Budget) -> None:
    """The LP greedy of the multiple-choice knapsack: all users' hull steps in decreasing
    slope (ties: user, then step), each taken if the user is at the step before and the
    extra power fits; a user whose step does not fit stops there. The leading steps whose
    running total stays below P_max·(1 - 1e-9) are taken at once (no step before them was
    refused, so each user is at its previous step)."""
    steps = _hull_steps(problem)
    if steps is None:
        return
    u, j, slope, s = steps
    order = np.lexsort((s, u, -slope))
    u, j, s = u[order], j[order], s[order]
    hull_p = np.zeros((problem.n_users, problem.n_options + 1))
    hull_p[u, s + 1] = problem.power_w[u, j]
    p_new, p_old = hull_p[u, s + 1], hull_p[u, s]
    total = np.cumsum(p_new - p_old)
    n_pre = int(np.searchsorted(total, (problem.p_max_w - budget.running) * (1 - 1e-9), side="right"))
    nxt = np.zeros(problem.n_users, dtype=np.int64)
    cur = np.zeros(problem.n_users)
    if n_pre:  # a user's later steps come later: its last one wins
        choice[u[:n_pre]], nxt[u[:n_pre]], cur[u[:n_pre]] = j[:n_pre], s[:n_pre] + 1, p_new[:n_pre]
        budget.take_all(np.concatenate([p_new[:n_pre], -p_old[:n_pre][p_old[:n_pre] > 0]]))
    nxt, cur = nxt.tolist(), cur.tolist()
    # a later step whose extra power exceeds today's slack never fits, and stops its user:
    # drop it and the user's steps after it (the slack only shrinks; extras are >= 0)
    u, j, s, p_new, p_old = u[n_pre:], j[n_pre:], s[n_pre:], p_new[n_pre:], p_old[n_pre:]
    too_big = budget.running + p_new - p_old > budget.p_max + 1e-6 * (budget.abs_sum + p_new + p_old)
    first_bad = np.full(problem.n_users, np.iinfo(np.int64).max)
    np.minimum.at(first_bad, u[too_big], s[too_big])
    live = s < first_bad[u]
    for uu, jj, ss, p in zip(u[live].tolist(), j[live].tolist(), s[live].tolist(), p_new[live].tolist()):
        if nxt[uu] != ss:
            continue
        old = cur[uu]
        # clearly over budget (the bound covers try_take's rounding-error margin): stop this user
        if budget.running + p - old > budget.p_max + 1e-6 * (budget.abs_sum + p + old):
            nxt[uu] = -1
        elif budget.try_take(p, old):
            choice[uu], cur[uu], nxt[uu] = jj, p, ss + 1
        else:
            nxt[uu] = -1


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
