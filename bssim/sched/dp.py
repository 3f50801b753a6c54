"""The seed's dynamic programme over a discretised power grid (seed 000, section IV),
generalised to K options per user (multiple-choice knapsack).

Integer model (:mod:`bssim.sched.quantum`): option cost c_nk = ceil(P_nk / Δ) steps, exact,
capacity C steps, with Δ = P_max / G (``grid=G``, C = G), a fixed Δ in watts
(``quantum_w``, C = floor(P_max / Δ)) or, by default, an automatic Δ derived from the
option powers and independent of P_max. Qualities as integers q_nk = round(quality · s)
(:func:`integer_qualities`). With F_n[p] the best total integer quality of users 1..n
using at most p steps,

    F_n[p] = max( F_{n-1}[p],  max_k F_{n-1}[p - c_nk] + q_nk )        (p >= c_nk)

and the answer F_N[C]; back-tracking from p = C recovers each user's choice. Because costs
round up and C·Δ <= P_max, Σ c <= C implies Σ P <= P_max in watts.

Never worse than greedy (``fallback=True``, default): rounding every served user's power up
to whole steps wastes up to one step each, so the grid optimum can lose a user (or an
upgrade) that a greedy working on continuous watts still fits -- most where the budget
serves users much cheaper than the mean user that sets the automatic Δ. After the DP
(and ``polish``), both greedies (:func:`~bssim.sched.baselines.greedy`, plain and
``hull=True``) are run and the best choice returned if its real objective is higher
(``info["fallback"]`` = "greedy" or "greedy_hull", else None). ``info["int_objective"]``
(the integer optimum, what CP-SAT reproduces) and ``info["grid_objective"]`` (float
objective of the pure DP choice) always describe the grid solution. The returned
objective is therefore not guaranteed non-decreasing in P_max (greedy is not), the
integer optimum is (with Δ fixed).

Speed and memory (all exact, nothing approximated):

* reduction first (``reduce=True``, default): Lagrangian bounds prove which options no
  optimal grid solution uses (:func:`_reduce`, variable fixing as in core algorithms for
  knapsack problems); users left with one possible choice are fixed, and the DP runs only on
  the remaining "core" users (often tens out of thousands) with the remaining capacity. If
  the bound shows the greedy grid solution is already optimal, no DP is needed at all.
  ``reduce=False`` runs the plain DP below over all users.
* numpy over p, a Python loop over users only: per option one shifted add into a scratch
  buffer, one comparison, one masked copy, all reading a copy of F_{n-1}'s window (so an
  option is never used twice); three scratch rows whatever K.
* F is int32 when the integer qualities of the DP's users sum below 2^31, else int64.
* dominated options are dropped (another option of the same user costs no more steps and
  gives at least the same integer quality); users with no usable option are skipped.
* only a window of p is computed at stage n: F_n is constant for p >= S_n (S_n = sum of the
  users' largest costs so far), and back-tracking from C only reads p >= C - R_n (R_n = sum
  of the largest costs of the users still to come).
* bounded by the instance size, not the power spread (issue 19): the dense DP below runs
  only when its capacity is at most ``DENSE_MAX_CAPACITY`` (and ``max_dp_steps``) and its
  window at most ``DENSE_MAX_CELLS`` cells; otherwise the same recursion runs sparse
  (:mod:`bssim.sched.pareto`: F_n kept as its breakpoints, pruned by the Lagrangian bound,
  at most ``state_cap`` states per user; exact unless that cap drops a state, then
  ``status`` FEASIBLE with ``int_upper_bound``). More than ``MAX_CORE_USERS`` core users:
  the DP takes the ``MAX_CORE_USERS`` most open ones, the rest held at the reduction's best
  feasible solution (FEASIBLE, ``int_upper_bound`` = the Lagrangian bound). Work and memory
  in cells are reported (``dp_cells``, ``dp_stored_cells``, ``subcore_*``) and bounded by
  :func:`dp_cell_bounds` (N, K).
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

from .baselines import greedy, upgrade_pass
from .problem import Problem, Solution, evaluate, integer_qualities
from .problem import quality_scale as _quality_scale
from .pareto import MIN_STATES, STATE_BUDGET, solve_sparse, state_cap
from .quantum import DEFAULT_MAX_CAPACITY, quantize

#: Default cap on the back-tracking table (bytes) before checkpointing kicks in.
DEFAULT_MAX_TABLE_BYTES = 128 * 2**20

#: Most options per user the int8 back-tracking codes can hold.
MAX_OPTIONS = 126

#: Default cap on the dense DP's working capacity (steps after the reduction); above it
#: (or above DENSE_MAX_CAPACITY / DENSE_MAX_CELLS) the sparse DP runs (:mod:`bssim.sched.pareto`).
DEFAULT_MAX_DP_STEPS = 2**25
#: The dense DP's limits: capacity (its rows are ~16 bytes a step) and window cells.
DENSE_MAX_CAPACITY = 2**21
DENSE_MAX_CELLS = 2**24

#: Users in the sub-core DP that improves the reduction's lower bound (:func:`_improve_lb`).
SUBCORE_USERS = 32
#: Most core users the final DP takes; beyond, the others are held at the reduction's best
#: feasible solution (:func:`_capped_core`).
MAX_CORE_USERS = 2048


# ---------------------------------------------------------------- exact reduction


def _lagrange(cf: np.ndarray, qn: np.ndarray, capacity: int, iterations: int):
    """Minimise UB(λ) = λ·C + Σ_n max(0, max_k (q_nk - λ·c_nk)) over λ >= 0 (``qn`` = q,
    -inf where unavailable): a bracket [lo, hi] around the root of the slack
    C - Σ c(Lagrangian choice at λ), which rises with λ, narrowed by the Illinois variant of
    regula falsi (every third step a bisection) until the smallest bound found is within
    0.25 (integer quality units) of the minimum -- UB's slope in λ is the slack, so the
    minimum is >= UB(end) - (hi - lo)·|slack(end)|. Every evaluated λ gives a valid bound.

    Returns (UB, λ, reduced values q - λc, best reduced value per user) at the smallest
    bound, and the Lagrangian choice at the feasible end of the bracket (fits in C)."""
    rows = np.arange(cf.shape[0])
    buf = np.empty_like(cf)

    def ev(lam: float):
        np.subtract(qn, np.multiply(cf, lam, out=buf), out=buf)
        j = buf.argmax(axis=1)
        b = buf[rows, j]
        take = b > 0
        return lam * capacity + float(b[take].sum()), capacity - float(cf[rows, j][take].sum()), j, take

    def result(lam, feas):
        red = qn - lam * cf
        return (best[0], lam, red, red.max(axis=1)), np.where(feas[3], feas[2], -1)

    best = ev(0.0)
    if best[1] >= 0:
        return result(0.0, best)
    best_lam = 0.0
    pos = np.isfinite(qn) & (cf > 0)
    lo, hi = 0.0, float((qn[pos] / cf[pos]).max()) * (1 + 1e-9)
    g_lo, feas = best[1], ev(hi)
    g_hi = feas[1]
    if feas[0] < best[0]:
        best, best_lam = feas, hi
    side, s_lo, s_hi = 0, g_lo, g_hi  # s_*: the true slacks (g_* get halved by Illinois)
    for it in range(iterations):
        # UB's slope in λ is the slack, so min UB >= UB(lo or hi) - (hi - lo)·|slack there|
        if hi - lo <= 1e-12 * hi or (hi - lo) * min(s_hi, -s_lo) <= 0.25:
            break
        mid = 0.5 * (lo + hi) if it % 3 == 2 or g_hi <= g_lo else hi - g_hi * (hi - lo) / (g_hi - g_lo)
        if not lo < mid < hi:
            mid = 0.5 * (lo + hi)
        e = ev(mid)
        if e[0] < best[0]:
            best, best_lam = e, mid
        if e[1] < 0:
            lo, g_lo, s_lo = mid, e[1], e[1]
            g_hi, side = (g_hi / 2, -1) if side == -1 else (g_hi, -1)
        else:
            hi, g_hi, s_hi, feas = mid, e[1], e[1], e
            g_lo, side = (g_lo / 2, 1) if side == 1 else (g_lo, 1)
    return result(best_lam, feas)


def _greedy_fill(costs, qint, avail, cur, capacity: int):
    """Lower bound: fill the Lagrangian choice ``cur`` greedily by integer quality per step
    (moves to better options of the same user, in decreasing efficiency, while they fit).
    Returns (choice, chosen costs, lb)."""
    rows = np.arange(costs.shape[0])
    served = cur >= 0
    cur = cur.copy()
    cur_q = np.where(served, qint[rows, np.maximum(cur, 0)], 0)
    cur_c = np.where(served, costs[rows, np.maximum(cur, 0)], 0)
    rem = capacity - int(cur_c.sum())
    nn, kk = np.nonzero(avail & (qint > cur_q[:, None]))
    dc = costs[nn, kk] - cur_c[nn]
    sel = dc <= rem
    nn, kk, dc = nn[sel], kk[sel], dc[sel]
    dq = (qint[nn, kk] - cur_q[nn]).astype(np.float64)
    eff = np.where(dc > 0, dq / np.maximum(dc, 1), np.inf)
    order = np.lexsort((kk, nn, -eff))
    cq, cc, ch = cur_q.tolist(), cur_c.tolist(), cur.tolist()
    for u, j, q, c in zip(nn[order].tolist(), kk[order].tolist(), qint[nn, kk][order].tolist(),
                          costs[nn, kk][order].tolist()):
        if q <= cq[u]:
            continue
        d = c - cc[u]
        if d <= rem:
            rem -= d
            ch[u], cq[u], cc[u] = j, q, c
    cur, cur_q, cur_c = np.array(ch, dtype=np.int64), np.array(cq, dtype=np.int64), np.array(cc, dtype=np.int64)
    return cur, cur_c, int(cur_q.sum())


def _reduce(costs: np.ndarray, qint: np.ndarray, avail: np.ndarray, capacity: int, iterations: int = 60):
    """Exact problem reduction by Lagrangian bounds (variable fixing, as in core knapsack
    algorithms). Returns (avail', fixed, must_serve, capacity', info).

    UB(λ) bounds the integer optimum for any λ >= 0 (:func:`_lagrange`); LB is the value of
    a feasible grid solution (:func:`_greedy_fill`, then :func:`_improve_lb`). If fixing
    "user n takes option k" (or "user n is not served") gives a bound
    UB - max(0, best_n) + (q_nk - λ·c_nk) < LB (with a float safety margin), no optimal
    solution makes that choice and the option is removed. Users left with a single possible
    choice are fixed (``fixed[n]`` = k, or -1) and their steps taken from the capacity; the
    rest (``fixed[n] = -2``) go to the DP, ``must_serve`` where "not served" was removed.
    Every optimal solution survives, so the DP on the reduced problem finds the same optimum
    value. If UB < LB + 1 the feasible solution is itself optimal and every user is fixed."""
    cf = np.where(avail, costs, 0).astype(np.float64)
    qn = np.where(avail, qint.astype(np.float64), -np.inf)
    (ub, best_lam, red, b), lagr = _lagrange(cf, qn, capacity, iterations)
    cur, cur_c, lb = _greedy_fill(costs, qint, avail, lagr, capacity)
    err = 1e-11 * (abs(ub) + best_lam * capacity) + 1e-6  # float rounding of UB, generous
    info = {"reduced": True, "proven_by_bound": False, "lagrange_ub": ub, "lagrange_lb0": lb}
    base = ub - np.maximum(b, 0.0)  # bound with user n's term removed
    for attempt in range(2):
        info["lagrange_lb"] = lb
        if ub + err < lb + 1:  # integer optimum <= UB < LB + 1: the feasible solution is optimal
            info.update(proven_by_bound=True, n_core=0, n_fixed_served=int((cur >= 0).sum()))
            return np.zeros_like(avail), cur, np.zeros(len(cur), bool), capacity - int(cur_c.sum()), info
        keep = avail & ((base[:, None] + red) >= lb - err - 1.0)
        none_ok = base >= lb - err - 1.0
        n_keep = keep.sum(axis=1)
        core = (n_keep >= 2) | ((n_keep == 1) & none_ok)
        if attempt or core.sum() <= SUBCORE_USERS:
            break
        # regret: how much the bound drops if user n makes its second-best choice (0 = none)
        top2 = -np.partition(-np.concatenate([np.zeros((len(b), 1)), red], axis=1), 1, axis=1)[:, :2]
        regret = np.where(core, top2[:, 0] - top2[:, 1], np.inf)
        (cur, cur_c, lb), sinfo = _improve_lb(costs, qint, keep, ~none_ok, lagr, (cur, cur_c, lb), capacity, regret)
        info.update(subcore_cells=sinfo.get("dp_cells", 0), subcore_stored_cells=sinfo.get("dp_stored_cells", 0))
        info["regret"] = regret  # popped by _solve_integer (order of the capped core)
    info["lb_choice"] = cur  # popped by _solve_integer: the best feasible solution found
    return _fix(costs, avail, keep, none_ok, capacity, info)


def _improve_lb(costs, qint, keep, must, base, cur, capacity: int, regret: np.ndarray,
                size: int = SUBCORE_USERS):
    """A better feasible solution: the DP on the ``size`` users of smallest regret (those
    whose choice the Lagrangian leaves open; their options limited to ``keep``), all others
    kept at ``base`` (a feasible choice). ``cur`` = (choice, chosen costs, value); returns
    the better of the two in that form, and the DP's info."""
    n = costs.shape[0]
    rows = np.arange(n)
    sub = np.argsort(regret, kind="stable")[:size]
    rest = np.ones(n, dtype=bool)
    rest[sub] = False
    served = rest & (base >= 0)
    cap = capacity - int(costs[rows[served], base[served]].sum())
    rest_q = int(qint[rows[served], base[served]].sum())
    if cap < 0:
        return cur, {}
    value, active, picks, dinfo = _dp_users(costs[sub], qint[sub], keep[sub], must[sub], cap,
                                            DEFAULT_MAX_TABLE_BYTES, DEFAULT_MAX_DP_STEPS, cur[2] - rest_q + 1)
    if rest_q + value <= cur[2]:
        return cur, dinfo
    new = np.where(rest, base, -1)
    new[sub[active]] = picks
    new_c = np.where(new >= 0, costs[rows, np.maximum(new, 0)], 0)
    return (new, new_c, rest_q + value), dinfo


def _fix(costs, avail, keep, none_ok, capacity: int, info: dict):
    """Fix the users left with one choice by the reduction's ``keep`` / ``none_ok`` masks.
    Returns (keep of the core users, fixed, must_serve, remaining capacity, info)."""
    n = costs.shape[0]
    fixed = np.full(n, -2, dtype=np.int64)
    n_keep = keep.sum(axis=1)
    fixed[n_keep == 0] = -1
    single = (n_keep == 1) & ~none_ok
    fixed[single] = keep[single].argmax(axis=1)
    cap = capacity - int(costs[single, fixed[single]].sum())
    if cap < 0:  # cannot happen with a valid bound; fall back to no reduction
        return avail, np.full(n, -2, dtype=np.int64), np.zeros(n, bool), capacity, {"reduced": False}
    keep = keep & (fixed == -2)[:, None]
    info.update(n_core=int((fixed == -2).sum()), n_fixed_served=int(single.sum()))
    return keep, fixed, (fixed == -2) & ~none_ok, cap, info


def _dp_users(costs, qint, avail, must, capacity: int, max_table_bytes: int, max_dp_steps: int,
              target: float = 0.0):
    """The DP over these users (rows), options ``avail``. A ``must`` user (one that every
    optimal solution serves) has its cheapest cost taken from the capacity up front and its
    costs lowered by it: same optimum (not serving it stays feasible, and is never better),
    a much smaller capacity. The dense DP (:func:`_run_dp`) when its capacity is at most
    ``max_dp_steps`` and :data:`DENSE_MAX_CAPACITY` and its window at most
    :data:`DENSE_MAX_CELLS` cells, else the sparse DP (:func:`_run_sparse`; ``target``: a
    value some solution of these users reaches, or one below which no answer is wanted).
    Returns (value, active rows, their picks, info); ``info["dp_exact"]`` False when the
    sparse DP's state cap dropped states (then ``info["dp_int_bound"]`` bounds the optimum)."""
    big = np.iinfo(np.int64).max
    shift = np.where(must & avail.any(axis=1), np.where(avail, costs, big).min(axis=1), 0)
    cap = capacity - int(shift.sum())
    if cap < 0:  # the must-serve users do not all fit: plain DP
        shift[:], cap = 0, capacity
    costs = costs - shift[:, None]
    active, opts = _user_options(costs, qint, avail & (costs <= cap))
    if not opts:
        return 0, active, [], {"dp_capacity": cap, "dp_kind": "none", "dp_cells": 0, "dp_stored_cells": 0,
                               "dp_exact": True}
    cap = min(cap, sum(max(o[0] for o in ol) for ol in opts))  # exact: no choice uses more
    lo, hi = _windows(opts, cap)
    window = int((hi - lo + 1).sum())
    if cap <= min(max_dp_steps, DENSE_MAX_CAPACITY) and window <= DENSE_MAX_CELLS:
        value, picks, info = _run_dp(opts, cap, max_table_bytes)
        n_opts = sum(len(ol) for ol in opts)
        info.update(dp_kind="dense", dp_cells=window * n_opts // len(opts) + window, dp_exact=True,
                    dp_stored_cells=min(window, info["table_bytes"]) + 4 * (cap + 1))
    else:
        value, picks, info = _run_sparse(opts, cap, target)
    info["dp_capacity"] = cap
    return value, active, picks, info


def _run_sparse(opts, capacity: int, target: float):
    """The sparse DP (:mod:`bssim.sched.pareto`) with λ from the Lagrangian of these users."""
    kmax = max(len(ol) for ol in opts)
    cf = np.zeros((len(opts), kmax))
    qn = np.full((len(opts), kmax), -np.inf)
    for i, ol in enumerate(opts):
        for j, (c, q, _k) in enumerate(ol):
            cf[i, j], qn[i, j] = c, q
    (_ub, lam, _red, best), _ = _lagrange(cf, qn, capacity, 60)
    rest = np.concatenate([np.cumsum(np.maximum(best, 0.0)[::-1])[::-1], [0.0]])
    res = solve_sparse(opts, capacity, lam, rest, target, state_cap(len(opts)))
    info = {"dp_kind": "sparse", "dp_cells": res.cells, "dp_stored_cells": res.stored,
            "dp_peak_states": res.peak_states, "dp_exact": res.exact, "dp_int_bound": res.bound}
    return res.value, res.picks, info


# ---------------------------------------------------------------- the DP proper


def _user_options(costs: np.ndarray, qint: np.ndarray, avail: np.ndarray):
    """Active users and, for each, its non-dominated options as (cost, int quality, k).

    Option b is dominated by option a of the same user when a costs no more and gives at
    least the same quality (strictly better in one, or identical with a < b)."""
    k = costs.shape[1]
    active = np.flatnonzero(avail.any(axis=1))
    c, q, a = costs[active], qint[active], avail[active]
    if k > 1:
        lower = np.arange(k)[:, None] < np.arange(k)[None, :]  # [a, b]: a < b
        keep = a.copy()
        for s0 in range(0, len(active), 2048):  # chunks bound the (n, K, K) temporaries
            cc, qq, aa = c[s0 : s0 + 2048], q[s0 : s0 + 2048], a[s0 : s0 + 2048]
            ca, cb = cc[:, :, None], cc[:, None, :]
            qa, qb = qq[:, :, None], qq[:, None, :]
            dom = aa[:, :, None] & aa[:, None, :] & (ca <= cb) & (qa >= qb) & ((ca < cb) | (qa > qb) | lower)
            keep[s0 : s0 + 2048] &= ~dom.any(axis=1)
        a = keep
    c_l, q_l, a_l = c.tolist(), q.tolist(), a.tolist()
    opts = [[(ci[j], qi[j], j) for j in range(k) if ai[j]] for ci, qi, ai in zip(c_l, q_l, a_l)]
    return active, opts


def _windows(opts: list[list[tuple[int, int, int]]], capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Per stage i: [lo_i, hi_i], the range of p whose F_i values are needed."""
    cmax = np.array([max(o[0] for o in ol) for ol in opts], dtype=np.int64)
    s = np.minimum(np.cumsum(cmax), capacity)
    r = np.concatenate([np.cumsum(cmax[::-1])[::-1][1:], [0]]) if cmax.size else cmax
    hi = s
    lo = np.minimum(np.maximum(0, capacity - r), hi)
    return lo, hi


def dp_cell_bounds(n_users: int, n_options: int) -> tuple[int, int]:
    """(work, memory) bounds in cells on ``info["dp_cells"] + info["subcore_cells"]`` and
    ``info["dp_stored_cells"] + info["subcore_stored_cells"]``, whatever the powers: each of
    the two DPs (sub-core and final) is dense only within DENSE_MAX_CELLS window cells and
    DENSE_MAX_CAPACITY steps (work <= cells·(K + 1), memory <= cells + 4 rows), else sparse
    with at most state_cap(u) states for each of its u <= N users (:mod:`bssim.sched.pareto`)."""
    k1 = n_options + 1
    sparse = max(STATE_BUDGET, MIN_STATES * max(n_users, 1))
    work = max(DENSE_MAX_CELLS * k1, sparse * k1)
    memory = max(DENSE_MAX_CELLS + 4 * (DENSE_MAX_CAPACITY + 1), sparse)
    return 2 * work, 2 * memory


class _Scratch:
    """The DP's rows: F, a copy of F_{n-1}'s window, one candidate buffer, one mask."""

    def __init__(self, capacity: int, dtype) -> None:
        self.F = np.zeros(capacity + 1, dtype=dtype)
        self.prev = np.empty(capacity + 1, dtype=dtype)
        self.buf = np.empty(capacity + 1, dtype=dtype)
        self.mask = np.empty(capacity + 1, dtype=np.bool_)


def _stage(s: _Scratch, l: int, h: int, opts, row) -> None:
    """One user: F[p] = max(F[p], F_old[p - c] + q) on [l, h]; codes into ``row`` if given."""
    F, add, greater, copyto = s.F, np.add, np.greater, np.copyto
    if row is not None:
        row[:] = 0
    if len(opts) == 1:  # one candidate, built before F changes: no copy needed
        src, base = F, 0
    else:
        base = max(0, l - max(o[0] for o in opts))
        src = s.prev[: h + 1 - base]
        copyto(src, F[base : h + 1])
    for j, (c, q, _k) in enumerate(opts):
        a = l if l > c else c
        if a > h:
            continue
        buf = s.buf[: h + 1 - a]
        add(src[a - c - base : h + 1 - c - base], q, out=buf)
        cur = F[a : h + 1]
        m = s.mask[: h + 1 - a]
        greater(buf, cur, out=m)
        copyto(cur, buf, where=m)
        if row is not None:
            copyto(row[a - l :], np.int8(j + 1), where=m)


def _forward(s: _Scratch, lo, hi, opts, start: int, stop: int, hi_prev: int, table, offsets) -> int:
    """Run stages start..stop-1 in place on s.F; write back-tracking rows when table is given."""
    F = s.F
    for i in range(start, stop):
        l, h = lo[i], hi[i]
        if h > hi_prev:  # F_{i-1} is constant above hi_prev: extend it before reading
            F[hi_prev + 1 : h + 1] = F[hi_prev]
        hi_prev = h
        row = None if table is None else table[offsets[i] : offsets[i] + h - l + 1]
        _stage(s, l, h, opts[i], row)
    return hi_prev


def _blocks(widths: np.ndarray, max_table_bytes: int):
    """Split the stages into blocks whose tables fit in max_table_bytes (>= 1 stage each).
    Returns (block bounds, per-stage offsets within its block's table, largest table)."""
    starts, acc = [0], 0
    for i, w in enumerate(widths.tolist()):
        if acc + w > max_table_bytes and i > starts[-1]:
            starts.append(i)
            acc = 0
        acc += w
    bounds = starts + [len(widths)]
    offsets = np.zeros(len(widths), dtype=np.int64)
    for s0, s1 in zip(bounds[:-1], bounds[1:]):
        offsets[s0:s1] = np.concatenate([[0], np.cumsum(widths[s0 : s1 - 1])])
    max_block = max(int(widths[s0:s1].sum()) for s0, s1 in zip(bounds[:-1], bounds[1:]))
    return bounds, offsets.tolist(), max_block


def _run_dp(opts, capacity: int, max_table_bytes: int):
    """Forward pass and back-tracking over the active users' options.

    Returns (integer optimum, picked option per active user (-1 = none), info)."""
    lo, hi = _windows(opts, capacity)
    widths = hi - lo + 1
    bounds, offsets, max_block = _blocks(widths, max_table_bytes)
    n_blocks = len(bounds) - 1
    qsum = sum(max(o[1] for o in ol) for ol in opts)
    s = _Scratch(capacity, np.int32 if qsum < 2**31 - 1 else np.int64)
    table = np.empty(max_block, dtype=np.int8)
    lo_l, hi_l = lo.tolist(), hi.tolist()
    snaps: list[tuple[np.ndarray, int]] = []
    hi_prev = 0
    for b in range(n_blocks):
        last = b == n_blocks - 1
        if not last:
            snaps.append((s.F.copy(), hi_prev))
        hi_prev = _forward(s, lo_l, hi_l, opts, bounds[b], bounds[b + 1], hi_prev, table if last else None, offsets)
    p = hi_l[-1]
    value = int(s.F[p])
    picks = [-1] * len(opts)
    for b in range(n_blocks - 1, -1, -1):
        s0, s1 = bounds[b], bounds[b + 1]
        if b != n_blocks - 1:
            F_snap, hp = snaps[b]
            s.F[:] = F_snap
            _forward(s, lo_l, hi_l, opts, s0, s1, hp, table, offsets)
        for i in range(s1 - 1, s0 - 1, -1):
            p = min(p, hi_l[i])
            code = int(table[offsets[i] + p - lo_l[i]])
            if code:
                c, _q, k = opts[i][code - 1]
                picks[i] = k
                p -= c
    info = {"n_blocks": n_blocks, "table_bytes": int(max_block), "window_cells": int(widths.sum()),
            "dp_dtype": np.dtype(s.F.dtype).name}
    return value, picks, info


def _solve_integer(costs: np.ndarray, qint: np.ndarray, capacity: int, reduce: bool,
                   max_table_bytes: int, max_dp_steps: int):
    """Optimal choice of the integer model max Σq s.t. Σc <= C (reduction, then the DP).

    Returns (choice, integer optimum, info). ``info["status"]`` is OPTIMAL, or FEASIBLE when
    the core was capped (:func:`_capped_core`) or the sparse DP's state cap dropped states;
    then ``info["int_upper_bound"]`` bounds the integer optimum."""
    n_users = costs.shape[0]
    choice = np.full(n_users, -1, dtype=np.int64)
    avail = (costs >= 0) & (qint > 0)
    must = np.zeros(n_users, dtype=bool)
    info: dict = {"status": "OPTIMAL"}
    cap, offset, lb_choice = capacity, 0, None
    if reduce and avail.any():
        avail, fixed, must, cap, rinfo = _reduce(costs, qint, avail, capacity)
        lb_choice, regret = rinfo.pop("lb_choice", None), rinfo.pop("regret", None)
        info.update(rinfo)
        if info.get("n_core", 0) > MAX_CORE_USERS and lb_choice is not None and regret is not None:
            return _capped_core(costs, qint, avail, must, capacity, lb_choice, np.where(fixed == -2, regret, np.inf), info)
        served = fixed >= 0
        choice[served] = fixed[served]
        offset = int(qint[served, fixed[served]].sum())
    target = info.get("lagrange_lb", 0) - offset if reduce else 0
    value, active, picks, dinfo = _dp_users(costs, qint, avail, must, cap, max_table_bytes, max_dp_steps, target)
    if not dinfo["dp_exact"]:
        info.update(status="FEASIBLE", int_upper_bound=offset + dinfo["dp_int_bound"])
    if lb_choice is not None and int(qint[lb_choice >= 0, lb_choice[lb_choice >= 0]].sum()) > offset + value:
        # only when a cap dropped the optimum's states (a guard otherwise: the DP reaches the bound's LB)
        served = lb_choice >= 0
        info.update(dinfo, n_active_users=len(active), dp_replaced_by="reduction_lb")
        return lb_choice, int(qint[served, lb_choice[served]].sum()), info
    choice[active] = picks
    info.update(dinfo, n_active_users=len(active))
    return choice, offset + value, info


def _capped_core(costs, qint, keep, must, capacity: int, lb_choice, regret, info: dict):
    """More than :data:`MAX_CORE_USERS` core users: the DP on the ``MAX_CORE_USERS`` of
    smallest regret, every other user held at the reduction's best feasible solution
    ``lb_choice`` (:func:`_improve_lb`); feasible, not proven optimal: ``status`` FEASIBLE
    and ``int_upper_bound`` = the Lagrangian bound."""
    rows = np.arange(costs.shape[0])
    served = lb_choice >= 0
    cur = (lb_choice, np.where(served, costs[rows, np.maximum(lb_choice, 0)], 0),
           int(qint[served, lb_choice[served]].sum()))
    (choice, _c, value), dinfo = _improve_lb(costs, qint, keep, must, lb_choice, cur, capacity, regret,
                                             MAX_CORE_USERS)
    info.update(dinfo, status="FEASIBLE", int_upper_bound=info["lagrange_ub"], core_capped_to=MAX_CORE_USERS,
                n_active_users=MAX_CORE_USERS)
    info.setdefault("dp_cells", 0)
    info.setdefault("dp_stored_cells", 0)
    return choice, value, info


# ---------------------------------------------------------------- entry point


def solve_dp(
    problem: Problem,
    grid: int | None = None,
    *,
    quantum_w: float | None = None,
    steps_per_user: float | None = None,
    max_capacity: int = DEFAULT_MAX_CAPACITY,
    quality_scale: float | None = None,
    max_table_bytes: int = DEFAULT_MAX_TABLE_BYTES,
    max_dp_steps: int = DEFAULT_MAX_DP_STEPS,
    polish: bool = False,
    reduce: bool = True,
    fallback: bool = True,
) -> Solution:
    """The seed's DP on the integer model of :func:`~bssim.sched.quantum.quantize` (``grid``
    G, or ``quantum_w`` Δ in W, or neither: automatic Δ); see the module docstring.

    ``polish=True`` spends the watts left by the rounding with one
    :func:`~bssim.sched.baselines.upgrade_pass`. ``fallback=True`` returns greedy's choice
    when it is better (``info["fallback"] = "greedy"``). ``reduce=False`` is the plain DP
    over all users (same ``info["int_objective"]``; ties may pick other, equally good,
    choices). Always feasible in watts."""
    if problem.n_options > MAX_OPTIONS:
        raise ValueError(f"the DP supports at most {MAX_OPTIONS} options per user; got {problem.n_options}")
    if max_table_bytes < 1:
        raise ValueError(f"max_table_bytes must be >= 1; got {max_table_bytes}")
    t0 = time.perf_counter()
    qz = quantize(problem, grid, quantum_w, steps_per_user=steps_per_user, max_capacity=max_capacity)
    scale = _quality_scale(problem) if quality_scale is None else float(quality_scale)
    qint = integer_qualities(problem, scale)
    choice, int_obj, info = _solve_integer(qz.costs, qint, qz.capacity, reduce, max_table_bytes, max_dp_steps)
    served = choice >= 0
    if int(qint[served, choice[served]].sum()) != int_obj:  # internal consistency of the back-tracking
        raise RuntimeError(f"DP back-tracking mismatch: optimum {int_obj}, recovered choice differs")
    steps = int(qz.costs[served, choice[served]].sum())
    if steps > qz.capacity:
        raise RuntimeError(f"DP solution uses {steps} > {qz.capacity} steps")
    objective, power = evaluate(problem, choice)
    info.update(qz.info())
    info.update(quality_scale=scale, int_objective=int_obj, steps_used=steps,
                grid_objective=objective, polish=bool(polish), fallback=None)
    if polish:
        info["polish_moves"] = upgrade_pass(problem, choice)
        objective, power = evaluate(problem, choice)
    if fallback:
        for name, hull in (("greedy", False), ("greedy_hull", True)):
            g = greedy(problem, hull=hull)
            info[f"{name}_objective"] = g.objective
            if g.objective > objective:
                choice, objective, power = g.choice, g.objective, g.power_used_w
                info["fallback"] = name
    return Solution("dp", choice, objective, power, time.perf_counter() - t0, info)
