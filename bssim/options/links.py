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

* ``nr`` (5G NR PDSCH through Sionna, :mod:`bssim.options.nr_link`): the same bitstreams at the MCS of
  link adaptation for a BLER target; P = (γ_MCS·N + L)/G; failures drawn after scheduling.

Link models register in :data:`LINK_MODELS` (name -> factory of the scenario's ``[link]``
settings, ``None`` = defaults).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from bssim import link
from bssim.options.menu import Channels, Menu, fixed_policies
from bssim.options.nr_link import NrLink
from bssim.options.table import Offers

__all__ = ["AnalogLink", "Channels", "LINK_MODELS", "LinkModel", "Menu", "ShannonLink", "make_link"]


class LinkModel(Protocol):
    """Prices offers on channels. ``mode``: the measurement it needs (``digital``/``analog``)."""

    name: str
    mode: str

    def price(self, offers: Offers, channels: Channels) -> Menu: ...


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
        return Menu(power, quality, bits, np.full_like(bits, np.nan), offers.scheme, offers.codec, offers.rate_level,
                    offers.rate_label, snr, fixed_policies(offers.scheme, offers.codec, offers.rate_level, snr, ok))


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
        codec = tuple(np.repeat(np.array(offers.codec, dtype=object), s).tolist())
        level = np.repeat(offers.rate_level, s)
        label = tuple(np.repeat(np.array(offers.rate_label, dtype=object), s).tolist())
        return Menu(power, quality, np.full_like(sym, np.nan), sym, scheme, codec, level, label, snr,
                    fixed_policies(scheme, codec, level, snr, ok))


LINK_MODELS: dict[str, Callable[[Any], LinkModel]] = {
    "shannon": lambda settings: ShannonLink(), "analog": lambda settings: AnalogLink(), "nr": NrLink.from_settings,
}


def make_link(name: str, settings: Any = None) -> LinkModel:
    """The link model registered as ``name``, configured by a scenario's ``[link]`` ``settings``."""
    if name not in LINK_MODELS:
        raise ValueError(f"link model {name!r} unknown; choose one of {', '.join(LINK_MODELS)}")
    return LINK_MODELS[name](settings)
