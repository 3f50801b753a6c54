"""The network (issue 21): Sionna layout and sector antennas, SINR, a scheduler per sector, A3
handover, and the single cell as its rings = 0 one-sector case. Declared content: no shared data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bssim import link
from bssim.network.handover import HandoverState, a3_step
from bssim.network.sinr import geometry
from bssim.network.topology import drop_users, in_hexagon, make_layout, sector_pattern_db, site_offsets
from bssim.scenario import Cell, Network, ScenarioError, parse_scenario
from bssim.sim import make_source, run
from bssim.sim.network import NetworkEngine

DECLARED = {"source": "declared", "D_bits": {"dist": "uniform", "low": 2e5, "high": 1e6},
            "C_fraction": {"dist": "uniform", "low": 0.05, "high": 0.3},
            "alpha": {"dist": "uniform", "low": 0.6, "high": 0.95}}


def scenario(network=None, users=40, epochs=4, sim=None, cell=None, seed=5):
    data = {"name": "net", "seed": seed, "users": {"count": users}, "scheduler": {"p_max_w": 5.0},
            "cell": {"min_distance_m": 35.0, **(cell or {})}, "content": DECLARED,
            "sim": {"epochs": epochs, **(sim or {})}}
    if network is not None:
        data["network"] = network
    return parse_scenario(data)


def test_rings0_one_sector_without_interference_is_the_single_cell_row_for_row():
    sim = {"speed_mps": 15.0, "arrival_rate_per_s": 30.0, "mean_stay_s": 0.3}
    a = run(scenario(sim=sim))
    b = run(scenario({"rings": 0, "sectors": 1, "interference": "none"}, sim=sim))
    ua, ub = a.user_epochs, b.user_epochs
    assert {"sector", "site", "snr_db", "sinr_db", "handovers"} <= set(ub.columns)
    pd.testing.assert_frame_equal(ua, ub[list(ua.columns)])
    cols = [c for c in a.epochs.columns if c != "solve_time_s"]
    pd.testing.assert_frame_equal(a.epochs[cols], b.epochs[cols])
    assert (ub["sector"] == 0).all() and np.array_equal(ub["sinr_db"], ub["snr_db"])


@pytest.mark.parametrize("mode", ["none", "full_buffer", "load"])
def test_sinr_never_exceeds_snr_and_equals_it_without_interference(mode):
    res = run(scenario({"rings": 1, "sectors": 3, "interference": mode}, users=120, epochs=3))
    u = res.user_epochs
    assert set(u["sector"].unique()) <= set(range(21)) and u["sector"].nunique() > 10
    assert (u["sinr_db"] <= u["snr_db"] + 1e-12).all()
    if mode == "none":
        assert np.array_equal(u["sinr_db"], u["snr_db"])
    else:
        assert (u["sinr_db"] < u["snr_db"] - 1.0).mean() > 0.9
    # each sector's scheduler keeps its own budget
    per_sector = u.groupby(["epoch", "sector"])["power_w"].sum()
    assert (per_sector <= 5.0 * (1 + 1e-9)).all()


def test_interference_is_the_other_sectors_psd_times_gain_times_band_and_prices_the_menu():
    sc = scenario({"rings": 1, "sectors": 3, "interference": "full_buffer", "bandwidth_hz": 10e6}, users=60)
    eng = NetworkEngine(sc, make_source(sc))
    eng.run(1)
    inputs, idx, _, _, serving, interference = eng.epoch_input(1, eng.T)
    n = 7
    g = eng.pop.gain_ls[idx[n]]
    expected = sum(5.0 / 10e6 * 1e6 * g[k] for k in range(21) if k != serving[n])
    assert interference[n] == pytest.approx(expected, rel=1e-12)
    assert inputs.channels.noise_w[n] == pytest.approx(eng.noise_w + expected, rel=1e-12)
    # the Shannon link prices at the SINR: P = (N + I)(2^(d/BT) − 1)/G
    menu = eng.config.link.price(inputs.offers, inputs.channels)
    bits = inputs.offers.bits[n, 0]
    need = link.required_power_w(bits, eng.T, 1e6, eng.noise_w + expected, inputs.channels.gain[n], 0.0)
    assert menu.power_w[n, 0] == pytest.approx(float(need), rel=1e-12)


def test_load_interference_uses_the_power_each_sector_used_the_epoch_before():
    sc = scenario({"rings": 1, "sectors": 3, "interference": "load"}, users=80, epochs=2)
    eng = NetworkEngine(sc, make_source(sc))
    users, _, _ = eng.run(1)
    used = users.groupby("sector")["power_w"].sum()
    for k in range(21):
        assert eng.sector_power_w[k] == pytest.approx(float(used.get(k, 0.0)))
    assert eng.interferer_power_w() is eng.sector_power_w


def test_a3_hands_over_after_time_to_trigger_and_not_within_the_offset():
    rsrp = np.array([[-80.0, -90.0]])
    s = HandoverState.attach(rsrp)
    assert s.serving[0] == 0
    better = np.array([[-80.0, -76.0]])  # 4 dB better than serving
    assert not a3_step(s, better, 3.0, 2)[0] and s.serving[0] == 0
    assert a3_step(s, better, 3.0, 2)[0] and s.serving[0] == 1 and s.count[0] == 1
    slightly = np.array([[-78.0, -80.0]])  # the old sector 2 dB better: within the offset, stay
    for _ in range(5):
        assert not a3_step(s, slightly, 3.0, 2)[0]
    assert s.serving[0] == 1
    # a condition that breaks off restarts the count
    s2 = HandoverState.attach(rsrp)
    a3_step(s2, better, 3.0, 3); a3_step(s2, rsrp, 3.0, 3); a3_step(s2, better, 3.0, 3)  # noqa: E702
    assert s2.serving[0] == 0 and s2.held[0] == 1


def test_moving_users_hand_over_and_rows_count_it():
    res = run(scenario({"rings": 1, "sectors": 3, "interference": "full_buffer", "handover_offset_db": 1.0,
                        "time_to_trigger_epochs": 1}, users=60, epochs=12, sim={"speed_mps": 40.0}))
    u, e = res.user_epochs, res.epochs
    assert e["n_handovers"].sum() > 0
    last = u.sort_values("epoch").groupby("user")["handovers"].last()
    assert last.sum() == e["n_handovers"].sum()
    changed = u.sort_values("epoch").groupby("user")["sector"].nunique()
    assert (changed > 1).sum() > 0


def test_sionna_layout_19_sites_57_sectors_wraparound_and_pattern():
    cell = Cell(min_distance_m=35.0)
    lay = make_layout(Network(rings=2, sectors=3, isd_m=500.0), cell)
    assert lay.n_sites == 19 and lay.n_sectors == 57 and lay.images_xy_m.shape == (19, 7, 2)
    assert np.allclose(np.sort(np.hypot(*lay.site_xy_m.T))[1:7], 500.0)
    x, y = drop_users(lay, np.random.default_rng(1), 3000)
    dx, dy = site_offsets(lay, x, y)
    d = np.hypot(dx, dy)
    assert d.min() >= 35.0
    # wrap-around: no site is farther than the radius of the 19-site cluster
    assert d.max() < 2.5 * 500.0 + lay.hex_radius_m
    home = np.argmin(d, axis=1)
    assert in_hexagon(dx[np.arange(x.size), home], dy[np.arange(x.size), home], lay.hex_radius_m).all()
    pat = sector_pattern_db(lay, dx, dy)
    assert pat.max() <= 8.0 + 1e-9 and pat.min() >= 8.0 - 30.0 - 1e-9
    # the best sector of a site points at the user: azimuth within ±60° of its bearing
    k = np.argmax(pat[:, :3], axis=1)
    az = np.arctan2(dy[:, 0], dx[:, 0])
    off = np.angle(np.exp(1j * (az - lay.sector_yaw_rad[k])))
    near = d[:, 0] > 100
    assert (np.abs(off[near]) <= math.pi / 3 + 1e-6).all()


def test_geometry_of_a_full_buffer_drop():
    g = np.array([[-100.0, -110.0, -120.0]])
    out = geometry(g, 1.0, 0.0 + 1e-30)
    sir = 10 * np.log10(1e-10 / (1e-11 + 1e-12))
    assert out["serving"][0] == 0 and out["coupling_loss_db"][0] == -100.0
    assert out["sir_db"][0] == pytest.approx(sir)


def test_network_scenario_errors_name_the_field():
    with pytest.raises(ScenarioError, match="network.interference"):
        scenario({"interference": "some"})
    with pytest.raises(ScenarioError, match="isd_m"):
        scenario({"rings": 1, "isd_m": 60.0})
    with pytest.raises(ScenarioError, match="network.sectors"):
        scenario({"sectors": 2})


@pytest.mark.parametrize("name", ["shannon", "analog", "nr"])
def test_every_link_model_prices_at_the_sinr_through_the_effective_noise(name):
    """The network hands each link N + I as its noise: with no transmission loss every finite
    power scales by exactly (N + I)/N, so each model prices its options at the SINR."""
    from bssim.options.links import Channels, make_link
    from bssim.options.table import Offers

    n, k = 3, 2
    bits = np.array([[2e4, 2e5], [5e4, 4e5], [1e5, 8e5]])
    snr = np.array([0.0, 10.0])
    offers = Offers(("direct", "key"), ("declared", "declared"), np.zeros(k, np.int64), ("L0", "L0"), bits, np.array([[2e4, 5e3]] * n),
                    {"ssim": np.full((n, k, snr.size if name == "analog" else 1), 0.8)},
                    snr if name == "analog" else np.array([np.nan]), np.ones(n, np.int64))
    noise = link.thermal_noise_w(5e6, 7.0)
    gain = link.db_to_linear(np.array([-95.0, -100.0, -105.0]))

    def priced(noise_w):
        ch = Channels(gain, np.full(n, noise_w), np.zeros(n), np.full(n, 5e6), 0.1)
        return make_link(name).price(offers, ch).power_w

    p_n, p_ni = priced(noise), priced(10.0 * noise)  # I = 9 N: SINR 10 dB below the SNR
    ok = np.isfinite(p_n)
    assert ok.any() and np.array_equal(ok, np.isfinite(p_ni))
    np.testing.assert_allclose(p_ni[ok], 10.0 * p_n[ok], rtol=1e-12)
