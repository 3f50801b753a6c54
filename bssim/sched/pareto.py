"""The DP of :mod:`bssim.sched.dp` kept sparse: F_n as its list of breakpoints (Pareto states),
pruned by a Lagrangian bound, with a cap on the states kept per user (issue 19).

The dense DP stores F_n[p] for every step p of the capacity C, so its work and memory grow
with C = P_max / Δ, i.e. with how far the option powers spread (heterogeneous gains make C
tens of millions of steps). F_n is a non-decreasing step function of p; its breakpoints
(w, v) -- the undominated (steps used, integer quality) pairs of users 1..n -- are the
*states* here (Nemhauser-Ullmann lists; the "DP with bounds" of core algorithms for the
multiple-choice knapsack, Pisinger 1995, "A minimal algorithm for the multiple-choice
knapsack problem"). Stage n, for each state and each option (c, q) of user n plus "not
served": (w + c, v + q), kept when w + c <= C; then

* dominance: sorted by w, a state is kept only if its v beats every state with w' <= w;
* bound: v + λ·(C - w) + Σ_{users m > n} max(0, max_k (q_mk - λ·c_mk)) (a Lagrangian upper
  bound on the best completion, valid for any λ >= 0) must reach the target T, a value some
  solution is known to reach (the reduction's lower bound, raised by the best state seen);
  no state on the path of an optimal solution is ever dropped, so the answer stays exact;
* cap: if more than ``max_states`` states remain, only the ``max_states`` with the highest
  bound are kept, and the largest bound dropped is recorded: the answer is then feasible
  and ``bound`` certifies how far it can be from the optimum (``exact`` False).

Work is at most (K + 1)·max_states candidates per user and memory one int32 parent and one
int8 code per kept state, whatever C: bounded by N and K (:func:`state_cap`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Total kept states (over all users) the back-tracking may store: ~5 bytes each.
STATE_BUDGET = 2**20
#: Per-user state cap, lowest and highest.
MIN_STATES, MAX_STATES = 2**8, 2**14


def state_cap(n_users: int) -> int:
    """States kept per user: STATE_BUDGET spread over the users, clipped to
    [MIN_STATES, MAX_STATES]. Stored states <= max(STATE_BUDGET, MIN_STATES·N)."""
    return int(min(MAX_STATES, max(MIN_STATES, STATE_BUDGET // max(n_users, 1))))


@dataclass
class SparseResult:
    """value: best integer quality found; picks: option index per user (-1 = none);
    exact: no state was dropped by the cap; bound: an upper bound on the optimum;
    cells: candidates evaluated (work); stored: states kept for back-tracking (memory)."""

    value: int
    picks: list[int]
    exact: bool
    bound: float
    cells: int
    stored: int
    peak_states: int


def solve_sparse(opts: list[list[tuple[int, int, int]]], capacity: int, lam: float, rest: np.ndarray,
                 target: float, max_states: int) -> SparseResult:
    """The bounded Pareto DP over users with options ``opts`` [(cost, int quality, k)]
    (costs <= capacity); ``rest[n]`` = Σ_{m >= n} max(0, max_k (q_mk - λ·c_mk)) (length N + 1,
    rest[N] = 0), ``target`` a value some solution reaches (0 if none known)."""
    w = np.zeros(1, dtype=np.int64)
    v = np.zeros(1, dtype=np.int64)
    parents: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    err = 1e-9 * (abs(target) + lam * capacity) + 1e-6
    dropped, cells, stored, peak = -np.inf, 0, 0, 1
    for n, ol in enumerate(opts):
        cw = [w] + [w + c for c, _q, _k in ol]
        cv = [v] + [v + q for _c, q, _k in ol]
        code = np.repeat(np.arange(len(ol) + 1, dtype=np.int8), len(w))
        par = np.tile(np.arange(len(w), dtype=np.int32), len(ol) + 1)
        cw, cv = np.concatenate(cw), np.concatenate(cv)
        cells += cw.size
        ok = cw <= capacity
        ub = cv + lam * (capacity - cw) + rest[n + 1]
        ok &= ub >= target - err
        cw, cv, code, par, ub = cw[ok], cv[ok], code[ok], par[ok], ub[ok]
        order = np.lexsort((code, -cv, cw))  # by steps, then best value, then "not served" first
        cw, cv, code, par, ub = cw[order], cv[order], code[order], par[order], ub[order]
        best_before = np.maximum.accumulate(cv)
        keep = np.ones(cv.size, dtype=bool)
        keep[1:] = cv[1:] > best_before[:-1]
        cw, cv, code, par, ub = cw[keep], cv[keep], code[keep], par[keep], ub[keep]
        if cv.size > max_states:
            cut = np.partition(ub, cv.size - max_states)[cv.size - max_states]
            sel = ub >= cut
            if sel.sum() > max_states:  # ties at the cut: keep the cheapest
                sel &= np.cumsum(sel) <= max_states
            dropped = max(dropped, float(ub[~sel].max()))
            cw, cv, code, par = cw[sel], cv[sel], code[sel], par[sel]
        if cv.size:
            target = max(target, float(cv[-1]))
        w, v = cw, cv
        parents.append(par)
        codes.append(code)
        stored += cv.size
        peak = max(peak, cv.size)
        if not cv.size:  # cannot happen when target is reachable; keep "nobody served" feasible
            w, v = np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
            parents[-1], codes[-1] = np.zeros(1, dtype=np.int32), np.zeros(1, dtype=np.int8)
    picks, value = _backtrack(opts, parents, codes, v)
    exact = dropped == -np.inf
    bound = float(value) if exact else max(float(value), dropped)
    return SparseResult(value, picks, exact, bound, cells, stored, peak)


def _backtrack(opts, parents, codes, v) -> tuple[list[int], int]:
    """Follow the parents from the best final state; returns (picks, its value)."""
    picks = [-1] * len(opts)
    if not opts:
        return picks, 0
    i, value = int(v.argmax()), 0
    for n in range(len(opts) - 1, -1, -1):
        c = int(codes[n][i])
        if c:
            picks[n] = opts[n][c - 1][2]
            value += opts[n][c - 1][1]
        i = int(parents[n][i])
    return picks, value
