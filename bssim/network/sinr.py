"""Signal to interference plus noise (docs/model.md, "Network: interference").

A sector spreads its transmit power P_k uniformly over the system band W that every sector
reuses, so its power spectral density is P_k / W. A user n served by sector s(n) on its own
band B_n receives from every other sector k the interference

    I_n = Σ_{k ≠ s(n)} (P_k / W) · B_n · G_ls[n, k]

with G_ls the large-scale gain (antenna pattern, path loss, shadowing: fast fading averages
out over the band). The link models then price every option at the effective noise N + I_n,
i.e. at the SINR. P_k: 0 (``none``), P_max (``full_buffer``) or the power sector k used in the
previous epoch (``load``).
"""

from __future__ import annotations

import numpy as np

from bssim import link


def interference_w(gain_ls: np.ndarray, serving: np.ndarray, sector_power_w: np.ndarray, band_hz: np.ndarray,
                   system_band_hz: float) -> np.ndarray:
    """(N,) interference in W on each user's band (module docstring); ``gain_ls`` (N, K) linear."""
    psd = np.asarray(sector_power_w, float) / float(system_band_hz)
    rx = gain_ls * psd[None, :]
    rx[np.arange(serving.size), serving] = 0.0
    return rx.sum(axis=1) * np.asarray(band_hz, float)


def ratio_db(signal_w: np.ndarray, noise_w: np.ndarray) -> np.ndarray:
    """10·log10(S / N)."""
    return link.linear_to_db(np.maximum(signal_w, 1e-300)) - link.linear_to_db(noise_w)


def geometry(gain_ls_db: np.ndarray, power_w: float, noise_w: float) -> dict[str, np.ndarray]:
    """Full-buffer calibration quantities of a drop, per user (TR 38.901 §7.8.1 metrics):
    serving sector (max RSRP), coupling loss (dB, its gain), geometry SINR P·G_s/(Σ_{k≠s} P·G_k + N)
    and SIR (no noise), in dB; ``noise_w`` over the whole system band."""
    g = link.db_to_linear(gain_ls_db)
    serving = np.argmax(gain_ls_db, axis=1)
    rows = np.arange(serving.size)
    signal = power_w * g[rows, serving]
    interference = power_w * g.sum(axis=1) - signal
    return {"serving": serving, "coupling_loss_db": gain_ls_db[rows, serving],
            "geometry_sinr_db": ratio_db(signal, interference + noise_w), "sir_db": ratio_db(signal, interference)}
