"""The seed's dynamic programme over a discretised power grid (seed 000, section IV),
generalised to K options per user (multiple-choice knapsack).

Grid: Δ = P_max / G, option cost c_nk = ceil(P_nk / Δ) steps (:func:`integer_costs`, exact),
qualities as integers q_nk = round(quality · s) (:func:`integer_qualities`). With F_n[p] the
best total integer quality of users 1..n using at most p steps,

    F_n[p] = max( F_{n-1}[p],  max_k F_{n-1}[p - c_nk] + q_nk )        (p >= c_nk)

and the answer F_N[G]; back-tracking from p = G recovers each user's choice. Because costs
round up and are exact, sum c <= G implies sum P <= P_max in watts.

Speed and memory (all exact, nothing approximated):

* reduction first (``reduce=True``, default): Lagrangian bounds prove which options no
  optimal grid solution uses (:func:`_reduce`, variable fixing as in core algorithms for
  knapsack problems); users left with one possible choice are fixed, and the DP runs only on
  the remaining "core" users (often tens out of thousands) with the remaining capacity. If
  the bound shows the greedy grid solution is already optimal, no DP is needed at all.
  ``reduce=False`` runs the plain DP below over all users.

* numpy over p, a Python loop over users only: per option one shifted add into a scratch
  buffer, one comparison, one masked copy (candidates are built from F_{n-1} before F is
  updated in place, so an option is never used twice).
* dominated options are dropped (another option of the same user costs no more steps and
  gives at least the same integer quality); users with no usable option are skipped.
* only a window of p is computed at stage n: F_n is constant for p >= S_n (S_n = sum of the
  users' largest costs so far), and back-tracking from G only reads p >= G - R_n (R_n = sum
  of the largest costs of the users still to come). This saves up to half of the work and
  of the table when the users' largest costs add up to about 2G, little when they add up to
  much more than G (the benchmark's instances: ~4 % saved).
* back-tracking table: one int8 per window cell (0 = not served, j + 1 = j-th kept option).
  When the table would exceed ``max_table_bytes`` the users are split into blocks, F is
  snapshot at each block start during the forward pass, and each block's table is
  rebuilt from its snapshot during back-tracking (checkpointing: memory ~ one block's
  table + one F row per block, time at most ~2x the forward pass).

Ties are deterministic: an option replaces the current value only if strictly better, so
"not served" wins ties, then the option with the lower index (plain DP). With the reduction,
users fixed by it keep the fixed choice; the answer is the same for the same input.
"""

from __future__ import annotations

import time

import numpy as np

from .baselines import upgrade_pass
from .problem import Problem, Solution, _check_grid, evaluate, integer_costs, integer_qualities
from .problem import quality_scale as _quality_scale

#: Default cap on the back-tracking table (bytes) before checkpointing kicks in.
DEFAULT_MAX_TABLE_BYTES = 128 * 2**20


def _reduce(costs: np.ndarray, qint: np.ndarray, avail: np.ndarray, grid: int, iterations: int = 60):
    """Exact problem reduction by Lagrangian bounds (variable fixing, as in core knapsack
    algorithms). Returns (avail', fixed, capacity, info).

    UB(λ) = λ·G + Σ_n max(0, max_k (q_nk - λ·c_nk)) bounds the integer optimum for any
    λ >= 0; λ is set by bisection. LB = value of a feasible grid solution (the Lagrangian
    solution at the feasible end of the bracket, then filled greedily by quality per step).
    If fixing "user n takes option k" (or "user n is not served") gives a bound
    UB - max(0, best_n) + (q_nk - λ·c_nk) < LB (with a float safety margin), no optimal
    solution makes that choice and the option is removed. Users left with a single possible
    choice are fixed (``fixed[n]`` = k, or -1) and their steps taken from the capacity;
    the rest (``fixed[n] = -2``) go to the DP. Every optimal solution survives, so the DP on
    the reduced problem finds the same optimum value. If UB < LB + 1 the greedy solution is
    itself optimal (integer objective) and every user is fixed to it."""
    n, k = costs.shape
    rows = np.arange(n)
    cf = np.where(avail, costs, 0).astype(np.float64)
    qf = np.where(avail, qint, 0).astype(np.float64)
    neg = np.where(avail, 0.0, -np.inf)

    def ev(lam: float):
        red = (qf - lam * cf) + neg
        j = red.argmax(axis=1)
        b = red[rows, j]
        take = b > 0
        return lam * grid + float(b[take].sum()), grid - float(cf[rows, j][take].sum()), red, b, j, take

    pos = avail & (costs > 0)
    lam_hi = float((qf[pos] / cf[pos]).max()) * (1 + 1e-9) if pos.any() else 0.0
    lam_lo = 0.0
    best = ev(0.0)
    best_lam = 0.0
    feas = best if best[1] >= 0 else ev(lam_hi)
    if best[1] < 0:
        hi_eval = feas
        if hi_eval[0] < best[0]:
            best, best_lam = hi_eval, lam_hi
        for _ in range(iterations):
            mid = 0.5 * (lam_lo + lam_hi)
            e = ev(mid)
            if e[0] < best[0]:
                best, best_lam = e, mid
            if e[1] < 0:
                lam_lo = mid
            else:
                lam_hi, feas = mid, e
            if lam_hi - lam_lo <= 1e-12 * lam_hi:
                break
    # feasible solution (Lagrangian choice at the feasible end), then greedy fill by q per step
    _, slack, _, _, jf, takef = feas
    cur = np.where(takef, jf, -1)
    cur_q = np.where(takef, qint[rows, jf], 0)
    cur_c = np.where(takef, costs[rows, jf], 0)
    rem = grid - int(cur_c.sum())
    nn, kk = np.nonzero(avail & (qint > cur_q[:, None]))
    dc = costs[nn, kk] - cur_c[nn]
    sel = dc <= rem
    nn, kk, dc = nn[sel], kk[sel], dc[sel]
    dq = (qint[nn, kk] - cur_q[nn]).astype(np.float64)
    eff = np.where(dc > 0, dq / np.maximum(dc, 1), np.inf)
    for m in np.lexsort((kk, nn, -eff)).tolist():
        if rem <= 0 and dc[m] > 0:
            continue
        u, j = int(nn[m]), int(kk[m])
        if qint[u, j] <= cur_q[u]:
            continue
        d = int(costs[u, j] - cur_c[u])
        if d <= rem:
            rem -= d
            cur[u], cur_q[u], cur_c[u] = j, qint[u, j], costs[u, j]
    lb = int(cur_q.sum())
    ub_val, _, red, b, _, _ = best
    err = 1e-11 * (abs(ub_val) + best_lam * grid) + 1e-6  # float rounding of UB, generous
    if ub_val + err < lb + 1:
        # the integer optimum is <= UB < LB + 1: the greedy solution is already optimal
        fixed = cur.astype(np.int64)
        info = {"reduced": True, "proven_by_bound": True, "lagrange_ub": ub_val, "lagrange_lb": lb,
                "n_core": 0, "n_fixed_served": int((fixed >= 0).sum())}
        return np.zeros_like(avail), fixed, grid - int(cur_c.sum()), info
    margin = err + 1.0
    bpos = np.maximum(b, 0.0)
    base = ub_val - bpos  # bound with user n's term removed
    keep = avail & ((base[:, None] + red) >= lb - margin)
    none_ok = base >= lb - margin
    fixed = np.full(n, -2, dtype=np.int64)
    n_keep = keep.sum(axis=1)
    fixed[(n_keep == 0)] = -1
    single = (n_keep == 1) & ~none_ok
    fixed[single] = keep[single].argmax(axis=1)
    cap = grid - int(costs[single, fixed[single]].sum())
    if cap < 0:  # cannot happen with a valid bound; fall back to no reduction
        return avail, np.full(n, -2, dtype=np.int64), grid, {"reduced": False}
    keep[fixed != -2] = False
    info = {"reduced": True, "proven_by_bound": False, "lagrange_ub": ub_val, "lagrange_lb": lb, "n_core": int((fixed == -2).sum()),
            "n_fixed_served": int(single.sum())}
    return keep, fixed, cap, info


def _user_options(costs: np.ndarray, qint: np.ndarray, avail: np.ndarray) -> tuple[np.ndarray, list[list[tuple[int, int, int]]]]:
    """Active users and, for each, its non-dominated options as (cost, int quality, k)."""
    n, k = costs.shape
    if k > 1:
        keep = avail.copy()
        for a in range(k):
            for b in range(k):
                if a == b:
                    continue
                # option b is dominated by option a
                dom = (
                    avail[:, a]
                    & avail[:, b]
                    & (costs[:, a] <= costs[:, b])
                    & (qint[:, a] >= qint[:, b])
                    & ((costs[:, a] < costs[:, b]) | (qint[:, a] > qint[:, b]) | (a < b))
                )
                keep[:, b] &= ~dom
        avail = keep
    active = np.flatnonzero(avail.any(axis=1))
    c_l = costs[active].tolist()
    q_l = qint[active].tolist()
    a_l = avail[active].tolist()
    opts = [
        [(c[j], q[j], j) for j in range(k) if a[j]]
        for c, q, a in zip(c_l, q_l, a_l)
    ]
    return active, opts


def _windows(opts: list[list[tuple[int, int, int]]], grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Per stage i: [lo_i, hi_i], the range of p whose F_i values are needed."""
    cmax = np.array([max(o[0] for o in ol) for ol in opts], dtype=np.int64)
    s = np.minimum(np.cumsum(cmax), grid)
    r = np.concatenate([np.cumsum(cmax[::-1])[::-1][1:], [0]]) if cmax.size else cmax
    hi = s
    lo = np.minimum(np.maximum(0, grid - r), hi)
    return lo, hi


def _forward(F, lo, hi, opts, start, stop, hi_prev, table, offsets, bufs, mask):
    """Run stages start..stop-1 in place on F; write back-tracking rows when table is given."""
    add, greater, copyto = np.add, np.greater, np.copyto
    for i in range(start, stop):
        l = lo[i]
        h = hi[i]
        if h > hi_prev:  # F_{i-1} is constant above hi_prev: extend it before reading
            F[hi_prev + 1 : h + 1] = F[hi_prev]
        hi_prev = h
        cands = []
        for j, (c, q, _k) in enumerate(opts[i]):
            a = l if l > c else c
            if a > h:
                continue
            buf = bufs[j][: h + 1 - a]
            add(F[a - c : h + 1 - c], q, out=buf)
            cands.append((a, buf, j + 1))
        if table is None:
            for a, buf, _code in cands:
                cur = F[a : h + 1]
                m = mask[: h + 1 - a]
                greater(buf, cur, out=m)
                copyto(cur, buf, where=m)
            continue
        off = offsets[i]
        row = table[off : off + h - l + 1]
        row_ready = False
        for a, buf, code in cands:
            cur = F[a : h + 1]
            if not row_ready:
                row_ready = True
                if code == 1:  # write the comparison straight into the row (0/1 = code)
                    if a > l:
                        row[: a - l] = 0
                    rv = row[a - l :].view(np.bool_)
                    greater(buf, cur, out=rv)
                    copyto(cur, buf, where=rv)
                    continue
                row[:] = 0
            m = mask[: h + 1 - a]
            greater(buf, cur, out=m)
            copyto(cur, buf, where=m)
            copyto(row[a - l :], np.int8(code), where=m)
        if not row_ready:
            row[:] = 0
    return hi_prev


def solve_dp(
    problem: Problem,
    grid: int = 1000,
    *,
    quality_scale: float | None = None,
    max_table_bytes: int = DEFAULT_MAX_TABLE_BYTES,
    polish: bool = False,
    reduce: bool = True,
) -> Solution:
    """Seed DP on a G-step power grid; see the module docstring. Always feasible in watts.

    ``polish=True`` then spends the watts left unused by the grid rounding with one
    :func:`~bssim.sched.baselines.upgrade_pass` (serve more users / upgrade options while
    they fit in real watts); ``info["grid_objective"]`` keeps the DP's own objective and
    ``info["int_objective"]`` its integer optimum (what CP-SAT reproduces).

    ``reduce=True`` (default) first removes options that provably belong to no optimal
    grid solution (:func:`_reduce`, exact Lagrangian variable fixing) and runs the DP on the
    remaining "core" users with the remaining capacity; ``reduce=False`` is the plain DP over
    all users. Both return the same optimal value (``info["int_objective"]``); with ties they
    may pick different, equally good, choices."""
    grid = _check_grid(grid)
    if problem.n_options > 126:
        raise ValueError(f"the DP supports at most 126 options per user; got {problem.n_options}")
    if max_table_bytes < 1:
        raise ValueError(f"max_table_bytes must be >= 1; got {max_table_bytes}")
    t0 = time.perf_counter()
    scale = _quality_scale(problem) if quality_scale is None else float(quality_scale)
    costs = integer_costs(problem, grid)
    qint = integer_qualities(problem, scale)
    n_users, k = costs.shape
    choice = np.full(n_users, -1, dtype=np.int64)
    avail = (costs >= 0) & (qint > 0)
    info: dict = {"grid": grid, "quality_scale": scale}
    cap = grid
    offset = 0
    if reduce and avail.any():
        avail, fixed, cap, rinfo = _reduce(costs, qint, avail, grid)
        info.update(rinfo)
        if rinfo["reduced"]:
            served_fixed = fixed >= 0
            choice[served_fixed] = fixed[served_fixed]
            offset = int(qint[served_fixed, fixed[served_fixed]].sum())
            avail &= costs <= cap
    active, opts = _user_options(costs, qint, avail)
    n_act = len(opts)
    info["n_active_users"] = n_act
    info["dp_capacity"] = cap
    int_obj = offset
    if n_act:
        grid_full, grid = grid, cap
        lo, hi = _windows(opts, grid)
        widths = hi - lo + 1
        # blocks of stages whose tables fit in max_table_bytes (at least one stage each)
        starts = [0]
        acc = 0
        for i, w in enumerate(widths.tolist()):
            if acc + w > max_table_bytes and i > starts[-1]:
                starts.append(i)
                acc = 0
            acc += w
        bounds = starts + [n_act]
        n_blocks = len(starts)
        max_block = max(int(widths[bounds[b] : bounds[b + 1]].sum()) for b in range(n_blocks))
        table = np.empty(max_block, dtype=np.int8)
        offsets = np.zeros(n_act, dtype=np.int64)
        for b in range(n_blocks):
            s0, s1 = bounds[b], bounds[b + 1]
            offsets[s0:s1] = np.concatenate([[0], np.cumsum(widths[s0 : s1 - 1])])
        offsets_l = offsets.tolist()
        lo_l = lo.tolist()
        hi_l = hi.tolist()
        max_opts = max(len(o) for o in opts)
        bufs = [np.empty(grid + 1, dtype=np.int64) for _ in range(max_opts)]
        mask = np.empty(grid + 1, dtype=np.bool_)
        F = np.zeros(grid + 1, dtype=np.int64)
        snaps: list[tuple[np.ndarray, int]] = []
        hi_prev = 0
        for b in range(n_blocks):
            s0, s1 = bounds[b], bounds[b + 1]
            last = b == n_blocks - 1
            if not last:
                snaps.append((F.copy(), hi_prev))
            hi_prev = _forward(F, lo_l, hi_l, opts, s0, s1, hi_prev,
                               table if last else None, offsets_l, bufs, mask)
        p = hi_l[-1]
        int_obj = offset + int(F[p])
        for b in range(n_blocks - 1, -1, -1):
            s0, s1 = bounds[b], bounds[b + 1]
            if b != n_blocks - 1:
                F_snap, hp = snaps[b]
                F[:] = F_snap
                _forward(F, lo_l, hi_l, opts, s0, s1, hp, table, offsets_l, bufs, mask)
            for i in range(s1 - 1, s0 - 1, -1):
                if p > hi_l[i]:
                    p = hi_l[i]
                code = int(table[offsets_l[i] + p - lo_l[i]])
                if code:
                    c, _q, kk = opts[i][code - 1]
                    choice[active[i]] = kk
                    p -= c
        grid = grid_full
        info.update(
            n_blocks=n_blocks,
            table_bytes=int(max_block),
            window_cells=int(widths.sum()),
        )
    served = choice >= 0
    got = int(qint[served, choice[served]].sum()) if served.any() else 0
    if got != int_obj:  # internal consistency of the back-tracking
        raise RuntimeError(f"DP back-tracking mismatch: table optimum {int_obj}, recovered {got}")
    used_steps = int(costs[served, choice[served]].sum()) if served.any() else 0
    if used_steps > grid:
        raise RuntimeError(f"DP solution uses {used_steps} > {grid} grid steps")
    objective, power = evaluate(problem, choice)
    info.update(int_objective=int_obj, steps_used=used_steps, status="OPTIMAL",
                grid_objective=objective, polish=bool(polish))
    if polish:
        info["polish_moves"] = upgrade_pass(problem, choice)
        objective, power = evaluate(problem, choice)
    solve_time = time.perf_counter() - t0
    return Solution("dp", choice, objective, power, solve_time, info)
