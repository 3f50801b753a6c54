"""Association by the strongest RSRP and the A3 handover rule (3GPP TS 38.331 event A3,
"neighbour becomes offset better than serving"), with time to trigger counted in epochs.

RSRP is the reference-signal power: every sector sends it at the same power spectral density,
so comparing RSRP is comparing the large-scale gains G_ls (antenna, path loss, shadowing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class HandoverState:
    """Per user (N,): serving sector, the A3 candidate (−1 none), epochs it has held, handovers so far."""

    serving: np.ndarray
    target: np.ndarray
    held: np.ndarray
    count: np.ndarray

    @classmethod
    def attach(cls, rsrp_db: np.ndarray) -> "HandoverState":
        """New users attach to the strongest sector."""
        n = rsrp_db.shape[0]
        return cls(np.argmax(rsrp_db, axis=1).astype(np.int64), np.full(n, -1, np.int64), np.zeros(n, np.int64),
                   np.zeros(n, np.int64))


def a3_step(state: HandoverState, rsrp_db: np.ndarray, offset_db: float, time_to_trigger: int) -> np.ndarray:
    """One epoch of A3 for every user (in place): a user whose strongest neighbour exceeds the
    serving RSRP by more than ``offset_db`` for ``time_to_trigger`` epochs in a row hands over to
    it. Returns the (N,) mask of users handed over this epoch."""
    rows = np.arange(state.serving.size)
    best = np.argmax(rsrp_db, axis=1)
    entering = (best != state.serving) & (rsrp_db[rows, best] > rsrp_db[rows, state.serving] + offset_db)
    state.held = np.where(entering & (best == state.target), state.held + 1, np.where(entering, 1, 0))
    state.target = np.where(entering, best, -1)
    handed = entering & (state.held >= time_to_trigger)
    state.serving = np.where(handed, best, state.serving)
    state.count = state.count + handed
    state.held = np.where(handed, 0, state.held)
    state.target = np.where(handed, -1, state.target)
    return handed
