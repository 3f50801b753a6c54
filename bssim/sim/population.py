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
from bssim.cell import basic_pathloss_db, large_scale, place_uniform_disc
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
    indoor: np.ndarray  # TR 38.901 O2I user
    pathloss_db: np.ndarray  # basic path loss + O2I penetration loss
    o2i_loss_db: np.ndarray  # O2I penetration loss (0 outdoors), fixed per user
    shadowing_db: np.ndarray
    shadowing_std_db: np.ndarray
    decorrelation_m: np.ndarray  # shadowing decorrelation distance (TR 38.901 Table 7.5-6)
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

    def move_to(self, cell: Cell, x_m: np.ndarray, y_m: np.ndarray, rng: np.random.Generator) -> None:
        """New positions: path loss from the new distance (LOS, indoor state and O2I loss kept),
        shadowing updated along the path with its spatial correlation
        (:func:`bssim.link.correlated_shadowing_db`, stream ``rng``)."""
        moved = np.hypot(x_m - self.x_m, y_m - self.y_m)
        self.x_m, self.y_m, self.distance_m = x_m, y_m, np.hypot(x_m, y_m)
        self.pathloss_db = basic_pathloss_db(cell, self.distance_m, self.los) + self.o2i_loss_db
        self.shadowing_db = link.correlated_shadowing_db(self.shadowing_db, moved, self.shadowing_std_db,
                                                         self.decorrelation_m, rng)
        self.gain_ls = link.db_to_linear(cell.antenna_gain_db - self.pathloss_db - self.shadowing_db)

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
        heading_rad=zeros.copy(), los=ls["los"].to_numpy(bool), indoor=ls["indoor"].to_numpy(bool),
        pathloss_db=pl, o2i_loss_db=ls["o2i_loss_db"].to_numpy(float), shadowing_db=sh,
        shadowing_std_db=ls["shadowing_std_db"].to_numpy(float), decorrelation_m=ls["decorrelation_m"].to_numpy(float),
        gain_ls=link.db_to_linear(cell.antenna_gain_db - pl - sh), fading=np.ones(n),
        join_s=np.full(n, float(t_s)), leave_s=np.full(n, np.inf), phase_s=zeros.copy(),
        counter=np.zeros(n, dtype=np.int64),
    )
