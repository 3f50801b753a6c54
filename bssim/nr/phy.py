"""5G NR PDSCH resources, MCS, TBS and BLER through Sionna (docs/model.md section "nr").

* resource grid (TS 38.211 §4.2–4.3): subcarrier spacing Δf = 15·2^μ kHz, slot 1 ms/2^μ,
  N_PRB = ⌊B/(12·Δf)⌋ (guard bands ignored), slots in the delay bound S = ⌊T/slot⌋;
* MCS → (Q, R) and transport block size per slot (TS 38.214 §5.1.3.1–2) from
  ``sionna.phy.nr.utils.decode_mcs_index`` / ``calculate_tb_size`` with ``pdsch_symbols``
  OFDM symbols and ``dmrs_per_prb`` DMRS resource elements per PRB;
* code-block BLER from Sionna's shipped PDSCH tables (``sionna.sys.PHYAbstraction``,
  AWGN, interpolated on a 0.1 dB SINR grid), transport-block BLER
  TBLER = 1 − (1 − BLER_CB)^C for C code blocks (as ``PHYAbstraction`` computes it);
* threshold SINR of an MCS: the lowest grid SINR from which on TBLER ≤ target (link
  adaptation for a BLER target). An MCS without a shipped table is never chosen (inf).

Sionna is imported on first use only (its import takes seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: Largest PDSCH allocation of one carrier (TS 38.101-1 Table 5.3.2-1, 275 PRBs).
MAX_PRBS = 275
#: MCS indices of a PDSCH MCS table (TS 38.214 Tables 5.1.3.1-1..4: 0..28, invalid ones skipped).
_MCS_INDICES = range(29)


@dataclass(frozen=True)
class Carrier:
    """PDSCH configuration: numerology μ, data symbols per slot, DMRS REs per PRB, MCS table."""

    numerology: int = 1
    pdsch_symbols: int = 12
    dmrs_per_prb: int = 12
    mcs_table: int = 1

    def __post_init__(self) -> None:
        if self.numerology not in range(5):
            raise ValueError(f"numerology = {self.numerology}: must be 0..4 (TS 38.211 Table 4.2-1)")
        if not 1 <= self.pdsch_symbols <= 14:
            raise ValueError(f"pdsch_symbols = {self.pdsch_symbols}: must be 1..14 OFDM symbols per slot")
        if not 0 <= self.dmrs_per_prb < 12 * self.pdsch_symbols:
            raise ValueError(f"dmrs_per_prb = {self.dmrs_per_prb}: must be >= 0 and leave data REs")
        if self.mcs_table not in (1, 2, 3, 4):
            raise ValueError(f"mcs_table = {self.mcs_table}: must be 1..4 (TS 38.214 Tables 5.1.3.1-1..4)")

    @property
    def scs_hz(self) -> float:
        """Δf = 15 kHz · 2^μ."""
        return 15e3 * 2**self.numerology

    @property
    def slot_s(self) -> float:
        """Slot duration 1 ms / 2^μ."""
        return 1e-3 / 2**self.numerology

    def prbs(self, bandwidth_hz: np.ndarray) -> np.ndarray:
        """N_PRB = ⌊B/(12·Δf)⌋ per user; more than 275 PRBs is an error (one carrier)."""
        n = np.floor(np.asarray(bandwidth_hz, dtype=float) / (12 * self.scs_hz) + 1e-9).astype(np.int64)
        if (n < 1).any():
            b = float(np.asarray(bandwidth_hz).min())
            raise ValueError(f"bandwidth_hz = {b:g} is 0 PRBs at numerology {self.numerology} (one PRB = 12 x "
                             f"{self.scs_hz / 1e3:g} kHz = {12 * self.scs_hz / 1e3:g} kHz); give at least that")
        if (n > MAX_PRBS).any():
            b = float(np.asarray(bandwidth_hz).max())
            raise ValueError(f"bandwidth_hz = {b:g} is {int(n.max())} PRBs at numerology {self.numerology}; "
                             f"one NR carrier has at most {MAX_PRBS} (use a larger numerology)")
        return n

    def slots(self, delay_s: float) -> int:
        """S = ⌊T / slot⌋ slots within the delay bound."""
        return int(math.floor(delay_s / self.slot_s + 1e-9))


@dataclass(frozen=True)
class McsGrid:
    """Per usable MCS of one (carrier, N_PRB, BLER target): TBS per slot and threshold SINR."""

    mcs: np.ndarray  # (M,) MCS index
    modulation_order: np.ndarray  # (M,) Q
    coderate: np.ndarray  # (M,) R
    tbs_bits: np.ndarray  # (M,) information bits per slot (one transport block)
    cb_size: np.ndarray  # (M,) code-block size incl. CRC
    num_cb: np.ndarray  # (M,) code blocks per transport block
    threshold_sinr_db: np.ndarray  # (M,) lowest SINR with TBLER <= target (inf: no table)


@lru_cache(maxsize=1)
def phy_abstraction():
    """Sionna's PHY abstraction with its shipped PDSCH/PUSCH BLER tables (built once, ~0.5 s)."""
    from sionna.sys import PHYAbstraction

    return PHYAbstraction()


def _category() -> int:
    return 1  # Sionna's MCS category 1 = PDSCH (0 = PUSCH)


def code_block_bler(mcs: np.ndarray, mcs_table: int, cb_size: np.ndarray, sinr_db: np.ndarray) -> np.ndarray:
    """BLER of one code block (Sionna's table, interpolated; SINR clamped to its −5..30 dB grid)."""
    import torch

    phy = phy_abstraction()
    sinr = torch.as_tensor(10.0 ** (np.asarray(sinr_db, dtype=float) / 10.0), dtype=torch.float32)
    shape = sinr.shape
    mcs_t = torch.as_tensor(np.broadcast_to(mcs, shape).astype(np.int32))
    cbs_t = torch.as_tensor(np.broadcast_to(cb_size, shape).astype(np.int32))
    return phy.get_bler(mcs_t, mcs_table, _category(), cbs_t, sinr).numpy().astype(float)


def transport_block_error_rate(bler_cb: np.ndarray, num_cb: np.ndarray) -> np.ndarray:
    """TBLER = 1 − (1 − BLER_CB)^C (inf stays inf: no table)."""
    bler_cb = np.asarray(bler_cb, dtype=float)
    with np.errstate(invalid="ignore"):
        t = 1.0 - (1.0 - np.clip(bler_cb, 0.0, 1.0)) ** np.asarray(num_cb, dtype=float)
    return np.where(np.isinf(bler_cb), np.inf, t)


def sinr_grid_db() -> np.ndarray:
    """Sionna's interpolation grid of SINR values in dB."""
    lo, hi, step = phy_abstraction().snr_db_interp_min_max_delta
    return np.arange(lo, hi, step)


def _threshold_db(tbler: np.ndarray, grid_db: np.ndarray, target: float) -> np.ndarray:
    """Per row, the lowest grid SINR from which on TBLER <= target (inf if never)."""
    ok = tbler <= target
    trailing = np.argmin(ok[:, ::-1], axis=1)  # length of the all-ok tail
    trailing = np.where(ok.all(axis=1), ok.shape[1], trailing)
    idx = ok.shape[1] - trailing
    return np.where(trailing > 0, grid_db[np.minimum(idx, grid_db.size - 1)], np.inf)


def _mcs_table(mcs_table: int):
    """(MCS index, Q, R) tensors of the valid PDSCH MCS of ``mcs_table`` (Sionna)."""
    import torch
    from sionna.phy.nr.utils import decode_mcs_index

    idx = torch.as_tensor(list(_MCS_INDICES), dtype=torch.int32)
    q, r = decode_mcs_index(idx, table_index=mcs_table, is_pusch=False, check_index_validity=False)
    valid = (q > 0).numpy() & (r > 0).numpy()
    return idx[valid], q[valid], r[valid]


def _grid(idx, q, r, sizes, mcs_table: int, bler_target: float) -> McsGrid:
    """McsGrid from Sionna's (TBS, CB size, #CB) per MCS with the threshold SINR at the target."""
    tbs, cbs, ncb = (t.numpy().astype(np.int64) for t in sizes)
    grid = sinr_grid_db()
    mcs_np = idx.numpy().astype(np.int64)
    m = mcs_np.size
    bler = code_block_bler(mcs_np[:, None], mcs_table, cbs[:, None], np.broadcast_to(grid, (m, grid.size)))
    tbler = transport_block_error_rate(bler, ncb[:, None])
    thr = np.where(tbs > 0, _threshold_db(tbler, grid, bler_target), np.inf)
    return McsGrid(mcs_np, q.numpy().astype(np.int64), r.numpy().astype(float), tbs, cbs, ncb, thr)


def _empty_grid() -> McsGrid:
    e = np.zeros(0)
    return McsGrid(e.astype(int), e.astype(int), e, e.astype(int), e.astype(int), e.astype(int), e)


@lru_cache(maxsize=512)
def mcs_grid(carrier: Carrier, n_prb: int, bler_target: float) -> McsGrid:
    """TBS per slot and threshold SINR of every usable MCS for ``n_prb`` PRBs (module docstring)."""
    import torch
    from sionna.phy.nr.utils import calculate_tb_size

    idx, q, r = _mcs_table(carrier.mcs_table)
    m = idx.numel()
    if n_prb < 1 or m == 0:
        return _empty_grid()
    full = lambda v: torch.full((m,), v, dtype=torch.int32)  # noqa: E731
    sizes = calculate_tb_size(q, r, num_prbs=full(n_prb), num_ofdm_symbols=full(carrier.pdsch_symbols),
                              num_dmrs_per_prb=full(carrier.dmrs_per_prb), return_cw_length=False)[:3]
    return _grid(idx, q, r, sizes, carrier.mcs_table, bler_target)


@lru_cache(maxsize=512)
def mcs_grid_for_symbols(n_symbols: int, mcs_table: int, bler_target: float) -> McsGrid:
    """One transport block over ``n_symbols`` QAM symbols (Q·n coded bits): TBS and threshold per MCS."""
    import torch
    from sionna.phy.nr.utils import calculate_tb_size

    idx, q, r = _mcs_table(mcs_table)
    if n_symbols < 1 or idx.numel() == 0:
        return _empty_grid()
    sizes = calculate_tb_size(q, r, num_coded_bits=(q * int(n_symbols)).to(torch.int32), return_cw_length=False)[:3]
    return _grid(idx, q, r, sizes, mcs_table, bler_target)
