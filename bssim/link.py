"""Link model: unit conversions, thermal noise, path loss, fading, Shannon rate and its inversion.

Pure, vectorised numpy functions. Internally SI (W, Hz, s, m); dB quantities say so in
their name. Sources:

- rate and inversion: seed 000 section IV, with a bandwidth B added (DESIGN.md section 2);
- thermal noise: N = k·T0·B·NF;
- UMa / UMi street-canyon path loss and LOS probability: 3GPP TR 38.901 V17, Table 7.4.1-1
  and Table 7.4.2-1, valid for 0.5–100 GHz (checked: a carrier outside raises ValueError);
- outdoor-to-indoor (O2I) penetration loss: TR 38.901 §7.4.3.1, Tables 7.4.3-1 and -2;
- shadow-fading std and its decorrelation distance: TR 38.901 Table 7.4.1-1 and Table 7.5-6
  (exponential autocorrelation, Gudmundson's model, TR 38.901 §7.6.3.1);
- log-distance path loss with log-normal shadowing: Rappaport, *Wireless Communications*, 4.9.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

BOLTZMANN_J_PER_K = 1.380649e-23
REFERENCE_TEMPERATURE_K = 290.0
SPEED_OF_LIGHT_M_PER_S = 299_792_458.0

#: Transmit powers above this are "beyond any physical base station" and reported as
#: infeasible (a megawatt; macro cells radiate tens of watts).
MAX_PHYSICAL_POWER_W = 1.0e6

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------- units
def db_to_linear(value_db: ArrayLike) -> FloatArray:
    """10^(x/10)."""
    return np.power(10.0, np.asarray(value_db, dtype=float) / 10.0)


def linear_to_db(value: ArrayLike) -> FloatArray:
    """10·log10(x); x must be > 0."""
    value = np.asarray(value, dtype=float)
    if np.any(value <= 0):
        raise ValueError("linear_to_db needs strictly positive values")
    return 10.0 * np.log10(value)


def dbm_to_w(power_dbm: ArrayLike) -> FloatArray:
    """P[W] = 10^((P[dBm] − 30)/10)."""
    return db_to_linear(np.asarray(power_dbm, dtype=float) - 30.0)


def w_to_dbm(power_w: ArrayLike) -> FloatArray:
    """P[dBm] = 10·log10(P[W]) + 30; P must be > 0."""
    return linear_to_db(power_w) + 30.0


# --------------------------------------------------------------------------- noise
def thermal_noise_w(
    bandwidth_hz: ArrayLike,
    noise_figure_db: ArrayLike = 0.0,
    temperature_k: float = REFERENCE_TEMPERATURE_K,
) -> FloatArray:
    """Receiver noise power N = k·T0·B·NF in W (−174 dBm/Hz at 290 K, plus NF)."""
    bandwidth_hz = np.asarray(bandwidth_hz, dtype=float)
    if np.any(bandwidth_hz <= 0):
        raise ValueError("bandwidth_hz must be > 0")
    return BOLTZMANN_J_PER_K * temperature_k * bandwidth_hz * db_to_linear(noise_figure_db)


# --------------------------------------------------------------------------- path loss
#: TR 38.901 validity range of the carrier frequency (§7.4.1: 0.5–100 GHz), in Hz.
TR38901_CARRIER_RANGE_HZ = (0.5e9, 100e9)


def check_tr38901_carrier(carrier_hz: float, where: str) -> float:
    """``carrier_hz`` if TR 38.901 covers it (0.5–100 GHz), else a ValueError naming the value.

    Catches the usual slip of a carrier in GHz where Hz are expected (5.0 instead of 5e9),
    which the formulas would silently turn into a negative path loss.
    """
    f = float(carrier_hz)
    lo, hi = TR38901_CARRIER_RANGE_HZ
    if not lo <= f <= hi:
        hint = f" (in Hz: {f:g} GHz is {f * 1e9:g})" if 0 < f <= 100 else ""
        raise ValueError(f"{where}: carrier_hz = {f:g} Hz is outside TR 38.901's 0.5–100 GHz{hint}")
    return f


def _check_positive_carrier(carrier_hz: float, where: str) -> float:
    f = float(carrier_hz)
    if not (np.isfinite(f) and f >= 1e6):
        raise ValueError(f"{where}: carrier_hz = {f:g} Hz must be a frequency in Hz (>= 1 MHz; 3.5 GHz is 3.5e9)")
    return f


def free_space_pathloss_db(distance_m: ArrayLike, carrier_hz: float) -> FloatArray:
    """Friis: 20·log10(4π·d·f/c)."""
    carrier_hz = _check_positive_carrier(carrier_hz, "free_space_pathloss_db")
    d = np.asarray(distance_m, dtype=float)
    return 20.0 * np.log10(4.0 * np.pi * d * carrier_hz / SPEED_OF_LIGHT_M_PER_S)


def log_distance_pathloss_db(
    distance_m: ArrayLike,
    carrier_hz: float,
    exponent: float = 3.5,
    reference_distance_m: float = 1.0,
) -> FloatArray:
    """PL(d) = FSPL(d0) + 10·n·log10(d/d0), for d ≥ d0 (closer users are clamped to d0)."""
    d = np.maximum(np.asarray(distance_m, dtype=float), reference_distance_m)
    return free_space_pathloss_db(reference_distance_m, carrier_hz) + 10.0 * exponent * np.log10(
        d / reference_distance_m
    )


def _breakpoint_distance_m(h_bs_m: float, h_ut_m: float, carrier_hz: float) -> float:
    """d'_BP = 4·h'_BS·h'_UT·f_c/c with effective heights h' = h − 1 m (TR 38.901 note 1)."""
    return 4.0 * (h_bs_m - 1.0) * (h_ut_m - 1.0) * carrier_hz / SPEED_OF_LIGHT_M_PER_S


def _distance_3d_m(distance_2d_m: FloatArray, h_bs_m: float, h_ut_m: float) -> FloatArray:
    return np.sqrt(distance_2d_m**2 + (h_bs_m - h_ut_m) ** 2)


#: TR 38.901 Table 7.4.1-1 coefficients, f_c in GHz, distances in m:
#: LOS  PL1 = a + b1·log10(d3D) + 20·log10(fc);  PL2 = a + 40·log10(d3D) + 20·log10(fc) − c·log10(d'_BP² + Δh²)
#: NLOS PL' = n0 + n1·log10(d3D) + n2·log10(fc) − n3·(h_UT − 1.5);  PL_NLOS = max(PL_LOS, PL')
_TR38901 = {
    "uma": {"a": 28.0, "b1": 22.0, "c": 9.0, "n0": 13.54, "n1": 39.08, "n2": 20.0, "n3": 0.6},
    "umi": {"a": 32.4, "b1": 21.0, "c": 9.5, "n0": 22.4, "n1": 35.3, "n2": 21.3, "n3": 0.3},
}


def _tr38901_pathloss_db(
    model: str, distance_2d_m: ArrayLike, carrier_hz: float, los: ArrayLike, h_bs_m: float, h_ut_m: float
) -> FloatArray:
    k = _TR38901[model]
    carrier_hz = check_tr38901_carrier(carrier_hz, f"{model}_pathloss_db")
    d2 = np.maximum(np.asarray(distance_2d_m, dtype=float), 10.0)  # the model's 10 m minimum
    d3 = _distance_3d_m(d2, h_bs_m, h_ut_m)
    log_fc = np.log10(carrier_hz / 1e9)
    d_bp = _breakpoint_distance_m(h_bs_m, h_ut_m, carrier_hz)
    pl1 = k["a"] + k["b1"] * np.log10(d3) + 20.0 * log_fc
    pl2 = k["a"] + 40.0 * np.log10(d3) + 20.0 * log_fc - k["c"] * np.log10(d_bp**2 + (h_bs_m - h_ut_m) ** 2)
    pl_los = np.where(d2 <= d_bp, pl1, pl2)
    pl_nlos = k["n0"] + k["n1"] * np.log10(d3) + k["n2"] * log_fc - k["n3"] * (h_ut_m - 1.5)
    return np.where(np.asarray(los, dtype=bool), pl_los, np.maximum(pl_los, pl_nlos))


def uma_pathloss_db(
    distance_2d_m: ArrayLike,
    carrier_hz: float,
    los: ArrayLike,
    h_bs_m: float = 25.0,
    h_ut_m: float = 1.5,
) -> FloatArray:
    """3GPP TR 38.901 UMa path loss in dB (Table 7.4.1-1), f_c in GHz inside the formula.

    LOS:  PL1 = 28 + 22·log10(d3D) + 20·log10(fc)                      for d2D ≤ d'_BP
          PL2 = 28 + 40·log10(d3D) + 20·log10(fc) − 9·log10(d'_BP² + (h_BS − h_UT)²)
    NLOS: max(PL_LOS, 13.54 + 39.08·log10(d3D) + 20·log10(fc) − 0.6·(h_UT − 1.5))
    Distances below the model's 10 m minimum are clamped to 10 m.
    """
    return _tr38901_pathloss_db("uma", distance_2d_m, carrier_hz, los, h_bs_m, h_ut_m)


def umi_pathloss_db(
    distance_2d_m: ArrayLike,
    carrier_hz: float,
    los: ArrayLike,
    h_bs_m: float = 10.0,
    h_ut_m: float = 1.5,
) -> FloatArray:
    """3GPP TR 38.901 UMi street-canyon path loss in dB (Table 7.4.1-1).

    LOS:  PL1 = 32.4 + 21·log10(d3D) + 20·log10(fc)                    for d2D ≤ d'_BP
          PL2 = 32.4 + 40·log10(d3D) + 20·log10(fc) − 9.5·log10(d'_BP² + (h_BS − h_UT)²)
    NLOS: max(PL_LOS, 22.4 + 35.3·log10(d3D) + 21.3·log10(fc) − 0.3·(h_UT − 1.5))
    """
    return _tr38901_pathloss_db("umi", distance_2d_m, carrier_hz, los, h_bs_m, h_ut_m)


def los_probability(
    distance_2d_m: ArrayLike, model: Literal["uma", "umi"], h_ut_m: float = 1.5
) -> FloatArray:
    """LOS probability, TR 38.901 Table 7.4.2-1.

    UMi: 1 for d ≤ 18 m, else 18/d + exp(−d/36)·(1 − 18/d).
    UMa: 1 for d ≤ 18 m, else [18/d + exp(−d/63)·(1 − 18/d)]·(1 + C'(h_UT)·5/4·(d/100)³·exp(−d/150)),
    C'(h) = 0 for h ≤ 13 m, ((h − 13)/10)^1.5 for 13 < h ≤ 23 m.
    """
    d = np.maximum(np.asarray(distance_2d_m, dtype=float), 1e-9)
    if model == "umi":
        p = 18.0 / d + np.exp(-d / 36.0) * (1.0 - 18.0 / d)
    elif model == "uma":
        c_h = 0.0 if h_ut_m <= 13.0 else ((h_ut_m - 13.0) / 10.0) ** 1.5
        p = (18.0 / d + np.exp(-d / 63.0) * (1.0 - 18.0 / d)) * (
            1.0 + c_h * 1.25 * (d / 100.0) ** 3 * np.exp(-d / 150.0)
        )
    else:
        raise ValueError(f"los_probability: model must be 'uma' or 'umi', got {model!r}")
    return np.where(d <= 18.0, 1.0, np.clip(p, 0.0, 1.0))


#: Shadow-fading standard deviations in dB, TR 38.901 Table 7.4.1-1 (LOS / NLOS) and
#: Table 7.5-6 Part-1 (O2I: 7 dB for UMa and UMi).
SHADOWING_STD_DB = {("uma", True): 4.0, ("uma", False): 6.0, ("umi", True): 4.0, ("umi", False): 7.82}
O2I_SHADOWING_STD_DB = {"uma": 7.0, "umi": 7.0}

#: Shadow-fading decorrelation distances in m, TR 38.901 Table 7.5-6 Part-1 ("correlation
#: distance" of SF): UMa LOS 37, NLOS 50, O2I 7; UMi LOS 10, NLOS 13, O2I 7.
SHADOWING_DECORRELATION_M = {("uma", True): 37.0, ("uma", False): 50.0, ("umi", True): 10.0, ("umi", False): 13.0}
O2I_SHADOWING_DECORRELATION_M = {"uma": 7.0, "umi": 7.0}


def correlated_shadowing_db(
    shadowing_db: ArrayLike, moved_m: ArrayLike, sigma_db: ArrayLike, decorrelation_m: ArrayLike,
    rng: np.random.Generator,
) -> FloatArray:
    """Shadowing after a move of ``moved_m``: the AR(1) update of an exponentially correlated field.

    S' = ρ·S + sqrt(1 − ρ²)·σ·z,  ρ = exp(−Δd/d_corr),  z ~ N(0, 1)

    Gudmundson's model (exponential spatial autocorrelation R(Δd) = exp(−Δd/d_corr)), which
    TR 38.901 §7.5 / §7.6.3.1 uses for the large-scale parameters, with d_corr from Table 7.5-6.
    Along a user's path it keeps S ~ N(0, σ²) and corr(S(x), S(x + Δd)) = exp(−Δd/d_corr);
    a user that did not move keeps its shadowing exactly.
    """
    s = np.asarray(shadowing_db, dtype=float)
    rho = np.exp(-np.abs(np.asarray(moved_m, dtype=float)) / np.asarray(decorrelation_m, dtype=float))
    return rho * s + np.sqrt(1.0 - rho**2) * np.asarray(sigma_db, dtype=float) * rng.standard_normal(s.shape)


# --------------------------------------------------------------------------- O2I
#: TR 38.901 Table 7.4.3-1 material penetration losses in dB, f in GHz (V17; V19 changed
#: IRR glass to 25.4 + 0.11·f, bssim follows V17 like the rest of this module).
def material_loss_db(material: str, carrier_hz: float) -> float:
    """L = a + b·f (f in GHz): standard glass 2 + 0.2f, IRR glass 23 + 0.3f, concrete 5 + 4f, wood 4.85 + 0.12f."""
    f = check_tr38901_carrier(carrier_hz, "material_loss_db") / 1e9
    coeffs = {"glass": (2.0, 0.2), "irr_glass": (23.0, 0.3), "concrete": (5.0, 4.0), "wood": (4.85, 0.12)}
    if material not in coeffs:
        raise ValueError(f"material_loss_db: material {material!r} unknown; choose one of {', '.join(coeffs)}")
    a, b = coeffs[material]
    return a + b * f


#: O2I building penetration models, TR 38.901 Table 7.4.3-2: (material shares), σ_P in dB.
O2I_MODELS = {
    "low": ({"glass": 0.3, "concrete": 0.7}, 4.4),
    "high": ({"irr_glass": 0.7, "concrete": 0.3}, 6.5),
}


def o2i_wall_loss_db(model: Literal["low", "high"], carrier_hz: float) -> float:
    """Loss through the external wall, TR 38.901 Table 7.4.3-2:

    low:  PL_tw = 5 − 10·log10(0.3·10^(−L_glass/10) + 0.7·10^(−L_concrete/10))
    high: PL_tw = 5 − 10·log10(0.7·10^(−L_IRRglass/10) + 0.3·10^(−L_concrete/10))
    """
    if model not in O2I_MODELS:
        raise ValueError(f"o2i model must be 'low' or 'high', got {model!r}")
    shares, _ = O2I_MODELS[model]
    total = sum(w * 10.0 ** (-material_loss_db(m, carrier_hz) / 10.0) for m, w in shares.items())
    return 5.0 - 10.0 * math.log10(total)


def o2i_penetration_loss_db(
    model: Literal["low", "high"], carrier_hz: float, indoor_distance_m: ArrayLike, rng: np.random.Generator | None = None,
) -> FloatArray:
    """O2I penetration loss PL_tw + PL_in + N(0, σ_P²), TR 38.901 §7.4.3.1 (eq. 7.4-2).

    PL_in = 0.5·d_2D-in (dB, d in m); σ_P = 4.4 dB (low loss) or 6.5 dB (high loss). Without
    ``rng`` the random part is left out (its mean, 0). The total path loss of an indoor user
    is PL_b(d_3D-out + d_3D-in) + this.
    """
    d_in = np.asarray(indoor_distance_m, dtype=float)
    if np.any(d_in < 0):
        raise ValueError("o2i_penetration_loss_db: indoor_distance_m must be >= 0")
    loss = o2i_wall_loss_db(model, carrier_hz) + 0.5 * d_in
    if rng is not None:
        loss = loss + O2I_MODELS[model][1] * rng.standard_normal(d_in.shape)
    return loss


def indoor_distance_m(rng: np.random.Generator, n: int, max_m: float = 25.0) -> FloatArray:
    """d_2D-in = min of two independent U(0, max) draws (TR 38.901 Table 7.4.3-2 note, 25 m for UMa/UMi)."""
    return np.minimum(rng.uniform(0.0, max_m, size=n), rng.uniform(0.0, max_m, size=n))


# --------------------------------------------------------------------------- fading
def rayleigh_power_gain(rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
    """|h|² for h ~ CN(0, 1): exponential with mean 1."""
    return rng.exponential(1.0, size=size)


def rician_power_gain(
    rng: np.random.Generator, k_factor_db: float, size: int | tuple[int, ...]
) -> FloatArray:
    """|h|² for h = √(K/(K+1)) + √(1/(K+1))·CN(0, 1), mean 1; K = LOS-to-scatter power ratio."""
    k = float(db_to_linear(k_factor_db))
    scatter = (rng.standard_normal(size) + 1j * rng.standard_normal(size)) / np.sqrt(2.0)
    h = np.sqrt(k / (k + 1.0)) + np.sqrt(1.0 / (k + 1.0)) * scatter
    return np.abs(h) ** 2


# --------------------------------------------------------------------------- Shannon
def rate_bps(
    power_w: ArrayLike,
    gain: ArrayLike,
    noise_w: ArrayLike,
    bandwidth_hz: ArrayLike,
    loss_w: ArrayLike = 0.0,
) -> FloatArray:
    """r = B·log2(1 + (P·G − L)/N) in bit/s; 0 when the received power P·G does not exceed L.

    Seed 000 section IV with bandwidth B (DESIGN.md section 2; B = 1 Hz gives the seed's formula).
    """
    received_w = np.asarray(power_w, dtype=float) * np.asarray(gain, dtype=float) - np.asarray(
        loss_w, dtype=float
    )
    snr = np.maximum(received_w, 0.0) / np.asarray(noise_w, dtype=float)
    return np.asarray(bandwidth_hz, dtype=float) * np.log2(1.0 + snr)


def required_power_w(
    bits: ArrayLike,
    delay_s: float | ArrayLike,
    bandwidth_hz: float | ArrayLike,
    noise_w: ArrayLike,
    gain: ArrayLike,
    loss_w: ArrayLike = 0.0,
    max_power_w: float = MAX_PHYSICAL_POWER_W,
) -> FloatArray:
    """Power that delivers ``bits`` within ``delay_s``: P(d) = (N·(2^(d/(B·T)) − 1) + L)/G.

    The inversion of :func:`rate_bps` with r = d/T (DESIGN.md section 2). Computed without
    overflow: the requirement is compared with ``max_power_w`` in the log domain first, and
    any requirement above it (including those whose 2^(d/BT) would overflow a float) is
    returned as ``np.inf``, meaning *infeasible for this option*. Schedulers never choose an
    option whose power is ``inf``. Zero bits need only the loss, L/G.
    """
    bits = np.asarray(bits, dtype=float)
    delay_s = np.asarray(delay_s, dtype=float)
    bandwidth_hz = np.asarray(bandwidth_hz, dtype=float)
    noise_w = np.asarray(noise_w, dtype=float)
    gain = np.asarray(gain, dtype=float)
    loss_w = np.asarray(loss_w, dtype=float)
    for name, arr, strictly in (
        ("bits", bits, False),
        ("delay_s", delay_s, True),
        ("bandwidth_hz", bandwidth_hz, True),
        ("noise_w", noise_w, True),
        ("gain", gain, True),
        ("loss_w", loss_w, False),
    ):
        bad = np.isnan(arr) | ((arr <= 0) if strictly else (arr < 0))
        if np.any(bad):
            first = np.asarray(arr).ravel()[np.argmax(np.asarray(bad).ravel())]
            rule = "> 0" if strictly else ">= 0"
            raise ValueError(f"required_power_w: {name} must be {rule} and not NaN, got {first!r}")
    if not max_power_w > 0:
        raise ValueError(f"required_power_w: max_power_w must be > 0, got {max_power_w!r}")

    exponent_bits = bits / (bandwidth_hz * delay_s)  # d/(B·T), spectral efficiency needed
    # ln of the noise term N·(2^e − 1)/G, bounded above by e·ln2 + ln(N/G); compare in logs.
    log_noise_term_upper = exponent_bits * math.log(2.0) + np.log(noise_w / gain)
    log_cap = math.log(max_power_w)
    representable = log_noise_term_upper <= log_cap + 1.0  # safe: exp(<= ~15) never overflows
    safe_exponent = np.where(representable, exponent_bits, 0.0)
    power = (noise_w * np.expm1(safe_exponent * math.log(2.0)) + loss_w) / gain
    power = np.where(representable, power, np.inf)
    return np.where(power <= max_power_w, power, np.inf)


def analog_power_w(
    snr_db: ArrayLike,
    symbols: ArrayLike,
    delay_s: float | ArrayLike,
    bandwidth_hz: float | ArrayLike,
    noise_w: ArrayLike,
    gain: ArrayLike,
    loss_w: ArrayLike = 0.0,
    max_power_w: float = MAX_PHYSICAL_POWER_W,
) -> FloatArray:
    """Power that sends k complex symbols within T at per-symbol SNR γ: P = (γ·N0·k/T + L)/G.

    The analog (deep JSCC) link of DESIGN.md section 2: k symbols in T occupy k/T Hz of the
    user's band, whose noise is N0·k/T with N0 = N/B, so the per-symbol SNR at power P is
    (P·G − L)/(N0·k/T). Infeasible (``np.inf``) when k/T > B (the symbols do not fit in the
    band within T) or when the power exceeds ``max_power_w``.
    """
    gamma = db_to_linear(snr_db)
    k = np.asarray(symbols, dtype=float)
    delay_s = np.asarray(delay_s, dtype=float)
    bandwidth_hz = np.asarray(bandwidth_hz, dtype=float)
    n0 = np.asarray(noise_w, dtype=float) / bandwidth_hz
    power = (gamma * n0 * k / delay_s + np.asarray(loss_w, dtype=float)) / np.asarray(gain, dtype=float)
    fits = k <= bandwidth_hz * delay_s * (1.0 + 1e-12)
    return np.where(fits & (power <= max_power_w), power, np.inf)


def snr_db(power_w: ArrayLike, gain: ArrayLike, noise_w: ArrayLike, loss_w: ArrayLike = 0.0) -> FloatArray:
    """Received SNR in dB, 10·log10((P·G − L)/N); −inf-free: floored at −300 dB."""
    received_w = np.asarray(power_w, dtype=float) * np.asarray(gain, dtype=float) - np.asarray(
        loss_w, dtype=float
    )
    ratio = np.maximum(received_w / np.asarray(noise_w, dtype=float), 1e-30)
    return 10.0 * np.log10(ratio)
