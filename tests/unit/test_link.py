"""Link model: units, noise, 3GPP path loss, fading statistics, Shannon rate and inversion."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bssim import link


def test_unit_conversions_round_trip():
    assert link.dbm_to_w(30.0) == pytest.approx(1.0)
    assert link.dbm_to_w(43.0) == pytest.approx(19.95, rel=1e-3)
    assert link.w_to_dbm(0.001) == pytest.approx(0.0)
    x = np.array([-30.0, 0.0, 17.5])
    np.testing.assert_allclose(link.linear_to_db(link.db_to_linear(x)), x)
    with pytest.raises(ValueError):
        link.linear_to_db(0.0)


def test_thermal_noise_is_minus_174_dbm_per_hz():
    assert link.w_to_dbm(link.thermal_noise_w(1.0)) == pytest.approx(-173.98, abs=0.01)
    # 1 MHz and 7 dB noise figure: -174 + 60 + 7 = -107 dBm
    assert link.w_to_dbm(link.thermal_noise_w(1e6, 7.0)) == pytest.approx(-107.0, abs=0.05)


def test_uma_values_against_hand_computation():
    # 3.5 GHz, d2D = 100 m, h_BS = 25, h_UT = 1.5 -> d3D = sqrt(100^2 + 23.5^2)
    d3 = math.hypot(100.0, 23.5)
    d_bp = 4 * 24 * 0.5 * 3.5e9 / link.SPEED_OF_LIGHT_M_PER_S  # 560 m, so PL1 applies
    assert d_bp > 100
    los = 28 + 22 * math.log10(d3) + 20 * math.log10(3.5)
    nlos = max(los, 13.54 + 39.08 * math.log10(d3) + 20 * math.log10(3.5))
    assert link.uma_pathloss_db(100.0, 3.5e9, True) == pytest.approx(los)
    assert link.uma_pathloss_db(100.0, 3.5e9, False) == pytest.approx(nlos)


def test_uma_los_beyond_breakpoint_uses_pl2_and_is_continuous():
    d_bp = 4 * 24 * 0.5 * 3.5e9 / link.SPEED_OF_LIGHT_M_PER_S
    below = link.uma_pathloss_db(d_bp - 1e-6, 3.5e9, True)
    above = link.uma_pathloss_db(d_bp + 1e-6, 3.5e9, True)
    assert abs(above - below) < 0.5  # TR 38.901 PL1/PL2 meet at the breakpoint (up to d3D vs d2D)
    d3 = math.hypot(2000.0, 23.5)
    pl2 = 28 + 40 * math.log10(d3) + 20 * math.log10(3.5) - 9 * math.log10(d_bp**2 + 23.5**2)
    assert link.uma_pathloss_db(2000.0, 3.5e9, True) == pytest.approx(pl2)


def test_pathloss_grows_with_distance_and_nlos_is_worse():
    d = np.linspace(20, 1000, 50)
    for fn in (link.uma_pathloss_db, link.umi_pathloss_db):
        los, nlos = fn(d, 3.5e9, True), fn(d, 3.5e9, False)
        assert np.all(np.diff(los) > 0)
        assert np.all(nlos >= los)
    assert np.all(np.diff(link.log_distance_pathloss_db(d, 2e9, 3.0)) > 0)


def test_los_probability_bounds_and_monotone():
    d = np.linspace(1, 2000, 400)
    for model in ("uma", "umi"):
        p = link.los_probability(d, model)
        assert np.all((p >= 0) & (p <= 1))
        assert np.all(p[d <= 18] == 1)
        assert np.all(np.diff(p) <= 1e-12)
    with pytest.raises(ValueError):
        link.los_probability(d, "rma")


def test_fading_means_are_one():
    rng = np.random.default_rng(0)
    assert link.rayleigh_power_gain(rng, 200_000).mean() == pytest.approx(1.0, rel=0.02)
    g = link.rician_power_gain(rng, 10.0, 200_000)
    assert g.mean() == pytest.approx(1.0, rel=0.02)
    # Rician with strong LOS fluctuates less than Rayleigh
    assert g.var() < link.rayleigh_power_gain(rng, 200_000).var() / 3


@settings(max_examples=200, deadline=None)
@given(
    bits=st.floats(0, 5e6),
    delay_s=st.floats(1e-3, 10),
    bandwidth_hz=st.floats(1e4, 1e8),
    gain_db=st.floats(-150, -50),
    loss_w=st.floats(0, 1e-9),
)
def test_shannon_inversion_round_trips(bits, delay_s, bandwidth_hz, gain_db, loss_w):
    noise_w = float(link.thermal_noise_w(bandwidth_hz, 7.0))
    gain = float(link.db_to_linear(gain_db))
    p = float(link.required_power_w(bits, delay_s, bandwidth_hz, noise_w, gain, loss_w))
    if not np.isfinite(p):
        return  # infeasible option, reported as inf
    assert p >= 0
    rate = float(link.rate_bps(p, gain, noise_w, bandwidth_hz, loss_w))
    assert rate * delay_s == pytest.approx(bits, rel=1e-6, abs=1e-6 * max(1.0, bandwidth_hz * delay_s))


def test_inversion_overflow_is_infeasible_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any overflow/invalid RuntimeWarning fails the test
        p = link.required_power_w(np.array([1e5, 1e9, 1e12]), 0.1, 1e6, 1e-14, 1e-10)
    assert np.isfinite(p[0]) and p[0] > 0
    assert np.isinf(p[1]) and np.isinf(p[2])
    assert not np.any(np.isnan(p))


def test_inversion_respects_physical_cap():
    # Exactly representable but above a 1 kW cap -> infeasible
    p_uncapped = link.required_power_w(1.5e6, 0.1, 1e6, 1e-14, 1e-14)
    assert np.isfinite(p_uncapped) and p_uncapped > 1e3
    assert np.isinf(link.required_power_w(1.5e6, 0.1, 1e6, 1e-14, 1e-14, max_power_w=1e3))


def test_inversion_zero_bits_needs_only_the_loss():
    assert link.required_power_w(0.0, 0.1, 1e6, 1e-14, 1e-10) == 0.0
    assert link.required_power_w(0.0, 0.1, 1e6, 1e-14, 1e-10, loss_w=1e-12) == pytest.approx(1e-2)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(bits=-1.0), "bits"),
        (dict(delay_s=0.0), "delay_s"),
        (dict(bandwidth_hz=-5.0), "bandwidth_hz"),
        (dict(noise_w=float("nan")), "noise_w"),
        (dict(gain=0.0), "gain"),
        (dict(loss_w=-1.0), "loss_w"),
    ],
)
def test_inversion_rejects_bad_input_by_name(kwargs, word):
    args = dict(bits=1e5, delay_s=0.1, bandwidth_hz=1e6, noise_w=1e-14, gain=1e-10, loss_w=0.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=word):
        link.required_power_w(**args)


def test_rate_is_zero_when_loss_exceeds_received_power():
    assert link.rate_bps(1.0, 1e-10, 1e-14, 1e6, loss_w=1e-9) == 0.0


def test_umi_values_against_hand_computation():
    # 3.5 GHz, d2D = 50 m, h_BS = 10, h_UT = 1.5
    d3 = math.hypot(50.0, 8.5)
    los = 32.4 + 21 * math.log10(d3) + 20 * math.log10(3.5)
    nlos = max(los, 22.4 + 35.3 * math.log10(d3) + 21.3 * math.log10(3.5))
    assert link.umi_pathloss_db(50.0, 3.5e9, True) == pytest.approx(los)
    assert link.umi_pathloss_db(50.0, 3.5e9, False) == pytest.approx(nlos)


# --------------------------------------------------------------------------- ns-3 test vectors (issue 10)
#: ns-3 src/propagation/test/three-gpp-propagation-loss-model-test-suite.cc: 5 GHz, UE 1.5 m,
#: BS 25 m (UMa) / 10 m (UMi); expected path loss in dB at 10 / 100 / 1000 / 5000 m.
NS3_DISTANCES_M = [10.0, 100.0, 1000.0, 5000.0]
NS3_PATHLOSS_DB = {
    ("uma", True): [72.9380, 86.2362, 109.7252, 137.6794],
    ("uma", False): [82.5131, 106.1356, 144.7641, 172.0753],
    ("umi", True): [69.8591, 88.4122, 119.3114, 147.2696],
    ("umi", False): [76.7563, 107.9432, 143.1886, 167.8617],
}


@pytest.mark.parametrize("model,los", list(NS3_PATHLOSS_DB))
def test_pathloss_matches_ns3_test_vectors(model, los):
    fn = link.uma_pathloss_db if model == "uma" else link.umi_pathloss_db
    h_bs = 25.0 if model == "uma" else 10.0
    got = fn(np.array(NS3_DISTANCES_M), 5e9, los, h_bs_m=h_bs, h_ut_m=1.5)
    # ns-3 used c = 3e8 m/s (0.005 dB beyond the breakpoint); bssim the exact c
    np.testing.assert_allclose(got, NS3_PATHLOSS_DB[(model, los)], atol=0.01)


@pytest.mark.parametrize("model,h_ut,distances,expected", [
    ("uma", 1.5, [18.0, 50.0, 100.0], [1.0, 0.649402, 0.347671]),
    ("uma", 15.0, [50.0, 100.0], [0.655905, 0.367628]),
    ("umi", 1.5, [18.0, 50.0, 100.0], [1.0, 0.519585, 0.230985]),
])
def test_los_probability_matches_ns3_test_vectors(model, h_ut, distances, expected):
    np.testing.assert_allclose(link.los_probability(np.array(distances), model, h_ut), expected, atol=1e-6)


# --------------------------------------------------------------------------- frequency range
@pytest.mark.parametrize("fn", [link.uma_pathloss_db, link.umi_pathloss_db])
@pytest.mark.parametrize("carrier_hz", [5.0, 0.4e9, 101e9])
def test_tr38901_rejects_carrier_outside_range(fn, carrier_hz):
    with pytest.raises(ValueError, match=r"carrier_hz = .* 0\.5–100 GHz"):
        fn(100.0, carrier_hz, True)


def test_carrier_range_edges_are_accepted():
    assert np.isfinite(link.uma_pathloss_db(100.0, 0.5e9, True))
    assert np.isfinite(link.umi_pathloss_db(100.0, 100e9, False))


def test_free_space_rejects_carrier_in_ghz():
    with pytest.raises(ValueError, match="carrier_hz"):
        link.free_space_pathloss_db(100.0, 3.5)


# --------------------------------------------------------------------------- O2I
def test_o2i_wall_loss_matches_table_7_4_3_2_by_hand():
    f = 3.5
    glass, concrete, irr = 2 + 0.2 * f, 5 + 4 * f, 23 + 0.3 * f
    low = 5 - 10 * math.log10(0.3 * 10 ** (-glass / 10) + 0.7 * 10 ** (-concrete / 10))
    high = 5 - 10 * math.log10(0.7 * 10 ** (-irr / 10) + 0.3 * 10 ** (-concrete / 10))
    assert link.o2i_wall_loss_db("low", 3.5e9) == pytest.approx(low)
    assert link.o2i_wall_loss_db("high", 3.5e9) == pytest.approx(high)
    assert high > low + 10  # high loss is tens of dB above low at 3.5 GHz


def test_o2i_penetration_loss_mean_and_spread():
    rng = np.random.default_rng(0)
    d_in = np.full(200_000, 10.0)
    loss = link.o2i_penetration_loss_db("low", 3.5e9, d_in, rng)
    assert loss.mean() == pytest.approx(link.o2i_wall_loss_db("low", 3.5e9) + 5.0, abs=0.05)
    assert loss.std() == pytest.approx(4.4, abs=0.05)
    with pytest.raises(ValueError, match="indoor_distance_m"):
        link.o2i_penetration_loss_db("low", 3.5e9, np.array([-1.0]))
    with pytest.raises(ValueError, match="'low' or 'high'"):
        link.o2i_wall_loss_db("medium", 3.5e9)


def test_indoor_distance_is_min_of_two_uniforms():
    d = link.indoor_distance_m(np.random.default_rng(1), 200_000, 25.0)
    assert 0 <= d.min() and d.max() <= 25.0
    assert d.mean() == pytest.approx(25.0 / 3, rel=0.01)  # E[min(U1, U2)] = max/3


# --------------------------------------------------------------------------- correlated shadowing
def test_correlated_shadowing_keeps_variance_and_has_exponential_correlation():
    rng = np.random.default_rng(2)
    n, sigma, dcorr, step = 200_000, 6.0, 50.0, 20.0
    s0 = sigma * rng.standard_normal(n)
    s1 = link.correlated_shadowing_db(s0, np.full(n, step), sigma, dcorr, rng)
    assert s1.std() == pytest.approx(sigma, rel=0.01)
    assert np.corrcoef(s0, s1)[0, 1] == pytest.approx(math.exp(-step / dcorr), abs=0.01)
    still = link.correlated_shadowing_db(s0[:10], np.zeros(10), sigma, dcorr, rng)
    np.testing.assert_array_equal(still, s0[:10])


# --------------------------------------------------------------------------- cell: defaults, O2I, moving users
def _cell(**kw):
    from bssim.scenario import Cell

    return Cell(**kw)


def test_umi_default_bs_height_is_10m_and_explicit_height_wins():
    assert _cell(pathloss="uma").bs_height_m == 25.0
    assert _cell(pathloss="umi").bs_height_m == 10.0
    assert _cell(pathloss="umi", bs_height_m=12.0).bs_height_m == 12.0


def test_cell_rejects_indoor_users_without_tr38901():
    with pytest.raises(ValueError, match="indoor_share"):
        _cell(pathloss="log_distance", indoor_share=0.8)


def test_indoor_users_share_loss_and_shadowing():
    from bssim.cell import large_scale

    cell = _cell(pathloss="uma", indoor_share=0.8, o2i_high_loss_share=0.0)
    d = np.full(50_000, 200.0)
    ls = large_scale(cell, d, np.random.default_rng(3))
    indoor = ls["indoor"].to_numpy()
    assert indoor.mean() == pytest.approx(0.8, abs=0.01)
    o2i = ls["o2i_loss_db"].to_numpy()
    assert (o2i[~indoor] == 0).all()
    # low-loss wall + 0.5·E[d_in] (25/3 m) on average
    assert o2i[indoor].mean() == pytest.approx(link.o2i_wall_loss_db("low", 3.5e9) + 0.5 * 25 / 3, abs=0.1)
    assert ls["shadowing_std_db"].to_numpy()[indoor] == pytest.approx(7.0)
    assert ls["decorrelation_m"].to_numpy()[indoor] == pytest.approx(7.0)
    # indoor users' LOS probability is taken at d_2D-out < d_2D: more LOS than outdoors at 200 m
    assert ls["los"].to_numpy()[indoor].mean() > ls["los"].to_numpy()[~indoor].mean()


def test_outdoor_draws_unchanged_when_nobody_is_indoors():
    from bssim.cell import large_scale

    d = np.linspace(20, 290, 100)
    a = large_scale(_cell(pathloss="uma"), d, np.random.default_rng(4))
    b = large_scale(_cell(pathloss="uma", indoor_share=0.0, o2i_high_loss_share=0.5), d, np.random.default_rng(4))
    np.testing.assert_array_equal(a["pathloss_db"], b["pathloss_db"])
    np.testing.assert_array_equal(a["shadowing_db"], b["shadowing_db"])


def test_moving_user_shadowing_is_correlated_and_static_user_keeps_it():
    from bssim.sim.population import place_users

    cell = _cell(pathloss="uma", los="nlos")
    n = 20_000
    pop = place_users(cell, n, 0, 0.0, np.random.default_rng(5), np.random.default_rng(6))
    s0 = pop.shadowing_db.copy()
    step = np.where(np.arange(n) < n // 2, 25.0, 0.0)  # half move 25 m, half stay
    pop.move_to(cell, pop.x_m + step, pop.y_m.copy(), np.random.default_rng(7))
    moved = step > 0
    np.testing.assert_array_equal(pop.shadowing_db[~moved], s0[~moved])
    rho = np.corrcoef(s0[moved], pop.shadowing_db[moved])[0, 1]
    assert rho == pytest.approx(math.exp(-25.0 / 50.0), abs=0.03)  # UMa NLOS: d_corr = 50 m
    expected_pl = link.uma_pathloss_db(np.hypot(pop.x_m, pop.y_m), 3.5e9, False)
    np.testing.assert_allclose(pop.pathloss_db, expected_pl)
