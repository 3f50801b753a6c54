"""Random instances for tests and benchmarks (not for results: real instances come from the
link model and measured qualities).

* :func:`random_problem` -- seed-style (K = 2): P_n0 (direct) lognormal, P_n1 = P_n0 · u with
  u ~ U(u_low, u_high), alpha ~ U(alpha_low, alpha_high), and P_max = the sum of the
  ``served_fraction`` · N smallest key powers, i.e. that fraction of the users could be
  served if everybody used the key option.
* :func:`random_menu_problem` -- menus shaped like the real problem: schemes (direct, key)
  × rate levels, Shannon-inversion powers over ~55 dB of channel gains, concave qualities,
  unavailable options, fixed policies.
"""

from __future__ import annotations

import numpy as np

from .problem import Problem


def random_problem(
    n_users: int,
    seed: int,
    *,
    median_direct_w: float = 0.5,
    sigma: float = 1.0,
    u_low: float = 0.05,
    u_high: float = 0.6,
    alpha_low: float = 0.5,
    alpha_high: float = 0.95,
    served_fraction: float = 0.5,
    infeasible_fraction: float = 0.0,
) -> Problem:
    """A seed-style instance (K = 2: direct, key). ``infeasible_fraction`` of the options get
    power ``np.inf`` (link model overflow), drawn independently."""
    if n_users < 0:
        raise ValueError(f"n_users must be >= 0; got {n_users}")
    if not 0.0 <= served_fraction <= 1.0:
        raise ValueError(f"served_fraction = {served_fraction}; allowed [0, 1]")
    rng = np.random.default_rng(seed)
    p0 = median_direct_w * np.exp(sigma * rng.standard_normal(n_users))
    p1 = p0 * rng.uniform(u_low, u_high, n_users)
    alpha = rng.uniform(alpha_low, alpha_high, n_users)
    if infeasible_fraction > 0:
        p0[rng.random(n_users) < infeasible_fraction] = np.inf
        p1[rng.random(n_users) < infeasible_fraction] = np.inf
    finite_key = np.sort(p1[np.isfinite(p1)])
    m = int(round(served_fraction * n_users))
    p_max = float(finite_key[:m].sum())
    return Problem.seed(p0, p1, alpha, p_max)


def random_menu_problem(
    n_users: int,
    n_options: int,
    seed: int,
    *,
    cell_radius_m: float = 500.0,
    shadowing_db: float = 8.0,
    bandwidth_hz: float = 1e6,
    delay_s: float = 0.1,
    noise_figure_db: float = 7.0,
    median_top_se: float = 2.5,
    bits_spread: float = 10.0,
    key_fraction: float = 0.6,
    unavailable_fraction: float = 0.05,
    served_fraction: float = 0.5,
    max_power_w: float = 1e3,
) -> Problem:
    """A menu instance shaped like the real problem: schemes × rate levels per user.

    Channel: users uniform in a disc (35 m .. ``cell_radius_m``), gain = -(128.1 + 37.6·log10
    d_km) dB - shadowing (σ = ``shadowing_db``), a spread of ~50 dB; noise k·T0·B·NF.
    Schemes: ``direct`` (ceil(K/2) rate levels) and ``key`` (the other floor(K/2); exists for
    ``key_fraction`` of the users, its payload u ~ U(0.05, 0.6) of the direct one). Rate
    levels: bits d = f·D, f geometric from 1/``bits_spread`` to 1, with the top direct payload
    D = s·B·T, s lognormal (median ``median_top_se`` bit/s/Hz, σ 0.3). Power by Shannon
    inversion P = N·(2^(d/(B·T)) - 1)/G (exponential in bits; > ``max_power_w`` = np.inf).
    Quality concave increasing in bits: q = q_top·(1 - e^(-3f))/(1 - e^(-3)), q_top ~
    U(0.85, 1) for direct and α·that for key, α ~ U(0.5, 0.95); so q in (0, 1].
    ``unavailable_fraction`` of the remaining options are np.inf at random. P_max = the sum
    of the ``served_fraction``·N smallest per-user cheapest powers: about that fraction of the
    users can be served. Policies: ``all_direct`` = the top direct level, ``all_key`` = the top
    key level where the key path exists, else the top direct level (the seed's fallback)."""
    if n_users < 0 or n_options < 1:
        raise ValueError(f"need n_users >= 0 and n_options >= 1; got {n_users}, {n_options}")
    rng = np.random.default_rng(seed)
    n_dir = (n_options + 1) // 2
    n_key = n_options - n_dir
    r0 = 35.0
    d_m = np.sqrt(rng.uniform(r0**2, cell_radius_m**2, n_users))
    gain_db = -(128.1 + 37.6 * np.log10(d_m / 1000.0)) - shadowing_db * rng.standard_normal(n_users)
    noise_w = 10.0 ** ((-174.0 + 10 * np.log10(bandwidth_hz) + noise_figure_db - 30.0) / 10.0)
    top_bits = median_top_se * np.exp(0.3 * rng.standard_normal(n_users)) * bandwidth_hz * delay_s
    key_u = rng.uniform(0.05, 0.6, n_users)
    has_key = rng.random(n_users) < key_fraction
    q_top = rng.uniform(0.85, 1.0, n_users)
    alpha = rng.uniform(0.5, 0.95, n_users)

    def levels(n):
        return np.geomspace(1.0 / bits_spread, 1.0, n) if n > 1 else np.ones(n)

    f = np.concatenate([levels(n_dir), levels(n_key)])
    scheme_top = np.concatenate([np.ones(n_dir), np.zeros(n_key)])  # 1 = direct
    bits = top_bits[:, None] * np.where(scheme_top == 1, 1.0, key_u[:, None]) * f[None, :]
    shape = (1.0 - np.exp(-3.0 * f)) / (1.0 - np.exp(-3.0))
    quality = q_top[:, None] * np.where(scheme_top == 1, 1.0, alpha[:, None]) * shape[None, :]
    se = bits / (bandwidth_hz * delay_s)
    power = noise_w * np.expm1(se * np.log(2.0)) / 10.0 ** (gain_db[:, None] / 10.0)
    power[power > max_power_w] = np.inf
    power[:, n_dir:][~has_key] = np.inf
    power[rng.random(power.shape) < unavailable_fraction] = np.inf
    names = tuple([f"direct/r{i}" for i in range(n_dir)] + [f"key/r{i}" for i in range(n_key)])
    top_dir = np.full(n_users, n_dir - 1, dtype=np.int64)
    top_key = np.where(has_key, n_options - 1, n_dir - 1) if n_key else top_dir
    cheapest = np.sort(power.min(axis=1)) if n_users else np.zeros(0)
    cheapest = cheapest[np.isfinite(cheapest)]
    p_max = float(cheapest[: int(round(served_fraction * n_users))].sum())
    return Problem(power, quality, p_max, names, {"all_direct": top_dir, "all_key": top_key})


def hetero_menu_problem(
    n_users: int,
    n_options: int,
    seed: int,
    *,
    gain_low: float = 1e-12,
    gain_high: float = 1e-9,
    noise_w: float = 1e-13,
    bandwidth_hz: float = 1e6,
    delay_s: float = 0.1,
    p_max_w: float = 50.0,
) -> Problem:
    """Heterogeneous gains (issue 19): gains log-uniform in [``gain_low``, ``gain_high``] (powers
    spread over decades), the same quality ladder for every user: ``direct`` with K/2 rate
    levels, bits 200 k..1 M, quality 0.50..0.82, and ``key`` with K/2 levels, bits 50 k..250 k,
    quality 0.55..0.87 (linear ladders), loss 0. Power by Shannon inversion P = N·(2^(d/(B·T)) - 1)/G.
    The CSV form (``bssim solve --users``) is :func:`hetero_menu_rows`."""
    if n_users < 0 or n_options < 2 or n_options % 2:
        raise ValueError(f"need n_users >= 0 and an even n_options >= 2; got {n_users}, {n_options}")
    rng = np.random.default_rng(seed)
    gain = np.exp(rng.uniform(np.log(gain_low), np.log(gain_high), n_users))
    bits, quality, names = _hetero_ladder(n_options // 2)
    se = bits / (bandwidth_hz * delay_s)
    power = noise_w * np.expm1(se * np.log(2.0))[None, :] / gain[:, None]
    q = np.broadcast_to(quality, power.shape)
    return Problem(power, q, p_max_w, names)


def _hetero_ladder(levels: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """(bits, quality, option names) of :func:`hetero_menu_problem`'s ladder, direct then key."""
    bits = np.concatenate([np.linspace(200e3, 1e6, levels), np.linspace(50e3, 250e3, levels)])
    quality = np.concatenate([np.linspace(0.50, 0.82, levels), np.linspace(0.55, 0.87, levels)])
    names = tuple([f"direct/r{i}" for i in range(levels)] + [f"key/r{i}" for i in range(levels)])
    return bits, quality, names


def hetero_menu_rows(n_users: int, n_options: int, seed: int, *, gain_low: float = 1e-12,
                     gain_high: float = 1e-9, noise_w: float = 1e-13) -> list[dict]:
    """The long-format CSV rows (user, scheme, rate_level, bits, quality, gain, noise_w,
    loss_w) of :func:`hetero_menu_problem` with the same seed (same gains)."""
    rng = np.random.default_rng(seed)
    gain = np.exp(rng.uniform(np.log(gain_low), np.log(gain_high), n_users))
    bits, quality, names = _hetero_ladder(n_options // 2)
    return [{"user": u, "scheme": name.split("/")[0], "rate_level": int(name.split("/r")[1]), "bits": int(b),
             "quality": round(float(q), 4), "gain": float(g), "noise_w": noise_w, "loss_w": 0.0}
            for u, g in enumerate(gain.tolist()) for name, b, q in zip(names, bits.tolist(), quality.tolist())]
