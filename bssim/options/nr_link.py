"""The ``nr`` link model: each option's bitstream over 5G NR PDSCH (docs/model.md section "nr").

Pricing (per user n and option of d bits), with the carrier of :mod:`bssim.nr.phy`:

* capacity of MCS m in the delay bound: TBS_m(N_PRB)·K bits, K transport blocks of one slot.
  ``harq = "drop"``: K = S, the slots in T. ``"retransmit"``: K = the largest k with
  k + F_{1−ε}(k) ≤ S, F_{1−ε} the (1 − ε) quantile of the failed attempts before k successes
  (negative binomial, success 1 − ε per attempt, ε = BLER target), so that at the threshold
  SINR the whole item arrives within T with probability ≥ 1 − ε;
* the MCS used: the one with the lowest threshold SINR γ_m (TBLER ≤ ε) among those
  with TBS_m·K ≥ d; it needs k = ⌈d/TBS_m⌉ slots;
* power: P = (γ_m·N + L)/G (the seed's inversion with γ in place of 2^(d/BT) − 1);
  no MCS carries d bits in S slots → infeasible (inf).

Outcome (:meth:`NrLink.outcome`, after the scheduler): at the realised SINR
γ = (P·G − L)/N each of the k transport blocks fails with TBLER(m, γ) (Sionna's table).
``harq = "drop"``: the item arrives only if all k blocks decode. ``"retransmit"``: failed
blocks are sent again in the S − k spare slots (HARQ without soft combining: each attempt
fails independently with the same TBLER) until they decode or no slot is left.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bssim import link
from bssim.nr.phy import Carrier, McsGrid, code_block_bler, mcs_grid, transport_block_error_rate
from bssim.options.menu import Channels, Menu, fixed_policies
from bssim.options.table import Offers


def harq_blocks(n_slots: int, bler_target: float) -> int:
    """K: the most transport blocks that arrive within ``n_slots`` with probability ≥ 1 − ε
    when each attempt fails with ε (k + nbinom.ppf(1 − ε; k, 1 − ε) ≤ S, module docstring)."""
    from scipy.stats import nbinom

    if n_slots < 1:
        return 0
    k = np.arange(1, n_slots + 1)
    fits = k + nbinom.ppf(1.0 - bler_target, k, 1.0 - bler_target) <= n_slots
    return int(k[fits].max()) if fits.any() else 0


def _cheapest_mcs(grid: McsGrid, n_blocks: int, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index into ``grid``, threshold SINR dB) of the lowest-SINR MCS carrying ``bits``; −1/inf if none."""
    cap = grid.tbs_bits * n_blocks
    usable = np.isfinite(grid.threshold_sinr_db) & (cap > 0)
    if not usable.any():
        return np.full(bits.shape, -1), np.full(bits.shape, np.inf)
    pos = np.flatnonzero(usable)
    order = pos[np.argsort(cap[pos], kind="stable")]
    thr = grid.threshold_sinr_db[order]
    # suffix minimum of the threshold over capacity-sorted MCS: best MCS with capacity >= c
    best = np.empty(order.size, dtype=np.int64)
    best[-1] = order.size - 1
    for i in range(order.size - 2, -1, -1):
        best[i] = i if thr[i] < thr[best[i + 1]] else best[i + 1]
    at = np.searchsorted(cap[order], np.where(np.isfinite(bits), bits, np.inf), side="left")
    ok = at < order.size
    j = order[best[np.minimum(at, order.size - 1)]]
    return np.where(ok, j, -1), np.where(ok, grid.threshold_sinr_db[j], np.inf)


@dataclass(frozen=True)
class NrLink:
    """5G NR PDSCH with link adaptation for a BLER target (module docstring)."""

    carrier: Carrier = field(default_factory=Carrier)
    bler_target: float = 0.1
    harq: str = "retransmit"
    name: str = "nr"
    mode: str = "digital"

    def __post_init__(self) -> None:
        if not 0 < self.bler_target < 1:
            raise ValueError(f"bler_target = {self.bler_target}: must be in (0, 1)")
        if self.harq not in ("drop", "retransmit"):
            raise ValueError(f"harq = {self.harq!r}: must be 'drop' or 'retransmit'")

    @classmethod
    def from_settings(cls, settings) -> "NrLink":
        """From a scenario's ``[link]`` section (:class:`bssim.scenario.Link`)."""
        if settings is None:
            return cls()
        carrier = Carrier(settings.numerology, settings.pdsch_symbols, settings.dmrs_per_prb, settings.mcs_table)
        return cls(carrier, settings.bler_target, settings.harq)

    def price(self, offers: Offers, channels: Channels) -> Menu:
        bits = offers.bits * offers.items[:, None]
        n_prb = self.carrier.prbs(channels.bandwidth_hz)
        n_slots = self.carrier.slots(channels.delay_s)
        n_blocks = n_slots if self.harq == "drop" else harq_blocks(n_slots, self.bler_target)
        mcs = np.full(bits.shape, -1, np.int64)
        thr = np.full(bits.shape, np.inf)
        slots = np.zeros(bits.shape, np.int64)
        for prb in np.unique(n_prb):
            rows = n_prb == prb
            grid = mcs_grid(self.carrier, int(prb), float(self.bler_target))
            j, t = _cheapest_mcs(grid, n_blocks, bits[rows])
            thr[rows] = t
            if grid.mcs.size:
                jj = np.maximum(j, 0)
                mcs[rows] = np.where(j >= 0, grid.mcs[jj], -1)
                need = np.ceil(np.where(j >= 0, bits[rows], 0.0) / grid.tbs_bits[jj])
                slots[rows] = np.where(j >= 0, np.maximum(need, 1), 0).astype(np.int64)
        ok = np.isfinite(bits) & np.isfinite(thr)
        gamma = link.db_to_linear(np.where(ok, thr, 0.0))
        power = (gamma * channels.noise_w[:, None] + channels.loss_w[:, None]) / channels.gain[:, None]
        power = np.where(ok, power, np.inf)
        quality = {m: q[:, :, 0] for m, q in offers.quality.items()}
        snr = np.full(offers.n_options, np.nan)
        return Menu(power, quality, bits, np.full_like(bits, np.nan), offers.scheme, offers.codec,
                    offers.rate_level, offers.rate_label, snr,
                    fixed_policies(offers.scheme, offers.codec, offers.rate_level, snr, ok),
                    item_info={"nr_mcs": np.where(ok, mcs, -1), "nr_slots": np.where(ok, slots, 0),
                               "nr_threshold_sinr_db": np.where(ok, thr, np.nan)})

    def outcome(self, result, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Per user of an :class:`~bssim.epoch.EpochResult`: TBLER, HARQ retransmissions, delivered."""
        ch, c = result.inputs.channels, result.choice
        served = c >= 0
        rows, cc = np.arange(c.size), np.maximum(c, 0)
        info = result.menu.item_info
        mcs = np.where(served, info["nr_mcs"][rows, cc], -1) if c.size else np.zeros(0, np.int64)
        k = np.where(served, info["nr_slots"][rows, cc], 0) if c.size else np.zeros(0, np.int64)
        power = np.where(served, result.problem.power_w[rows, cc], 0.0) if c.size else np.zeros(0)
        sinr_db = link.snr_db(power, ch.gain, ch.noise_w, ch.loss_w)
        tbler = self.tbler(mcs, self.carrier.prbs(ch.bandwidth_hz), sinr_db)
        tbler = np.where(served, tbler, np.nan)
        p = np.where(served, np.clip(np.nan_to_num(tbler, nan=1.0, posinf=1.0), 0, 1), 0.0)
        failed = rng.binomial(k, p)
        spare = self.carrier.slots(ch.delay_s) - k if self.harq == "retransmit" else np.zeros_like(k)
        retx = np.zeros_like(k)
        while True:
            send = np.minimum(failed, spare)
            if not send.any():
                break
            retx, spare = retx + send, spare - send
            failed = failed - send + rng.binomial(send, p)
        return {"nr_tbler": tbler, "harq_retx": retx, "delivered": served & (failed == 0)}

    def tbler(self, mcs: np.ndarray, n_prb: np.ndarray, sinr_db: np.ndarray) -> np.ndarray:
        """TBLER of MCS ``mcs`` (−1: none → NaN) on ``n_prb`` PRBs at ``sinr_db`` (Sionna's tables)."""
        out = np.full(mcs.shape, np.nan)
        for prb in np.unique(n_prb):
            grid = mcs_grid(self.carrier, int(prb), float(self.bler_target))
            sel = (n_prb == prb) & (mcs >= 0)
            if not sel.any():
                continue
            j = np.searchsorted(grid.mcs, mcs[sel])
            bler = code_block_bler(mcs[sel], self.carrier.mcs_table, grid.cb_size[j], sinr_db[sel])
            out[sel] = transport_block_error_rate(bler, grid.num_cb[j])
        return out
