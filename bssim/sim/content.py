"""Content adapters: what each request asks for (D_n, C_n, α_n) — declared or measured.

Two sources, both vectorised over users (one numpy call per epoch, no per-user Python):

* :class:`DeclaredSource` — D_n, C_n (or C_n/D_n) and α_n drawn once per user, when the
  user joins, from the numbers / distributions written in the scenario (``[content]
  source = "declared"``). Every request of that user has the same values. Labelled
  ``declared`` in the results.
* :class:`MeasuredSource` — a table measured by the pipeline (``bssim.pipeline``) on real
  media: one row per (content item, frame, SNR) with ``D_bits, C_bits, q_direct, q_key,
  alpha, matched``. Each user watches one content item (drawn when it joins) starting at a
  random frame; its k-th request is the (start + k)-th measured frame, cycling. Labelled
  ``measured`` in the results.

**Operating-point SNR (measured content).** The JSCC's payload and quality depend on the
channel SNR it is run at, while the power the scheduler allocates depends on the payload,
so the SNR at the *allocated* power would be circular. bssim therefore fixes each user's
operating point before scheduling, from its large-scale channel only:

    snr_op = (P_ref · G_ls − L) / N,    G_ls = antenna gain × path gain × shadowing (fading mean 1)
    P_ref  = content.operating_power_w, default P_max / users.count (the fair share of the budget)

and D_n, C_n, α_n are linearly interpolated in dB between the two neighbouring SNRs of the
measured grid (clamped to the grid's ends; no extrapolation). ``snr_op`` changes only when
the user moves (mobility) and is recorded as ``operating_snr_db``. The matched flag is taken
at the nearest grid SNR; a frame whose background matching failed has no key option
(P_n1 = ∞, seed section II: the frame goes the direct way).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bssim.cell import declared_content
from bssim.scenario import DeclaredContent

#: A measured α is floored at ALPHA_MIN (the scheduler needs quality > 0) but not capped: a
#: measured q_key above q_direct (the key path pastes the people onto a clean library
#: background, which can beat deep JSCC of the whole frame) stays α ≥ 1, and the scheduler
#: then prefers the key option (:func:`bssim.epoch.seed_problem`). The unfloored value is
#: recorded as ``alpha_measured``.
ALPHA_MIN, ALPHA_MAX = 1e-6, np.inf


@dataclass
class Requests:
    """What the pending requests of one epoch ask for (arrays aligned with the users passed in)."""

    D_bits: np.ndarray
    C_bits: np.ndarray
    alpha: np.ndarray
    key_ok: np.ndarray  # bool: key-information option available
    content_id: np.ndarray  # int index into ``Source.content_names``
    frame: np.ndarray  # int frame index (-1 for declared content)
    alpha_measured: np.ndarray | None = None  # measured Q_key / Q_direct before flooring at ALPHA_MIN


class DeclaredSource:
    """Per-user D_n, C_n, α_n from the scenario's declared distributions."""

    source = "declared"

    def __init__(self, content: DeclaredContent):
        self.content = content
        self.content_names = ["declared"]

    def new_users(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        c = declared_content(self.content, rng, n)
        return {k: c[k].to_numpy(float) for k in ("D_bits", "C_bits", "alpha")}

    def requests(self, attrs: dict[str, np.ndarray], idx: np.ndarray, counter: np.ndarray) -> Requests:
        n = idx.size
        return Requests(
            D_bits=attrs["D_bits"][idx],
            C_bits=attrs["C_bits"][idx],
            alpha=attrs["alpha"][idx],
            key_ok=np.ones(n, dtype=bool),
            content_id=np.zeros(n, dtype=np.int32),
            frame=np.full(n, -1, dtype=np.int32),
        )

    def interp(self, attrs: dict[str, np.ndarray], idx: np.ndarray, snr_op_db: np.ndarray) -> None:
        """Declared content does not depend on the operating SNR."""


@dataclass
class MeasuredSource:
    """Measured (content, frame, SNR) table → per-request D_n, C_n, α_n at each user's operating SNR."""

    table: pd.DataFrame
    source: str = "measured"
    content_names: list[str] = field(init=False)

    REQUIRED = ("content", "frame", "snr_db", "D_bits", "C_bits", "alpha", "matched")

    def __post_init__(self) -> None:
        t = self.table
        missing = [c for c in self.REQUIRED if c not in t.columns]
        if missing:
            raise ValueError(f"measurement table lacks column(s) {', '.join(missing)}; needs {', '.join(self.REQUIRED)}")
        if t.empty:
            raise ValueError("measurement table is empty: no frames were measured")
        grid = np.sort(t["snr_db"].unique().astype(float))
        self.snr_grid_db = grid
        names = sorted(t["content"].astype(str).unique())
        self.content_names = names
        rows_d, rows_c, rows_a, rows_m, starts, counts, frames = [], [], [], [], [], [], []
        r = 0
        for name in names:
            sub = t[t["content"].astype(str) == name]
            piv = {col: sub.pivot_table(index="frame", columns="snr_db", values=col, aggfunc="mean")
                   for col in ("D_bits", "C_bits", "alpha")}
            matched = sub.pivot_table(index="frame", columns="snr_db", values="matched", aggfunc="min")
            fr = piv["D_bits"].index.to_numpy()
            complete = np.ones(fr.size, dtype=bool)
            for p in (*piv.values(), matched):
                p2 = p.reindex(index=fr, columns=grid)
                complete &= ~p2.isna().any(axis=1).to_numpy()
            if not complete.any():
                raise ValueError(f"measurement table: content {name!r} has no frame measured at every SNR of {list(grid)}")
            keep = fr[complete]
            rows_d.append(piv["D_bits"].reindex(index=keep, columns=grid).to_numpy(float))
            rows_c.append(piv["C_bits"].reindex(index=keep, columns=grid).to_numpy(float))
            rows_a.append(piv["alpha"].reindex(index=keep, columns=grid).to_numpy(float))
            rows_m.append(matched.reindex(index=keep, columns=grid).to_numpy().astype(bool))
            starts.append(r)
            counts.append(keep.size)
            frames.append(keep.astype(np.int32))
            r += keep.size
        self.D = np.vstack(rows_d)
        self.C = np.vstack(rows_c)
        self.A_raw = np.vstack(rows_a)
        self.A = np.clip(self.A_raw, ALPHA_MIN, ALPHA_MAX)
        self.M = np.vstack(rows_m)
        self.frame_of_row = np.concatenate(frames)
        self.start = np.asarray(starts, dtype=np.int64)
        self.count = np.asarray(counts, dtype=np.int64)
        if np.any(self.D <= 0) or np.any(self.C <= 0):
            raise ValueError("measurement table has D_bits or C_bits <= 0")

    def new_users(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        content_id = rng.integers(0, len(self.content_names), size=n).astype(np.int32)
        offset = np.floor(rng.uniform(size=n) * self.count[content_id]).astype(np.int64)
        return {
            "content_id": content_id,
            "frame_offset": offset,
            "snr_lo": np.zeros(n, dtype=np.int64),
            "snr_w": np.zeros(n),
        }

    def interp(self, attrs: dict[str, np.ndarray], idx: np.ndarray, snr_op_db: np.ndarray) -> None:
        """Store each user's interpolation point on the SNR grid (lower index, weight), clamped."""
        g = self.snr_grid_db
        s = np.clip(np.asarray(snr_op_db, dtype=float), g[0], g[-1])
        if g.size == 1:
            attrs["snr_lo"][idx] = 0
            attrs["snr_w"][idx] = 0.0
            return
        lo = np.clip(np.searchsorted(g, s, side="right") - 1, 0, g.size - 2)
        attrs["snr_lo"][idx] = lo
        attrs["snr_w"][idx] = (s - g[lo]) / (g[lo + 1] - g[lo])

    def requests(self, attrs: dict[str, np.ndarray], idx: np.ndarray, counter: np.ndarray) -> Requests:
        cid = attrs["content_id"][idx]
        row = self.start[cid] + (attrs["frame_offset"][idx] + counter) % self.count[cid]
        lo = attrs["snr_lo"][idx]
        w = attrs["snr_w"][idx]
        hi = np.minimum(lo + 1, self.snr_grid_db.size - 1)

        def at(m: np.ndarray) -> np.ndarray:
            return (1.0 - w) * m[row, lo] + w * m[row, hi]

        nearest = np.where(w < 0.5, lo, hi)
        return Requests(
            D_bits=at(self.D),
            C_bits=at(self.C),
            alpha=np.clip(at(self.A), ALPHA_MIN, ALPHA_MAX),
            key_ok=self.M[row, nearest],
            content_id=cid,
            frame=self.frame_of_row[row],
            alpha_measured=at(self.A_raw),
        )
