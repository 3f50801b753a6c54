"""The priced menu and the users' channels: what every link model takes and returns.

:class:`Channels` is the per-user link state of one epoch; :class:`Menu` the options priced in
W. :func:`fixed_policies` picks the items of the fixed policies ``all_direct`` / ``all_key``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Channels:
    """Per-user link state of one epoch (SI units): G_n, N_n (W over B), L_n (W), B_n (Hz), T (s)."""

    gain: np.ndarray
    noise_w: np.ndarray
    loss_w: np.ndarray
    bandwidth_hz: np.ndarray
    delay_s: float

    @property
    def n_users(self) -> int:
        return int(self.gain.size)


@dataclass(frozen=True)
class Menu:
    """Priced menu of N users × M items. ``power_w`` inf = the item cannot be used."""

    power_w: np.ndarray  # (N, M)
    quality: dict[str, np.ndarray]  # metric -> (N, M)
    bits: np.ndarray  # (N, M) bits sent (digital links), NaN otherwise
    symbols: np.ndarray  # (N, M) channel uses (analog link), NaN otherwise
    scheme: tuple[str, ...]  # (M,)
    codec: tuple[str, ...]  # (M,)
    rate_level: np.ndarray  # (M,) int
    rate_label: tuple[str, ...]  # (M,)
    snr_level_db: np.ndarray  # (M,) target per-symbol SNR (analog), NaN otherwise
    policies: dict[str, np.ndarray]  # fixed policies: per user the item they use, -1 = none
    item_info: dict[str, np.ndarray] = field(default_factory=dict)  # link's own (N, M) columns, e.g. MCS

    @property
    def option_names(self) -> tuple[str, ...]:
        names = []
        for s, c, lab, snr in zip(self.scheme, self.codec, self.rate_label, self.snr_level_db.tolist()):
            names.append(f"{s}/{c}/{lab}" + ("" if np.isnan(snr) else f"@{snr:g}dB"))
        return tuple(names)


def fixed_policies(scheme: tuple[str, ...], codec: tuple[str, ...], rate_level: np.ndarray, snr: np.ndarray,
                   available: np.ndarray) -> dict[str, np.ndarray]:
    """The fixed policies' items per user: the scheme's highest rate level (and SNR level) that
    the user has, in the menu's first codec.

    ``all_direct``: direct at its top level (the seed's single-rate transmission); ``all_key``:
    key at its top level where the user has it, else the ``all_direct`` item (the seed: a frame
    whose background match fails goes the direct way). -1 = none. available: (N, M) bool."""
    n = available.shape[0]
    first = codec[0] if codec else None
    snr_key = np.where(np.isnan(snr), -np.inf, snr)

    def top(name: str) -> np.ndarray:
        cols = [m for m, (s, c) in enumerate(zip(scheme, codec)) if s == name and c == first]
        cols.sort(key=lambda m: (rate_level[m], snr_key[m]))
        pick = np.full(n, -1, np.int64)
        for m in cols:  # ascending: the last available column wins
            pick[available[:, m]] = m
        return pick

    all_direct = top("direct")
    key = top("key")
    all_key = np.where(key >= 0, key, all_direct)
    return {"all_direct": all_direct, "all_key": all_key}
