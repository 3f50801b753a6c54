"""The seed's dynamic programme over a discretised power grid (seed 000, section IV),
generalised to K options per user (multiple-choice knapsack).

Grid: Δ = P_max / G, option cost c_nk = ceil(P_nk / Δ) steps (:func:`integer_costs`, exact),
qualities as integers q_nk = round(quality · s) (:func:`integer_qualities`). With F_n[p] the
best total integer quality of users 1..n using at most p steps,

    F_n[p] = max( F_{n-1}[p],  max_k F_{n-1}[p - c_nk] + q_nk )        (p >= c_nk)

and the answer F_N[G]; back-tracking from p = G recovers each user's choice. Because costs
round up and are exact, sum c <= G implies sum P <= P_max in watts.

Speed and memory (all exact, nothing approximated):

* numpy over p, a Python loop over users only: per option one shifted add into a scratch
  buffer, one comparison, one masked copy (candidates are built from F_{n-1} before F is
  updated in place, so an option is never used twice).
* dominated options are dropped (another option of the same user costs no more steps and
  gives at least the same integer quality); users with no usable option are skipped.
* only a window of p is computed at stage n: F_n is constant for p >= S_n (S_n = sum of the
  users' largest costs so far), and back-tracking from G only reads p >= G - R_n (R_n = sum
  of the largest costs of the users still to come). On the seed's instances this halves
  the work and the back-tracking table.
* back-tracking table: one int8 per window cell (0 = not served, j + 1 = j-th kept option).
  When the table would exceed ``max_table_bytes`` the users are split into blocks, F is
  snapshot at each block start during the forward pass, and each block's table is
  rebuilt from its snapshot during back-tracking (checkpointing: memory ~ one block's
  table + one F row per block, time at most ~2x the forward pass).

Ties are deterministic: an option replaces the current value only if strictly better, so
"not served" wins ties, then the option with the lower index.
"""

from __future__ import annotations

import time

import numpy as np

from .baselines import upgrade_pass
from .problem import Problem, Solution, _check_grid, evaluate, integer_costs, integer_qualities, quality_scale

#: Default cap on the back-tracking table (bytes) before checkpointing kicks in.
DEFAULT_MAX_TABLE_BYTES = 128 * 2**20


def _user_options(costs: np.ndarray, qint: np.ndarray) -> tuple[np.ndarray, list[list[tuple[int, int, int]]]]:
    """Active users and, for each, its non-dominated options as (cost, int quality, k)."""
    n, k = costs.shape
    avail = (costs >= 0) & (qint > 0)
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
    quality_scale_: float | None = None,
    max_table_bytes: int = DEFAULT_MAX_TABLE_BYTES,
    polish: bool = False,
) -> Solution:
    """Seed DP on a G-step power grid; see the module docstring. Always feasible in watts.

    ``polish=True`` then spends the watts left unused by the grid rounding with one
    :func:`~bssim.sched.baselines.upgrade_pass` (serve more users / upgrade options while
    they fit in real watts); ``info["grid_objective"]`` keeps the DP's own objective and
    ``info["int_objective"]`` its integer optimum (what CP-SAT reproduces)."""
    grid = _check_grid(grid)
    if max_table_bytes < 1:
        raise ValueError(f"max_table_bytes must be >= 1; got {max_table_bytes}")
    t0 = time.perf_counter()
    scale = quality_scale(problem) if quality_scale_ is None else float(quality_scale_)
    costs = integer_costs(problem, grid)
    qint = integer_qualities(problem, scale)
    n_users, k = costs.shape
    choice = np.full(n_users, -1, dtype=np.int64)
    active, opts = _user_options(costs, qint)
    n_act = len(opts)
    info: dict = {"grid": grid, "quality_scale": scale, "n_active_users": n_act}
    int_obj = 0
    if n_act:
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
        int_obj = int(F[p])
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
