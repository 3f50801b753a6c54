"""Offers: the options each request could be served with, before any link model prices them.

An :class:`OptionTable` holds the measured (or declared) options of every content item as
dense arrays, one column per option identity (scheme, rate level), so that the options of a
whole epoch's requests are gathered with one fancy index (:meth:`OptionTable.offers`):

* ``bits[i, k]``     bits of option k of item i (digital measurements), NaN = not available;
* ``symbols[i, k]``  complex channel uses (analog measurements), NaN = not available;
* ``quality[m][i, k, s]`` quality metric m at SNR level s (one level, NaN SNR, for digital).

:class:`Offers` is that view for the N requests of one epoch, with the items per request
(a request of several video frames costs their sum; each frame has the option's quality).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bssim.metrics import QUALITY_METRICS

SCHEMES = ("direct", "key", "direct_semantic", "key_semantic")
"""Every scheme a menu may offer: the whole frame or key information, each through the MSE-trained
JSCC or through the seed-002 semantic-importance fine-tune (``content.semantic_checkpoint``)."""


def known_schemes() -> tuple[str, ...]:
    """The scheme names an option may carry (menus read from CSV are checked against it).
    The one place to repoint at a scheme registry."""
    return SCHEMES


SCHEME_WORDS = {"direct": "direct", "key": "key information", "direct_semantic": "direct, semantic JSCC",
                "key_semantic": "key information, semantic JSCC"}  # fmt: skip


@dataclass(frozen=True)
class Offers:
    """The menu of each of N requests before pricing: (N, K) arrays, quality (N, K, S)."""

    scheme: tuple[str, ...]
    rate_level: np.ndarray  # (K,) int, 0 = cheapest level of its scheme
    rate_label: tuple[str, ...]
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

    def column(self, scheme: str, rate_level: int) -> int:
        """Index of option (scheme, rate level), or -1 when the menu has none."""
        for k, (s, r) in enumerate(zip(self.scheme, self.rate_level.tolist())):
            if s == scheme and r == rate_level:
                return k
        return -1


@dataclass
class OptionTable:
    """Options of every content item (see module docstring); rows = items, columns = options."""

    item_names: list[str]
    scheme: tuple[str, ...]
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
        return Offers(self.scheme, self.rate_level, self.rate_label, self.bits[item], self.symbols[item],
                      {m: q[item] for m, q in self.quality.items()}, self.snr_db, count)

    @classmethod
    def from_rows(cls, rows: pd.DataFrame, item_column: str = "item") -> "OptionTable":
        """Build from long rows: ``item, scheme, rate_level, rate_label, snr_db, bits, symbols`` + metrics.

        Items keep the order of first appearance; options are ordered scheme (direct, key,
        then others alphabetically) then rate level; SNR levels ascending (NaN for digital)."""
        if rows.empty:
            raise ValueError("option table: no measured rows")
        names = list(dict.fromkeys(rows[item_column].astype(str)))
        opts = rows[["scheme", "rate_level", "rate_label"]].drop_duplicates(["scheme", "rate_level"])
        order = {s: i for i, s in enumerate(SCHEMES)}
        opts = opts.assign(_o=opts["scheme"].map(lambda s: order.get(s, len(order)))).sort_values(["_o", "scheme", "rate_level"])
        snrs = np.unique(rows["snr_db"].to_numpy(float)) if rows["snr_db"].notna().any() else np.array([np.nan])
        metrics = [m for m in QUALITY_METRICS if m in rows and rows[m].notna().any()]
        i_idx = rows[item_column].astype(str).map({n: i for i, n in enumerate(names)}).to_numpy()
        k_map = {(s, int(r)): k for k, (s, r) in enumerate(zip(opts["scheme"], opts["rate_level"]))}
        k_idx = np.array([k_map[(s, int(r))] for s, r in zip(rows["scheme"], rows["rate_level"])])
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
        return cls(names, tuple(opts["scheme"]), opts["rate_level"].to_numpy(np.int64), tuple(opts["rate_label"]),
                   bits, symbols, quality, snrs, info[keep].reindex(names).reset_index())
