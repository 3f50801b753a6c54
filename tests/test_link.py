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
