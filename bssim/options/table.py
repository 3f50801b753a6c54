"""Offers: the options each request could be served with, before any link model prices them.

An option's identity is (scheme, codec, rate label): what is sent (:mod:`bssim.schemes`), how
it is coded (:mod:`bssim.codecs`), and at which rate level (an effective resolution scale ×
the codec's setting). An :class:`OptionTable` holds the measured (or declared) options of
every content item as dense arrays, one column per option identity, so that the options of a
whole epoch's requests are gathered with one fancy index (:meth:`OptionTable.offers`):

* ``bits[i, k]``     bits of option k of item i (digital measurements), NaN = not available;
* ``symbols[i, k]``  complex channel uses (analog measurements), NaN = not available;
* ``quality[m][i, k, s]`` quality metric m at SNR level s (one level, NaN SNR, for digital).

Items of different sizes may have different rate labels (the effective scale after the
``max_pixels`` cap): each has NaN in the columns it lacks. ``rate_level`` numbers a
column within its (scheme, codec) from the cheapest (0) by nominal size s²·setting.
:class:`Offers` is that view for the N requests of one epoch, with the items per request
(a request of several video frames costs their sum; each frame has the option's quality).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bssim.metrics import QUALITY_METRICS
from bssim.schemes import scheme_names

DECLARED_CODEC = "declared"
"""The codec column of options given by number (declared content, CSV menus), not measured."""


def known_schemes() -> tuple[str, ...]:
    """Every scheme a menu may offer: the registry's (:mod:`bssim.schemes`)."""
    return scheme_names()


@dataclass(frozen=True)
class Offers:
    """The menu of each of N requests before pricing: (N, K) arrays, quality (N, K, S)."""

    scheme: tuple[str, ...]  # (K,)
    codec: tuple[str, ...]  # (K,)
    rate_level: np.ndarray  # (K,) int, 0 = cheapest level of its scheme and codec
    rate_label: tuple[str, ...]  # (K,)
    bits: np.ndarray  # (N, K) per item, NaN = unavailable
    symbols: np.ndarray  # (N, K) per item, NaN = unavailable
    quality: dict[str, np.ndarray]  # metric -> (N, K, S)
    snr_db: np.ndarray  # (S,) SNR levels of the quality axis; [NaN] for digital
    items: np.ndarray  # (N,) items in each request (>= 1)

    @property
    def n_users(self) -> int:
        return int(self.items.size)

    @property
    def n_options(self) -> int:
        return len(self.scheme)

    def column(self, scheme: str, rate_level: int, codec: str | None = None) -> int:
        """Index of option (scheme, [codec,] rate level), or -1 when the menu has none."""
        for k, (s, c, r) in enumerate(zip(self.scheme, self.codec, self.rate_level.tolist())):
            if s == scheme and r == rate_level and (codec is None or c == codec):
                return k
        return -1


def _columns(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per option identity (scheme, codec, rate_label), ordered scheme (registry order,
    then others alphabetically), codec (order of appearance), rate level (by nominal size)."""
    nominal = rows["nominal"] if "nominal" in rows else rows["rate_level"].astype(float)
    scale = rows["scale"] if "scale" in rows else pd.Series(1.0, index=rows.index)
    opts = (rows.assign(_n=nominal, _s=scale).groupby(["scheme", "codec", "rate_label"], sort=False)
            .agg(_n=("_n", "median"), _s=("_s", "max"), _r=("rate_level", "min")).reset_index())
    if "nominal" in rows:  # measured: number the labels of a (scheme, codec) by nominal size
        opts = opts.sort_values(["_n", "_s"], ascending=[True, False])
        opts["rate_level"] = opts.groupby(["scheme", "codec"]).cumcount()
    else:  # declared / CSV: the given rate levels
        opts["rate_level"] = opts["_r"].astype(np.int64)
    s_order = {s: i for i, s in enumerate(known_schemes())}
    c_order = {c: i for i, c in enumerate(dict.fromkeys(rows["codec"]))}
    opts = opts.assign(_o=opts["scheme"].map(lambda s: s_order.get(s, len(s_order))), _c=opts["codec"].map(c_order))
    return opts.sort_values(["_o", "scheme", "_c", "rate_level"]).reset_index(drop=True)


@dataclass
class OptionTable:
    """Options of every content item (see module docstring); rows = items, columns = options."""

    item_names: list[str]
    scheme: tuple[str, ...]
    codec: tuple[str, ...]
    rate_level: np.ndarray
    rate_label: tuple[str, ...]
    bits: np.ndarray
    symbols: np.ndarray
    quality: dict[str, np.ndarray]
    snr_db: np.ndarray
    item_info: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_items(self) -> int:
        return len(self.item_names)

    def offers(self, item: np.ndarray, items_per_request: np.ndarray | None = None) -> Offers:
        """The menus of requests for ``item`` (indices into this table)."""
        item = np.asarray(item, dtype=np.int64)
        count = np.ones(item.size, np.int64) if items_per_request is None else np.asarray(items_per_request, np.int64)
        return Offers(self.scheme, self.codec, self.rate_level, self.rate_label, self.bits[item], self.symbols[item],
                      {m: q[item] for m, q in self.quality.items()}, self.snr_db, count)

    @classmethod
    def from_rows(cls, rows: pd.DataFrame, item_column: str = "item") -> "OptionTable":
        """Build from long rows: ``item, scheme, codec, rate_level, rate_label, snr_db, bits,
        symbols`` + metrics (``codec`` defaults to ``declared``; ``nominal`` and ``scale``, when
        present, number the rate levels). Items keep the order of first appearance; SNR levels
        ascending (NaN for digital)."""
        if rows.empty:
            raise ValueError("option table: no measured rows")
        rows = rows if "codec" in rows else rows.assign(codec=DECLARED_CODEC)
        names = list(dict.fromkeys(rows[item_column].astype(str)))
        opts = _columns(rows)
        snrs = np.unique(rows["snr_db"].to_numpy(float)) if rows["snr_db"].notna().any() else np.array([np.nan])
        metrics = [m for m in QUALITY_METRICS if m in rows and rows[m].notna().any()]
        i_idx = rows[item_column].astype(str).map({n: i for i, n in enumerate(names)}).to_numpy()
        k_map = {key: k for k, key in enumerate(zip(opts["scheme"], opts["codec"], opts["rate_label"]))}
        k_idx = np.array([k_map[key] for key in zip(rows["scheme"], rows["codec"], rows["rate_label"])])
        s_idx = np.zeros(len(rows), np.int64) if np.isnan(snrs[0]) else np.searchsorted(snrs, rows["snr_db"].to_numpy(float))
        shape = (len(names), len(k_map))
        bits, symbols = np.full(shape, np.nan), np.full(shape, np.nan)
        bits[i_idx, k_idx] = rows["bits"].to_numpy(float)
        symbols[i_idx, k_idx] = rows["symbols"].to_numpy(float)
        quality = {}
        for m in metrics:
            q = np.full(shape + (snrs.size,), np.nan)
            q[i_idx, k_idx, s_idx] = rows[m].to_numpy(float)
            quality[m] = q
        info = rows.drop_duplicates(item_column).set_index(item_column)
        keep = [c for c in ("content", "frame", "matched", "n_boxes", "height", "width") if c in info]
        return cls(names, tuple(opts["scheme"]), tuple(opts["codec"]), opts["rate_level"].to_numpy(np.int64),
                   tuple(opts["rate_label"]), bits, symbols, quality, snrs, info[keep].reindex(names).reset_index())
