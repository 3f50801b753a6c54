"""The power quantum Δ of the DP's integer model (seed 000, section IV; DESIGN.md section 2).

An option of power P costs c = ceil(P / Δ) steps and the budget is C steps; the DP and CP-SAT
both solve  max Σ q·x  s.t.  Σ c·x <= C,  at most one option per user. Since c·Δ >= P and
C·Δ <= P_max, every solution of that integer model is feasible in watts. Three modes:

* ``grid=G``       Δ = P_max / G, C = G: the seed's grid. Whatever the budget, rounding can
                   waste s·P_max/G (s = users served) and at most G users can be served.
* ``quantum_w=Δ``  a fixed Δ in watts, C = floor(P_max / Δ).
* neither: auto    Δ = m / g (:func:`auto_quantum_w`): m = the mean over users of their
                   cheapest positive finite option power (all options, not filtered by
                   P_max), each capped at 1000× the median so one absurd user cannot
                   coarsen everyone; g = 4096 steps per user (:func:`auto_steps_per_user`);
                   C = floor(P_max / Δ).

In every mode the feasible set of the integer model only grows with the budget, so its
optimum is non-decreasing in P_max: with Δ fixed (quantum, auto) the costs do not depend on
P_max and C grows with it; on the grid C = G is fixed and every cost ceil(P·G / P_max)
falls as P_max grows. A fixed Δ also lets C, the number of users the grid can serve, grow
with the budget. Costs and C are exact (rationals at the rounding boundary), so this holds
exactly.

Capacity caps (quantum and auto modes only): C is lowered to Σ_n max_k c_nk when that is
smaller -- exact, no choice can use more: the budget does not bind (``capped="budget"``).
If C is still above ``max_capacity`` (default 2^40, a guard for int64 / float64 exactness),
Δ is doubled until it fits (``capped="max_capacity"``, with a warning): the model is then
coarser, and Δ depends on P_max, so the monotonicity above no longer holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .problem import UNAVAILABLE, Problem, _check_grid, max_served

#: Default cap on the capacity C (steps) in quantum and auto modes: keeps costs, sums and
#: CP-SAT coefficients far inside int64 / float64-exact range. The DP itself works on the
#: capacity left after its reduction (dp.DEFAULT_MAX_DP_STEPS bounds that).
DEFAULT_MAX_CAPACITY = 2**40

#: Auto quantum: steps per mean user (see auto_steps_per_user).
#: Auto quantum: a user's cheapest power counts at most this many medians in the mean.
AUTO_OUTLIER_CAP = 1000.0
AUTO_STEPS_PER_USER = 4096

#: Warn when rounding can waste more than this fraction of P_max (s_max·Δ / P_max).
WASTE_WARN_FRACTION = 0.1


@dataclass(frozen=True, eq=False)
class Quantum:
    """A resolved power quantum: Δ (W), capacity C (steps), the (N, K) int64 costs
    (:data:`UNAVAILABLE` = -1 where unusable), the mode and plain-English warnings."""

    mode: str  # "grid" | "quantum" | "auto"
    quantum_w: float
    capacity: int
    costs: np.ndarray
    grid: int | None = None
    steps_per_user: float | None = None
    capped: str | None = None  # None | "budget" | "max_capacity"
    warnings: tuple[str, ...] = ()

    def info(self) -> dict:
        """The keys every grid solver adds to ``Solution.info``."""
        return {"grid_mode": self.mode, "quantum_w": self.quantum_w, "capacity": self.capacity,
                "grid": self.grid, "steps_per_user": self.steps_per_user,
                "capacity_capped": self.capped, "warnings": list(self.warnings)}


def auto_steps_per_user(n_users: int, n_options: int) -> int:
    """g of the auto quantum: 4096 steps per (mean) user, for every N and K.

    Rounding wastes up to Δ = m / g per served user, a fraction ~1 / (2g) of a mean
    user's power whatever N and K, so accuracy asks for the same g at every N and K.
    Measured (benchmarks/bench_sched.py instances, N = 1000, K = 10): gap to the MIP 0.04 /
    0.011 / 0.003 % at g = 1024 / 4096 / 16384 when half the users can be served, 4.2 / 1.0 /
    0.36 % when 5 % can. The reduced DP's time barely depends on N, but its working capacity
    grows with g where the budget serves nearly everyone (99 %: N = 1000 in 0.14 s at
    g = 4096, 1.6 s at 16384). The arguments are kept so that the rule can depend on them."""
    return AUTO_STEPS_PER_USER


def auto_quantum_w(problem: Problem, steps_per_user: float | None = None) -> float:
    """Δ = m / g, m = mean over users of min(p_n, 1000·median p), p_n = min_k {P_nk : 0 < P_nk < inf}
    (no P_max filter).

    Independent of P_max by construction. The mean, not the median: path loss makes p_n
    heavy-tailed (on dense_cell the mean is ~20× the median), and with the median the DP's
    capacity P_max/Δ reached 5·10^7 steps (66 s for one epoch at 20 W); with the mean the
    same epochs take ≤ 0.3 s at the same gap to the LP bound (≤ 0.12 %). Measured by
    benchmarks/bench_sim.py's instances. 1 W when no user has a positive finite power
    (every usable cost is then 0 and Δ does not matter); at least the smallest normal float."""
    g = auto_steps_per_user(problem.n_users, problem.n_options) if steps_per_user is None else steps_per_user
    if not (isinstance(g, (int, float, np.integer, np.floating)) and math.isfinite(g) and g > 0):
        raise ValueError(f"steps_per_user must be a finite number > 0; got {g!r}")
    P = problem.power_w
    pos = np.where(np.isfinite(P) & (P > 0), P, np.inf).min(axis=1) if P.size else np.zeros(0)
    pos = pos[np.isfinite(pos)]
    if pos.size == 0:
        return 1.0
    m = float(np.minimum(pos, AUTO_OUTLIER_CAP * np.median(pos)).mean())
    return max(m / float(g), np.finfo(np.float64).tiny)  # no underflow to 0


def quantize(
    problem: Problem,
    grid: int | None = None,
    quantum_w: float | None = None,
    *,
    steps_per_user: float | None = None,
    max_capacity: int = DEFAULT_MAX_CAPACITY,
) -> Quantum:
    """Resolve the mode (module docstring) and compute Δ, C and the costs c = ceil(P / Δ)."""
    if grid is not None and quantum_w is not None:
        raise ValueError("give at most one of grid (steps G, Δ = P_max/G) and quantum_w (Δ in W)")
    if grid is not None:
        if steps_per_user is not None:
            raise ValueError("steps_per_user is for the automatic quantum only (no grid, no quantum_w)")
        g = _check_grid(grid)
        delta = problem.p_max_w / g
        q = Quantum("grid", delta, g, _grid_costs(problem, g), grid=g)
        return _with_warnings(problem, q, g)
    if isinstance(max_capacity, bool) or not isinstance(max_capacity, (int, np.integer)) or not 1 <= max_capacity <= 2**50:
        raise ValueError(f"max_capacity must be an integer in [1, 2^50]; got {max_capacity!r}")
    if quantum_w is not None:
        if steps_per_user is not None:
            raise ValueError("steps_per_user is for the automatic quantum only (no grid, no quantum_w)")
        try:
            delta = float(quantum_w)
        except (TypeError, ValueError):
            raise ValueError(f"quantum_w must be a number of watts; got {quantum_w!r}") from None
        if not (math.isfinite(delta) and delta > 0):
            raise ValueError(f"quantum_w = {quantum_w!r} W; allowed a finite value > 0")
        mode, g = "quantum", None
    else:
        mode = "auto"
        g = auto_steps_per_user(problem.n_users, problem.n_options) if steps_per_user is None else steps_per_user
        delta = auto_quantum_w(problem, g)
    return _fixed_quantum(problem, mode, delta, g, int(max_capacity))


def integer_costs(problem: Problem, grid: int | None = None, *, quantum_w: float | None = None,
                  **options) -> np.ndarray:
    """(N, K) int64 costs c = ceil(P / Δ) of :func:`quantize` (UNAVAILABLE = -1).

    Grid mode (Δ = P_max / G): c is the smallest integer with P·G <= c·P_max in exact
    arithmetic, so a power of exactly k·Δ costs k and costs summing to <= G imply powers
    summing to <= P_max; options with infinite power or P > P_max are unavailable; with
    P_max = 0 only zero-power options are available, at cost 0. Quantum and auto modes:
    c = ceil(P / Δ) exactly, unavailable when infinite or c > C = floor(P_max / Δ)."""
    return quantize(problem, grid, quantum_w, **options).costs


def _grid_costs(problem: Problem, grid: int) -> np.ndarray:
    """The seed grid's costs (Δ = P_max / G); see :func:`integer_costs`."""
    power = problem.power_w
    p_max = problem.p_max_w
    out = np.full(power.shape, UNAVAILABLE, dtype=np.int64)
    ok = problem.feasible_mask()
    if not ok.any():
        return out
    if p_max == 0.0:
        out[ok] = 0  # feasible here means P == 0
        return out
    p = power[ok]
    q = (p / p_max) * grid  # in [0, G]; no overflow since p <= p_max
    c = np.ceil(q)
    near = np.abs(q - np.rint(q)) <= 1e-9 * np.maximum(1.0, q)
    if near.any():
        g = Fraction(grid)
        pm = Fraction(p_max)
        c[near] = [math.ceil(Fraction(v) * g / pm) for v in p[near].tolist()]
    out[ok] = np.minimum(c, grid).astype(np.int64)  # p <= p_max gives c <= G; belt and braces
    return out


def _ceil_div(p: np.ndarray, delta: float) -> np.ndarray:
    """ceil(p / Δ) for finite p >= 0, float64 result, exact up to 2^50: the float quotient is
    within 2^-53 relative of the true one, so only quotients within 1e-14 relative of an
    integer are settled with rationals. (Larger quotients exceed any allowed capacity.)"""
    q = p / delta
    c = np.ceil(q)
    near = (np.abs(q - np.rint(q)) <= 1e-14 * np.maximum(1.0, q)) & (q <= 2.0**50)
    if near.any():
        d = Fraction(delta)
        c[near] = [math.ceil(Fraction(v) / d) for v in p[near].tolist()]
    return c


def _fixed_costs(problem: Problem, delta: float) -> tuple[np.ndarray, int, int]:
    """Costs ceil(P/Δ) (unavailable if > C0), C0 = floor(P_max / Δ) (exact, any size) and
    the most any choice can use, Σ_n max_k c_nk (exact when <= 2^52)."""
    c0 = math.floor(Fraction(problem.p_max_w) / Fraction(delta))
    out = np.full(problem.power_w.shape, UNAVAILABLE, dtype=np.int64)
    ok = problem.feasible_mask()  # finite and P <= P_max
    if ok.any():
        c = _ceil_div(problem.power_w[ok], delta)
        out[ok] = np.where(c <= min(c0, 2**62), c, UNAVAILABLE).astype(np.int64)
    most = np.where(out >= 0, out, 0).max(axis=1) if out.size else np.zeros(0, np.int64)
    need_f = float(most.astype(np.float64).sum())
    return out, c0, int(most.sum()) if need_f <= 2.0**52 else int(need_f)


def _fixed_quantum(problem: Problem, mode: str, delta: float, g, max_capacity: int) -> Quantum:
    """Quantum/auto modes: exact costs, the exact budget cap, then Δ doubled while C is too big."""
    requested = delta
    while True:
        costs, c0, need = _fixed_costs(problem, delta)
        cap = min(c0, need)
        if cap <= max_capacity:
            break
        delta *= 2.0 ** max(1, math.ceil(math.log2(cap) - math.log2(max_capacity)))
    capped = "max_capacity" if delta != requested else ("budget" if need < c0 else None)
    q = Quantum(mode, delta, cap, costs, steps_per_user=None if g is None else float(g), capped=capped)
    warns = []
    if capped == "max_capacity":
        warns.append(
            f"power quantum raised from {requested:.4g} W to {delta:.4g} W: P_max / Δ would need more "
            f"than max_capacity = {max_capacity} steps; the DP's answer is coarser and no longer "
            f"guaranteed non-decreasing in P_max"
        )
    elif capped == "budget":
        warns.append(
            f"the budget does not bind: P_max = {problem.p_max_w:.4g} W is more than every user's "
            f"costliest usable option needs together ({need} steps of Δ = {delta:.4g} W); "
            f"capacity capped at {need} steps (exact)"
        )
    return _with_warnings(problem, q, c0, warns)


def _with_warnings(problem: Problem, q: Quantum, c0: int, warns: list[str] | None = None) -> Quantum:
    """Add the grid-bound warnings: at most C0 positive-power users fit on the grid, and
    rounding wastes up to s_max·Δ of the budget (s_max = users servable in watts)."""
    warns = list(warns or [])
    s_max = max_served(problem)
    if s_max > 0 and problem.p_max_w > 0:
        if s_max >= c0:
            warns.append(
                f"the power grid binds: every served user costs at least one step of Δ = "
                f"{q.quantum_w:.4g} W, so at most {c0} users can be served, but up to {s_max} fit in "
                f"P_max = {problem.p_max_w:.4g} W; use a finer grid or quantum"
            )
        elif s_max * q.quantum_w > WASTE_WARN_FRACTION * problem.p_max_w:
            warns.append(
                f"coarse power grid: up to {s_max} users fit in P_max = {problem.p_max_w:.4g} W "
                f"and rounding each one's power up to whole steps of Δ = {q.quantum_w:.4g} W can "
                f"waste up to {100 * s_max * q.quantum_w / problem.p_max_w:.0f} % of the budget "
                f"(capacity {c0} steps); use a finer grid or quantum"
            )
    return Quantum(q.mode, q.quantum_w, q.capacity, q.costs, q.grid, q.steps_per_user, q.capped, tuple(warns))
