"""The users in the cell: positions, large-scale channel, fading, life cycle, content state.

One :class:`Population` holds every user as parallel numpy arrays (one row per user), so an
epoch's work is a handful of vectorised operations whatever the number of users. The
content source keeps its own per-user state in ``content`` (its :meth:`new_users` output).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from bssim import link
from bssim.cell import large_scale, place_uniform_disc
from bssim.scenario import Cell


@dataclass
class Population:
    """Per-user state (SI units, angles in rad; dB where the name says so)."""

    uid: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    distance_m: np.ndarray
    heading_rad: np.ndarray
    los: np.ndarray
    pathloss_db: np.ndarray
    shadowing_db: np.ndarray
    gain_ls: np.ndarray  # large-scale power gain: antenna gain × path gain × shadowing (linear)
    fading: np.ndarray  # block-fading power gain |h|² (mean 1)
    join_s: np.ndarray
    leave_s: np.ndarray
    phase_s: np.ndarray  # video: time of the first frame after joining
    counter: np.ndarray  # items requested so far
    content: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.uid.size)

    def _arrays(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self) if f.name != "content"]

    def extend(self, other: "Population") -> None:
        """Append ``other``'s users (in place)."""
        for name in self._arrays():
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))
        self.content = {k: np.concatenate([v, other.content[k]]) for k, v in self.content.items()} if self.content \
            else dict(other.content)

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the users where ``mask`` is True (in place)."""
        for name in self._arrays():
            setattr(self, name, getattr(self, name)[mask])
        self.content = {k: v[mask] for k, v in self.content.items()}

    def channel_gain(self, idx: np.ndarray) -> np.ndarray:
        """G_n = large-scale gain × |h|² for users ``idx``."""
        return self.gain_ls[idx] * self.fading[idx]


def place_users(cell: Cell, n: int, first_uid: int, t_s: float, g_place, g_ls) -> Population:
    """``n`` new users at time ``t_s``: positions, LOS, path loss and shadowing (life cycle and
    content are filled in by the engine)."""
    x, y = place_uniform_disc(g_place, n, cell.radius_m, cell.min_distance_m)
    d = np.hypot(x, y)
    ls = large_scale(cell, d, g_ls)
    pl = ls["pathloss_db"].to_numpy(float)
    sh = ls["shadowing_db"].to_numpy(float)
    zeros = np.zeros(n)
    return Population(
        uid=np.arange(first_uid, first_uid + n, dtype=np.int64), x_m=x, y_m=y, distance_m=d,
        heading_rad=zeros.copy(), los=ls["los"].to_numpy(bool), pathloss_db=pl, shadowing_db=sh,
        gain_ls=link.db_to_linear(cell.antenna_gain_db - pl - sh), fading=np.ones(n),
        join_s=np.full(n, float(t_s)), leave_s=np.full(n, np.inf), phase_s=zeros.copy(),
        counter=np.zeros(n, dtype=np.int64),
    )
