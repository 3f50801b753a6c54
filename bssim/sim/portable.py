"""Content sources that travel with a task: what a sweep sends to its workers.

A worker on a real cluster shares no disk with the process that measured the content, so it
must neither read a cache it does not have nor remeasure (possibly with other settings). The
sweep therefore measures once, here, and ships each point its options as a
:class:`SourcePayload`: the long measurement rows as Parquet bytes (a few kB to a few MB) plus the
media index; the worker rebuilds the :class:`~bssim.sim.sources.MeasuredSource` from them
(:meth:`~bssim.options.table.OptionTable.from_rows`, exactly how the measurement built it).
Declared sources are only their scenario settings and travel as they are.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bssim.options.catalog import MeasuredCatalog
from bssim.options.table import OptionTable
from bssim.sim.sources import DeclaredSource, MeasuredSource


@dataclass(frozen=True)
class SourcePayload:
    """A measured catalog as bytes: rows (Parquet), media names, items per media, shares, provenance."""

    rows_parquet: bytes
    media_names: list[str]
    media_items: list[list[int]]
    shares: list[float]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return len(self.rows_parquet)


def pack(source: Any) -> Any:
    """What a worker needs to rebuild ``source``: a :class:`SourcePayload` for measured content,
    the source itself for declared content."""
    if isinstance(source, DeclaredSource):
        return source
    if not isinstance(source, MeasuredSource):
        raise TypeError(f"cannot ship a content source of type {type(source).__name__} to workers")
    cat = source.catalog
    buf = io.BytesIO()
    cat.rows.to_parquet(buf, index=False)
    return SourcePayload(buf.getvalue(), list(cat.media_names), [np.asarray(m).tolist() for m in cat.media_items],
                         np.asarray(cat.shares, float).tolist(), dict(cat.provenance))


def unpack(payload: Any) -> Any:
    """The content source a :func:`pack` result stands for (no disk, no cache, no measurement)."""
    if not isinstance(payload, SourcePayload):
        return payload
    rows = pd.read_parquet(io.BytesIO(payload.rows_parquet))
    catalog = MeasuredCatalog(OptionTable.from_rows(rows), list(payload.media_names),
                              [np.asarray(m, np.int64) for m in payload.media_items],
                              np.asarray(payload.shares, float), rows, dict(payload.provenance))
    return MeasuredSource(catalog)
