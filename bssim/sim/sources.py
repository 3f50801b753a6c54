"""Content sources: what each request asks for, as a menu of :class:`~bssim.options.table.Offers`.

Both sources are vectorised over users (one numpy call per epoch, no per-user Python):

* :class:`DeclaredSource` — D_n, C_n (or C_n/D_n), Q_direct and α_n drawn once per user,
  when the user joins, from the numbers or distributions in the scenario: two options,
  ``direct`` (D_n bits, quality Q_direct) and ``key`` (C_n bits, quality α_n·Q_direct), one
  rate level. Labelled ``declared`` in the results.
* :class:`MeasuredSource` — a :class:`~bssim.options.catalog.MeasuredCatalog`: each user
  watches one media entry (drawn by the entries' shares when it joins) from a random
  item on; its k-th request is the (start + k)-th item of that media, cycling. Labelled
  ``measured``.

Neither depends on the power budget or on the channel: the link model prices the options.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bssim.options.table import DECLARED_CODEC, Offers
from bssim.scenario import DeclaredContent, sample_value


@dataclass(frozen=True)
class RequestInfo:
    """Per request: which content (index into ``content_names``), which frame, key option offered."""

    content_id: np.ndarray
    frame: np.ndarray
    key_available: np.ndarray


class DeclaredSource:
    """Two options per user from the scenario's declared distributions (module docstring)."""

    source = "declared"

    def __init__(self, content: DeclaredContent, metric: str = "ssim"):
        self.content = content
        self.metric = metric
        self.content_names = ["declared"]

    def new_users(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """D_bits, C_bits, q_direct, q_key per new user; clear errors for impossible draws."""
        c = self.content
        d_bits = sample_value(c.D_bits, rng, n)
        c_bits = sample_value(c.C_bits, rng, n) if c.C_bits is not None else d_bits * sample_value(c.C_fraction, rng, n)
        alpha = sample_value(c.alpha, rng, n)
        q_direct = sample_value(c.q_direct, rng, n)
        checks = [("D_bits", d_bits, d_bits > 0, "> 0"), ("C_bits", c_bits, c_bits > 0, "> 0"),
                  ("alpha", alpha, alpha > 0, "> 0"), ("q_direct", q_direct, q_direct > 0, "> 0")]
        for name, values, ok, rule in checks:
            if not np.all(ok & np.isfinite(values)):
                i = int(np.argmin(ok & np.isfinite(values)))
                raise ValueError(f"content.{name}: user {i} drew {float(values[i])!r}, which is not {rule}; narrow the distribution")
        return {"D_bits": d_bits, "C_bits": c_bits, "q_direct": q_direct, "q_key": alpha * q_direct}

    def requests(self, attrs: dict[str, np.ndarray], idx: np.ndarray, counter: np.ndarray,
                 items: np.ndarray) -> tuple[Offers, RequestInfo]:
        n = idx.size
        bits = np.column_stack([attrs["D_bits"][idx], attrs["C_bits"][idx]]) if n else np.zeros((0, 2))
        q = np.column_stack([attrs["q_direct"][idx], attrs["q_key"][idx]]) if n else np.zeros((0, 2))
        offers = Offers(("direct", "key"), (DECLARED_CODEC, DECLARED_CODEC), np.zeros(2, np.int64), ("declared", "declared"), bits,
                        np.full_like(bits, np.nan), {self.metric: q[:, :, None]}, np.array([np.nan]),
                        np.asarray(items, np.int64))
        info = RequestInfo(np.zeros(n, np.int32), np.full(n, -1, np.int32), np.ones(n, bool))
        return offers, info


class MeasuredSource:
    """Requests served from a measured catalog (module docstring)."""

    source = "measured"

    def __init__(self, catalog):
        self.catalog = catalog
        self.content_names = list(catalog.media_names)
        self.provenance = catalog.provenance
        t = catalog.table
        key_cols = [k for k, s in enumerate(t.scheme) if s == "key"]
        available = np.isfinite(t.bits) | np.isfinite(t.symbols)
        self._key_available = available[:, key_cols].any(axis=1) if key_cols else np.zeros(t.n_items, bool)
        frames = t.item_info["frame"].to_numpy() if "frame" in t.item_info else np.full(t.n_items, -1)
        self._frame = np.asarray(frames, dtype=np.int64)

    def new_users(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        cat = self.catalog
        media = rng.choice(len(cat.media_items), size=n, p=cat.shares).astype(np.int32)
        counts = np.array([len(m) for m in cat.media_items], np.int64)
        offset = np.floor(rng.uniform(size=n) * counts[media]).astype(np.int64)
        return {"media": media, "item_offset": offset}

    def requests(self, attrs: dict[str, np.ndarray], idx: np.ndarray, counter: np.ndarray,
                 items: np.ndarray) -> tuple[Offers, RequestInfo]:
        cat = self.catalog
        media = attrs["media"][idx]
        item = np.empty(idx.size, np.int64)
        for m, members in enumerate(cat.media_items):
            sel = media == m
            if sel.any():
                item[sel] = members[(attrs["item_offset"][idx][sel] + counter[sel]) % members.size]
        info = RequestInfo(media, self._frame[item], self._key_available[item])
        return cat.table.offers(item, items), info
