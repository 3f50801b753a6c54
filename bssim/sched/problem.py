"""The scheduling problem and its solution (seed 000, section IV; DESIGN.md section 2).

N users; user n is either not served (quality 0, power 0) or served with one of K options,
option k needing power ``power_w[n, k]`` and giving quality ``quality[n, k]``. Maximise the
total quality subject to the total power <= ``p_max_w``. This is a multiple-choice knapsack;
the seed's three-way choice is K = 2 (option 0 = direct, quality 1; option 1 = key
information, quality alpha_n in (0, 1)).

``power_w[n, k] = np.inf`` marks an option that user n cannot use (the link model reports a
requirement above any physical power that way). Solvers never choose it and never do
arithmetic with it.

Two discretisations are shared by the solvers so that they are identical everywhere:

* the power quantum Δ and the integer costs c = ceil(P / Δ) (:mod:`bssim.sched.quantum`);
* :func:`integer_qualities` -- qualities scaled to integers (default resolution 1e-6 of the
  largest quality, a power of ten), the objective that the DP and CP-SAT both maximise, so
  that their optima are equal integers, exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

#: Marker in :func:`integer_costs` output for an option that cannot be used
#: (infeasible power, or more than the whole budget).
UNAVAILABLE = -1

#: Default number of significant decimal digits kept by :func:`integer_qualities`.
QUALITY_DIGITS = 6


def _as_matrix(name: str, value, n_cols: int | None = None) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a numeric (N, K) array: {e}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (N users, K options); got shape {arr.shape}")
    if n_cols is not None and arr.shape[1] != n_cols:
        raise ValueError(f"{name} must have {n_cols} columns; got shape {arr.shape}")
    return arr


def _first_bad(mask: np.ndarray) -> tuple[int, int]:
    idx = np.argwhere(mask)[0]
    return int(idx[0]), int(idx[1])


@dataclass(frozen=True, eq=False)
class Problem:
    """One scheduling instance: option powers (W), option qualities, power budget (W).

    ``power_w``: (N, K) float >= 0, ``np.inf`` = option infeasible for that user.
    ``quality``: (N, K) finite float > 0.
    ``p_max_w``: finite float >= 0.
    ``policies``: fixed policies for the baselines, name -> (N,) int option column per user
    (-1 = that policy does not serve the user). ``all_direct`` and ``all_key`` read theirs
    from here (:mod:`bssim.sched.baselines`). Default (None): derived from ``option_names``
    -- ``all_direct`` = the "direct" column and ``all_key`` = the "key" column for every user,
    where such names exist (the seed's K = 2 problem).
    Arrays are copied to read-only arrays at construction. Equality is identity
    (``eq=False``): arrays have no single truth value.
    """

    power_w: np.ndarray
    quality: np.ndarray
    p_max_w: float
    option_names: tuple[str, ...] = ("direct", "key")
    policies: Mapping[str, np.ndarray] | None = None

    def __post_init__(self) -> None:
        power = _as_matrix("power_w", self.power_w)
        quality = _as_matrix("quality", self.quality)
        if quality.shape != power.shape:
            raise ValueError(
                f"quality must have the same shape as power_w {power.shape}; got {quality.shape}"
            )
        n, k = power.shape
        names = tuple(str(s) for s in self.option_names)
        if len(names) != k:
            raise ValueError(
                f"option_names has {len(names)} names {names} but power_w has {k} option columns"
            )
        if k == 0 and n > 0:
            raise ValueError("power_w has users but no option columns (K = 0)")
        if np.isnan(power).any():
            i, j = _first_bad(np.isnan(power))
            raise ValueError(f"power_w[{i}, {j}] ({names[j]}) is NaN; use np.inf for an infeasible option")
        if (power < 0).any():
            i, j = _first_bad(power < 0)
            raise ValueError(f"power_w[{i}, {j}] ({names[j]}) = {float(power[i, j])!r} W is negative; allowed >= 0")
        bad_q = ~np.isfinite(quality) | (quality <= 0)
        if bad_q.any():
            i, j = _first_bad(bad_q)
            raise ValueError(
                f"quality[{i}, {j}] ({names[j]}) = {float(quality[i, j])!r}; allowed a finite value > 0"
            )
        try:
            p_max = float(self.p_max_w)
        except (TypeError, ValueError):
            raise ValueError(f"p_max_w must be a number; got {self.p_max_w!r}") from None
        if not math.isfinite(p_max) or p_max < 0:
            raise ValueError(f"p_max_w = {p_max!r} W; allowed a finite value >= 0")
        power.setflags(write=False)
        quality.setflags(write=False)
        object.__setattr__(self, "power_w", power)
        object.__setattr__(self, "quality", quality)
        object.__setattr__(self, "p_max_w", p_max)
        object.__setattr__(self, "option_names", names)
        object.__setattr__(self, "policies", _check_policies(self.policies, names, n))

    @property
    def n_users(self) -> int:
        return int(self.power_w.shape[0])

    @property
    def n_options(self) -> int:
        return int(self.power_w.shape[1])

    def feasible_mask(self) -> np.ndarray:
        """(N, K) bool: option is usable at all (finite power <= P_max)."""
        return np.isfinite(self.power_w) & (self.power_w <= self.p_max_w)

    def option_index(self, name: str) -> int:
        try:
            return self.option_names.index(name)
        except ValueError:
            raise ValueError(f"no option named {name!r}; options are {self.option_names}") from None

    def policy(self, name: str) -> np.ndarray:
        """(N,) int64 option column of the fixed policy ``name`` (-1 = not served)."""
        try:
            return self.policies[name]
        except KeyError:
            have = ", ".join(sorted(self.policies)) or "none"
            raise ValueError(
                f"this problem has no policy {name!r} (it has: {have}); pass "
                f"Problem(..., policies={{{name!r}: per-user option columns}})"
            ) from None

    @classmethod
    def seed(cls, p_direct_w, p_key_w, alpha, p_max_w: float) -> "Problem":
        """The seed's three-way choice: direct (quality 1, power P_n0), key information
        (quality alpha_n in (0, 1), power P_n1), or not served. Seed 000, section IV."""
        p0 = np.atleast_1d(np.asarray(p_direct_w, dtype=np.float64))
        p1 = np.atleast_1d(np.asarray(p_key_w, dtype=np.float64))
        a = np.atleast_1d(np.asarray(alpha, dtype=np.float64))
        for name, arr in (("p_direct_w", p0), ("p_key_w", p1), ("alpha", a)):
            if arr.ndim != 1:
                raise ValueError(f"{name} must be a 1-D array (one value per user); got shape {arr.shape}")
        if not (p0.shape == p1.shape == a.shape):
            raise ValueError(
                f"p_direct_w, p_key_w and alpha must have the same length; got "
                f"{p0.shape[0]}, {p1.shape[0]}, {a.shape[0]}"
            )
        for name, arr in (("p_direct_w", p0), ("p_key_w", p1)):
            if np.isnan(arr).any():
                i = int(np.flatnonzero(np.isnan(arr))[0])
                raise ValueError(f"{name}[{i}] (user {i}) is NaN; use np.inf for an infeasible option")
        bad = ~((a > 0) & (a < 1))  # NaN is bad too
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"alpha[{i}] (user {i}) = {float(a[i])!r}; allowed 0 < alpha < 1")
        power = np.stack([p0, p1], axis=1) if p0.size else np.zeros((0, 2))
        quality = np.stack([np.ones_like(a), a], axis=1) if a.size else np.zeros((0, 2))
        return cls(power_w=power, quality=quality, p_max_w=p_max_w, option_names=("direct", "key"))


def _check_policies(policies, names: tuple[str, ...], n: int) -> Mapping[str, np.ndarray]:
    """Validated read-only policies; the default derived from the option names."""
    k = len(names)
    if policies is None:
        policies = {pol: np.full(n, names.index(opt), dtype=np.int64)
                    for pol, opt in (("all_direct", "direct"), ("all_key", "key")) if opt in names}
    if not isinstance(policies, Mapping):
        raise ValueError(f"policies must be a mapping name -> (N,) option columns; got {type(policies).__name__}")
    out: dict[str, np.ndarray] = {}
    for name, cols in policies.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"policy names must be non-empty strings; got {name!r}")
        arr = np.asarray(cols)
        if arr.shape != (n,):
            raise ValueError(f"policies[{name!r}] must have shape ({n},) (one option per user); got {arr.shape}")
        if arr.dtype.kind == "f" and np.isfinite(arr).all() and (arr == np.rint(arr)).all():
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "iu":
            raise ValueError(f"policies[{name!r}] must hold integer option indices; got dtype {arr.dtype}")
        bad = (arr < -1) | (arr >= k)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"policies[{name!r}][{i}] (user {i}) = {arr[i]}; allowed -1 (not served) or 0..{k - 1}")
        arr = arr.astype(np.int64)  # a copy
        arr.setflags(write=False)
        out[name] = arr
    return MappingProxyType(out)


@dataclass
class Solution:
    """A solver's answer.

    ``choice``: (N,) int64, -1 = not served, k = option index.
    ``objective``: sum of the (float) qualities of the chosen options.
    ``power_used_w``: exactly rounded sum (math.fsum) of the real powers of the chosen options.
    ``solve_time_s``: time of the solver itself (model building included for OR-Tools).
    """

    solver: str
    choice: np.ndarray
    objective: float
    power_used_w: float
    solve_time_s: float
    info: dict = field(default_factory=dict)

    @property
    def n_served(self) -> int:
        return int((self.choice >= 0).sum())


def evaluate(problem: Problem, choice: np.ndarray) -> tuple[float, float]:
    """(objective, power_used_w) of a choice vector; raises if it picks an unusable option."""
    choice = np.asarray(choice, dtype=np.int64)
    if choice.shape != (problem.n_users,):
        raise ValueError(f"choice must have shape ({problem.n_users},); got {choice.shape}")
    served = np.flatnonzero(choice >= 0)
    if (choice < -1).any() or (choice >= problem.n_options).any():
        raise ValueError("choice values must be -1 or an option index")
    p = problem.power_w[served, choice[served]]
    if not np.isfinite(p).all():
        raise ValueError("choice picks an infeasible (infinite-power) option")
    q = problem.quality[served, choice[served]]
    return math.fsum(q.tolist()), math.fsum(p.tolist())


def max_served(problem: Problem) -> int:
    """Largest number of users servable together with positive-power options within P_max
    (their cheapest positive powers, in increasing order, while the sum fits)."""
    P = np.where(problem.feasible_mask() & (problem.power_w > 0), problem.power_w, np.inf)
    if P.size == 0:
        return 0
    cheapest = np.sort(P.min(axis=1))
    cheapest = cheapest[np.isfinite(cheapest)]
    if cheapest.size == 0:
        return 0
    csum = np.cumsum(cheapest)
    return int(np.searchsorted(csum, problem.p_max_w * (1 + 1e-12), side="right"))


def quality_scale(problem: Problem, digits: int = QUALITY_DIGITS) -> float:
    """Power of ten s such that round(q * s) keeps ``digits`` significant digits of max q
    (10**6 for the seed, whose largest quality is 1)."""
    if problem.quality.size == 0:
        return float(10**digits)
    qmax = float(problem.quality.max())
    return float(10.0 ** (digits - math.ceil(math.log10(qmax))))


def integer_qualities(problem: Problem, scale: float | None = None) -> np.ndarray:
    """(N, K) int64 qualities round(q * scale), the objective the DP and CP-SAT share.

    Default scale: a power of ten giving 1e-6 resolution relative to the largest quality
    (10**6 for the seed, whose qualities are <= 1). Rounding changes each option's quality
    by at most 0.5 / scale, so the float objective of the integer optimum is within
    N / scale of the float optimum on the same grid.
    """
    if scale is None:
        scale = quality_scale(problem)
    q = np.rint(problem.quality * float(scale))
    if problem.quality.size and q.max() * max(problem.n_users, 1) >= 2**62:
        raise ValueError(f"quality scale {scale} too large: integer objective would overflow int64")
    return q.astype(np.int64)


def _check_grid(grid) -> int:
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)):
        raise ValueError(f"grid must be an integer >= 1; got {grid!r}")
    grid = int(grid)
    if grid < 1:
        raise ValueError(f"grid must be an integer >= 1; got {grid}")
    return grid
