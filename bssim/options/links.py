"""Link abstractions: what each option costs in transmit power (docs/model.md section 1).

A link model prices the :class:`~bssim.options.table.Offers` of one epoch on the users'
:class:`Channels` and returns a :class:`Menu`: per user and menu item the power in W
(``inf`` = infeasible) and the quality it delivers. Each model is self-consistent; a
scenario picks one (``[link] model``) and the measurement mode it needs (``mode``).

* ``shannon`` (seed 000 section IV, the default): an option is a real bitstream of d bits
  (``digital`` measurement); it arrives error-free when P ≥ P(d) = (N·(2^(d/(B·T)) − 1) + L)/G
  (:func:`bssim.link.required_power_w`), and its quality is that of the decoded bitstream.
  Menu = the options.
* ``analog`` (deep JSCC as the physical layer): an option sends k complex symbols within T
  (``analog`` measurement); at per-symbol SNR γ it needs P = (γ·N0·k/T + L)/G
  (:func:`bssim.link.analog_power_w`; infeasible if k > B·T) and delivers the quality
  measured at γ. Menu = options × the measured SNR levels (never extrapolated).

* ``nr`` (5G NR PDSCH through Sionna, :mod:`bssim.nr.link`): the same bitstreams at the MCS of
  link adaptation for a BLER target; P = (γ_MCS·N + L)/G; failures drawn after scheduling.

Link models register in :data:`LINK_MODELS` (name -> factory of the scenario's ``[link]``
settings, ``None`` = defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

from bssim import link
from bssim.options.table import Offers


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
    rate_level: np.ndarray  # (M,) int
    rate_label: tuple[str, ...]  # (M,)
    snr_level_db: np.ndarray  # (M,) target per-symbol SNR (analog), NaN otherwise
    policies: dict[str, np.ndarray]  # fixed policies: per user the item they use, -1 = none
    item_info: dict[str, np.ndarray] = field(default_factory=dict)  # link's own (N, M) columns, e.g. MCS

    @property
    def option_names(self) -> tuple[str, ...]:
        names = []
        for s, lab, snr in zip(self.scheme, self.rate_label, self.snr_level_db.tolist()):
            names.append(f"{s}/{lab}" + ("" if np.isnan(snr) else f"@{snr:g}dB"))
        return tuple(names)


class LinkModel(Protocol):
    """Prices offers on channels. ``mode``: the measurement it needs (``digital``/``analog``)."""

    name: str
    mode: str

    def price(self, offers: Offers, channels: Channels) -> Menu: ...


def _top_columns(scheme: tuple[str, ...], rate_level: np.ndarray, snr: np.ndarray, available: np.ndarray) -> dict:
    """The fixed policies' items: the scheme's highest rate level (and highest SNR level).

    ``all_direct``: direct at its top level (the seed's single-rate JSCC); ``all_key``: key at its
    top level where the user has it, else the ``all_direct`` item (the seed: a frame whose
    background match fails goes the direct way)."""
    n = available.shape[0]
    snr_key = np.where(np.isnan(snr), -np.inf, snr)

    def top(name: str) -> int:
        cols = [m for m, s in enumerate(scheme) if s == name]
        if not cols:
            return -1
        return max(cols, key=lambda m: (rate_level[m], snr_key[m]))

    d, k = top("direct"), top("key")
    all_direct = np.full(n, d, np.int64)
    if d >= 0:
        all_direct[~available[:, d]] = -1
    all_key = all_direct.copy()
    if k >= 0:
        all_key[available[:, k]] = k
    return {"all_direct": all_direct, "all_key": all_key}


@dataclass(frozen=True)
class ShannonLink:
    """Error-free bits at the Shannon rate (module docstring)."""

    name: str = "shannon"
    mode: str = "digital"

    def price(self, offers: Offers, channels: Channels) -> Menu:
        bits = offers.bits * offers.items[:, None]
        ok = np.isfinite(bits)
        power = link.required_power_w(np.where(ok, bits, 0.0), channels.delay_s, channels.bandwidth_hz[:, None],
                                      channels.noise_w[:, None], channels.gain[:, None], channels.loss_w[:, None])
        power = np.where(ok, power, np.inf)
        quality = {m: q[:, :, 0] for m, q in offers.quality.items()}
        m = offers.n_options
        snr = np.full(m, np.nan)
        return Menu(power, quality, bits, np.full_like(bits, np.nan), offers.scheme, offers.rate_level,
                    offers.rate_label, snr, _top_columns(offers.scheme, offers.rate_level, snr, ok))


@dataclass(frozen=True)
class AnalogLink:
    """Deep JSCC symbols over the air, one menu item per (option, SNR level) (module docstring)."""

    name: str = "analog"
    mode: str = "analog"

    def price(self, offers: Offers, channels: Channels) -> Menu:
        n, k = offers.symbols.shape
        s = offers.snr_db.size
        if np.isnan(offers.snr_db).any():
            raise ValueError("the analog link needs options measured at SNR levels (analog measurement)")
        sym = np.repeat(offers.symbols * offers.items[:, None], s, axis=1)  # (N, K·S), option-major
        snr = np.tile(offers.snr_db, k)
        ok = np.isfinite(sym)
        power = link.analog_power_w(snr[None, :], np.where(ok, sym, 0.0), channels.delay_s,
                                    channels.bandwidth_hz[:, None], channels.noise_w[:, None],
                                    channels.gain[:, None], channels.loss_w[:, None])
        power = np.where(ok, power, np.inf)
        quality = {m: q.reshape(n, k * s) for m, q in offers.quality.items()}
        scheme = tuple(np.repeat(np.array(offers.scheme, dtype=object), s).tolist())
        level = np.repeat(offers.rate_level, s)
        label = tuple(np.repeat(np.array(offers.rate_label, dtype=object), s).tolist())
        return Menu(power, quality, np.full_like(sym, np.nan), sym, scheme, level, label, snr,
                    _top_columns(scheme, level, snr, ok))


def _nr_link(settings: Any) -> LinkModel:
    from bssim.nr.link import NrLink  # imports Sionna on first pricing only

    return NrLink.from_settings(settings)


LINK_MODELS: dict[str, Callable[[Any], LinkModel]] = {
    "shannon": lambda settings: ShannonLink(), "analog": lambda settings: AnalogLink(), "nr": _nr_link,
}


def make_link(name: str, settings: Any = None) -> LinkModel:
    """The link model registered as ``name``, configured by a scenario's ``[link]`` ``settings``."""
    if name not in LINK_MODELS:
        raise ValueError(f"link model {name!r} unknown; choose one of {', '.join(LINK_MODELS)}")
    return LINK_MODELS[name](settings)
