"""One scheduling epoch: users table → option powers → scheduler → per-user result table.

For user n with channel gain G_n, noise N_n, loss L_n and bandwidth B, the power of each
option is the Shannon inversion (DESIGN.md section 2, seed section IV)

    P_n0 = P(D_n)  (direct: whole frame through deep JSCC, quality 1)
    P_n1 = P(C_n)  (key information, quality α_n)

with P(d) = (N·(2^(d/(B·T)) − 1) + L)/G (:func:`bssim.link.required_power_w`; an option whose
power is beyond any physical bound is ``inf``, i.e. infeasible). The scheduler picks
x_n ∈ {−1, 0, 1} maximising Σρ_n subject to ΣP_n ≤ P_max.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bssim import link
from bssim.sched import Problem, Solution, solve

#: Columns a users table must have (one row per user). Optional: ``bandwidth_hz``, and
#: ``key_available`` (False: no key option, e.g. background matching failed).
REQUIRED_COLUMNS = ("noise_w", "gain", "loss_w", "D_bits", "C_bits", "alpha")

CHOICE_NAMES = {-1: "none", 0: "direct", 1: "key"}


def option_powers(users: pd.DataFrame, delay_s: float, bandwidth_hz: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(P_n0, P_n1) in W for every user; ``inf`` marks an infeasible option."""
    missing = [c for c in REQUIRED_COLUMNS if c not in users.columns]
    if missing:
        raise ValueError(f"users table lacks column(s) {', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}")
    bw = users["bandwidth_hz"].to_numpy(float) if bandwidth_hz is None and "bandwidth_hz" in users else bandwidth_hz
    if bw is None:
        raise ValueError("bandwidth_hz is needed: give it or add a 'bandwidth_hz' column")
    common = dict(
        delay_s=delay_s,
        bandwidth_hz=bw,
        noise_w=users["noise_w"].to_numpy(float),
        gain=users["gain"].to_numpy(float),
        loss_w=users["loss_w"].to_numpy(float),
    )
    p_direct = link.required_power_w(users["D_bits"].to_numpy(float), **common)
    p_key = link.required_power_w(users["C_bits"].to_numpy(float), **common)
    if "key_available" in users:  # background matching failed: the frame can only go direct
        p_key = np.where(users["key_available"].to_numpy(bool), p_key, np.inf)
    return p_direct, p_key


def seed_problem(p_direct_w: np.ndarray, p_key_w: np.ndarray, alpha: np.ndarray, p_max_w: float) -> Problem:
    """The seed's three-way choice per user: direct (quality 1, P_n0) or key information (α_n, P_n1).

    The seed (section IV) assumes 0 < α_n < 1 and :meth:`Problem.seed` checks it. Measured
    content can give α_n ≥ 1: the key path pastes the people onto a clean library
    background, which can score higher than deep JSCC of the whole frame. Then the key
    option is simply better *and* cheaper, and the same menu (qualities 1 and α_n) is solved
    without the seed's check; α_n ≤ 0 or NaN is still an error.
    """
    alpha = np.asarray(alpha, dtype=float)
    if np.all((alpha > 0) & (alpha < 1)):
        return Problem.seed(p_direct_w, p_key_w, alpha, p_max_w)
    bad = ~(alpha > 0) | ~np.isfinite(alpha)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(f"alpha of user {i} = {alpha[i]!r}; allowed a finite value > 0")
    quality = np.column_stack([np.ones_like(alpha), alpha])
    return Problem(np.column_stack([p_direct_w, p_key_w]), quality, p_max_w)


def solve_epoch(
    users: pd.DataFrame,
    p_max_w: float,
    delay_s: float,
    bandwidth_hz: float | None = None,
    solver: str = "dp",
    grid: int = 1000,
    **solver_options: object,
) -> tuple[pd.DataFrame, Solution]:
    """Solve one epoch. Returns the users table with the decision columns added, and the solution.

    Added columns: ``p_direct_w, p_key_w`` (option powers, inf = infeasible), ``choice``
    (−1 none, 0 direct, 1 key), ``choice_name``, ``power_w`` (allocated), ``bits`` (d_n sent),
    ``quality`` (ρ_n), ``snr_db`` (received SNR at the allocated power, NaN when not served).
    """
    p_direct, p_key = option_powers(users, delay_s, bandwidth_hz)
    problem = seed_problem(p_direct, p_key, users["alpha"].to_numpy(float), p_max_w)
    solution = solve(problem, solver=solver, grid=grid, **solver_options)
    choice = np.asarray(solution.choice, dtype=np.int64)
    out = users.copy()
    out["p_direct_w"] = p_direct
    out["p_key_w"] = p_key
    out["choice"] = choice
    out["choice_name"] = [CHOICE_NAMES[int(c)] for c in choice]
    served = choice >= 0
    out["power_w"] = np.where(choice == 0, p_direct, np.where(choice == 1, p_key, 0.0))
    out["bits"] = np.where(choice == 0, out["D_bits"], np.where(choice == 1, out["C_bits"], 0.0))
    out["quality"] = np.where(choice == 0, 1.0, np.where(choice == 1, out["alpha"], 0.0))
    snr = link.snr_db(out["power_w"].to_numpy(), out["gain"].to_numpy(), out["noise_w"].to_numpy(), out["loss_w"].to_numpy())
    out["snr_db"] = np.where(served, snr, np.nan)
    return out, solution


def read_users_csv(path: str | Path) -> pd.DataFrame:
    """A users CSV (columns at least :data:`REQUIRED_COLUMNS`), validated with clear messages."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: users file not found")
    try:
        users = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a readable CSV: {err}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in users.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}")
    rules = {
        "noise_w": (lambda v: v > 0, "> 0"),
        "gain": (lambda v: v > 0, "> 0"),
        "loss_w": (lambda v: v >= 0, ">= 0"),
        "D_bits": (lambda v: v >= 0, ">= 0"),
        "C_bits": (lambda v: v >= 0, ">= 0"),
        "alpha": (lambda v: (v > 0) & (v < 1), "in (0, 1)"),
    }
    for col, (ok_fn, rule) in rules.items():
        values = pd.to_numeric(users[col], errors="coerce").to_numpy(float)
        ok = ok_fn(values) & ~np.isnan(values)
        if not np.all(ok):
            i = int(np.argmin(ok))
            raise ValueError(
                f"{path}: column '{col}' row {i + 2} (line in file) = {users[col].iloc[i]!r}: must be a number {rule}"
            )
        users[col] = values
    if "user" not in users.columns:
        users.insert(0, "user", np.arange(len(users)))
    return users
