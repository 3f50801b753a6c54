"""The ``nr`` link model: TS 38.214 resources through Sionna, MCS choice, power, HARQ outcome."""

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from bssim import link
from bssim.options.nr_link import NrLink, harq_blocks
from bssim.nr.phy import Carrier, mcs_grid
from bssim.options.links import Channels, make_link
from bssim.options.table import Offers

ROOT = Path(__file__).parent.parent.parent


def _offers(bits: np.ndarray) -> Offers:
    n, k = bits.shape
    q = np.linspace(0.5, 0.9, k)[None, :, None] * np.ones((n, 1, 1))
    return Offers(("direct",) * k, ("avif",) * k, np.arange(k), tuple(f"L{i}" for i in range(k)), bits.astype(float),
                  np.full((n, k), np.nan), {"ssim": q}, np.array([np.nan]), np.ones(n, np.int64))


def _channels(n: int, gain_db: float = -100.0, bandwidth_hz: float = 5e6, delay_s: float = 0.1) -> Channels:
    return Channels(np.full(n, link.db_to_linear(gain_db)), np.full(n, link.thermal_noise_w(bandwidth_hz, 7.0)),
                    np.zeros(n), np.full(n, bandwidth_hz), delay_s)


def test_carrier_grid_follows_ts38211():
    c = Carrier(numerology=1)
    assert c.scs_hz == 30e3 and c.slot_s == pytest.approx(0.5e-3)
    assert c.prbs(np.array([5e6]))[0] == 13  # ⌊5 MHz / 360 kHz⌋
    assert c.slots(0.1) == 200
    with pytest.raises(ValueError, match="bandwidth_hz = .* 275"):
        c.prbs(np.array([200e6]))
    with pytest.raises(ValueError, match="numerology = 7"):
        Carrier(numerology=7)


def test_tbs_per_slot_follows_ts38214_information_bits():
    c = Carrier()
    g = mcs_grid(c, 13, 0.1)
    n_re = min(156, 12 * c.pdsch_symbols - c.dmrs_per_prb) * 13  # TS 38.214 §5.1.3.2 step 1
    n_info = n_re * g.coderate * g.modulation_order
    # quantised N_info' then the nearest TBS: within a few percent of N_info, never far above
    assert np.all(g.tbs_bits <= n_info * 1.05) and np.all(g.tbs_bits >= n_info * 0.9)
    usable = np.isfinite(g.threshold_sinr_db)
    assert usable.sum() >= 20
    thr = g.threshold_sinr_db[usable]
    assert thr[-1] - thr[0] > 15  # QPSK low rate to 64-QAM 0.93 spans > 15 dB
    assert np.all(np.diff(thr) > -1.0)  # thresholds rise with the MCS (tables' interpolation wiggles < 1 dB)


def test_price_picks_lowest_sinr_mcs_that_carries_the_bits_and_inverts_power():
    nr = NrLink()
    bits = np.array([[2e4, 2e5, 8e5], [1e3, 1e6, 5e6]])
    ch = _channels(2)
    menu = nr.price(_offers(bits), ch)
    g = mcs_grid(nr.carrier, 13, 0.1)
    k_max = harq_blocks(200, 0.1)
    for (i, j), d in np.ndenumerate(bits):
        fits = np.isfinite(g.threshold_sinr_db) & (g.tbs_bits * k_max >= d)
        if not fits.any():
            assert menu.power_w[i, j] == np.inf and menu.item_info["nr_mcs"][i, j] == -1
            continue
        best = np.argmin(np.where(fits, g.threshold_sinr_db, np.inf))
        assert menu.item_info["nr_mcs"][i, j] == g.mcs[best]
        assert menu.item_info["nr_slots"][i, j] == max(1, math.ceil(d / g.tbs_bits[best]))
        gamma = 10 ** (g.threshold_sinr_db[best] / 10)
        assert menu.power_w[i, j] == pytest.approx(gamma * ch.noise_w[i] / ch.gain[i])
    assert menu.power_w[1, 2] == np.inf  # 5 Mbit in 100 ms over 5 MHz: beyond 64-QAM
    row = menu.power_w[0]
    assert row[0] <= row[1] <= row[2]


def test_harq_blocks_leave_room_for_the_retransmissions():
    k = harq_blocks(200, 0.1)
    assert 150 < k < 200
    assert harq_blocks(1, 0.1) == 1 and harq_blocks(0, 0.1) == 0


def _outcome(nr: NrLink, bits: float, n: int, sinr_offset_db: float, delay_s: float = 0.1, seed: int = 0):
    from bssim.epoch import EpochConfig, EpochInput, schedule
    from bssim.options.objective import Objective

    offers, ch = _offers(np.full((n, 1), bits)), _channels(n, delay_s=delay_s)
    res = schedule(EpochInput(offers, ch), EpochConfig(p_max_w=1e9, link=nr, objective=Objective(), solver="greedy"))
    # the realised channel differs from the one scheduled on by the offset: same decision and power
    moved = Channels(ch.gain * 10 ** (sinr_offset_db / 10), ch.noise_w, ch.loss_w, ch.bandwidth_hz, ch.delay_s)
    res = dataclasses.replace(res, inputs=EpochInput(offers, moved))
    return res, nr.outcome(res, np.random.default_rng(seed))


def test_single_block_failures_follow_the_tbler_and_drop_the_item():
    nr = NrLink(harq="drop")
    res, out = _outcome(nr, 2e3, 4000, 0.0, delay_s=0.5e-3)  # one slot: one transport block
    assert (res.choice == 0).all() and (res.menu.item_info["nr_slots"] == 1).all()
    tbler = out["nr_tbler"]
    assert np.all(tbler <= 0.1 + 1e-6)
    assert 1 - out["delivered"].mean() == pytest.approx(tbler.mean(), abs=0.02)
    assert (out["harq_retx"] == 0).all()
    _, low = _outcome(nr, 2e3, 400, -4.0, delay_s=0.5e-3)
    assert low["delivered"].mean() < 0.2  # 4 dB below the threshold: the cliff


def test_retransmissions_deliver_multi_block_items_within_t():
    drop = _outcome(NrLink(harq="drop"), 5e5, 300, 0.0)[1]
    retx = _outcome(NrLink(harq="retransmit"), 5e5, 300, 0.0)[1]
    assert drop["delivered"].mean() < 0.05  # tens of blocks at ~10 % each: one is nearly always lost
    assert retx["delivered"].mean() >= 0.9  # the slots kept for HARQ cover the failures
    assert (retx["harq_retx"] > 0).mean() > 0.9


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="bler_target = 1.5"):
        NrLink(bler_target=1.5)
    with pytest.raises(ValueError, match="harq = 'chase'"):
        NrLink(harq="chase")
    assert make_link("nr").name == "nr" and make_link("nr").mode == "digital"


def _nr_scenario(tmp_path: Path) -> Path:
    text = (ROOT / "scenarios" / "declared_cell.toml").read_text()
    text = text.replace("bandwidth_hz = 1.0e6 ", "bandwidth_hz = 5.0e6 ").replace(
        "[content]", '[link]\nmodel = "nr"\nbler_target = 0.1\nharq = "retransmit"\n\n[content]', 1)
    text = text.replace("epochs = 20 ", "epochs = 3 ")
    path = tmp_path / "declared_nr.toml"
    path.write_text(text)
    return path


def test_solve_and_run_work_with_the_nr_link(tmp_path):
    import json

    import pandas as pd
    from typer.testing import CliRunner

    from bssim.cli import app

    sc = _nr_scenario(tmp_path)
    runner = CliRunner()
    solved = runner.invoke(app, ["solve", str(sc), "--json"])
    assert solved.exit_code == 0, solved.output
    out = json.loads(solved.stdout)
    assert out["power_used_w"] <= out["p_max_w"] * (1 + 1e-9)
    served = [r for r in out["choices_detail"] if r["scheme"] != "none"]
    assert served and all(0 <= r["nr_mcs"] <= 28 and r["nr_slots"] >= 1 for r in served)
    ran = runner.invoke(app, ["run", str(sc), "--out", str(tmp_path / "out")])
    assert ran.exit_code == 0, ran.output
    users = pd.read_parquet(tmp_path / "out" / "user_epochs.parquet")
    s = users[users["deadline_met"]]
    assert {"delivered", "harq_retx", "nr_mcs", "nr_tbler"} <= set(users.columns)
    assert 0.8 <= s["delivered"].mean() <= 1.0 and not users.loc[~users["deadline_met"], "delivered"].any()
