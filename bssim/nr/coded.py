"""5G LDPC + QAM over AWGN or block fading, simulated with Sionna on real bits.

Two chains, both built from Sionna blocks (``sionna.phy``), nothing re-implemented:

* :class:`CodeBlockLink` — one LDPC code block (TS 38.212 §5.3.2, ``LDPC5GEncoder`` /
  ``LDPC5GDecoder``, 20 belief-propagation iterations) mapped to Gray QAM (``Mapper``),
  AWGN (``AWGN``), APP demapping (``Demapper``). The same chain as Sionna's
  ``CodedAWGNChannelNR`` (used by ``sionna.sys.PHYAbstraction.new_bler_table``) with the
  encoder and decoder built once instead of per batch. Used to check the link's BLER.
* :func:`send_transport_block` — a whole PDSCH transport block: ``TBEncoder`` (TB CRC,
  code-block segmentation and CRC, LDPC, rate matching, scrambling, TS 38.212 §7.2),
  QAM, the channel, ``TBDecoder`` (TB CRC check). Used by the practical separation
  baseline (:mod:`bssim.baselines.practical`).

SNR is per resource element, Es/N0 with unit-energy symbols: noise variance N0 = 10^(−SNR/10).
Block fading: one gain |h|² per transport block, known at the receiver, which demaps y/h
with noise N0/|h|² (coherent detection, perfect CSI).

Randomness comes from ``sionna.phy.config.seed``, set from the caller's seed before each
call, so results are deterministic per seed (and the global torch generators are reseeded).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

#: Belief-propagation iterations of the LDPC decoder (Sionna's default).
LDPC_ITERATIONS = 20


def codeword_bits(cb_size: int, coderate: float, modulation_order: int) -> int:
    """Coded bits of one block: ⌈K/R/Q⌉·Q, as ``sionna.phy.utils.SingleLinkChannel`` does."""
    return int(math.ceil(cb_size / coderate / modulation_order) * modulation_order)


def _seed(seed: int) -> None:
    from sionna.phy import config

    config.seed = int(seed)


def _noise_var(snr_db: float) -> float:
    return float(10.0 ** (-snr_db / 10.0))


@dataclass
class CodeBlockLink:
    """One 5G LDPC code block of ``cb_size`` information bits at a code rate, over AWGN."""

    modulation_order: int
    coderate: float
    cb_size: int
    _blocks: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
        from sionna.phy.mapping import BinarySource, Demapper, Mapper
        from sionna.phy.channel import AWGN

        if not 0 < self.coderate < 1:
            raise ValueError(f"coderate must be in (0, 1), got {self.coderate}")
        n = codeword_bits(self.cb_size, self.coderate, self.modulation_order)
        enc = LDPC5GEncoder(self.cb_size, n, num_bits_per_symbol=self.modulation_order)
        self._blocks = {
            "source": BinarySource(), "encoder": enc,
            "decoder": LDPC5GDecoder(enc, hard_out=True, num_iter=LDPC_ITERATIONS),
            "mapper": Mapper("qam", self.modulation_order),
            "demapper": Demapper("app", "qam", self.modulation_order), "awgn": AWGN(),
        }

    def __call__(self, batch_size: int, snr_db: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(bits, decoded bits) of ``batch_size`` blocks at per-symbol SNR ``snr_db`` (sim_ber's mc_fun)."""
        b = self._blocks
        no = _noise_var(float(snr_db))
        bits = b["source"]([batch_size, self.cb_size])
        y = b["awgn"](b["mapper"](b["encoder"](bits)), no)
        return bits, b["decoder"](b["demapper"](y, no))

    def bler(self, snr_db: float, n_blocks: int, seed: int = 0, batch_size: int = 100) -> float:
        """Fraction of ``n_blocks`` code blocks decoded with an error at ``snr_db``."""
        _seed(seed)
        errors = done = 0
        while done < n_blocks:
            m = min(batch_size, n_blocks - done)
            bits, hat = self(m, snr_db)
            errors += int((bits != hat).any(dim=-1).sum())
            done += m
        return errors / n_blocks


@dataclass(frozen=True)
class TransportBlockResult:
    """Outcome of one transport block: decoded payload bits and the TB CRC verdict."""

    bits: np.ndarray  # (tb_size,) decoded information bits (0/1)
    crc_ok: bool


def transport_block_encoder(tb_size: int, num_coded_bits: int, coderate: float, modulation_order: int):
    """Sionna's PDSCH ``TBEncoder`` for a TS 38.214 ``tb_size``; error if Sionna would pick another size."""
    from sionna.phy.nr import TBEncoder

    enc = TBEncoder(int(tb_size), int(num_coded_bits), float(coderate), int(modulation_order), channel_type="PDSCH")
    if int(enc.tb_size) != int(tb_size):
        raise ValueError(f"tb_size = {tb_size}: Sionna's TBEncoder gives {int(enc.tb_size)} for "
                         f"{num_coded_bits} coded bits at R = {coderate:.4f}, Q = {modulation_order}")
    return enc


def send_transport_block(
    payload_bits: np.ndarray, num_coded_bits: int, coderate: float, modulation_order: int, snr_db: float,
    fading_gain: float = 1.0, seed: int = 0,
) -> TransportBlockResult:
    """Send ``payload_bits`` (exactly one TB, TS 38.214 size) as PDSCH over y = h·x + n.

    TBEncoder (TB CRC, segmentation, CB CRC, LDPC, rate matching, scrambling) → QAM →
    y = h·x + n with |h|² = ``fading_gain`` (1: AWGN; one block-fading gain per TB, known at
    the receiver) → APP demapping of y/h at N0/|h|² → TBDecoder. Accepted only if the TB CRC
    (TS 38.212 §7.2.1) checks.
    """
    from sionna.phy.channel import AWGN
    from sionna.phy.mapping import Demapper, Mapper
    from sionna.phy.nr import TBDecoder

    _seed(seed)
    tb_size = int(payload_bits.size)
    enc = transport_block_encoder(tb_size, num_coded_bits, coderate, modulation_order)
    dec = TBDecoder(enc, num_bp_iter=LDPC_ITERATIONS)
    u = torch.as_tensor(np.asarray(payload_bits, dtype=np.float32)).reshape(1, tb_size)
    x = Mapper("qam", modulation_order)(enc(u))
    no = _noise_var(float(snr_db))
    h = math.sqrt(float(fading_gain))
    y = AWGN()(x * h, no) / h
    llr = Demapper("app", "qam", modulation_order)(y, no / h**2)
    hat, crc_ok = dec(llr)
    return TransportBlockResult(hat.reshape(-1).numpy().astype(np.uint8), bool(crc_ok.reshape(-1)[0]))
